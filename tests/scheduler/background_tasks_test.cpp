// Background work with an injected clock: repository outages and retries
// with growing delays, exact repository contents, CRL re-issue without
// history, restart with pending tasks (real RocksDB), and the Asio loop.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "core/encoding.h"
#include "core/serial_number.h"
#include "eventstore/rocksdb_kv_store.h"
#include "objects/ocsp_responder.h"
#include "scheduler/background_tasks.h"
#include "tests/core/pki_fixtures.h"
#include "tests/loopback_http_server.h"
#include "tests/test_util.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kHour = 3600 * 1000LL;

// A CA hierarchy wired like the server, over any KeyValueStore.
struct World {
  KeyValueStore& kv;
  MemoryKeyStore& keys;
  ManualClock& clock;
  Signer signer{keys};
  CaManager manager{kv, signer, clock, CaManagerConfig{"http://pki.test", 500, nullptr}};
  CaObjectsStore objects{kv, signer, clock, CaObjectsConfig{7 * 24 * kHour, 0.5}};
  Metrics metrics;
  BackgroundTasks tasks;

  World(KeyValueStore& store, MemoryKeyStore& key_store, ManualClock& c, std::vector<RepositoryConfig> repos)
      : kv(store), keys(key_store), clock(c), tasks(store, manager, objects, metrics, std::move(repos), {}) {
    objects.attach(manager.store());
    tasks.attach();
  }
  void make_hierarchy() {
    manager.create_ca("test", CreateCaRequest{"root", "CN=Test Root", "ec-p256", "", 3650});
    manager.create_ca("test", CreateCaRequest{"issuing", "CN=Test Issuing", "ec-p256", "root", 1825});
  }
  IssueResult issue(const std::string& name) {
    IssueRequest r;
    r.csr = testing::make_csr_pem(name, "DNS:" + name);
    return manager.issue("test", "issuing", r);
  }
};

// The files under `root` and their contents. May be called while a
// publication is renaming files into place (the tests poll): a file gone
// by the time it is read is left out, never an error.
std::map<std::string, std::string> files_under(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || ec) {
      ec.clear();
      continue;
    }
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) continue;
    out[it->path().lexically_relative(root).string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

RepositoryConfig directory_repo(const std::string& path, bool issued = false) {
  RepositoryConfig r;
  r.name = "local";
  r.path = path;
  r.publish_issued = issued;
  return r;
}

class BackgroundTasksTest : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::string repo_path = dir.path() + "/repo";
  MemoryKvStore kv;
  MemoryKeyStore keys;
  ManualClock clock{1'790'000'000'000};

  // What the repository must hold for the CA: exactly its current objects.
  std::map<std::string, std::string> expected(World& w, const std::vector<std::string>& cas, bool issued = false) {
    std::map<std::string, std::string> out;
    for (const auto& ca : cas)
      for (const auto& o : w.tasks.publication(ca, issued)) out[o.path] = o.bytes;
    return out;
  }
};

