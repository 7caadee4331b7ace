// CaManager — the facade api/ and the scheduler call for everything a CA does.
//
// It validates and parses requests (malformed input never reaches the
// aggregate), turns them into CertAuth commands with the actor and time, and
// returns plain views. Creating an intermediate under a local parent runs
// three commands: the child creates its key and CSR, the parent certifies it,
// the child installs the certificate; if the parent step fails the child
// stays "pending" and the error is reported.
// Listeners (CaObjectsStore, message queue) register on store().
// Thread-safety: all methods may be called concurrently.
// Ownership: borrows the KeyValueStore, Signer and Clock.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/cert_auth.h"
#include "core/profile.h"

namespace cairn {

struct CaManagerConfig {
  std::string public_url;  // e.g. "http://127.0.0.1:8080"; empty: no CRL DP / AIA
  uint64_t snapshot_interval = 500;  // events between CA snapshots; 0: none
  std::shared_ptr<const ProfileCatalog> profiles;  // null: the built-in profiles
};

struct CaView {
  std::string handle;
  std::string kind;
  std::string status;  // "active", "pending", "expired"
  std::string subject;
  std::string parent;
  std::string key_id;
  std::string algorithm;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::string certificate_der;
  std::vector<std::string> children;
  size_t issued_count = 0;
  size_t revoked_count = 0;
  uint64_t version = 0;
  int key_generation = 0;
  std::string key_roll;                 // "", "pending" (waiting for the parent), "staged"
  std::string staged_certificate_der;   // the new key's certificate while staged
  std::vector<int> retiring_generations;  // rolled-out keys still signing CRLs
};

struct CertificateView {
  std::string ca;
  std::string serial;
  std::string subject;
  std::string profile;
  std::string status;  // "valid", "revoked", "expired"
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  int64_t issued_at_ms = 0;
  std::string replaces;
  std::string replaced_by;
  std::string child_ca;
  std::string requested_by;
  int64_t revoked_at_ms = 0;
  std::string revocation_reason;
  std::string der;
  SubjectAltNames sans;
};

struct CreateCaRequest {
  std::string handle;
  std::string subject;
  std::string algorithm = "ec-p256";
  std::string parent;      // empty: a root
  int validity_days = 0;   // 0: 3650 for roots, 1825 for intermediates
};

// A parent on another cairn server: its base URL and the token it gave for
// this child (kept in the key store, never in history).
struct RemoteParent {
  std::string url;
  std::string token;
};

// What a parent answers a child's certification request with.
struct ChildCertificate {
  std::string certificate_der;
  std::string chain_pem;  // the parent's chain, up to its root
};

struct IssueRequest {
  std::string csr;         // PEM or DER; or empty with key_type set
  std::string key_type;    // server-side key generation
  std::string subject;     // with key_type (CSR mode: from the CSR)
  std::optional<SubjectAltNames> sans;  // overrides the CSR's names
  std::string profile;      // empty: "server" (renewal: the old profile)
  int validity_days = 0;
  // With key_type: keep the generated key, sealed in the key store, so its
  // owner can fetch it again (managed_key_pem) and services can be renewed
  // automatically. Without it the key is returned once and forgotten.
  bool keep_key = false;
};

// A certificate request waiting for (or decided by) an operator.
struct RequestView {
  std::string ca;
  std::string id;
  std::string status;  // "pending", "approved", "rejected"
  std::string requested_by;
  int64_t requested_at_ms = 0;
  std::string subject;
  SubjectAltNames sans;
  std::string profile;
  int validity_days = 0;
  std::string replaces;
  std::string decided_by;
  int64_t decided_at_ms = 0;
  std::string serial;  // approved
  std::string reason;  // rejected
};

struct IssueResult {
  std::optional<RequestView> pending;  // set instead of a certificate when the profile needs approval
  CertificateView certificate;
  std::string chain_pem;        // leaf, then CAs up to and including the root
  std::string private_key_pem;  // only for server-generated keys; never stored
};

struct CertificateFilter {
  std::string status;  // "", "valid", "revoked", "expired"
  std::string profile;
  bool with_der = false;  // read each certificate's DER from the log (slower)
};

// Called with the complete command just before an issuance or renewal is
// processed (names normalised, profile resolved); throws to refuse it.
using IssueCheck = std::function<void(const std::string& ca, const IssueCertificate& command)>;

class CaManager {
 public:
  CaManager(KeyValueStore& kv, Signer& signer, const Clock& clock, CaManagerConfig config);

