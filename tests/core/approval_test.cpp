// Profiles that need approval, and the limits a configured profile adds:
// allowed names, key types and certificates per requester.
#include <gtest/gtest.h>

#include "core/x509_time.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::error_code_of;
using testing::make_csr;
using testing::make_csr_pem;
using testing::PkiHarness;

Profile guarded_profile() {
  Profile p = builtin_profiles().at(0);  // server
  p.name = "guarded";
  p.requires_approval = true;
  p.allowed_names = {NamePattern::parse("*.corp.example")};
  p.key_types = {"ec-p256", "ec-p384"};
  p.max_certificates_per_requester = 2;
  p.max_validity_days = 30;
  p.default_validity_days = 30;
  return p;
}

struct ApprovalHarness : PkiHarness {
  ApprovalHarness() { make_hierarchy(); }
  CaManager guarded{kv, signer, clock,
                    CaManagerConfig{"http://pki.test", 3,
                                    std::make_shared<const ProfileCatalog>(std::vector<Profile>{guarded_profile()})}};
  IssueResult ask(const std::string& who, const std::string& name, KeyAlgorithm alg = KeyAlgorithm::EcP256) {
    IssueRequest r;
    r.csr = make_csr(name, "DNS:" + name, alg).pem;
    r.profile = "guarded";
    return guarded.issue(who, "issuing", r);
  }
  uint64_t version() { return guarded.get_ca("issuing").version; }
};