TEST_F(BackgroundTasksTest, RepositoryDownIsRetriedWithGrowingDelaysThenHoldsExactlyTheCurrentObjects) {
  World w(kv, keys, clock, {directory_repo(repo_path)});
  w.make_hierarchy();
  ASSERT_TRUE(w.tasks.queue().find("sync-repo/issuing/local"));

  // The repository's directory is missing (an unmounted volume): each
  // attempt fails and the next one waits longer.
  std::vector<int64_t> delays;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    w.tasks.run_due();
    auto task = w.tasks.queue().find("sync-repo/issuing/local");
    ASSERT_TRUE(task);
    EXPECT_EQ(task->attempts, attempt);
    EXPECT_NE(task->last_error.find("not a directory"), std::string::npos) << task->last_error;
    delays.push_back(task->due_ms - clock.now_ms());
    auto status = w.tasks.status().of_ca("issuing");
    ASSERT_EQ(status.size(), 3u);  // crl-refresh, sync-parent (its renewal) and the repository
    const auto& repo_status = status[0].target == "local" ? status[0] : status[1];
    EXPECT_EQ(repo_status.failures, attempt);
    EXPECT_EQ(repo_status.next_attempt_ms, task->due_ms);
    EXPECT_EQ(repo_status.last_success_ms, 0);
    clock.set_ms(task->due_ms);
  }
  // base 5 s doubling, jitter [0.5, 1]: 2.5-5, 5-10, 10-20, 20-40 s.
  EXPECT_GE(delays[0], 2'500);
  EXPECT_LE(delays[0], 5'000);
  EXPECT_GE(delays[3], 20'000);
  EXPECT_LE(delays[3], 40'000);
  EXPECT_GT(delays[3], delays[0]);
  auto root_task = w.tasks.queue().find("sync-repo/root/local");
  ASSERT_TRUE(root_task);
  EXPECT_EQ(w.metrics.value("cairn_tasks_total", R"(kind="sync-repo",outcome="error")"),
            static_cast<uint64_t>(4 + root_task->attempts));

  // A change while it is down does not hammer the repository: the retry
  // keeps its time.
  auto before = w.tasks.queue().find("sync-repo/issuing/local")->due_ms;
  auto cert = w.issue("a.example").certificate;
  w.manager.revoke("test", "issuing", cert.serial, "keyCompromise");
  EXPECT_EQ(w.tasks.queue().find("sync-repo/issuing/local")->due_ms, before);

  // Back: the next attempt succeeds and the directory holds exactly the
  // current objects (the CRL with the revocation included).
  fs::create_directory(repo_path);
  clock.set_ms(std::max(before, w.tasks.queue().find("sync-repo/root/local")->due_ms));
  w.tasks.run_due();
  EXPECT_FALSE(w.tasks.queue().find("sync-repo/issuing/local"));
  EXPECT_FALSE(w.tasks.queue().find("sync-repo/root/local"));
  auto held = files_under(repo_path);
  EXPECT_EQ(held, expected(w, {"root", "issuing"}));
  EXPECT_EQ(held.size(), 6u);
  EXPECT_EQ(held["crl/issuing.crl"], w.objects.crl("issuing")->der);
  EXPECT_EQ(held["ca/issuing.cer"], w.manager.get_ca("issuing").certificate_der);
  auto status = w.tasks.status().of_ca("issuing");
  for (const auto& s : status)
    if (s.target == "local") {
      EXPECT_EQ(s.failures, 0);
      EXPECT_EQ(s.last_error, "");
      EXPECT_EQ(s.last_success_ms, clock.now_ms());
    }
}

TEST_F(BackgroundTasksTest, PublishedIssuedCertificatesFollowRevocations) {
  fs::create_directory(repo_path);
  World w(kv, keys, clock, {directory_repo(repo_path, true)});
  w.make_hierarchy();
  auto a = w.issue("a.example").certificate;
  auto b = w.issue("b.example").certificate;
  w.tasks.run_due();
  auto held = files_under(repo_path);
  EXPECT_EQ(held, expected(w, {"root", "issuing"}, true));
  EXPECT_EQ(held["certs/issuing/" + a.serial + ".cer"], a.der);
  EXPECT_TRUE(held.count("certs/issuing/" + b.serial + ".cer"));

  w.manager.revoke("test", "issuing", b.serial, "superseded");
  w.tasks.run_due();
  held = files_under(repo_path);
  EXPECT_EQ(held, expected(w, {"root", "issuing"}, true));
  EXPECT_FALSE(held.count("certs/issuing/" + b.serial + ".cer")) << "a revoked certificate left the repository";
  EXPECT_TRUE(held.count("certs/issuing/" + a.serial + ".cer"));
}

TEST_F(BackgroundTasksTest, CrlIsReissuedOnTimeWithoutAddingHistory) {
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  w.tasks.run_due();
  auto first = *w.objects.crl("issuing");
  uint64_t version = w.manager.get_ca("issuing").version;
  auto task = w.tasks.queue().find("crl-refresh/issuing/");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->due_ms, first.this_update_ms + 84 * kHour);  // half of 7 days left

  clock.set_ms(task->due_ms - 1000);
  w.tasks.run_due();
  EXPECT_EQ(w.objects.crl("issuing")->number, first.number) << "not yet";

  clock.set_ms(task->due_ms);
  w.tasks.run_due();
  auto second = *w.objects.crl("issuing");
  EXPECT_EQ(second.number, first.number + 1);
  EXPECT_EQ(second.this_update_ms, clock.now_ms() - clock.now_ms() % 1000);
  EXPECT_GT(second.next_update_ms, first.next_update_ms);
  EXPECT_EQ(w.manager.get_ca("issuing").version, version) << "a CRL re-issue is not a command";
  EXPECT_EQ(w.tasks.queue().find("crl-refresh/issuing/")->due_ms, w.objects.reissue_due_ms(second));
  // The re-signed CRL verifies under the CA.
  auto crl = parse_crl(second.der);
  auto issuer = parse_certificate(w.manager.get_ca("issuing").certificate_der);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer.get())), 1);
}

