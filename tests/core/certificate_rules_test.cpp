// RFC 5280 certificate building rules, per profile.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/subject_alt_names.h"
#include "core/x509_time.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::error_code_of;
using testing::PkiHarness;

class CertificateRules : public ::testing::Test {
 protected:
  void SetUp() override { pki.make_hierarchy(); }
  X509Ptr issue_cert(const std::string& cn, const std::string& sans, const std::string& profile) {
    return parse_certificate(pki.issue(cn, sans, profile).certificate.der);
  }
  static bool has_eku(X509* cert, int nid) {
    auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr));
    bool found = false;
    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); ++i)
      found = found || OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid;
    EXTENDED_KEY_USAGE_free(eku);
    return found;
  }
  static bool is_critical(X509* cert, int nid) {
    int idx = X509_get_ext_by_NID(cert, nid, -1);
    return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
  }
  PkiHarness pki;
};

TEST_F(CertificateRules, ServerProfile) {
  auto cert = issue_cert("api.example.com", "DNS:api.example.com,IP:10.1.2.3", "server");
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(is_critical(cert.get(), NID_basic_constraints));
  EXPECT_TRUE(is_critical(cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_TRUE(has_eku(cert.get(), NID_server_auth));
  EXPECT_FALSE(has_eku(cert.get(), NID_client_auth));
  auto sans = SubjectAltNames::from_certificate(cert.get());
  EXPECT_EQ(sans.dns, (std::vector<std::string>{"api.example.com"}));
  EXPECT_EQ(sans.ip, (std::vector<std::string>{"10.1.2.3"}));
  EXPECT_EQ(testing::verify_chain(pki.issue("a.example", "DNS:a.example").certificate.der, pki.ca_ders(), "",
                                  pki.clock.now_ms() + 3600'000),
            0);
}

TEST_F(CertificateRules, KeyIdentifiersLinkToTheIssuer) {
  auto cert = issue_cert("x", "DNS:x.example", "server");
  auto issuer = parse_certificate(pki.manager.get_ca("issuing").certificate_der);
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  ASSERT_NE(ski, nullptr);
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(issuer.get())), 0);
  EXPECT_EQ(X509_check_issued(issuer.get(), cert.get()), X509_V_OK);
}

// The key identifiers cairn computes itself are the bytes OpenSSL's "hash"
// and "keyid:always" make, for a leaf, an intermediate and a self-signed root.
TEST_F(CertificateRules, KeyIdentifiersAreTheBytesOpenSslMakes) {
  auto leaf = issue_cert("k", "DNS:k.example", "server");
  auto issuing = parse_certificate(pki.manager.get_ca("issuing").certificate_der);
  auto root = parse_certificate(pki.manager.get_ca("root").certificate_der);
  auto ext_der = [](X509* cert, int nid) {
    X509_EXTENSION* ext = X509_get_ext(cert, X509_get_ext_by_NID(cert, nid, -1));
    unsigned char* der = nullptr;
    int len = ext ? i2d_X509_EXTENSION(ext, &der) : -1;
    std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)) : "";
    OPENSSL_free(der);
    return out;
  };
  auto openssl_der = [](X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    unsigned char* der = nullptr;
    int len = ext ? i2d_X509_EXTENSION(ext.get(), &der) : -1;
    std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)) : "";
    OPENSSL_free(der);
    return out;
  };
  for (auto [cert, issuer] : {std::pair{leaf.get(), issuing.get()}, std::pair{issuing.get(), root.get()},
                              std::pair{root.get(), root.get()}}) {
    std::string ski = ext_der(cert, NID_subject_key_identifier);
    ASSERT_FALSE(ski.empty());
    EXPECT_EQ(ski, openssl_der(cert, issuer, NID_subject_key_identifier, "hash"));
    EXPECT_EQ(ext_der(cert, NID_authority_key_identifier),
              openssl_der(cert, issuer, NID_authority_key_identifier, "keyid:always"));
  }
  EXPECT_EQ(ext_der(leaf.get(), NID_basic_constraints),
            openssl_der(leaf.get(), issuing.get(), NID_basic_constraints, "critical,CA:FALSE"));
  EXPECT_EQ(ext_der(leaf.get(), NID_ext_key_usage),
            openssl_der(leaf.get(), issuing.get(), NID_ext_key_usage, "serverAuth"));
}

TEST_F(CertificateRules, CrlDistributionPointAndAiaComeFromTheConfiguredUrl) {
  auto cert = issue_cert("x", "DNS:x.example", "server");
  auto* dps = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(cert.get(), NID_crl_distribution_points, nullptr, nullptr));
  ASSERT_NE(dps, nullptr);
  GENERAL_NAME* gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);
  std::string url(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)));
  CRL_DIST_POINTS_free(dps);
  EXPECT_EQ(url, "http://pki.test/crl/issuing.crl");
  auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(cert.get(), NID_info_access, nullptr, nullptr));
  ASSERT_NE(aia, nullptr);
  std::map<int, std::string> access;
  for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
    ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    access[OBJ_obj2nid(ad->method)] =
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier));
  }
  EXPECT_EQ(access[NID_ad_OCSP], "http://pki.test/ocsp/issuing");
  EXPECT_EQ(access[NID_ad_ca_issuers], "http://pki.test/ca/issuing.cer");
  AUTHORITY_INFO_ACCESS_free(aia);
}

