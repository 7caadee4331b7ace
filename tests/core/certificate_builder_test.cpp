// build_certificate() writes certificates as DER itself. These tests build
// the same template through OpenSSL's X509 object model (the way cairn built
// them before, and the way `openssl x509 -req` does) and require the same
// to-be-signed bytes: with Ed25519 CA keys (deterministic signatures) the
// whole certificate, with ECDSA and RSA keys the TBSCertificate and the
// signature algorithm, plus a signature that verifies.
#include <gtest/gtest.h>

#include "core/certificate_builder.h"
#include "core/certificate_request.h"
#include "core/der_reader.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/serial_number.h"
#include "core/x509_time.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

void add_conf(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  if (value.empty()) return;
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  ASSERT_TRUE(ext) << OBJ_nid2sn(nid) << " " << value;
  ASSERT_EQ(X509_add_ext(cert, ext.get(), -1), 1);
}

// The reference: every field set and every extension made by OpenSSL.
std::string openssl_certificate(const CertificateTemplate& t, EVP_PKEY* ca_key) {
  X509Ptr cert(X509_new());
  auto serial = serial_to_asn1(t.serial);
  auto nb = to_asn1_time(t.not_before_ms);
  auto na = to_asn1_time(t.not_after_ms);
  X509_set_version(cert.get(), X509_VERSION_3);
  X509_set_serialNumber(cert.get(), serial.get());
  X509_set_subject_name(cert.get(), t.subject);
  X509_set_issuer_name(cert.get(), t.issuer ? X509_get_subject_name(t.issuer) : t.subject);
  X509_set1_notBefore(cert.get(), nb.get());
  X509_set1_notAfter(cert.get(), na.get());
  X509_set_pubkey(cert.get(), parse_public_key_der(t.subject_public_key_der).get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, t.issuer ? const_cast<X509*>(t.issuer) : cert.get(), cert.get(), nullptr, nullptr, 0);
  add_conf(cert.get(), &ctx, NID_basic_constraints, t.basic_constraints);
  add_conf(cert.get(), &ctx, NID_key_usage, t.key_usage);
  add_conf(cert.get(), &ctx, NID_ext_key_usage, t.extended_key_usage);
  add_conf(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_conf(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (t.sans && !t.sans->empty()) {
    auto names = t.sans->to_general_names();
    X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), X509_NAME_entry_count(t.subject) == 0 ? 1 : 0,
                      X509V3_ADD_DEFAULT);
  }
  if (!t.crl_url.empty()) add_conf(cert.get(), &ctx, NID_crl_distribution_points, "URI:" + t.crl_url);
  std::string aia;
  if (!t.ocsp_url.empty()) aia = "OCSP;URI:" + t.ocsp_url;
  if (!t.ca_issuers_url.empty()) aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + t.ca_issuers_url;
  add_conf(cert.get(), &ctx, NID_info_access, aia);
  if (t.ocsp_no_check) add_conf(cert.get(), &ctx, NID_id_pkix_OCSP_noCheck, "ignored");
  EXPECT_GT(X509_sign(cert.get(), ca_key, signing_digest(ca_key)), 0);
  return to_der(cert.get());
}

struct Parts {
  std::string tbs, algorithm, signature;
};

Parts parts_of(const std::string& der) {
  auto outer = der_single(der, der_tag::kSequence);
  EXPECT_TRUE(outer);
  if (!outer) return {};
  DerReader r(outer->content);
  auto tbs = r.next_if(der_tag::kSequence);
  auto algorithm = r.next_if(der_tag::kSequence);
  auto signature = r.next_if(der_tag::kBitString);
  EXPECT_TRUE(tbs && algorithm && signature && r.at_end());
  if (!tbs || !algorithm || !signature) return {};
  return {std::string(tbs->whole), std::string(algorithm->whole), std::string(signature->content)};
}

