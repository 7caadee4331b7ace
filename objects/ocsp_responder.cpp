#include "objects/ocsp_responder.h"

#include <openssl/ocsp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "core/certificate_cache.h"
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
bool names_issuer(OCSP_CERTID* id, const X509* issuer) {
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

// The Signer key id of a delegated responder certificate, computed once per
// certificate (it re-encodes the public key, which OpenSSL 3.0 makes slow).
std::string responder_key_id(const std::string& der, const X509* responder) {
  static std::mutex mutex;
  static std::map<std::string, std::string> ids;
  std::lock_guard lock(mutex);
  auto it = ids.find(der);
  if (it != ids.end()) return it->second;
  if (ids.size() >= 64) ids.clear();
  return ids.emplace(der, Signer::key_id_for(X509_get0_pubkey(responder))).first->second;
}

struct Answer {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int64_t revoked_at_ms = 0;
  int reason = 0;
};


constexpr const char* kResponderActor = "system:ocsp";

}  // namespace

// Who signs for a CA, copied from its state under its lock.
struct OcspResponder::Signing {
  std::string ca_der;
  std::string ca_key_id;
  std::string responder_der;  // empty: the CA key signs
  int64_t responder_not_after_ms = 0;
  bool due = false;  // a new delegated responder certificate should be issued
  // Rolled-out keys that still answer for their certificates: key id and
  // CA certificate.
  std::vector<std::pair<std::string, std::string>> retiring;
};

namespace {
// What the state says about one asked-for serial, whichever key issued it.
struct Known {
  bool found = false;
  std::string issuer_key_id;
  Answer answer;
};
}  // namespace

OcspResponder::OcspResponder(CaManager& manager, Signer& signer, OcspConfig config)
    : manager_(manager), store_(manager.store()), signer_(signer), clock_(manager.clock()), config_(config) {}

bool OcspResponder::responder_due(const CertAuth& state) const {
  int64_t now = clock_.now_ms();
  return config_.delegated && state.active() && now < state.ca_not_after_ms() &&
         state.ocsp_responder_due(now, config_.responder_validity_hours);
}

size_t OcspResponder::refresh_responders(std::vector<std::string>* errors) {
  if (!config_.delegated) return 0;
  size_t issued = 0;
  for (const auto& ca : store_.ids()) {
    try {
      bool due = store_.read(ca, [&](const CertAuth& state, uint64_t) { return responder_due(state); });
      if (due && manager_.ensure_ocsp_responder(kResponderActor, ca, config_.responder_validity_hours)) ++issued;
    } catch (const std::exception& e) {
      if (errors) errors->push_back(ca + ": " + e.what());
    }
  }
  return issued;
}

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

void OcspResponder::keep(std::map<std::string, Cached>& cache, std::string key, Cached cached) {
  if (cache.size() >= config_.max_cached) cache.clear();
  cache[std::move(key)] = std::move(cached);
}

uint64_t OcspResponder::generation(const std::string& ca) {
  std::lock_guard lock(mutex_);
  return generation_locked(ca);
}

// Without adding an entry: requests name any CA, only commands make entries.
uint64_t OcspResponder::generation_locked(const std::string& ca) const {
  auto it = generations_.find(ca);
  return it == generations_.end() ? 0 : it->second;
}

void OcspResponder::invalidate(const std::string& ca) {
  std::lock_guard lock(mutex_);
  ++generations_[ca];
  std::string prefix = ca + '\0';
  for (auto* cache : {&cache_, &by_request_})
    for (auto it = cache->lower_bound(prefix); it != cache->end() && it->first.starts_with(prefix);)
      it = cache->erase(it);
}

std::string OcspResponder::respond(const std::string& ca, std::string_view request_der) {
  // The same request bytes as an answered cacheable request (clients ask
  // again and again with identical requests): its answer, without decoding.
  std::string request_key;
  if (!request_der.empty() && request_der.size() <= kMaxCachedRequestBytes) {
    request_key.reserve(ca.size() + 1 + request_der.size());
    request_key.append(ca).push_back('\0');
    request_key.append(request_der);
    std::lock_guard lock(mutex_);
    auto it = by_request_.find(request_key);
    if (it != by_request_.end() && it->second.generation == generation_locked(ca) &&
        clock_.now_ms() < it->second.refresh_after_ms) {
      ++hits_;
      return it->second.der;
    }
  }
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
    if (it != cache_.end() && it->second.generation == generation_locked(ca) &&
        clock_.now_ms() < it->second.refresh_after_ms) {
      ++hits_;
      if (!request_key.empty()) keep(by_request_, std::move(request_key), it->second);
      return it->second.der;
    }
  }

  uint64_t generation_before = generation(ca);
  bool cacheable = !cache_key.empty();
  int64_t refresh_after_ms = 0;
  std::string der = sign_response(ca, request.get(), &cacheable, &refresh_after_ms);
  if (cacheable) {
    std::lock_guard lock(mutex_);
    if (generation_locked(ca) == generation_before) {
      Cached cached{generation_before, refresh_after_ms, der};
      if (!request_key.empty()) keep(by_request_, std::move(request_key), cached);
      keep(cache_, std::move(cache_key), std::move(cached));
    }
  }
  return der;
}

