// CertAuth: key rollover for intermediates, in the manner of Krill. A new
// key is made and certified by the parent (staged and published, not yet
// used), then activated: from then on it signs; the old key keeps signing
// the CRL for the certificates it issued until the last of them expires,
// when it is retired (and its CA certificate revoked at the parent by the
// background task that asks for RetireKey).
#include "core/cert_auth.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/x509_time.h"

namespace cairn {

template <class... Fs>
struct KeyRollVisitor : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
KeyRollVisitor(Fs...) -> KeyRollVisitor<Fs...>;

int64_t CertAuth::last_expiry_of_key(const std::string& key_id) const {
  return index_.last_expiry_of_key(key_id);
}

void CertAuth::apply_key_roll(const CaEvent& event) {
  std::visit(KeyRollVisitor{
                 [&](const KeyRollStarted& e) { pending_key_ = PendingKey{e.key_id, e.csr_der, "", 0, 0}; },
                 [&](const StagedCertificateInstalled& e) {
                   pending_key_.staged_der = e.der;
                   pending_key_.staged_not_before_ms = e.not_before_ms;
                   pending_key_.staged_not_after_ms = e.not_after_ms;
                 },
                 [&](const KeyRollActivated& e) {
                   retiring_[key_generation_] = RetiringKey{key_generation_, key_id_, ca_cert_der_, ca_not_after_ms_};
                   key_id_ = pending_key_.key_id;
                   csr_der_ = pending_key_.csr_der;
                   ca_cert_der_ = pending_key_.staged_der;
                   ca_not_before_ms_ = pending_key_.staged_not_before_ms;
                   ca_not_after_ms_ = pending_key_.staged_not_after_ms;
                   key_generation_ = e.generation;
                   pending_key_ = PendingKey{};
                 },
                 [&](const KeyRetired& e) { retiring_.erase(e.generation); },
                 [](const auto&) {},
             },
             event);
}

std::vector<CaEvent> CertAuth::start_key_roll(const CommandMeta& m, CaContext& ctx) const {
  require_active(m.time_ms);
  if (kind_ == CaKind::Root)
    throw Error(ErrorKind::Conflict, "key_roll_root",
                "a root's key is not rolled: relying parties trust that exact key; create a new root instead");
  if (pending_key())
    throw Error(ErrorKind::Conflict, "key_roll_in_progress", "CA '" + handle_ + "' is already rolling its key");
  std::string key_id = ctx.signer.create_key(parse_key_algorithm(algorithm_));
  EvpPkeyPtr public_key = parse_public_key_der(ctx.signer.public_key_der(key_id));
  X509NamePtr subject = parse_subject(subject_);
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), public_key.get()) != 1)
    throw_openssl(ErrorKind::Internal, "csr_build_failed", "cannot build the new key's CSR");
  ctx.signer.sign(key_id, req.get());
  return {KeyRollStarted{key_id, to_der(req.get())}};
}

std::vector<CaEvent> CertAuth::install_staged(const InstallCaCertificate& c, const X509* cert) const {
  if (c.der == pending_key_.staged_der) return {};  // already staged: a no-op
  if (X509_check_ca(const_cast<X509*>(cert)) == 0)
    throw Error(ErrorKind::Conflict, "not_a_ca_certificate", "the certificate is not a CA certificate");
  return {StagedCertificateInstalled{c.der, from_asn1_time(X509_get0_notBefore(cert)),
                                     from_asn1_time(X509_get0_notAfter(cert))}};
}

std::vector<CaEvent> CertAuth::activate_key_roll(const CommandMeta& m) const {
  require_active(m.time_ms);
  if (!pending_key())
    throw Error(ErrorKind::Conflict, "no_key_roll", "CA '" + handle_ + "' is not rolling its key (cairn keyroll init)");
  if (pending_key_.staged_der.empty())
    throw Error(ErrorKind::Conflict, "key_roll_not_staged",
                "the new key of '" + handle_ + "' has no certificate from the parent yet (cairn task list)");
  if (m.time_ms >= pending_key_.staged_not_after_ms)
    throw Error(ErrorKind::Conflict, "ca_expired", "the new key's certificate has expired");
  return {KeyRollActivated{key_generation_ + 1}};
}

std::vector<CaEvent> CertAuth::retire_key(const RetireKey& c, const CommandMeta& m) const {
  if (!initialised()) throw Error(ErrorKind::NotFound, kNotFoundCode, "the CA does not exist");
  auto it = retiring_.find(c.generation);
  if (it == retiring_.end())
    throw Error(ErrorKind::NotFound, "key_not_found",
                "CA '" + handle_ + "' has no rolled-out key of generation " + std::to_string(c.generation));
  int64_t last = last_expiry_of_key(it->second.key_id);
  if (m.time_ms < last)
    throw Error(ErrorKind::Conflict, "key_still_needed",
                "certificates of that key are valid until " + iso8601(last) + "; its CRL must go on until then");
  return {KeyRetired{c.generation}};
}

}  // namespace cairn
