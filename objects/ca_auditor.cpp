#include "objects/ca_auditor.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "core/encoding.h"
#include "core/serial_number.h"
#include "core/x509_time.h"
#include "eventstore/history_verifier.h"
#include "eventstore/snapshot_pieces.h"
#include "objects/ca_objects_store.h"

namespace cairn {
namespace {

// KeyValueStore is only read here; AggregateLog wants a non-const store
// because it also builds batches, which the auditor never writes.
AggregateLog ca_log(const KeyValueStore& kv) {
  return AggregateLog(const_cast<KeyValueStore&>(kv), CertAuth::kType);
}

std::optional<std::string> check_issued(const CertAuth& before, const CertificateIssued& e) {
  if (!before.active()) return "certificate " + e.serial + " was issued before the CA had a certificate";
  if (e.issuer_key_id != before.key_id())
    return "certificate " + e.serial + " names issuing key " + e.issuer_key_id + ", not the CA's key";
  X509Ptr cert, issuer;
  try {
    cert = parse_certificate(e.der);
    issuer = parse_certificate(before.ca_cert_der());
  } catch (const Error& err) {
    return "certificate " + e.serial + " cannot be parsed: " + err.what();
  }
  if (X509_verify(cert.get(), X509_get0_pubkey(issuer.get())) != 1) {
    ERR_clear_error();
    return "certificate " + e.serial + " is not signed by the CA certificate active when it was issued";
  }
  if (serial_of(cert.get()) != e.serial) return "certificate " + e.serial + " carries another serial";
  if (X509_check_issued(issuer.get(), cert.get()) != X509_V_OK)
    return "certificate " + e.serial + " does not name the CA as its issuer";
  return std::nullopt;
}

std::optional<std::string> check_installed(const CertAuth& before, const CaCertificateInstalled& e) {
  X509Ptr cert;
  try {
    cert = parse_certificate(e.der);
  } catch (const Error& err) {
    return std::string("the CA certificate cannot be parsed: ") + err.what();
  }
  if (before.kind() == CaKind::Root) {
    if (X509_verify(cert.get(), X509_get0_pubkey(cert.get())) != 1) {
      ERR_clear_error();
      return std::string("the root certificate's self-signature does not verify");
    }
    return std::nullopt;
  }
  X509ReqPtr csr = parse_csr_object(before.csr_der());
  if (public_key_der(X509_get0_pubkey(cert.get())) != public_key_der(X509_REQ_get0_pubkey(csr.get())))
    return std::string("the installed CA certificate is not for the CA's own key");
  return std::nullopt;
}

std::optional<std::string> check_crl(const KeyValueStore& kv, const std::string& ca, const CertAuth& state) {
  auto object = read_crl_object(kv, ca);
  if (!state.active()) return std::nullopt;  // a pending CA publishes nothing yet
  if (!object) return std::string("the CA has no CRL");
  X509CrlPtr crl;
  try {
    crl = parse_crl(object->der);
  } catch (const Error& err) {
    return std::string("the CRL cannot be parsed: ") + err.what();
  }
  X509Ptr issuer = parse_certificate(state.ca_cert_der());
  if (X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer.get())) != 1) {
    ERR_clear_error();
    return std::string("the CRL is not signed by the CA");
  }
  int64_t this_update = from_asn1_time(X509_CRL_get0_lastUpdate(crl.get()));
  std::set<std::string> listed, expected;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    BignumPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr));
    char* hex = BN_bn2hex(bn.get());
    listed.insert(normalize_serial(hex));
    OPENSSL_free(hex);
  }
  const CertificateIndex& index = state.certificates();
  for (CertificateIndex::Position p : index.revocation_order())
    if (index.at(p).not_after_ms > this_update) expected.insert(index.serial(index.at(p)));
  for (const auto& s : expected)
    if (!listed.count(s)) return "the CRL does not list revoked certificate " + s;
  for (const auto& s : listed)
    if (!expected.count(s)) return "the CRL lists " + s + ", which is not a revoked, unexpired certificate";
  return std::nullopt;
}

