#include "core/cert_auth.h"

#include <algorithm>
#include <set>

#include "core/certificate_builder.h"
#include "core/certificate_cache.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/profile.h"
#include "core/public_key_info.h"
#include "core/revocation_reason.h"
#include "core/serial_number.h"
#include "core/x509_time.h"

namespace cairn {
namespace {

constexpr int64_t kBackdateMs = 5 * 60 * 1000;  // tolerate relying parties' clock skew
constexpr int kMaxCaValidityDays = 36500;

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

int64_t truncate_to_second(int64_t ms) { return ms - ms % 1000; }

// The CA's first key (generation 0) keeps the URLs of earlier versions;
// each rolled-in key gets its own, so certificates of every key find their
// issuer's certificate and CRL.
std::string generation_path(const std::string& handle, int generation, const char* ext) {
  return generation == 0 ? handle + ext : handle + "/" + std::to_string(generation) + ext;
}
std::string crl_url(const CaContext& ctx, const std::string& handle, int generation) {
  return ctx.public_url.empty() ? "" : ctx.public_url + "/crl/" + generation_path(handle, generation, ".crl");
}
std::string ocsp_url(const CaContext& ctx, const std::string& handle) {
  return ctx.public_url.empty() ? "" : ctx.public_url + "/ocsp/" + handle;
}
std::string ca_issuers_url(const CaContext& ctx, const std::string& handle, int generation) {
  return ctx.public_url.empty() ? "" : ctx.public_url + "/ca/" + generation_path(handle, generation, ".cer");
}

void check_ca_validity(int days) {
  if (days < 1 || days > kMaxCaValidityDays)
    throw Error(ErrorKind::InvalidInput, "invalid_validity",
                "CA validity must be between 1 and 36500 days");
}

}  // namespace

std::string ca_kind_name(CaKind kind) { return kind == CaKind::Root ? "root" : "intermediate"; }

std::string event_type_name(const CaEvent& e) {
  return std::visit(Overloaded{
                        [](const CaCreated&) { return "CaCreated"; },
                        [](const CaCertificateInstalled&) { return "CaCertificateInstalled"; },
                        [](const CertificateIssued&) { return "CertificateIssued"; },
                        [](const CertificateRevoked&) { return "CertificateRevoked"; },
                        [](const CertificateRequested&) { return "CertificateRequested"; },
                        [](const RequestApproved&) { return "RequestApproved"; },
                        [](const RequestRejected&) { return "RequestRejected"; },
                        [](const KeyRollStarted&) { return "KeyRollStarted"; },
                        [](const StagedCertificateInstalled&) { return "StagedCertificateInstalled"; },
                        [](const KeyRollActivated&) { return "KeyRollActivated"; },
                        [](const KeyRetired&) { return "KeyRetired"; },
                    },
                    e);
}

std::optional<IssuedCertificate> CertAuth::find(const std::string& serial) const {
  CertificateIndex::Position p = index_.find(serial);
  if (p == CertificateIndex::kNone) return std::nullopt;
  return describe(p);
}

IssuedCertificate CertAuth::describe(CertificateIndex::Position p) const {
  const CertificateIndex::Entry& e = index_.at(p);
  IssuedCertificate c;
  c.serial = index_.serial(e);
  c.event_version = e.event_version;
  c.profile = index_.profile(e);
  c.subject = index_.subject(e);
  c.not_before_ms = e.not_before_ms;
  c.not_after_ms = e.not_after_ms;
  c.issued_at_ms = e.issued_at_ms;
  if (e.replaces != CertificateIndex::kNone) c.replaces = index_.serial(index_.at(e.replaces));
  if (e.replaced_by != CertificateIndex::kNone) c.replaced_by = index_.serial(index_.at(e.replaced_by));
  c.child_ca = index_.child_ca(p);
  c.issuer_key_id = index_.issuer_key_id(e);
  c.requested_by = index_.requester(e);
  c.revoked = e.revoked;
  c.revoked_at_ms = e.revoked_at_ms;
  c.revocation_reason = e.revocation_reason;
  return c;
}

const std::string* CertAuth::child_certificate_der(const std::string& serial) const {
  CertificateIndex::Position p = index_.find(serial);
  return p == CertificateIndex::kNone || index_.child_ca(p).empty() ? nullptr : index_.kept_der(p);
}

std::optional<IssuedCertificate> CertAuth::ocsp_responder() const {
  if (ocsp_responder_serial_.empty()) return std::nullopt;
  return find(ocsp_responder_serial_);
}

const std::string* CertAuth::ocsp_responder_der() const {
  if (ocsp_responder_serial_.empty()) return nullptr;
  CertificateIndex::Position p = index_.find(ocsp_responder_serial_);
  return p == CertificateIndex::kNone ? nullptr : index_.kept_der(p);
}

// ---- apply --------------------------------------------------------------

void CertAuth::apply(const CaEvent& event) {
  ++events_applied_;
  std::visit(Overloaded{
                 [&](const CaCreated& e) {
                   handle_ = e.handle;
                   kind_ = e.kind;
                   key_id_ = e.key_id;
                   algorithm_ = e.algorithm;
                   subject_ = e.subject;
                   parent_ = e.parent;
                   csr_der_ = e.csr_der;
                   parent_url_ = e.parent_url;
                 },
                 [&](const CaCertificateInstalled& e) {
                   ca_cert_der_ = e.der;
                   ca_not_before_ms_ = e.not_before_ms;
                   ca_not_after_ms_ = e.not_after_ms;
                 },
                 [&](const CertificateIssued& e) {
                   apply_issued(IssuedFields{e.serial, e.profile, e.subject, e.replaces, e.child_ca,
                                             e.issuer_key_id, e.requested_by, e.not_before_ms,
                                             e.not_after_ms, e.issued_at_ms},
                                e.der);
                 },
                 [&](const CertificateRevoked& e) { apply_revoked(e.serial, e.reason, e.revoked_at_ms); },
                 [&](const CertificateRequested& e) { requests_[e.id].request = e; },
                 [&](const RequestApproved& e) {
                   auto& r = requests_[e.id];
                   r.status = "approved";
                   r.decided_by = e.approved_by;
                   r.decided_at_ms = e.approved_at_ms;
                   r.serial = e.serial;
                 },
                 [&](const RequestRejected& e) {
                   auto& r = requests_[e.id];
                   r.status = "rejected";
                   r.decided_by = e.rejected_by;
                   r.decided_at_ms = e.rejected_at_ms;
                   r.reason = e.reason;
                 },
                 [&](const auto& e) { apply_key_roll(e); },
             },
             event);
}

void CertAuth::apply_issued(const IssuedFields& f, std::string_view der) {
  CertificateIndex::Position p = index_.add(f, events_applied_);
  // The few certificates the CA itself serves keep their DER at hand.
  if (!f.child_ca.empty()) {
    children_[std::string(f.child_ca)] = std::string(f.serial);
    index_.keep_der(p, std::string(der));
  }
  if (f.profile == kOcspResponderProfile) {
    ocsp_responder_serial_ = std::string(f.serial);
    index_.keep_der(p, std::string(der));
  }
}

void CertAuth::apply_revoked(std::string_view serial, int reason, int64_t revoked_at_ms) {
  CertificateIndex::Position p = index_.find(serial);
  if (p != CertificateIndex::kNone) index_.revoke(p, revoked_at_ms, reason);
}

// ---- process ------------------------------------------------------------

std::vector<CaEvent> CertAuth::process(const CaCommand& command, const CommandMeta& meta,
                                       CaContext& ctx) const {
  // Commands may run on another caller's thread (AggregateStore runs them
  // in turns): errors that thread left in OpenSSL's queue are not ours.
  ERR_clear_error();
  return std::visit(
      Overloaded{
          [&](const CreateRootCa& c) { return create_root(c, meta, ctx); },
          [&](const CreateIntermediateCa& c) { return create_intermediate(c, ctx); },
          [&](const CertifyChildCa& c) { return certify_child(c, meta, ctx); },
          [&](const InstallCaCertificate& c) { return install_certificate(c, ctx); },
          [&](const IssueCertificate& c) { return issue(c, meta, ctx); },
          [&](const RevokeCertificate& c) { return revoke(c, meta); },
          [&](const RevokeCertificates& c) { return revoke_many(c, meta); },
          [&](const ApproveRequest& c) { return approve(c, meta, ctx); },
          [&](const RejectRequest& c) { return reject(c, meta); },
          [&](const IssueOcspResponder& c) { return issue_ocsp_responder(c, meta, ctx); },
          [&](const StartKeyRoll&) { return start_key_roll(meta, ctx); },
          [&](const ActivateKeyRoll&) { return activate_key_roll(meta); },
          [&](const RetireKey& c) { return retire_key(c, meta); },
      },
      command);
}

void CertAuth::require_active(int64_t now_ms) const {
  if (!initialised()) throw Error(ErrorKind::NotFound, kNotFoundCode, "the CA does not exist");
  if (!active())
    throw Error(ErrorKind::Conflict, "ca_not_active",
                "CA '" + handle_ + "' has no certificate from its parent yet");
  if (now_ms >= ca_not_after_ms_)
    throw Error(ErrorKind::Conflict, "ca_expired", "CA '" + handle_ + "' has expired");
}

std::string CertAuth::fresh_serial() const {
  for (;;) {
    std::string s = random_serial();
    if (index_.find(s) == CertificateIndex::kNone) return s;
  }
}

NewCaKey CertAuth::new_ca_key(const std::string& handle, const std::string& subject_text,
                              const std::string& algorithm, CaContext& ctx) const {
  if (initialised())
    throw Error(ErrorKind::Conflict, "ca_exists", "CA '" + handle_ + "' already exists");
  validate_aggregate_id(handle);
  NewCaKey k;
  k.subject = parse_subject(subject_text);
  if (X509_NAME_entry_count(k.subject.get()) == 0)
    throw Error(ErrorKind::InvalidInput, "invalid_subject", "a CA needs a subject name");
  k.algorithm = key_algorithm_name(parse_key_algorithm(algorithm));
  k.key_id = ctx.signer.create_key(parse_key_algorithm(algorithm));
  k.public_key = parse_public_key_der(ctx.signer.public_key_der(k.key_id));
  return k;
}

std::vector<CaEvent> CertAuth::create_root(const CreateRootCa& c, const CommandMeta& m,
                                           CaContext& ctx) const {
  check_ca_validity(c.validity_days);
  NewCaKey k = new_ca_key(c.handle, c.subject, c.algorithm, ctx);
  CertificateTemplate t;
  t.serial = random_serial();
  t.subject = k.subject.get();
  t.subject_public_key_der = ctx.signer.public_key_der(k.key_id);
  t.not_before_ms = truncate_to_second(m.time_ms);
  t.not_after_ms = t.not_before_ms + c.validity_days * kMsPerDay;
  t.basic_constraints = "critical,CA:TRUE";
  t.key_usage = "critical,keyCertSign,cRLSign,digitalSignature";
  std::string der = build_certificate(t, ctx.signer, k.key_id);

  CaCreated created{c.handle, CaKind::Root, k.key_id, k.algorithm, format_name(k.subject.get()), "", "", ""};
  return {created, CaCertificateInstalled{der, t.not_before_ms, t.not_after_ms}};
}

std::vector<CaEvent> CertAuth::create_intermediate(const CreateIntermediateCa& c,
                                                   CaContext& ctx) const {
  validate_aggregate_id(c.parent);
  if (c.parent == c.handle && c.parent_url.empty())
    throw Error(ErrorKind::InvalidInput, "invalid_parent", "a CA cannot be its own parent");
  NewCaKey k = new_ca_key(c.handle, c.subject, c.algorithm, ctx);
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), k.subject.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), k.public_key.get()) != 1)
    throw_openssl(ErrorKind::Internal, "csr_build_failed", "cannot build the CA's CSR");
  ctx.signer.sign(k.key_id, req.get());

  return {CaCreated{c.handle, CaKind::Intermediate, k.key_id, k.algorithm, format_name(k.subject.get()),
                    c.parent, to_der(req.get()), c.parent_url}};
}

