// Leaf certificates signed before the CA's lock (CertAuth::presign): used
// only when the command would sign exactly the same bytes with the same
// key, and signed again by the command otherwise.
#include <gtest/gtest.h>

#include "core/der_reader.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::PkiHarness;

// Whether `der` is the presigned certificate: its serial, its to-be-signed
// bytes and its signature.
bool is_presigned(const CertificateIssued& issued, const PresignedCertificate& p) {
  auto outer = der_single(issued.der, der_tag::kSequence);
  if (!outer) return false;
  DerReader r(outer->content);
  auto tbs = r.next_if(der_tag::kSequence);
  auto algorithm = r.next_if(der_tag::kSequence);
  auto bits = r.next_if(der_tag::kBitString);
  return tbs && algorithm && bits && issued.serial == p.serial && tbs->whole == p.tbs &&
         bits->content.substr(1) == p.signature;
}

class Presign : public ::testing::Test {
 protected:
  void SetUp() override { pki.make_hierarchy(); }

  IssueCertificate command(const std::string& name) { return testing::server_issue_command(name); }
  CommandMeta meta(int64_t time_ms) {
    CommandMeta m;
    m.actor = "test";
    m.time_ms = time_ms;
    return m;
  }
  CertAuth::LeafIssuer leaf_issuer() {
    auto issuer = pki.manager.store().peek("issuing", [&](const CertAuth& s) {
      return s.leaf_issuer(pki.clock.now_ms());
    });
    EXPECT_TRUE(issuer && *issuer);
    return **issuer;
  }
  CertificateIssued process(const IssueCertificate& c, const CommandMeta& m) {
    CaContext context{pki.signer, "http://pki.test", pki.manager.profiles()};
    auto outcome = pki.manager.store().process("issuing", c, m, context);
    return std::get<CertificateIssued>(outcome.events.at(0));
  }
  void expect_valid(const std::string& der) {
    EXPECT_EQ(testing::verify_chain(der, pki.ca_ders(), "", pki.clock.now_ms() + 1000), 0);
  }

  PkiHarness pki;
  CaContext ctx{pki.signer, "http://pki.test", pki.manager.profiles()};
};

TEST_F(Presign, IssuanceThroughTheManagerUsesTheSignatureMadeBeforeTheLock) {
  for (int i = 0; i < 5; ++i) expect_valid(pki.issue("n" + std::to_string(i) + ".example", "DNS:n.example").certificate.der);
  EXPECT_EQ(pki.manager.presign_stats().used, 5u);
  EXPECT_EQ(pki.manager.presign_stats().discarded, 0u);
}

TEST_F(Presign, AnUnchangedCaTakesThePresignedCertificateAsIs) {
  IssueCertificate c = command("same.example");
  CommandMeta m = meta(pki.clock.now_ms());
  c.presigned = CertAuth::presign(c, leaf_issuer(), m, ctx);
  ASSERT_TRUE(c.presigned);
  CertificateIssued issued = process(c, m);
  EXPECT_TRUE(is_presigned(issued, *c.presigned));
  expect_valid(issued.der);
}

TEST_F(Presign, DifferentBytesAreSignedAgain) {
  IssueCertificate c = command("late.example");
  CommandMeta m = meta(pki.clock.now_ms());
  c.presigned = CertAuth::presign(c, leaf_issuer(), m, ctx);
  ASSERT_TRUE(c.presigned);
  // The command runs at another time: other validity, other bytes.
  CertificateIssued issued = process(c, meta(m.time_ms + 60'000));
  EXPECT_FALSE(is_presigned(issued, *c.presigned));
  // A fresh serial: the key never signs two certificates with one serial.
  EXPECT_NE(issued.serial, c.presigned->serial);
  expect_valid(issued.der);
}

TEST_F(Presign, ASignatureOfAnotherKeyIsNeverTaken) {
  IssueCertificate c = command("key.example");
  CommandMeta m = meta(pki.clock.now_ms());
  auto presigned = CertAuth::presign(c, leaf_issuer(), m, ctx);
  ASSERT_TRUE(presigned);
  // Same to-be-signed bytes, but said to be signed by another key.
  auto other = std::make_shared<PresignedCertificate>(*presigned);
  other->key_id = "0000";
  c.presigned = other;
  CertificateIssued issued = process(c, m);
  EXPECT_FALSE(is_presigned(issued, *presigned));
  EXPECT_NE(issued.serial, presigned->serial);
  expect_valid(issued.der);
}

TEST_F(Presign, AForgedPresignedCertificateIsNotTaken) {
  IssueCertificate c = command("forged.example");
  CommandMeta m = meta(pki.clock.now_ms());
  auto forged = std::make_shared<PresignedCertificate>();
  forged->key_id = leaf_issuer().key_id;
  forged->serial = "0abc";
  forged->tbs = "not the bytes";
  forged->signature = "not a signature";
  c.presigned = forged;
  CertificateIssued issued = process(c, m);
  EXPECT_FALSE(is_presigned(issued, *forged));
  EXPECT_NE(issued.serial, forged->serial);
  expect_valid(issued.der);
}

TEST_F(Presign, AUsedSerialIsNeverIssuedTwice) {
  IssueCertificate c = command("twice.example");
  CommandMeta m = meta(pki.clock.now_ms());
  c.presigned = CertAuth::presign(c, leaf_issuer(), m, ctx);
  ASSERT_TRUE(c.presigned);
  CertificateIssued first = process(c, m);
  ASSERT_TRUE(is_presigned(first, *c.presigned));
  CertificateIssued second = process(c, m);  // the same presigned certificate again
  EXPECT_FALSE(is_presigned(second, *c.presigned));
  EXPECT_NE(second.serial, first.serial);
  expect_valid(second.der);
}

// A key rollover in between: BackgroundTasksTest.AKeyRolloverAfterPresigningSignsWithTheNewKey.

TEST_F(Presign, NothingIsPresignedForCommandsThatWouldNotIssue) {
  CommandMeta m = meta(pki.clock.now_ms());
  IssueCertificate bad_key = command("bad.example");
  bad_key.public_key_der = "junk";
  EXPECT_FALSE(CertAuth::presign(bad_key, leaf_issuer(), m, ctx));
  IssueCertificate unknown_profile = command("p.example");
  unknown_profile.profile = "no-such-profile";
  EXPECT_FALSE(CertAuth::presign(unknown_profile, leaf_issuer(), m, ctx));
}

}  // namespace
}  // namespace cairn
