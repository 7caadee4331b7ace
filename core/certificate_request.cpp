#include "core/certificate_request.h"

#include "core/distinguished_name.h"
#include "core/encoding.h"
#include "core/key_algorithm.h"

namespace cairn {

CertificateRequest parse_certificate_request(std::string_view input) {
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
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  try {
    out.sans = SubjectAltNames::from_extensions(exts);
  } catch (...) {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    throw;
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  out.sans.normalize();
  return out;
}

}  // namespace cairn