std::vector<CaEvent> CertAuth::certify_child(const CertifyChildCa& c, const CommandMeta& m,
                                             CaContext& ctx) const {
  require_active(m.time_ms);
  validate_aggregate_id(c.child);
  check_ca_validity(c.validity_days);
  X509ReqPtr req = parse_csr_object(c.csr_der);
  EVP_PKEY* child_key = X509_REQ_get0_pubkey(req.get());
  if (!child_key || X509_REQ_verify(req.get(), child_key) != 1) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, "csr_signature_invalid",
                "the child CA's CSR does not verify");
  }
  describe_public_key(child_key);
  CertificateTemplate t;
  t.subject = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_entry_count(t.subject) == 0)
    throw Error(ErrorKind::InvalidInput, "invalid_subject", "a CA needs a subject name");
  t.subject_public_key_der = public_key_der(child_key);
  t.basic_constraints = "critical,CA:TRUE";
  t.key_usage = "critical,keyCertSign,cRLSign,digitalSignature";
  CertificateIssued e = sign_certificate(t, c.validity_days * kMsPerDay, "sub-ca", m, ctx);
  auto previous = children_.find(c.child);
  if (previous != children_.end()) e.replaces = previous->second;
  e.child_ca = c.child;
  return {e};
}

void CertAuth::complete_template(CertificateTemplate& t, const LeafIssuer& issuer, const std::string& serial,
                                 int64_t validity_ms, int64_t time_ms, const CaContext& ctx) {
  t.serial = serial;
  t.issuer = issuer.certificate.get();
  t.not_before_ms = std::max(truncate_to_second(time_ms) - kBackdateMs, issuer.not_before_ms);
  // Never beyond the issuer's own notAfter (RFC 5280 path validation).
  t.not_after_ms = std::min(truncate_to_second(time_ms) + validity_ms, issuer.not_after_ms);
  t.ca_issuers_url = ca_issuers_url(ctx, issuer.handle, issuer.key_generation);
  if (!t.ocsp_no_check) {  // RFC 6960 4.2.2.2.1: a nocheck responder names no status source
    t.crl_url = crl_url(ctx, issuer.handle, issuer.key_generation);
    t.ocsp_url = ocsp_url(ctx, issuer.handle);
  }
}

