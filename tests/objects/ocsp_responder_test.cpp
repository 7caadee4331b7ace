// OcspResponder answers, checked with OpenSSL's own OCSP client functions.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <cstdlib>
#include <fstream>

#include "core/serial_number.h"
#include "core/x509_time.h"
#include "objects/ocsp_responder.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, OpenSslDeleter<OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>>;

struct Status {
  int response_status = -1;
  int cert_status = -1;
  int reason = -1;
  bool verified = false;
  bool nonce_ok = false;
  std::string signer_serial;  // of the certificate carried in the response, if any
  int64_t next_update_ms = 0;
};

std::string signer_serial(OCSP_BASICRESP* basic) {
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic);
  if (!certs || sk_X509_num(certs) == 0) return "";
  return serial_of(sk_X509_value(certs, 0));
}

class OcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki.clock.set_ms(SystemClock().now_ms());
    responder = std::make_unique<OcspResponder>(pki.manager, pki.signer, ocsp_config);
    responder->attach();
    pki.make_hierarchy();
    issuer = parse_certificate(pki.manager.get_ca("issuing").certificate_der);
    root = parse_certificate(pki.manager.get_ca("root").certificate_der);
  }

  std::string request_for(const std::vector<const X509*>& certs, bool nonce, const EVP_MD* md = nullptr) {
    OcspRequestPtr req(OCSP_REQUEST_new());
    for (const X509* cert : certs)
      OCSP_request_add0_id(req.get(), OCSP_cert_to_id(md, cert, issuer.get()));
    if (nonce) OCSP_request_add1_nonce(req.get(), nullptr, -1);
    unsigned char* out = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &out);
    std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    last_request = der;
    return der;
  }

  Status ask(const X509* cert, bool nonce = false, const EVP_MD* md = nullptr) {
    return parse_answer(responder->respond("issuing", request_for({cert}, nonce, md)), cert, md);
  }

  Status parse_answer(const std::string& der, const X509* cert, const EVP_MD* md = nullptr) {
    Status s;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!resp) return s;
    s.response_status = OCSP_response_status(resp.get());
    if (s.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return s;
    OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
    std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>> store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root.get());
    // Path validation at the harness's time, which tests move forward.
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(pki.clock.now_ms() / 1000));
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, issuer.get());
    s.verified = OCSP_basic_verify(basic.get(), untrusted, store.get(), 0) == 1;
    s.signer_serial = signer_serial(basic.get());
    sk_X509_free(untrusted);
    const auto* rp = reinterpret_cast<const unsigned char*>(last_request.data());
    OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &rp, static_cast<long>(last_request.size())));
    int nonce = OCSP_check_nonce(req.get(), basic.get());
    s.nonce_ok = nonce == 1 || nonce == 2 || nonce == -1;  // equal, or absent in both / request only
    OCSP_CERTID* id = OCSP_cert_to_id(md, cert, issuer.get());
    ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    int reason = -1, status = -1;
    OCSP_resp_find_status(basic.get(), id, &status, &reason, &rev, &thisupd, &nextupd);
    OCSP_CERTID_free(id);
    if (nextupd) s.next_update_ms = from_asn1_time(nextupd);
    s.cert_status = status;
    s.reason = reason;
    ERR_clear_error();
    return s;
  }

  testing::PkiHarness pki;
  OcspConfig ocsp_config;  // derived fixtures change it in their constructor
  std::unique_ptr<OcspResponder> responder;
  X509Ptr issuer, root;
  std::string last_request;
};

TEST_F(OcspTest, GoodThenRevokedWithReason) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto good = ask(cert.get());
  EXPECT_EQ(good.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_TRUE(good.verified);
  EXPECT_EQ(good.cert_status, V_OCSP_CERTSTATUS_GOOD);
  pki.manager.revoke("t", "issuing", serial_of(cert.get()), "keyCompromise");
  auto revoked = ask(cert.get());
  EXPECT_TRUE(revoked.verified);
  EXPECT_EQ(revoked.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(revoked.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
}

TEST_F(OcspTest, CachedAnswersAreReusedAndDroppedOnRevocation) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  ask(cert.get());
  ask(cert.get());
  ask(cert.get());
  EXPECT_EQ(responder->cache_hits(), 2u);
  pki.manager.revoke("t", "issuing", serial_of(cert.get()), "superseded");
  EXPECT_EQ(ask(cert.get()).cert_status, V_OCSP_CERTSTATUS_REVOKED);  // never the cached "good"
  EXPECT_EQ(responder->cache_hits(), 2u);
  // Half-way through its validity a cached answer is signed afresh.
  ask(cert.get());
  EXPECT_EQ(responder->cache_hits(), 3u);
  pki.clock.advance_ms(3 * 3600 * 1000LL);
  ask(cert.get());
  EXPECT_EQ(responder->cache_hits(), 3u);
}

TEST_F(OcspTest, NonceIsEchoedAndNeverCached) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto first = ask(cert.get(), true);
  EXPECT_TRUE(first.nonce_ok);
  EXPECT_TRUE(first.verified);
  auto second = ask(cert.get(), true);
  EXPECT_TRUE(second.nonce_ok);
  EXPECT_EQ(responder->cache_hits(), 0u);
}

