#include "cli/serve_command.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <thread>
#include <toml++/toml.h>

#include "api/server_app.h"
#include "cli/api_client.h"
#include "cli/secret_input.h"
#include "cli/repository_config.h"
#include "cli/toml_config.h"
#include "eventstore/error.h"

namespace cairn::cli {
namespace {

void parse_listen(const std::string& listen, std::string& host, int& port, const char* flag = "--listen") {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw CliError("invalid_listen", std::string(flag) + " takes HOST:PORT, e.g. 127.0.0.1:8080", 2);
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    int p = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || p < 0 || p > 65535) throw std::out_of_range("port");
    port = p;
  } catch (const std::exception&) {
    throw CliError("invalid_listen", std::string("the port in ") + flag + " must be 0-65535", 2);
  }
}

api::ServeOptions load_options(const ServeFlags& flags) {
  api::ServeOptions o;
  std::string passphrase_file;
  if (!flags.config_file.empty()) {
    toml::table t;
    try {
      t = toml::parse_file(flags.config_file);
    } catch (const toml::parse_error& e) {
      throw CliError("invalid_config", "cannot read " + flags.config_file + ": " + std::string(e.description()), 2);
    }
    o.data_dir = typed(t["data_dir"], "data_dir", o.data_dir);
    passphrase_file = typed(t["passphrase_file"], "passphrase_file", passphrase_file);
    if (t["listen"]) parse_listen(typed(t["listen"], "listen", std::string()), o.host, o.port);
    if (t["tls"]["listen"])
      parse_listen(typed(t["tls"]["listen"], "tls.listen", std::string()), o.tls_host, o.tls_port, "tls.listen");
    o.tls_ca = typed(t["tls"]["ca"], "tls.ca", o.tls_ca);
    if (const auto* tls = t["tls"].as_table()) o.tls_names = string_array(*tls, "names", "tls");
    o.tls_validity_days = typed(t["tls"]["validity_days"], "tls.validity_days", o.tls_validity_days);
    o.public_url = typed(t["public_url"], "public_url", o.public_url);
    if (t["public_listen"])
      parse_listen(typed(t["public_listen"], "public_listen", std::string()), o.public_host, o.public_port,
                   "public_listen");
    o.public_threads = typed(t["public_threads"], "public_threads", o.public_threads);
    o.snapshot_interval = typed(t["snapshot_interval"], "snapshot_interval", o.snapshot_interval);
    o.checkpoint_interval_minutes =
        typed(t["checkpoint_interval_minutes"], "checkpoint_interval_minutes", o.checkpoint_interval_minutes);
    o.threads = typed(t["threads"], "threads", o.threads);
    o.handler_threads = typed(t["handler_threads"], "handler_threads", o.handler_threads);
    o.shutdown_grace = std::chrono::seconds(typed(t["shutdown_grace_seconds"], "shutdown_grace_seconds",
                                                  static_cast<int>(o.shutdown_grace.count() / 1000)));
    o.max_body_bytes = static_cast<size_t>(
        typed(t["max_body_bytes"], "max_body_bytes", static_cast<int64_t>(o.max_body_bytes)));
    o.service_rate_per_hour =
        typed(t["limits"]["service_certificates_per_hour"], "limits.service_certificates_per_hour",
              o.service_rate_per_hour);
    o.profiles = load_profiles(t);
    o.crl_validity_hours = typed(t["crl"]["validity_hours"], "crl.validity_hours", o.crl_validity_hours);
    o.ocsp_signing = typed(t["ocsp"]["signing"], "ocsp.signing", o.ocsp_signing);
    o.ocsp_responder_validity_hours = typed(t["ocsp"]["responder_validity_hours"], "ocsp.responder_validity_hours",
                                            o.ocsp_responder_validity_hours);
    o.ocsp_response_validity_minutes = typed(t["ocsp"]["response_validity_minutes"],
                                             "ocsp.response_validity_minutes", o.ocsp_response_validity_minutes);
    o.repositories = load_repositories(t, o.serve_repository);
    o.crl_reissue_remaining = typed(t["crl"]["reissue_remaining"], "crl.reissue_remaining", o.crl_reissue_remaining);
    o.scheduler.threads = typed(t["scheduler"]["threads"], "scheduler.threads", o.scheduler.threads);
    o.scheduler.retry_base_ms = 1000LL * typed(t["scheduler"]["retry_base_seconds"], "scheduler.retry_base_seconds",
                                               static_cast<int>(o.scheduler.retry_base_ms / 1000));
    o.scheduler.retry_cap_ms = 1000LL * typed(t["scheduler"]["retry_cap_seconds"], "scheduler.retry_cap_seconds",
                                              static_cast<int>(o.scheduler.retry_cap_ms / 1000));
    o.scheduler.notice_max_retries =
        typed(t["scheduler"]["notice_max_retries"], "scheduler.notice_max_retries", o.scheduler.notice_max_retries);
    if (auto node = t["scheduler"]["notice_days"]) {
      const toml::array* days = node.as_array();
      if (!days) throw CliError("invalid_config", "scheduler.notice_days must be an array of integers", 2);
      o.scheduler.notice_days.clear();
      for (const auto& d : *days) {
        auto v = d.value_exact<int64_t>();
        if (!v || *v < 1 || *v > 3650)
          throw CliError("invalid_config", "scheduler.notice_days must hold integers 1-3650", 2);
        o.scheduler.notice_days.push_back(static_cast<int>(*v));
      }
    }
    o.init_hierarchy = typed(t["bootstrap"]["enabled"], "bootstrap.enabled", false);
    o.root_handle = typed(t["bootstrap"]["root_handle"], "bootstrap.root_handle", o.root_handle);
    o.root_subject = typed(t["bootstrap"]["root_subject"], "bootstrap.root_subject", o.root_subject);
    o.issuing_handle = typed(t["bootstrap"]["issuing_handle"], "bootstrap.issuing_handle", o.issuing_handle);
    o.issuing_subject = typed(t["bootstrap"]["issuing_subject"], "bootstrap.issuing_subject", o.issuing_subject);
    o.hierarchy_key = typed(t["bootstrap"]["key"], "bootstrap.key", o.hierarchy_key);
  }
  if (!flags.data_dir.empty()) o.data_dir = flags.data_dir;
  if (!flags.passphrase_file.empty()) passphrase_file = flags.passphrase_file;
  o.passphrase = read_secret(passphrase_file, "CAIRN_PASSPHRASE_FILE", "CAIRN_PASSPHRASE", "Key store passphrase: ");
  if (!flags.listen.empty()) parse_listen(flags.listen, o.host, o.port);
  if (!flags.tls_listen.empty()) parse_listen(flags.tls_listen, o.tls_host, o.tls_port, "--tls-listen");
  if (!flags.tls_ca.empty()) o.tls_ca = flags.tls_ca;
  if (!flags.tls_names.empty()) o.tls_names = flags.tls_names;
  if (o.tls_validity_days < 1 || o.tls_validity_days > 397)
    throw CliError("invalid_config", "tls.validity_days must be 1-397", 2);
  if (!flags.public_url.empty()) o.public_url = flags.public_url;
  if (!flags.public_listen.empty()) parse_listen(flags.public_listen, o.public_host, o.public_port, "--public-listen");
  if (o.public_threads < 0 || o.public_threads > 64)
    throw CliError("invalid_config", "public_threads must be 0-64 (0: one per core)", 2);
  if (flags.init_hierarchy) o.init_hierarchy = true;
  if (!flags.ocsp_signing.empty()) o.ocsp_signing = flags.ocsp_signing;
  if (o.crl_reissue_remaining < 0.05 || o.crl_reissue_remaining > 0.95)
    throw CliError("invalid_config", "crl.reissue_remaining must be between 0.05 and 0.95", 2);
  if (o.scheduler.notice_max_retries < 1 || o.scheduler.notice_max_retries > 100)
    throw CliError("invalid_config", "scheduler.notice_max_retries must be 1-100", 2);
  if (o.scheduler.threads < 1 || o.scheduler.threads > 64)
    throw CliError("invalid_config", "scheduler.threads must be 1-64", 2);
  if (o.scheduler.retry_base_ms < 1000 || o.scheduler.retry_cap_ms < o.scheduler.retry_base_ms ||
      o.scheduler.retry_cap_ms > 7 * 24 * 3600 * 1000LL)
    throw CliError("invalid_config",
                   "scheduler.retry_base_seconds must be >= 1 and retry_cap_seconds between it and 604800", 2);
  if (o.ocsp_signing != "ca" && o.ocsp_signing != "delegated")
    throw CliError("invalid_config", "ocsp.signing must be \"ca\" or \"delegated\"", 2);
  if (o.ocsp_response_validity_minutes < 1 || o.ocsp_response_validity_minutes > 7 * 24 * 60)
    throw CliError("invalid_config", "ocsp.response_validity_minutes must be 1-10080", 2);
  if (o.ocsp_responder_validity_hours < 1 || o.ocsp_responder_validity_hours > 24 * 366)
    throw CliError("invalid_config", "ocsp.responder_validity_hours must be 1-8784", 2);
  if (o.ocsp_responder_validity_hours * 60 < 2 * o.ocsp_response_validity_minutes)
    throw CliError("invalid_config",
                   "ocsp.responder_validity_hours must cover at least two OCSP response validity periods", 2);
  if (o.snapshot_interval < 0) throw CliError("invalid_config", "snapshot_interval must be >= 0", 2);
  if (o.checkpoint_interval_minutes < 0)
    throw CliError("invalid_config", "checkpoint_interval_minutes must be >= 0", 2);
  if (o.threads < 1 || o.threads > 256) throw CliError("invalid_config", "threads must be 1-256", 2);
  if (o.handler_threads < 2 || o.handler_threads > 1024)
    throw CliError("invalid_config", "handler_threads must be 2-1024", 2);
  if (o.shutdown_grace < std::chrono::seconds(0) || o.shutdown_grace > std::chrono::seconds(600))
    throw CliError("invalid_config", "shutdown_grace_seconds must be 0-600", 2);
  if (o.crl_validity_hours < 1 || o.crl_validity_hours > 24 * 366)
    throw CliError("invalid_config", "crl.validity_hours must be 1-8784", 2);
  if (o.service_rate_per_hour < 0)
    throw CliError("invalid_config", "limits.service_certificates_per_hour must be >= 0", 2);
  if (o.max_body_bytes < 1024 || o.max_body_bytes > (64u << 20))
    throw CliError("invalid_config", "max_body_bytes must be between 1 KiB and 64 MiB", 2);
  return o;
}

