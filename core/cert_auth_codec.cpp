// Persistence (cereal, versioned) and JSON renderings of CertAuth commands
// and events. The binary form is what is hashed and stored; the JSON form is
// for auditors and the history API and is never parsed back.
#include <openssl/evp.h>

#include <algorithm>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/cert_auth.h"
#include "eventstore/portable_binary_view.h"
#include "eventstore/view_input.h"
#include "core/encoding.h"
#include "core/revocation_reason.h"
#include "core/x509_time.h"
#include "eventstore/records.h"

namespace cairn {

template <class Ar>
void serialize(Ar& ar, CaCreated& e, std::uint32_t const version) {
  ar(e.handle, e.kind, e.key_id, e.algorithm, e.subject, e.parent, e.csr_der);
  if (version >= 2) ar(e.parent_url);
}
template <class Ar>
void serialize(Ar& ar, CaCertificateInstalled& e, std::uint32_t const) {
  ar(e.der, e.not_before_ms, e.not_after_ms);
}
template <class Ar>
void serialize(Ar& ar, CertificateIssued& e, std::uint32_t const version) {
  ar(e.serial, e.der, e.profile, e.subject, e.not_before_ms, e.not_after_ms, e.replaces,
     e.child_ca, e.issuer_key_id, e.issued_at_ms);
  if (version >= 2) ar(e.requested_by);
}
template <class Ar>
void serialize(Ar& ar, CertificateRevoked& e, std::uint32_t const) {
  ar(e.serial, e.reason, e.revoked_at_ms);
}

template <class Ar>
void serialize(Ar& ar, CertificateRequested& e, std::uint32_t const) {
  ar(e.id, e.requested_by, e.requested_at_ms, e.subject, e.sans, e.public_key_der, e.profile,
     e.validity_days, e.replaces);
}
template <class Ar>
void serialize(Ar& ar, RequestApproved& e, std::uint32_t const) {
  ar(e.id, e.approved_by, e.approved_at_ms, e.serial);
}
template <class Ar>
void serialize(Ar& ar, RequestRejected& e, std::uint32_t const) {
  ar(e.id, e.rejected_by, e.rejected_at_ms, e.reason);
}
template <class Ar>
void serialize(Ar& ar, KeyRollStarted& e, std::uint32_t const) {
  ar(e.key_id, e.csr_der);
}
template <class Ar>
void serialize(Ar& ar, StagedCertificateInstalled& e, std::uint32_t const) {
  ar(e.der, e.not_before_ms, e.not_after_ms);
}
template <class Ar>
void serialize(Ar& ar, KeyRollActivated& e, std::uint32_t const) {
  ar(e.generation);
}
template <class Ar>
void serialize(Ar& ar, KeyRetired& e, std::uint32_t const) {
  ar(e.generation);
}
template <class Ar>
void serialize(Ar& ar, PendingKey& k, std::uint32_t const) {
  ar(k.key_id, k.csr_der, k.staged_der, k.staged_not_before_ms, k.staged_not_after_ms);
}
template <class Ar>
void serialize(Ar& ar, RetiringKey& k, std::uint32_t const) {
  ar(k.generation, k.key_id, k.ca_cert_der, k.ca_not_after_ms);
}

template <class Ar>
void serialize(Ar& ar, PendingRequest& r, std::uint32_t const) {
  ar(r.request, r.status, r.decided_by, r.decided_at_ms, r.serial, r.reason);
}

// Class version 6: the fields below and the number of events applied; the
// certificate index follows the archive as one binary block (see
// CertificateIndex::encode and encode_snapshot). Versions 1-5 kept a map of
// every certificate with its DER and cannot say at which event version each
// DER is, so they are not loaded (snapshot_outdated).
template <class Ar>
void CertAuth::save(Ar& ar, std::uint32_t const) const {
  ar(handle_, kind_, key_id_, algorithm_, subject_, parent_, csr_der_, ca_cert_der_,
     ca_not_before_ms_, ca_not_after_ms_, children_, requests_, ocsp_responder_serial_, parent_url_,
     key_generation_, pending_key_, retiring_, events_applied_);
}

template <class Ar>
void CertAuth::load(Ar& ar, std::uint32_t const version) {
  if (version < 6)
    throw Error(ErrorKind::Internal, "snapshot_outdated",
                "snapshot of class version " + std::to_string(version) + " (before the certificate index)");
  ar(handle_, kind_, key_id_, algorithm_, subject_, parent_, csr_der_, ca_cert_der_,
     ca_not_before_ms_, ca_not_after_ms_, children_, requests_, ocsp_responder_serial_, parent_url_,
     key_generation_, pending_key_, retiring_, events_applied_);
}

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::CertAuth, 6)
CEREAL_CLASS_VERSION(cairn::KeyRollStarted, 1)
CEREAL_CLASS_VERSION(cairn::StagedCertificateInstalled, 1)
CEREAL_CLASS_VERSION(cairn::KeyRollActivated, 1)
CEREAL_CLASS_VERSION(cairn::KeyRetired, 1)
CEREAL_CLASS_VERSION(cairn::PendingKey, 1)
CEREAL_CLASS_VERSION(cairn::RetiringKey, 1)
CEREAL_CLASS_VERSION(cairn::CertificateRequested, 1)
CEREAL_CLASS_VERSION(cairn::RequestApproved, 1)
CEREAL_CLASS_VERSION(cairn::RequestRejected, 1)
CEREAL_CLASS_VERSION(cairn::PendingRequest, 1)
CEREAL_CLASS_VERSION(cairn::CaCreated, 2)
CEREAL_CLASS_VERSION(cairn::CaCertificateInstalled, 1)
CEREAL_CLASS_VERSION(cairn::CertificateIssued, 2)
CEREAL_CLASS_VERSION(cairn::CertificateRevoked, 1)
CEREAL_CLASS_VERSION(cairn::SubjectAltNames, 1)

