#include "api/http_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "api/http1_request.h"
#include "api/http1_response.h"
#include "api/listening.h"
#include "api/router.h"
#include "api/static_files.h"
#include "eventstore/error.h"

namespace cairn::api {

namespace asio = boost::asio;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

constexpr size_t kMaxHeaderBytes = 8 << 10;
constexpr size_t kCopyBelow = 64 << 10;  // smaller bodies are copied behind the head (one buffer)
constexpr size_t kKeepCapacity = 64 << 10;  // larger idle buffers are given back
constexpr std::chrono::milliseconds kLinger{1000};
constexpr size_t kMinLingerBytes = 256 << 10;
constexpr size_t kMaxLingerBytes = 64 << 20;
constexpr size_t kMinReceiveBudget = 64 << 20;
constexpr std::string_view kRepositoryMount = "/repo/";

// A connection as its loop sees it when the server stops.
class Drainable {
 public:
  virtual ~Drainable() = default;
  // Closes the connection now if it waits for a request; else after the
  // answer being written.
  virtual void drain() = 0;
  virtual void close() = 0;
};

// One event loop and its thread: the connections it serves, one request
// at a time. (The counters are declared before the io_context: destroying
// it destroys connections, which count themselves out.)
struct Loop {
  std::atomic<size_t> connections{0};
  std::atomic<bool> handling{false};  // a handler is running on the loop's thread
  std::vector<std::weak_ptr<Drainable>> members;  // its connections; on its thread only
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> busy = asio::make_work_guard(io);  // until drained
  std::unique_ptr<asio::steady_timer> drain_deadline;

  // On the loop's thread.
  void join(std::weak_ptr<Drainable> connection) {
    if (members.size() >= 64 && members.size() > 2 * connections)
      std::erase_if(members, [](const auto& m) { return m.expired(); });
    members.push_back(std::move(connection));
  }
  // On the loop's thread, once the server stops: closes the idle
  // connections, lets the others finish their answers, and ends the loop
  // when the last has gone, or after `grace` closing those still open.
  void drain(std::chrono::milliseconds grace) {
    for (auto& m : members)
      if (auto c = m.lock()) c->drain();
    busy.reset();
    drain_deadline = std::make_unique<asio::steady_timer>(io, grace);
    drain_deadline->async_wait([this](boost::system::error_code) {
      for (auto& m : members)
        if (auto c = m.lock()) c->close();
      io.stop();
    });
    if (connections == 0) io.stop();
  }
};

// What the connections share: the options, the routes, the loops, the
// count of open connections and of the request bytes they hold. Accepting
// has a loop of its own: a loop busy with a long request (a large CRL)
// never holds up new connections, which go to a loop that is not busy.
struct Listener {
  HttpServerOptions options;
  ApiServices services;
  std::unique_ptr<Router> router;
  std::atomic<size_t> open_connections{0};  // these outlive the loops (declared first)
  std::atomic<size_t> received_bytes{0};    // request bytes the connections hold
  size_t receive_budget = 0;                // over it, a connection still receiving gets 503
  std::atomic<bool> stopped{false};         // read by connections as they go
  std::atomic<bool> serving{false};
  std::atomic<size_t> loops_handling{0};    // loops running a handler on their own thread
  std::unique_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Loop>> loops;
  // Runs the handlers of connections that share their loop (destroyed
  // before the loops: what it holds counts itself out of them).
  asio::thread_pool pool;
  asio::io_context accept_io{1};
  asio::executor_work_guard<asio::io_context::executor_type> accepting = asio::make_work_guard(accept_io);
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> retry_timer;
  ConnectionShare max_connections;  // options.max_connections, within the descriptor limit
  RareWarning warn_rarely{"API listener"};

  Listener(int threads, int handler_threads) : pool(static_cast<size_t>(handler_threads)) {
    for (int i = 0; i < threads; ++i) loops.push_back(std::make_unique<Loop>());
  }

