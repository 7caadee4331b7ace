// RawConnection — a blocking HTTP/1.1 client on one loopback TCP connection
// for tests that need what an HTTP library hides: pipelining, HEAD,
// malformed requests, idle connections, seeing the server close.
// Sends and receives time out after 5 s (a receive that times out reads as
// "no answer"), so every wait is bounded. Answers are read by their
// Content-Length (no chunked answers).
// Thread-safety: one thread per connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cairn::testing {

class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect");
    }
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send");
      sent += static_cast<size_t>(n);
    }
  }

  struct Answer {
    int status = 0;
    std::string head;  // status line and headers, lower-cased
    std::string body;
    // The value of the header `name` (lower case), "" if absent.
    std::string header(std::string_view name) const {
      std::string key = "\r\n" + std::string(name) + ":";
      size_t at = head.find(key);
      if (at == std::string::npos) return "";
      size_t start = head.find_first_not_of(" \t", at + key.size());
      if (start == std::string::npos) return "";
      size_t end = head.find("\r\n", start);
      return head.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
  };
  // One answer; `head_only`: a HEAD's (Content-Length but no body).
  std::optional<Answer> read_answer(bool head_only = false) {
    size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return std::nullopt;
    Answer a;
    a.head = in_.substr(0, end);
    for (auto& c : a.head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.status = std::atoi(a.head.c_str() + 9);
    size_t length = head_only ? 0 : std::strtoul(a.header("content-length").c_str(), nullptr, 10);
    while (in_.size() < end + 4 + length)
      if (!fill()) return std::nullopt;
    a.body = in_.substr(end + 4, length);
    in_.erase(0, end + 4 + length);
    return a;
  }
  // Whether the server closed the connection (EOF within the timeout).
  bool closed_by_server() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool fill() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string in_;
};

}  // namespace cairn::testing
