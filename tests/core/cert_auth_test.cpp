// CertAuth command and event logic through CaManager on in-memory storage.
#include <gtest/gtest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <sstream>

#include "core/serial_number.h"
#include "core/x509_time.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::error_code_of;
using testing::PkiHarness;

// Every field of a certificate view, for comparison (replaced_by aside: the
// renewal changes it on the old certificate afterwards).
std::string to_json_like(const CertificateView& v) {
  std::string out = v.ca + "|" + v.serial + "|" + v.subject + "|" + v.profile + "|" + v.status + "|" +
                    std::to_string(v.not_before_ms) + "|" + std::to_string(v.not_after_ms) + "|" +
                    std::to_string(v.issued_at_ms) + "|" + v.replaces + "|" + v.child_ca + "|" + v.requested_by +
                    "|" + v.der + "|";
  for (const auto& d : v.sans.dns) out += d + ",";
  for (const auto& i : v.sans.ip) out += i + ",";
  return out;
}

TEST(CertAuth, IssueAnswerIsTheStoredCertificate) {
  PkiHarness pki;
  pki.make_hierarchy();
  auto first = pki.issue("a", "DNS:a.example,IP:10.1.2.3").certificate;
  IssueRequest renewal;
  renewal.csr = testing::make_csr_pem("a", "DNS:a.example");
  auto renewed = pki.manager.renew("test", "issuing", first.serial, renewal).certificate;
  for (const auto& answered : {first, renewed}) {
    auto stored = pki.manager.get_certificate("issuing", answered.serial);
    EXPECT_EQ(to_json_like(answered), to_json_like(stored));
  }
}

TEST(CertAuth, RootIsSelfSignedCaWithItsOwnKey) {
  PkiHarness pki;
  auto root = pki.manager.create_ca("alice", CreateCaRequest{"root", "CN=Root", "ec-p256", "", 3650});
  EXPECT_EQ(root.kind, "root");
  EXPECT_EQ(root.status, "active");
  EXPECT_EQ(root.version, 2u);  // CaCreated + CaCertificateInstalled
  auto cert = parse_certificate(root.certificate_der);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
  EXPECT_EQ(root.not_after_ms - root.not_before_ms, 3650 * kMsPerDay);
  EXPECT_EQ(error_code_of([&] {
              pki.manager.create_ca("alice", CreateCaRequest{"root", "CN=Again", "ec-p256", "", 10});
            }),
            "ca_exists");
}

TEST(CertAuth, BadCreateRequestsAreRefusedAndStoreNothing) {
  PkiHarness pki;
  EXPECT_EQ(error_code_of([&] { pki.manager.create_ca("a", {"../x", "CN=x", "ec-p256", "", 1}); }), "invalid_name");
  EXPECT_EQ(error_code_of([&] { pki.manager.create_ca("a", {"x", "CN=x", "dsa-512", "", 1}); }), "unknown_key_algorithm");
  EXPECT_EQ(error_code_of([&] { pki.manager.create_ca("a", {"x", "", "ec-p256", "", 1}); }), "invalid_subject");
  EXPECT_EQ(error_code_of([&] { pki.manager.create_ca("a", {"x", "CN=x", "ec-p256", "nope", 1}); }), "ca_not_found");
  EXPECT_TRUE(pki.manager.list_cas().empty());
}

TEST(CertAuth, IntermediateIsCertifiedByLocalParentWhichRecordsTheChild) {
  PkiHarness pki;
  pki.make_hierarchy();
  auto issuing = pki.manager.get_ca("issuing");
  auto root = pki.manager.get_ca("root");
  EXPECT_EQ(issuing.kind, "intermediate");
  EXPECT_EQ(issuing.status, "active");
  EXPECT_EQ(issuing.parent, "root");
  EXPECT_EQ(root.children, (std::vector<std::string>{"issuing"}));
  CertificateFilter with_der;
  with_der.with_der = true;
  auto child_certs = pki.manager.list_certificates("root", with_der);
  ASSERT_EQ(child_certs.size(), 1u);
  EXPECT_TRUE(pki.manager.list_certificates("root", {}).at(0).der.empty()) << "DER only when asked for";
  EXPECT_EQ(child_certs[0].child_ca, "issuing");
  EXPECT_EQ(child_certs[0].profile, "sub-ca");
  EXPECT_EQ(child_certs[0].der, issuing.certificate_der);
  auto cert = parse_certificate(issuing.certificate_der);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(testing::verify_chain(issuing.certificate_der, {root.certificate_der}, "", pki.clock.now_ms() + 1000), 0);
}

