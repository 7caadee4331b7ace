#include "core/key_algorithm.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>

namespace cairn {

KeyAlgorithm parse_key_algorithm(std::string_view name) {
  if (name == "ec-p256") return KeyAlgorithm::EcP256;
  if (name == "ec-p384") return KeyAlgorithm::EcP384;
  if (name == "rsa-2048") return KeyAlgorithm::Rsa2048;
  if (name == "rsa-3072") return KeyAlgorithm::Rsa3072;
  if (name == "rsa-4096") return KeyAlgorithm::Rsa4096;
  if (name == "ed25519") return KeyAlgorithm::Ed25519;
  throw Error(ErrorKind::InvalidInput, "unknown_key_algorithm",
              "unknown key algorithm; use one of ec-p256, ec-p384, rsa-2048, rsa-3072, "
              "rsa-4096, ed25519");
}

std::string key_algorithm_name(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::EcP256: return "ec-p256";
    case KeyAlgorithm::EcP384: return "ec-p384";
    case KeyAlgorithm::Rsa2048: return "rsa-2048";
    case KeyAlgorithm::Rsa3072: return "rsa-3072";
    case KeyAlgorithm::Rsa4096: return "rsa-4096";
    case KeyAlgorithm::Ed25519: return "ed25519";
  }
  return "unknown";
}

EvpPkeyPtr generate_key(KeyAlgorithm alg) {
  EVP_PKEY* key = nullptr;
  switch (alg) {
    case KeyAlgorithm::EcP256: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case KeyAlgorithm::EcP384: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case KeyAlgorithm::Rsa2048: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case KeyAlgorithm::Rsa3072: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}); break;
    case KeyAlgorithm::Rsa4096: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
    case KeyAlgorithm::Ed25519: key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (!key) throw_openssl(ErrorKind::Internal, "key_generation_failed", "key generation failed");
  return EvpPkeyPtr(key);
}

bool is_rsa(const EVP_PKEY* key) { return EVP_PKEY_is_a(key, "RSA"); }

std::string rsa_key_name(int bits) {
  if (bits < 2048)
    throw Error(ErrorKind::PolicyViolation, "weak_key",
                "RSA keys must have at least 2048 bits, this one has " + std::to_string(bits));
  if (bits > 8192)
    throw Error(ErrorKind::PolicyViolation, "unsupported_key", "RSA keys above 8192 bits are not accepted");
  return "rsa-" + std::to_string(bits);
}

std::string ec_key_name(int curve_nid) {
  switch (curve_nid) {
    case NID_X9_62_prime256v1: return "ec-p256";
    case NID_secp384r1: return "ec-p384";
    case NID_secp521r1: return "ec-p521";
    case NID_undef: throw Error(ErrorKind::PolicyViolation, "unsupported_key", "EC key without a named curve");
    default:
      throw Error(ErrorKind::PolicyViolation, "unsupported_key",
                  std::string("EC curve ") + OBJ_nid2sn(curve_nid) + " is not accepted");
  }
}

std::string describe_public_key(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return rsa_key_name(EVP_PKEY_get_bits(key));
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
      throw Error(ErrorKind::PolicyViolation, "unsupported_key", "EC key without a named curve");
    std::string g(group, len);
    int nid = OBJ_sn2nid(g.c_str());
    if (nid == NID_undef) nid = EC_curve_nist2nid(g.c_str());
    if (nid == NID_undef)
      throw Error(ErrorKind::PolicyViolation, "unsupported_key", "EC curve " + g + " is not accepted");
    return ec_key_name(nid);
  }
  if (EVP_PKEY_is_a(key, "ED25519")) return "ed25519";
  throw Error(ErrorKind::PolicyViolation, "unsupported_key", "unsupported public key algorithm");
}

bool verify_signature(const EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, signing_digest(key), nullptr, const_cast<EVP_PKEY*>(key)) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

const EVP_MD* signing_digest(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return nullptr;
  if (EVP_PKEY_is_a(key, "EC")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits > 384) return fetched_digest(NID_sha512);
    if (bits > 256) return fetched_digest(NID_sha384);
  }
  return fetched_digest(NID_sha256);
}

namespace {

// Deliberately never freed: handed out for the life of the process.
const EVP_MD* fetch_or_legacy(const char* name, const EVP_MD* legacy) {
  const EVP_MD* fetched = EVP_MD_fetch(nullptr, name, nullptr);
  if (fetched) return fetched;
  ERR_clear_error();
  return legacy;  // works as before, fetched on each use
}

}  // namespace

const EVP_MD* fetched_digest(int nid) {
  static const EVP_MD* const sha1 = fetch_or_legacy("SHA1", EVP_sha1());
  static const EVP_MD* const sha256 = fetch_or_legacy("SHA2-256", EVP_sha256());
  static const EVP_MD* const sha384 = fetch_or_legacy("SHA2-384", EVP_sha384());
  static const EVP_MD* const sha512 = fetch_or_legacy("SHA2-512", EVP_sha512());
  switch (nid) {
    case NID_sha1: return sha1;
    case NID_sha256: return sha256;
    case NID_sha384: return sha384;
    case NID_sha512: return sha512;
    default: return nullptr;
  }
}

}  // namespace cairn
