// The `cairn` binary: `serve` runs the server; the other subcommands are
// clients of its HTTP API. Exit codes: 0 ok, 1 the server refused (the
// error's stable code is printed), 2 usage or local file problem, 3 the
// server could not be reached.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/api_client.h"
#include "cli/audit_command.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/serve_command.h"
#include "cli/keys_command.h"

using namespace cairn::cli;

namespace {

void add_request_options(CLI::App* cmd, CertRequestOptions& o) {
  cmd->add_option("--csr", o.csr_file, "PKCS#10 request (PEM or DER file)");
  cmd->add_option("--key-type", o.key_type,
                  "let the server generate the key: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519");
  cmd->add_option("--subject", o.subject, "subject, e.g. \"CN=api.example.com,O=Example\"");
  cmd->add_option("--profile", o.profile, "server (default), client, peer or email");
  cmd->add_option("--dns", o.dns, "DNS name (repeatable; replaces the CSR's names)");
  cmd->add_option("--ip", o.ip, "IP address (repeatable)");
  cmd->add_option("--email", o.email, "email address (repeatable)");
  cmd->add_option("--uri", o.uri, "URI (repeatable)");
  cmd->add_option("--validity-days", o.validity_days, "validity in days (default: the profile's)");
  cmd->add_option("--out", o.out, "write the certificate (PEM) here");
  cmd->add_option("--chain-out", o.chain_out, "write the certificate and its CA chain (PEM) here");
  cmd->add_option("--key-out", o.key_out, "write the server-generated private key here (0600)");
  cmd->add_flag("--keep-key", o.keep_key,
                "with --key-type: the server keeps the key (sealed) for its owner and automatic renewal");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn - certificate authority manager for private PKI"};
  app.require_subcommand(1);

  ClientSettings settings;
  std::string format = "table";
  auto add_client_options = [&](CLI::App* cmd) {
    cmd->add_option("--server", settings.server, "server URL (env CAIRN_SERVER; default http://127.0.0.1:8080)");
    cmd->add_option("--token", settings.token, "bearer token (env CAIRN_TOKEN)");
    cmd->add_option("--token-file", settings.token_file, "file holding the token (env CAIRN_TOKEN_FILE)");
    cmd->add_option("--config", settings.config_file, "client config file (env CAIRN_CONFIG)");
    cmd->add_option("--format", format, "output: table or json")->check(CLI::IsMember({"table", "json"}));
  };
  std::function<void(Commands&)> action;

  // serve
  ServeFlags serve;
  auto* serve_cmd = app.add_subcommand("serve", "run the cairn server");
  serve_cmd->add_option("--config", serve.config_file, "server config file (TOML)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "data directory (default ./cairn-data)");
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any)");
  serve_cmd->add_option("--public-url", serve.public_url, "base URL put in certificates for CRL and CA certificate");
  serve_cmd->add_option("--port-file", serve.port_file, "write the bound port to this file");
  serve_cmd->add_option("--passphrase-file", serve.passphrase_file,
                        "file holding the key store passphrase (or CAIRN_PASSPHRASE_FILE, CAIRN_PASSPHRASE, prompt)");
  serve_cmd->add_flag("--init-hierarchy", serve.init_hierarchy, "create a root and an issuing CA if missing");
  serve_cmd->add_option("--tls-listen", serve.tls_listen,
                        "also serve the API over HTTPS on HOST:PORT, with client certificate (mTLS) identities");
  serve_cmd->add_option("--tls-ca", serve.tls_ca, "CA that issues the HTTPS certificate (default: the issuing CA)");
  serve_cmd->add_option("--tls-name", serve.tls_names, "name in the HTTPS certificate (repeat; default: the TLS host)");
  serve_cmd->add_option("--tls-port-file", serve.tls_port_file, "write the bound HTTPS port to this file");
  serve_cmd->add_option("--public-listen", serve.public_listen,
                        "also serve OCSP, CRLs and CA certificates on HOST:PORT (plain HTTP, event-driven, for "
                        "high request rates); certificates then name this address unless --public-url is given");
  serve_cmd->add_option("--public-port-file", serve.public_port_file, "write the bound public listener port here");
  serve_cmd->add_option("--ocsp-signing", serve.ocsp_signing,
                        "who signs OCSP answers: ca (the CA key) or delegated (a responder certificate cairn "
                        "issues and rotates)")
      ->check(CLI::IsMember({"ca", "delegated"}));

  // ca
  auto* ca = app.add_subcommand("ca", "certificate authorities");
  ca->require_subcommand(1);
  CaCreateOptions ca_create;
  std::string handle, out_file;
  auto* ca_create_cmd = ca->add_subcommand("create", "create a root CA, or an intermediate with --parent");
  ca_create_cmd->add_option("handle", ca_create.handle, "name of the new CA")->required();
  ca_create_cmd->add_option("--subject", ca_create.subject, "subject, e.g. \"CN=Example Root\"")->required();
  ca_create_cmd->add_option("--key", ca_create.key, "key algorithm (default ec-p256)");
  ca_create_cmd->add_option("--parent", ca_create.parent, "parent CA (makes an intermediate); local unless --parent-url");
  ca_create_cmd->add_option("--parent-url", ca_create.parent_url, "base URL of the parent's cairn server (remote parent)");
  ca_create_cmd->add_option("--parent-token-file", ca_create.parent_token_file,
                            "file with the token the parent gave for this CA (cairn child add)");
  ca_create_cmd->add_option("--validity-days", ca_create.validity_days, "validity (default 3650 root, 1825 intermediate)");
  add_client_options(ca_create_cmd);
  ca_create_cmd->callback([&] { action = [&](Commands& c) { c.ca_create(ca_create); }; });
  auto* ca_list = ca->add_subcommand("list", "list CAs");
  add_client_options(ca_list);
  ca_list->callback([&] { action = [&](Commands& c) { c.ca_list(); }; });
  auto* ca_show = ca->add_subcommand("show", "show one CA");
  ca_show->add_option("handle", handle)->required();
  add_client_options(ca_show);
  ca_show->callback([&] { action = [&](Commands& c) { c.ca_show(handle); }; });
  auto* ca_chain = ca->add_subcommand("chain", "the CA's certificate chain up to its root (PEM)");
  ca_chain->add_option("handle", handle)->required();
  ca_chain->add_option("--out", out_file, "write to this file instead of stdout");
  add_client_options(ca_chain);
  ca_chain->callback([&] { action = [&](Commands& c) { c.ca_chain(handle, out_file); }; });
  auto* ca_status = ca->add_subcommand("status", "background work for a CA: repositories, CRL refresh, errors");
  ca_status->add_option("handle", handle)->required();
  add_client_options(ca_status);
  ca_status->callback([&] { action = [&](Commands& c) { c.ca_status(handle); }; });
  auto* ca_certify = ca->add_subcommand("certify", "retry getting a pending intermediate certified by its parent");
  ca_certify->add_option("handle", handle)->required();
  add_client_options(ca_certify);
  ca_certify->callback([&] { action = [&](Commands& c) { c.ca_certify(handle); }; });

  // cert
  auto* cert = app.add_subcommand("cert", "certificates");
  cert->require_subcommand(1);
  CertRequestOptions req;
  std::string ca_name, serial, status, profile, reason, kind = "pem";
  std::vector<std::string> serials;
  std::string serials_file;
  auto* issue = cert->add_subcommand("issue", "issue a certificate from a CSR (or a server-generated key)");
  issue->add_option("--ca", req.ca, "issuing CA")->required();
  add_request_options(issue, req);
  add_client_options(issue);
  issue->callback([&] { action = [&](Commands& c) { c.cert_issue(req); }; });
  auto* renew = cert->add_subcommand("renew", "issue a new certificate that replaces SERIAL");
  renew->add_option("serial", req.serial)->required();
  renew->add_option("--ca", req.ca, "issuing CA (found by serial if omitted)");
  add_request_options(renew, req);
  add_client_options(renew);
  renew->callback([&] { action = [&](Commands& c) { c.cert_renew(req); }; });
  auto* list = cert->add_subcommand("list", "list certificates of a CA");
  list->add_option("--ca", ca_name, "CA")->required();
  list->add_option("--status", status, "valid, revoked or expired");
  list->add_option("--profile", profile, "only this profile");
  add_client_options(list);
  list->callback([&] { action = [&](Commands& c) { c.cert_list(ca_name, status, profile); }; });
  auto* show = cert->add_subcommand("show", "show a certificate");
  show->add_option("serial", serial)->required();
  show->add_option("--ca", ca_name, "CA (found by serial if omitted)");
  add_client_options(show);
  show->callback([&] { action = [&](Commands& c) { c.cert_show(ca_name, serial); }; });
  auto* download = cert->add_subcommand("download", "download a certificate as pem, der or chain");
  download->add_option("serial", serial)->required();
  download->add_option("kind", kind, "pem (default), der or chain")->check(CLI::IsMember({"pem", "der", "chain"}));
  download->add_option("--ca", ca_name, "CA (found by serial if omitted)");
  download->add_option("--out", out_file, "write to this file instead of stdout");
  add_client_options(download);
  download->callback([&] { action = [&](Commands& c) { c.cert_download(ca_name, serial, kind, out_file); }; });
  auto* revoke = cert->add_subcommand("revoke", "revoke a certificate");
  revoke->add_option("serial", serial)->required();
  revoke->add_option("--reason", reason, "RFC 5280 reason, e.g. keyCompromise (default unspecified)");
  revoke->add_option("--ca", ca_name, "CA (found by serial if omitted)");
  add_client_options(revoke);
  revoke->callback([&] { action = [&](Commands& c) { c.cert_revoke(ca_name, serial, reason); }; });
  auto* revoke_many = cert->add_subcommand("revoke-many", "revoke many certificates of one CA at once (all or none)");
  revoke_many->add_option("serials", serials, "serial numbers");
  revoke_many->add_option("--file", serials_file, "more serials, one per line ('-': stdin)");
  revoke_many->add_option("--reason", reason, "RFC 5280 reason, e.g. keyCompromise (default unspecified)");
  revoke_many->add_option("--ca", ca_name, "the CA")->required();
  add_client_options(revoke_many);
  revoke_many->callback([&] {
    action = [&](Commands& c) { c.cert_revoke_many(ca_name, serials, serials_file, reason); };
  });

  // crl
  auto* crl = app.add_subcommand("crl", "certificate revocation lists");
  crl->require_subcommand(1);
  bool der = false;
  auto* crl_get = crl->add_subcommand("get", "the CA's current CRL (PEM unless --der)");
  crl_get->add_option("ca", ca_name)->required();
  crl_get->add_flag("--der", der, "DER instead of PEM");
  crl_get->add_option("--out", out_file, "write to this file instead of stdout");
  add_client_options(crl_get);
  crl_get->callback([&] { action = [&](Commands& c) { c.crl_get(ca_name, der, out_file); }; });

  // request
  auto* request = app.add_subcommand("request", "certificate requests waiting for approval");
  request->require_subcommand(1);
  std::string request_id;
  auto* request_list = request->add_subcommand("list", "requests of a CA (operators: what waits for approval)");
  request_list->add_option("ca", ca_name)->required();
  request_list->add_option("--status", status, "pending, approved or rejected (default all)");
  add_client_options(request_list);
  request_list->callback([&] { action = [&](Commands& c) { c.request_list(ca_name, status); }; });
  auto* request_show = request->add_subcommand("show", "one request; once approved, its certificate");
  request_show->add_option("ca", ca_name)->required();
  request_show->add_option("id", request_id)->required();
  request_show->add_option("--out", out_file, "once approved, write the certificate chain (PEM) here");
  add_client_options(request_show);
  request_show->callback([&] { action = [&](Commands& c) { c.request_show(ca_name, request_id, out_file); }; });
  auto* request_approve = request->add_subcommand("approve", "issue the requested certificate (not for its requester)");
  request_approve->add_option("ca", ca_name)->required();
  request_approve->add_option("id", request_id)->required();
  add_client_options(request_approve);
  request_approve->callback([&] { action = [&](Commands& c) { c.request_approve(ca_name, request_id); }; });
  auto* request_reject = request->add_subcommand("reject", "refuse a request");
  request_reject->add_option("ca", ca_name)->required();
  request_reject->add_option("id", request_id)->required();
  request_reject->add_option("--reason", reason, "why (shown to the requester and kept in history)");
  add_client_options(request_reject);
  request_reject->callback([&] { action = [&](Commands& c) { c.request_reject(ca_name, request_id, reason); }; });

  // history
  auto* history = app.add_subcommand("history", "the audit trail of a CA");
  history->require_subcommand(1);
  std::string since, until;
  uint64_t offset = 0, rows = 100, seq = 0;
  auto* history_list = history->add_subcommand("list", "one line per stored command");
  history_list->add_option("ca", ca_name)->required();
  history_list->add_option("--since", since, "only commands at or after this UTC time (2026-11-22T10:00:00Z)");
  history_list->add_option("--until", until, "only commands at or before this UTC time");
  history_list->add_option("--offset", offset, "skip this many matching commands");
  history_list->add_option("--rows", rows, "show at most this many (max 1000)");
  add_client_options(history_list);
  history_list->callback([&] { action = [&](Commands& c) { c.history_list(ca_name, since, until, offset, rows); }; });
  auto* history_show = history->add_subcommand("show", "one command with its parameters and events");
  history_show->add_option("ca", ca_name)->required();
  history_show->add_option("seq", seq)->required();
  add_client_options(history_show);
  history_show->callback([&] { action = [&](Commands& c) { c.history_show(ca_name, seq); }; });

  // audit
  auto* audit = app.add_subcommand("audit", "auditors' tools: verify, replay and export a data directory");
  audit->require_subcommand(1);
  AuditFlags audit_flags;
  std::function<int(std::ostream&)> offline;
  auto add_offline = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", audit_flags.data_dir, "the server's data directory (opened read-only)");
    cmd->add_option("--ca", audit_flags.ca, "only this CA");
    cmd->add_option("--format", format, "output: table or json")->check(CLI::IsMember({"table", "json", "jsonl"}));
  };
  auto* audit_verify_cmd = audit->add_subcommand("verify", "verify history, signatures, snapshots, CRLs and checkpoints");
  add_offline(audit_verify_cmd);
  audit_verify_cmd->add_option("--checkpoint", audit_flags.checkpoint_files, "a checkpoint file you kept (repeatable)");
  audit_verify_cmd->callback([&] { offline = [&](std::ostream& o) { return audit_verify(audit_flags, o); }; });
  auto* audit_replay_cmd = audit->add_subcommand("replay", "a CA's state at a version or time");
  add_offline(audit_replay_cmd);
  audit_replay_cmd->add_option("--version", audit_flags.version, "after this many events");
  audit_replay_cmd->add_option("--at", audit_flags.at, "as it was at this UTC time (2026-11-22T10:00:00Z)");
  audit_replay_cmd->callback([&] { offline = [&](std::ostream& o) { return audit_replay(audit_flags, o); }; });
  auto* audit_export_cmd = audit->add_subcommand("export", "every command and event as JSON lines");
  add_offline(audit_export_cmd);
  audit_export_cmd->add_option("--out", audit_flags.out, "write to this file instead of stdout");
  audit_export_cmd->callback([&] { offline = [&](std::ostream& o) { return audit_export(audit_flags, o); }; });
  auto* audit_checkpoint_cmd = audit->add_subcommand("checkpoint", "have the server sign a checkpoint of every history head");
  audit_checkpoint_cmd->add_option("--out", out_file, "write the checkpoint here (keep it somewhere safe)");
  add_client_options(audit_checkpoint_cmd);
  audit_checkpoint_cmd->callback([&] { action = [&](Commands& c) { c.audit_checkpoint(out_file); }; });