TEST(CertAuth, RevocationRules) {
  PkiHarness pki;
  pki.make_hierarchy();
  auto cert = pki.issue("svc", "DNS:svc.example").certificate;
  auto revoked = pki.manager.revoke("bob", "issuing", cert.serial, "keyCompromise");
  EXPECT_EQ(revoked.status, "revoked");
  EXPECT_EQ(revoked.revocation_reason, "keyCompromise");
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("bob", "issuing", cert.serial, "superseded"); }), "already_revoked");
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("bob", "issuing", "abcdef", ""); }), "certificate_not_found");
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("bob", "issuing", cert.serial, "removeFromCRL"); }), "invalid_reason");
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("bob", "issuing", "not-hex", ""); }), "invalid_serial");
  // The refused revocation is in the history with its actor and error.
  bool found = false;
  pki.manager.store().log().for_each_command("issuing", 1, [&](const CommandRecord& r) {
    if (!r.ok && r.error_code == "already_revoked") found = r.actor == "bob";
    return true;
  });
  EXPECT_TRUE(found);
}

TEST(CertAuth, RenewalRecordsTheChainAndRefusesForks) {
  PkiHarness pki;
  pki.make_hierarchy();
  auto first = pki.issue("svc", "DNS:svc.example").certificate;
  IssueRequest r;
  r.csr = testing::make_csr_pem("svc", "DNS:svc.example");
  auto second = pki.manager.renew("t", "issuing", first.serial, r).certificate;
  EXPECT_EQ(second.replaces, first.serial);
  EXPECT_EQ(second.profile, "server");  // inherited
  EXPECT_EQ(pki.manager.get_certificate("issuing", first.serial).replaced_by, second.serial);
  EXPECT_EQ(error_code_of([&] { pki.manager.renew("t", "issuing", first.serial, r); }), "already_renewed");
  pki.manager.revoke("t", "issuing", second.serial, "superseded");
  EXPECT_EQ(error_code_of([&] { pki.manager.renew("t", "issuing", second.serial, r); }), "certificate_revoked");
  // Server-generated renewal keeps the old names.
  auto third = pki.issue("other", "DNS:other.example").certificate;
  IssueRequest gen;
  gen.key_type = "ec-p256";
  auto renewed = pki.manager.renew("t", "issuing", third.serial, gen);
  EXPECT_EQ(renewed.certificate.sans.dns, (std::vector<std::string>{"other.example"}));
  EXPECT_FALSE(renewed.private_key_pem.empty());
}

TEST(CertAuth, ExpiredCaRefusesToIssue) {
  PkiHarness pki;
  pki.make_hierarchy();
  pki.clock.advance_ms(1826 * kMsPerDay);
  EXPECT_EQ(error_code_of([&] { pki.issue("late", "DNS:late.example"); }), "ca_expired");
  EXPECT_EQ(pki.manager.get_ca("issuing").status, "expired");
}

