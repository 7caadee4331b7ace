// PublicEndpoints — the unauthenticated URLs that certificates and relying
// parties use, apart from any HTTP library:
//   GET  /health
//   POST /ocsp/{ca}                 (body: DER OCSPRequest)
//   GET  /ocsp/{ca}/{base64 request}
//   GET  /crl/{ca}.crl, /crl/{ca}.pem, /crl/{ca}/{generation}.crl
//   GET  /ca/{ca}.cer, /ca/{ca}/{generation}.cer
// answer() turns one request (method, percent-decoded path, body) into a
// complete answer. Errors are answered as the JSON API answers them
// ({"error":{"code","message"}}, status by ErrorKind; 5xx without detail,
// logged). Both listeners serve these URLs through it: the API listener's
// routes and PublicListener.
// Thread-safety: answer() may be called concurrently.
// Ownership: borrows the services, which must outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cairn {
class CaManager;
class CaObjectsStore;
class Metrics;
class OcspResponder;
}  // namespace cairn

namespace cairn::api {

struct PublicAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string cache_control;  // empty: no Cache-Control header
  std::string allow;          // 405 only: the methods the path takes
  // Set: the body is this string, kept elsewhere and shared, not copied
  // (a CRL of a million entries is 53 MB); `body` is then empty.
  std::shared_ptr<const std::string> shared_body;

  std::string_view content() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

class PublicEndpoints {
 public:
  PublicEndpoints(CaManager& manager, CaObjectsStore& objects, OcspResponder& ocsp, Metrics* metrics = nullptr);

  // method: "GET" or "POST" (a HEAD is answered as its GET, without the body).
  PublicAnswer answer(std::string_view method, std::string_view path, std::string_view body) const;

  // The CRL of a key generation (0: the first key's URL, see the .cpp), DER
  // or PEM; the CA certificate of a key generation. These throw Error.
  PublicAnswer crl(const std::string& ca, int generation, bool pem) const;
  PublicAnswer ca_certificate(const std::string& ca, int generation) const;

 private:
  PublicAnswer route(std::string_view method, std::string_view path, std::string_view body) const;

  CaManager& manager_;
  CaObjectsStore& objects_;
  OcspResponder& ocsp_;
  Metrics* metrics_;
};

}  // namespace cairn::api
