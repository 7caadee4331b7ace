// CertAuth — the aggregate for one certificate authority.
//
// Commands are requests; events are facts. process() decides (and signs,
// through the Signer in the context) and returns events; apply() is the pure
// state transition used both live and when replaying. Replaying never signs.
// The state never holds private keys, only key ids.
// Thread-safety: none of its own; AggregateStore serialises access.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/certificate_index.h"
#include "core/public_key_info.h"
#include "core/signer.h"
#include "core/subject_alt_names.h"
#include "eventstore/aggregate_store.h"

namespace cairn {

struct CertificateTemplate;
struct Profile;
class ProfileCatalog;

enum class CaKind : uint8_t { Root = 0, Intermediate = 1 };
std::string ca_kind_name(CaKind kind);

// ---- events -------------------------------------------------------------
struct CaCreated {
  std::string handle;
  CaKind kind = CaKind::Root;
  std::string key_id;
  std::string algorithm;
  std::string subject;
  std::string parent;   // intermediates only
  std::string csr_der;  // intermediates only: the request sent to the parent
  std::string parent_url;  // a parent on another cairn server (v2); empty: local
};
struct CaCertificateInstalled {
  std::string der;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
};
struct CertificateIssued {
  std::string serial;
  std::string der;
  std::string profile;   // "sub-ca" for child CA certificates
  std::string subject;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  std::string replaces;  // serial this one renews, if any
  std::string child_ca;  // handle of the child CA it certifies, if any
  std::string issuer_key_id;
  int64_t issued_at_ms = 0;
  std::string requested_by;  // actor of the command (v2); owner for service tokens
};
struct CertificateRevoked {
  std::string serial;
  int reason = 0;
  int64_t revoked_at_ms = 0;
};
// A certificate whose profile needs approval waits as a request.
struct CertificateRequested {
  std::string id;  // 16 hex digits
  std::string requested_by;
  int64_t requested_at_ms = 0;
  std::string subject;
  SubjectAltNames sans;
  std::string public_key_der;
  std::string profile;
  int validity_days = 0;
  std::string replaces;
};
// Followed, in the same command, by the CertificateIssued it led to.
struct RequestApproved {
  std::string id;
  std::string approved_by;
  int64_t approved_at_ms = 0;
  std::string serial;
};
struct RequestRejected {
  std::string id;
  std::string rejected_by;
  int64_t rejected_at_ms = 0;
  std::string reason;
};
// Key rollover (Krill-style): a new key and its CSR; the parent's
// certificate for it (staged, published, not yet used); activation (the new
// key signs from now on, the old one keeps signing the CRL of what it
// issued); retirement once the last certificate of the old key expired.
struct KeyRollStarted {
  std::string key_id;
  std::string csr_der;
};
struct StagedCertificateInstalled {
  std::string der;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
};
struct KeyRollActivated {
  int generation = 0;  // of the new key; the CA's first key is generation 0
};
struct KeyRetired {
  int generation = 0;
};
// New alternatives go at the end: the index is part of the stored encoding.
using CaEvent = std::variant<CaCreated, CaCertificateInstalled, CertificateIssued, CertificateRevoked,
                             CertificateRequested, RequestApproved, RequestRejected, KeyRollStarted,
                             StagedCertificateInstalled, KeyRollActivated, KeyRetired>;
std::string event_type_name(const CaEvent& e);

// ---- commands -----------------------------------------------------------
struct CreateRootCa {
  std::string handle;
  std::string subject;
  std::string algorithm;
  int validity_days = 3650;
};
struct CreateIntermediateCa {
  std::string handle;
  std::string subject;
  std::string algorithm;
  std::string parent;      // the parent's handle (on parent_url's server if set)
  std::string parent_url;  // base URL of a remote cairn server; empty: local
};
struct CertifyChildCa {
  std::string child;
  std::string csr_der;
  int validity_days = 1825;
};
struct InstallCaCertificate {
  std::string der;
};
// A signature made before the command took the CA's lock, by
// CertAuth::presign only. Never stored: the command uses it only if the
// certificate it would sign now has exactly these to-be-signed bytes, with
// this serial, and the CA's key is still `key_id`.
struct PresignedCertificate {
  std::string key_id;     // the CA key that signed
  std::string serial;
  std::string tbs;        // TBSCertificate DER
  std::string signature;  // over `tbs`
};
struct IssueCertificate {
  std::string public_key_der;
  std::string subject;
  SubjectAltNames sans;
  std::string profile;
  int validity_days = 0;  // 0: the profile's default
  std::string replaces;
  bool server_generated_key = false;
  std::string owner;  // who owns the certificate (requested_by); empty: the command's actor
  std::shared_ptr<const PresignedCertificate> presigned;  // optional, see above
};
struct RevokeCertificate {
  std::string serial;
  int reason = 0;
};
// Revokes several certificates in one command (one new CRL for all of them,
// as after a key compromise); all or nothing: one unknown or already revoked
// serial rejects the command. At most kMaxBulkRevocations serials.
struct RevokeCertificates {
  std::vector<std::string> serials;
  int reason = 0;
};
inline constexpr size_t kMaxBulkRevocations = 100000;
struct ApproveRequest {
  std::string id;
};
struct RejectRequest {
  std::string id;
  std::string reason;  // free text, at most 512 characters
};
// A delegated OCSP responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-
// nocheck) for a fresh key the server keeps. A no-op while the current one
// has at least half of `validity_hours` left, or already lasts as long as
// the CA itself; so it may be sent as often as liked.
struct IssueOcspResponder {
  int validity_hours = 168;
};
struct StartKeyRoll {};
struct ActivateKeyRoll {};
// Refused while a certificate of that key is unexpired.
struct RetireKey {
  int generation = 0;
};
using CaCommand = std::variant<CreateRootCa, CreateIntermediateCa, CertifyChildCa,
                               InstallCaCertificate, IssueCertificate, RevokeCertificate,
                               ApproveRequest, RejectRequest, IssueOcspResponder, StartKeyRoll,
                               ActivateKeyRoll, RetireKey, RevokeCertificates>;

struct CaContext {
  Signer& signer;
  std::string public_url;  // base for CRL DP and AIA URLs; empty: none
  const ProfileCatalog& profiles;
};

// ---- state --------------------------------------------------------------
// One issued certificate as its index entry describes it (a copy). Its DER
// is in the event log, at `event_version`.
struct IssuedCertificate {
  std::string serial;
  uint64_t event_version = 0;  // of its CertificateIssued event
  std::string profile;
  std::string subject;
  int64_t not_before_ms = 0;
  int64_t not_after_ms = 0;
  int64_t issued_at_ms = 0;
  std::string replaces;
  std::string replaced_by;
  std::string child_ca;
  std::string issuer_key_id;
  std::string requested_by;
  bool revoked = false;
  int64_t revoked_at_ms = 0;
  int revocation_reason = 0;