TEST_F(CertificateRules, ClientPeerAndEmailProfiles) {
  auto client = issue_cert("svc", "email:svc@example.com,URI:spiffe://example/svc", "client");
  EXPECT_TRUE(has_eku(client.get(), NID_client_auth));
  EXPECT_FALSE(has_eku(client.get(), NID_server_auth));
  auto peer = issue_cert("mesh", "DNS:mesh.internal,URI:spiffe://example/mesh", "peer");
  EXPECT_TRUE(has_eku(peer.get(), NID_server_auth));
  EXPECT_TRUE(has_eku(peer.get(), NID_client_auth));
  auto email = issue_cert("Alice", "email:alice@example.com", "email");
  EXPECT_TRUE(has_eku(email.get(), NID_email_protect));
  EXPECT_TRUE(X509_get_key_usage(email.get()) & KU_NON_REPUDIATION);
}

TEST_F(CertificateRules, RsaSubjectKeysGetKeyEnciphermentForServers) {
  IssueRequest r;
  r.csr = testing::make_csr("rsa.example", "DNS:rsa.example", KeyAlgorithm::Rsa2048).pem;
  r.profile = "server";
  auto cert = parse_certificate(pki.manager.issue("t", "issuing", r).certificate.der);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
}

TEST_F(CertificateRules, ProfilesRestrictNameTypes) {
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "email:x@example.com", "server"); }), "san_not_allowed");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "", "server"); }), "san_required");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "IP:10.0.0.1", "email"); }), "san_not_allowed");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "DNS:*.example.com", "peer"); }), "san_not_allowed");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "DNS:*.example.com", "server"); }), "");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "DNS:bad_name!.example", "server"); }), "invalid_san");
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "DNS:a.example", "nonexistent"); }), "unknown_profile");
}

TEST_F(CertificateRules, ValidityIsCappedByProfileAndIssuer) {
  EXPECT_EQ(error_code_of([&] { pki.issue("x", "DNS:x.example", "server", 398); }), "validity_too_long");
  auto ok = pki.issue("x", "DNS:x.example", "server", 30);
  EXPECT_EQ(ok.certificate.not_after_ms - pki.clock.now_ms(), 30 * kMsPerDay);

  // An issuing CA that expires in 10 days never issues beyond its own notAfter.
  pki.manager.create_ca("t", CreateCaRequest{"short", "CN=Short Lived", "ec-p256", "root", 10});
  IssueRequest r;
  r.csr = testing::make_csr_pem("y", "DNS:y.example");
  r.validity_days = 300;
  auto capped = pki.manager.issue("t", "short", r);
  EXPECT_EQ(capped.certificate.not_after_ms, pki.manager.get_ca("short").not_after_ms);
}

TEST_F(CertificateRules, IntermediateValidityIsCappedByRoot) {
  pki.manager.create_ca("t", CreateCaRequest{"tinyroot", "CN=Tiny Root", "ec-p256", "", 5});
  auto child = pki.manager.create_ca("t", CreateCaRequest{"tinychild", "CN=Tiny Child", "ec-p256", "tinyroot", 1000});
  EXPECT_EQ(child.not_after_ms, pki.manager.get_ca("tinyroot").not_after_ms);
}

TEST_F(CertificateRules, SerialsAreUniquePositiveAndLarge) {
  std::set<std::string> serials;
  for (int i = 0; i < 300; ++i) {
    auto cert = pki.issue("n" + std::to_string(i), "DNS:n.example").certificate;
    EXPECT_EQ(cert.serial.size(), 40u);  // 20 octets
    EXPECT_GE(cert.serial[0], '1');
    EXPECT_LE(cert.serial[0], '7');  // top bit clear: positive
    auto x = parse_certificate(cert.der);
    EXPECT_EQ(ASN1_INTEGER_get_int64(nullptr, X509_get0_serialNumber(x.get())), 0);  // too big for int64
    serials.insert(cert.serial);
  }
  EXPECT_EQ(serials.size(), 300u);
}

TEST_F(CertificateRules, EveryKeyAlgorithmMakesAVerifiableHierarchy) {
  for (const char* alg : {"ec-p384", "rsa-2048", "ed25519"}) {
    PkiHarness h;
    h.make_hierarchy(alg);
    auto cert = h.issue("x", "DNS:x.example").certificate;
    EXPECT_EQ(testing::verify_chain(cert.der, h.ca_ders(), "", h.clock.now_ms() + 1000), 0) << alg;
  }
}

TEST_F(CertificateRules, ServerGeneratedKeyMatchesTheCertificate) {
  IssueRequest r;
  r.key_type = "ec-p384";
  r.subject = "CN=generated.example";
  r.sans = SubjectAltNames{{"generated.example"}, {}, {}, {}};
  auto result = pki.manager.issue("t", "issuing", r);
  ASSERT_FALSE(result.private_key_pem.empty());
  BioPtr bio(BIO_new_mem_buf(result.private_key_pem.data(), static_cast<int>(result.private_key_pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  auto cert = parse_certificate(result.certificate.der);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  // The key is never stored: no stored value contains its private scalar.
  std::string scalar = testing::private_scalar(key.get());
  ASSERT_GE(scalar.size(), 40u);
  bool found = false;
  pki.kv.scan("", [&](std::string_view, std::string_view v) {
    found = found || v.find(scalar) != std::string_view::npos;
    return true;
  });
  EXPECT_FALSE(found);
}

}  // namespace
}  // namespace cairn
