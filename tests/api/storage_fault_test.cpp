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

TEST(StorageFaults, FailedWriteIsA503AndTheServerKeepsServing) {
  testing::PkiHarness pki;
  pki.clock.set_ms(SystemClock().now_ms());
  CaObjectsStore objects(pki.kv, pki.signer, pki.clock, {});
  objects.attach(pki.manager.store());
  pki.make_hierarchy();
  api::TokenStore tokens(pki.kv, pki.clock);
  api::TokenAuthenticator auth("test-admin-token-0123456789abcdef", &tokens);
  CheckpointService checkpoints(pki.kv, pki.signer, pki.clock);
  api::HttpServerOptions options;
  options.port = 0;
  api::HttpServer server(options);
  int port = server.bind();
  OcspResponder ocsp(pki.manager, pki.signer);
  Metrics metrics;
  BackgroundTasks tasks(pki.kv, pki.manager, objects, metrics, {}, {});
  api::ApiServices services{&pki.manager, &objects, &auth, &tokens, &checkpoints, &ocsp, nullptr, 0, &tasks, &metrics};
  std::thread runner([&] { server.run(services); });
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  httplib::Headers h{{"Authorization", "Bearer test-admin-token-0123456789abcdef"}};
  for (int i = 0; i < 200 && !c.Get("/health"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));

  uint64_t version = pki.manager.get_ca("issuing").version;
  std::string body = json{{"csr", testing::make_csr_pem("f", "DNS:f.example")}}.dump();
  pki.kv.fail_write_number(1);
  auto failed = c.Post("/api/v1/cas/issuing/certificates", h, body, "application/json");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_EQ(json::parse(failed->body)["error"]["code"], "storage_error");
  EXPECT_EQ(failed->body.find("injected"), std::string::npos);  // internals are not exposed
  EXPECT_EQ(pki.manager.get_ca("issuing").version, version);
  EXPECT_TRUE(pki.manager.list_certificates("issuing", {}).empty());

  auto ok = c.Post("/api/v1/cas/issuing/certificates", h, body, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  EXPECT_EQ(pki.manager.list_certificates("issuing", {}).size(), 1u);
  server.stop();
  runner.join();
}

}  // namespace
}  // namespace cairn
