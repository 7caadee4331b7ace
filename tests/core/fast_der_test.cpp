// The OpenSSL-3.0 decoder bypasses (der_reader, public_key_info, the common
// CSR reader, SANs from certificate DER) must agree with OpenSSL's generic
// parsers on every input: same result, same error code. The PEM writer
// must write what OpenSSL's does.
#include <gtest/gtest.h>

#include "core/certificate_builder.h"
#include "core/certificate_request.h"
#include "core/crl_builder.h"
#include "core/x509_time.h"
#include "core/der_reader.h"
#include "core/der_writer.h"
#include "core/encoding.h"
#include "core/distinguished_name.h"
#include "core/public_key_info.h"
#include "core/serial_number.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using testing::make_csr;

using testing::error_code_of;

void expect_same(const CertificateRequest& a, const CertificateRequest& b) {
  EXPECT_EQ(a.der, b.der);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.public_key_der, b.public_key_der);
  EXPECT_EQ(a.key_type, b.key_type);
  EXPECT_EQ(a.sans.dns, b.sans.dns);
  EXPECT_EQ(a.sans.ip, b.sans.ip);
  EXPECT_EQ(a.sans.email, b.sans.email);
  EXPECT_EQ(a.sans.uri, b.sans.uri);
}

std::string der_of_pem_csr(const std::string& pem) { return to_der(parse_csr_object(pem).get()); }

TEST(DerReader, AcceptsDerOnly) {
  const std::string good("\x30\x03\x02\x01\x05", 5);
  DerReader ok(good);
  auto e = ok.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->tag, 0x30);
  EXPECT_EQ(e->content.size(), 3u);
  EXPECT_TRUE(ok.at_end());
  EXPECT_FALSE(ok.failed());

  for (std::string bad : {std::string("\x30\x80\x00\x00", 4),          // indefinite length
                          std::string("\x30\x81\x03\x02\x01\x05", 6),  // long form for a short length
                          std::string("\x30\x82\x00\x81", 4),          // leading zero length octet
                          std::string("\x30\x05\x02\x01", 4),          // longer than the input
                          std::string("\x1f\x01\x00", 3),              // multi-byte tag
                          std::string("\x30", 1)}) {
    DerReader r(bad);
    EXPECT_FALSE(r.next()) << ::testing::PrintToString(bad);
    EXPECT_TRUE(r.failed());
  }
  EXPECT_FALSE(der_single(std::string("\x02\x01\x05\x00", 4), 0x02));  // trailing byte
  EXPECT_FALSE(der_single(std::string("\x02\x01\x05", 3), 0x30));      // other tag
}

