#include "api/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <memory>
#include <stdexcept>

namespace cairn::api {
namespace {

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

}  // namespace cairn::api
