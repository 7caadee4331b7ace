// A real cairn server on a loopback port with a temp RocksDB data directory
// and a bootstrapped root + issuing hierarchy, and a gtest fixture that
// talks to it with the admin token. Shared by the API tests.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "api/server_app.h"
#include "tests/core/pki_fixtures.h"
#include "tests/test_util.h"

namespace cairn::testing {

using nlohmann::json;

class RunningServer {
 public:
  // `adjust` may change the options (e.g. turn on the public listener).
  explicit RunningServer(const std::string& data_dir, const std::function<void(api::ServeOptions&)>& adjust = {}) {
    api::ServeOptions o;
    o.data_dir = data_dir;
    o.port = 0;
    o.threads = 4;
    o.init_hierarchy = true;
    o.passphrase = "correct horse battery staple";
    if (adjust) adjust(o);
    app_ = std::make_unique<api::ServerApp>(o);
    port_ = app_->start();
    thread_ = std::thread([this] { app_->run(); });
    // Bounded wait until the listener accepts connections.
    for (int i = 0; i < 200; ++i) {
      httplib::Client probe("127.0.0.1", port_);
      probe.set_connection_timeout(0, 100000);
      if (probe.Get("/health")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("server did not come up");
  }
  ~RunningServer() {
    app_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  api::ServerApp& app() { return *app_; }

 private:
  std::unique_ptr<api::ServerApp> app_;
  std::thread thread_;
  int port_ = 0;
};

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void start() {
    server_ = std::make_unique<RunningServer>(dir_.path());
    std::ifstream in(dir_.path() + "/admin.token");
    std::getline(in, token_);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(2, 0);
    client_->set_read_timeout(20, 0);
  }
  void restart() {
    client_.reset();
    server_.reset();
    start();
  }
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + token_}}; }
  httplib::Result get(const std::string& path) { return client_->Get(path, auth()); }
  httplib::Result post(const std::string& path, const std::string& body) {
    return client_->Post(path, auth(), body, "application/json");
  }
  static std::string code(const httplib::Result& r) {
    auto j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<no error body: " + r->body + ">";
    return j["error"]["code"].get<std::string>();
  }
  uint64_t ca_version(const std::string& ca) {
    return json::parse(get("/api/v1/cas/" + ca)->body)["version"].get<uint64_t>();
  }
  json issue(const std::string& cn) {
    json body = {{"csr", make_csr_pem(cn, "DNS:" + cn)}, {"profile", "server"}};
    auto r = post("/api/v1/cas/issuing/certificates", body.dump());
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body);
  }

  TempDir dir_;
  std::unique_ptr<RunningServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string token_;
};


}  // namespace cairn::testing