std::string OcspResponder::sign_response(const std::string& ca, void* opaque_request, bool* cacheable,
                                         int64_t* refresh_after_ms) {
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
  // checking the issuer hashes and signing happen after. A due delegated
  // responder certificate is issued (a command of its own) and read again.
  Signing who;
  std::vector<Known> known(serials.size());
  for (int attempt = 0;; ++attempt) {
    try {
      store_.read(ca, [&](const CertAuth& state, uint64_t) {
        who = Signing{state.ca_cert_der(), state.key_id(), "", 0, responder_due(state), {}};
        std::optional<IssuedCertificate> responder;
        if (config_.delegated) responder = state.ocsp_responder();
        const std::string* responder_der = state.ocsp_responder_der();
        int64_t now = clock_.now_ms();
        if (responder && responder_der && !responder->revoked && responder->issuer_key_id == state.key_id() &&
            responder->not_before_ms <= now && now < responder->not_after_ms) {
          who.responder_der = *responder_der;
          who.responder_not_after_ms = responder->not_after_ms;
        }
        for (const auto& [generation, key] : state.retiring_keys()) who.retiring.emplace_back(key.key_id, key.ca_cert_der);
        const CertificateIndex& index = state.certificates();
        for (size_t i = 0; i < serials.size(); ++i) {
          CertificateIndex::Position p = index.find(serials[i]);
          if (p == CertificateIndex::kNone) continue;  // unknown
          const CertificateIndex::Entry& c = index.at(p);
          known[i] = Known{true, index.issuer_key_id(c),
                           Answer{c.revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD, c.revoked_at_ms,
                                  c.revocation_reason}};
        }
        return 0;
      });
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::NotFound && e.kind() != ErrorKind::InvalidInput) throw;
      return unauthorized();
    }
    if (!who.due || attempt > 0) break;
    try {
      manager_.ensure_ocsp_responder(kResponderActor, ca, config_.responder_validity_hours);
    } catch (const Error&) {
      break;  // the current responder (if still valid) or the CA key signs this answer
    }
  }
  if (who.ca_der.empty()) return unauthorized();
  // The key the request asks about: the current one, or a rolled-out key
  // (which then signs the answer itself). All CertIDs must name the same.
  std::shared_ptr<const X509> issuer = shared_certificate(who.ca_der);
  std::string issuer_key_id = who.ca_key_id;
  if (!names_issuer(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, 0)), issuer.get())) {
    bool matched = false;
    for (const auto& [key_id, der] : who.retiring) {
      std::shared_ptr<const X509> old = shared_certificate(der);
      if (!names_issuer(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, 0)), old.get())) continue;
      issuer = std::move(old);
      issuer_key_id = key_id;
      who.responder_der.clear();  // delegated responders speak for the current key only
      matched = true;
      break;
    }
    if (!matched) return unauthorized();
  }
  for (int i = 1; i < count; ++i)
    if (!names_issuer(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request, i)), issuer.get())) return unauthorized();
  std::vector<Answer> answers(serials.size());
  for (size_t i = 0; i < serials.size(); ++i)
    if (known[i].found && known[i].issuer_key_id == issuer_key_id) answers[i] = known[i].answer;

  OcspBasicPtr basic(OCSP_BASICRESP_new());
  int64_t now = clock_.now_ms();
  int64_t this_update_ms = now - now % 1000;
  int64_t next_update_ms = this_update_ms + config_.response_validity_ms;
  if (!who.responder_der.empty()) next_update_ms = std::min(next_update_ms, who.responder_not_after_ms);
  *refresh_after_ms = this_update_ms + (next_update_ms - this_update_ms) / 2;
  auto this_update = to_asn1_time(this_update_ms);
  auto next_update = to_asn1_time(next_update_ms);
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
  if (who.responder_der.empty()) {
    signer_.sign(issuer_key_id, basic.get(), const_cast<X509*>(issuer.get()), OCSP_RESPID_KEY | OCSP_NOCERTS);
  } else {
    // The responder certificate travels with the answer so that clients can
    // check that the CA delegated to it.
    // (OCSP_basic_sign only reads the certificate and takes a reference.)
    std::shared_ptr<const X509> responder = shared_certificate(who.responder_der);
    signer_.sign(responder_key_id(who.responder_der, responder.get()), basic.get(),
                 const_cast<X509*>(responder.get()), OCSP_RESPID_KEY);
  }
  return response_der(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get());
}

}  // namespace cairn