TEST_F(BackgroundTasksTest, AnIntermediateIsRenewedByItsParentWhenAThirdIsLeft) {
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  w.tasks.run_due();
  CaView before = w.manager.get_ca("issuing");
  auto renewal = w.tasks.queue().find("sync-parent/issuing/");
  ASSERT_TRUE(renewal);
  EXPECT_EQ(renewal->due_ms, before.not_after_ms - (before.not_after_ms - before.not_before_ms) / 3);

  clock.set_ms(renewal->due_ms - 1000);
  w.tasks.run_due();
  EXPECT_EQ(w.manager.get_ca("issuing").certificate_der, before.certificate_der) << "not yet";

  clock.set_ms(renewal->due_ms);
  w.tasks.run_due();
  CaView after = w.manager.get_ca("issuing");
  EXPECT_NE(after.certificate_der, before.certificate_der);
  EXPECT_EQ(after.key_id, before.key_id) << "a renewal keeps the key";
  EXPECT_GT(after.not_after_ms, before.not_after_ms);
  auto at_root = w.manager.list_certificates("root", {});
  ASSERT_EQ(at_root.size(), 2u);
  EXPECT_EQ(at_root[1].replaces, at_root[0].serial);
  EXPECT_EQ(at_root[1].requested_by, "system:parent");
  // Certificates issued before and after both chain to the root.
  auto leaf = w.issue("after.example").certificate;
  EXPECT_EQ(testing::verify_chain(leaf.der, {w.manager.get_ca("root").certificate_der, after.certificate_der}, "",
                                  clock.now_ms()),
            0);
  w.tasks.run_due();  // the installation asked for sync-parent again: it finds nothing to do
  auto next = w.tasks.queue().find("sync-parent/issuing/");
  ASSERT_TRUE(next);
  EXPECT_EQ(w.manager.list_certificates("root", {}).size(), 2u);
  EXPECT_EQ(next->due_ms, after.not_after_ms - (after.not_after_ms - after.not_before_ms) / 3);
}

// A webhook receiver on 127.0.0.1 that fails the first `fail_next` calls.
class WebhookReceiver {
 public:
  struct Call {
    std::string body, signature;
    int status;
  };
  WebhookReceiver() {
    http_.server().Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      int status = fail_next_ > 0 ? 500 : 204;
      if (fail_next_ > 0) --fail_next_;
      calls_.push_back({req.body, req.get_header_value("X-Cairn-Signature"), status});
      res.status = status;
    });
    http_.start();
  }
  std::string url() const { return http_.url("/hook"); }
  void fail_next(int n) {
    std::lock_guard lock(mutex_);
    fail_next_ = n;
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  int fail_next_ = 0;
  std::vector<Call> calls_;
  testing::LoopbackHttpServer http_;  // last: stopped before the state its handler uses
};

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), out, &len);
  return to_hex(std::string_view(reinterpret_cast<char*>(out), len));
}

// Runs due work, following retries, until nothing is due within `horizon`.
void run_until_quiet(World& w, ManualClock& clock, int64_t horizon_ms) {
  int64_t until = clock.now_ms() + horizon_ms;
  for (int round = 0; round < 50; ++round) {
    if (w.tasks.run_due() > 0) continue;
    std::optional<int64_t> next;
    for (const auto& t : w.tasks.queue().list())
      if ((t.kind == "notify" || t.kind == "auto-renew") && (!next || t.due_ms < *next)) next = t.due_ms;
    if (!next || *next > until) return;
    clock.set_ms(std::max(*next, clock.now_ms()));
  }
}

