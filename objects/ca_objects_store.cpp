#include "objects/ca_objects_store.h"

#include <climits>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>

#include "core/certificate_cache.h"
#include "core/crl_builder.h"
#include "core/encoding.h"
#include "eventstore/portable_binary_view.h"
#include "eventstore/view_input.h"

namespace cairn {

constexpr uint32_t kCrlObjectClassVersion = 1;

template <class Ar>
void serialize(Ar& ar, CrlObject& o, std::uint32_t const) {
  ar(o.number, o.this_update_ms, o.next_update_ms, o.key_id, o.der);
}

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::CrlObject, cairn::kCrlObjectClassVersion)

namespace cairn {
namespace {

// What cereal's portable binary archive writes for `o`, into one buffer of
// the final size (the DER is 53 MB at a million entries; through a string
// stream it was copied while the stream grew, then copied out).
std::string encode(const CrlObject& o) {
  std::string out;
  out.reserve(1 + sizeof(uint32_t) + 5 * sizeof(uint64_t) + o.key_id.size() + o.der.size());
  out.push_back(1);  // little-endian archive
  portable_binary_append(out, kCrlObjectClassVersion);
  portable_binary_append(out, o.number);
  portable_binary_append(out, o.this_update_ms);
  portable_binary_append(out, o.next_update_ms);
  portable_binary_append(out, o.key_id);
  portable_binary_append(out, o.der);
  return out;
}

CrlObject decode(std::string_view bytes) {
  CrlObject o;
  try {
    ViewInput in(bytes);
    cereal::PortableBinaryInputArchive ar(in.stream());
    ar(o);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode CRL object: ") + e.what());
  }
  return o;
}

std::optional<CrlObject> read_object(const KeyValueStore& kv, const std::string& key) {
  std::optional<CrlObject> out;
  kv.read(key, [&](std::string_view bytes) { out = decode(bytes); });
  return out;
}

std::string crl_key(const std::string& ca) { return "o/crl/" + ca; }
// The number of the CA's current CRL on its own, written in the same batch
// as the CRL: reading the CRL's record for it copied the whole record out of
// RocksDB's memtable (53 MB at a million entries) on every revocation.
std::string crl_number_key(const std::string& ca) { return "o/crl-number/" + ca; }

// The number of the stored CRL of the current key, from its record,
// without decoding its DER: CrlObject class version 1 starts with it.
std::optional<uint64_t> read_record_number(const KeyValueStore& kv, const std::string& ca) {
  std::optional<uint64_t> out;
  kv.read(crl_key(ca), [&](std::string_view bytes) {
    PortableBinaryView in;
    uint32_t class_version = 0;
    uint64_t number = 0;
    out = in.open(bytes) && in.read(class_version) && class_version == kCrlObjectClassVersion && in.read(number)
              ? number
              : decode(bytes).number;
  });
  return out;
}

// The same from the number's own key; nullopt if there is none.
std::optional<uint64_t> read_number_key(const KeyValueStore& kv, const std::string& ca) {
  std::optional<uint64_t> out;
  kv.read(crl_number_key(ca), [&](std::string_view bytes) {
    PortableBinaryView in;
    uint64_t number = 0;
    if (in.open(bytes) && in.read(number) && in.at_end()) out = number;
  });
  return out;
}

// The CRL of a rolled-out key that still signs for what it issued.
std::string crl_key(const std::string& ca, int generation) { return "o/crl/" + ca + "/" + std::to_string(generation); }

bool changes_crl(const CaEvent& e) {
  return std::holds_alternative<CaCertificateInstalled>(e) || std::holds_alternative<CertificateRevoked>(e) ||
         std::holds_alternative<KeyRollActivated>(e);
}

}  // namespace

CaObjectsStore::CaObjectsStore(KeyValueStore& kv, Signer& signer, const Clock& clock,
                               CaObjectsConfig config)
    : kv_(kv), signer_(signer), clock_(clock), config_(config) {}

void CaObjectsStore::attach(AggregateStore<CertAuth>& store) {
  store.add_pre_save([this](const std::string& ca, const CertAuth& state,
                            const std::vector<CaEvent>& events, WriteBatch& batch) {
    before_save(ca, state, events, batch);
  });
}

std::optional<CrlObject> read_crl_object(const KeyValueStore& kv, const std::string& ca) {
  return read_object(kv, crl_key(ca));
}

std::optional<CrlObject> CaObjectsStore::crl(const std::string& ca) const { return read_crl_object(kv_, ca); }

void CaObjectsStore::before_save(const std::string& ca, const CertAuth& state,
                                 const std::vector<CaEvent>& events, WriteBatch& batch) {
  bool needed = false;
  bool retired_any = false;
  for (const auto& e : events) {
    needed = needed || changes_crl(e);
    if (const auto* retired = std::get_if<KeyRetired>(&e)) {
      batch.erase(crl_key(ca, retired->generation));
      retired_any = true;
    }
  }
  // The kept CRL mirrors the stored one: its number spares reading the
  // stored value (53 MB at a million entries) just for the number.
  std::optional<uint64_t> previous = needed && state.active() ? kept_crl_number(ca) : std::nullopt;
  // Readers take the CA's lock too, so none reads between this and the
  // batch's write; if the write fails, the next read goes to storage.
  if (retired_any || (needed && state.active())) forget_crls(ca);
  if (!needed || !state.active()) return;
  if (!previous) previous = stored_crl_number(ca);
  put_crls(batch, ca, state, previous ? *previous + 1 : 1);
}

void CaObjectsStore::put_crls(WriteBatch& batch, const std::string& ca, const CertAuth& state, uint64_t number) {
  int64_t this_update = this_update_now();
  std::string_view entries = revoked_entries(ca, state, this_update);
  batch.put(crl_key(ca), encode(build(entries, number, state.key_id(), state.ca_cert_der(), this_update)));
  std::string number_value(1, '\1');  // a little-endian portable binary archive
  portable_binary_append(number_value, number);
  batch.put(crl_number_key(ca), std::move(number_value));
  // Every key still in service signs a CRL of its own, with the same entries
  // (a serial identifies one certificate of this CA, whichever key signed it).
  for (const auto& [generation, key] : state.retiring_keys())
    batch.put(crl_key(ca, generation), encode(build(entries, number, key.key_id, key.ca_cert_der, this_update)));
}

std::optional<uint64_t> CaObjectsStore::stored_crl_number(const std::string& ca) {
  bool trusted = false;
  {
    std::lock_guard lock(crls_mutex_);
    trusted = number_key_trusted_.count(ca) > 0;
  }
  std::optional<uint64_t> from_key = read_number_key(kv_, ca);
  if (trusted && from_key) return from_key;
  // From the record too until the key is seen at least as high as the
  // record's number: a database from before the key has none, and a CRL
  // written by a version without it (a downgrade and back) left it behind.
  // From then on this store writes both in one batch, so the key is enough.
  // (Not trusted before that is seen: the CRL that would have set the key
  // may never be written, a failed batch.)
  std::optional<uint64_t> from_record = read_record_number(kv_, ca);
  if (from_key && (!from_record || *from_key >= *from_record)) {
    std::lock_guard lock(crls_mutex_);
    number_key_trusted_.insert(ca);
    return from_key;
  }
  return from_record;
}

std::shared_ptr<const CrlObject> CaObjectsStore::crl_of_generation(const CertAuth& state, const std::string& ca,
                                                                   int generation) const {
  bool current = generation == state.key_generation();
  if (!current && !state.retiring_keys().count(generation)) return nullptr;
  auto key = std::make_pair(ca, current ? kCurrentKey : generation);
  {
    std::lock_guard lock(crls_mutex_);
    auto it = crls_.find(key);
    if (it != crls_.end()) return it->second;
  }
  auto stored = read_object(kv_, current ? crl_key(ca) : crl_key(ca, generation));
  if (!stored) return nullptr;
  auto kept = std::make_shared<const CrlObject>(std::move(*stored));
  std::lock_guard lock(crls_mutex_);
  crls_[key] = kept;
  return kept;
}

std::optional<uint64_t> CaObjectsStore::kept_crl_number(const std::string& ca) const {
  std::lock_guard lock(crls_mutex_);
  auto it = crls_.find({ca, kCurrentKey});
  if (it == crls_.end()) return std::nullopt;
  return it->second->number;
}

void CaObjectsStore::forget_crls(const std::string& ca) const {
  std::lock_guard lock(crls_mutex_);
  for (auto it = crls_.lower_bound({ca, INT_MIN}); it != crls_.end() && it->first.first == ca;) it = crls_.erase(it);
}

bool CaObjectsStore::reissue_if_due(AggregateStore<CertAuth>& store, const std::string& ca) {
  return store.read(ca, [&](const CertAuth& state, uint64_t) {
    if (!state.active()) return false;
    auto current = crl_of_generation(state, ca, state.key_generation());
    int64_t now = clock_.now_ms();
    bool due = !current || now >= reissue_due_ms(*current) || current->key_id != state.key_id();
    for (const auto& [generation, key] : state.retiring_keys()) {
      auto old = crl_of_generation(state, ca, generation);
      due = due || !old || now >= reissue_due_ms(*old);
    }
    if (!due) return false;
    WriteBatch batch;
    put_crls(batch, ca, state, current ? current->number + 1 : 1);
    forget_crls(ca);  // under the CA's lock, as readers are
    kv_.write(batch, Durability::Sync);
    return true;
  });
}

int64_t CaObjectsStore::reissue_due_ms(const CrlObject& crl) const {
  auto validity = static_cast<double>(crl.next_update_ms - crl.this_update_ms);
  return crl.next_update_ms - static_cast<int64_t>(config_.crl_reissue_remaining * validity);
}

int64_t CaObjectsStore::this_update_now() const {
  int64_t now = clock_.now_ms();
  return now - now % 1000;
}

std::string_view CaObjectsStore::revoked_entries(const std::string& ca, const CertAuth& state, int64_t now_ms) {
  std::lock_guard lock(cache_mutex_);
  EntryCache& cache = entry_cache_[ca];
  const CertificateIndex& index = state.certificates();
  const auto& order = index.revocation_order();
  bool matches = cache.consumed <= order.size() &&
                 index.revocation_digest(cache.consumed) == cache.digest &&
                 cache.earliest_expiry > now_ms;
  if (!matches) cache = EntryCache{};
  std::array<char, CertificateIndex::kMaxSerialDigits> serial;
  for (size_t i = cache.consumed; i < order.size(); ++i) {
    const CertificateIndex::Entry& c = index.at(order[i]);
    if (c.not_after_ms <= now_ms) continue;  // expired: no longer listed
    append_revoked_entry(cache.entries, index.serial(c, serial), c.revoked_at_ms, c.revocation_reason);
    cache.earliest_expiry = std::min(cache.earliest_expiry, c.not_after_ms);
  }
  cache.consumed = order.size();
  cache.digest = index.revocation_digest(order.size());
  return cache.entries;
}

CrlObject CaObjectsStore::build(std::string_view entries, uint64_t number, const std::string& key_id,
                                const std::string& ca_cert_der, int64_t this_update_ms) const {
  std::shared_ptr<const X509> issuer = shared_certificate(ca_cert_der);
  CrlTemplate t;
  t.issuer = issuer.get();
  t.number = number;
  t.this_update_ms = this_update_ms;
  t.next_update_ms = t.this_update_ms + config_.crl_validity_ms;
  CrlObject o;
  o.number = number;
  o.this_update_ms = t.this_update_ms;
  o.next_update_ms = t.next_update_ms;
  o.key_id = key_id;
  o.der = build_crl_with_entries(t, entries, signer_, key_id);
  return o;
}

}  // namespace cairn
