#include "api/server_app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "api/http_server.h"
#include "api/periodic_jobs.h"
#include "api/public_endpoints.h"
#include "api/public_listener.h"
#include "api/server_tls_certificate.h"
#include "api/token_authenticator.h"
#include "core/ca_manager.h"
#include "core/encrypted_key_store.h"
#include "eventstore/rocksdb_kv_store.h"
#include "objects/audit_checkpoint.h"
#include "objects/ca_objects_store.h"
#include "objects/ocsp_responder.h"
#include "scheduler/background_tasks.h"
#include "scheduler/metrics.h"
#include "api/rate_limiter.h"

namespace cairn::api {

struct ServerApp::Impl {
  ServeOptions options;
  SystemClock clock;
  std::unique_ptr<RocksDbKvStore> kv;
  std::unique_ptr<KeyStore> keys;
  std::unique_ptr<Signer> signer;
  std::unique_ptr<CaManager> manager;
  std::unique_ptr<CaObjectsStore> objects;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<TokenAuthenticator> auth;
  std::unique_ptr<CheckpointService> checkpoints;
  std::unique_ptr<OcspResponder> ocsp;
  std::unique_ptr<RateLimiter> limiter;
  Metrics metrics;
  std::unique_ptr<BackgroundTasks> tasks;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<TlsCredentials> tls_credentials;
  std::unique_ptr<ServerTlsCertificate> tls_certificate;
  std::unique_ptr<HttpServer> https;
  int tls_port = 0;
  std::unique_ptr<PublicListener> public_listener;
  std::unique_ptr<PublicEndpoints> public_endpoints;
  int public_port = 0;
  PeriodicJobs jobs;  // checkpoints, OCSP responder rotation
  std::string new_token;
  std::string public_url;
};

namespace {

void check_public_url(const std::string& url) {
  bool ok = (url.starts_with("http://") || url.starts_with("https://")) && url.size() < 512;
  for (char c : url) ok = ok && c > 0x20 && c < 0x7f && c != ',' && c != '"' && c != '\\';
  if (ok) {
    auto host_start = url.find("://") + 3;
    std::string authority = url.substr(host_start, url.find('/', host_start) - host_start);
    if (std::count(authority.begin(), authority.end(), ':') > 1 && !authority.starts_with("["))
      ok = false;  // a bare IPv6 address: it needs [brackets]
  }
  if (!ok || url.ends_with("/"))
    throw Error(ErrorKind::InvalidInput, "invalid_public_url",
                "public_url must be an http(s) URL without a trailing slash, commas or spaces");
}

void bootstrap(CaManager& m, const ServeOptions& o) {
  const std::string actor = "system:bootstrap";
  CreateCaRequest root;
  root.handle = o.root_handle;
  root.subject = o.root_subject;
  root.algorithm = o.hierarchy_key;
  CreateCaRequest issuing;
  issuing.handle = o.issuing_handle;
  issuing.subject = o.issuing_subject;
  issuing.algorithm = o.hierarchy_key;
  issuing.parent = o.root_handle;
  if (!m.store().exists(root.handle)) {
    m.create_ca(actor, root);
    spdlog::info("created root CA '{}'", root.handle);
  }
  if (!m.store().exists(issuing.handle)) {
    m.create_ca(actor, issuing);
    spdlog::info("created issuing CA '{}' under '{}'", issuing.handle, root.handle);
  } else if (m.get_ca(issuing.handle).status == "pending") {
    m.certify_pending(actor, issuing.handle);
  }
}

}  // namespace

ServerApp::ServerApp(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ServerApp::~ServerApp() {
  stop();
}

int ServerApp::start() {
  auto& i = *impl_;
  const auto& o = i.options;
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec)
    throw Error(ErrorKind::Unavailable, "data_dir_error", "cannot create " + o.data_dir + ": " + ec.message());
  ::chmod(o.data_dir.c_str(), 0700);

  if (o.passphrase.empty())
    throw Error(ErrorKind::InvalidInput, "passphrase_required",
                "a passphrase for the key store is required (--passphrase-file, CAIRN_PASSPHRASE_FILE, "
                "CAIRN_PASSPHRASE, or type it at the prompt)");
  // The passphrase is checked before the database is opened: a refused start
  // leaves nothing locked or changed.
  i.keys = EncryptedKeyStore::open(o.data_dir + "/keys", o.passphrase);
  i.kv = RocksDbKvStore::open(o.data_dir + "/db");
  i.signer = std::make_unique<Signer>(*i.keys);
  auto [token, created] = load_or_create_admin_token(o.data_dir);
  if (created) i.new_token = token;
  i.tokens = std::make_unique<TokenStore>(*i.kv, i.clock);
  i.auth = std::make_unique<TokenAuthenticator>(token, i.tokens.get());

  HttpServerOptions http;
  http.host = o.host;
  http.port = o.port;
  http.threads = o.threads;
  http.handler_threads = o.handler_threads;
  http.max_body_bytes = o.max_body_bytes;
  http.request_timeout = o.request_timeout;
  http.shutdown_grace = o.shutdown_grace;
  for (const auto& repo : o.repositories)
    if (repo.name == o.serve_repository) http.repository_dir = repo.path;
  if (!o.serve_repository.empty() && http.repository_dir.empty())
    throw Error(ErrorKind::InvalidInput, "invalid_repository",
                "serve_repository names no configured repository: '" + o.serve_repository + "'");
  i.http = std::make_unique<HttpServer>(http);
  int port = i.http->bind();
  if (!o.tls_host.empty()) {
    i.tls_credentials = std::make_unique<TlsCredentials>();
    HttpServerOptions https = http;
    https.repository_dir.clear();
    https.host = o.tls_host;
    https.port = o.tls_port;
    https.tls_setup = [creds = i.tls_credentials.get()](SSL_CTX& ctx) { return creds->setup(ctx); };
    i.https = std::make_unique<HttpServer>(https);
    i.tls_port = i.https->bind();
  }

  if (!o.public_host.empty()) {
    PublicListenerOptions p;
    p.host = o.public_host;
    p.port = o.public_port;
    p.threads = o.public_threads;
    p.request_timeout = o.public_request_timeout;
    i.public_listener = std::make_unique<PublicListener>(p);
    i.public_port = i.public_listener->bind();
  }

  // Certificates name the public listener's URLs when there is one.
  const std::string& url_host = i.public_listener ? o.public_host : o.host;
  int url_port = i.public_listener ? i.public_port : port;
  std::string host = url_host.find(':') != std::string::npos ? "[" + url_host + "]" : url_host;
  i.public_url = o.public_url.empty() ? "http://" + host + ":" + std::to_string(url_port) : o.public_url;
  check_public_url(i.public_url);
  i.manager = std::make_unique<CaManager>(*i.kv, *i.signer, i.clock, CaManagerConfig{i.public_url, static_cast<uint64_t>(o.snapshot_interval),
                      std::make_shared<const ProfileCatalog>(o.profiles)});
  CaObjectsConfig objects_config;
  objects_config.crl_validity_ms = static_cast<int64_t>(o.crl_validity_hours) * 3600 * 1000;
  objects_config.crl_reissue_remaining = o.crl_reissue_remaining;
  i.objects = std::make_unique<CaObjectsStore>(*i.kv, *i.signer, i.clock, objects_config);
  i.objects->attach(i.manager->store());

  i.checkpoints = std::make_unique<CheckpointService>(*i.kv, *i.signer, i.clock);
  OcspConfig ocsp_config;
  ocsp_config.delegated = o.ocsp_signing == "delegated";
  ocsp_config.responder_validity_hours = o.ocsp_responder_validity_hours;
  ocsp_config.response_validity_ms = static_cast<int64_t>(o.ocsp_response_validity_minutes) * 60 * 1000;
  i.ocsp = std::make_unique<OcspResponder>(*i.manager, *i.signer, ocsp_config);
  i.ocsp->attach();
  i.limiter = std::make_unique<RateLimiter>(i.clock);

  // Attached before the bootstrap, so its CAs are published like any other.
  i.tasks = std::make_unique<BackgroundTasks>(*i.kv, *i.manager, *i.objects, i.metrics, o.repositories, o.scheduler);
  i.tasks->attach();

  if (o.init_hierarchy) bootstrap(*i.manager, o);
  if (o.checkpoint_interval_minutes > 0) {
    i.jobs.add("audit checkpoint", std::chrono::minutes(o.checkpoint_interval_minutes), [&i] {
      auto cp = i.checkpoints->create({&i.manager->store().log()});
      spdlog::info("signed audit checkpoint of {} aggregates", cp.heads.size());
    });
  }
  if (i.https) {
    std::string ca = o.tls_ca.empty() ? o.issuing_handle : o.tls_ca;
    auto names = o.tls_names.empty() ? std::vector<std::string>{o.tls_host} : o.tls_names;
    i.tls_certificate =
        std::make_unique<ServerTlsCertificate>(*i.manager, *i.tls_credentials, ca, names, o.tls_validity_days);
    i.tls_certificate->start();
    i.jobs.add("HTTPS certificate renewal", std::chrono::minutes(10), [&i] { i.tls_certificate->renew_if_due(); });
  }
  if (ocsp_config.delegated) {
    auto refresh = [&i] {
      std::vector<std::string> errors;
      if (size_t n = i.ocsp->refresh_responders(&errors)) spdlog::info("issued {} OCSP responder certificate(s)", n);
      for (const auto& e : errors) spdlog::warn("OCSP responder certificate not issued for {}", e);
    };
    refresh();
    i.jobs.add("OCSP responder rotation", std::chrono::minutes(10), refresh);
  }
  i.jobs.start();
  i.tasks->start();  // the server-started sync of every CA
  return port;
}

void ServerApp::run() {
  auto& i = *impl_;
  ApiServices services{i.manager.get(), i.objects.get(), i.auth.get(), i.tokens.get(),
                       i.checkpoints.get(), i.ocsp.get(), i.limiter.get(),
                       i.options.service_rate_per_hour, i.tasks.get(), &i.metrics};
  std::thread https;
  if (i.https) https = std::thread([&i, &services] { i.https->run(services); });
  std::thread public_urls;
  if (i.public_listener) {
    i.public_endpoints = std::make_unique<PublicEndpoints>(*i.manager, *i.objects, *i.ocsp, &i.metrics);
    public_urls = std::thread([&i] { i.public_listener->run(*i.public_endpoints); });
  }
  i.http->run(services);
  if (https.joinable()) {
    i.https->stop();
    https.join();
  }
  if (public_urls.joinable()) {
    i.public_listener->stop();
    public_urls.join();
  }
}

void ServerApp::stop() {
  if (!impl_) return;
  if (impl_->http) impl_->http->stop();
  if (impl_->https) impl_->https->stop();
  if (impl_->public_listener) impl_->public_listener->stop();
  impl_->jobs.stop();
  if (impl_->tasks) impl_->tasks->stop();
}

const std::string& ServerApp::new_admin_token() const { return impl_->new_token; }
const std::string& ServerApp::public_url() const { return impl_->public_url; }
CaManager& ServerApp::manager() { return *impl_->manager; }
int ServerApp::tls_port() const { return impl_->tls_port; }
int ServerApp::public_port() const { return impl_->public_port; }

}  // namespace cairn::api
