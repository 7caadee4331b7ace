// Parsers of untrusted input: CSRs, subjects, serials, reasons, names.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "core/certificate_request.h"
#include "core/distinguished_name.h"
#include "core/revocation_reason.h"
#include "core/serial_number.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::error_code_of;

TEST(CsrParsing, AcceptsPemAndDerAndReadsNames) {
  auto csr = testing::make_csr("svc.example", "DNS:SVC.example,IP:10.0.0.1,DNS:svc.example");
  auto parsed = parse_certificate_request(csr.pem);
  EXPECT_EQ(parsed.subject, "CN=svc.example");
  EXPECT_EQ(parsed.key_type, "ec-p256");
  EXPECT_EQ(parsed.sans.dns, (std::vector<std::string>{"svc.example"}));  // lower-cased, deduplicated
  EXPECT_EQ(parsed.sans.ip, (std::vector<std::string>{"10.0.0.1"}));
  auto again = parse_certificate_request(parsed.der);
  EXPECT_EQ(again.der, parsed.der);
}

TEST(CsrParsing, RejectsGarbageTamperingWeakKeysAndOversizeInput) {
  EXPECT_EQ(error_code_of([] { parse_certificate_request("hello"); }), "invalid_csr");
  EXPECT_EQ(error_code_of([] { parse_certificate_request(""); }), "invalid_csr");
  EXPECT_EQ(error_code_of([] {
              parse_certificate_request("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
            }),
            "invalid_csr");
  auto der = parse_certificate_request(testing::make_csr_pem("x", "DNS:x.example")).der;
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(der + "trailing"); }), "invalid_csr");
  std::string tampered = der;
  tampered[tampered.size() - 3] ^= 0x01;  // inside the signature value
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(tampered); }), "csr_signature_invalid");
  // A CSR whose subject was changed after signing.
  std::string forged = der;
  auto pos = forged.find("x.example");
  ASSERT_NE(pos, std::string::npos);
  forged[pos] = 'y';
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(forged); }), "csr_signature_invalid");
  EXPECT_EQ(error_code_of([] { parse_certificate_request(std::string(70000, 'A')); }), "invalid_csr");

  EvpPkeyPtr weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), weak.get());
  X509_REQ_sign(req.get(), weak.get(), EVP_sha256());
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(to_der(req.get())); }), "weak_key");
}

TEST(SubjectParsing, CommaAndSlashForms) {
  EXPECT_EQ(format_name(parse_subject("CN=Example Root, O=Example Corp, C=NL").get()),
            "CN=Example Root,O=Example Corp,C=NL");
  EXPECT_EQ(format_name(parse_subject("/CN=a/O=b").get()), "CN=a,O=b");
  EXPECT_EQ(common_name(parse_subject("O=x,CN=Comma\\, Inc").get()), "Comma, Inc");
  EXPECT_EQ(error_code_of([] { parse_subject("CN=x,FOO=y"); }), "invalid_subject");
  EXPECT_EQ(error_code_of([] { parse_subject("C=USA"); }), "invalid_subject");
  EXPECT_EQ(error_code_of([] { parse_subject("CN="); }), "invalid_subject");
  EXPECT_EQ(error_code_of([] { parse_subject("just text"); }), "invalid_subject");
  EXPECT_EQ(error_code_of([] { parse_subject(std::string("CN=a\nb")); }), "invalid_subject");
  EXPECT_EQ(error_code_of([] { parse_subject("CN=" + std::string(65, 'a')); }), "invalid_subject");
}

TEST(SerialParsing, NormalisesAndRejects) {
  EXPECT_EQ(normalize_serial("AB:CD:01"), "abcd01");
  EXPECT_EQ(normalize_serial("00ff"), "ff");
  EXPECT_EQ(error_code_of([] { normalize_serial("xyz"); }), "invalid_serial");
  EXPECT_EQ(error_code_of([] { normalize_serial(""); }), "invalid_serial");
  EXPECT_EQ(error_code_of([] { normalize_serial(std::string(41, '1')); }), "invalid_serial");
}

// Serials are cut from per-thread blocks of CSPRNG output: no two alike,
// across threads, and a forked child does not repeat its parent's next one.
TEST(SerialNumbers, RandomDistinctPositiveAcrossThreadsAndForks) {
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<std::string>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kEach; ++i) drawn[t].push_back(random_serial());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& serials : drawn)
    for (const auto& s : serials) {
      ASSERT_EQ(s.size(), 40u) << s;
      EXPECT_TRUE(s[0] >= '1' && s[0] <= '7') << s;  // positive, first octet >= 0x10
      EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
      all.insert(s);
    }
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});

  random_serial();  // this thread's block is now partly used
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      std::string s = random_serial();
      _exit(write(pipe_fds[1], s.data(), s.size()) == static_cast<ssize_t>(s.size()) ? 0 : 2);
    } catch (...) {
      _exit(3);
    }
  }
  close(pipe_fds[1]);
  std::string from_child(40, '\0');
  ssize_t got = read(pipe_fds[0], from_child.data(), from_child.size());
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, 40);
  EXPECT_NE(from_child, random_serial());
}

TEST(RevocationReasons, NamesAndCodes) {
  EXPECT_EQ(parse_revocation_reason("keyCompromise"), 1);
  EXPECT_EQ(parse_revocation_reason("aACompromise"), 10);
  EXPECT_EQ(revocation_reason_name(5), "cessationOfOperation");
  EXPECT_EQ(error_code_of([] { parse_revocation_reason("removeFromCRL"); }), "invalid_reason");
  EXPECT_EQ(error_code_of([] { parse_revocation_reason("certificateHold"); }), "invalid_reason");
}

TEST(SubjectAltNamesRules, SyntaxChecks) {
  EXPECT_TRUE(is_valid_dns_name("a-b.example.com", false));
  EXPECT_TRUE(is_valid_dns_name("*.example.com", true));
  EXPECT_FALSE(is_valid_dns_name("*.example.com", false));
  EXPECT_FALSE(is_valid_dns_name("-a.example", false));
  EXPECT_FALSE(is_valid_dns_name("a..b", false));
  EXPECT_FALSE(is_valid_dns_name(std::string(64, 'a') + ".com", false));
  SubjectAltNames ipv6{{}, {"2001:DB8:0:0:0:0:0:1"}, {}, {}};
  ipv6.normalize();
  EXPECT_EQ(ipv6.ip, (std::vector<std::string>{"2001:db8::1"}));
  SubjectAltNames bad_ip{{}, {"300.1.1.1"}, {}, {}};
  EXPECT_EQ(error_code_of([&] { bad_ip.normalize(); }), "invalid_san");
  SubjectAltNames bad_email{{}, {}, {"no-at-sign"}, {}};
  EXPECT_EQ(error_code_of([&] { bad_email.normalize(); }), "invalid_san");
  SubjectAltNames bad_uri{{}, {}, {}, {"not a uri"}};
  EXPECT_EQ(error_code_of([&] { bad_uri.normalize(); }), "invalid_san");
  SubjectAltNames many;
  for (int i = 0; i < 101; ++i) many.dns.push_back("h" + std::to_string(i) + ".example");
  EXPECT_EQ(error_code_of([&] { many.normalize(); }), "too_many_sans");
}

}  // namespace
}  // namespace cairn
