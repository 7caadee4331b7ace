#include "core/certificate_request.h"

#include <openssl/pem.h>

#include "core/der_reader.h"
#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"
#include "core/public_key_info.h"

namespace cairn {
namespace {

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;

SubjectAltNames sans_of(const STACK_OF(X509_EXTENSION) * exts) {
  SubjectAltNames sans = SubjectAltNames::from_extensions(exts);
  sans.normalize();
  return sans;
}

// PEM "CERTIFICATE REQUEST" (or the old "NEW CERTIFICATE REQUEST") to DER;
// nullopt for anything else, which the generic parser then judges.
std::optional<std::string> pem_to_der(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::optional<std::string> out;
  std::string_view label(name);
  if ((label == PEM_STRING_X509_REQ || label == PEM_STRING_X509_REQ_OLD) && header[0] == '\0')
    out = std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return out;
}

// The Extensions of a PKCS#10 extensionRequest attribute (RFC 2986 4.1,
// RFC 2985 5.4.2) inside the [0] attributes, or null if there is none.
// Sets `ok` to false on a shape the fast path does not handle.
X509ExtensionsPtr requested_extensions(std::string_view attributes, bool& ok) {
  X509ExtensionsPtr found;
  DerReader r(attributes);
  while (auto attribute = r.next()) {
    if (attribute->tag != der_tag::kSequence) return ok = false, nullptr;
    DerReader a(attribute->content);
    auto oid = a.next_if(der_tag::kOid);
    auto values = a.next_if(der_tag::kSet);
    if (!oid || !values || !a.at_end()) return ok = false, nullptr;
    std::optional<int> nid = der_oid_nid(*oid);
    if (!nid) return ok = false, nullptr;
    if (*nid != NID_ext_req && *nid != NID_ms_ext_req) continue;
    auto extensions = der_single(values->content, der_tag::kSequence);
    if (found || !extensions) return ok = false, nullptr;
    const unsigned char* p = der_bytes(extensions->whole);
    found.reset(d2i_X509_EXTENSIONS(nullptr, &p, static_cast<long>(extensions->whole.size())));
    if (!found) return ok = false, nullptr;
  }
  if (r.failed()) ok = false;
  return found;
}

// Reads a DER CSR of the common shapes (EC, RSA PKCS#1 v1.5, Ed25519;
// version 0) without letting OpenSSL decode the key through its generic
// decoder. nullopt: not one of those shapes; the generic parser decides.
std::optional<CertificateRequest> parse_common_csr(std::string_view der) {
  auto outer = der_single(der, der_tag::kSequence);
  if (!outer) return std::nullopt;
  DerReader r(outer->content);
  auto info = r.next_if(der_tag::kSequence);
  auto signature_algorithm = r.next_if(der_tag::kSequence);
  auto signature = r.next_if(der_tag::kBitString);
  if (!info || !signature_algorithm || !signature || !r.at_end() || signature->content.empty() ||
      signature->content[0] != 0)
    return std::nullopt;
  DerReader i(info->content);
  auto version = i.next_if(der_tag::kInteger);
  auto subject = i.next_if(der_tag::kSequence);
  auto spki = i.next_if(der_tag::kSequence);
  auto attributes = i.next_if(der_tag::kContext0);
  if (!version || version->content != std::string_view("\0", 1) || !subject || !spki || !i.at_end())
    return std::nullopt;

  auto key_info = read_public_key_info(spki->whole);
  if (!key_info || (key_info->algorithm_nid != NID_X9_62_id_ecPublicKey &&
                    key_info->algorithm_nid != NID_rsaEncryption && key_info->algorithm_nid != NID_ED25519))
    return std::nullopt;
  const unsigned char* p = der_bytes(signature_algorithm->whole);
  X509AlgorPtr algorithm(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(signature_algorithm->whole.size())));
  if (!algorithm) return ERR_clear_error(), std::nullopt;
  int parameter_type = V_ASN1_UNDEF;
  X509_ALGOR_get0(nullptr, &parameter_type, nullptr, algorithm.get());
  int digest_nid = NID_undef, key_nid = NID_undef;
  if (!OBJ_find_sigid_algs(OBJ_obj2nid(algorithm->algorithm), &digest_nid, &key_nid) ||
      key_nid != key_info->algorithm_nid)
    return std::nullopt;
  bool no_parameters = parameter_type == V_ASN1_UNDEF ||
                       (parameter_type == V_ASN1_NULL && key_nid == NID_rsaEncryption);
  const EVP_MD* digest = nullptr;
  if (digest_nid != NID_undef) {
    digest = fetched_digest(digest_nid);
    if (!digest) digest = EVP_get_digestbynid(digest_nid);
  }
  if (!no_parameters || (digest_nid != NID_undef && !digest) || (key_nid == NID_ED25519) != (digest == nullptr))
    return std::nullopt;

  bool shape_ok = true;
  X509ExtensionsPtr extensions = attributes ? requested_extensions(attributes->content, shape_ok) : nullptr;
  if (!shape_ok) return ERR_clear_error(), std::nullopt;
  p = der_bytes(subject->whole);
  X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(subject->whole.size())));
  if (!name) return ERR_clear_error(), std::nullopt;

  EvpPkeyPtr key;
  try {
    key = public_key_from_info(*key_info);
  } catch (const Error&) {
    throw Error(ErrorKind::InvalidInput, "invalid_csr", "the CSR has no usable public key");
  }
  MdCtxPtr verify(EVP_MD_CTX_new());
  std::string_view sig = signature->content.substr(1);
  if (!verify || EVP_DigestVerifyInit(verify.get(), nullptr, digest, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(verify.get(), der_bytes(sig), sig.size(), der_bytes(info->whole), info->whole.size()) != 1) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, "csr_signature_invalid",
                "the CSR's signature does not verify with its own public key");
  }
  CertificateRequest out;
  out.der = std::string(der);
  out.subject = format_name(name.get());
  out.public_key_der = key_info->der;
  out.key_type = describe_public_key_info(*key_info);
  out.sans = sans_of(extensions.get());
  return out;
}

}  // namespace

CertificateRequest parse_certificate_request(std::string_view input) {
  if (!input.empty() && input.size() <= kMaxDerInput) {
    std::optional<std::string> pem;
    if (input.find("-----BEGIN ") != std::string_view::npos) pem = pem_to_der(input);
    std::string_view der = pem ? std::string_view(*pem) : input;
    if (pem || der.find("-----BEGIN ") == std::string_view::npos)
      if (auto parsed = parse_common_csr(der)) return std::move(*parsed);
  }
  return parse_certificate_request_generic(input);
}

CertificateRequest parse_certificate_request_generic(std::string_view input) {
  X509ReqPtr req = parse_csr_object(input);
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, "invalid_csr", "the CSR has no usable public key");
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, "csr_signature_invalid",
                "the CSR's signature does not verify with its own public key");
  }
  CertificateRequest out;
  out.der = to_der(req.get());
  out.subject = format_name(X509_REQ_get_subject_name(req.get()));
  out.public_key_der = public_key_der(key);
  out.key_type = describe_public_key(key);
  X509ExtensionsPtr exts(X509_REQ_get_extensions(req.get()));
  out.sans = sans_of(exts.get());
  return out;
}

}  // namespace cairn