CertAuth::LeafIssuer CertAuth::as_issuer() const {
  return LeafIssuer{handle_, key_id_, key_generation_, shared_certificate(ca_cert_der_), ca_not_before_ms_,
                    ca_not_after_ms_};
}

std::optional<CertAuth::LeafIssuer> CertAuth::leaf_issuer(int64_t now_ms) const {
  if (!initialised() || !active() || now_ms >= ca_not_after_ms_) return std::nullopt;
  return as_issuer();
}

CertificateIssued CertAuth::issued_event(const CertificateTemplate& t, std::string der, const std::string& profile,
                                         const CommandMeta& m) const {
  CertificateIssued e;
  e.der = std::move(der);
  e.serial = t.serial;
  e.profile = profile;
  e.subject = format_name(t.subject);
  e.not_before_ms = t.not_before_ms;
  e.not_after_ms = t.not_after_ms;
  e.issuer_key_id = key_id_;
  e.issued_at_ms = m.time_ms;
  e.requested_by = m.actor;
  return e;
}

CertificateIssued CertAuth::sign_certificate(CertificateTemplate& t, int64_t validity_ms,
                                             const std::string& profile, const CommandMeta& m,
                                             CaContext& ctx) const {
  complete_template(t, as_issuer(), fresh_serial(), validity_ms, m.time_ms, ctx);
  return issued_event(t, build_certificate(t, ctx.signer, key_id_), profile, m);
}