TEST(PublicKeyInfo, NamesKeysAsOpenSslDoes) {
  for (auto alg : {KeyAlgorithm::EcP256, KeyAlgorithm::EcP384, KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072,
                   KeyAlgorithm::Ed25519}) {
    EvpPkeyPtr key = generate_key(alg);
    std::string der = public_key_der(key.get());
    auto info = read_public_key_info(der);
    ASSERT_TRUE(info) << key_algorithm_name(alg);
    EXPECT_EQ(describe_public_key_info(*info), describe_public_key(key.get()));
    EXPECT_EQ(public_key_der(public_key_from_info(*info).get()), der);
  }
  EvpPkeyPtr p521(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
  EXPECT_EQ(describe_public_key_info(*read_public_key_info(public_key_der(p521.get()))), "ec-p521");
  EvpPkeyPtr k256(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  EXPECT_EQ(error_code_of([&] { describe_public_key_info(*read_public_key_info(public_key_der(k256.get()))); }),
            "unsupported_key");
  EvpPkeyPtr weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  EXPECT_EQ(error_code_of([&] { describe_public_key_info(*read_public_key_info(public_key_der(weak.get()))); }),
            "weak_key");
}

TEST(PublicKeyInfo, RejectsAPointOffTheCurve) {
  EvpPkeyPtr key = generate_key(KeyAlgorithm::EcP256);
  std::string der = public_key_der(key.get());
  der.back() = static_cast<char>(der.back() ^ 0x01);  // last byte of Y
  auto info = read_public_key_info(der);
  ASSERT_TRUE(info);  // well-formed DER ...
  EXPECT_EQ(error_code_of([&] { public_key_from_info(*info); }), "invalid_public_key");  // ... but no key
  EXPECT_FALSE(read_public_key_info(der + "x"));
  EXPECT_FALSE(read_public_key_info(der.substr(0, der.size() - 1)));
}

TEST(CommonCsrReader, AgreesWithOpenSslOnGoodRequests) {
  const std::string sans = "DNS:a.example,DNS:B.example,IP:10.0.0.1,IP:2001:db8::1,email:x@example.com,"
                           "URI:https://svc.example/x";
  for (auto alg : {KeyAlgorithm::EcP256, KeyAlgorithm::EcP384, KeyAlgorithm::Rsa2048, KeyAlgorithm::Ed25519}) {
    for (const std::string& names : {sans, std::string()}) {
      auto csr = make_csr("svc.example", names, alg);
      expect_same(parse_certificate_request(csr.pem), parse_certificate_request_generic(csr.pem));
      std::string der = der_of_pem_csr(csr.pem);
      expect_same(parse_certificate_request(der), parse_certificate_request_generic(der));
    }
  }
}

TEST(CommonCsrReader, AgreesWithOpenSslOnOtherAttributesAndPss) {
  // A challengePassword attribute next to the extension request.
  EvpPkeyPtr key = generate_key(KeyAlgorithm::EcP256);
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_ASC,
                            reinterpret_cast<const unsigned char*>("secret"), -1);
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  std::string der = to_der(req.get());
  expect_same(parse_certificate_request(der), parse_certificate_request_generic(der));

  // RSA-PSS signatures take the generic path and give the same answer.
  EvpPkeyPtr rsa = generate_key(KeyAlgorithm::Rsa2048);
  X509ReqPtr pss(X509_REQ_new());
  X509_REQ_set_pubkey(pss.get(), rsa.get());
  std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(md.get(), &pctx, EVP_sha256(), nullptr, rsa.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
  ASSERT_GT(X509_REQ_sign_ctx(pss.get(), md.get()), 0);
  der = to_der(pss.get());
  expect_same(parse_certificate_request(der), parse_certificate_request_generic(der));
}

TEST(CommonCsrReader, AgreesWithOpenSslOnBadRequests) {
  auto csr = make_csr("svc.example", "DNS:svc.example");
  std::string der = der_of_pem_csr(csr.pem);
  // A flipped bit in the signed part: the signature no longer verifies.
  std::string tampered = der;
  size_t at = tampered.find("svc.example");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'S';
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(tampered); }), "csr_signature_invalid");
  EXPECT_EQ(error_code_of([&] { parse_certificate_request_generic(tampered); }), "csr_signature_invalid");
  // Every truncation and every single-byte change gives the same outcome.
  for (size_t cut = 1; cut < der.size(); cut += 7) {
    std::string shorter = der.substr(0, cut);
    EXPECT_EQ(error_code_of([&] { parse_certificate_request(shorter); }),
              error_code_of([&] { parse_certificate_request_generic(shorter); }))
        << "cut at " << cut;
  }
  for (size_t i = 0; i < der.size(); ++i) {
    std::string changed = der;
    changed[i] = static_cast<char>(changed[i] ^ 0x5a);
    // Where the reader declines (it is stricter DER than OpenSSL), the
    // generic parser decides, so the outcome is always the same.
    EXPECT_EQ(error_code_of([&] { parse_certificate_request(changed); }),
              error_code_of([&] { parse_certificate_request_generic(changed); }))
        << "byte " << i;
  }
  // RSA 1024: weak either way.
  EvpPkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), small.get());
  X509_REQ_sign(req.get(), small.get(), EVP_sha256());
  EXPECT_EQ(error_code_of([&] { parse_certificate_request(to_der(req.get())); }), "weak_key");
  EXPECT_EQ(error_code_of([&] { parse_certificate_request_generic(to_der(req.get())); }), "weak_key");
}

