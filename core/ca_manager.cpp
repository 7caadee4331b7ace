#include "core/ca_manager.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/certificate_request.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/profile.h"
#include "core/revocation_reason.h"
#include "core/serial_number.h"

namespace cairn {
namespace {

std::string parent_token_name(const std::string& handle) { return "parent-token/" + handle; }
std::string parent_chain_key(const std::string& handle) { return "parentchain/" + handle; }
std::string managed_key_name(const std::string& ca, const std::string& serial) {
  return "managed-key/" + ca + "/" + serial;
}

void check_parent_url(const std::string& url) {
  bool ok = (url.starts_with("http://") || url.starts_with("https://")) && url.size() < 512 && !url.ends_with("/");
  for (char c : url) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok)
    throw Error(ErrorKind::InvalidInput, "invalid_parent_url",
                "parent_url must be the http(s) base URL of the parent's cairn server, without a trailing slash");
}

}  // namespace

CaManager::CaManager(KeyValueStore& kv, Signer& signer, const Clock& clock, CaManagerConfig config)
    : signer_(signer),
      kv_(kv),
      clock_(clock),
      config_(std::move(config)),
      profiles_(config_.profiles ? config_.profiles : std::make_shared<const ProfileCatalog>()),
      store_(kv, clock) {
  store_.set_snapshot_interval(config_.snapshot_interval);
}

CommandMeta CaManager::meta(const std::string& actor) const {
  CommandMeta m;
  m.actor = actor;
  m.time_ms = clock_.now_ms();
  return m;
}

CaView CaManager::view_of(const CertAuth& ca, uint64_t version) const {
  CaView v;
  v.handle = ca.handle();
  v.kind = ca_kind_name(ca.kind());
  v.status = !ca.active() ? "pending" : (clock_.now_ms() >= ca.ca_not_after_ms() ? "expired" : "active");
  v.subject = ca.subject();
  v.parent = ca.parent();
  v.key_id = ca.key_id();
  v.algorithm = ca.algorithm();
  v.not_before_ms = ca.ca_not_before_ms();
  v.not_after_ms = ca.ca_not_after_ms();
  v.certificate_der = ca.ca_cert_der();
  for (const auto& [child, serial] : ca.children()) v.children.push_back(child);
  v.issued_count = ca.certificates().size();
  v.revoked_count = ca.certificates().revoked_count();
  v.version = version;
  v.key_generation = ca.key_generation();
  if (const PendingKey* p = ca.pending_key()) {
    v.key_roll = p->staged_der.empty() ? "pending" : "staged";
    v.staged_certificate_der = p->staged_der;
  }
  for (const auto& [generation, key] : ca.retiring_keys()) v.retiring_generations.push_back(generation);
  return v;
}

CaView CaManager::start_key_roll(const std::string& actor, const std::string& ca) {
  validate_aggregate_id(ca);
  CaContext ctx = context();
  store_.process(ca, StartKeyRoll{}, meta(actor), ctx);
  return get_ca(ca);
}

CaView CaManager::activate_key_roll(const std::string& actor, const std::string& ca) {
  validate_aggregate_id(ca);
  CaContext ctx = context();
  store_.process(ca, ActivateKeyRoll{}, meta(actor), ctx);
  return get_ca(ca);
}

void CaManager::retire_key(const std::string& actor, const std::string& ca, int generation) {
  validate_aggregate_id(ca);
  CaContext ctx = context();
  store_.process(ca, RetireKey{generation}, meta(actor), ctx);
}

std::string CaManager::certificate_of_generation(const std::string& ca, int generation) {
  return store_.read(ca, [&](const CertAuth& state, uint64_t) -> std::string {
    if (generation == state.key_generation()) return state.ca_cert_der();
    auto it = state.retiring_keys().find(generation);
    if (it == state.retiring_keys().end())
      throw Error(ErrorKind::NotFound, "key_not_found",
                  "CA '" + ca + "' has no key of generation " + std::to_string(generation) + " in service");
    return it->second.ca_cert_der;
  });
}

