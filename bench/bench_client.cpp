// bench_client — closed-loop HTTP load for certificate issuance: CONCURRENCY
// keep-alive connections, each sending its next request as soon as the
// previous answer is in, send P-256 CSRs for SECONDS and record every
// answer's latency. The connections are driven by two event loops (Asio,
// one thread each), so the load generator costs little CPU and no thread
// switches of its own on the machine it shares with the server. Prints one
// JSON line:
//   {"target":..,"concurrency":..,"ok":..,"errors":..,"seconds":..,"rate":..,"p50_ms":..,"p90_ms":..,
//    "p99_ms":..,"p999_ms":..,"max_ms":..}
// Targets: "cairn" (POST /api/v1/cas/<ca>/certificates, bearer token),
// "cfssl" (POST /api/v1/cfssl/sign, as `cfssl serve` takes it), and "ocsp"
// (POST of one DER OCSP request read from a file to PATH, any responder).
// Usage: bench_client cairn|cfssl HOST PORT CONCURRENCY SECONDS [TOKEN [CA]]
//        bench_client ocsp HOST PORT CONCURRENCY SECONDS REQUEST_FILE PATH
// Loopback only; the run is bounded by SECONDS.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <utility>  // before Boost.Asio, whose awaitable.hpp needs std::exchange
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
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


namespace asio = boost::asio;
using asio::ip::tcp;

constexpr int kThreads = 2;

// The connections of one run: each sends a request, reads the whole answer
// (Content-Length or chunked), checks it, and sends the next, until `end`.
class Load {
 public:
  Load(std::string host, int port, const std::vector<std::string>& requests, int expected, bool ocsp,
       Clock::time_point end)
      : host_(std::move(host)), port_(port), requests_(requests), expected_(expected), ocsp_(ocsp), end_(end) {}

  // Runs connections thread, thread + threads, ... of `concurrency` on one
  // event loop until the end time.
  void run(int thread, int threads, int concurrency) {
    asio::io_context io(1);
    tcp::endpoint server(asio::ip::make_address(host_), static_cast<unsigned short>(port_));
    std::vector<std::shared_ptr<Connection>> connections;
    size_t finished = 0;  // connections past the end time
    for (int c = thread; c < concurrency; c += threads) {
      connections.push_back(std::make_shared<Connection>(*this, io, server, static_cast<size_t>(c),
                                                         static_cast<size_t>(concurrency), finished));
      connections.back()->connect();
    }
    // Until every connection has stopped at the end time; a server that
    // stops answering does not hang the run past 30 s after it.
    asio::steady_timer watchdog(io);
    std::function<void()> watch = [&] {
      watchdog.expires_after(std::chrono::milliseconds(100));
      watchdog.async_wait([&](boost::system::error_code ec) {
        if (ec) return;
        auto now = Clock::now();
        if (now >= end_ + std::chrono::seconds(30)) return io.stop();
        if (now >= end_ && finished == connections.size()) return;
        watch();
      });
    };
    watch();
    io.run();
    std::lock_guard lock(mutex_);
    for (auto& c : connections) latencies_.insert(latencies_.end(), c->latencies.begin(), c->latencies.end());
  }

