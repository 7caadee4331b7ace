// What both Asio listeners (HttpServer, PublicListener) do to listen:
// - listen_address: the IP address to bind for a configured host (an IP
//   literal as it is; a name such as "localhost" resolved, IPv4 first);
// - open_acceptor: a listening socket on it (port 0: any free port), with
//   SO_REUSEADDR and a backlog of 1024 (the kernel caps it at somaxconn);
// - connection_limit: max_connections, raising the soft open-file limit
//   towards it plus a reserve for everything else (RocksDB files, keys, the
//   other listeners), within the hard limit, and lowered (with a warning)
//   to what the limit then leaves, at least 16;
// - run_loop: runs an io_context until it is stopped; a handler that
//   throws is logged and the loop goes on with its other work;
// - close_after: arms a connection's timer to close it once `after` has
//   passed, unless the timer is re-armed or cancelled first (a wait that
//   expired just as the timer was re-armed does not close).
// Errors: listen_address and open_acceptor throw std::exception naming the
// problem. Thread-safety: call open_acceptor and connection_limit while
// starting up (the limit is process-wide). Ownership: the acceptor is the
// caller's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace cairn::api {

std::string listen_address(const std::string& host);

std::unique_ptr<boost::asio::ip::tcp::acceptor> open_acceptor(boost::asio::io_context& io, const std::string& host,
                                                               int port);

size_t connection_limit(size_t wanted, const char* listener);

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