CertificateView CaManager::view_of(const std::string& ca, const IssuedCertificate& c) const {
  CertificateView v;
  v.ca = ca;
  v.serial = c.serial;
  v.subject = c.subject;
  v.profile = c.profile;
  v.status = c.revoked ? "revoked" : (clock_.now_ms() >= c.not_after_ms ? "expired" : "valid");
  v.not_before_ms = c.not_before_ms;
  v.not_after_ms = c.not_after_ms;
  v.issued_at_ms = c.issued_at_ms;
  v.replaces = c.replaces;
  v.replaced_by = c.replaced_by;
  v.child_ca = c.child_ca;
  v.requested_by = c.requested_by;
  if (c.revoked) {
    v.revoked_at_ms = c.revoked_at_ms;
    v.revocation_reason = revocation_reason_name(c.revocation_reason);
  }
  return v;
}

std::string CaManager::issued_der(const std::string& ca, uint64_t event_version) const {
  std::optional<EventRecord> record = store_.log().event(ca, event_version);
  if (!record)
    throw Error(ErrorKind::Internal, "corrupt_history",
                "ca/" + ca + " has no event " + std::to_string(event_version));
  CaEvent event = CertAuth::decode_event(record->payload);
  auto* issued = std::get_if<CertificateIssued>(&event);
  if (!issued)
    throw Error(ErrorKind::Internal, "corrupt_history",
                "ca/" + ca + " event " + std::to_string(event_version) + " issued no certificate");
  return std::move(issued->der);
}

CaView CaManager::create_ca(const std::string& actor, const CreateCaRequest& r) {
  validate_aggregate_id(r.handle);
  parse_key_algorithm(r.algorithm);
  parse_subject(r.subject);
  if (store_.exists(r.handle))
    throw Error(ErrorKind::Conflict, "ca_exists", "CA '" + r.handle + "' already exists");
  CaContext ctx = context();
  if (r.parent.empty()) {
    CreateRootCa c{r.handle, r.subject, r.algorithm, r.validity_days ? r.validity_days : 3650};
    store_.process(r.handle, c, meta(actor), ctx);
    return get_ca(r.handle);
  }
  validate_aggregate_id(r.parent);
  store_.read(r.parent, [&](const CertAuth& parent, uint64_t) {
    if (!parent.active())
      throw Error(ErrorKind::Conflict, "ca_not_active",
                  "parent CA '" + r.parent + "' has no certificate yet");
    return 0;
  });
  CreateIntermediateCa c{r.handle, r.subject, r.algorithm, r.parent, ""};
  store_.process(r.handle, c, meta(actor), ctx);
  int days = r.validity_days ? r.validity_days : 1825;
  std::string csr = store_.read(r.handle, [](const CertAuth& ca, uint64_t) { return ca.csr_der(); });
  auto issued = store_.process(r.parent, CertifyChildCa{r.handle, csr, days}, meta(actor), ctx);
  const auto& event = std::get<CertificateIssued>(issued.events.at(0));
  store_.process(r.handle, InstallCaCertificate{event.der}, meta(actor), ctx);
  return get_ca(r.handle);
}

CaView CaManager::create_ca(const std::string& actor, const CreateCaRequest& r, const RemoteParent& remote) {
  validate_aggregate_id(r.handle);
  validate_aggregate_id(r.parent);
  parse_key_algorithm(r.algorithm);
  parse_subject(r.subject);
  check_parent_url(remote.url);
  if (remote.token.empty() || remote.token.size() > 512)
    throw Error(ErrorKind::InvalidInput, "missing_field", "a remote parent needs the token it gave for this CA");
  if (store_.exists(r.handle))
    throw Error(ErrorKind::Conflict, "ca_exists", "CA '" + r.handle + "' already exists");
  signer_.store_secret(parent_token_name(r.handle), remote.token);
  CaContext ctx = context();
  store_.process(r.handle, CreateIntermediateCa{r.handle, r.subject, r.algorithm, r.parent, remote.url}, meta(actor),
                 ctx);
  return get_ca(r.handle);
}

