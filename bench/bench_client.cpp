// bench_client — closed-loop HTTP load for certificate issuance: CONCURRENCY
// threads, each with its own keep-alive connection, send P-256 CSRs for
// SECONDS and record every answer's latency. Prints one JSON line:
//   {"target":..,"concurrency":..,"ok":..,"errors":..,"seconds":..,"rate":..,"p50_ms":..,"p99_ms":..}
// Targets: "cairn" (POST /api/v1/cas/<ca>/certificates, bearer token),
// "cfssl" (POST /api/v1/cfssl/sign, as `cfssl serve` takes it), and "ocsp"
// (POST of one DER OCSP request read from a file to PATH, any responder).
// Usage: bench_client cairn|cfssl HOST PORT CONCURRENCY SECONDS [TOKEN [CA]]
//        bench_client ocsp HOST PORT CONCURRENCY SECONDS REQUEST_FILE PATH
// Loopback only; the run is bounded by SECONDS.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// A P-256 CSR for CN=<name>, with the name as its DNS SAN.
std::string make_csr(const std::string& name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          EVP_PKEY_free);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(X509_REQ_new(), X509_REQ_free);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, ("DNS:" + name).c_str()));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: bench_client cairn|cfssl HOST PORT CONCURRENCY SECONDS [TOKEN [CA]]\n");
    return 2;
  }
  const std::string target = argv[1], host = argv[2];
  const int port = std::stoi(argv[3]), concurrency = std::stoi(argv[4]);
  const double seconds = std::stod(argv[5]);
  const std::string token = argc > 6 ? argv[6] : "", ca = argc > 7 ? argv[7] : "issuing";
  if (target != "cairn" && target != "cfssl" && target != "ocsp") return 2;

  // Request bodies made before the clock starts: the client's own CPU use
  // during the run is framing only.
  std::vector<std::string> bodies;
  std::string path, content_type = "application/json";
  if (target == "ocsp") {
    if (argc < 8) return 2;
    std::ifstream in(argv[6], std::ios::binary);
    bodies.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bodies[0].empty()) return 2;
    path = argv[7];
    content_type = "application/ocsp-request";
  } else {
    for (int i = 0; i < 512; ++i) {
      std::string csr = make_csr("bench-" + std::to_string(i) + ".example");
      bodies.push_back(target == "cairn" ? nlohmann::json{{"csr", csr}, {"profile", "server"}}.dump()
                                         : nlohmann::json{{"certificate_request", csr}}.dump());
    }
    path = target == "cairn" ? "/api/v1/cas/" + ca + "/certificates" : "/api/v1/cfssl/sign";
  }
  const int expected = target == "cairn" ? 201 : 200;

  std::atomic<long> ok{0}, errors{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_connection_timeout(5, 0);
      client.set_read_timeout(30, 0);
      httplib::Headers headers;
      if (!token.empty() && target != "ocsp") headers.emplace("Authorization", "Bearer " + token);
      std::vector<double> mine;
      for (size_t i = static_cast<size_t>(t); Clock::now() < end; i += static_cast<size_t>(concurrency)) {
        auto sent = Clock::now();
        auto res = client.Post(path, headers, bodies[i % bodies.size()], content_type);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        // An OCSP answer must at least be a DER SEQUENCE with status successful (0a 01 00).
        bool answered = res && res->status == expected &&
                        (target != "ocsp" || (res->body.size() > 8 && res->body[0] == 0x30 &&
                                              res->body.find(std::string("\x0a\x01\x00", 3)) < 8));
        if (answered) {
          ++ok;
          mine.push_back(ms);
        } else {
          ++errors;
          if (errors < 5)
            std::fprintf(stderr, "error: %s\n", res ? (std::to_string(res->status) + " " + res->body).c_str()
                                                    : httplib::to_string(res.error()).c_str());
        }
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    size_t idx = std::min(latencies_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_ms.size())));
    return latencies_ms[idx];
  };
  nlohmann::json out{{"target", target},       {"concurrency", concurrency}, {"ok", ok.load()},
                     {"errors", errors.load()}, {"seconds", elapsed},        {"rate", static_cast<double>(ok) / elapsed},
                     {"p50_ms", pct(0.50)},     {"p99_ms", pct(0.99)}};
  std::printf("%s\n", out.dump().c_str());
  return errors > 0 && ok == 0 ? 1 : 0;
}