TEST(SansFromCertificateDer, AgreeWithOpenSsl) {
  auto csr = make_csr("svc.example", "DNS:a.example,IP:10.0.0.9,email:x@example.com,URI:urn:x:y");
  auto request = parse_certificate_request(csr.pem);
  MemoryKeyStore keys;
  Signer signer(keys);
  std::string key_id = signer.create_key(KeyAlgorithm::EcP256);
  X509NamePtr subject = parse_subject(request.subject);
  for (bool with_sans : {true, false}) {
    CertificateTemplate t;
    t.serial = "01";
    t.subject = subject.get();
    t.subject_public_key_der = request.public_key_der;
    t.not_before_ms = 1'700'000'000'000;
    t.not_after_ms = 1'800'000'000'000;
    t.basic_constraints = "critical,CA:FALSE";
    t.sans = with_sans ? &request.sans : nullptr;
    std::string der = build_certificate(t, signer, key_id);
    auto from_der = SubjectAltNames::from_certificate_der(der);
    auto from_x509 = SubjectAltNames::from_certificate(parse_certificate(der).get());
    EXPECT_EQ(from_der.dns, from_x509.dns);
    EXPECT_EQ(from_der.ip, from_x509.ip);
    EXPECT_EQ(from_der.email, from_x509.email);
    EXPECT_EQ(from_der.uri, from_x509.uri);
    EXPECT_EQ(from_der.size(), with_sans ? 4u : 0u);
    EXPECT_EQ(public_key_der(X509_get0_pubkey(parse_certificate(der).get())), request.public_key_der);
  }
}

TEST(CrlEntryEncoding, SameBytesAsOpenSsl) {
  for (const std::string serial : {"01", "7f", "80", "00ff", "3a9c1f0e2d4b5a6978", "ffffffffffffffffffffffffffffffffffffffff"})
    for (int64_t at : {int64_t{1'700'000'000'000}, int64_t{2'524'607'999'000}, int64_t{2'524'608'000'000}})
      for (int reason : {0, 1, 4, 9}) {
        X509RevokedPtr revoked(X509_REVOKED_new());
        auto asn1_serial = serial_to_asn1(serial);
        auto when = to_asn1_time(at);
        X509_REVOKED_set_serialNumber(revoked.get(), asn1_serial.get());
        X509_REVOKED_set_revocationDate(revoked.get(), when.get());
        if (reason) {
          Asn1EnumeratedPtr code(ASN1_ENUMERATED_new());
          ASN1_ENUMERATED_set(code.get(), reason);
          X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, code.get(), 0, 0);
        }
        unsigned char* der = nullptr;
        int len = i2d_X509_REVOKED(revoked.get(), &der);
        ASSERT_GT(len, 0);
        std::string expected(reinterpret_cast<char*>(der), static_cast<size_t>(len));
        OPENSSL_free(der);
        EXPECT_EQ(encode_revoked_entry({serial, at, reason}), expected) << serial << " " << at << " " << reason;
      }
}

TEST(DerHeaders, SameBytesAsOpenSsl) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{255}, size_t{256}, size_t{65535},
                   size_t{65536}, size_t{16777215}, size_t{16777216}}) {
    std::string header;
    der_append_header(header, der_tag::kSequence, n);
    EXPECT_EQ(header.size(), der_header_size(n)) << n;
    unsigned char expected[16];
    unsigned char* p = expected;
    ASN1_put_object(&p, 1, static_cast<int>(n), V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
    EXPECT_EQ(header, std::string(reinterpret_cast<char*>(expected), static_cast<size_t>(p - expected))) << n;
  }
}

TEST(PemWriting, SameTextAsOpenSsl) {
  std::string bytes;
  for (size_t i = 0; i < 5000; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 251));
  struct Writer {
    std::string (*write)(std::string_view);
    const char* label;
  };
  for (Writer w : {Writer{certificate_pem, "CERTIFICATE"}, Writer{crl_pem, "X509 CRL"},
                   Writer{csr_pem, "CERTIFICATE REQUEST"}})
    for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{47}, size_t{48}, size_t{49}, size_t{95}, size_t{96},
                     size_t{97}, size_t{500}, size_t{4999}, size_t{5000}}) {
      std::string_view der(bytes.data(), n);
      BioPtr bio(BIO_new(BIO_s_mem()));
      ASSERT_GT(PEM_write_bio(bio.get(), w.label, "", reinterpret_cast<const unsigned char*>(der.data()),
                              static_cast<long>(n)),
                0);
      char* data = nullptr;
      long len = BIO_get_mem_data(bio.get(), &data);
      EXPECT_EQ(w.write(der), std::string(data, static_cast<size_t>(len))) << w.label << " " << n;
    }
  // And it reads back as the same DER.
  auto csr = make_csr("pem.example", "DNS:pem.example");
  auto der = parse_certificate_request(csr.pem).der;
  EXPECT_EQ(parse_certificate_request(csr_pem(der)).der, der);
}

}  // namespace
}  // namespace cairn