CaView CaManager::certify_pending(const std::string& actor, const std::string& handle) {
  CaContext ctx = context();
  auto [parent, csr, active, remote] = store_.read(handle, [](const CertAuth& ca, uint64_t) {
    return std::make_tuple(ca.parent(), ca.csr_der(), ca.active(), !ca.parent_url().empty());
  });
  if (active) return get_ca(handle);
  if (remote)
    throw Error(ErrorKind::Conflict, "remote_parent",
                "'" + handle + "' has a parent on another server; the sync-parent task asks it (cairn task list)");
  if (parent.empty())
    throw Error(ErrorKind::Conflict, "not_intermediate", "'" + handle + "' has no parent");
  auto issued = store_.process(parent, CertifyChildCa{handle, csr, 1825}, meta(actor), ctx);
  const auto& event = std::get<CertificateIssued>(issued.events.at(0));
  store_.process(handle, InstallCaCertificate{event.der}, meta(actor), ctx);
  return get_ca(handle);
}

ChildCertificate CaManager::certify_remote_child(const std::string& actor, const std::string& parent,
                                                const std::string& child, const std::string& csr_der,
                                                int validity_days) {
  validate_aggregate_id(parent);
  validate_aggregate_id(child);
  X509ReqPtr csr = parse_csr_object(csr_der);
  std::string csr_key = public_key_der(X509_REQ_get0_pubkey(csr.get()));
  // The reuse check and the issuance below happen under one lock, so two
  // overlapping requests (a child's retry after a timeout) issue only once.
  std::lock_guard lock(certify_mutex_);
  int64_t now = clock_.now_ms();
  std::string current = store_.read(parent, [&](const CertAuth& ca, uint64_t) -> std::string {
    auto it = ca.children().find(child);
    if (it == ca.children().end()) return "";
    std::optional<IssuedCertificate> c = ca.find(it->second);
    const std::string* der = ca.child_certificate_der(it->second);
    if (!c || !der || c->revoked || c->issuer_key_id != ca.key_id() || now >= c->not_after_ms) return "";
    if (c->not_after_ms - now <= (c->not_after_ms - c->not_before_ms) / 2) return "";
    X509Ptr cert = parse_certificate(*der);
    return public_key_der(X509_get0_pubkey(cert.get())) == csr_key ? *der : "";
  });
  ChildCertificate out;
  if (current.empty()) {
    CaContext ctx = context();
    auto issued = store_.process(parent, CertifyChildCa{child, to_der(csr.get()), validity_days}, meta(actor), ctx);
    current = std::get<CertificateIssued>(issued.events.at(0)).der;
  }
  out.certificate_der = current;
  out.chain_pem = ca_chain_pem(parent);
  return out;
}

CaView CaManager::install_parent_certificate(const std::string& actor, const std::string& handle,
                                             const std::string& der, const std::string& parent_chain_pem) {
  CaContext ctx = context();
  if (!parent_chain_pem.empty()) parse_certificate_chain(parent_chain_pem);  // well-formed, nothing else
  store_.process(handle, InstallCaCertificate{der}, meta(actor), ctx);
  // Kept only once the certificate was accepted; a failure here leaves the
  // chain to the next sync-parent run.
  if (!parent_chain_pem.empty()) {
    WriteBatch b;
    b.put(parent_chain_key(handle), parent_chain_pem);
    kv_.write(b, Durability::Sync);
  }
  return get_ca(handle);
}

std::optional<std::string> CaManager::parent_token(const std::string& handle) {
  return signer_.secret(parent_token_name(handle));
}

std::string CaManager::stored_parent_chain(const std::string& handle) const {
  return kv_.get(parent_chain_key(handle)).value_or("");
}

std::vector<CaView> CaManager::list_cas() {
  std::vector<CaView> out;
  for (const auto& id : store_.ids())
    out.push_back(store_.read(id, [&](const CertAuth& ca, uint64_t v) { return view_of(ca, v); }));
  return out;
}

CaView CaManager::get_ca(const std::string& handle) {
  return store_.read(handle, [&](const CertAuth& ca, uint64_t v) { return view_of(ca, v); });
}

CaManager::ChainLink CaManager::ChainLink::of(const CertAuth& ca) {
  return ChainLink{ca.ca_cert_der(), ca.parent(), !ca.parent_url().empty()};
}

