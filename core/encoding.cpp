#include "core/encoding.h"

#include <openssl/pem.h>

#include <algorithm>

namespace cairn {

namespace {
void free_openssl_buffer(unsigned char* p) { OPENSSL_free(p); }
}  // namespace

std::string adopt_der(unsigned char* der, int len) {
  std::unique_ptr<unsigned char, OpenSslDeleter<free_openssl_buffer>> owned(der);
  if (len <= 0 || !der) return {};
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
}

namespace {

bool looks_like_pem(std::string_view s) { return s.find("-----BEGIN ") != std::string_view::npos; }

void check_size(std::string_view input, const char* code, size_t limit = kMaxDerInput) {
  if (input.empty()) throw Error(ErrorKind::InvalidInput, code, "input is empty");
  if (input.size() > limit)
    throw Error(ErrorKind::TooLarge, code,
                "input is larger than " + std::to_string(limit / 1024) + " KiB");
}

BioPtr memory_bio(std::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) throw_openssl(ErrorKind::Internal, "openssl_error", "BIO_new_mem_buf failed");
  return bio;
}


template <class Ptr, class D2i>
Ptr parse_der(std::string_view der, D2i d2i, const char* code, const char* what) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  Ptr obj(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (!obj) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, code, std::string("not a valid DER ") + what);
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    throw Error(ErrorKind::InvalidInput, code, std::string("trailing data after DER ") + what);
  return obj;
}

template <class Ptr, class PemRead>
Ptr parse_pem(std::string_view pem, PemRead read, const char* code, const char* what) {
  auto bio = memory_bio(pem);
  Ptr obj(read(bio.get(), nullptr, nullptr, nullptr));
  if (!obj) {
    ERR_clear_error();
    throw Error(ErrorKind::InvalidInput, code, std::string("not a valid PEM ") + what);
  }
  return obj;
}

template <class T, class I2d>
std::string der_of(const T* obj, I2d i2d) {
  unsigned char* out = nullptr;
  int len = i2d(obj, &out);
  std::string der = adopt_der(out, len);
  if (der.empty()) throw_openssl(ErrorKind::Internal, "openssl_error", "DER encoding failed");
  return der;
}

// RFC 7468 text: base64 in lines of 64 characters, each from 48 bytes.
// Written directly (a base64 BIO chain cost ~3% of the server's CPU when
// issuing: four PEMs per answer).
std::string pem_wrap(std::string_view der, std::string_view label) {
  constexpr size_t kLineBytes = 48;
  const std::string_view dashes = "-----";
  const size_t lines = (der.size() + kLineBytes - 1) / kLineBytes;
  std::string out;
  out.reserve(2 * label.size() + 40 + lines * 65);  // 2 armour lines, 64 + 1 per line
  out.append(dashes).append("BEGIN ").append(label).append(dashes).push_back('\n');
  unsigned char text[kLineBytes / 3 * 4 + 1];
  for (size_t at = 0; at < der.size(); at += kLineBytes) {
    size_t n = std::min(kLineBytes, der.size() - at);
    int written = EVP_EncodeBlock(text, reinterpret_cast<const unsigned char*>(der.data() + at), static_cast<int>(n));
    out.append(reinterpret_cast<const char*>(text), static_cast<size_t>(written)).push_back('\n');
  }
  out.append(dashes).append("END ").append(label).append(dashes).push_back('\n');
  return out;
}

}  // namespace

X509Ptr parse_certificate(std::string_view input) {
  check_size(input, "invalid_certificate");
  if (looks_like_pem(input))
    return parse_pem<X509Ptr>(input, PEM_read_bio_X509, "invalid_certificate", "certificate");
  return parse_der<X509Ptr>(input, d2i_X509, "invalid_certificate", "certificate");
}

X509ReqPtr parse_csr_object(std::string_view input) {
  check_size(input, "invalid_csr");
  if (looks_like_pem(input))
    return parse_pem<X509ReqPtr>(input, PEM_read_bio_X509_REQ, "invalid_csr",
                                 "certificate request");
  return parse_der<X509ReqPtr>(input, d2i_X509_REQ, "invalid_csr", "certificate request");
}

std::vector<X509Ptr> parse_certificate_chain(std::string_view pem) {
  check_size(pem, "invalid_certificate");
  std::vector<X509Ptr> out;
  size_t pos = 0;
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  while (true) {
    size_t begin = pem.find("-----BEGIN", pos);
    std::string_view gap = pem.substr(pos, begin == std::string_view::npos ? std::string_view::npos : begin - pos);
    if (gap.find_first_not_of(" \t\r\n") != std::string_view::npos)
      throw Error(ErrorKind::InvalidInput, "invalid_certificate", "unexpected text between PEM certificates");
    if (begin == std::string_view::npos) break;
    size_t end = pem.find(kEnd, begin);
    if (end == std::string_view::npos)
      throw Error(ErrorKind::InvalidInput, "invalid_certificate", "a PEM certificate is not terminated");
    end += kEnd.size();
    out.push_back(parse_certificate(pem.substr(begin, end - begin)));
    pos = end;
  }
  if (out.empty()) throw Error(ErrorKind::InvalidInput, "invalid_certificate", "no PEM certificate");
  return out;
}

X509CrlPtr parse_crl(std::string_view input) {
  check_size(input, "invalid_crl", kMaxCrlInput);
  if (looks_like_pem(input))
    return parse_pem<X509CrlPtr>(input, PEM_read_bio_X509_CRL, "invalid_crl", "CRL");
  return parse_der<X509CrlPtr>(input, d2i_X509_CRL, "invalid_crl", "CRL");
}

EvpPkeyPtr parse_public_key_der(std::string_view der) {
  return parse_der<EvpPkeyPtr>(der, d2i_PUBKEY, "invalid_public_key", "public key");
}

std::string to_der(const X509* cert) { return der_of(cert, i2d_X509); }
std::string to_der(const X509_REQ* req) { return der_of(req, i2d_X509_REQ); }
std::string to_der(const X509_CRL* crl) { return der_of(crl, i2d_X509_CRL); }
std::string public_key_der(const EVP_PKEY* key) { return der_of(key, i2d_PUBKEY); }

std::string certificate_pem(std::string_view der) { return pem_wrap(der, "CERTIFICATE"); }
std::string crl_pem(std::string_view der) { return pem_wrap(der, "X509 CRL"); }
std::string csr_pem(std::string_view der) { return pem_wrap(der, "CERTIFICATE REQUEST"); }

std::string private_key_pem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw_openssl(ErrorKind::Internal, "openssl_error", "cannot encode private key");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw Error(ErrorKind::InvalidInput, "invalid_base64", "malformed base64");
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw Error(ErrorKind::InvalidInput, "invalid_base64", "malformed base64");
  size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace cairn