  // keys
  auto* keys = app.add_subcommand("keys", "the encrypted key store");
  keys->require_subcommand(1);
  std::string keys_dir = "./cairn-data", old_pass_file, new_pass_file;
  auto* rewrap = keys->add_subcommand("rewrap", "change the key store passphrase (only keystore.json is rewritten)");
  rewrap->add_option("--data-dir", keys_dir, "the server's data directory");
  rewrap->add_option("--passphrase-file", old_pass_file, "current passphrase (or CAIRN_PASSPHRASE[_FILE], prompt)");
  rewrap->add_option("--new-passphrase-file", new_pass_file, "new passphrase (or CAIRN_NEW_PASSPHRASE[_FILE], prompt)");
  rewrap->callback([&] {
    offline = [&](std::ostream& o) { return keys_rewrap(keys_dir, old_pass_file, new_pass_file, o); };
  });

  // token
  auto* token = app.add_subcommand("token", "API tokens (admin only)");
  token->require_subcommand(1);
  std::string token_id;
  Commands::TokenSpec token_spec;
  auto* token_create = token->add_subcommand("create", "create a token; its secret is shown once");
  token_create->add_option("--name", token_spec.name, "a name for the token (a-z 0-9 . _ -)")->required();
  token_create->add_option("--role", token_spec.role, "admin, operator, auditor or service")->required();
  token_create->add_option("--ca", token_spec.cas, "operator/service: a CA it may use (repeat for more)");
  token_create->add_option("--allow-name", token_spec.names,
                           "service: a name pattern it may request, e.g. '*.svc.example.com', "
                           "'10.0.0.0/8', '@example.com', 'spiffe://prod/*' (repeat for more)");
  token_create->add_option("--profile", token_spec.profiles, "service: a profile it may use (repeat; default any)");
  token_create->add_option("--rate-per-hour", token_spec.rate_per_hour,
                           "certificates per hour for this token (default: the server's limit for its role)");
  add_client_options(token_create);
  token_create->callback([&] { action = [&](Commands& c) { c.token_create(token_spec); }; });
  auto* token_list = token->add_subcommand("list", "list tokens");
  add_client_options(token_list);
  token_list->callback([&] { action = [&](Commands& c) { c.token_list(); }; });
  auto* token_revoke = token->add_subcommand("revoke", "revoke a token by id");
  token_revoke->add_option("id", token_id)->required();
  add_client_options(token_revoke);
  token_revoke->callback([&] { action = [&](Commands& c) { c.token_revoke(token_id); }; });

