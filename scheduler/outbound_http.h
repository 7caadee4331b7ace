// OutboundHttp — the one way background tasks open an HTTP(S) connection to
// a peer (parent server, HTTP repository, webhook): the base URL is split
// into scheme://host[:port] for the client and a path prefix for requests,
// with cairn's timeouts, TCP_NODELAY and no redirects. Private to
// scheduler/*.cpp (it includes httplib.h).
// Thread-safety: one OutboundHttp per call site and thread.
#pragma once

#include <httplib.h>

#include <string>

namespace cairn {

struct OutboundHttp {
  // `url`: http(s)://host[:port][/prefix], already validated.
  OutboundHttp(const std::string& url, int connect_seconds, int io_seconds)
      : client(base_of(url)), prefix(prefix_of(url)) {
    client.set_connection_timeout(connect_seconds, 0);
    client.set_read_timeout(io_seconds, 0);
    client.set_write_timeout(io_seconds, 0);
    client.set_tcp_nodelay(true);
    client.set_follow_location(false);
  }

  httplib::Client client;
  std::string prefix;  // "" or "/path", without a trailing slash

 private:
  static size_t path_start(const std::string& url) {
    auto scheme_end = url.find("://");
    return url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  }
  static std::string base_of(const std::string& url) { return url.substr(0, path_start(url)); }
  static std::string prefix_of(const std::string& url) {
    auto start = path_start(url);
    return start == std::string::npos ? "" : url.substr(start);
  }
};

}  // namespace cairn