std::vector<CaEvent> CertAuth::install_certificate(const InstallCaCertificate& c,
                                                   CaContext& ctx) const {
  if (!initialised()) throw Error(ErrorKind::NotFound, kNotFoundCode, "the CA does not exist");
  if (kind_ != CaKind::Intermediate)
    throw Error(ErrorKind::Conflict, "not_intermediate", "only intermediate CAs receive certificates");
  if (c.der == ca_cert_der_) return {};  // already installed: a no-op
  X509Ptr cert = parse_certificate(c.der);
  if (pending_key() && public_key_der(X509_get0_pubkey(cert.get())) == ctx.signer.public_key_der(pending_key_.key_id))
    return install_staged(c, cert.get());
  if (public_key_der(X509_get0_pubkey(cert.get())) != ctx.signer.public_key_der(key_id_))
    throw Error(ErrorKind::Conflict, "certificate_key_mismatch",
                "the certificate is not for this CA's key");
  if (X509_check_ca(cert.get()) == 0)
    throw Error(ErrorKind::Conflict, "not_a_ca_certificate", "the certificate is not a CA certificate");
  return {CaCertificateInstalled{c.der, from_asn1_time(X509_get0_notBefore(cert.get())),
                                 from_asn1_time(X509_get0_notAfter(cert.get()))}};
}