  // A fresh (valid, not yet replaced) certificate as its event describes it.
  static IssuedCertificate from_event(const CertificateIssued& e, uint64_t event_version);
};

struct PendingRequest {
  CertificateRequested request;
  std::string status = "pending";  // "pending", "approved", "rejected"
  std::string decided_by;
  int64_t decided_at_ms = 0;
  std::string serial;  // approved: the certificate issued
  std::string reason;  // rejected: why
};

// A key being rolled in: its CSR, and once the parent answered, its
// certificate (staged until activation).
struct PendingKey {
  std::string key_id;
  std::string csr_der;
  std::string staged_der;
  int64_t staged_not_before_ms = 0;
  int64_t staged_not_after_ms = 0;
};

// A key rolled out: it still signs the CRL for the certificates it issued.
struct RetiringKey {
  int generation = 0;
  std::string key_id;
  std::string ca_cert_der;
  int64_t ca_not_after_ms = 0;
};

// A freshly generated CA key with the validated subject it is for.
struct NewCaKey {
  X509NamePtr subject;
  std::string algorithm;
  std::string key_id;
  EvpPkeyPtr public_key;
};

class CertAuth {
 public:
  static constexpr const char* kType = "ca";
  static constexpr const char* kNotFoundCode = "ca_not_found";
  using Command = CaCommand;
  using Event = CaEvent;
  using Context = CaContext;

