// Persistence (cereal, versioned) and JSON renderings of CertAuth commands
// and events. The binary form is what is hashed and stored; the JSON form is
// for auditors and the history API and is never parsed back.
#include <openssl/evp.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/cert_auth.h"
#include "core/revocation_reason.h"
#include "core/x509_time.h"
#include "eventstore/records.h"

namespace cairn {

template <class Ar>
void serialize(Ar& ar, CaCreated& e, std::uint32_t const) {
  ar(e.handle, e.kind, e.key_id, e.algorithm, e.subject, e.parent, e.csr_der);
}
template <class Ar>
void serialize(Ar& ar, CaCertificateInstalled& e, std::uint32_t const) {
  ar(e.der, e.not_before_ms, e.not_after_ms);
}
template <class Ar>
void serialize(Ar& ar, CertificateIssued& e, std::uint32_t const) {
  ar(e.serial, e.der, e.profile, e.subject, e.not_before_ms, e.not_after_ms, e.replaces,
     e.child_ca, e.issuer_key_id, e.issued_at_ms);
}
template <class Ar>
void serialize(Ar& ar, CertificateRevoked& e, std::uint32_t const) {
  ar(e.serial, e.reason, e.revoked_at_ms);
}

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::CaCreated, 1)
CEREAL_CLASS_VERSION(cairn::CaCertificateInstalled, 1)
CEREAL_CLASS_VERSION(cairn::CertificateIssued, 1)
CEREAL_CLASS_VERSION(cairn::CertificateRevoked, 1)
CEREAL_CLASS_VERSION(cairn::SubjectAltNames, 1)

namespace cairn {
namespace {

// Events are stored as: u8 envelope version, then the cereal archive of the
// variant (its index selects the event type; new types are only appended).
constexpr char kEnvelopeV1 = 1;

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

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
    std::istringstream in{std::string(bytes.substr(1))};
    cereal::PortableBinaryInputArchive ar(in);
    ar(e);
  } catch (const std::exception& ex) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode event: ") + ex.what());
  }
  return e;
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
                    {"subject", x.subject}, {"algorithm", x.algorithm}, {"parent", x.parent}};
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
                    {"public_key_sha256", to_hex(sha256(x.public_key_der))}};
          },
          [](const RevokeCertificate& x) -> nlohmann::json {
            return {{"type", "RevokeCertificate"}, {"serial", x.serial},
                    {"reason", revocation_reason_name(x.reason)}};
          },
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
                    {"csr_der_base64", base64(x.csr_der)}};
          },
          [](const CaCertificateInstalled& x) -> nlohmann::json {
            return {{"der_base64", base64(x.der)}, {"not_before", iso8601(x.not_before_ms)},
                    {"not_after", iso8601(x.not_after_ms)}};
          },
          [](const CertificateIssued& x) -> nlohmann::json {
            return {{"serial", x.serial}, {"profile", x.profile}, {"subject", x.subject},
                    {"not_before", iso8601(x.not_before_ms)}, {"not_after", iso8601(x.not_after_ms)},
                    {"replaces", x.replaces}, {"child_ca", x.child_ca},
                    {"issuer_key_id", x.issuer_key_id}, {"issued_at", iso8601(x.issued_at_ms)},
                    {"der_base64", base64(x.der)}};
          },
          [](const CertificateRevoked& x) -> nlohmann::json {
            return {{"serial", x.serial}, {"reason", revocation_reason_name(x.reason)},
                    {"revoked_at", iso8601(x.revoked_at_ms)}};
          },
      },
      e);
  j["type"] = event_type_name(e);
  return j.dump();
}

}  // namespace cairn
