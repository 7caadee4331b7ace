#include "api/public_listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api/http1_request.h"
#include "api/http1_response.h"
#include "api/listening.h"
#include "api/json_codec.h"
#include "api/json_text.h"
#include "api/public_endpoints.h"
#include "eventstore/error.h"

namespace cairn::api {

namespace asio = boost::asio;
using asio::ip::tcp;

struct PublicListener::Impl {
  PublicListenerOptions options;
  std::atomic<size_t> open_connections{0};  // outlives the contexts (declared first)
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::unique_ptr<tcp::acceptor> acceptor;
  const PublicEndpoints* endpoints = nullptr;
  std::unique_ptr<asio::steady_timer> retry_timer;  // on contexts[0]: accept after a failure
  size_t next_context = 0;
  ConnectionShare max_connections;  // options.max_connections, within the descriptor limit
  RareWarning warn_rarely{"public listener"};
  std::atomic<bool> stopped{false};

  void accept();
};

namespace {

// Shared bodies smaller than this are copied into the output (one write).
constexpr size_t kCopyBelow = 64 << 10;

// Answers waiting to be written, in order: text, and large shared bodies
// (a CRL) written from where they are kept instead of copied.
class Output {
 public:
  void append(std::string_view text) {
    if (pieces_.empty() || pieces_.back().shared) pieces_.emplace_back();
    pieces_.back().text.append(text);
    size_ += text.size();
  }
  void append(std::shared_ptr<const std::string> shared) {
    size_ += shared->size();
    pieces_.push_back(Piece{{}, std::move(shared)});
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  std::vector<asio::const_buffer> buffers() const {
    std::vector<asio::const_buffer> out;
    for (const auto& p : pieces_) out.push_back(p.shared ? asio::buffer(*p.shared) : asio::buffer(p.text));
    return out;
  }
  void clear() {
    pieces_.clear();
    size_ = 0;
  }

 private:
  struct Piece {
    std::string text;
    std::shared_ptr<const std::string> shared;
  };
  std::vector<Piece> pieces_;
  size_t size_ = 0;
};

void append_answer(Output& out, const PublicAnswer& a, bool head_only, bool keep_alive, bool http10) {
  std::string head;
  const HeaderField fields[] = {{"Cache-Control", a.cache_control}, {"Allow", a.allow}};
  append_http1_head(head, a.status, a.content_type, a.content().size(), fields, keep_alive, http10);
  out.append(head);
  if (head_only) return;
  if (a.shared_body && a.shared_body->size() > kCopyBelow)
    out.append(a.shared_body);
  else
    out.append(a.content());
}

// The answer to a request the parser refused.
PublicAnswer refusal(int status, const std::string& code, const std::string& message) {
  return PublicAnswer{status, "application/json", pretty_json(error_json(code, message)) + "\n", "", "", nullptr};
}

}  // namespace

// One client connection, served by the thread of its io_context: all its
// handlers run there, one at a time, so it needs no locks.
class PublicListener::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& listener, tcp::socket socket)
      : listener_(listener), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    ++listener_.open_connections;
  }
  ~Connection() { --listener_.open_connections; }

  void start() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    arm_timer();
    serve();
  }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  // Answers every complete request in the buffer, then writes the answers
  // or reads more.
  void serve() {
    Http1Limits limits{listener_.options.max_header_bytes, listener_.options.max_body_bytes};
    size_t used = 0;
    bool send_continue = false;
    // At most kRequestsPerTurn answers before they are written: a client
    // pipelining many requests (each maybe a signature) takes turns with
    // the other connections of this thread.
    for (int answered = 0; !closing_ && answered < kRequestsPerTurn; ++answered) {
      Http1Parse p = parse_http1_request(std::string_view(in_).substr(used), limits);
      if (p.status == Http1Parse::Status::Failed) {
        append_answer(out_, refusal(p.error_status, p.error_code, p.error_message), false, false, false);
        closing_ = true;
        break;
      }
      if (p.status == Http1Parse::Status::Incomplete) {
        send_continue = p.head_complete && p.request.expects_continue && !continue_sent_ && out_.empty();
        break;
      }
      const Http1Request& r = p.request;
      bool head = r.method == "HEAD";
      PublicAnswer answer = listener_.endpoints->answer(head ? "GET" : r.method, r.path, r.body);
      closing_ = !r.keep_alive;
      append_answer(out_, answer, head, r.keep_alive, r.http10);
      used += r.consumed;
      continue_sent_ = false;
      if (out_.size() >= kMaxPendingOutput) break;  // the rest after this is written
    }
    in_.erase(0, used);
    if (send_continue) {
      continue_sent_ = true;
      out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (!out_.empty())
      write();
    else
      read();
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return self->close();
      self->in_.append(self->chunk_.data(), n);
      self->serve();
    });
  }

  void write() {
    asio::async_write(socket_, out_.buffers(), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->close();
      self->out_.clear();
      if (self->closing_) return self->linger();
      if (!self->continue_sent_) self->arm_timer();  // the next request's time starts now
      self->serve();
    });
  }

  // Closing after an answer while the client may still be sending (a body
  // refused as too large, requests after "Connection: close"): stop
  // sending, then read and drop what arrives for a while, so the kernel
  // does not answer those bytes with a reset that can destroy the answer
  // before the client has read it.
  void linger() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    close_after(timer_, std::min(listener_.options.request_timeout, std::chrono::milliseconds(kLingerMs)),
                weak_from_this());
    drain(0);
  }
  void drain(size_t dropped) {
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this(), dropped](boost::system::error_code ec,
                                                                                        size_t n) {
      if (ec || dropped + n > kMaxLingerBytes) return self->close();
      self->drain(dropped + n);
    });
  }

  // A request must arrive, and its answer leave, within the request timeout.
  void arm_timer() { close_after(timer_, listener_.options.request_timeout, weak_from_this()); }

  static constexpr size_t kMaxPendingOutput = 1 << 20;
  static constexpr int kRequestsPerTurn = 16;
  static constexpr int kLingerMs = 1000;
  static constexpr size_t kMaxLingerBytes = 256 << 10;

  Impl& listener_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::array<char, 16 << 10> chunk_;
  std::string in_;
  Output out_;
  bool closing_ = false;
  bool continue_sent_ = false;
};