std::string CaManager::ca_chain_pem(const std::string& handle) {
  ChainLink link = store_.read(handle, [](const CertAuth& ca, uint64_t) { return ChainLink::of(ca); });
  return chain_pem_from(handle, link);
}

std::string CaManager::chain_pem_from(const std::string& handle, const ChainLink& link, int depth) {
  if (link.der.empty())
    throw Error(ErrorKind::Conflict, "ca_not_active", "CA '" + handle + "' has no certificate yet");
  std::string pem = certificate_pem(link.der);
  if (link.remote) return pem + stored_parent_chain(handle);
  if (link.parent.empty() || depth >= 15 || !store_.exists(link.parent)) return pem;
  ChainLink up = store_.read(link.parent, [](const CertAuth& ca, uint64_t) { return ChainLink::of(ca); });
  return pem + chain_pem_from(link.parent, up, depth + 1);
}

IssueResult CaManager::issue(const std::string& actor, const std::string& ca,
                             const IssueRequest& request, const IssueCheck& check) {
  return issue_command(actor, ca, request, "", check);
}

IssueResult CaManager::renew(const std::string& actor, const std::string& ca,
                             const std::string& serial, const IssueRequest& request,
                             const IssueCheck& check) {
  return renew_command(actor, ca, serial, request, check, false);
}

IssueResult CaManager::renew_for_owner(const std::string& actor, const std::string& ca,
                                       const std::string& serial, const IssueRequest& request,
                                       const IssueCheck& check) {
  return renew_command(actor, ca, serial, request, check, true);
}

IssueResult CaManager::renew_command(const std::string& actor, const std::string& ca, const std::string& serial,
                                     const IssueRequest& request, const IssueCheck& check, bool keep_owner) {
  std::string normalized = normalize_serial(serial);
  IssueRequest r = request;
  auto old = get_certificate(ca, normalized);
  if (r.profile.empty()) r.profile = old.profile;
  // A server-generated key renews the same identity unless told otherwise;
  // with a CSR the names come from the new CSR.
  if (r.csr.empty() && !r.key_type.empty()) {
    if (r.subject.empty()) r.subject = old.subject;
    if (!r.sans) r.sans = old.sans;
  }
  return issue_command(actor, ca, r, normalized, check, keep_owner ? old.requested_by : "");
}