  AggregateStore<CertAuth>& store() { return store_; }
  // Issuances whose certificate was signed before the CA's lock and used
  // as is, and those where the CA had changed in between and the command
  // signed again (CertAuth::presign).
  struct PresignStats {
    uint64_t used = 0;
    uint64_t discarded = 0;
  };
  PresignStats presign_stats() const { return {presigned_used_.load(), presigned_discarded_.load()}; }
  const Clock& clock() const { return clock_; }

  CaView create_ca(const std::string& actor, const CreateCaRequest& request);
  // An intermediate under `request.parent` on another server. It stays
  // "pending" until the sync-parent task gets its certificate.
  CaView create_ca(const std::string& actor, const CreateCaRequest& request, const RemoteParent& remote);
  // Retries the parent step for a pending intermediate with a local parent.
  CaView certify_pending(const std::string& actor, const std::string& handle);
  // Parent side of a child on another server: certifies its CSR (the
  // child's current certificate if it is for the same key and has more than
  // half its validity left, so a repeated request issues nothing new).
  ChildCertificate certify_remote_child(const std::string& actor, const std::string& parent,
                                        const std::string& child, const std::string& csr_der, int validity_days);
  // Child side: installs a certificate from its parent (local or remote)
  // and, for a remote parent, keeps the parent's chain for ca_chain_pem().
  CaView install_parent_certificate(const std::string& actor, const std::string& handle, const std::string& der,
                                    const std::string& parent_chain_pem);
  std::optional<std::string> parent_token(const std::string& handle);

  // Key rollover (intermediates): a new key whose certificate the
  // sync-parent task gets; then activation; retire_key() once the old key's
  // certificates have all expired (the key-retire task does this).
  CaView start_key_roll(const std::string& actor, const std::string& ca);
  CaView activate_key_roll(const std::string& actor, const std::string& ca);
  void retire_key(const std::string& actor, const std::string& ca, int generation);
  // The CA certificate of a key generation (current or retiring).
  std::string certificate_of_generation(const std::string& ca, int generation);
  // The private key (PEM) the server keeps for a certificate issued with
  // keep_key; nullopt for any other certificate.
  std::optional<std::string> managed_key_pem(const std::string& ca, const std::string& serial);
  // Secrets kept for other components (webhook secrets), sealed in the key store.
  void store_secret(const std::string& name, const std::string& value) { signer_.store_secret(name, value); }
  std::optional<std::string> secret(const std::string& name) { return signer_.secret(name); }
  std::vector<CaView> list_cas();
  CaView get_ca(const std::string& handle);
  std::string ca_chain_pem(const std::string& handle);

  IssueResult issue(const std::string& actor, const std::string& ca, const IssueRequest& request,
                    const IssueCheck& check = {});
  IssueResult renew(const std::string& actor, const std::string& ca, const std::string& serial,
                    const IssueRequest& request, const IssueCheck& check = {});
  // A renewal asked for by a certificate's own holder (mTLS): the new
  // certificate keeps the owner (requested_by) of the one it replaces.
  IssueResult renew_for_owner(const std::string& actor, const std::string& ca, const std::string& serial,
                              const IssueRequest& request, const IssueCheck& check = {});
  CertificateView revoke(const std::string& actor, const std::string& ca,
                         const std::string& serial, const std::string& reason);
  // Revokes all of `serials` in one command (one CRL), or none; returns how
  // many were revoked.
  size_t revoke_many(const std::string& actor, const std::string& ca, const std::vector<std::string>& serials,
                     const std::string& reason);
  std::vector<CertificateView> list_certificates(const std::string& ca,
                                                 const CertificateFilter& filter);
  CertificateView get_certificate(const std::string& ca, const std::string& serial);
  // The DER of the certificate issued by the event at `event_version` of
  // `ca` (IssuedCertificate::event_version). The CA state keeps no DER.
  std::string issued_der(const std::string& ca, uint64_t event_version) const;