  // Whether a connection alone on `loop` may run its handler on the loop's
  // thread: not if every other loop is doing so already, so that a new
  // connection always finds a loop that is free. A true answer marks the
  // loop as handling until end_inline_turn().
  bool take_inline_turn(Loop& loop) {
    if (loops_handling.fetch_add(1) + 1 >= loops.size()) {
      loops_handling.fetch_sub(1);
      return false;
    }
    loop.handling = true;
    return true;
  }
  void end_inline_turn(Loop& loop) {
    loop.handling = false;
    loops_handling.fetch_sub(1);
  }

  void accept();
  void accept_later();
  void take(tcp::socket socket);
  Loop& pick_loop();
  template <class Stream>
  void start_connection(Loop& loop, Stream stream);

  // The answer to one request; never throws.
  void answer(HttpRequest& req, HttpResponse& res) const {
    try {
      if (!options.repository_dir.empty() && req.path.starts_with(kRepositoryMount))
        return serve_static_file(options.repository_dir, std::string_view(req.path).substr(kRepositoryMount.size()),
                                 req, res);
      router->dispatch(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: unhandled exception: {}", req.method, printable(req.path), e.what());
      internal_error(res);
    } catch (...) {
      spdlog::error("{} {}: unhandled exception", req.method, printable(req.path));
      internal_error(res);
    }
  }

  // Written out rather than built, so that it cannot throw; the same text
  // send_error() writes (pretty, as every JSON answer).
  static void internal_error(HttpResponse& res) {
    res = HttpResponse{};
    res.status = 500;
    res.content_type = "application/json";
    res.body = "{\n  \"error\": {\n    \"code\": \"internal_error\",\n    \"message\": \"internal error\"\n  }\n}\n";
  }

  // A decoded path may hold any byte: control characters are logged as '?'
  // (no forged log lines).
  static std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
  }
};

// One client connection, served by the thread of its loop: all its
// handlers run there, one at a time, so it needs no locks. A request is
// read, handled and answered before the next is parsed.
// Deadlines: the request line and headers must arrive within the request
// timeout of the connection's start or the previous answer; after that,
// each read of the body and each write of the answer must make progress
// within it (a large CRL to a slow client is not cut off).
template <class Stream>
class Connection : public Drainable, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Connection(Listener& listener, Loop& loop, Stream stream)
      : listener_(listener), loop_(loop), stream_(std::move(stream)), timer_(stream_.get_executor()) {
    ++listener_.open_connections;
    ++loop_.connections;
  }
  ~Connection() override {
    listener_.received_bytes -= counted_ + held_;
    --listener_.open_connections;
    // The last connection of a stopping server's loop ends the loop.
    if (--loop_.connections == 0 && listener_.stopped) loop_.io.stop();
  }

  // A request already begun (its body arriving, being handled, or its
  // answer being written) is answered, with "Connection: close".
  void drain() override {
    if (closing_) return;  // answered and lingering, or closed already
    if (head_in_ || handling_ || writing_)
      closing_ = true;  // closes once the answer is out
    else
      close();
  }

  auto executor() { return stream_.get_executor(); }