std::vector<CaEvent> CertAuth::issue(const IssueCertificate& c, const CommandMeta& m,
                                     CaContext& ctx) const {
  const Profile& profile = ctx.profiles.find(c.profile);
  const std::string& requester = c.owner.empty() ? m.actor : c.owner;
  if (!profile.requires_approval) return {issue_for(c, requester, m, ctx)};
  if (c.server_generated_key)
    throw Error(ErrorKind::PolicyViolation, "approval_needs_csr",
                "profile '" + profile.name + "' needs approval; send a CSR (a server-generated key "
                "cannot be kept until the request is approved)");
  // Everything a certificate would be checked for is checked now, so an
  // operator only ever approves requests that can be issued.
  CheckedIssue checked = check_issue(c, requester, m.time_ms, ctx, "");
  CertificateRequested r = new_request(c, m);
  r.requested_by = requester;
  r.sans = checked.sans;
  return {r};
}

CertAuth::CheckedIssue CertAuth::prepare_issue(const IssueCertificate& c, const CaContext& ctx) {
  // CaManager only passes keys it checked (a CSR's key verified its
  // signature; a generated key), so the structure is enough here.
  auto key = read_public_key_info(c.public_key_der);
  if (!key)
    throw Error(ErrorKind::InvalidInput, "invalid_public_key", "not a valid DER public key");
  CheckedIssue out{ctx.profiles.find(c.profile), 0, c.sans, parse_subject(c.subject), std::move(*key), ""};
  out.days = c.validity_days == 0 ? out.profile.default_validity_days : c.validity_days;
  out.sans.normalize();
  out.profile.check(out.sans, common_name(out.subject.get()), describe_public_key_info(out.key), out.days);
  if (X509_NAME_entry_count(out.subject.get()) == 0 && out.sans.empty())
    throw Error(ErrorKind::PolicyViolation, "empty_identity",
                "a certificate needs a subject or at least one subject alternative name");
  return out;
}

CertAuth::CheckedIssue CertAuth::check_issue(const IssueCertificate& c, const std::string& requester,
                                             int64_t now_ms, const CaContext& ctx,
                                             const std::string& approving) const {
  require_active(now_ms);
  CheckedIssue out = prepare_issue(c, ctx);
  check_requester_limit(out.profile, requester, c.replaces, now_ms, approving);
  out.replaces = check_renewal(c.replaces);
  return out;
}

CertificateTemplate CertAuth::leaf_template(const CheckedIssue& checked) {
  CertificateTemplate t;
  t.subject = checked.subject.get();
  t.subject_public_key_der = checked.key.der;
  t.basic_constraints = "critical,CA:FALSE";
  t.key_usage = checked.profile.key_usage(checked.key.algorithm_nid == NID_rsaEncryption);
  t.extended_key_usage = checked.profile.extended_key_usage;
  t.sans = &checked.sans;
  return t;
}

std::shared_ptr<const PresignedCertificate> CertAuth::presign(const IssueCertificate& c, const LeafIssuer& issuer,
                                                              const CommandMeta& m, CaContext& ctx) {
  try {
    if (ctx.profiles.find(c.profile).requires_approval) return nullptr;
    CheckedIssue checked = prepare_issue(c, ctx);
    CertificateTemplate t = leaf_template(checked);
    complete_template(t, issuer, random_serial(), checked.days * kMsPerDay, m.time_ms, ctx);
    UnsignedCertificate u = prepare_certificate(t, ctx.signer, issuer.key_id);
    auto out = std::make_shared<PresignedCertificate>();
    out->key_id = issuer.key_id;
    out->serial = t.serial;
    out->signature = ctx.signer.sign_bytes(issuer.key_id, u.tbs);
    out->tbs = std::move(u.tbs);
    return out;
  } catch (const std::exception&) {
    return nullptr;  // the command finds and reports whatever it was
  }
}