  // profile
  auto* prof = app.add_subcommand("profile", "certificate profiles");
  prof->require_subcommand(1);
  auto* prof_list = prof->add_subcommand("list", "list profiles");
  add_client_options(prof_list);
  prof_list->callback([&] { action = [&](Commands& c) { c.profile_list(); }; });

  // keyroll
  auto* keyroll = app.add_subcommand("keyroll", "key rollover of an intermediate CA");
  keyroll->require_subcommand(1);
  auto* keyroll_init = keyroll->add_subcommand("init", "make a new key and have the parent certify it (staged)");
  keyroll_init->add_option("ca", handle)->required();
  add_client_options(keyroll_init);
  keyroll_init->callback([&] { action = [&](Commands& c) { c.keyroll(handle, "init"); }; });
  auto* keyroll_activate = keyroll->add_subcommand("activate", "sign with the new key from now on");
  keyroll_activate->add_option("ca", handle)->required();
  add_client_options(keyroll_activate);
  keyroll_activate->callback([&] { action = [&](Commands& c) { c.keyroll(handle, "activate"); }; });

  // child
  std::string child_parent, child_handle;
  auto* child = app.add_subcommand("child", "children on other cairn servers (parent side)");
  child->require_subcommand(1);
  auto* child_add = child->add_subcommand("add", "register a child CA of another server and make its token");
  child_add->add_option("parent", child_parent, "the parent CA here")->required();
  child_add->add_option("child", child_handle, "the child CA's handle on its server")->required();
  add_client_options(child_add);
  child_add->callback([&] { action = [&](Commands& c) { c.child_add(child_parent, child_handle); }; });

