// CaObjectsStore: the CRL is signed in the same batch as the events.
#include <gtest/gtest.h>

#include "core/crl_builder.h"
#include "core/serial_number.h"
#include "core/x509_time.h"
#include "objects/ca_objects_store.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::error_code_of;

class CrlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    objects.attach(pki.manager.store());
    pki.make_hierarchy();
  }
  uint64_t crl_number(const std::string& ca) { return objects.crl(ca).value().number; }
  std::vector<std::string> crl_serials(const std::string& ca) {
    auto crl = parse_crl(objects.crl(ca)->der);
    std::vector<std::string> out;
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
      BignumPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)), nullptr));
      char* hex = BN_bn2hex(bn.get());
      out.push_back(normalize_serial(hex));
      OPENSSL_free(hex);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::PkiHarness pki;
  CaObjectsStore objects{pki.kv, pki.signer, pki.clock, CaObjectsConfig{24 * 3600 * 1000LL}};
};

TEST_F(CrlTest, EveryActiveCaHasAnEmptySignedCrlFromTheStart) {
  for (const char* ca : {"root", "issuing"}) {
    auto crl_obj = objects.crl(ca);
    ASSERT_TRUE(crl_obj.has_value()) << ca;
    EXPECT_EQ(crl_obj->number, 1u);
    auto crl = parse_crl(crl_obj->der);
    auto cert = parse_certificate(pki.manager.get_ca(ca).certificate_der);
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(cert.get())), 1);
    EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(cert.get())), 0);
    EXPECT_EQ(from_asn1_time(X509_CRL_get0_nextUpdate(crl.get())) - from_asn1_time(X509_CRL_get0_lastUpdate(crl.get())),
              24 * 3600 * 1000LL);
  }
}

TEST_F(CrlTest, RevocationProducesANewCrlWithAHigherNumber) {
  auto a = pki.issue("a", "DNS:a.example").certificate;
  auto b = pki.issue("b", "DNS:b.example").certificate;
  EXPECT_EQ(crl_number("issuing"), 1u);  // issuance does not change the CRL
  pki.manager.revoke("t", "issuing", a.serial, "keyCompromise");
  EXPECT_EQ(crl_number("issuing"), 2u);
  EXPECT_EQ(crl_serials("issuing"), (std::vector<std::string>{a.serial}));
  pki.manager.revoke("t", "issuing", b.serial, "");
  EXPECT_EQ(crl_number("issuing"), 3u);
  auto expected = std::vector<std::string>{a.serial, b.serial};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(crl_serials("issuing"), expected);
  // OpenSSL path validation with the CRL: a is revoked, a fresh one is fine.
  auto c = pki.issue("c", "DNS:c.example").certificate;
  auto crl = objects.crl("issuing")->der;
  auto at = pki.clock.now_ms() + 1000;
  EXPECT_EQ(testing::verify_chain(a.der, pki.ca_ders(), crl, at), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(testing::verify_chain(c.der, pki.ca_ders(), crl, at), X509_V_OK);
  // The reason code and revocation time are on the entry.
  auto parsed = parse_crl(crl);
  X509_REVOKED* entry = nullptr;
  auto serial = serial_to_asn1(a.serial);
  ASSERT_EQ(X509_CRL_get0_by_serial(parsed.get(), &entry, serial.get()), 1);
  auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason), 1);
  ASN1_ENUMERATED_free(reason);
}

TEST_F(CrlTest, ExpiredCertificatesLeaveTheCrl) {
  auto shortlived = pki.issue("s", "DNS:s.example", "server", 1).certificate;
  auto longlived = pki.issue("l", "DNS:l.example", "server", 300).certificate;
  pki.manager.revoke("t", "issuing", shortlived.serial, "superseded");
  pki.clock.advance_ms(2 * kMsPerDay);
  pki.manager.revoke("t", "issuing", longlived.serial, "superseded");
  EXPECT_EQ(crl_serials("issuing"), (std::vector<std::string>{longlived.serial}));
}

