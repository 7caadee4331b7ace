// The HTTP server over the in-memory store with injected write failures: a
// failed batch leaves no trace, the client gets 503 storage_error, and the
// server keeps serving.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_server.h"
#include "api/token_authenticator.h"
#include "objects/audit_checkpoint.h"
#include "objects/ca_objects_store.h"
#include "objects/ocsp_responder.h"
#include "scheduler/background_tasks.h"
#include "tests/core/pki_fixtures.h"

namespace cairn {
namespace {

using nlohmann::json;

constexpr const char* kToken = "test-admin-token-0123456789abcdef";

// The HTTP server on loopback over the harness's in-memory store, serving
// until destroyed.
class ServerOverMemory {
 public:
  explicit ServerOverMemory(int threads = 8, int handler_threads = 64)
      : objects_(pki.kv, pki.signer, pki.clock, {}),
        tokens_(pki.kv, pki.clock),
        auth_(kToken, &tokens_),
        checkpoints_(pki.kv, pki.signer, pki.clock),
        ocsp_(pki.manager, pki.signer),
        tasks_(pki.kv, pki.manager, objects_, metrics_, {}, {}),
        server_(options(threads, handler_threads)) {
    pki.clock.set_ms(SystemClock().now_ms());
    objects_.attach(pki.manager.store());
    pki.make_hierarchy();
    port_ = server_.bind();
    api::ApiServices services{&pki.manager, &objects_, &auth_, &tokens_, &checkpoints_, &ocsp_, nullptr, 0, &tasks_,
                              &metrics_};
    runner_ = std::thread([this, services] { server_.run(services); });
    httplib::Client probe("127.0.0.1", port_);
    probe.set_connection_timeout(2, 0);
    for (int i = 0; i < 200 && !probe.Get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ServerOverMemory() {
    server_.stop();
    runner_.join();
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(10, 0);
    return c;
  }
  static httplib::Headers auth() { return {{"Authorization", std::string("Bearer ") + kToken}}; }

  testing::PkiHarness pki;

 private:
  static api::HttpServerOptions options(int threads, int handler_threads) {
    api::HttpServerOptions o;
    o.port = 0;
    o.threads = threads;
    o.handler_threads = handler_threads;
    return o;
  }
  CaObjectsStore objects_;
  api::TokenStore tokens_;
  api::TokenAuthenticator auth_;
  CheckpointService checkpoints_;
  OcspResponder ocsp_;
  Metrics metrics_;
  BackgroundTasks tasks_;
  api::HttpServer server_;
  int port_ = 0;
  std::thread runner_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(StorageFaults, FailedWriteIsA503AndTheServerKeepsServing) {
  ServerOverMemory server;
  auto& pki = server.pki;
  auto c = server.client();
  auto h = ServerOverMemory::auth();

  uint64_t version = pki.manager.get_ca("issuing").version;
  std::string body = json{{"csr", testing::make_csr_pem("f", "DNS:f.example")}}.dump();
  pki.kv.fail_write_number(1);
  auto failed = c->Post("/api/v1/cas/issuing/certificates", h, body, "application/json");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_EQ(json::parse(failed->body)["error"]["code"], "storage_error");
  EXPECT_EQ(failed->body.find("injected"), std::string::npos);  // internals are not exposed
  EXPECT_EQ(pki.manager.get_ca("issuing").version, version);
  EXPECT_TRUE(pki.manager.list_certificates("issuing", {}).empty());

  auto ok = c->Post("/api/v1/cas/issuing/certificates", h, body, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  EXPECT_EQ(pki.manager.list_certificates("issuing", {}).size(), 1u);
}

TEST(StorageFaults, ASlowSyncHoldsUpOnlyItsOwnRequest) {
  // One event loop, two keep-alive connections on it. A slow disk makes
  // one's issuance take 1.5 s; the other's requests are answered meanwhile
  // (with the loop shared, handlers run on the pool, not on its thread).
  ServerOverMemory server(/*threads=*/1);
  auto other = server.client();
  other->set_keep_alive(true);
  ASSERT_TRUE(other->Get("/health"));  // connected first, and stays: the loop has it
  auto slow = server.client();
  server.pki.kv.delay_syncs(std::chrono::milliseconds(1500));
  std::string body = json{{"csr", testing::make_csr_pem("s", "DNS:s.example")}}.dump();
  auto started = std::chrono::steady_clock::now();
  std::thread issuing([&] {
    auto issued = slow->Post("/api/v1/cas/issuing/certificates", ServerOverMemory::auth(), body, "application/json");
    EXPECT_TRUE(issued && issued->status == 201);
    EXPECT_GE(seconds_since(started), 1.4);  // it did wait for the slow sync
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the issuance is waiting for its sync
  auto asked = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {  // (not /health: it reads the CA, which waits for the sync)
    auto profiles = other->Get("/api/v1/profiles", ServerOverMemory::auth());
    ASSERT_TRUE(profiles);
    EXPECT_EQ(profiles->status, 200);
  }
  EXPECT_LT(seconds_since(asked), 0.6);
  issuing.join();
  server.pki.kv.delay_syncs(std::chrono::milliseconds(0));
}

TEST(StorageFaults, ANewConnectionIsServedWhileEveryOtherLoopWaitsForASlowSync) {
  // Two event loops, a connection alone on each, both issuing while the
  // disk takes 1.5 s a sync. One handler runs on its loop's thread; the
  // other on the pool, so one loop stays free, and a new connection (put
  // on a loop that is not handling a request) is answered at once. (With
  // both handlers on their loops' threads, the new connection waited for
  // one of them: 1.5 s or more.)
  ServerOverMemory server(/*threads=*/2);
  auto first = server.client();
  auto second = server.client();
  for (auto* c : {first.get(), second.get()}) {
    c->set_keep_alive(true);
    ASSERT_TRUE(c->Get("/health"));  // one connection on each loop
  }
  server.pki.kv.delay_syncs(std::chrono::milliseconds(1500));
  auto issue = [&](httplib::Client& c, const std::string& name) {
    std::string body = json{{"csr", testing::make_csr_pem(name, "DNS:" + name + ".example")}}.dump();
    auto issued = c.Post("/api/v1/cas/issuing/certificates", ServerOverMemory::auth(), body, "application/json");
    EXPECT_TRUE(issued && issued->status == 201);
  };
  std::thread one([&] { issue(*first, "one"); });
  std::thread two([&] { issue(*second, "two"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both are waiting for syncs
  auto asked = std::chrono::steady_clock::now();
  auto late = server.client();
  auto profiles = late->Get("/api/v1/profiles", ServerOverMemory::auth());
  ASSERT_TRUE(profiles);
  EXPECT_EQ(profiles->status, 200);
  EXPECT_LT(seconds_since(asked), 0.6);
  one.join();
  two.join();
  server.pki.kv.delay_syncs(std::chrono::milliseconds(0));
}

TEST(StorageFaults, IssuancesOnASharedLoopShareTheNextSync) {
  // One event loop, six keep-alive connections on it, a disk whose syncs
  // take 1 s. One issuance starts a sync; five more arrive while it runs.
  // The handler pool holds all five while they wait, so the next sync
  // covers them together: two syncs, about 2 s in all. (A pool of two, the
  // old max(2, threads), took one at a time: six syncs, about 6 s.) A late
  // request that starts after the second sync began costs a third.
  constexpr int kLater = 5;
  ServerOverMemory server(/*threads=*/1, /*handler_threads=*/kLater + 1);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i <= kLater; ++i) {
    clients.push_back(server.client());
    clients.back()->set_keep_alive(true);
    ASSERT_TRUE(clients.back()->Get("/health"));  // connected now, all on the one loop
  }
  server.pki.kv.delay_syncs(std::chrono::milliseconds(1000));
  auto issue = [&](int i) {
    std::string name = "n" + std::to_string(i);
    std::string body = json{{"csr", testing::make_csr_pem(name, "DNS:" + name + ".example")}}.dump();
    auto issued =
        clients[i]->Post("/api/v1/cas/issuing/certificates", ServerOverMemory::auth(), body, "application/json");
    EXPECT_TRUE(issued && issued->status == 201);
  };
  const uint64_t syncs_before = server.pki.manager.store().commit_stats().syncs;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> issuing;
  issuing.emplace_back(issue, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its sync is running
  for (int i = 1; i <= kLater; ++i) issuing.emplace_back(issue, i);
  for (auto& t : issuing) t.join();
  double took = seconds_since(started);
  const uint64_t syncs = server.pki.manager.store().commit_stats().syncs - syncs_before;
  server.pki.kv.delay_syncs(std::chrono::milliseconds(0));
  EXPECT_GE(syncs, 2u);
  EXPECT_LE(syncs, 3u);  // not one per issuance
  EXPECT_GE(took, 1.9);
  EXPECT_LT(took, 4.5);
  EXPECT_EQ(server.pki.manager.list_certificates("issuing", {}).size(), static_cast<size_t>(kLater + 1));
}

// The value of an unlabelled counter in a Prometheus text page; -1 if absent.
long long counter_in(const std::string& page, const std::string& name) {
  size_t at = page.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(page.substr(at + name.size() + 2));
}

TEST(StorageMetrics, MetricsReportTheEventLogsWritesAndSyncs) {
  ServerOverMemory server;
  auto c = server.client();
  const GroupCommit::Stats before = server.pki.manager.store().commit_stats();
  for (int i = 0; i < 3; ++i) {
    std::string name = "m" + std::to_string(i);
    std::string body = json{{"csr", testing::make_csr_pem(name, "DNS:" + name + ".example")}}.dump();
    auto issued = c->Post("/api/v1/cas/issuing/certificates", ServerOverMemory::auth(), body, "application/json");
    ASSERT_TRUE(issued && issued->status == 201);
  }
  auto page = c->Get("/metrics");
  ASSERT_TRUE(page && page->status == 200);
  const GroupCommit::Stats after = server.pki.manager.store().commit_stats();
  EXPECT_EQ(after.writes, before.writes + 3);  // nothing else wrote meanwhile
  EXPECT_EQ(counter_in(page->body, "cairn_storage_writes_total"), static_cast<long long>(after.writes));
  EXPECT_EQ(counter_in(page->body, "cairn_storage_syncs_total"), static_cast<long long>(after.syncs));
  EXPECT_GE(after.syncs, before.syncs + 3);  // one client, one at a time: a sync each
  EXPECT_NE(page->body.find("# TYPE cairn_storage_syncs_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace cairn