  void start() {
    if (listener_.stopped) return;  // the loop is draining: not taken
    loop_.join(this->weak_from_this());
    boost::system::error_code ec;
    socket().set_option(tcp::no_delay(true), ec);
    auto peer = socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
    arm_timer();
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code hs) {
                                if (hs) return self->close();
                                self->serve();
                              });
    } else {
      serve();
    }
  }

 private:
  tcp::socket& socket() {
    if constexpr (kTls)
      return stream_.next_layer();
    else
      return stream_;
  }

  SSL* ssl() {
    if constexpr (kTls)
      return stream_.native_handle();
    else
      return nullptr;
  }

  // Answers the request at the front of the buffer, or reads more.
  void serve() {
    Http1Limits limits{kMaxHeaderBytes, listener_.options.max_body_bytes, true};
    Http1Parse p = parse_http1_request(in_, limits);
    if (p.status == Http1Parse::Status::Failed) return refuse(p.error_status, p.error_code, p.error_message);
    if (p.status == Http1Parse::Status::Incomplete) {
      head_in_ = p.head_complete;
      if (p.head_complete && p.request.expects_continue && !continue_sent_) {
        continue_sent_ = true;
        out_ = "HTTP/1.1 100 Continue\r\n\r\n";
        return write(false);
      }
      return read();
    }
    head_in_ = false;
    const Http1Request& r = p.request;
    auto params = parse_query(r.query);
    if (!params) return refuse(400, "bad_request", "malformed query string");
    HttpRequest req = to_http_request(r, std::move(*params));
    keep_alive_ = r.keep_alive;
    http10_ = r.http10;
    consume(r.consumed);  // r points into in_: last use above
    hold(req.body.size());
    continue_sent_ = false;
    // No timeout while the handler runs (it may wait for a durable commit
    // or build a large CRL); the answer's write is timed again.
    timer_.expires_at(asio::steady_timer::time_point::max());
    handling_ = true;
    if (loop_.connections > 1 || !listener_.take_inline_turn(loop_)) {
      // The loop serves other connections (or must stay free for new
      // ones): the handler runs on the pool, so that a long request does
      // not hold them up.
      asio::post(listener_.pool, [self = this->shared_from_this(), executor = executor(),
                                  req = std::move(req)]() mutable {
        auto res = std::make_shared<HttpResponse>();
        self->listener_.answer(req, *res);
        asio::post(executor, [self = std::move(self), req = std::move(req), res]() mutable {
          self->answered(req, *res);
        });
      });
      return;
    }
    HttpResponse res;
    listener_.answer(req, res);
    listener_.end_inline_turn(loop_);
    answered(req, res);
  }

  void answered(HttpRequest& req, HttpResponse& res) {
    handling_ = false;
    hold(0);
    method_ = std::move(req.method);
    path_ = std::move(req.path);
    log(res.status);
    if (!keep_alive_) closing_ = true;  // closing_ may also be set by a drain meanwhile
    write_answer(res, method_ == "HEAD", !closing_, http10_);
  }

  // The body of the request being handled stays counted until answered.
  void hold(size_t body_bytes) { recount(held_, body_bytes); }

  HttpRequest to_http_request(const Http1Request& r, HttpFields params) {
    HttpRequest req;
    req.method = r.method;
    req.path = r.path;
    req.body = std::string(r.body);
    req.remote_addr = remote_;
    req.ssl = ssl();
    req.headers.reserve(r.headers.size());
    for (const auto& [name, value] : r.headers) req.headers.emplace_back(std::string(name), std::string(value));
    req.params = std::move(params);
    return req;
  }

  // An error answer, after which the connection closes.
  void refuse(int status, const std::string& code, const std::string& message) {
    HttpResponse refusal;
    send_error(refusal, status, code, message);
    log(status);
    closing_ = true;
    refused_ = status;
    write_answer(refusal, false, false, false);
  }

  void log(int status) const {
    spdlog::info("{} {} {} from {}", method_.empty() ? "-" : method_,
                 path_.empty() ? "-" : Listener::printable(path_), status, remote_);
  }

  void write_answer(HttpResponse& res, bool head_only, bool keep_alive, bool http10) {
    std::vector<HeaderField> fields;
    fields.reserve(res.headers.size());
    for (const auto& [name, value] : res.headers) fields.push_back(HeaderField{name, value});
    out_.clear();
    std::string_view content = res.content();
    append_http1_head(out_, res.status, res.content_type, content.size(), fields, keep_alive, http10);
    body_.reset();
    if (!head_only) {
      if (content.size() < kCopyBelow)
        out_.append(content);
      else if (res.shared_body)
        body_ = std::move(res.shared_body);
      else
        body_ = std::make_shared<const std::string>(std::move(res.body));
    }
    write(true);
  }

  // Writes out_ and body_, piece by piece (each piece within the request
  // timeout); then the next request, or the close.
  void write(bool answer) {
    writing_ = true;
    out_sent_ = 0;
    body_sent_ = 0;
    answering_ = answer;
    arm_timer();
    write_some();
  }

  void write_some() {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_) + out_sent_,
                                              body_ ? asio::buffer(*body_) + body_sent_ : asio::const_buffer()};
    stream_.async_write_some(buffers, [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return self->close();
      size_t from_out = std::min(n, self->out_.size() - self->out_sent_);
      self->out_sent_ += from_out;
      self->body_sent_ += n - from_out;
      if (self->out_sent_ < self->out_.size() || (self->body_ && self->body_sent_ < self->body_->size())) {
        self->arm_timer();
        return self->write_some();
      }
      self->written();
    });
  }

  void written() {
    writing_ = false;
    release(out_);
    body_.reset();
    if (closing_ && answering_) return linger();  // (after a 100 Continue, the answer is still to come)
    if (answering_) arm_timer();  // the next request's time starts now
    method_.clear();
    path_.clear();
    serve();
  }

  void read() {
    stream_.async_read_some(asio::buffer(chunk_),
                            [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->close();
                              self->received(n);
                            });
  }

  void received(size_t n) {
    in_.append(chunk_.data(), n);
    count_received();
    if (in_.size() > kCopyBelow && listener_.received_bytes > listener_.receive_budget)
      return refuse(503, "server_busy", "the server is receiving too many large requests; try again later");
    if (head_in_) arm_timer();  // a body that keeps arriving keeps its time
    serve();
  }

  void consume(size_t n) {
    in_.erase(0, n);
    if (in_.empty()) release(in_);
    count_received();
  }

  void count_received() { recount(counted_, in_.size()); }

  // Replaces what `counted` added to the listener's request bytes by `now`.
  void recount(size_t& counted, size_t now) {
    listener_.received_bytes += now;
    listener_.received_bytes -= counted;
    counted = now;
  }

  static void release(std::string& buffer) {
    buffer.clear();
    if (buffer.capacity() > kKeepCapacity) std::string().swap(buffer);
  }

  // Closing after an answer while the client may still be sending: TLS
  // says goodbye (close_notify); plain TCP stops sending and drops what
  // arrives (after a refused body: up to a few times the body limit) for as
  // long as it keeps arriving, so the kernel does not answer those bytes
  // with a reset that can destroy the answer before the client has read it.
  void linger() {
    consume(in_.size());
    if constexpr (kTls) {
      arm_linger();
      stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) { self->close(); });
    } else {
      boost::system::error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
      size_t cap = refused_ == 413 ? std::clamp(4 * listener_.options.max_body_bytes, kMinLingerBytes, kMaxLingerBytes)
                                   : kMinLingerBytes;
      drop_incoming(0, cap);
    }
  }

  void arm_linger() {
    close_after(timer_, std::min(listener_.options.request_timeout, std::chrono::milliseconds(kLinger)), as_drainable());
  }

  // Reads and drops what the client still sends, up to `cap` bytes in all.
  void drop_incoming(size_t dropped, size_t cap) {
    arm_linger();
    socket().async_read_some(asio::buffer(chunk_), [self = this->shared_from_this(), dropped, cap](
                                                       boost::system::error_code ec, size_t n) {
      if (ec || dropped + n > cap) return self->close();
      self->drop_incoming(dropped + n, cap);
    });
  }

  // The current step (the request's head, a piece of its body or of the
  // answer) must happen within the request timeout.
  void arm_timer() { close_after(timer_, listener_.options.request_timeout, as_drainable()); }

  std::weak_ptr<Drainable> as_drainable() { return this->weak_from_this(); }

  void close() override {
    boost::system::error_code ignored;
    timer_.cancel();
    socket().close(ignored);
  }

  Listener& listener_;
  Loop& loop_;
  Stream stream_;
  asio::steady_timer timer_;
  std::array<char, 16 << 10> chunk_;
  std::string in_;
  size_t counted_ = 0;  // in_'s size as counted in listener_.received_bytes
  size_t held_ = 0;     // the body of the request being handled, counted there too
  std::string out_;
  std::shared_ptr<const std::string> body_;
  size_t out_sent_ = 0;
  size_t body_sent_ = 0;
  std::string remote_;
  std::string method_;  // of the request being answered, for the access log
  std::string path_;
  int refused_ = 0;  // the status of a refusal being answered
  bool head_in_ = false;  // the request being read has its head in (its body is arriving)
  bool answering_ = false;
  bool handling_ = false;  // a request of this connection is being handled
  bool writing_ = false;
  bool keep_alive_ = true;  // of the request being handled
  bool http10_ = false;
  bool closing_ = false;
  bool continue_sent_ = false;
};