TEST_F(OcspTest, UnknownSerialsSha256CertIdsAndSeveralCertificates) {
  auto a = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto b = parse_certificate(pki.issue("b", "DNS:b.example").certificate.der);
  EXPECT_EQ(ask(a.get(), false, EVP_sha256()).cert_status, V_OCSP_CERTSTATUS_GOOD);
  pki.manager.revoke("t", "issuing", serial_of(b.get()), "");
  std::string der = responder->respond("issuing", request_for({a.get(), b.get()}, true));
  EXPECT_EQ(parse_answer(der, a.get()).cert_status, V_OCSP_CERTSTATUS_GOOD);
  auto rb = parse_answer(der, b.get());
  EXPECT_EQ(rb.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(rb.reason, -1);  // "unspecified" is left out, as on the CRL

  // A certificate this CA never issued (same issuer name and key, other serial).
  testing::PkiHarness other;
  other.make_hierarchy();
  auto foreign = parse_certificate(other.issue("x", "DNS:x.example").certificate.der);
  X509_set_issuer_name(foreign.get(), X509_get_subject_name(issuer.get()));
  EXPECT_EQ(ask(foreign.get()).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(OcspTest, MalformedAndUnauthorized) {
  auto status_of = [](const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    return resp ? OCSP_response_status(resp.get()) : -1;
  };
  EXPECT_EQ(status_of(responder->respond("issuing", "garbage")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(status_of(responder->respond("issuing", "")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  std::string good = request_for({cert.get()}, false);
  EXPECT_EQ(status_of(responder->respond("issuing", good + "x")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(status_of(responder->respond("root", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(status_of(responder->respond("nosuch", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(status_of(responder->respond("../etc", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

// ---- delegated responder --------------------------------------------------

class DelegatedOcspTest : public OcspTest {
 protected:
  DelegatedOcspTest() {
    ocsp_config.delegated = true;
    ocsp_config.responder_validity_hours = 48;
  }
  CertificateView responder_cert(const std::string& serial) { return pki.manager.get_certificate("issuing", serial); }
  uint64_t issuing_version() { return pki.manager.get_ca("issuing").version; }
};

TEST_F(DelegatedOcspTest, AnswersAreSignedByAResponderCertificateTheCaIssued) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto good = ask(cert.get());
  ASSERT_EQ(good.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_TRUE(good.verified);  // chains to the CA and carries id-kp-OCSPSigning
  EXPECT_EQ(good.cert_status, V_OCSP_CERTSTATUS_GOOD);
  ASSERT_FALSE(good.signer_serial.empty());

  // The responder certificate is in the CA's history like any other.
  auto rc = responder_cert(good.signer_serial);
  EXPECT_EQ(rc.profile, "ocsp-responder");
  EXPECT_EQ(rc.requested_by, "system:ocsp");
  EXPECT_LE(good.next_update_ms, rc.not_after_ms);
  X509Ptr x = parse_certificate(rc.der);
  EXPECT_GE(X509_get_ext_by_NID(x.get(), NID_id_pkix_OCSP_noCheck, -1), 0);
  EXPECT_LT(X509_get_ext_by_NID(x.get(), NID_crl_distribution_points, -1), 0);
  EXPECT_NE(X509_get_extended_key_usage(x.get()) & XKU_OCSP_SIGN, 0u);
  EXPECT_EQ(X509_check_ca(x.get()), 0);

  pki.manager.revoke("t", "issuing", serial_of(cert.get()), "keyCompromise");
  auto revoked = ask(cert.get(), true);
  EXPECT_TRUE(revoked.verified);
  EXPECT_TRUE(revoked.nonce_ok);
  EXPECT_EQ(revoked.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(revoked.signer_serial, good.signer_serial);  // not due: the same responder
}

TEST_F(DelegatedOcspTest, IssuingAResponderIsANoOpUntilItIsDue) {
  EXPECT_EQ(responder->refresh_responders(), 2u);  // root and issuing
  uint64_t version = issuing_version();
  EXPECT_EQ(responder->refresh_responders(), 0u);
  EXPECT_FALSE(pki.manager.ensure_ocsp_responder("t", "issuing", 48));
  pki.clock.advance_ms(23 * 3600 * 1000LL);  // 25 of 48 hours left
  EXPECT_EQ(responder->refresh_responders(), 0u);
  EXPECT_EQ(issuing_version(), version);  // nothing stored for no-ops
  pki.clock.advance_ms(2 * 3600 * 1000LL);  // 23 hours left: due
  EXPECT_EQ(responder->refresh_responders(), 2u);
  EXPECT_EQ(issuing_version(), version + 1);
}

TEST_F(DelegatedOcspTest, RotationKeepsAnswersValidAcrossTheHandOver) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto first = ask(cert.get());
  ASSERT_TRUE(first.verified);
  // Past half of the responder's life the next answer comes from a new
  // responder certificate, issued on the spot.
  pki.clock.advance_ms(30 * 3600 * 1000LL);
  auto second = ask(cert.get(), true);
  EXPECT_TRUE(second.verified);
  EXPECT_EQ(second.cert_status, V_OCSP_CERTSTATUS_GOOD);
  ASSERT_FALSE(second.signer_serial.empty());
  EXPECT_NE(second.signer_serial, first.signer_serial);
  // The old one is still valid at that moment: answers it signed (cached by
  // relying parties) stay verifiable until their nextUpdate.
  EXPECT_EQ(responder_cert(first.signer_serial).status, "valid");
  EXPECT_LE(first.next_update_ms, responder_cert(first.signer_serial).not_after_ms);
  // Cached answers are dropped when the responder changes, so no answer
  // signed by the old responder is served after the hand-over.
  auto third = ask(cert.get());
  EXPECT_EQ(third.signer_serial, second.signer_serial);
}

TEST_F(DelegatedOcspTest, TheOpensslClientVerifiesAnswersFromBothResponders) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& data) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  };
  std::string chain = write("chain.pem", certificate_pem(pki.manager.get_ca("root").certificate_der) +
                                             certificate_pem(pki.manager.get_ca("issuing").certificate_der));
  std::string issuer_pem = write("issuer.pem", certificate_pem(pki.manager.get_ca("issuing").certificate_der));
  auto issued = pki.issue("a", "DNS:a.example").certificate;
  std::string leaf = write("leaf.pem", certificate_pem(issued.der));
  auto cert = parse_certificate(issued.der);
  // `openssl ocsp -respin` checks the signature, that the responder
  // certificate chains to the CA file and that it may sign OCSP answers.
  auto openssl_says = [&](const std::string& response) {
    std::string resp = write("resp.der", response);
    std::string out = dir.path() + "/out.txt";
    std::string cmd = "openssl ocsp -respin " + resp + " -issuer " + issuer_pem + " -cert " + leaf +
                      " -CAfile " + chain + " -attime " + std::to_string(pki.clock.now_ms() / 1000) +
                      " -validity_period 200000 >" + out + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::make_pair(rc, text);
  };
  auto [rc1, before] = openssl_says(responder->respond("issuing", request_for({cert.get()}, false)));
  EXPECT_EQ(rc1, 0) << before;
  EXPECT_NE(before.find("Response verify OK"), std::string::npos) << before;
  EXPECT_NE(before.find(": good"), std::string::npos) << before;
  std::string first_signer = parse_answer(responder->respond("issuing", last_request), cert.get()).signer_serial;

  pki.clock.advance_ms(30 * 3600 * 1000LL);
  pki.manager.revoke("t", "issuing", issued.serial, "superseded");
  std::string rotated = responder->respond("issuing", request_for({cert.get()}, false));
  EXPECT_NE(parse_answer(rotated, cert.get()).signer_serial, first_signer);
  auto [rc2, after] = openssl_says(rotated);
  EXPECT_EQ(rc2, 0) << after;
  EXPECT_NE(after.find("Response verify OK"), std::string::npos) << after;
  EXPECT_NE(after.find(": revoked"), std::string::npos) << after;
}

}  // namespace
}  // namespace cairn
