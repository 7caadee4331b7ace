#include "api/listening.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <boost/asio.hpp>
#include <stdexcept>

namespace cairn::api {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr int kListenBacklog = 1024;
constexpr size_t kReservedDescriptors = 1024;
constexpr size_t kSmallestShare = 16;

std::mutex shares_mutex;
size_t shares_out = 0;  // the sum of all ConnectionShares alive (shares_mutex)

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string listen_address(const std::string& host) {
  if (is_ip_literal(host)) return host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || !found) throw std::runtime_error("cannot resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  const addrinfo* chosen = nullptr;
  for (int family : {AF_INET, AF_INET6})
    for (const addrinfo* a = found; a && !chosen; a = a->ai_next)
      if (a->ai_family == family) chosen = a;
  if (!chosen) throw std::runtime_error("cannot resolve " + host + ": no IP address");
  char text[INET6_ADDRSTRLEN] = {};
  const void* addr = chosen->ai_family == AF_INET
                         ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(chosen->ai_addr)->sin_addr)
                         : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(chosen->ai_addr)->sin6_addr);
  if (!inet_ntop(chosen->ai_family, addr, text, sizeof text))
    throw std::runtime_error("cannot resolve " + host + ": no printable address");
  return text;
}

std::unique_ptr<tcp::acceptor> open_acceptor(asio::io_context& io, const std::string& host, int port) {
  tcp::endpoint endpoint(asio::ip::make_address(listen_address(host)), static_cast<unsigned short>(port));
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(kListenBacklog);
  return acceptor;
}

ConnectionShare::ConnectionShare(size_t wanted, size_t own, const char* listener) {
  std::lock_guard lock(shares_mutex);
  size_t allowed = wanted;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const auto needed = static_cast<rlim_t>(kReservedDescriptors + shares_out + own + wanted);
    if (limit.rlim_cur < needed) {
      rlimit raised = limit;
      raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    const size_t taken = kReservedDescriptors + shares_out + own;
    const size_t room = limit.rlim_cur > taken ? static_cast<size_t>(limit.rlim_cur) - taken : 0;
    allowed = std::min(wanted, std::max(room, kSmallestShare));
  }
  if (allowed < wanted)
    spdlog::warn("{}: at most {} connections (the open file limit is too low for {})", listener, allowed, wanted);
  size_ = allowed;
  held_ = allowed + own;
  shares_out += held_;
}

ConnectionShare::~ConnectionShare() {
  if (held_ == 0) return;
  std::lock_guard lock(shares_mutex);
  shares_out -= held_;
}

ConnectionShare::ConnectionShare(ConnectionShare&& other) noexcept
    : size_(std::exchange(other.size_, 0)), held_(std::exchange(other.held_, 0)) {}

ConnectionShare& ConnectionShare::operator=(ConnectionShare&& other) noexcept {
  if (this != &other) {
    ConnectionShare old(std::move(*this));  // gives this one's share back
    size_ = std::exchange(other.size_, 0);
    held_ = std::exchange(other.held_, 0);
  }
  return *this;
}

void RareWarning::operator()(const std::string& message) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::seconds(10)) return;
  last_ = now;
  spdlog::warn("{}: {}", listener_, message);
}

void run_loop(asio::io_context& io, const char* listener) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", listener, e.what());
    }
  }
}

}  // namespace cairn::api