// Replays one CA, checking every step. Returns the first problem.
std::optional<std::string> audit_ca(const KeyValueStore& kv, const AggregateLog& log, const std::string& id,
                                    AuditReport& report) {
  HistoryStats stats;
  if (auto p = verify_history(log, id, &stats)) return p->describe();
  report.events += stats.events;
  report.commands += stats.commands;

  auto snapshot = log.snapshot(id);
  // A snapshot written before the current CertAuth encoding is not loaded
  // by the server (it replays the events instead): only its hash is checked.
  // Its pieces are read and checked against their digests; a missing one is
  // a problem (the server would replay instead of loading it).
  std::optional<CertAuth> snapshot_state;
  if (snapshot) {
    try {
      snapshot_state = CertAuth::decode_snapshot(snapshot->state, KvSnapshotPieceSource(kv, log.prefix(id)));
    } catch (const Error& e) {
      if (e.code() != "snapshot_outdated") return "ca/" + id + " snapshot: " + e.what();
      ++report.outdated_snapshots;
    }
  }
  CertAuth state;
  std::optional<std::string> problem;
  log.for_each_event(id, 1, [&](const EventRecord& r) {
    CaEvent event;
    try {
      event = CertAuth::decode_event(r.payload);
    } catch (const Error& e) {
      problem = "ca/" + id + " event " + std::to_string(r.version) + ": " + e.what();
      return false;
    }
    std::optional<std::string> step;
    if (const auto* issued = std::get_if<CertificateIssued>(&event)) {
      step = state.find(issued->serial) ? "serial " + issued->serial + " was issued twice"
                                        : check_issued(state, *issued);
      ++report.certificates;
    } else if (const auto* installed = std::get_if<CaCertificateInstalled>(&event)) {
      step = check_installed(state, *installed);
    }
    if (step) {
      problem = "ca/" + id + " event " + std::to_string(r.version) + ": " + *step;
      return false;
    }
    state.apply(event);
    if (snapshot && snapshot->version == r.version) {
      if (snapshot->event_hash != r.hash ||
          (snapshot_state && CertAuth::encode_snapshot(*snapshot_state) != CertAuth::encode_snapshot(state))) {
        problem = "ca/" + id + " snapshot at version " + std::to_string(r.version) +
                  " does not equal a replay of the events";
        return false;
      }
      if (snapshot_state) ++report.snapshots;
    }
    return true;
  });
  if (problem) return problem;
  if (snapshot && snapshot->version > log.head(id).version)
    return "ca/" + id + " snapshot claims version " + std::to_string(snapshot->version) + " beyond the history";
  if (snapshot_state) {
    // The state the server loads (snapshot + later events) is the full replay.
    CertAuth loaded = std::move(*snapshot_state);
    log.for_each_event(id, snapshot->version + 1, [&](const EventRecord& r) {
      loaded.apply(CertAuth::decode_event(r.payload));
      return true;
    });
    if (CertAuth::encode_snapshot(loaded) != CertAuth::encode_snapshot(state))
      return "ca/" + id + ": the state loaded from the snapshot differs from a full replay";
  }

  // A parent on another server is audited there.
  if (state.kind() == CaKind::Intermediate && state.active() && state.parent_url().empty() &&
      log.exists(state.parent())) {
    CertAuth parent = replay_ca(kv, state.parent());
    bool certified = false;
    const CertificateIndex& index = parent.certificates();
    for (const auto& [position, der] : index.kept_ders())
      certified = certified || (index.child_ca(position) == id && der == state.ca_cert_der());
    if (!certified) return "ca/" + id + ": its certificate was not issued by its parent '" + state.parent() + "'";
  }
  if (auto p = check_crl(kv, id, state)) return "ca/" + id + " CRL: " + *p;
  if (state.active()) ++report.crls;
  return std::nullopt;
}

}  // namespace