// Written whole or not at all (tests wait for the file to appear).
void write_port_file(const std::string& path, int port) {
  if (path.empty()) return;
  std::ofstream pf(path + ".tmp");
  pf << port << "\n";
  pf.close();
  std::rename((path + ".tmp").c_str(), path.c_str());
}

}  // namespace

int run_serve(const ServeFlags& flags) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("cairn"));
  api::ServeOptions options = load_options(flags);

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  api::ServerApp app(options);
  int port = 0;
  try {
    port = app.start();
  } catch (const Error& e) {
    throw CliError(e.code(), e.what(), 1);
  }
  if (!app.new_admin_token().empty()) {
    std::cout << "Admin token (saved to " << options.data_dir
              << "/admin.token, mode 0600; shown only this once):\n  " << app.new_admin_token()
              << "\n";
  }
  std::cout << "cairn serving on " << options.host << ":" << port << " (public URL " << app.public_url()
            << ", data in " << options.data_dir << ")" << std::endl;
  if (app.tls_port())
    std::cout << "cairn serving HTTPS on " << options.tls_host << ":" << app.tls_port() << std::endl;
  if (app.public_port())
    std::cout << "cairn serving OCSP, CRLs and CA certificates on " << options.public_host << ":" << app.public_port()
              << std::endl;
  write_port_file(flags.tls_port_file, app.tls_port());
  write_port_file(flags.public_port_file, app.public_port());
  write_port_file(flags.port_file, port);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {} received, stopping", sig);
    app.stop();
  });
  app.run();
  // run() returned: stopped by a signal, or the listener failed.
  if (waiter.joinable()) {
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
  }
  spdlog::info("cairn stopped");
  return 0;
}

}  // namespace cairn::cli