// Starts the connection on its loop's thread.
template <class Stream>
void Listener::start_connection(Loop& loop, Stream stream) {
  // Not make_shared: a loop's weak references must not keep the memory.
  auto connection = std::shared_ptr<Connection<Stream>>(new Connection<Stream>(*this, loop, std::move(stream)));
  asio::post(connection->executor(), [connection] { connection->start(); });
}

// A loop handles one request at a time: a new connection goes to a loop
// that is not handling one, the one with the fewest connections among them.
Loop& Listener::pick_loop() {
  Loop* best = nullptr;
  for (const auto& loop : loops) {
    if (!best || (best->handling && !loop->handling) ||
        (best->handling == loop->handling && loop->connections < best->connections))
      best = loop.get();
  }
  return *best;
}

void Listener::take(tcp::socket socket) {
  if (stopped) return;  // accepted just as the server stops: dropped
  if (open_connections >= max_connections.size()) {
    warn_rarely(std::to_string(max_connections.size()) + " connections open, refusing more");
    return;
  }
  Loop& loop = pick_loop();
  auto protocol = socket.local_endpoint().protocol();
  tcp::socket moved(loop.io);
  moved.assign(protocol, socket.release());
  if (tls)
    start_connection(loop, TlsStream(std::move(moved), *tls));
  else
    start_connection(loop, std::move(moved));
}