  void apply(const CaEvent& event);
  // apply(decode_event(payload)), reading certificate issuance and
  // revocation events in place (no copies); other events, and any payload
  // not in the expected layout, go through decode_event.
  void apply_encoded(std::string_view payload);
  // apply_encoded() of consecutive events, in order, with the index memory
  // they will touch requested ahead (a replay is otherwise bound by one
  // cache miss per certificate).
  void apply_encoded_batch(const std::vector<std::string_view>& payloads);
  std::vector<CaEvent> process(const CaCommand& command, const CommandMeta& meta,
                               CaContext& ctx) const;

  static std::string encode_event(const CaEvent& e);
  static CaEvent decode_event(std::string_view bytes);
  static std::string command_summary(const CaCommand& c);
  static std::string command_params_json(const CaCommand& c);
  static std::string event_json(const CaEvent& e);
  static std::string encode_snapshot(const CertAuth& state);
  // The same bytes appended to `out` (the store writes them in place).
  static void encode_snapshot_to(const CertAuth& state, std::string& out);
  static CertAuth decode_snapshot(std::string_view bytes);
  // The snapshot AggregateStore stores: the same state, with the
  // certificate index in pieces (CertificateIndex::encode_pieced), so that
  // a large CA's snapshot writes only the chunks that changed since the
  // last one. decode_snapshot() with the pieces reads both forms and throws
  // Error snapshot_incomplete when a piece is missing or not the one named;
  // forget_snapshot_pieces() after pieces were not stored after all.
  static void encode_snapshot_pieces(CertAuth& state, std::string& out, SnapshotPieceSink& pieces);
  static CertAuth decode_snapshot(std::string_view bytes, const SnapshotPieceSource& pieces);
  static void forget_snapshot_pieces(CertAuth& state);
  // The state as readable JSON (auditors' replay output); no DER bodies.
  std::string state_json(int64_t at_ms) const;

  // cert_auth_codec.cpp. Loading a snapshot older than class version 6
  // (which kept every certificate's DER and no event versions) throws
  // Error "snapshot_outdated": the caller replays the events instead.
  template <class Ar>
  void save(Ar& ar, std::uint32_t const version) const;
  template <class Ar>
  void load(Ar& ar, std::uint32_t const version);

  bool initialised() const { return !handle_.empty(); }
  bool active() const { return !ca_cert_der_.empty(); }
  const std::string& handle() const { return handle_; }
  CaKind kind() const { return kind_; }
  const std::string& key_id() const { return key_id_; }
  const std::string& algorithm() const { return algorithm_; }
  const std::string& subject() const { return subject_; }
  const std::string& parent() const { return parent_; }
  const std::string& parent_url() const { return parent_url_; }
  const std::string& csr_der() const { return csr_der_; }
  const std::string& ca_cert_der() const { return ca_cert_der_; }
  int64_t ca_not_before_ms() const { return ca_not_before_ms_; }
  int64_t ca_not_after_ms() const { return ca_not_after_ms_; }
  // Every certificate issued, compactly (revocation order included).
  const CertificateIndex& certificates() const { return index_; }
  // Events applied so far: the version of the latest one.
  uint64_t events_applied() const { return events_applied_; }
  const std::map<std::string, std::string>& children() const { return children_; }
  const std::map<std::string, PendingRequest>& requests() const { return requests_; }
  std::optional<IssuedCertificate> find(const std::string& serial) const;
  IssuedCertificate describe(CertificateIndex::Position p) const;
  // The DER of a child CA's certificates (its serial's), or null.
  const std::string* child_certificate_der(const std::string& serial) const;
  int key_generation() const { return key_generation_; }
  const PendingKey* pending_key() const { return pending_key_.key_id.empty() ? nullptr : &pending_key_; }
  const std::map<int, RetiringKey>& retiring_keys() const { return retiring_; }
  // The latest notAfter of the certificates `key_id` issued (0: none).
  int64_t last_expiry_of_key(const std::string& key_id) const;
  // The newest delegated OCSP responder certificate, if any, and its DER.
  std::optional<IssuedCertificate> ocsp_responder() const;
  const std::string* ocsp_responder_der() const;
  // Whether IssueOcspResponder would issue a new one now: there is none that
  // is valid and signed by the current key, or it has less than half of
  // `validity_hours` left and a new one would last longer.
  bool ocsp_responder_due(int64_t now_ms, int validity_hours) const;
  static constexpr const char* kOcspResponderProfile = "ocsp-responder";