IssueResult CaManager::issue_command(const std::string& actor, const std::string& ca,
                                     const IssueRequest& request, const std::string& replaces,
                                     const IssueCheck& check, const std::string& owner) {
  validate_aggregate_id(ca);
  if (!store_.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  const std::string profile = request.profile.empty() ? "server" : request.profile;
  profiles_->find(profile);
  if (request.validity_days < 0)
    throw Error(ErrorKind::InvalidInput, "invalid_validity", "validity must be positive");

  IssueCertificate cmd;
  cmd.profile = profile;
  cmd.validity_days = request.validity_days;
  cmd.replaces = replaces;
  cmd.owner = owner;
  EvpPkeyPtr generated;
  if (!request.csr.empty()) {
    if (!request.key_type.empty())
      throw Error(ErrorKind::InvalidInput, "conflicting_fields", "give either a CSR or a key type, not both");
    CertificateRequest csr = parse_certificate_request(request.csr);
    cmd.public_key_der = csr.public_key_der;
    cmd.subject = request.subject.empty() ? csr.subject : request.subject;
    cmd.sans = request.sans ? *request.sans : csr.sans;
  } else if (!request.key_type.empty()) {
    generated = generate_key(parse_key_algorithm(request.key_type));
    cmd.public_key_der = public_key_der(generated.get());
    cmd.subject = request.subject;
    cmd.sans = request.sans ? *request.sans : SubjectAltNames{};
    cmd.server_generated_key = true;
  } else {
    throw Error(ErrorKind::InvalidInput, "missing_field", "a CSR or a key type is required");
  }
  if (request.keep_key && !generated)
    throw Error(ErrorKind::InvalidInput, "conflicting_fields", "keep_key needs key_type (a key the server makes)");
  cmd.sans.normalize();   // syntax errors are input errors, not policy decisions
  parse_subject(cmd.subject);
  if (check) check(ca, cmd);

  CaContext ctx = context();
  const CommandMeta m = meta(actor);
  // Signed before the CA's lock, so that issuances on one CA sign in
  // parallel (CertAuth::presign).
  std::shared_ptr<const CertAuth::LeafIssuer> hint = leaf_issuer_hint(ca, m.time_ms);
  if (hint) cmd.presigned = CertAuth::presign(cmd, *hint, m, ctx);
  ChainLink issuer;
  std::optional<CertAuth::LeafIssuer> issuer_now;
  AggregateStore<CertAuth>::Outcome outcome;
  try {
    outcome = store_.process(ca, cmd, m, ctx, [&](const CertAuth& s) {
      issuer = ChainLink::of(s);
      if (!hint || hint->key_id != s.key_id() || hint->key_generation != s.key_generation() ||
          hint->not_after_ms != s.ca_not_after_ms())
        issuer_now = s.leaf_issuer(m.time_ms);
    });
  } catch (...) {
    forget_leaf_issuer(ca, hint);
    throw;
  }
  if (const auto* requested = std::get_if<CertificateRequested>(&outcome.events.at(0))) {
    IssueResult result;
    result.pending = get_request(ca, requested->id);
    return result;
  }
  const auto& issued = std::get<CertificateIssued>(outcome.events.at(0));
  settle_presign(ca, cmd, issued, hint, std::move(issuer_now));
  if (request.keep_key) {
    // After the command: a failure here loses only the kept copy, never the
    // certificate, and the key is still returned to the caller.
    std::string pem = private_key_pem(generated.get());
    try {
      signer_.store_secret(managed_key_name(ca, issued.serial), pem);
    } catch (const std::exception& e) {
      spdlog::error("certificate {} of '{}': the key could not be kept: {}", issued.serial, ca, e.what());
    }
    OPENSSL_cleanse(pem.data(), pem.size());
  }
  return issued_result(ca, issued, generated, issuer);
}

std::optional<std::string> CaManager::managed_key_pem(const std::string& ca, const std::string& serial) {
  validate_aggregate_id(ca);
  return signer_.secret(managed_key_name(ca, normalize_serial(serial)));
}

std::shared_ptr<const CertAuth::LeafIssuer> CaManager::leaf_issuer_hint(const std::string& ca, int64_t now_ms) {
  std::shared_ptr<const CertAuth::LeafIssuer> hint;
  {
    std::lock_guard lock(leaf_issuers_mutex_);
    auto it = leaf_issuers_.find(ca);
    if (it != leaf_issuers_.end()) hint = it->second;
  }
  if (!hint) {  // the first issuance on this CA since the start
    auto now = store_.peek(ca, [&](const CertAuth& s) { return s.leaf_issuer(now_ms); });
    if (!now || !*now) return nullptr;
    hint = std::make_shared<const CertAuth::LeafIssuer>(std::move(**now));
    remember_leaf_issuer(ca, hint);
  }
  return now_ms < hint->not_after_ms ? hint : nullptr;
}

void CaManager::remember_leaf_issuer(const std::string& ca, std::shared_ptr<const CertAuth::LeafIssuer> issuer) {
  std::lock_guard lock(leaf_issuers_mutex_);
  leaf_issuers_[ca] = std::move(issuer);
}

void CaManager::forget_leaf_issuer(const std::string& ca, const std::shared_ptr<const CertAuth::LeafIssuer>& hint) {
  if (!hint) return;
  std::lock_guard lock(leaf_issuers_mutex_);
  auto it = leaf_issuers_.find(ca);
  if (it != leaf_issuers_.end() && it->second == hint) leaf_issuers_.erase(it);  // not a newer one
}

void CaManager::settle_presign(const std::string& ca, const IssueCertificate& cmd, const CertificateIssued& issued,
                               const std::shared_ptr<const CertAuth::LeafIssuer>& hint,
                               std::optional<CertAuth::LeafIssuer> issuer_now) {
  if (issuer_now) {  // the CA's issuer as this command left it: the next hint
    remember_leaf_issuer(ca, std::make_shared<const CertAuth::LeafIssuer>(std::move(*issuer_now)));
  } else if (cmd.presigned && issued.serial != cmd.presigned->serial) {
    forget_leaf_issuer(ca, hint);  // it no longer matches, in a way the checks above do not see
  }
  if (!cmd.presigned) return;
  if (issued.serial == cmd.presigned->serial) ++presigned_used_;
  else ++presigned_discarded_;
}

IssueResult CaManager::issued_result(const std::string& ca, const CertificateIssued& event,
                                     const EvpPkeyPtr& generated, const ChainLink& issuer) {
  IssueResult result;
  // From the durable event itself: its view needs no second read of the CA.
  result.certificate = view_of(ca, IssuedCertificate::from_event(event, 0));
  result.certificate.der = event.der;
  result.certificate.sans = SubjectAltNames::from_certificate_der(event.der);
  result.chain_pem = certificate_pem(event.der) + chain_pem_from(ca, issuer);
  if (generated) result.private_key_pem = private_key_pem(generated.get());
  return result;
}

bool CaManager::ensure_ocsp_responder(const std::string& actor, const std::string& ca, int validity_hours) {
  validate_aggregate_id(ca);
  CaContext ctx = context();
  return !store_.process(ca, IssueOcspResponder{validity_hours}, meta(actor), ctx).events.empty();
}

size_t CaManager::revoke_many(const std::string& actor, const std::string& ca,
                              const std::vector<std::string>& serials, const std::string& reason) {
  validate_aggregate_id(ca);
  RevokeCertificates cmd;
  cmd.reason = parse_revocation_reason(reason.empty() ? "unspecified" : reason);
  cmd.serials.reserve(serials.size());
  for (const auto& s : serials) cmd.serials.push_back(normalize_serial(s));
  if (!store_.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  CaContext ctx = context();
  return store_.process(ca, cmd, meta(actor), ctx).events.size();
}

CertificateView CaManager::revoke(const std::string& actor, const std::string& ca,
                                  const std::string& serial, const std::string& reason) {
  validate_aggregate_id(ca);
  RevokeCertificate cmd{normalize_serial(serial),
                        parse_revocation_reason(reason.empty() ? "unspecified" : reason)};
  if (!store_.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  CaContext ctx = context();
  store_.process(ca, cmd, meta(actor), ctx);
  return get_certificate(ca, cmd.serial);
}

std::vector<CertificateView> CaManager::list_certificates(const std::string& ca,
                                                          const CertificateFilter& filter) {
  std::vector<uint64_t> event_versions;
  auto out = store_.read(ca, [&](const CertAuth& state, uint64_t) {
    std::vector<CertificateView> views;
    const CertificateIndex& index = state.certificates();
    std::optional<uint32_t> profile;
    if (!filter.profile.empty()) {
      profile = index.profile_id(filter.profile);
      if (!profile) return views;
    }
    for (CertificateIndex::Position p = 0; p < index.size(); ++p) {
      if (profile && index.at(p).profile != *profile) continue;
      IssuedCertificate c = state.describe(p);
      auto v = view_of(ca, c);
      if (!filter.status.empty() && v.status != filter.status) continue;
      views.push_back(std::move(v));
      event_versions.push_back(c.event_version);
    }
    return views;
  });
  if (filter.with_der)
    for (size_t i = 0; i < out.size(); ++i) out[i].der = issued_der(ca, event_versions[i]);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.issued_at_ms != b.issued_at_ms ? a.issued_at_ms < b.issued_at_ms : a.serial < b.serial;
  });
  return out;
}

CertificateView CaManager::get_certificate(const std::string& ca, const std::string& serial) {
  std::string normalized = normalize_serial(serial);
  uint64_t event_version = 0;
  auto view = store_.read(ca, [&](const CertAuth& state, uint64_t) {
    std::optional<IssuedCertificate> c = state.find(normalized);
    if (!c)
      throw Error(ErrorKind::NotFound, "certificate_not_found",
                  "certificate " + normalized + " was not issued by CA '" + ca + "'");
    event_version = c->event_version;
    return view_of(ca, *c);
  });
  view.der = issued_der(ca, event_version);
  view.sans = SubjectAltNames::from_certificate_der(view.der);
  return view;
}

}  // namespace cairn