CertificateIssued CertAuth::issue_for(const IssueCertificate& c, const std::string& requester,
                                      const CommandMeta& m, CaContext& ctx,
                                      const std::string& approving) const {
  CheckedIssue checked = check_issue(c, requester, m.time_ms, ctx, approving);
  CertificateTemplate t = leaf_template(checked);
  const LeafIssuer issuer = as_issuer();
  const int64_t validity_ms = checked.days * kMsPerDay;
  const PresignedCertificate* presigned = c.presigned.get();
  if (presigned && (presigned->key_id != key_id_ || index_.find(presigned->serial) != CertificateIndex::kNone))
    presigned = nullptr;
  UnsignedCertificate u;
  if (presigned) {
    complete_template(t, issuer, presigned->serial, validity_ms, m.time_ms, ctx);
    u = prepare_certificate(t, ctx.signer, key_id_);
    // Not the same bytes: the CA changed. A fresh serial then, so this key
    // never signs two certificates with one serial.
    if (u.tbs != presigned->tbs) presigned = nullptr;
  }
  if (!presigned) {
    complete_template(t, issuer, fresh_serial(), validity_ms, m.time_ms, ctx);
    u = prepare_certificate(t, ctx.signer, key_id_);
  }
  CertificateIssued e = issued_event(
      t, presigned ? certificate_from(u, presigned->signature) : signed_certificate(u, ctx.signer, key_id_),
      checked.profile.name, m);
  e.replaces = checked.replaces;
  e.requested_by = requester;
  return e;
}

std::vector<CaEvent> CertAuth::revoke(const RevokeCertificate& c, const CommandMeta& m) const {
  if (!initialised()) throw Error(ErrorKind::NotFound, kNotFoundCode, "the CA does not exist");
  if (!is_valid_revocation_reason(c.reason))
    throw Error(ErrorKind::InvalidInput, "invalid_reason", "unsupported revocation reason code");
  CertificateIndex::Position p = index_.find(c.serial);
  if (p == CertificateIndex::kNone)
    throw Error(ErrorKind::NotFound, "certificate_not_found",
                "certificate " + c.serial + " was not issued by CA '" + handle_ + "'");
  if (index_.at(p).revoked)
    throw Error(ErrorKind::Conflict, "already_revoked",
                "certificate " + c.serial + " is already revoked");
  return {CertificateRevoked{c.serial, c.reason, truncate_to_second(m.time_ms)}};
}

std::vector<CaEvent> CertAuth::revoke_many(const RevokeCertificates& c, const CommandMeta& m) const {
  if (c.serials.empty() || c.serials.size() > kMaxBulkRevocations)
    throw Error(ErrorKind::InvalidInput, "invalid_serials",
                "give between 1 and " + std::to_string(kMaxBulkRevocations) + " serials");
  std::vector<CaEvent> events;
  events.reserve(c.serials.size());
  std::set<std::string> seen;
  for (const auto& serial : c.serials) {
    if (!seen.insert(serial).second)
      throw Error(ErrorKind::InvalidInput, "duplicate_serial", "certificate " + serial + " is listed twice");
    auto one = revoke(RevokeCertificate{serial, c.reason}, m);
    events.insert(events.end(), std::make_move_iterator(one.begin()), std::make_move_iterator(one.end()));
  }
  return events;
}

IssuedCertificate IssuedCertificate::from_event(const CertificateIssued& e, uint64_t event_version) {
  IssuedCertificate c;
  c.serial = e.serial;
  c.event_version = event_version;
  c.profile = e.profile;
  c.subject = e.subject;
  c.not_before_ms = e.not_before_ms;
  c.not_after_ms = e.not_after_ms;
  c.issued_at_ms = e.issued_at_ms;
  c.replaces = e.replaces;
  c.child_ca = e.child_ca;
  c.issuer_key_id = e.issuer_key_id;
  c.requested_by = e.requested_by;
  return c;
}

}  // namespace cairn