namespace cairn {
namespace {

// Events are stored as: u8 envelope version, then the cereal archive of the
// variant (its index selects the event type; new types are only appended).
constexpr char kEnvelopeV1 = 1;

nlohmann::json sans_json(const SubjectAltNames& s) {
  return {{"dns", s.dns}, {"ip", s.ip}, {"email", s.email}, {"uri", s.uri}};
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

std::string CertAuth::encode_event(const CaEvent& e) {
  std::ostringstream out;
  out.put(kEnvelopeV1);
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(e);
  }
  return std::move(out).str();
}

CaEvent CertAuth::decode_event(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != kEnvelopeV1)
    throw Error(ErrorKind::Internal, "corrupt_record", "unknown event envelope");
  CaEvent e;
  try {
    ViewInput in(bytes.substr(1));
    cereal::PortableBinaryInputArchive ar(in.stream());
    ar(e);
  } catch (const std::exception& ex) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode event: ") + ex.what());
  }
  return e;
}

// The layouts cereal writes for the two events that make up almost all of a
// large CA's history (see the serialize functions above): variant index,
// class version (written once per archive, so always here), then the
// fields. Tested against decode_event for every event type.
static_assert(std::is_same_v<std::variant_alternative_t<2, CaEvent>, CertificateIssued>);
static_assert(std::is_same_v<std::variant_alternative_t<3, CaEvent>, CertificateRevoked>);

namespace {

// The serial of an issuance or revocation payload, and whether it is a
// revocation; nullopt for other events (only a hint: apply_encoded decides).
std::optional<std::pair<std::string_view, bool>> peek_serial(std::string_view payload) {
  PortableBinaryView in;
  int32_t index = -1;
  uint32_t version = 0;
  std::string_view serial;
  if (payload.empty() || payload[0] != kEnvelopeV1 || !in.open(payload.substr(1)) || !in.read(index) ||
      (index != 2 && index != 3) || !in.read(version) || !in.read(serial))
    return std::nullopt;
  return std::make_pair(serial, index == 3);
}

}  // namespace

void CertAuth::apply_encoded_batch(const std::vector<std::string_view>& payloads) {
  std::vector<std::optional<std::pair<std::string_view, bool>>> serials;
  serials.reserve(payloads.size());
  for (std::string_view p : payloads) {
    serials.push_back(peek_serial(p));
    if (serials.back()) index_.prefetch_slot(serials.back()->first);
  }
  for (const auto& s : serials)
    if (s && s->second) index_.prefetch_entry(s->first);  // revocations change their entry
  for (std::string_view p : payloads) apply_encoded(p);
}