void Listener::accept() {
  acceptor->async_accept(accept_io, [this](boost::system::error_code ec, tcp::socket socket) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or buffers: the connection stays queued, so
      // accepting again at once would spin. Wait a little.
      warn_rarely("accept failed: " + ec.message());
      return accept_later();
    }
    try {
      take(std::move(socket));
    } catch (const std::exception& e) {
      warn_rarely(std::string("cannot take a connection: ") + e.what());
    }
    try {
      accept();
    } catch (const std::exception& e) {
      warn_rarely(std::string("cannot accept: ") + e.what());
      accept_later();
    }
  });
}

void Listener::accept_later() {
  retry_timer->expires_after(std::chrono::milliseconds(100));
  retry_timer->async_wait([this](boost::system::error_code ec) {
    if (!ec && !stopped) accept();
  });
}

// The options, checked before any thread is started for them. The handler
// pool has two threads at least: with one, a long request there would hold
// up the others again.
HttpServerOptions checked(HttpServerOptions o) {
  if (o.threads < 1 || o.threads > 256)
    throw Error(ErrorKind::InvalidInput, "invalid_threads", "threads must be 1-256");
  if (o.handler_threads < 2 || o.handler_threads > 1024)
    throw Error(ErrorKind::InvalidInput, "invalid_threads", "handler_threads must be 2-1024");
  if (o.shutdown_grace < std::chrono::milliseconds(0) || o.shutdown_grace > std::chrono::minutes(10))
    throw Error(ErrorKind::InvalidInput, "invalid_shutdown_grace", "shutdown_grace must be 0-600 s");
  return o;
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : listener(o.threads, o.handler_threads) { listener.options = std::move(o); }
  Listener listener;
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(checked(std::move(options)))) {
  auto& l = impl_->listener;
  if (l.options.tls_setup) {
    SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
    if (!raw) throw Error(ErrorKind::Internal, "tls_setup_failed", "cannot set up the TLS listener");
    if (!l.options.tls_setup(*raw)) {
      SSL_CTX_free(raw);
      throw Error(ErrorKind::Internal, "tls_setup_failed", "cannot set up the TLS listener");
    }
    l.tls = std::make_unique<asio::ssl::context>(raw);  // takes ownership
  }
  l.retry_timer = std::make_unique<asio::steady_timer>(l.accept_io);
  l.receive_budget = std::max(kMinReceiveBudget, 8 * l.options.max_body_bytes);
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  auto& l = impl_->listener;
  const auto& o = l.options;
  try {
    l.acceptor = open_acceptor(l.accept_io, o.host, o.port);
    // The loops, the accepting loop and the handler pool's scheduler.
    const size_t own = kDescriptorsPerLoop * (l.loops.size() + 2) + 1;  // + the acceptor
    l.max_connections = ConnectionShare(o.max_connections, own, "API listener");
    return l.acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Unavailable, "bind_failed",
                "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
  }
}