  // service
  Commands::ServiceSpec svc;
  std::string svc_serial;
  auto* service = app.add_subcommand("service", "the service registry and rotation notices");
  service->require_subcommand(1);
  auto service_fields = [&](CLI::App* cmd) {
    cmd->add_option("id", svc.id, "service id (1-64 of a-z 0-9 . _ -)")->required();
    cmd->add_option("--name", svc.name, "display name");
    cmd->add_option("--type", svc.type, "kind of service, free text (e.g. http, grpc)");
    cmd->add_option("--endpoint", svc.endpoints, "where it runs (repeat)");
    cmd->add_option("--webhook", svc.webhook_url, "http(s) URL for rotation notices");
    cmd->add_option("--allow-name", svc.allowed_names, "name pattern its certificates may hold (repeat)");
    cmd->add_option("--auto-renew", svc.auto_renew,
                    "true: renew linked certificates whose key the server keeps (--keep-key) when due");
    add_client_options(cmd);
  };
  auto* service_register = service->add_subcommand("register", "register a service; prints its webhook secret once");
  service_fields(service_register);
  service_register->callback([&] { action = [&](Commands& c) { c.service_register(svc); }; });
  auto* service_update = service->add_subcommand("update", "change a service's fields (lists are replaced)");
  service_fields(service_update);
  service_update->callback([&] {
    svc.has_name = service_update->count("--name") > 0;
    svc.has_type = service_update->count("--type") > 0;
    svc.has_webhook = service_update->count("--webhook") > 0;
    svc.has_auto_renew = service_update->count("--auto-renew") > 0;
    action = [&](Commands& c) { c.service_update(svc); };
  });
  auto* service_list = service->add_subcommand("list", "list services");
  add_client_options(service_list);
  service_list->callback([&] { action = [&](Commands& c) { c.service_list(); }; });
  auto* service_show = service->add_subcommand("show", "one service with its certificates");
  service_show->add_option("id", svc.id)->required();
  add_client_options(service_show);
  service_show->callback([&] { action = [&](Commands& c) { c.service_show(svc.id); }; });
  auto* service_link = service->add_subcommand("link", "link a certificate to a service (notices follow its renewals)");
  service_link->add_option("id", svc.id)->required();
  service_link->add_option("--ca", ca_name, "the certificate's CA")->required();
  service_link->add_option("--serial", svc_serial, "the certificate's serial")->required();
  add_client_options(service_link);
  service_link->callback([&] { action = [&](Commands& c) { c.service_link(svc.id, ca_name, svc_serial); }; });

  // task
  auto* task = app.add_subcommand("task", "background tasks (publishing, CRL refresh)");
  task->require_subcommand(1);
  auto* task_list = task->add_subcommand("list", "queued and scheduled tasks, with retries and errors");
  task_list->add_option("--ca", ca_name, "only this CA's tasks");
  add_client_options(task_list);
  task_list->callback([&] { action = [&](Commands& c) { c.task_list(ca_name); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (serve_cmd->parsed()) return run_serve(serve);
    if (offline) {
      audit_flags.json = format == "json" || format == "jsonl";
      return offline(std::cout);
    }
    if (!action) return 2;
    ResolvedClient resolved = resolve_client(settings);
    ApiClient client(resolved.server, resolved.token);
    Commands commands(client, format == "json" ? OutputFormat::Json : OutputFormat::Table, std::cout);
    action(commands);
    return 0;
  } catch (const CliError& e) {
    std::cerr << "error: " << e.code() << ": " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: internal_error: " << e.what() << "\n";
    return 1;
  }
}
