// An httplib::Server on 127.0.0.1 (a free port) for tests that need a peer
// (webhook receiver, remote repository): register handlers on server()
// before start(); the destructor stops it. Waits are bounded.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace cairn::testing {

class LoopbackHttpServer {
 public:
  ~LoopbackHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& server() { return server_; }
  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace cairn::testing
