// OcspResponder answers, checked with OpenSSL's own OCSP client functions.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include "core/serial_number.h"
#include "objects/ocsp_responder.h"
#include "tests/core/pki_fixtures.h"

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
};

class OcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki.clock.set_ms(SystemClock().now_ms());
    responder.attach();
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
    return parse_answer(responder.respond("issuing", request_for({cert}, nonce, md)), cert, md);
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
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, issuer.get());
    s.verified = OCSP_basic_verify(basic.get(), untrusted, store.get(), 0) == 1;
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
    s.cert_status = status;
    s.reason = reason;
    ERR_clear_error();
    return s;
  }

  testing::PkiHarness pki;
  OcspResponder responder{pki.manager.store(), pki.signer, pki.clock};
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
  EXPECT_EQ(responder.cache_hits(), 2u);
  pki.manager.revoke("t", "issuing", serial_of(cert.get()), "superseded");
  EXPECT_EQ(ask(cert.get()).cert_status, V_OCSP_CERTSTATUS_REVOKED);  // never the cached "good"
  EXPECT_EQ(responder.cache_hits(), 2u);
  // Half-way through its validity a cached answer is signed afresh.
  ask(cert.get());
  EXPECT_EQ(responder.cache_hits(), 3u);
  pki.clock.advance_ms(3 * 3600 * 1000LL);
  ask(cert.get());
  EXPECT_EQ(responder.cache_hits(), 3u);
}

TEST_F(OcspTest, NonceIsEchoedAndNeverCached) {
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto first = ask(cert.get(), true);
  EXPECT_TRUE(first.nonce_ok);
  EXPECT_TRUE(first.verified);
  auto second = ask(cert.get(), true);
  EXPECT_TRUE(second.nonce_ok);
  EXPECT_EQ(responder.cache_hits(), 0u);
}

TEST_F(OcspTest, UnknownSerialsSha256CertIdsAndSeveralCertificates) {
  auto a = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  auto b = parse_certificate(pki.issue("b", "DNS:b.example").certificate.der);
  EXPECT_EQ(ask(a.get(), false, EVP_sha256()).cert_status, V_OCSP_CERTSTATUS_GOOD);
  pki.manager.revoke("t", "issuing", serial_of(b.get()), "");
  std::string der = responder.respond("issuing", request_for({a.get(), b.get()}, true));
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
  EXPECT_EQ(status_of(responder.respond("issuing", "garbage")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(status_of(responder.respond("issuing", "")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  auto cert = parse_certificate(pki.issue("a", "DNS:a.example").certificate.der);
  std::string good = request_for({cert.get()}, false);
  EXPECT_EQ(status_of(responder.respond("issuing", good + "x")), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(status_of(responder.respond("root", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(status_of(responder.respond("nosuch", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(status_of(responder.respond("../etc", good)), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

}  // namespace
}  // namespace cairn
