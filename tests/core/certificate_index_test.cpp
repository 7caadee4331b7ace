// CertificateIndex: lookups, links, revocation order and its digest, copies,
// and the snapshot encoding (round trip, deterministic, damage refused).
#include <gtest/gtest.h>

#include "core/cert_auth.h"
#include "core/certificate_index.h"
#include "core/serial_number.h"
#include "eventstore/records.h"
#include "tests/core/pki_fixtures.h"

namespace cairn::testing {
namespace {

// An issuance's fields, owned (IssuedFields only views them).
struct Issued : CertificateIssued {
  operator IssuedFields() const {  // NOLINT: converts where add() wants views
    return IssuedFields{serial, profile, subject, replaces, child_ca, issuer_key_id, requested_by,
                        not_before_ms, not_after_ms, issued_at_ms};
  }
};

Issued issued(const std::string& serial, const std::string& profile = "server",
              const std::string& requester = "alice", const std::string& key = "k0") {
  Issued e;
  e.serial = serial;
  e.der = "DER of " + serial;
  e.profile = profile;
  e.subject = "CN=" + serial.substr(0, 8) + ".example";
  e.not_before_ms = 1'000'000;
  e.not_after_ms = 2'000'000 + static_cast<int64_t>(serial.size());
  e.issued_at_ms = 1'000'500;
  e.issuer_key_id = key;
  e.requested_by = requester;
  return e;
}

TEST(CertificateIndex, FindsWhatWasAddedAndNothingElse) {
  CertificateIndex index;
  std::vector<std::string> serials;
  for (int i = 0; i < 5000; ++i) {  // several table growths
    serials.push_back(random_serial());
    EXPECT_EQ(index.add(issued(serials.back()), 10 + i), static_cast<CertificateIndex::Position>(i));
  }
  for (size_t i = 0; i < serials.size(); ++i) {
    CertificateIndex::Position p = index.find(serials[i]);
    ASSERT_EQ(p, i);
    const auto& e = index.at(p);
    EXPECT_EQ(index.serial(e), serials[i]);
    EXPECT_EQ(e.event_version, 10 + i);
    EXPECT_EQ(index.subject(e), "CN=" + serials[i].substr(0, 8) + ".example");
    EXPECT_EQ(index.profile(e), "server");
    EXPECT_EQ(index.requester(e), "alice");
    EXPECT_EQ(index.issuer_key_id(e), "k0");
  }
  EXPECT_EQ(index.find(random_serial()), CertificateIndex::kNone);
  EXPECT_EQ(index.find("not hex"), CertificateIndex::kNone);
  EXPECT_EQ(index.find(""), CertificateIndex::kNone);
  EXPECT_EQ(index.find(std::string(41, '1')), CertificateIndex::kNone);
}

TEST(CertificateIndex, KeepsShortAndOddLengthSerialsApart) {
  CertificateIndex index;
  for (const char* s : {"1", "01", "10", "abc", "0abc", "abc0"}) index.add(issued(s), 1);
  for (const char* s : {"1", "01", "10", "abc", "0abc", "abc0"}) {
    CertificateIndex::Position p = index.find(s);
    ASSERT_NE(p, CertificateIndex::kNone) << s;
    EXPECT_EQ(index.serial(index.at(p)), s);
  }
}

TEST(CertificateIndex, RefusesDamagedHistory) {
  CertificateIndex index;
  index.add(issued("0a"), 1);
  EXPECT_EQ(error_code_of([&] { index.add(issued("0a"), 2); }), "corrupt_record");
  EXPECT_EQ(error_code_of([&] { index.add(issued("0A"), 2); }), "corrupt_record");
  EXPECT_EQ(error_code_of([&] { index.add(issued(std::string(42, 'a')), 2); }), "corrupt_record");
  EXPECT_EQ(index.size(), 1u);
}

TEST(CertificateIndex, LinksRenewalsAndTracksExpiryPerKey) {
  CertificateIndex index;
  auto a = index.add(issued("aa", "server", "alice", "k0"), 1);
  Issued renewal = issued("bb", "server", "alice", "k1");
  renewal.replaces = "aa";
  auto b = index.add(renewal, 2);
  EXPECT_EQ(index.at(a).replaced_by, b);
  EXPECT_EQ(index.at(b).replaces, a);
  EXPECT_EQ(index.at(b).replaced_by, CertificateIndex::kNone);
  EXPECT_EQ(index.last_expiry_of_key("k0"), index.at(a).not_after_ms);
  EXPECT_EQ(index.last_expiry_of_key("k1"), index.at(b).not_after_ms);
  EXPECT_EQ(index.last_expiry_of_key("k2"), 0);
}

TEST(CertificateIndex, RevocationOrderAndDigestFollowEveryDetail) {
  CertificateIndex one, two;
  for (auto* index : {&one, &two})
    for (const char* s : {"01", "02", "03"}) index->add(issued(s), 1);
  one.revoke(2, 5000, 1);
  one.revoke(0, 6000, 0);
  one.revoke(2, 7000, 4);  // a second revocation changes the entry, not the order
  EXPECT_EQ(one.revocation_order(), (std::vector<CertificateIndex::Position>{2, 0}));
  EXPECT_EQ(one.revoked_count(), 2u);
  EXPECT_EQ(one.at(2).revocation_reason, 4);

  two.revoke(2, 5000, 1);
  EXPECT_EQ(two.revocation_digest(1), one.revocation_digest(1));
  two.revoke(0, 6000, 1);  // same certificate, another reason
  EXPECT_NE(two.revocation_digest(2), one.revocation_digest(2));
  EXPECT_EQ(one.revocation_digest(0), 0u);
}

TEST(CertificateIndex, CopiesAreIndependent) {
  auto original = std::make_unique<CertificateIndex>();
  original->add(issued("01", "client", "bob"), 1);
  CertificateIndex copy(*original);
  copy.add(issued("02", "client", "carol"), 2);
  EXPECT_EQ(original->size(), 1u);
  original.reset();  // the copy's string tables must not point into it
  EXPECT_TRUE(copy.profile_id("client"));
  EXPECT_TRUE(copy.requester_id("bob"));
  EXPECT_TRUE(copy.requester_id("carol"));
  EXPECT_EQ(copy.find("01"), 0u);
  EXPECT_EQ(copy.find("02"), 1u);
}

CertificateIndex sample() {
  CertificateIndex index;
  for (int i = 0; i < 300; ++i) {
    Issued e = issued(random_serial(), i % 3 ? "server" : "client", i % 2 ? "alice" : "bob");
    if (i == 7) e.child_ca = "issuing";
    auto p = index.add(e, static_cast<uint64_t>(i + 3));
    if (i == 7) index.keep_der(p, e.der);
    if (i % 5 == 0) index.revoke(p, 9000 + i, i % 4);
  }
  return index;
}

TEST(CertificateIndex, EncodingRoundTripsDeterministically) {
  CertificateIndex index = sample();
  std::string bytes = index.encode();
  CertificateIndex back = CertificateIndex::decode(bytes);
  EXPECT_EQ(back.encode(), bytes);
  ASSERT_EQ(back.size(), index.size());
  for (CertificateIndex::Position p = 0; p < index.size(); ++p) {
    EXPECT_EQ(back.find(index.serial(index.at(p))), p);
    EXPECT_EQ(back.subject(back.at(p)), index.subject(index.at(p)));
  }
  EXPECT_EQ(back.revocation_order(), index.revocation_order());
  EXPECT_EQ(back.revocation_digest(back.revoked_count()), index.revocation_digest(index.revoked_count()));
  EXPECT_EQ(back.child_ca(7), "issuing");
  ASSERT_TRUE(back.kept_der(7));
  EXPECT_EQ(*back.kept_der(7), "DER of " + index.serial(index.at(7)));
  // Growing after a decode gives what growing the original gives.
  Issued more = issued(random_serial());
  index.add(more, 400);
  back.add(more, 400);
  EXPECT_EQ(back.encode(), index.encode());
}

// The encoding is stored in snapshots: it must not change by accident (a
// snapshot of an earlier layout is refused and the CA replayed). The digest
// was taken with the encoder before its appends were batched.
TEST(CertificateIndex, EncodingKeepsItsLayout) {
  CertificateIndex index;
  for (int i = 0; i < 40; ++i) {
    char serial[41];
    std::snprintf(serial, sizeof serial, "%02x%038d", 0x10 + i, i * 7919);
    Issued e = issued(serial, i % 3 ? "server" : "client", i % 2 ? "alice" : "bob", i < 20 ? "k0" : "k1");
    if (i == 7) e.child_ca = "issuing";
    if (i == 30) e.replaces = index.serial(index.at(3));
    auto p = index.add(e, static_cast<uint64_t>(i + 3));
    if (i == 7) index.keep_der(p, e.der);
    if (i % 5 == 0) index.revoke(p, 9000 + i, i % 4);
  }
  EXPECT_EQ(to_hex(sha256(index.encode())), "eb773877517a58b05927e3518f5313ef384047008bc626c3373665083927bbc2");
}

TEST(CertificateIndex, DecodeRefusesTruncationsAndTrailingBytes) {
  std::string bytes = sample().encode();
  for (size_t n = 0; n < bytes.size(); n += 97)
    EXPECT_EQ(error_code_of([&] { CertificateIndex::decode(std::string_view(bytes).substr(0, n)); }), "corrupt_record")
        << "truncated to " << n;
  EXPECT_EQ(error_code_of([&] { CertificateIndex::decode(bytes + "x"); }), "corrupt_record");
}

TEST(CertificateIndex, DecodeNeverCrashesOnChangedBytes) {
  CertificateIndex small;
  small.add(issued("0102"), 1);
  small.add(issued("0304"), 2);
  small.revoke(1, 5, 1);
  std::string bytes = small.encode();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string changed = bytes;
    changed[i] = static_cast<char>(changed[i] ^ 0x41);
    try {
      CertificateIndex x = CertificateIndex::decode(changed);
      for (CertificateIndex::Position p = 0; p < x.size(); ++p) (void)x.subject(x.at(p));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "corrupt_record") << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace cairn::testing
