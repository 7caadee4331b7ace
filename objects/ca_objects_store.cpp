#include "objects/ca_objects_store.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <sstream>

#include "core/crl_builder.h"
#include "core/encoding.h"

namespace cairn {

template <class Ar>
void serialize(Ar& ar, CrlObject& o, std::uint32_t const) {
  ar(o.number, o.this_update_ms, o.next_update_ms, o.key_id, o.der);
}

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::CrlObject, 1)

namespace cairn {
namespace {

std::string encode(const CrlObject& o) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(o);
  }
  return std::move(out).str();
}

CrlObject decode(const std::string& bytes) {
  CrlObject o;
  try {
    std::istringstream in(bytes);
    cereal::PortableBinaryInputArchive ar(in);
    ar(o);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal, "corrupt_record", std::string("cannot decode CRL object: ") + e.what());
  }
  return o;
}

std::string crl_key(const std::string& ca) { return "o/crl/" + ca; }

bool changes_crl(const CaEvent& e) {
  return std::holds_alternative<CaCertificateInstalled>(e) ||
         std::holds_alternative<CertificateRevoked>(e);
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
  auto bytes = kv.get(crl_key(ca));
  if (!bytes) return std::nullopt;
  return decode(*bytes);
}

std::optional<CrlObject> CaObjectsStore::crl(const std::string& ca) const { return read_crl_object(kv_, ca); }

void CaObjectsStore::before_save(const std::string& ca, const CertAuth& state,
                                 const std::vector<CaEvent>& events, WriteBatch& batch) {
  bool needed = false;
  for (const auto& e : events) needed = needed || changes_crl(e);
  if (!needed || !state.active()) return;
  auto previous = crl(ca);
  batch.put(crl_key(ca), encode(build(state, previous ? previous->number + 1 : 1)));
}

bool CaObjectsStore::reissue_if_due(AggregateStore<CertAuth>& store, const std::string& ca) {
  return store.read(ca, [&](const CertAuth& state, uint64_t) {
    if (!state.active()) return false;
    auto current = crl(ca);
    int64_t now = clock_.now_ms();
    if (current && now < reissue_due_ms(*current) && current->key_id == state.key_id()) return false;
    WriteBatch batch;
    batch.put(crl_key(ca), encode(build(state, current ? current->number + 1 : 1)));
    kv_.write(batch, Durability::Sync);
    return true;
  });
}

int64_t CaObjectsStore::reissue_due_ms(const CrlObject& crl) const {
  auto validity = static_cast<double>(crl.next_update_ms - crl.this_update_ms);
  return crl.next_update_ms - static_cast<int64_t>(config_.crl_reissue_remaining * validity);
}

CrlObject CaObjectsStore::build(const CertAuth& state, uint64_t number) const {
  X509Ptr issuer = parse_certificate(state.ca_cert_der());
  CrlTemplate t;
  t.issuer = issuer.get();
  t.number = number;
  int64_t now = clock_.now_ms();
  t.this_update_ms = now - now % 1000;
  t.next_update_ms = t.this_update_ms + config_.crl_validity_ms;
  for (const auto& [serial, c] : state.issued()) {
    if (!c.revoked || c.not_after_ms <= t.this_update_ms) continue;
    t.entries.push_back({serial, c.revoked_at_ms, c.revocation_reason});
  }
  CrlObject o;
  o.number = number;
  o.this_update_ms = t.this_update_ms;
  o.next_update_ms = t.next_update_ms;
  o.key_id = state.key_id();
  o.der = build_crl(t, signer_, state.key_id());
  return o;
}

}  // namespace cairn
