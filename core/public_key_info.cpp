#include "core/public_key_info.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <map>
#include <mutex>

#include "core/der_reader.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"

namespace cairn {
namespace {

using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;

// The modulus and exponent of an RSAPublicKey (RFC 8017 A.1.1), positive.
std::optional<std::pair<std::string_view, std::string_view>> rsa_parts(std::string_view key_bytes) {
  auto seq = der_single(key_bytes, der_tag::kSequence);
  if (!seq) return std::nullopt;
  DerReader r(seq->content);
  auto n = r.next_if(der_tag::kInteger);
  auto e = r.next_if(der_tag::kInteger);
  if (!n || !e || !r.at_end() || n->content.empty() || e->content.empty()) return std::nullopt;
  if ((static_cast<uint8_t>(n->content[0]) & 0x80) || (static_cast<uint8_t>(e->content[0]) & 0x80))
    return std::nullopt;  // negative
  return std::pair{n->content, e->content};
}

int significant_bits(std::string_view unsigned_be) {
  size_t i = 0;
  while (i < unsigned_be.size() && unsigned_be[i] == 0) ++i;
  if (i == unsigned_be.size()) return 0;
  int top = 0;
  for (auto b = static_cast<uint8_t>(unsigned_be[i]); b; b >>= 1) ++top;
  return static_cast<int>((unsigned_be.size() - i - 1) * 8) + top;
}

EvpPkeyPtr from_params(const char* type, OSSL_PARAM_BLD* build) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return EvpPkeyPtr(key);
}

// The domain parameters of a named curve, made once per curve: a key copies
// them instead of building the group from its name (OpenSSL 3.0 does that
// on every import, about three times the cost of the copy).
const EVP_PKEY* ec_parameters(int curve_nid) {
  static std::mutex mutex;
  static std::map<int, EvpPkeyPtr> made;
  std::lock_guard lock(mutex);
  auto it = made.find(curve_nid);
  if (it != made.end()) return it->second.get();
  const char* name = OBJ_nid2sn(curve_nid);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(name), 0),
                         OSSL_PARAM_construct_end()};
  EVP_PKEY* key = nullptr;
  if (!name || !ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 ||
      EVP_PKEY_paramgen(ctx.get(), &key) != 1) {
    ERR_clear_error();
    return nullptr;  // not a curve this OpenSSL knows: the generic decoder decides
  }
  return made.emplace(curve_nid, EvpPkeyPtr(key)).first->second.get();
}

EvpPkeyPtr fast_key(const PublicKeyInfo& info) {
  if (info.algorithm_nid == NID_X9_62_id_ecPublicKey && info.curve_nid != NID_undef) {
    const EVP_PKEY* parameters = ec_parameters(info.curve_nid);
    EvpPkeyPtr key(parameters ? EVP_PKEY_new() : nullptr);
    // set1_encoded_public_key checks that the point is on the curve.
    if (!key || EVP_PKEY_copy_parameters(key.get(), parameters) != 1 ||
        EVP_PKEY_set1_encoded_public_key(key.get(), der_bytes(info.key_bytes), info.key_bytes.size()) != 1)
      return nullptr;
    return key;
  }
  if (info.algorithm_nid == NID_rsaEncryption) {
    auto parts = rsa_parts(info.key_bytes);
    if (!parts) return nullptr;
    BignumPtr n(BN_bin2bn(der_bytes(parts->first), static_cast<int>(parts->first.size()), nullptr));
    BignumPtr e(BN_bin2bn(der_bytes(parts->second), static_cast<int>(parts->second.size()), nullptr));
    ParamBuildPtr build(OSSL_PARAM_BLD_new());
    if (!n || !e || !build || !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()))
      return nullptr;
    return from_params("RSA", build.get());
  }
  if (info.algorithm_nid == NID_ED25519)
    return EvpPkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, der_bytes(info.key_bytes),
                                                  info.key_bytes.size()));
  return nullptr;
}

}  // namespace

std::optional<PublicKeyInfo> read_public_key_info(std::string_view der) {
  auto spki = der_single(der, der_tag::kSequence);
  if (!spki) return std::nullopt;
  DerReader r(spki->content);
  auto algorithm = r.next_if(der_tag::kSequence);
  auto key = r.next_if(der_tag::kBitString);
  if (!algorithm || !key || !r.at_end() || key->content.empty() || key->content[0] != 0) return std::nullopt;
  DerReader a(algorithm->content);
  auto oid = a.next_if(der_tag::kOid);
  std::optional<int> algorithm_nid = oid ? der_oid_nid(*oid) : std::nullopt;
  if (!algorithm_nid) return std::nullopt;
  PublicKeyInfo info;
  info.der = std::string(der);
  info.algorithm_nid = *algorithm_nid;
  if (info.algorithm_nid == NID_X9_62_id_ecPublicKey) {
    if (auto curve = a.next_if(der_tag::kOid)) {
      std::optional<int> curve_nid = der_oid_nid(*curve);
      if (!curve_nid) return std::nullopt;
      info.curve_nid = *curve_nid;
    }
  }
  while (a.next()) {
  }
  if (a.failed()) return std::nullopt;
  info.key_bytes = std::string(key->content.substr(1));
  return info;
}

std::string describe_public_key_info(const PublicKeyInfo& info) {
  switch (info.algorithm_nid) {
    case NID_rsaEncryption: {
      auto parts = rsa_parts(info.key_bytes);
      if (!parts) throw Error(ErrorKind::InvalidInput, "invalid_public_key", "not a valid DER RSA public key");
      return rsa_key_name(significant_bits(parts->first));
    }
    case NID_X9_62_id_ecPublicKey: return ec_key_name(info.curve_nid);
    case NID_ED25519: return "ed25519";
    default: throw Error(ErrorKind::PolicyViolation, "unsupported_key", "unsupported public key algorithm");
  }
}

EvpPkeyPtr public_key_from_info(const PublicKeyInfo& info) {
  if (EvpPkeyPtr key = fast_key(info)) return key;
  ERR_clear_error();
  return parse_public_key_der(info.der);  // OpenSSL's generic decoder decides
}

}  // namespace cairn
