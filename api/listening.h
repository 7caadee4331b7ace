// What both Asio listeners (HttpServer, PublicListener) do to listen:
// - listen_address: the IP address to bind for a configured host (an IP
//   literal as it is; a name such as "localhost" resolved, IPv4 first);
// - open_acceptor: a listening socket on it (port 0: any free port), with
//   SO_REUSEADDR and a backlog of 1024 (the kernel caps it at somaxconn);
// - ConnectionShare: a listener's share of the open-file limit for its
//   connections (its max_connections) and for the descriptors the listener
//   holds itself (its event loops: kDescriptorsPerLoop each). Shares are
//   process-wide: each comes out of what the soft limit leaves after a
//   reserve of 1,024 descriptors for everything else (RocksDB's files, keys,
//   outbound clients) and after the shares other listeners hold, so
//   together they never promise more connections than the limit allows.
//   Taking one raises the soft limit towards reserve + all shares, within
//   the hard limit; a share smaller than wanted (at least 16) is logged as a
//   warning. Destroying it gives the share back;
// - RareWarning: logs "<listener>: <message>" at most once per 10 s (a
//   flood of failed accepts must not flood the log);
// - run_loop: runs an io_context until it is stopped; a handler that
//   throws is logged and the loop goes on with its other work;
// - close_after: arms a connection's timer to close it once `after` has
//   passed, unless the timer is re-armed or cancelled first (a wait that
//   expired just as the timer was re-armed does not close).
// Errors: listen_address and open_acceptor throw std::exception naming the
// problem. Thread-safety: all may be called from any thread (shares are
// counted under a lock). Ownership: the acceptor is the caller's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

namespace cairn::api {

std::string listen_address(const std::string& host);

std::unique_ptr<boost::asio::ip::tcp::acceptor> open_acceptor(boost::asio::io_context& io, const std::string& host,
                                                               int port);

// What an Asio io_context holds open once it runs I/O: its epoll
// descriptor, the eventfd that interrupts it, and its timerfd.
inline constexpr size_t kDescriptorsPerLoop = 3;

class ConnectionShare {
 public:
  ConnectionShare() = default;
  // `own`: the descriptors the listener holds besides its connections.
  ConnectionShare(size_t wanted, size_t own, const char* listener);
  ~ConnectionShare();
  ConnectionShare(ConnectionShare&& other) noexcept;
  ConnectionShare& operator=(ConnectionShare&& other) noexcept;
  size_t size() const { return size_; }  // connections this listener may hold open

 private:
  size_t size_ = 0;
  size_t held_ = 0;  // size_ and the listener's own descriptors
};

class RareWarning {
 public:
  explicit RareWarning(const char* listener) : listener_(listener) {}
  void operator()(const std::string& message);

 private:
  const char* listener_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
};

void run_loop(boost::asio::io_context& io, const char* listener);

// `timer` belongs to the owner, which has a public close().
template <class Owner>
void close_after(boost::asio::steady_timer& timer, std::chrono::steady_clock::duration after,
                 std::weak_ptr<Owner> owner) {
  timer.expires_after(after);
  timer.async_wait([&timer, owner = std::move(owner)](boost::system::error_code ec) {
    if (ec) return;  // re-armed, cancelled or destroyed
    auto self = owner.lock();
    if (self && timer.expiry() <= boost::asio::steady_timer::clock_type::now()) self->close();
  });
}

}  // namespace cairn::api