class CertificateBuilder : public ::testing::TestWithParam<KeyAlgorithm> {
 protected:
  // A CA key the Signer holds and the test can use too.
  std::string add_ca_key(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    int len = i2d_PrivateKey(key, &der);
    EXPECT_GT(len, 0);
    std::string id = Signer::key_id_for(key);
    keys.put(id, std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
    OPENSSL_free(der);
    return id;
  }

  // Builds `t` both ways and checks they agree; returns cairn's DER.
  std::string build_both(const CertificateTemplate& t, EVP_PKEY* ca_key, const std::string& ca_key_id) {
    std::string ours = build_certificate(t, signer, ca_key_id);
    std::string reference = openssl_certificate(t, ca_key);
    Parts a = parts_of(ours), b = parts_of(reference);
    EXPECT_EQ(to_hex(a.tbs), to_hex(b.tbs));
    EXPECT_EQ(to_hex(a.algorithm), to_hex(b.algorithm));
    if (GetParam() == KeyAlgorithm::Ed25519) {
      EXPECT_EQ(to_hex(ours), to_hex(reference));
    }
    X509Ptr parsed = parse_certificate(ours);
    EXPECT_EQ(X509_verify(parsed.get(), ca_key), 1);
    EXPECT_EQ(to_der(parsed.get()), ours);  // OpenSSL re-encodes it to the same bytes
    return ours;
  }

  MemoryKeyStore keys;
  Signer signer{keys};
};

TEST_P(CertificateBuilder, SameToBeSignedBytesAsOpenSsl) {
  EvpPkeyPtr root_key = generate_key(GetParam());
  std::string root_id = add_ca_key(root_key.get());
  X509NamePtr root_name = parse_subject("CN=Builder Root,O=Cairn Test,C=NL");

  CertificateTemplate root;
  root.serial = "3a9c1f0e2d4b5a6978";
  root.subject = root_name.get();
  root.subject_public_key_der = signer.public_key_der(root_id);
  root.not_before_ms = 1'700'000'000'000;
  root.not_after_ms = 2'600'000'000'000;  // GeneralizedTime (after 2049)
  root.basic_constraints = "critical,CA:TRUE";
  root.key_usage = "critical,keyCertSign,cRLSign,digitalSignature";
  X509Ptr root_cert = parse_certificate(build_both(root, root_key.get(), root_id));

  for (KeyAlgorithm leaf_alg : {KeyAlgorithm::EcP256, KeyAlgorithm::Rsa2048, KeyAlgorithm::Ed25519}) {
    SCOPED_TRACE(key_algorithm_name(leaf_alg));
    auto csr = parse_certificate_request(testing::make_csr("leaf.example", "", leaf_alg).pem);
    X509NamePtr leaf_name = parse_subject("CN=leaf.example,OU=Ops");
    SubjectAltNames sans;
    sans.dns = {"leaf.example", "*.leaf.example"};
    sans.ip = {"10.1.2.3", "2001:db8::1"};
    sans.email = {"ops@leaf.example"};
    sans.uri = {"spiffe://leaf.example/svc"};
    CertificateTemplate leaf;
    leaf.serial = "ff00112233445566778899aabbccddeeff001122";  // 20 bytes, high bit set
    leaf.subject = leaf_name.get();
    leaf.subject_public_key_der = csr.public_key_der;
    leaf.issuer = root_cert.get();
    leaf.not_before_ms = 1'700'000'000'000;
    leaf.not_after_ms = 1'707'776'000'000;
    leaf.basic_constraints = "critical,CA:FALSE";
    leaf.key_usage = "critical,digitalSignature,keyEncipherment";
    leaf.extended_key_usage = "serverAuth,clientAuth";
    leaf.sans = &sans;
    leaf.crl_url = "http://pki.test/crl/issuing.crl";
    leaf.ocsp_url = "http://pki.test/ocsp/issuing";
    leaf.ca_issuers_url = "http://pki.test/ca/issuing.cer";
    build_both(leaf, root_key.get(), root_id);

    // No subject: the SANs are critical. A delegated OCSP responder: nocheck, no URLs.
    X509NamePtr empty = parse_subject("");
    CertificateTemplate bare = leaf;
    bare.subject = empty.get();
    bare.serial = "01";
    bare.extended_key_usage = "OCSPSigning";
    bare.crl_url = bare.ocsp_url = "";
    bare.ocsp_no_check = true;
    build_both(bare, root_key.get(), root_id);
  }
}

INSTANTIATE_TEST_SUITE_P(CaKeys, CertificateBuilder,
                         ::testing::Values(KeyAlgorithm::EcP256, KeyAlgorithm::EcP384, KeyAlgorithm::Rsa2048,
                                           KeyAlgorithm::Ed25519),
                         [](const auto& param_info) {
                           std::string name = key_algorithm_name(param_info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(CertificateBuilderErrors, AnUnusableExtensionTextIsRefused) {
  MemoryKeyStore keys;
  Signer signer(keys);
  std::string id = signer.create_key(KeyAlgorithm::EcP256);
  X509NamePtr name = parse_subject("CN=x");
  CertificateTemplate t;
  t.serial = "01";
  t.subject = name.get();
  t.subject_public_key_der = signer.public_key_der(id);
  t.not_before_ms = 1'700'000'000'000;
  t.not_after_ms = 1'700'086'400'000;
  t.key_usage = "critical,noSuchUsage";
  EXPECT_EQ(testing::error_code_of([&] { build_certificate(t, signer, id); }), "certificate_build_failed");
  t.key_usage = "";
  t.subject_public_key_der = "not a key";
  EXPECT_EQ(testing::error_code_of([&] { build_certificate(t, signer, id); }), "invalid_public_key");
}

// A SubjectPublicKeyInfo OpenSSL reads but that is not minimal DER (a long
// length form where the short one fits) goes into the certificate in its
// minimal encoding; an issuer certificate without a key identifier cannot
// give the authority key identifier, and is refused.
TEST(CertificateBuilderInputs, KeysAreReencodedAndIssuersNeedAKeyIdentifier) {
  MemoryKeyStore keys;
  Signer signer(keys);
  std::string id = signer.create_key(KeyAlgorithm::EcP256);
  std::string key = signer.public_key_der(id);
  ASSERT_EQ(static_cast<unsigned char>(key[1]), 0x59u);  // P-256: 89 content bytes, short form
  std::string lax = key.substr(0, 1) + std::string("\x81\x59", 2) + key.substr(2);
  ASSERT_TRUE(parse_public_key_der(lax));  // OpenSSL takes it
  X509NamePtr name = parse_subject("CN=x");
  CertificateTemplate t;
  t.serial = "01";
  t.subject = name.get();
  t.subject_public_key_der = lax;
  t.not_before_ms = 1'700'000'000'000;
  t.not_after_ms = 1'700'086'400'000;
  std::string der = build_certificate(t, signer, id);
  EXPECT_NE(der.find(key), std::string::npos) << "the minimal encoding is in the certificate";
  EXPECT_EQ(der.find(lax), std::string::npos);
  X509Ptr cert = parse_certificate(der);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);  // self-signed: its own key

  // An issuer without subjectKeyIdentifier (made by OpenSSL, no extensions).
  X509Ptr bare(X509_new());
  X509_set_version(bare.get(), X509_VERSION_3);
  X509_set_subject_name(bare.get(), name.get());
  X509_set_issuer_name(bare.get(), name.get());
  EvpPkeyPtr bare_key = generate_key(KeyAlgorithm::EcP256);
  X509_set_pubkey(bare.get(), bare_key.get());
  ASSERT_GT(X509_sign(bare.get(), bare_key.get(), EVP_sha256()), 0);
  t.subject_public_key_der = key;
  t.issuer = bare.get();
  EXPECT_EQ(testing::error_code_of([&] { build_certificate(t, signer, id); }), "certificate_build_failed");
}

TEST(FetchedDigests, HashAsTheirNamesSay) {
  const std::string data = "abc";
  for (auto [nid, legacy] : {std::pair{NID_sha1, EVP_sha1()}, std::pair{NID_sha256, EVP_sha256()},
                             std::pair{NID_sha384, EVP_sha384()}, std::pair{NID_sha512, EVP_sha512()}}) {
    const EVP_MD* md = fetched_digest(nid);
    ASSERT_NE(md, nullptr) << nid;
    EXPECT_EQ(md, fetched_digest(nid));  // fetched once
    EXPECT_EQ(EVP_MD_get_type(md), nid);
    unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
    unsigned int la = 0, lb = 0;
    ASSERT_EQ(EVP_Digest(data.data(), data.size(), a, &la, md, nullptr), 1);
    ASSERT_EQ(EVP_Digest(data.data(), data.size(), b, &lb, legacy, nullptr), 1);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(a), la), std::string(reinterpret_cast<char*>(b), lb));
  }
  EXPECT_EQ(fetched_digest(NID_md5), nullptr);
  EXPECT_EQ(fetched_digest(NID_undef), nullptr);
  auto p384 = generate_key(KeyAlgorithm::EcP384);
  EXPECT_EQ(signing_digest(p384.get()), fetched_digest(NID_sha384));
  auto ed = generate_key(KeyAlgorithm::Ed25519);
  EXPECT_EQ(signing_digest(ed.get()), nullptr);
}

}  // namespace
}  // namespace cairn