  long ok() const { return ok_; }
  long errors() const { return errors_; }
  std::vector<double> latencies_ms() const { return latencies_; }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Load& owner, asio::io_context& io, tcp::endpoint to, size_t first, size_t stride, size_t& done)
        : load(owner), socket(io), server(to), next(first), step(stride), finished(done) {}

    bool past_end() {
      if (Clock::now() < load.end_) return false;
      ++finished;
      return true;
    }

    void connect() {
      if (past_end()) return;
      boost::system::error_code ignored;
      socket.close(ignored);
      in.clear();
      at_eof = false;
      socket.async_connect(server, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->failed("connect: " + ec.message(), true);
        boost::system::error_code no_delay_failed;  // only slower
        self->socket.set_option(tcp::no_delay(true), no_delay_failed);
        self->send();
      });
    }

    void send() {
      if (past_end()) return;
      const std::string& request = load.requests_[next % load.requests_.size()];
      next += step;
      sent = Clock::now();
      asio::async_write(socket, asio::buffer(request), [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) return self->failed("write: " + ec.message(), true);
        self->read();
      });
    }

    void read() {
      socket.async_read_some(asio::buffer(chunk), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        // An answer without Content-Length or chunking ends at end of file.
        if (ec == asio::error::eof && self->in.find("\r\n\r\n") != std::string::npos) {
          self->at_eof = true;
          return self->parse();
        }
        if (ec) return self->failed("read: " + ec.message(), true);
        self->in.append(self->chunk.data(), n);
        self->parse();
      });
    }

    // More bytes of the answer, unless the server has closed the connection.
    void read_rest() {
      if (at_eof) return failed("connection closed in the middle of an answer", true);
      read();
    }

    // One answer from the front of `in`, or read more.
    void parse() {
      size_t head_end = in.find("\r\n\r\n");
      if (head_end == std::string::npos) return read();
      std::string head = in.substr(0, head_end);
      for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
      // HTTP/1.0 answers close the connection unless they say keep-alive
      // (openssl ocsp answers so).
      bool close = head.find("\r\nconnection: close") != std::string::npos ||
                   (head.starts_with("http/1.0") && head.find("\r\nconnection: keep-alive") == std::string::npos);
      std::string body;
      size_t used = 0;
      if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
        size_t at = head_end + 4;
        for (;;) {
          size_t line_end = in.find("\r\n", at);
          if (line_end == std::string::npos) return read_rest();
          size_t size = std::strtoul(in.c_str() + at, nullptr, 16);
          if (in.size() < line_end + 2 + size + 2) return read_rest();
          body.append(in, line_end + 2, size);
          at = line_end + 2 + size + 2;
          if (size == 0) break;
        }
        used = at;
      } else if (size_t cl = head.find("\r\ncontent-length:"); cl == std::string::npos) {
        if (!at_eof) return read();
        body = in.substr(head_end + 4);
        used = in.size();
        close = true;
      } else {
        size_t length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
        if (in.size() < head_end + 4 + length) return read_rest();
        body = in.substr(head_end + 4, length);
        used = head_end + 4 + length;
      }
      in.erase(0, used);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
      // An OCSP answer must at least be a DER SEQUENCE with status successful (0a 01 00).
      bool answered = status == load.expected_ &&
                      (!load.ocsp_ || (body.size() > 8 && body[0] == 0x30 &&
                                       body.find(std::string("\x0a\x01\x00", 3)) < 8));
      if (answered) {
        ++load.ok_;
        latencies.push_back(ms);
      } else {
        failed(std::to_string(status) + " " + body.substr(0, 200), false);
      }
      if (close) return connect();
      send();
    }

    void failed(const std::string& what, bool reconnect) {
      if (++load.errors_ < 5) std::fprintf(stderr, "error: %s\n", what.c_str());
      if (reconnect) {
        // Not in a tight loop against a server that is gone.
        auto timer = std::make_shared<asio::steady_timer>(socket.get_executor(), std::chrono::milliseconds(50));
        timer->async_wait([self = shared_from_this(), timer](boost::system::error_code) { self->connect(); });
      }
    }

    Load& load;
    tcp::socket socket;
    tcp::endpoint server;
    size_t next, step;
    size_t& finished;
    Clock::time_point sent;
    std::array<char, 16384> chunk;
    std::string in;
    bool at_eof = false;
    std::vector<double> latencies;
  };

  std::string host_;
  int port_;
  const std::vector<std::string>& requests_;
  int expected_;
  bool ocsp_;
  Clock::time_point end_;
  std::atomic<long> ok_{0}, errors_{0};
  std::mutex mutex_;
  std::vector<double> latencies_;
};

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

  std::vector<std::string> requests;  // complete HTTP requests, one per body
  for (const auto& body : bodies) {
    std::string r = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nContent-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!token.empty() && target != "ocsp") r += "Authorization: Bearer " + token + "\r\n";
    requests.push_back(r + "\r\n" + body);
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Load load(host, port, requests, expected, target == "ocsp", end);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([&, t] { load.run(t, kThreads, concurrency); });
  for (auto& th : threads) th.join();
  long ok = load.ok(), errors = load.errors();
  std::vector<double> latencies_ms = load.latencies_ms();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    size_t idx = std::min(latencies_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_ms.size())));
    return latencies_ms[idx];
  };
  nlohmann::json out{{"target", target},       {"concurrency", concurrency}, {"ok", ok},
                     {"errors", errors}, {"seconds", elapsed},        {"rate", static_cast<double>(ok) / elapsed},
                     {"p50_ms", pct(0.50)},     {"p90_ms", pct(0.90)},        {"p99_ms", pct(0.99)},
                     {"p999_ms", pct(0.999)},   {"max_ms", latencies_ms.empty() ? 0.0 : latencies_ms.back()}};
  std::printf("%s\n", out.dump().c_str());
  return errors > 0 && ok == 0 ? 1 : 0;
}