TEST(Approval, RequestWaitsThenAnotherIdentityApprovesIt) {
  ApprovalHarness pki;
  auto asked = pki.ask("token:web", "a.corp.example");
  ASSERT_TRUE(asked.pending);
  EXPECT_EQ(asked.pending->status, "pending");
  EXPECT_EQ(asked.pending->requested_by, "token:web");
  EXPECT_TRUE(pki.guarded.list_certificates("issuing", {}).empty());
  ASSERT_EQ(pki.guarded.list_requests("issuing", "pending").size(), 1u);

  uint64_t before = pki.version();
  EXPECT_EQ(error_code_of([&] { pki.guarded.approve("token:web", "issuing", asked.pending->id); }),
            "self_approval");
  EXPECT_EQ(pki.version(), before) << "a refused approval stores nothing";

  pki.clock.advance_ms(60'000);
  auto approved = pki.guarded.approve("token:ops", "issuing", asked.pending->id);
  EXPECT_EQ(approved.certificate.requested_by, "token:web") << "the requester owns the certificate";
  EXPECT_EQ(approved.certificate.profile, "guarded");
  EXPECT_EQ(approved.certificate.not_after_ms - approved.certificate.issued_at_ms, 30 * kMsPerDay);
  EXPECT_EQ(approved.certificate.issued_at_ms, pki.clock.now_ms()) << "issued when approved";
  EXPECT_EQ(testing::verify_chain(approved.certificate.der, pki.ca_ders(), "", pki.clock.now_ms()), 0);
  auto request = pki.guarded.get_request("issuing", asked.pending->id);
  EXPECT_EQ(request.status, "approved");
  EXPECT_EQ(request.decided_by, "token:ops");
  EXPECT_EQ(request.serial, approved.certificate.serial);
  EXPECT_EQ(error_code_of([&] { pki.guarded.approve("token:ops", "issuing", asked.pending->id); }),
            "request_decided");
  EXPECT_EQ(error_code_of([&] { pki.guarded.reject("token:ops", "issuing", asked.pending->id, "late"); }),
            "request_decided");
}

TEST(Approval, RejectedRequestsAreKeptWithTheirReason) {
  ApprovalHarness pki;
  auto asked = pki.ask("token:web", "b.corp.example");
  auto rejected = pki.guarded.reject("token:ops", "issuing", asked.pending->id, "not a production host");
  EXPECT_EQ(rejected.status, "rejected");
  EXPECT_EQ(rejected.reason, "not a production host");
  EXPECT_EQ(error_code_of([&] { pki.guarded.approve("token:ops", "issuing", asked.pending->id); }),
            "request_decided");
  EXPECT_EQ(error_code_of([&] { pki.guarded.approve("token:ops", "issuing", "0123456789abcdef"); }),
            "request_not_found");
  EXPECT_EQ(error_code_of([&] { pki.guarded.approve("token:ops", "issuing", "../../x"); }), "invalid_request_id");
  EXPECT_EQ(error_code_of([&] { pki.guarded.reject("token:ops", "issuing", "0123456789abcdef", ""); }),
            "request_not_found");
  EXPECT_EQ(error_code_of([&] { pki.guarded.reject("token:ops", "nope", "0123456789abcdef", ""); }), "ca_not_found");
}

TEST(Approval, ConfiguredProfileLimitsAreCheckedWhenAsked) {
  ApprovalHarness pki;
  uint64_t before = pki.version();
  EXPECT_EQ(error_code_of([&] { pki.ask("token:web", "a.other.example"); }), "name_not_allowed");
  EXPECT_EQ(error_code_of([&] { pki.ask("token:web", "a.corp.example", KeyAlgorithm::Rsa2048); }),
            "key_type_not_allowed");
  IssueRequest generated;
  generated.key_type = "ec-p256";
  generated.subject = "CN=g.corp.example";
  generated.sans = SubjectAltNames{{"g.corp.example"}, {}, {}, {}};
  generated.profile = "guarded";
  EXPECT_EQ(error_code_of([&] { pki.guarded.issue("token:web", "issuing", generated); }), "approval_needs_csr");
  IssueRequest too_long;
  too_long.csr = make_csr_pem("c.corp.example", "DNS:c.corp.example");
  too_long.profile = "guarded";
  too_long.validity_days = 31;
  EXPECT_EQ(error_code_of([&] { pki.guarded.issue("token:web", "issuing", too_long); }), "validity_too_long");
  EXPECT_EQ(pki.version(), before);
}

TEST(Approval, CertificatesPerRequesterCountValidAndPendingOnes) {
  ApprovalHarness pki;
  auto first = pki.ask("token:web", "1.corp.example");
  pki.guarded.approve("token:ops", "issuing", first.pending->id);
  auto second = pki.ask("token:web", "2.corp.example");  // pending counts too
  EXPECT_EQ(error_code_of([&] { pki.ask("token:web", "3.corp.example"); }), "certificate_limit_reached");
  EXPECT_TRUE(pki.ask("token:api", "3.corp.example").pending) << "the limit is per requester";
  // Approving the second is still possible: it does not count against itself.
  auto approved = pki.guarded.approve("token:ops", "issuing", second.pending->id);
  // A revoked certificate no longer counts.
  pki.guarded.revoke("token:ops", "issuing", approved.certificate.serial, "superseded");
  EXPECT_TRUE(pki.ask("token:web", "3.corp.example").pending);
}

TEST(Approval, RequestsSurviveSnapshotsAndReplay) {
  ApprovalHarness pki;
  auto a = pki.ask("token:web", "a.corp.example");
  auto b = pki.ask("token:web2", "b.corp.example");
  pki.guarded.approve("token:ops", "issuing", a.pending->id);
  pki.guarded.reject("token:ops", "issuing", b.pending->id, "no");
  pki.ask("token:web3", "c.corp.example");
  auto snap = pki.guarded.store().log().snapshot("issuing");
  ASSERT_TRUE(snap) << "the interval of 3 produced a snapshot";
  CertAuth replayed = pki.guarded.store().replay("issuing");
  CaManager fresh(pki.kv, pki.signer, pki.clock, CaManagerConfig{"http://pki.test", 3, nullptr});
  auto from_snapshot = fresh.list_requests("issuing", "");
  ASSERT_EQ(from_snapshot.size(), 3u);
  ASSERT_EQ(replayed.requests().size(), 3u);
  for (const auto& r : from_snapshot) {
    const auto& p = replayed.requests().at(r.id);
    EXPECT_EQ(p.status, r.status);
    EXPECT_EQ(p.decided_by, r.decided_by);
    EXPECT_EQ(p.serial, r.serial);
    EXPECT_EQ(p.request.public_key_der.empty(), false);
  }
  const auto& log = pki.guarded.store().log();
  CertAuth stored = CertAuth::decode_snapshot(snap->state, KvSnapshotPieceSource(pki.kv, log.prefix("issuing")));
  EXPECT_EQ(CertAuth::encode_snapshot(stored),
            CertAuth::encode_snapshot(pki.guarded.store().replay("issuing", snap->version)));
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// mTLS renewals: the certificate's holder renews, its owner stays the owner.
TEST(RenewalOwner, RenewForOwnerKeepsTheOwnerAndRecordsTheActor) {
  testing::PkiHarness pki;
  pki.make_hierarchy();
  IssueRequest r;
  r.csr = testing::make_csr_pem("svc.example", "DNS:svc.example");
  r.profile = "client";
  auto first = pki.manager.issue("token:svc", "issuing", r);
  ASSERT_EQ(first.certificate.requested_by, "token:svc");

  IssueRequest again;
  again.csr = testing::make_csr_pem("svc.example", "DNS:svc.example");
  auto held = pki.manager.renew_for_owner("cert:issuing:" + first.certificate.serial, "issuing",
                                          first.certificate.serial, again);
  EXPECT_EQ(held.certificate.requested_by, "token:svc");
  EXPECT_EQ(held.certificate.replaces, first.certificate.serial);
  EXPECT_EQ(held.certificate.profile, "client");

  // An ordinary renewal belongs to whoever asked for it, as before.
  again.csr = testing::make_csr_pem("svc.example", "DNS:svc.example");
  auto by_admin = pki.manager.renew("admin", "issuing", held.certificate.serial, again);
  EXPECT_EQ(by_admin.certificate.requested_by, "admin");
}

}  // namespace
}  // namespace cairn