TEST_F(BackgroundTasksTest, RotationNoticesReachTheWebhookOnTheRightDaysWithRetries) {
  WebhookReceiver hook;
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  auto cert = w.issue("billing.example").certificate;  // 90 days
  ServiceRecord billing;
  billing.id = "billing";
  billing.name = "Billing API";
  billing.type = "http";
  billing.webhook_url = hook.url();
  billing.allowed_names = {"*.example"};
  auto [record, secret] = w.tasks.services().add("admin", billing);
  w.tasks.services().link("admin", "billing", "issuing", cert.serial);
  w.tasks.request_service_check();
  run_until_quiet(w, clock, 0);
  EXPECT_TRUE(hook.calls().empty()) << "90 days left: nothing to say";

  auto notices_sent = [&] {
    std::vector<int> days;
    for (const auto& c : hook.calls())
      if (c.status == 204) days.push_back(nlohmann::json::parse(c.body)["notice_days"].get<int>());
    return days;
  };
  // Each notice day, just after the moment comes (the check runs hourly).
  clock.set_ms(cert.not_after_ms - 30 * 24 * kHour + kHour / 2);
  run_until_quiet(w, clock, kHour);
  EXPECT_EQ(notices_sent(), std::vector<int>{30});
  clock.set_ms(cert.not_after_ms - 20 * 24 * kHour);
  run_until_quiet(w, clock, kHour);
  EXPECT_EQ(notices_sent(), std::vector<int>{30}) << "no repeats between notice days";

  hook.fail_next(2);  // the receiver is down for the next two deliveries
  clock.set_ms(cert.not_after_ms - 7 * 24 * kHour + kHour / 2);
  run_until_quiet(w, clock, kHour);
  EXPECT_EQ(notices_sent(), (std::vector<int>{30, 7}));
  EXPECT_EQ(hook.calls().size(), 4u) << "two failed attempts, then the 7-day notice";

  clock.set_ms(cert.not_after_ms - 24 * kHour + kHour / 2);
  run_until_quiet(w, clock, kHour);
  EXPECT_EQ(notices_sent(), (std::vector<int>{30, 7, 1}));

  // The body is signed with the service's webhook secret.
  auto last = hook.calls().back();
  EXPECT_EQ(last.signature, "sha256=" + hmac_hex(secret, last.body));
  auto j = nlohmann::json::parse(last.body);
  EXPECT_EQ(j["event"], "certificate_expiring");
  EXPECT_EQ(j["serial"], cert.serial);
  EXPECT_EQ(j["days_left"], 0);
  EXPECT_FALSE(w.tasks.notices().notice("billing", "issuing", cert.serial, 1).empty());
}

TEST_F(BackgroundTasksTest, ANoticeFollowsRenewalsAndGivesUpAfterMaxRetries) {
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  auto cert = w.issue("orders.example").certificate;
  ServiceRecord orders;
  orders.id = "orders";
  orders.webhook_url = "http://127.0.0.1:9/hook";  // discard port: nothing listens
  w.tasks.services().add("admin", orders);
  w.tasks.services().link("admin", "orders", "issuing", cert.serial);
  // A renewal moves the notices to the new certificate.
  IssueRequest again;
  again.csr = testing::make_csr_pem("orders.example", "DNS:orders.example");
  clock.advance_ms(10 * 24 * kHour);
  auto renewed = w.manager.renew("admin", "issuing", cert.serial, again).certificate;
  clock.set_ms(renewed.not_after_ms - 30 * 24 * kHour + kHour);
  w.tasks.request_service_check();
  run_until_quiet(w, clock, 30 * 24 * kHour);
  std::string given_up = w.tasks.notices().notice("orders", "issuing", renewed.serial, 30);
  ASSERT_FALSE(given_up.empty());
  EXPECT_NE(given_up.find("given_up_at"), std::string::npos) << given_up;
  EXPECT_EQ(nlohmann::json::parse(given_up)["attempts"], 5);
  EXPECT_TRUE(w.tasks.notices().notice("orders", "issuing", cert.serial, 30).empty());
}

TEST_F(BackgroundTasksTest, AutoRenewRenewsAKeptKeyOnceAndTellsTheService) {
  WebhookReceiver hook;
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  IssueRequest r;
  r.key_type = "ec-p256";
  r.subject = "CN=pay.example";
  r.sans = SubjectAltNames{{"pay.example"}, {}, {}, {}};
  r.keep_key = true;
  auto first = w.manager.issue("token:pay", "issuing", r).certificate;
  ASSERT_TRUE(w.manager.managed_key_pem("issuing", first.serial));
  ServiceRecord pay;
  pay.id = "pay";
  pay.webhook_url = hook.url();
  pay.auto_renew = true;
  w.tasks.services().add("admin", pay);
  w.tasks.services().link("admin", "pay", "issuing", first.serial);

  hook.fail_next(1);  // the first webhook call fails: the renewal must not be repeated
  clock.set_ms(first.not_after_ms - 30 * 24 * kHour + kHour / 2);
  w.tasks.request_service_check();
  run_until_quiet(w, clock, kHour);

  auto old = w.manager.get_certificate("issuing", first.serial);
  ASSERT_FALSE(old.replaced_by.empty());
  auto renewed = w.manager.get_certificate("issuing", old.replaced_by);
  EXPECT_EQ(renewed.requested_by, "token:pay") << "the owner stays the service's token";
  EXPECT_EQ(renewed.subject, "CN=pay.example");
  EXPECT_EQ(w.manager.list_certificates("issuing", {}).size(), 2u) << "renewed exactly once";
  auto key_pem = w.manager.managed_key_pem("issuing", renewed.serial);
  ASSERT_TRUE(key_pem);
  BioPtr bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(parse_certificate(renewed.der).get(), key.get()), 1) << "the kept key is the new one";

  auto calls = hook.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].status, 500);
  EXPECT_EQ(calls[1].status, 204);
  auto j = nlohmann::json::parse(calls[1].body);
  EXPECT_EQ(j["event"], "certificate_renewed");
  EXPECT_EQ(j["replaces"], first.serial);
  EXPECT_EQ(j["serial"], renewed.serial);
  EXPECT_EQ(j["key_url"], "/api/v1/cas/issuing/certificates/" + renewed.serial + "/key");
  // The new certificate has its whole life ahead: nothing more to say.
  clock.advance_ms(2 * kHour);
  run_until_quiet(w, clock, kHour);
  EXPECT_EQ(hook.calls().size(), 2u);
}

