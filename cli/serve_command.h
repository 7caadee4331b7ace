// `cairn serve`: reads the optional TOML config, applies flags over it, and
// runs the server until SIGINT/SIGTERM. Config keys (all optional):
//   data_dir, passphrase_file, listen = "127.0.0.1:8080", public_url, threads,
//   handler_threads, shutdown_grace_seconds, max_body_bytes, snapshot_interval, [crl] validity_hours,
//   [bootstrap] enabled, root_handle, root_subject, issuing_handle,
//   issuing_subject, key
// Thread-safety: called once from main.
#pragma once

#include <string>
#include <vector>

namespace cairn::cli {

struct ServeFlags {
  std::string config_file;
  std::string data_dir;
  std::string listen;
  std::string public_url;
  std::string port_file;  // the bound port is written here (tests, scripts)
  std::string passphrase_file;
  bool init_hierarchy = false;
  std::string tls_listen;                // HOST:PORT for HTTPS; empty: the config's (default none)
  std::string tls_ca;
  std::vector<std::string> tls_names;
  std::string tls_port_file;
  std::string public_listen;     // HOST:PORT for the public URLs' own listener; empty: the config's (default none)
  std::string public_port_file;
  std::string ocsp_signing;  // "ca" or "delegated"; empty: the config's (default "ca")
};

int run_serve(const ServeFlags& flags);

}  // namespace cairn::cli
