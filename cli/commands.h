// The client subcommands of `cairn`: each sends one or two API requests and
// prints a table (default) or the server's JSON (--format json).
// Files given with --out are written atomically enough for a CLI (truncate +
// write); private keys are written 0600 and never over an existing file.
// Thread-safety: one Commands per invocation.
#pragma once

#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/output.h"

namespace cairn::cli {

struct CaCreateOptions {
  std::string handle;
  std::string subject;
  std::string key = "ec-p256";
  std::string parent;
  int validity_days = 0;
  std::string parent_url;         // a parent on another cairn server
  std::string parent_token_file;  // the token it gave for this CA (first line)
};

struct CertRequestOptions {
  std::string ca;
  std::string serial;  // renew only
  std::string csr_file;
  std::string key_type;
  std::string subject;
  std::string profile;
  std::vector<std::string> dns, ip, email, uri;
  int validity_days = 0;
  std::string out;
  std::string chain_out;
  std::string key_out;
  bool keep_key = false;
};

class Commands {
 public:
  Commands(ApiClient& client, OutputFormat format, std::ostream& out)
      : client_(client), format_(format), out_(out) {}

  void ca_create(const CaCreateOptions& o);
  void ca_list();
  void ca_show(const std::string& handle);
  void ca_chain(const std::string& handle, const std::string& out_file);
  void ca_certify(const std::string& handle);
  void child_add(const std::string& parent, const std::string& child);
  void keyroll(const std::string& ca, const std::string& step);  // "init" or "activate"

  void cert_issue(const CertRequestOptions& o);
  void cert_renew(const CertRequestOptions& o);
  void cert_list(const std::string& ca, const std::string& status, const std::string& profile);
  void cert_show(const std::string& ca, const std::string& serial);
  void cert_download(const std::string& ca, const std::string& serial, const std::string& kind,
                     const std::string& out_file);
  void cert_revoke(const std::string& ca, const std::string& serial, const std::string& reason);
  // Serials from the arguments and from `file` (one per line, "-": stdin),
  // all revoked in one command or none.
  void cert_revoke_many(const std::string& ca, const std::vector<std::string>& serials, const std::string& file,
                        const std::string& reason);

  void crl_get(const std::string& ca, bool der, const std::string& out_file);

  // request_commands.cpp: requests for profiles that need approval.
  void request_list(const std::string& ca, const std::string& status);
  void request_show(const std::string& ca, const std::string& id, const std::string& out_file);
  void request_approve(const std::string& ca, const std::string& id);
  void request_reject(const std::string& ca, const std::string& id, const std::string& reason);

  void history_list(const std::string& ca, const std::string& since, const std::string& until,
                    uint64_t offset, uint64_t rows);
  void history_show(const std::string& ca, uint64_t seq);

  void audit_checkpoint(const std::string& out_file);

  struct TokenSpec {
    std::string name, role;
    std::vector<std::string> cas, names, profiles;
    int rate_per_hour = 0;
  };
  void token_create(const TokenSpec& spec);
  void token_list();
  void token_revoke(const std::string& id);
  void profile_list();

  // service_commands.cpp: the service registry.
  struct ServiceSpec {
    std::string id, name, type, webhook_url;
    std::vector<std::string> endpoints, allowed_names;
    bool auto_renew = false;
    bool has_name = false, has_type = false, has_webhook = false, has_auto_renew = false;  // update: what was given
  };
  void service_register(const ServiceSpec& spec);
  void service_update(const ServiceSpec& spec);
  void service_list();
  void service_show(const std::string& id);
  void service_link(const std::string& id, const std::string& ca, const std::string& serial);

  // task_commands.cpp: background work.
  void task_list(const std::string& ca);
  void ca_status(const std::string& ca);

 private:
  std::string find_ca_of(const std::string& serial);
  void issue_like(const std::string& path, const CertRequestOptions& o);
  void print_request(const nlohmann::json& request);
  void print_service(const nlohmann::json& service);
  void write_or_print(const std::string& content, const std::string& out_file);

  ApiClient& client_;
  OutputFormat format_;
  std::ostream& out_;
};

}  // namespace cairn::cli
