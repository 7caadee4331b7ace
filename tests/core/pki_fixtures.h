// Shared PKI test fixtures: CSRs made with OpenSSL's API, an in-memory
// CaManager wired like the server (CaObjectsStore attached), and helpers to
// verify what cairn produced with OpenSSL's own path validation.
#pragma once

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <string>
#include <vector>

#include "core/ca_manager.h"
#include "core/certificate_request.h"
#include "core/encoding.h"
#include "core/key_store.h"
#include "eventstore/memory_kv_store.h"
#include "tests/test_util.h"

namespace cairn::testing {

struct Csr {
  std::string pem;
  EvpPkeyPtr key;
};

// sans: OpenSSL conf syntax, e.g. "DNS:a.example,IP:10.0.0.1" (empty: none).
inline Csr make_csr(const std::string& subject, const std::string& sans,
                    KeyAlgorithm alg = KeyAlgorithm::EcP256) {
  Csr out;
  out.key = generate_key(alg);
  X509ReqPtr req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (!subject.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(subject.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), out.key.get());
  if (!sans.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, sans.c_str());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_sign(req.get(), out.key.get(), signing_digest(out.key.get()));
  out.pem = csr_pem(to_der(req.get()));
  return out;
}

inline std::string make_csr_pem(const std::string& cn, const std::string& sans) {
  return make_csr(cn, sans).pem;
}

// The IssueCertificate command CaManager makes for a fresh CSR for `name`
// (subject CN=name, one DNS name), "server" profile.
inline IssueCertificate server_issue_command(const std::string& name) {
  auto csr = parse_certificate_request(make_csr_pem(name, "DNS:" + name));
  IssueCertificate c;
  c.public_key_der = csr.public_key_der;
  c.subject = csr.subject;
  c.sans = csr.sans;
  c.profile = "server";
  return c;
}

// Path validation of `leaf_der` against the chain, as a relying party would.
// Returns the X509_V error (0 = ok).
inline int verify_chain(const std::string& leaf_der, const std::vector<std::string>& ca_ders,
                        const std::string& crl_der = "", int64_t at_ms = 0) {
  X509Ptr leaf = parse_certificate(leaf_der);
  std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>> store(X509_STORE_new());
  std::vector<X509Ptr> keep;
  for (const auto& der : ca_ders) {
    keep.push_back(parse_certificate(der));
    X509_STORE_add_cert(store.get(), keep.back().get());
  }
  X509CrlPtr crl;
  if (!crl_der.empty()) {
    crl = parse_crl(crl_der);
    X509_STORE_add_crl(store.get(), crl.get());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
  }
  std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  if (at_ms) X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(at_ms / 1000));
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  return ok == 1 ? 0 : (err ? err : -1);
}

// A CaManager over in-memory storage with a manual clock.
struct PkiHarness {
  MemoryKvStore kv;
  MemoryKeyStore keys;
  Signer signer{keys};
  ManualClock clock{1'790'000'000'000};  // 2026-09-21
  CaManager manager{kv, signer, clock, CaManagerConfig{"http://pki.test", 500, nullptr}};

  void make_hierarchy(const std::string& alg = "ec-p256") {
    CreateCaRequest root{"root", "CN=Test Root,O=cairn tests", alg, "", 3650};
    manager.create_ca("test", root);
    CreateCaRequest issuing{"issuing", "CN=Test Issuing", alg, "root", 1825};
    manager.create_ca("test", issuing);
  }

  IssueResult issue(const std::string& cn, const std::string& sans, const std::string& profile = "server",
                    int days = 0) {
    IssueRequest r;
    r.csr = make_csr_pem(cn, sans);
    r.profile = profile;
    r.validity_days = days;
    return manager.issue("test", "issuing", r);
  }

  std::vector<std::string> ca_ders() {
    return {manager.get_ca("root").certificate_der, manager.get_ca("issuing").certificate_der};
  }
};

// The raw private scalar of an EC key (what must never leak).
// The private scalar as its key's DER holds it: for EC (RFC 5915) padded to
// the size of the group order, so it does not depend on leading zero bytes
// (1 key in 256 has one); for others minimal.
inline std::string private_scalar(const EVP_PKEY* key) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, "priv", &bn) != 1) return "";
  BignumPtr owned(bn);
  int size = EVP_PKEY_is_a(key, "EC") ? (EVP_PKEY_get_bits(key) + 7) / 8 : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size) != size) return "";
  return out;
}

}  // namespace cairn::testing