void CertAuth::apply_encoded(std::string_view payload) {
  PortableBinaryView in;
  int32_t index = -1;
  uint32_t version = 0;
  if (!payload.empty() && payload[0] == kEnvelopeV1 && in.open(payload.substr(1)) && in.read(index) &&
      in.read(version)) {
    if (index == 2 && (version == 1 || version == 2)) {
      IssuedFields f;
      std::string_view der;
      if (in.read(f.serial) && in.read(der) && in.read(f.profile) && in.read(f.subject) && in.read(f.not_before_ms) &&
          in.read(f.not_after_ms) && in.read(f.replaces) && in.read(f.child_ca) && in.read(f.issuer_key_id) &&
          in.read(f.issued_at_ms) && (version < 2 || in.read(f.requested_by))) {
        ++events_applied_;
        apply_issued(f, der);
        return;
      }
    } else if (index == 3 && version == 1) {
      std::string_view serial;
      int32_t reason = 0;
      int64_t revoked_at_ms = 0;
      if (in.read(serial) && in.read(reason) && in.read(revoked_at_ms)) {
        ++events_applied_;
        apply_revoked(serial, reason, revoked_at_ms);
        return;
      }
    }
  }
  apply(decode_event(payload));
}

// A snapshot: envelope byte, the cereal archive of the state, then the
// certificate index block (read in place, not through cereal: at a million
// certificates it is over 100 MB).
std::string CertAuth::encode_snapshot(const CertAuth& state) {
  std::string bytes;
  encode_snapshot_to(state, bytes);
  return bytes;
}

namespace {
void write_snapshot_head(const CertAuth& state, std::string& out) {
  std::ostringstream head;
  head.put(kEnvelopeV1);
  {
    cereal::PortableBinaryOutputArchive ar(head);
    ar(state);
  }
  out += std::move(head).str();
}

// The state with its index read by `read_index` from the rest.
template <class ReadIndex>
CertAuth read_snapshot(std::string_view bytes, const ReadIndex& read_index) {
  if (bytes.empty() || bytes[0] != kEnvelopeV1)
    throw Error(ErrorKind::Internal, "corrupt_record", "unknown snapshot envelope");
  CertAuth state;
  try {
    ViewInput in(bytes.substr(1));
    cereal::PortableBinaryInputArchive ar(in.stream());
    ar(state);
    read_index(state, in.rest());
  } catch (const Error&) {
    throw;  // snapshot_outdated, snapshot_incomplete, or a corrupt index
  } catch (const std::exception& ex) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode snapshot: ") + ex.what());
  }
  return state;
}
}  // namespace

void CertAuth::encode_snapshot_to(const CertAuth& state, std::string& out) {
  write_snapshot_head(state, out);
  state.index_.encode(out);
}

void CertAuth::encode_snapshot_pieces(CertAuth& state, std::string& out, SnapshotPieceSink& pieces) {
  write_snapshot_head(state, out);
  state.index_.encode_pieced(out, pieces);
}

void CertAuth::forget_snapshot_pieces(CertAuth& state) { state.index_.forget_pieces(); }

CertAuth CertAuth::decode_snapshot(std::string_view bytes) {
  return read_snapshot(bytes, [](CertAuth& state, std::string_view index) {
    state.index_ = CertificateIndex::decode(index);
  });
}

CertAuth CertAuth::decode_snapshot(std::string_view bytes, const SnapshotPieceSource& pieces) {
  return read_snapshot(bytes, [&](CertAuth& state, std::string_view index) {
    state.index_ = CertificateIndex::decode_pieced(index, pieces);
  });
}

std::string CertAuth::state_json(int64_t at_ms) const {
  nlohmann::json certs = nlohmann::json::array();
  std::vector<IssuedCertificate> issued;
  issued.reserve(index_.size());
  for (size_t p = 0; p < index_.size(); ++p) issued.push_back(describe(static_cast<CertificateIndex::Position>(p)));
  std::sort(issued.begin(), issued.end(), [](const auto& a, const auto& b) { return a.serial < b.serial; });
  for (const auto& c : issued) {
    const std::string& serial = c.serial;
    std::string status = c.revoked ? "revoked" : (at_ms >= c.not_after_ms ? "expired" : "valid");
    certs.push_back({{"serial", serial}, {"subject", c.subject}, {"profile", c.profile},
                     {"status", status}, {"not_before", iso8601(c.not_before_ms)},
                     {"not_after", iso8601(c.not_after_ms)}, {"issued_at", iso8601(c.issued_at_ms)},
                     {"replaces", c.replaces}, {"replaced_by", c.replaced_by}, {"child_ca", c.child_ca},
                     {"issuer_key_id", c.issuer_key_id},
                     {"revoked_at", c.revoked ? iso8601(c.revoked_at_ms) : ""},
                     {"revocation_reason", c.revoked ? revocation_reason_name(c.revocation_reason) : ""}});
  }
  nlohmann::json children = nlohmann::json::object();
  for (const auto& [child, serial] : children_) children[child] = serial;
  nlohmann::json j = {{"handle", handle_},
                      {"kind", ca_kind_name(kind_)},
                      {"status", !active() ? "pending" : (at_ms >= ca_not_after_ms_ ? "expired" : "active")},
                      {"subject", subject_},
                      {"parent", parent_},
                      {"parent_url", parent_url_},
                      {"key_id", key_id_},
                      {"algorithm", algorithm_},
                      {"certificate_sha256", ca_cert_der_.empty() ? "" : to_hex(sha256(ca_cert_der_))},
                      {"not_before", ca_not_before_ms_ ? iso8601(ca_not_before_ms_) : ""},
                      {"not_after", ca_not_after_ms_ ? iso8601(ca_not_after_ms_) : ""},
                      {"children", children},
                      {"certificates", certs}};
  return j.dump(2);
}