// apply_encoded (replay without copies) reads issuance and revocation events
// in place; it must end in exactly the state apply(decode_event()) reaches,
// for every event type, and on damaged payloads either agree or both refuse.
TEST(CertAuth, ApplyEncodedEqualsApplyOfTheDecodedEvent) {
  PkiHarness pki;
  pki.make_hierarchy();
  std::vector<std::string> serials;
  for (int i = 0; i < 6; ++i)
    serials.push_back(pki.issue("e" + std::to_string(i), "DNS:e" + std::to_string(i) + ".example").certificate.serial);
  pki.manager.revoke("t", "issuing", serials[0], "keyCompromise");
  pki.manager.revoke_many("t", "issuing", {serials[1], serials[2]}, "superseded");
  IssueRequest renewal;
  renewal.csr = testing::make_csr_pem("e3", "DNS:e3.example");
  pki.manager.renew("t", "issuing", serials[3], renewal);
  pki.manager.ensure_ocsp_responder("t", "issuing", 24);
  size_t fast_paths = 0;
  for (const char* id : {"root", "issuing"}) {
    CertAuth decoded, encoded;
    std::vector<std::string> payloads;
    pki.manager.store().log().for_each_event(id, 1, [&](const EventRecord& r) {
      payloads.push_back(r.payload);
      return true;
    });
    for (const auto& payload : payloads) {
      decoded.apply(CertAuth::decode_event(payload));
      encoded.apply_encoded(payload);
      CaEvent e = CertAuth::decode_event(payload);
      fast_paths += std::holds_alternative<CertificateIssued>(e) || std::holds_alternative<CertificateRevoked>(e);
    }
    EXPECT_EQ(CertAuth::encode_snapshot(encoded), CertAuth::encode_snapshot(decoded)) << id;
    EXPECT_EQ(encoded.events_applied(), payloads.size());
    // In batches (a replay looks ahead), of every size up to all at once.
    for (size_t batch = 1; batch <= payloads.size(); ++batch) {
      CertAuth batched;
      for (size_t at = 0; at < payloads.size(); at += batch) {
        std::vector<std::string_view> views(payloads.begin() + static_cast<long>(at),
                                            payloads.begin() + static_cast<long>(std::min(at + batch, payloads.size())));
        batched.apply_encoded_batch(views);
      }
      EXPECT_EQ(CertAuth::encode_snapshot(batched), CertAuth::encode_snapshot(decoded)) << id << " batch " << batch;
    }

    // Damaged payloads: every truncation and a changed byte at every place.
    for (const auto& payload : payloads) {
      auto both = [&](const std::string& bytes) {
        CertAuth a = decoded, b = decoded;
        std::string code_a = error_code_of([&] { a.apply(CertAuth::decode_event(bytes)); });
        std::string code_b = error_code_of([&] { b.apply_encoded(bytes); });
        EXPECT_EQ(code_a, code_b) << id << " payload of " << payload.size() << " bytes changed";
        if (code_a.empty() && code_b.empty()) {
          EXPECT_EQ(CertAuth::encode_snapshot(a), CertAuth::encode_snapshot(b));
        }
      };
      for (size_t n = 0; n < payload.size(); n += 7) both(payload.substr(0, n));
      for (size_t i = 0; i < payload.size(); i += 5) {
        std::string changed = payload;
        changed[i] = static_cast<char>(changed[i] ^ 0x20);
        both(changed);
      }
    }
  }
  EXPECT_GE(fast_paths, 10u);
}

TEST(CertAuth, ReplayReproducesTheLiveState) {
  PkiHarness pki;
  pki.make_hierarchy();
  for (int i = 0; i < 20; ++i) {
    auto c = pki.issue("n" + std::to_string(i), "DNS:n" + std::to_string(i) + ".example").certificate;
    if (i % 3 == 0) pki.manager.revoke("t", "issuing", c.serial, "superseded");
  }
  for (const char* id : {"root", "issuing"}) {
    CertAuth replayed = pki.manager.store().replay(id);
    pki.manager.store().read(id, [&](const CertAuth& live, uint64_t) {
      EXPECT_EQ(replayed.handle(), live.handle());
      EXPECT_EQ(replayed.key_id(), live.key_id());
      EXPECT_EQ(replayed.ca_cert_der(), live.ca_cert_der());
      EXPECT_EQ(replayed.children(), live.children());
      EXPECT_EQ(replayed.certificates().size(), live.certificates().size());
      EXPECT_EQ(replayed.certificates().revocation_order(), live.certificates().revocation_order());
      EXPECT_EQ(CertAuth::encode_snapshot(replayed), CertAuth::encode_snapshot(live));
      for (CertificateIndex::Position p = 0; p < live.certificates().size(); ++p) {
        IssuedCertificate c = live.describe(p);
        std::optional<IssuedCertificate> r = replayed.find(c.serial);
        EXPECT_TRUE(r);
        if (!r) continue;
        EXPECT_EQ(r->event_version, c.event_version);
        // The event version leads to this certificate's DER in the log.
        X509Ptr cert = parse_certificate(pki.manager.issued_der(id, r->event_version));
        EXPECT_EQ(serial_of(cert.get()), c.serial);
        EXPECT_EQ(r->revoked, c.revoked);
        EXPECT_EQ(r->revoked_at_ms, c.revoked_at_ms);
        EXPECT_EQ(r->revocation_reason, c.revocation_reason);
        EXPECT_EQ(r->replaced_by, c.replaced_by);
      }
      return 0;
    });
  }
}