  // Requests for profiles that need approval. status: "" for all.
  std::vector<RequestView> list_requests(const std::string& ca, const std::string& status);
  RequestView get_request(const std::string& ca, const std::string& id);
  // Issues the requested certificate; refused for the requester itself.
  IssueResult approve(const std::string& actor, const std::string& ca, const std::string& id);
  RequestView reject(const std::string& actor, const std::string& ca, const std::string& id,
                     const std::string& reason);

  // Issues a delegated OCSP responder certificate for `ca` if one is due
  // (see IssueOcspResponder); returns whether it did.
  bool ensure_ocsp_responder(const std::string& actor, const std::string& ca, int validity_hours);

  const ProfileCatalog& profiles() const { return *profiles_; }

 private:
  IssueResult issue_command(const std::string& actor, const std::string& ca,
                            const IssueRequest& request, const std::string& replaces,
                            const IssueCheck& check, const std::string& owner = "");
  IssueResult renew_command(const std::string& actor, const std::string& ca, const std::string& serial,
                            const IssueRequest& request, const IssueCheck& check, bool keep_owner);
  CaView view_of(const CertAuth& ca, uint64_t version) const;
  CertificateView view_of(const std::string& ca, const IssuedCertificate& c) const;
  CommandMeta meta(const std::string& actor) const;
  CaContext context() { return CaContext{signer_, config_.public_url, *profiles_}; }
  // What a CA's chain starts with: its certificate and where its parent is.
  struct ChainLink {
    std::string der;
    std::string parent;
    bool remote = false;
    static ChainLink of(const CertAuth& ca);
  };
  // `link`'s certificate, then its parent's chain (read from the parent, or
  // the stored chain of a remote parent), as PEM.
  std::string chain_pem_from(const std::string& handle, const ChainLink& link, int depth = 0);
  // `issuer`: the issuing CA as the command left it (no second read).
  IssueResult issued_result(const std::string& ca, const CertificateIssued& event,
                            const EvpPkeyPtr& generated, const ChainLink& issuer);

  std::string stored_parent_chain(const std::string& handle) const;

  std::mutex certify_mutex_;  // one child certification at a time: a retry never issues twice
  // What issuances of each CA are presigned with (CertAuth::presign): a hint
  // taken from the CA under its lock by the last issuance, possibly stale.
  std::shared_ptr<const CertAuth::LeafIssuer> leaf_issuer_hint(const std::string& ca, int64_t now_ms);
  void remember_leaf_issuer(const std::string& ca, std::shared_ptr<const CertAuth::LeafIssuer> issuer);
  // Drops `hint` if it is still the CA's (a failed or re-signed issuance).
  void forget_leaf_issuer(const std::string& ca, const std::shared_ptr<const CertAuth::LeafIssuer>& hint);
  // After an issuance: keeps the issuer the command saw as the next hint, or
  // drops a hint that proved stale; counts the presigned signature.
  void settle_presign(const std::string& ca, const IssueCertificate& cmd, const CertificateIssued& issued,
                      const std::shared_ptr<const CertAuth::LeafIssuer>& hint,
                      std::optional<CertAuth::LeafIssuer> issuer_now);
  std::mutex leaf_issuers_mutex_;
  std::map<std::string, std::shared_ptr<const CertAuth::LeafIssuer>> leaf_issuers_;
  std::atomic<uint64_t> presigned_used_{0};
  std::atomic<uint64_t> presigned_discarded_{0};
  Signer& signer_;
  KeyValueStore& kv_;
  const Clock& clock_;
  CaManagerConfig config_;
  std::shared_ptr<const ProfileCatalog> profiles_;
  AggregateStore<CertAuth> store_;
};

}  // namespace cairn