TEST_F(CrlTest, FailedWriteLeavesNeitherRevocationNorCrl) {
  auto a = pki.issue("a", "DNS:a.example").certificate;
  auto before = objects.crl("issuing")->der;
  pki.kv.fail_write_number(1);
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("t", "issuing", a.serial, ""); }), "storage_error");
  EXPECT_EQ(objects.crl("issuing")->der, before);
  EXPECT_EQ(pki.manager.get_certificate("issuing", a.serial).status, "valid");
  pki.manager.revoke("t", "issuing", a.serial, "");  // the retry works
  EXPECT_EQ(crl_number("issuing"), 2u);
}

TEST_F(CrlTest, KeptEntriesNeverOutliveAFailedCommandOrARestart) {
  auto a = pki.issue("a", "DNS:a.example").certificate;
  auto b = pki.issue("b", "DNS:b.example").certificate;
  auto c = pki.issue("c", "DNS:c.example").certificate;
  pki.manager.revoke("t", "issuing", a.serial, "");
  // The entry for b is encoded, then the batch fails: b stays valid ...
  pki.kv.fail_write_number(1);
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("t", "issuing", b.serial, "keyCompromise"); }), "storage_error");
  // ... and a later revocation of another certificate must not list it.
  pki.manager.revoke("t", "issuing", c.serial, "");
  auto expected = std::vector<std::string>{a.serial, c.serial};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(crl_serials("issuing"), expected);
  auto crl = parse_crl(objects.crl("issuing")->der);
  auto cert = parse_certificate(pki.manager.get_ca("issuing").certificate_der);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(cert.get())), 1);
  // A fresh store (a restart) builds the same list from the state alone.
  CaObjectsStore restarted{pki.kv, pki.signer, pki.clock, CaObjectsConfig{24 * 3600 * 1000LL}};
  restarted.attach(pki.manager.store());
  pki.manager.revoke("t", "issuing", b.serial, "");
  expected.push_back(b.serial);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(crl_serials("issuing"), expected);
}

TEST_F(CrlTest, ARetriedRevocationIsListedAsRetriedNotAsFailed) {
  pki.issue("a", "DNS:a.example");
  auto b = pki.issue("b", "DNS:b.example").certificate;
  // The failed command encoded b as keyCompromise; the retry says superseded
  // a few seconds later: same serial at the same place in the order.
  pki.kv.fail_write_number(1);
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("t", "issuing", b.serial, "keyCompromise"); }), "storage_error");
  pki.clock.advance_ms(5000);
  pki.manager.revoke("t", "issuing", b.serial, "superseded");
  auto crl = parse_crl(objects.crl("issuing")->der);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(sk_X509_REVOKED_num(revoked), 1);
  X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, 0);
  Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
  ASSERT_TRUE(reason);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), 4) << "superseded, not keyCompromise";
  EXPECT_EQ(from_asn1_time(X509_REVOKED_get0_revocationDate(entry)), pki.manager.get_certificate("issuing", b.serial).revoked_at_ms);
}

TEST_F(CrlTest, ReissueBeforeNextUpdateAddsNoHistory) {
  auto a = pki.issue("a", "DNS:a.example").certificate;
  pki.manager.revoke("t", "issuing", a.serial, "keyCompromise");
  auto head = pki.manager.store().log().head("issuing");
  EXPECT_FALSE(objects.reissue_if_due(pki.manager.store(), "issuing"));  // fresh: nothing to do
  pki.clock.advance_ms(13 * 3600 * 1000LL);  // more than half of the 24 h validity gone
  EXPECT_TRUE(objects.reissue_if_due(pki.manager.store(), "issuing"));
  auto crl = *objects.crl("issuing");
  EXPECT_EQ(crl.number, 3u);
  EXPECT_EQ(crl.this_update_ms, pki.clock.now_ms() - pki.clock.now_ms() % 1000);
  EXPECT_EQ(crl_serials("issuing"), (std::vector<std::string>{a.serial}));
  EXPECT_FALSE(objects.reissue_if_due(pki.manager.store(), "issuing"));
  auto after = pki.manager.store().log().head("issuing");
  EXPECT_EQ(after.version, head.version);
  EXPECT_EQ(after.command_seq, head.command_seq);
  // Still valid for relying parties a full day after the revocation.
  pki.clock.advance_ms(13 * 3600 * 1000LL);
  objects.reissue_if_due(pki.manager.store(), "issuing");
  EXPECT_EQ(testing::verify_chain(a.der, pki.ca_ders(), objects.crl("issuing")->der, pki.clock.now_ms()),
            X509_V_ERR_CERT_REVOKED);
}