std::string CertAuth::command_summary(const CaCommand& c) {
  return std::visit(
      Overloaded{
          [](const CreateRootCa& x) { return "create root CA " + x.handle + " (" + x.subject + ")"; },
          [](const CreateIntermediateCa& x) {
            return "create intermediate CA " + x.handle + " under " + x.parent;
          },
          [](const CertifyChildCa& x) { return "certify child CA " + x.child; },
          [](const InstallCaCertificate&) { return std::string("install CA certificate"); },
          [](const IssueCertificate& x) {
            std::string what = x.replaces.empty() ? "issue" : "renew " + x.replaces + " as";
            return what + " " + x.profile + " certificate for " +
                   (x.subject.empty() && !x.sans.dns.empty() ? x.sans.dns.front() : x.subject);
          },
          [](const RevokeCertificate& x) {
            return "revoke " + x.serial + " (" + revocation_reason_name(x.reason) + ")";
          },
          [](const RevokeCertificates& x) {
            return "revoke " + std::to_string(x.serials.size()) + " certificates (" +
                   revocation_reason_name(x.reason) + ")";
          },
          [](const ApproveRequest& x) { return "approve request " + x.id; },
          [](const RejectRequest& x) { return "reject request " + x.id; },
          [](const IssueOcspResponder&) { return std::string("issue OCSP responder certificate if due"); },
          [](const StartKeyRoll&) { return std::string("start key rollover"); },
          [](const ActivateKeyRoll&) { return std::string("activate the new key"); },
          [](const RetireKey& x) { return "retire key generation " + std::to_string(x.generation); },
      },
      c);
}

std::string CertAuth::command_params_json(const CaCommand& c) {
  nlohmann::json j = std::visit(
      Overloaded{
          [](const CreateRootCa& x) -> nlohmann::json {
            return {{"type", "CreateRootCa"}, {"handle", x.handle}, {"subject", x.subject},
                    {"algorithm", x.algorithm}, {"validity_days", x.validity_days}};
          },
          [](const CreateIntermediateCa& x) -> nlohmann::json {
            return {{"type", "CreateIntermediateCa"}, {"handle", x.handle},
                    {"subject", x.subject}, {"algorithm", x.algorithm}, {"parent", x.parent},
                    {"parent_url", x.parent_url}};
          },
          [](const CertifyChildCa& x) -> nlohmann::json {
            return {{"type", "CertifyChildCa"}, {"child", x.child},
                    {"csr_sha256", to_hex(sha256(x.csr_der))}, {"validity_days", x.validity_days}};
          },
          [](const InstallCaCertificate& x) -> nlohmann::json {
            return {{"type", "InstallCaCertificate"}, {"certificate_sha256", to_hex(sha256(x.der))}};
          },
          [](const IssueCertificate& x) -> nlohmann::json {
            return {{"type", "IssueCertificate"}, {"subject", x.subject}, {"sans", sans_json(x.sans)},
                    {"profile", x.profile}, {"validity_days", x.validity_days},
                    {"replaces", x.replaces}, {"server_generated_key", x.server_generated_key},
                    {"owner", x.owner},
                    {"public_key_sha256", to_hex(sha256(x.public_key_der))}};
          },
          [](const RevokeCertificate& x) -> nlohmann::json {
            return {{"type", "RevokeCertificate"}, {"serial", x.serial},
                    {"reason", revocation_reason_name(x.reason)}};
          },
          [](const RevokeCertificates& x) -> nlohmann::json {
            return {{"type", "RevokeCertificates"}, {"serials", x.serials},
                    {"reason", revocation_reason_name(x.reason)}};
          },
          [](const ApproveRequest& x) -> nlohmann::json { return {{"type", "ApproveRequest"}, {"id", x.id}}; },
          [](const RejectRequest& x) -> nlohmann::json {
            return {{"type", "RejectRequest"}, {"id", x.id}, {"reason", x.reason}};
          },
          [](const IssueOcspResponder& x) -> nlohmann::json {
            return {{"type", "IssueOcspResponder"}, {"validity_hours", x.validity_hours}};
          },
          [](const StartKeyRoll&) -> nlohmann::json { return {{"type", "StartKeyRoll"}}; },
          [](const ActivateKeyRoll&) -> nlohmann::json { return {{"type", "ActivateKeyRoll"}}; },
          [](const RetireKey& x) -> nlohmann::json { return {{"type", "RetireKey"}, {"generation", x.generation}}; },
      },
      c);
  return j.dump();
}

