#include "objects/ocsp_responder.h"

#include <openssl/ocsp.h>

#include <cstring>

#include "core/encoding.h"
#include "core/serial_number.h"
#include "core/x509_time.h"

namespace cairn {
namespace {

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, OpenSslDeleter<OCSP_REQUEST_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>>;

constexpr int kMaxRequestsPerMessage = 100;

std::string response_der(int status, OCSP_BASICRESP* basic) {
  OcspResponsePtr resp(OCSP_response_create(status, basic));
  if (!resp) throw_openssl(ErrorKind::Internal, "ocsp_error", "cannot build OCSP response");
  unsigned char* out = nullptr;
  int len = i2d_OCSP_RESPONSE(resp.get(), &out);
  if (len <= 0) throw_openssl(ErrorKind::Internal, "ocsp_error", "cannot encode OCSP response");
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

std::string certid_der(OCSP_CERTID* id) {
  unsigned char* out = nullptr;
  int len = i2d_OCSP_CERTID(id, &out);
  if (len <= 0) return "";
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

bool same(const ASN1_OCTET_STRING* s, const unsigned char* data, unsigned int len) {
  return s && static_cast<unsigned int>(ASN1_STRING_length(s)) == len &&
         std::memcmp(ASN1_STRING_get0_data(s), data, len) == 0;
}

// The serial a CertID asks about, or "" if it is malformed.
std::string serial_of(OCSP_CERTID* id) {
  ASN1_INTEGER* number = nullptr;
  if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &number, id) != 1 || !number) return "";
  BignumPtr bn(ASN1_INTEGER_to_BN(number, nullptr));
  if (!bn || BN_is_negative(bn.get()) || BN_num_bytes(bn.get()) > 20) return "";
  if (BN_is_zero(bn.get())) return "00";
  char* hex = BN_bn2hex(bn.get());
  std::string serial = normalize_serial(hex);
  OPENSSL_free(hex);
  return serial;
}

// Does this CertID name `issuer` (by name hash and key hash)?
bool names_issuer(OCSP_CERTID* id, X509* issuer) {
  ASN1_OCTET_STRING *name_hash = nullptr, *key_hash = nullptr;
  ASN1_OBJECT* md_oid = nullptr;
  if (OCSP_id_get0_info(&name_hash, &md_oid, &key_hash, nullptr, id) != 1) return false;
  const EVP_MD* md = EVP_get_digestbyobj(md_oid);
  if (!md) return false;
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_NAME_digest(X509_get_subject_name(issuer), md, buf, &len) != 1 || !same(name_hash, buf, len))
    return false;
  return X509_pubkey_digest(issuer, md, buf, &len) == 1 && same(key_hash, buf, len);
}

struct Answer {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int64_t revoked_at_ms = 0;
  int reason = 0;
};

}  // namespace

OcspResponder::OcspResponder(AggregateStore<CertAuth>& store, Signer& signer, const Clock& clock, OcspConfig config)
    : store_(store), signer_(signer), clock_(clock), config_(config) {}

void OcspResponder::attach() {
  // Before the save, so no answer computed from the old state can be cached
  // across the change; after it, to drop anything cached meanwhile.
  store_.add_pre_save([this](const std::string& ca, const CertAuth&, const std::vector<CaEvent>&, WriteBatch&) {
    invalidate(ca);
  });
  store_.add_post_save([this](const std::string& ca, const std::vector<CaEvent>&, const std::vector<uint64_t>&) {
    invalidate(ca);
  });
}

uint64_t OcspResponder::generation(const std::string& ca) {
  std::lock_guard lock(mutex_);
  return generations_[ca];
}

void OcspResponder::invalidate(const std::string& ca) {
  std::lock_guard lock(mutex_);
  ++generations_[ca];
  std::string prefix = ca + '\0';
  for (auto it = cache_.lower_bound(prefix); it != cache_.end() && it->first.starts_with(prefix);)
    it = cache_.erase(it);
}