// The CRL kept in memory for serving always equals the stored one: after a
// revocation, a failed revocation and a re-signing. (Both keys' CRLs after a
// rollover: BackgroundTasksTest.KeyRollover* reads them through the same call.)
TEST_F(CrlTest, TheServedCrlFollowsEveryChangeOfTheStoredOne) {
  auto served = [&](int generation = -1) {
    return pki.manager.store().read("issuing", [&](const CertAuth& state, uint64_t) {
      return objects.crl_of_generation(state, "issuing", generation < 0 ? state.key_generation() : generation);
    });
  };
  auto a = pki.issue("a", "DNS:a.example").certificate;
  auto b = pki.issue("b", "DNS:b.example").certificate;
  auto first = served();
  ASSERT_TRUE(first);
  EXPECT_EQ(served().get(), first.get());  // kept, not read again
  EXPECT_EQ(first->der, objects.crl("issuing")->der);

  pki.manager.revoke("t", "issuing", a.serial, "keyCompromise");
  EXPECT_EQ(served()->number, 2u);
  EXPECT_EQ(served()->der, objects.crl("issuing")->der);

  pki.kv.fail_write_number(1);  // the next command's batch
  EXPECT_EQ(error_code_of([&] { pki.manager.revoke("t", "issuing", b.serial, ""); }), "storage_error");
  EXPECT_EQ(served()->number, 2u);
  EXPECT_EQ(served()->der, objects.crl("issuing")->der);

  pki.clock.advance_ms(13 * 3600 * 1000LL);
  ASSERT_TRUE(objects.reissue_if_due(pki.manager.store(), "issuing"));
  EXPECT_EQ(served()->number, 3u);
  EXPECT_EQ(served()->der, objects.crl("issuing")->der);
}

TEST_F(CrlTest, ChildCaRevocationAppearsOnTheParentsCrl) {
  auto child_serial = pki.manager.list_certificates("root", {}).at(0).serial;
  pki.manager.revoke("t", "root", child_serial, "cACompromise");
  EXPECT_EQ(crl_serials("root"), (std::vector<std::string>{child_serial}));
}

// The CRL's number has a key of its own ("o/crl-number/<ca>", a portable
// binary archive of one uint64), written in the CRL's batch.
std::string number_value(uint64_t n) {
  std::string out(1, '\1');
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out;
}

// A CRL built by `objects` as if the CA's revocations had changed, written.
void rebuild_crl_by_hand(testing::PkiHarness& pki, CaObjectsStore& objects) {
  WriteBatch batch;
  pki.manager.store().read("issuing", [&](const CertAuth& state, uint64_t) {
    objects.before_save("issuing", state, {CaEvent{CertificateRevoked{}}}, batch);
  });
  pki.kv.write(batch, Durability::Sync);
}