std::string CertAuth::event_json(const CaEvent& e) {
  nlohmann::json j = std::visit(
      Overloaded{
          [](const CaCreated& x) -> nlohmann::json {
            return {{"handle", x.handle}, {"kind", ca_kind_name(x.kind)}, {"key_id", x.key_id},
                    {"algorithm", x.algorithm}, {"subject", x.subject}, {"parent", x.parent},
                    {"parent_url", x.parent_url}, {"csr_der_base64", base64_encode(x.csr_der)}};
          },
          [](const CaCertificateInstalled& x) -> nlohmann::json {
            return {{"der_base64", base64_encode(x.der)}, {"not_before", iso8601(x.not_before_ms)},
                    {"not_after", iso8601(x.not_after_ms)}};
          },
          [](const CertificateIssued& x) -> nlohmann::json {
            return {{"serial", x.serial}, {"profile", x.profile}, {"subject", x.subject},
                    {"not_before", iso8601(x.not_before_ms)}, {"not_after", iso8601(x.not_after_ms)},
                    {"replaces", x.replaces}, {"child_ca", x.child_ca},
                    {"issuer_key_id", x.issuer_key_id}, {"issued_at", iso8601(x.issued_at_ms)},
                    {"requested_by", x.requested_by},
                    {"der_base64", base64_encode(x.der)}};
          },
          [](const CertificateRevoked& x) -> nlohmann::json {
            return {{"serial", x.serial}, {"reason", revocation_reason_name(x.reason)},
                    {"revoked_at", iso8601(x.revoked_at_ms)}};
          },
          [](const CertificateRequested& x) -> nlohmann::json {
            return {{"id", x.id}, {"requested_by", x.requested_by},
                    {"requested_at", iso8601(x.requested_at_ms)}, {"subject", x.subject},
                    {"sans", sans_json(x.sans)}, {"profile", x.profile},
                    {"validity_days", x.validity_days}, {"replaces", x.replaces},
                    {"public_key_der_base64", base64_encode(x.public_key_der)}};
          },
          [](const RequestApproved& x) -> nlohmann::json {
            return {{"id", x.id}, {"approved_by", x.approved_by},
                    {"approved_at", iso8601(x.approved_at_ms)}, {"serial", x.serial}};
          },
          [](const RequestRejected& x) -> nlohmann::json {
            return {{"id", x.id}, {"rejected_by", x.rejected_by},
                    {"rejected_at", iso8601(x.rejected_at_ms)}, {"reason", x.reason}};
          },
          [](const KeyRollStarted& x) -> nlohmann::json {
            return {{"key_id", x.key_id}, {"csr_der_base64", base64_encode(x.csr_der)}};
          },
          [](const StagedCertificateInstalled& x) -> nlohmann::json {
            return {{"der_base64", base64_encode(x.der)}, {"not_before", iso8601(x.not_before_ms)},
                    {"not_after", iso8601(x.not_after_ms)}};
          },
          [](const KeyRollActivated& x) -> nlohmann::json { return {{"generation", x.generation}}; },
          [](const KeyRetired& x) -> nlohmann::json { return {{"generation", x.generation}}; },
      },
      e);
  j["type"] = event_type_name(e);
  return j.dump();
}

}  // namespace cairn