TEST_F(BackgroundTasksTest, LinkingChecksTheServicesNames) {
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  auto cert = w.issue("other.test").certificate;
  ServiceRecord s;
  s.id = "narrow";
  s.allowed_names = {"*.example"};
  w.tasks.services().add("admin", s);
  EXPECT_EQ(testing::error_code_of([&] { w.tasks.services().link("admin", "narrow", "issuing", cert.serial); }),
            "name_not_allowed");
  EXPECT_EQ(testing::error_code_of([&] { w.tasks.services().link("admin", "nosuch", "issuing", cert.serial); }),
            "service_not_found");
  EXPECT_EQ(testing::error_code_of([&] { w.tasks.services().add("admin", s); }), "service_exists");
  ServiceRecord bad;
  bad.id = "../x";
  EXPECT_EQ(testing::error_code_of([&] { w.tasks.services().add("admin", bad); }), "invalid_name");
}

bool crl_lists(const std::string& crl_der, const std::string& serial) {
  auto crl = parse_crl(crl_der);
  auto number = serial_to_asn1(serial);
  X509_REVOKED* entry = nullptr;
  return X509_CRL_get0_by_serial(crl.get(), &entry, number.get()) == 1;
}

bool crl_verifies(const std::string& crl_der, const std::string& ca_der) {
  auto crl = parse_crl(crl_der);
  auto ca = parse_certificate(ca_der);
  return X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())) == 1;
}

int ocsp_status(OcspResponder& ocsp, const std::string& cert_der, const std::string& issuer_der) {
  auto cert = parse_certificate(cert_der);
  auto issuer = parse_certificate(issuer_der);
  std::unique_ptr<OCSP_REQUEST, OpenSslDeleter<OCSP_REQUEST_free>> req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(nullptr, cert.get(), issuer.get()));
  unsigned char* out = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  std::string answer = ocsp.respond("issuing", der);
  const auto* p = reinterpret_cast<const unsigned char*>(answer.data());
  std::unique_ptr<OCSP_RESPONSE, OpenSslDeleter<OCSP_RESPONSE_free>> resp(
      d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer.size())));
  if (!resp || OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) return -1;
  std::unique_ptr<OCSP_BASICRESP, OpenSslDeleter<OCSP_BASICRESP_free>> basic(OCSP_response_get1_basic(resp.get()));
  // The answer must be signed by the key that issued the certificate.
  if (OCSP_basic_verify(basic.get(), nullptr, nullptr, OCSP_NOVERIFY) != 1) {
    STACK_OF(X509)* signers = sk_X509_new_null();
    sk_X509_push(signers, issuer.get());
    bool ok = OCSP_basic_verify(basic.get(), signers, nullptr, OCSP_TRUSTOTHER | OCSP_NOVERIFY) == 1;
    sk_X509_free(signers);
    if (!ok) return -2;
  }
  OCSP_CERTID* id = OCSP_cert_to_id(nullptr, cert.get(), issuer.get());
  int status = -1, reason = -1;
  OCSP_resp_find_status(basic.get(), id, &status, &reason, nullptr, nullptr, nullptr);
  OCSP_CERTID_free(id);
  ERR_clear_error();
  return status;
}