TEST(CrlNumbers, AStaleOrMissingNumberKeyNeverTakesTheNumberBack) {
  testing::PkiHarness pki;
  const CaObjectsConfig config{24 * 3600 * 1000LL};
  CaObjectsStore objects{pki.kv, pki.signer, pki.clock, config};
  objects.attach(pki.manager.store());
  pki.make_hierarchy();
  auto a = pki.issue("a", "DNS:a.example").certificate;
  pki.manager.revoke("t", "issuing", a.serial, "");
  ASSERT_EQ(read_crl_object(pki.kv, "issuing")->number, 2u);
  EXPECT_EQ(pki.kv.get("o/crl-number/issuing"), number_value(2));

  // A version without the number's key signed CRLs after this one wrote the
  // key (a downgrade and back): the key says 1, the CRL 2. The next CRL, in
  // a new process, is number 3, and the key follows.
  WriteBatch stale;
  stale.put("o/crl-number/issuing", number_value(1));
  pki.kv.write(stale, Durability::Sync);
  CaObjectsStore restarted{pki.kv, pki.signer, pki.clock, config};  // its listener called by hand
  rebuild_crl_by_hand(pki, restarted);
  EXPECT_EQ(read_crl_object(pki.kv, "issuing")->number, 3u);
  EXPECT_EQ(pki.kv.get("o/crl-number/issuing"), number_value(3));
  // Key and record agree now, so the key alone is read from here on (shown
  // by a key set ahead of the record, which cairn itself never writes).
  WriteBatch ahead;
  ahead.put("o/crl-number/issuing", number_value(9));
  pki.kv.write(ahead, Durability::Sync);
  rebuild_crl_by_hand(pki, restarted);
  EXPECT_EQ(read_crl_object(pki.kv, "issuing")->number, 10u);

  // A database from before the key: the number comes from the CRL, also
  // after the first CRL of the process fails to be written.
  WriteBatch gone;
  gone.erase("o/crl-number/issuing");
  pki.kv.write(gone, Durability::Sync);
  CaObjectsStore upgraded{pki.kv, pki.signer, pki.clock, config};
  pki.kv.fail_write_number(1);
  EXPECT_EQ(error_code_of([&] { rebuild_crl_by_hand(pki, upgraded); }), "storage_error");
  rebuild_crl_by_hand(pki, upgraded);
  EXPECT_EQ(read_crl_object(pki.kv, "issuing")->number, 11u);
  EXPECT_EQ(pki.kv.get("o/crl-number/issuing"), number_value(11));
}

// The CRL is spliced together by hand (entries, TBS and the whole written
// at their final sizes). With entries of 42 bytes, the counts put the
// entries' length on both sides of each point where a DER length takes one
// more byte (128, 256, 65,536), and the TBS's and the CRL's lengths (some
// 200 and 300 bytes more) across 256 and 65,536 too; OpenSSL must read each CRL, list every entry, and verify
// its signature. (0 entries: OpenSSL's own CRL, not spliced.)
TEST(CrlSplicing, OpenSslReadsAndVerifiesCrlsAcrossEveryLengthBoundary) {
  testing::PkiHarness pki;
  pki.make_hierarchy();
  CaView issuing = pki.manager.get_ca("issuing");
  auto cert = parse_certificate(issuing.certificate_der);
  std::string one = encode_revoked_entry({"3a9c1f0e2d4b5a6978", 1'700'000'000'000, 1});
  ASSERT_EQ(one.size(), 42u);
  std::vector<size_t> counts;  // 0-8 cross 128 and 256; 1545-1565, 65,536
  for (size_t n = 0; n <= 8; ++n) counts.push_back(n);
  for (size_t n = 1545; n <= 1565; ++n) counts.push_back(n);
  for (size_t count : counts) {
    CrlTemplate t;
    t.issuer = cert.get();
    t.number = count + 1;
    t.this_update_ms = 1'700'000'000'000;
    t.next_update_ms = t.this_update_ms + 3'600'000;
    std::string entries;
    for (size_t i = 0; i < count; ++i) entries += one;
    std::string der = build_crl_with_entries(t, entries, pki.signer, issuing.key_id);
    auto crl = parse_crl(der);
    ASSERT_TRUE(crl) << count;
    STACK_OF(X509_REVOKED)* listed = X509_CRL_get_REVOKED(crl.get());  // null when empty
    EXPECT_EQ(listed ? sk_X509_REVOKED_num(listed) : 0, static_cast<int>(count));
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(cert.get())), 1) << count;
    unsigned char* again = nullptr;
    int length = i2d_X509_CRL(crl.get(), &again);
    ASSERT_GT(length, 0);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(again), static_cast<size_t>(length)), der) << count;  // DER: one encoding
    OPENSSL_free(again);
  }
}

}  // namespace
}  // namespace cairn