CertAuth replay_ca(const KeyValueStore& kv, const std::string& ca, uint64_t version) {
  auto log = ca_log(kv);
  validate_aggregate_id(ca);
  if (!log.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  CertAuth state;
  log.for_each_event(ca, 1, [&](const EventRecord& r) {
    if (version && r.version > version) return false;
    state.apply(CertAuth::decode_event(r.payload));
    return true;
  });
  return state;
}

AuditReport audit(const KeyValueStore& kv, const AuditOptions& options) {
  AuditReport report;
  auto log = ca_log(kv);
  std::vector<std::string> ids = log.ids();
  std::sort(ids.begin(), ids.end());
  if (!options.only_ca.empty()) {
    if (!log.exists(options.only_ca)) {
      report.problem = "CA '" + options.only_ca + "' does not exist";
      return report;
    }
    ids = {options.only_ca};
  }
  // Every aggregate with records must be listed: a CA dropped from the list
  // would otherwise escape verification.
  if (options.only_ca.empty()) {
    std::optional<std::string> unlisted;
    const std::string prefix = "a/" + std::string(CertAuth::kType) + "/";
    kv.scan(prefix, [&](std::string_view key, std::string_view) {
      std::string_view rest = key.substr(prefix.size());
      std::string id(rest.substr(0, rest.find('/')));
      if (!std::binary_search(ids.begin(), ids.end(), id)) {
        unlisted = id;
        return false;
      }
      return true;
    });
    if (unlisted) {
      report.problem = "ca/" + *unlisted + " has stored records but is missing from the list of CAs (l/" +
                       CertAuth::kType + "/" + *unlisted + ")";
      return report;
    }
  }
  for (const auto& id : ids) {
    ++report.cas;
    if (auto p = audit_ca(kv, log, id, report)) {
      report.problem = p;
      return report;
    }
  }
  std::vector<Checkpoint> checkpoints = stored_checkpoints(kv);
  checkpoints.insert(checkpoints.end(), options.checkpoints.begin(), options.checkpoints.end());
  auto audit_key = stored_audit_public_key(kv);
  for (const auto& cp : checkpoints) {
    std::string label = "checkpoint of " + iso8601(cp.created_ms);
    if (!audit_key || cp.public_key_der != *audit_key) {
      report.problem = label + ": not signed by this store's audit key";
      return report;
    }
    if (auto p = check_checkpoint(cp, {&log})) {
      report.problem = label + ": " + *p;
      return report;
    }
    ++report.checkpoints;
  }
  return report;
}

void export_history(const KeyValueStore& kv, const std::string& only_ca, std::ostream& out) {
  auto log = ca_log(kv);
  std::vector<std::string> ids = log.ids();
  std::sort(ids.begin(), ids.end());
  if (!only_ca.empty()) {
    validate_aggregate_id(only_ca);
    if (!log.exists(only_ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + only_ca + "' does not exist");
    ids = {only_ca};
  }
  for (const auto& id : ids) {
    const std::string aggregate = log.type() + "/" + id;
    log.for_each_command(id, 1, [&](const CommandRecord& c) {
      out << nlohmann::json{{"record", "command"},      {"aggregate", aggregate},
                            {"seq", c.seq},             {"time_ms", c.time_ms},
                            {"actor", c.actor},         {"summary", c.summary},
                            {"params_json", c.params_json}, {"event_versions", c.event_versions},
                            {"ok", c.ok},               {"error_code", c.error_code},
                            {"error_message", c.error_message}, {"hash", to_hex(c.hash)}}
                 .dump()
          << '\n';
      for (uint64_t v : c.event_versions) {
        auto e = log.event(id, v);
        if (!e) throw Error(ErrorKind::Internal, "corrupt_history", aggregate + " event " + std::to_string(v) + " is missing");
        out << nlohmann::json{{"record", "event"},
                              {"aggregate", aggregate},
                              {"version", e->version},
                              {"time_ms", e->time_ms},
                              {"command_seq", e->command_seq},
                              {"payload", base64_encode(e->payload)},
                              {"hash", to_hex(e->hash)},
                              {"event", nlohmann::json::parse(CertAuth::event_json(CertAuth::decode_event(e->payload)))}}
                   .dump()
            << '\n';
      }
      return true;
    });
    AggregateHead h = log.head(id);
    out << nlohmann::json{{"record", "head"},          {"aggregate", aggregate},
                          {"version", h.version},      {"event_hash", to_hex(h.event_hash)},
                          {"command_seq", h.command_seq}, {"command_hash", to_hex(h.command_hash)}}
               .dump()
        << '\n';
  }
}

uint64_t version_at(const KeyValueStore& kv, const std::string& ca, int64_t time_ms) {
  auto log = ca_log(kv);
  validate_aggregate_id(ca);
  if (!log.exists(ca)) throw Error(ErrorKind::NotFound, "ca_not_found", "CA '" + ca + "' does not exist");
  uint64_t version = 0;
  log.for_each_event(ca, 1, [&](const EventRecord& r) {
    if (r.time_ms > time_ms) return false;
    version = r.version;
    return true;
  });
  return version;
}

}  // namespace cairn