// A certificate signed before the CA's lock by the old key (CertAuth::presign)
// is not taken once the new key is active: the command signs with the new one.
TEST_F(BackgroundTasksTest, AKeyRolloverAfterPresigningSignsWithTheNewKey) {
  World w(kv, keys, clock, {});
  w.make_hierarchy();
  w.tasks.run_due();
  IssueCertificate c = testing::server_issue_command("roll.example");
  CommandMeta m;
  m.actor = "test";
  m.time_ms = clock.now_ms();
  CaContext ctx{w.signer, "http://pki.test", w.manager.profiles()};
  auto old_issuer = w.manager.store().peek("issuing", [&](const CertAuth& s) { return s.leaf_issuer(m.time_ms); });
  ASSERT_TRUE(old_issuer && *old_issuer);
  c.presigned = CertAuth::presign(c, **old_issuer, m, ctx);
  ASSERT_TRUE(c.presigned);

  w.manager.start_key_roll("test", "issuing");
  w.tasks.run_due();  // sync-parent: the root certifies the new key
  CaView after = w.manager.activate_key_roll("test", "issuing");
  ASSERT_NE(after.key_id, c.presigned->key_id);
  auto outcome = w.manager.store().process("issuing", c, m, ctx);
  const auto& issued = std::get<CertificateIssued>(outcome.events.at(0));
  EXPECT_NE(issued.serial, c.presigned->serial);
  EXPECT_EQ(issued.issuer_key_id, after.key_id);
  EXPECT_EQ(testing::verify_chain(issued.der, {w.manager.get_ca("root").certificate_der, after.certificate_der}, "",
                                  clock.now_ms() + 1000),
            0);
}

