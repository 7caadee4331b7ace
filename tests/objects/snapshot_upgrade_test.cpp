// A snapshot written by an earlier version of cairn (CertAuth class
// versions 1-5 kept every certificate's DER in a map) is not loaded after an
// upgrade: the server replays the events and writes a current snapshot with
// its next change; the auditor checks the old one's hash and reports it as
// outdated, not as a problem.
#include <gtest/gtest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <sstream>

#include "eventstore/rocksdb_kv_store.h"
#include "objects/ca_auditor.h"
#include "objects/ca_objects_store.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn::testing {

// IssuedCertificate and CertAuth exactly as class version 1 wrote them.
struct IssuedCertificateV1 {
  CertificateIssued c;
  bool revoked = false;
  int64_t revoked_at_ms = 0;
  int revocation_reason = 0;
  std::string replaced_by;
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t const) {
    ar(c.serial, c.der, c.profile, c.subject, c.not_before_ms, c.not_after_ms, c.issued_at_ms, c.replaces,
       replaced_by, c.child_ca, c.issuer_key_id, revoked, revoked_at_ms, revocation_reason);
  }
};
struct CertAuthV1 {
  std::string handle, key_id, algorithm, subject, parent, csr_der, ca_cert_der;
  CaKind kind = CaKind::Root;
  int64_t not_before_ms = 0, not_after_ms = 0;
  std::map<std::string, IssuedCertificateV1> issued;
  std::map<std::string, std::string> children;
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t const) {
    ar(handle, kind, key_id, algorithm, subject, parent, csr_der, ca_cert_der, not_before_ms, not_after_ms,
       issued, children);
  }
};

}  // namespace cairn::testing

CEREAL_CLASS_VERSION(cairn::testing::IssuedCertificateV1, 1)
CEREAL_CLASS_VERSION(cairn::testing::CertAuthV1, 1)

namespace cairn::testing {
namespace {

std::string encode_v1(const CertAuth& ca, const AggregateLog& log, const std::string& id) {
  CertAuthV1 v1{ca.handle(), ca.key_id(), ca.algorithm(), ca.subject(), ca.parent(), ca.csr_der(),
                ca.ca_cert_der(), ca.kind(), ca.ca_not_before_ms(), ca.ca_not_after_ms(), {}, ca.children()};
  log.for_each_event(id, 1, [&](const EventRecord& r) {
    CaEvent event = CertAuth::decode_event(r.payload);
    if (auto* issued = std::get_if<CertificateIssued>(&event))
      v1.issued[issued->serial].c = *issued;
    return true;
  });
  std::ostringstream out;
  out.put(1);  // snapshot envelope
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(v1);
  }
  return std::move(out).str();
}

TEST(SnapshotUpgrade, VersionOneSnapshotIsReplacedByAReplay) {
  TempDir dir;
  auto kv = RocksDbKvStore::open(dir.path() + "/db");
  MemoryKeyStore keys;
  Signer signer{keys};
  ManualClock clock{1'790'000'000'000};
  // Version 1 recorded no requester: the actors are empty, as in old events.
  CaManager manager(*kv, signer, clock, CaManagerConfig{"http://pki.test", 3, nullptr});
  CaObjectsStore objects(*kv, signer, clock, CaObjectsConfig{});
  objects.attach(manager.store());
  manager.create_ca("", CreateCaRequest{"root", "CN=Upgrade Root", "ec-p256", "", 3650});
  for (int i = 0; i < 3; ++i) {
    IssueRequest r;
    r.csr = make_csr_pem("u" + std::to_string(i), "DNS:u" + std::to_string(i) + ".example");
    manager.issue("", "root", r);
  }
  const AggregateLog& log = manager.store().log();
  auto snap = log.snapshot("root");
  ASSERT_TRUE(snap);
  CertAuth state = CertAuth::decode_snapshot(snap->state, KvSnapshotPieceSource(*kv, log.prefix("root")));
  std::string old_encoding = encode_v1(state, log, "root");
  ASSERT_NE(old_encoding, snap->state) << "the test must store a different (older) encoding";
  snap->state = old_encoding;
  WriteBatch b;
  b.put(log.snapshot_key("root"), encode_record(*snap));
  kv->write(b, Durability::Sync);

  EXPECT_EQ(error_code_of([&] { CertAuth::decode_snapshot(old_encoding); }), "snapshot_outdated");

  auto report = audit(*kv, AuditOptions{});
  EXPECT_FALSE(report.problem) << *report.problem;
  EXPECT_EQ(report.outdated_snapshots, 1u);
  EXPECT_EQ(report.snapshots, 0u);

  CaManager restarted(*kv, signer, clock, CaManagerConfig{"http://pki.test", 3, nullptr});
  auto listed = restarted.list_certificates("root", {});
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_FALSE(restarted.get_certificate("root", listed[1].serial).der.empty());
  // The next change writes a snapshot in the current encoding.
  IssueRequest more;
  more.csr = make_csr_pem("u3", "DNS:u3.example");
  restarted.issue("", "root", more);
  auto current = restarted.store().log().snapshot("root");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->version, restarted.store().log().head("root").version);
  EXPECT_EQ(CertAuth::decode_snapshot(current->state, KvSnapshotPieceSource(*kv, log.prefix("root")))
                .certificates()
                .size(),
            4u);
  report = audit(*kv, AuditOptions{});
  EXPECT_FALSE(report.problem) << *report.problem;
  EXPECT_EQ(report.outdated_snapshots, 0u);
  EXPECT_EQ(report.snapshots, 1u);
}

}  // namespace
}  // namespace cairn::testing