  // Signing a leaf outside the CA's lock (CaManager, before the command).
  // LeafIssuer is what a leaf's certificate takes from its CA, copied under
  // the lock; leaf_issuer() is nullopt when the CA cannot issue at `now_ms`.
  struct LeafIssuer {
    std::string handle;
    std::string key_id;
    int key_generation = 0;
    std::shared_ptr<const X509> certificate;
    int64_t not_before_ms = 0;
    int64_t not_after_ms = 0;
  };
  std::optional<LeafIssuer> leaf_issuer(int64_t now_ms) const;
  // The certificate the command `c` (at m.time_ms) would issue if the CA
  // were still `issuer` and the fresh serial unused, signed. Null when the
  // command would not issue directly (approval, invalid input, policy):
  // the command itself then decides and reports, as without it. issue_for()
  // builds its certificate as always and takes this one's signature only if
  // the to-be-signed bytes are identical, so a CA that changed in between
  // (a new key, certificate or URL) or a reused serial costs one signature.
  // Thread-safety: touches no CA state; the Signer is thread-safe.
  static std::shared_ptr<const PresignedCertificate> presign(const IssueCertificate& c, const LeafIssuer& issuer,
                                                             const CommandMeta& m, CaContext& ctx);

 private:
  std::vector<CaEvent> create_root(const CreateRootCa& c, const CommandMeta& m, CaContext& ctx) const;
  std::vector<CaEvent> create_intermediate(const CreateIntermediateCa& c, CaContext& ctx) const;
  std::vector<CaEvent> certify_child(const CertifyChildCa& c, const CommandMeta& m, CaContext& ctx) const;
  std::vector<CaEvent> install_certificate(const InstallCaCertificate& c, CaContext& ctx) const;
  std::vector<CaEvent> issue(const IssueCertificate& c, const CommandMeta& m, CaContext& ctx) const;
  std::vector<CaEvent> revoke(const RevokeCertificate& c, const CommandMeta& m) const;
  std::vector<CaEvent> revoke_many(const RevokeCertificates& c, const CommandMeta& m) const;
  std::vector<CaEvent> issue_ocsp_responder(const IssueOcspResponder& c, const CommandMeta& m,
                                            CaContext& ctx) const;  // cert_auth_ocsp.cpp
  // cert_auth_keyroll.cpp
  std::vector<CaEvent> start_key_roll(const CommandMeta& m, CaContext& ctx) const;
  std::vector<CaEvent> activate_key_roll(const CommandMeta& m) const;
  std::vector<CaEvent> retire_key(const RetireKey& c, const CommandMeta& m) const;
  std::vector<CaEvent> install_staged(const InstallCaCertificate& c, const X509* cert) const;
  void apply_key_roll(const CaEvent& event);
  void apply_issued(const IssuedFields& fields, std::string_view der);
  void apply_revoked(std::string_view serial, int reason, int64_t revoked_at_ms);
  // cert_auth_requests.cpp
  std::vector<CaEvent> approve(const ApproveRequest& c, const CommandMeta& m, CaContext& ctx) const;
  std::vector<CaEvent> reject(const RejectRequest& c, const CommandMeta& m) const;
  CertificateRequested new_request(const IssueCertificate& c, const CommandMeta& m) const;
  const PendingRequest& pending_request(const std::string& id) const;
  // An issuance checked against the profile and the CA's state, ready to sign.
  struct CheckedIssue {
    const Profile& profile;
    int days;
    SubjectAltNames sans;  // normalised
    X509NamePtr subject;
    PublicKeyInfo key;
    std::string replaces;  // checked renewable, or ""
  };
  // The checks that depend on the command and the profiles only (key,
  // names, validity, profile rules); check_issue() adds the CA's state.
  static CheckedIssue prepare_issue(const IssueCertificate& c, const CaContext& ctx);
  // Serial, issuer, validity (capped by the issuer's) and URLs of a
  // certificate `issuer` signs at `time_ms`.
  static void complete_template(CertificateTemplate& t, const LeafIssuer& issuer, const std::string& serial,
                                int64_t validity_ms, int64_t time_ms, const CaContext& ctx);
  // The template of a leaf certificate (points into `checked`).
  static CertificateTemplate leaf_template(const CheckedIssue& checked);
  // `approving`: the request being approved, which does not count against
  // the requester's limit.
  CheckedIssue check_issue(const IssueCertificate& c, const std::string& requester, int64_t now_ms,
                           const CaContext& ctx, const std::string& approving) const;
  // check_issue(), then signs; the certificate is owned by `requester`.
  CertificateIssued issue_for(const IssueCertificate& c, const std::string& requester,
                              const CommandMeta& m, CaContext& ctx,
                              const std::string& approving = "") const;
  // The serial a renewal replaces ("" for none), checked to be renewable.
  std::string check_renewal(const std::string& replaces) const;
  // Valid certificates and pending requests of this requester and profile
  // (the one a renewal replaces and the one being approved not counted).
  void check_requester_limit(const Profile& profile, const std::string& requester,
                             const std::string& replaces, int64_t now_ms,
                             const std::string& approving = "") const;
  NewCaKey new_ca_key(const std::string& handle, const std::string& subject,
                      const std::string& algorithm, CaContext& ctx) const;
  // This CA as the issuer of a certificate (whether active or not).
  LeafIssuer as_issuer() const;
  // The event for certificate `der` made from `t`, issued to m.actor.
  CertificateIssued issued_event(const CertificateTemplate& t, std::string der, const std::string& profile,
                                 const CommandMeta& m) const;
  // Fills serial, issuer, validity (capped by this CA's) and URLs, signs.
  CertificateIssued sign_certificate(CertificateTemplate& t, int64_t validity_ms,
                                     const std::string& profile, const CommandMeta& m,
                                     CaContext& ctx) const;
  void require_active(int64_t now_ms) const;
  std::string fresh_serial() const;

  std::string handle_;
  CaKind kind_ = CaKind::Root;
  std::string key_id_;
  std::string algorithm_;
  std::string subject_;
  std::string parent_;
  std::string csr_der_;
  std::string ca_cert_der_;
  int64_t ca_not_before_ms_ = 0;
  int64_t ca_not_after_ms_ = 0;
  uint64_t events_applied_ = 0;
  CertificateIndex index_;
  std::map<std::string, std::string> children_;  // child handle -> current serial
  std::map<std::string, PendingRequest> requests_;  // by request id
  std::string ocsp_responder_serial_;  // newest delegated responder certificate
  std::string parent_url_;
  int key_generation_ = 0;
  PendingKey pending_key_;  // key_id empty: no rollover in progress
  std::map<int, RetiringKey> retiring_;
};

}  // namespace cairn