TEST(CertAuth, SnapshotRoundTripAndStartUpFromSnapshot) {
  PkiHarness pki;
  pki.manager.store().set_snapshot_interval(5);
  pki.make_hierarchy();
  for (int i = 0; i < 12; ++i) {
    auto c = pki.issue("s" + std::to_string(i), "DNS:s.example").certificate;
    if (i % 4 == 0) pki.manager.revoke("t", "issuing", c.serial, "superseded");
  }
  auto snap = pki.manager.store().log().snapshot("issuing");
  ASSERT_TRUE(snap.has_value());
  // Stored in pieces; read back through them, it is the replayed state.
  const auto& log = pki.manager.store().log();
  CertAuth stored = CertAuth::decode_snapshot(snap->state, KvSnapshotPieceSource(pki.kv, log.prefix("issuing")));
  EXPECT_EQ(CertAuth::encode_snapshot(stored),
            CertAuth::encode_snapshot(pki.manager.store().replay("issuing", snap->version)));
  // A second manager over the same storage starts from the snapshot.
  CaManager fresh(pki.kv, pki.signer, pki.clock, CaManagerConfig{"http://pki.test", 5, nullptr});
  std::string loaded = fresh.store().read("issuing", [](const CertAuth& ca, uint64_t) {
    return CertAuth::encode_snapshot(ca);
  });
  EXPECT_EQ(loaded, CertAuth::encode_snapshot(pki.manager.store().replay("issuing")));
  EXPECT_EQ(fresh.list_certificates("issuing", {}).size(), 12u);
}

TEST(CertAuth, NoCaPrivateKeyEverReachesTheEventStore) {
  PkiHarness pki;
  pki.make_hierarchy();
  pki.issue("svc", "DNS:svc.example");
  for (const char* id : {"root", "issuing"}) {
    std::string key_id = pki.manager.get_ca(id).key_id;
    auto der = pki.keys.get(key_id);
    ASSERT_TRUE(der.has_value());
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
    EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der->size())));
    std::string scalar = testing::private_scalar(key.get());
    ASSERT_GE(scalar.size(), 30u);
    pki.kv.scan("", [&](std::string_view k, std::string_view v) {
      EXPECT_EQ(v.find(scalar), std::string_view::npos) << "private key bytes under " << k;
      return true;
    });
  }
}

TEST(CertAuth, EventsRoundTripThroughTheirEncoding) {
  CertificateIssued issued;
  issued.serial = "1234";
  issued.der = std::string("\x30\x00\xff", 3);
  issued.replaces = "ab";
  issued.issued_at_ms = 42;
  CaEvent e = issued;
  CaEvent back = CertAuth::decode_event(CertAuth::encode_event(e));
  const auto& b = std::get<CertificateIssued>(back);
  EXPECT_EQ(b.serial, "1234");
  EXPECT_EQ(b.der, issued.der);
  EXPECT_EQ(b.replaces, "ab");
  EXPECT_EQ(b.issued_at_ms, 42);
  EXPECT_THROW(CertAuth::decode_event("\x02garbage"), Error);
  EXPECT_THROW(CertAuth::decode_event(std::string("\x01\x05", 2)), Error);
}

}  // namespace

// Events written before CertificateIssued gained `requested_by` (class
// version 1) must keep loading: encode one exactly as version 1 did.
struct CertificateIssuedV1 {
  CertificateIssued e;
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t const) {
    ar(e.serial, e.der, e.profile, e.subject, e.not_before_ms, e.not_after_ms, e.replaces, e.child_ca,
       e.issuer_key_id, e.issued_at_ms);
  }
};

template <int N>
struct OtherEvent {  // stands in for the alternatives before and after it
  template <class Ar>
  void serialize(Ar&, std::uint32_t const) {}
};

}  // namespace cairn

CEREAL_CLASS_VERSION(cairn::CertificateIssuedV1, 1)

namespace cairn {
namespace {

TEST(CertAuth, VersionOneEventsStillDecode) {
  CertificateIssuedV1 old;
  old.e.serial = "abcd";
  old.e.der = "der";
  old.e.issued_at_ms = 7;
  std::variant<OtherEvent<0>, OtherEvent<1>, CertificateIssuedV1, OtherEvent<3>> v1 = old;
  std::ostringstream out;
  out.put(1);  // envelope version
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(v1);
  }
  CaEvent decoded = CertAuth::decode_event(out.str());
  const auto& issued = std::get<CertificateIssued>(decoded);
  EXPECT_EQ(issued.serial, "abcd");
  EXPECT_EQ(issued.issued_at_ms, 7);
  EXPECT_EQ(issued.requested_by, "");
}

}  // namespace
}  // namespace cairn