void PublicListener::Impl::accept() {
  asio::io_context& target = *contexts[next_context++ % contexts.size()];
  acceptor->async_accept(target.get_executor(), [this, &target](boost::system::error_code ec, tcp::socket socket) {
    if (stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or buffers: the connection stays queued, so
      // accepting again at once would spin. Wait a little.
      warn_rarely("accept failed: " + ec.message());
      retry_timer->expires_after(std::chrono::milliseconds(100));
      retry_timer->async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && !stopped) accept();
      });
      return;
    }
    try {
      if (open_connections < max_connections.size()) {
        auto connection = std::make_shared<Connection>(*this, std::move(socket));
        asio::post(target, [connection] { connection->start(); });
      } else {
        warn_rarely(std::to_string(max_connections.size()) + " connections open, refusing more");
      }
    } catch (const std::exception& e) {
      warn_rarely(std::string("cannot take a connection: ") + e.what());
    }
    accept();
  });
}

PublicListener::PublicListener(PublicListenerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  int threads = impl_->options.threads > 0 ? impl_->options.threads
                                           : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(asio::make_work_guard(*impl_->contexts.back()));
  }
  impl_->retry_timer = std::make_unique<asio::steady_timer>(*impl_->contexts[0]);
}

PublicListener::~PublicListener() { stop(); }

int PublicListener::bind() {
  const auto& o = impl_->options;
  try {
    impl_->acceptor = open_acceptor(*impl_->contexts[0], o.host, o.port);
    const size_t own = kDescriptorsPerLoop * impl_->contexts.size() + 1;  // + the acceptor
    impl_->max_connections = ConnectionShare(o.max_connections, own, "public listener");
    return impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Unavailable, "bind_failed",
                "cannot listen on " + o.host + ":" + std::to_string(o.port) + " (public URLs): " + e.what());
  }
}

void PublicListener::run(const PublicEndpoints& endpoints) {
  if (!impl_->acceptor) throw Error(ErrorKind::Internal, "not_bound", "the public listener is not bound");
  if (impl_->stopped) return;
  impl_->endpoints = &endpoints;
  asio::post(*impl_->contexts[0], [impl = impl_.get()] { impl->accept(); });
  // A handler that throws (it should not: answers are built without
  // throwing) is logged, and the loop goes on serving its other connections.
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->contexts.size(); ++i)
    threads.emplace_back([ctx = impl_->contexts[i].get()] { run_loop(*ctx, "public listener"); });
  run_loop(*impl_->contexts[0], "public listener");
  for (auto& t : threads) t.join();
}

void PublicListener::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  for (auto& ctx : impl_->contexts) ctx->stop();
}

}  // namespace cairn::api