void HttpServer::run(const ApiServices& services) {
  if (!services.manager || !services.objects || !services.auth || !services.tokens ||
      !services.checkpoints || !services.ocsp || !services.tasks || !services.metrics)
    throw Error(ErrorKind::Internal, "not_configured", "HTTP server started without services");
  auto& l = impl_->listener;
  if (!l.acceptor) throw Error(ErrorKind::Internal, "not_bound", "the API listener is not bound");
  std::error_code ec;
  if (!l.options.repository_dir.empty() && !std::filesystem::is_directory(l.options.repository_dir, ec))
    throw Error(ErrorKind::InvalidInput, "invalid_repository",
                "cannot serve " + l.options.repository_dir + " at /repo/: not a directory");
  l.services = services;
  l.router = std::make_unique<Router>(l.services);
  register_public_routes(*l.router);
  register_ca_routes(*l.router);
  register_certificate_routes(*l.router);
  register_request_routes(*l.router);
  register_history_routes(*l.router);
  register_token_routes(*l.router);
  register_audit_routes(*l.router);
  register_task_routes(*l.router);
  register_child_routes(*l.router);
  register_service_routes(*l.router);
  if (l.stopped) return;
  asio::post(l.accept_io, [&l] { l.accept(); });
  // A handler that throws (answers are built without throwing) is logged,
  // and the loop goes on serving its other connections.
  std::vector<std::thread> threads;
  for (auto& loop : l.loops) threads.emplace_back([&loop] { run_loop(loop->io, "API listener"); });
  l.serving = true;
  run_loop(l.accept_io, "API listener");
  boost::system::error_code ignored;
  l.acceptor->close(ignored);  // also when stop() came before the accept loop ran
  for (auto& t : threads) t.join();
  l.pool.join();  // handlers still running on the pool finish (nothing new is posted)
  l.serving = false;
}

void HttpServer::stop() {
  if (!impl_ || impl_->listener.stopped.exchange(true)) return;
  auto& l = impl_->listener;
  // New connections are refused at once (the acceptor is closed on its own
  // thread); on each loop, connections waiting for a request are closed and
  // a request being handled is answered, within the shutdown grace.
  asio::post(l.accept_io, [&l] {
    boost::system::error_code ignored;
    if (l.acceptor) l.acceptor->close(ignored);
    l.accept_io.stop();
  });
  if (!l.serving) l.accept_io.stop();
  for (auto& loop : l.loops)
    asio::post(loop->io, [loop = loop.get(), grace = l.options.shutdown_grace] { loop->drain(grace); });
}

bool HttpServer::running() const { return impl_->listener.serving; }

}  // namespace cairn::api
