// CaObjectsStore — the signed objects a CA publishes, derived from its events.
//
// Registered as a pre-save listener on the CertAuth store: when a command's
// events change what a CA must publish (its certificate was installed, a
// certificate was revoked), it signs the new CRL and adds it to the SAME
// batch as the events, so a revocation is never durable without a CRL that
// shows it, and a CRL never shows a revocation that was not stored.
// CRL numbers strictly increase per CA. The current key's CRL number is
// also stored on its own (o/crl-number/<ca>) in the CRL's batch, so a new CRL
// reads 9 bytes for it, not the CRL's record (copied out of RocksDB's
// memtable: 53 MB at a million entries); until that key is found at least
// as high as the record's number in this process, it reads both and takes
// the larger (a version without the key may have written CRLs since, and a
// database from before it has none). The CRL lists every revoked
// certificate whose notAfter is after thisUpdate. During and after a key
// rollover each key still in service (CertAuth::retiring_keys()) signs a
// CRL of its own, re-signed together with the current one.
// CRLs are built incrementally: the DER of every listed entry is kept per CA,
// and a revocation appends one entry before the CRL is signed, so the cost
// of a new CRL is its hashing and copying, not re-encoding every entry. The
// kept entries are checked against the state's revocation order and rebuilt
// whenever they do not match it (a restart, a failed command) or one of
// them has expired.
// Thread-safety: all methods may be called concurrently; the listener runs
// under the CA's lock, which serialises CRL numbers per CA.
// Ownership: borrows the KeyValueStore, Signer and Clock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/cert_auth.h"

namespace cairn {

struct CrlObject {
  uint64_t number = 0;
  int64_t this_update_ms = 0;
  int64_t next_update_ms = 0;
  std::string key_id;
  std::string der;
};

struct CaObjectsConfig {
  int64_t crl_validity_ms = 7 * 24 * 3600 * 1000LL;  // nextUpdate - thisUpdate
  double crl_reissue_remaining = 0.5;  // re-sign when less than this part of the validity is left
};

// Reads the stored CRL of `ca` (for readers without a Signer, e.g. auditors).
std::optional<CrlObject> read_crl_object(const KeyValueStore& kv, const std::string& ca);

class CaObjectsStore {
 public:
  CaObjectsStore(KeyValueStore& kv, Signer& signer, const Clock& clock, CaObjectsConfig config);

  // Registers the pre-save listener.
  void attach(AggregateStore<CertAuth>& store);

  std::optional<CrlObject> crl(const std::string& ca) const;  // of the current key, read from storage
  // The CRL signed by the key of `generation` (the current one, or a rolled-
  // out key that still signs for its certificates); null if none. Call it
  // under the CA's lock (from AggregateStore::read or process), which
  // `state` stands for. Kept in memory from the first read until the CA's
  // CRLs change (this store's listener and reissue_if_due forget them,
  // under the same lock), so a CRL of a million entries (53 MB) is read
  // and decoded once, not on every fetch; shared, never copied.
  std::shared_ptr<const CrlObject> crl_of_generation(const CertAuth& state, const std::string& ca,
                                                     int generation) const;

  // Re-signs the CA's CRL (same entries, next number, new thisUpdate and
  // nextUpdate) when less than crl_reissue_remaining of its validity is
  // left. This is object state, not a command: history does not grow.
  // Runs under the CA's lock. Returns whether a new CRL was written.
  bool reissue_if_due(AggregateStore<CertAuth>& store, const std::string& ca);
  // When reissue_if_due() will re-sign `crl`: once less than
  // crl_reissue_remaining of its validity is left.
  int64_t reissue_due_ms(const CrlObject& crl) const;

  // The listener itself (public for tests).
  void before_save(const std::string& ca, const CertAuth& state, const std::vector<CaEvent>& events,
                   WriteBatch& batch);

 private:
  CrlObject build(std::string_view entries, uint64_t number, const std::string& key_id,
                  const std::string& ca_cert_der, int64_t this_update_ms) const;
  // Into `batch`: the CRL numbered `number` of the current key, its number's
  // key, and the CRL of every key still in service (under the CA's lock).
  void put_crls(WriteBatch& batch, const std::string& ca, const CertAuth& state, uint64_t number);
  // The encoded entries of every revoked, unexpired certificate of `ca`.
  // Valid until the next call for the same CA (calls for one CA are
  // serialised by its lock; entries of a CA are never dropped, only reset).
  std::string_view revoked_entries(const std::string& ca, const CertAuth& state, int64_t now_ms);
  int64_t this_update_now() const;

  struct EntryCache {
    size_t consumed = 0;  // revocation_order() items looked at
    uint64_t digest = 0;  // revocation_digest(consumed) when they were
    std::string entries;       // concatenated DER of the listed ones
    int64_t earliest_expiry = INT64_MAX;
  };

  KeyValueStore& kv_;
  Signer& signer_;
  const Clock& clock_;
  CaObjectsConfig config_;
  // Forgets the kept CRLs of `ca` (their stored values are being replaced).
  void forget_crls(const std::string& ca) const;
  // The number of the kept CRL of the current key, if one is kept.
  std::optional<uint64_t> kept_crl_number(const std::string& ca) const;
  // The number of the stored CRL of the current key (under the CA's lock).
  std::optional<uint64_t> stored_crl_number(const std::string& ca);

  std::mutex cache_mutex_;
  std::map<std::string, EntryCache> entry_cache_;  // by CA
  mutable std::mutex crls_mutex_;
  // Kept CRLs by (CA, generation), kCurrentKey for the CRL at the CA's plain
  // key (the current key's, whatever its generation).
  static constexpr int kCurrentKey = -1;
  mutable std::map<std::pair<std::string, int>, std::shared_ptr<const CrlObject>> crls_;
  // CAs whose CRL number key was found at least as high as their CRL's
  // record's number in this process (crls_mutex_).
  std::set<std::string> number_key_trusted_;
};

}  // namespace cairn