TEST_F(BackgroundTasksTest, KeyRolloverStagesActivatesKeepsTheOldCrlAndRetiresTheOldKey) {
  World w(kv, keys, clock, {});
  OcspResponder ocsp(w.manager, w.signer);
  ocsp.attach();
  w.make_hierarchy();
  w.tasks.run_due();
  CaView before = w.manager.get_ca("issuing");
  auto a = w.issue("a.example").certificate;  // by the first key

  EXPECT_EQ(w.manager.start_key_roll("test", "issuing").key_roll, "pending");
  EXPECT_EQ(testing::error_code_of([&] { w.manager.activate_key_roll("test", "issuing"); }), "key_roll_not_staged");
  w.tasks.run_due();  // sync-parent: the root certifies the new key
  CaView staged = w.manager.get_ca("issuing");
  EXPECT_EQ(staged.key_roll, "staged");
  EXPECT_EQ(staged.certificate_der, before.certificate_der) << "staged, not yet used";
  auto between = w.issue("between.example").certificate;  // still the old key
  EXPECT_EQ(testing::verify_chain(between.der, {w.manager.get_ca("root").certificate_der, before.certificate_der}), 0);

  CaView after = w.manager.activate_key_roll("test", "issuing");
  EXPECT_EQ(after.key_generation, 1);
  EXPECT_EQ(after.key_roll, "");
  EXPECT_EQ(after.certificate_der, staged.staged_certificate_der);
  EXPECT_NE(after.key_id, before.key_id);
  EXPECT_EQ(after.retiring_generations, std::vector<int>{0});
  auto b = w.issue("b.example").certificate;  // by the new key

  const std::string root = w.manager.get_ca("root").certificate_der;
  EXPECT_EQ(testing::verify_chain(a.der, {root, before.certificate_der}), 0);
  EXPECT_EQ(testing::verify_chain(b.der, {root, after.certificate_der}), 0);
  EXPECT_NE(testing::verify_chain(b.der, {root, before.certificate_der}), 0);
  // Each certificate names the CRL of its own key.
  auto cdp = [](const std::string& der) {
    auto cert = parse_certificate(der);
    auto* points = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(cert.get(), NID_crl_distribution_points, nullptr, nullptr));
    std::string url;
    if (points && sk_DIST_POINT_num(points) > 0) {
      GENERAL_NAME* name = sk_GENERAL_NAME_value(sk_DIST_POINT_value(points, 0)->distpoint->name.fullname, 0);
      url = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.uniformResourceIdentifier));
    }
    CRL_DIST_POINTS_free(points);
    return url;
  };
  EXPECT_EQ(cdp(a.der), "http://pki.test/crl/issuing.crl");
  EXPECT_EQ(cdp(b.der), "http://pki.test/crl/issuing/1.crl");

  w.manager.revoke("test", "issuing", a.serial, "keyCompromise");
  w.manager.revoke("test", "issuing", b.serial, "keyCompromise");
  auto old_crl = w.manager.store().read("issuing", [&](const CertAuth& s, uint64_t) { return w.objects.crl_of_generation(s, "issuing", 0); });
  auto new_crl = w.manager.store().read("issuing", [&](const CertAuth& s, uint64_t) { return w.objects.crl_of_generation(s, "issuing", 1); });
  ASSERT_TRUE(old_crl && new_crl);
  EXPECT_TRUE(crl_verifies(old_crl->der, before.certificate_der)) << "the old key signs its CRL";
  EXPECT_TRUE(crl_verifies(new_crl->der, after.certificate_der));
  EXPECT_TRUE(crl_lists(old_crl->der, a.serial));
  EXPECT_TRUE(crl_lists(new_crl->der, b.serial));
  EXPECT_NE(testing::verify_chain(a.der, {root, before.certificate_der}, old_crl->der), 0);
  EXPECT_NE(testing::verify_chain(b.der, {root, after.certificate_der}, new_crl->der), 0);
  EXPECT_EQ(ocsp_status(ocsp, a.der, before.certificate_der), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(ocsp_status(ocsp, b.der, after.certificate_der), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(ocsp_status(ocsp, between.der, before.certificate_der), V_OCSP_CERTSTATUS_GOOD);

  // The old key retires when its last certificate has expired, and the
  // root revokes its certificate.
  w.tasks.run_due();
  EXPECT_EQ(w.manager.get_ca("issuing").retiring_generations, std::vector<int>{0}) << "its certificates still live";
  int64_t last = std::max({a.not_after_ms, between.not_after_ms});
  auto retire = w.tasks.queue().find("key-retire/issuing/");
  ASSERT_TRUE(retire);
  EXPECT_EQ(retire->due_ms, last);
  clock.set_ms(last);
  w.tasks.run_due();
  EXPECT_TRUE(w.manager.get_ca("issuing").retiring_generations.empty());
  std::string old_serial = serial_of(parse_certificate(before.certificate_der).get());
  EXPECT_EQ(w.manager.get_certificate("root", old_serial).status, "revoked");
  EXPECT_EQ(w.manager.get_certificate("root", old_serial).revocation_reason, "superseded");
  EXPECT_FALSE(w.tasks.queue().find("key-retire/issuing/"));
}

// An HTTP publication endpoint on 127.0.0.1 that keeps what it is sent.
class HttpStore {
 public:
  HttpStore() {
    auto authorised = [](const httplib::Request& req) { return req.get_header_value("Authorization") == "Bearer s3cret"; };
    http_.server().Put(R"(/pki/(.+))", [this, authorised](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      if (down_) return void(res.status = 503);
      if (!authorised(req)) return void(res.status = 401);
      files_[req.matches[1]] = req.body;
      res.status = 204;
    });
    http_.server().Delete(R"(/pki/(.+))", [this, authorised](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      if (down_) return void(res.status = 503);
      if (!authorised(req)) return void(res.status = 401);
      res.status = files_.erase(req.matches[1]) ? 204 : 404;
    });
    http_.start();
  }
  std::string url() const { return http_.url("/pki"); }
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  std::map<std::string, std::string> files() {
    std::lock_guard lock(mutex_);
    return files_;
  }

 private:
  std::mutex mutex_;
  bool down_ = false;
  std::map<std::string, std::string> files_;
  testing::LoopbackHttpServer http_;  // last: stopped before the state its handlers use
};

TEST_F(BackgroundTasksTest, AnHttpRepositoryGetsExactlyTheCurrentObjectsAndIsRetriedWhileDown) {
  HttpStore remote;
  remote.set_down(true);
  RepositoryConfig repo;
  repo.name = "remote";
  repo.type = "http";
  repo.url = remote.url();
  repo.token = "s3cret";
  repo.publish_issued = true;
  World w(kv, keys, clock, {repo});
  w.make_hierarchy();
  auto a = w.issue("a.example").certificate;
  w.tasks.run_due();
  auto task = w.tasks.queue().find("sync-repo/issuing/remote");
  ASSERT_TRUE(task);
  EXPECT_EQ(task->attempts, 1);
  EXPECT_NE(task->last_error.find("503"), std::string::npos) << task->last_error;

  remote.set_down(false);
  clock.set_ms(std::max(task->due_ms, w.tasks.queue().find("sync-repo/root/remote")->due_ms));
  w.tasks.run_due();
  EXPECT_FALSE(w.tasks.queue().find("sync-repo/issuing/remote"));
  EXPECT_EQ(remote.files(), expected(w, {"root", "issuing"}, true));
  EXPECT_EQ(remote.files().count("certs/issuing/" + a.serial + ".cer"), 1u);

  // A revoked certificate is deleted from the remote store.
  w.manager.revoke("test", "issuing", a.serial, "superseded");
  w.tasks.run_due();
  EXPECT_EQ(remote.files(), expected(w, {"root", "issuing"}, true));
  EXPECT_EQ(remote.files().count("certs/issuing/" + a.serial + ".cer"), 0u);
}

TEST_F(BackgroundTasksTest, ATaskAskedForWhileItRunsRunsAgain) {
  TaskQueue q(kv, clock);
  q.request("sync-repo", "issuing", "local");
  auto claimed = q.claim_due(clock.now_ms());
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_TRUE(q.claim_due(clock.now_ms()).empty()) << "a running task is not handed out twice";
  q.request("sync-repo", "issuing", "local");  // a change while it runs
  q.succeeded(claimed[0]);
  ASSERT_TRUE(q.find("sync-repo/issuing/local"));
  auto again = q.claim_due(clock.now_ms());
  ASSERT_EQ(again.size(), 1u);
  q.succeeded(again[0]);
  EXPECT_FALSE(q.find("sync-repo/issuing/local"));
  EXPECT_TRUE(TaskQueue(kv, clock).list().empty()) << "nothing left in storage";
}

TEST(BackgroundTasksRestart, PendingAndScheduledTasksSurviveARestartAndRunOnce) {
  testing::TempDir dir;
  const std::string repo_path = dir.path() + "/repo";
  MemoryKeyStore keys;  // the CA keys outlive the "process"; the data is in RocksDB
  ManualClock clock{1'790'000'000'000};
  int64_t retry_at = 0, crl_due = 0;
  {
    auto kv = RocksDbKvStore::open(dir.path() + "/db");
    World w(*kv, keys, clock, {directory_repo(repo_path)});
    w.make_hierarchy();
    w.tasks.run_due();  // the repository is down: both syncs fail once
    retry_at = std::max(w.tasks.queue().find("sync-repo/issuing/local")->due_ms,
                        w.tasks.queue().find("sync-repo/root/local")->due_ms);
    crl_due = w.tasks.queue().find("crl-refresh/issuing/")->due_ms;
    ASSERT_EQ(w.tasks.queue().list().size(), 5u);  // 2 syncs, 2 CRL refreshes, issuing's renewal
  }  // "crash": nothing is flushed or shut down in order beyond destructors
  auto kv = RocksDbKvStore::open(dir.path() + "/db");
  World w(*kv, keys, clock, {directory_repo(repo_path)});
  auto tasks = w.tasks.queue().list();
  ASSERT_EQ(tasks.size(), 5u) << "no task was lost";
  auto sync = w.tasks.queue().find("sync-repo/issuing/local");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->attempts, 1);
  EXPECT_LE(sync->due_ms, retry_at);
  EXPECT_GT(sync->due_ms, clock.now_ms());
  EXPECT_EQ(w.tasks.queue().find("crl-refresh/issuing/")->due_ms, crl_due);

  fs::create_directory(repo_path);
  clock.set_ms(retry_at);
  EXPECT_EQ(w.tasks.run_due(), 2u);  // the two syncs; the CRL refresh is not due
  auto held = files_under(repo_path);
  EXPECT_EQ(held.size(), 6u);
  // The server-started sync asks again; running it again changes nothing.
  w.tasks.request_all();
  w.tasks.run_due();
  EXPECT_EQ(files_under(repo_path), held);
  EXPECT_EQ(w.tasks.queue().list().size(), 4u);  // only the periodic work remains (with the service check)
}

TEST(BackgroundTasksLoop, TheAsioLoopRunsRequestedTasks) {
  testing::TempDir dir;
  const std::string repo_path = dir.path() + "/repo";
  fs::create_directory(repo_path);
  MemoryKvStore kv;
  MemoryKeyStore keys;
  ManualClock clock{SystemClock().now_ms()};
  World w(kv, keys, clock, {directory_repo(repo_path)});
  w.tasks.start();
  w.make_hierarchy();  // events request syncs and wake the loop
  bool done = false;
  for (int i = 0; i < 500 && !done; ++i) {  // at most 5 s
    done = files_under(repo_path).size() == 6 && !w.tasks.queue().find("sync-repo/issuing/local");
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  w.tasks.stop();
  EXPECT_TRUE(done) << files_under(repo_path).size() << " files";
}

}  // namespace
}  // namespace cairn