std::string OcspResponder::respond(const std::string& ca, std::string_view request_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(request_der.data());
  OcspRequestPtr request(request_der.empty() || request_der.size() > kMaxDerInput
                             ? nullptr
                             : d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())));
  if (!request || p != reinterpret_cast<const unsigned char*>(request_der.data()) + request_der.size()) {
    ERR_clear_error();
    return response_der(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, nullptr);
  }
  int count = OCSP_request_onereq_count(request.get());
  if (count < 1 || count > kMaxRequestsPerMessage)
    return response_der(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, nullptr);
  bool has_nonce = OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1) >= 0;

  std::string cache_key;
  if (!has_nonce && count == 1) {
    cache_key = ca + '\0' + certid_der(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), 0)));
    std::lock_guard lock(mutex_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end() && it->second.generation == generations_[ca] &&
        clock_.now_ms() < it->second.refresh_after_ms) {
      ++hits_;
      return it->second.der;
    }
  }

  uint64_t generation_before = generation(ca);
  bool cacheable = !cache_key.empty();
  std::string der = sign_response(ca, request.get(), &cacheable);
  if (cacheable) {
    std::lock_guard lock(mutex_);
    if (generations_[ca] == generation_before) {
      if (cache_.size() >= config_.max_cached) cache_.clear();
      cache_[cache_key] = Cached{generation_before, clock_.now_ms() + config_.response_validity_ms / 2, der};
    }
  }
  return der;
}

std::string OcspResponder::sign_response(const std::string& ca, void* opaque_request, bool* cacheable) {
  auto* request = static_cast<OCSP_REQUEST*>(opaque_request);
  int count = OCSP_request_onereq_count(request);

  auto unauthorized = [&] {
    *cacheable = false;
    return response_der(OCSP_RESPONSE_STATUS_UNAUTHORIZED, nullptr);
  };
  std::vector<std::string> serials;
  for (int i = 0; i < count; ++i) {
    serials.push_back(serial_of(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, i))));
    if (serials.back().empty()) {
      *cacheable = false;
      return response_der(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, nullptr);
    }
  }
  // Everything needed from the CA is copied under its lock in one go;
  // checking the issuer hashes and signing happen after.
  std::string ca_der, key_id;
  std::vector<Answer> answers(serials.size());
  try {
    store_.read(ca, [&](const CertAuth& state, uint64_t) {
      ca_der = state.ca_cert_der();
      key_id = state.key_id();
      for (size_t i = 0; i < serials.size(); ++i) {
        const IssuedCertificate* c = state.find(serials[i]);
        if (!c || c->issuer_key_id != key_id) continue;  // unknown
        answers[i].status = c->revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
        answers[i].revoked_at_ms = c->revoked_at_ms;
        answers[i].reason = c->revocation_reason;
      }
      return 0;
    });
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::InvalidInput) throw;
    return unauthorized();
  }
  if (ca_der.empty()) return unauthorized();
  X509Ptr issuer = parse_certificate(ca_der);
  for (int i = 0; i < count; ++i)
    if (!names_issuer(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, i)), issuer.get())) return unauthorized();

  OcspBasicPtr basic(OCSP_BASICRESP_new());
  int64_t now = clock_.now_ms();
  auto this_update = to_asn1_time(now - now % 1000);
  auto next_update = to_asn1_time(now - now % 1000 + config_.response_validity_ms);
  for (int i = 0; i < count; ++i) {
    const Answer& a = answers[static_cast<size_t>(i)];
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, i));
    Asn1TimePtr revoked_at;
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    if (a.status == V_OCSP_CERTSTATUS_REVOKED) {
      revoked_at = to_asn1_time(a.revoked_at_ms);
      if (a.reason != 0) reason = a.reason;
    }
    if (!OCSP_basic_add1_status(basic.get(), id, a.status, reason, revoked_at.get(), this_update.get(),
                                next_update.get()))
      throw_openssl(ErrorKind::Internal, "ocsp_error", "cannot add OCSP status");
  }
  if (OCSP_copy_nonce(basic.get(), request) <= 0)
    throw_openssl(ErrorKind::Internal, "ocsp_error", "cannot copy the nonce");
  signer_.sign(key_id, basic.get(), issuer.get(), OCSP_RESPID_KEY | OCSP_NOCERTS);
  return response_der(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get());
}

}  // namespace cairn
