#include "cli/commands.h"
#include "cli/response_helpers.h"

#include "core/encoding.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace cairn::cli {
namespace {

using nlohmann::json;

void print_ca(std::ostream& out, const json& ca) {
  print_fields(out, {{"handle", str(ca, "handle")},
                     {"kind", str(ca, "kind")},
                     {"status", str(ca, "status")},
                     {"subject", str(ca, "subject")},
                     {"parent", str(ca, "parent")},
                     {"algorithm", str(ca, "algorithm")},
                     {"key id", str(ca, "key_id")},
                     {"not before", str(ca, "not_before")},
                     {"not after", str(ca, "not_after")},
                     {"children", join(ca["children"])},
                     {"issued", str(ca, "issued_count")},
                     {"revoked", str(ca, "revoked_count")},
                     {"key generation", str(ca, "key_generation")},
                     {"key roll", str(ca, "key_roll")},
                     {"retiring keys", join(ca["retiring_generations"])},
                     {"version", str(ca, "version")}});
}

void print_certificate(std::ostream& out, const json& c) {
  print_fields(out, {{"serial", str(c, "serial")},
                     {"ca", str(c, "ca")},
                     {"subject", str(c, "subject")},
                     {"names", c.contains("sans") ? sans_text(c["sans"]) : ""},
                     {"profile", str(c, "profile")},
                     {"status", str(c, "status")},
                     {"not before", str(c, "not_before")},
                     {"not after", str(c, "not_after")},
                     {"issued at", str(c, "issued_at")},
                     {"replaces", str(c, "replaces")},
                     {"replaced by", str(c, "replaced_by")},
                     {"child CA", str(c, "child_ca")},
                     {"revoked at", str(c, "revoked_at")},
                     {"reason", str(c, "revocation_reason")}});
}

}  // namespace

void Commands::write_or_print(const std::string& content, const std::string& out_file) {
  if (out_file.empty() || out_file == "-")
    out_ << content;
  else
    write_file(out_file, content, false);
}

std::string Commands::find_ca_of(const std::string& serial) {
  auto j = parse(client_.get("/api/v1/certificates/" + seg(serial)).body);
  return j.at("ca").get<std::string>();
}

void Commands::ca_create(const CaCreateOptions& o) {
  json body = {{"handle", o.handle}, {"subject", o.subject}, {"key", o.key}};
  if (!o.parent.empty()) body["parent"] = o.parent;
  if (o.validity_days) body["validity_days"] = o.validity_days;
  if (!o.parent_url.empty() || !o.parent_token_file.empty()) {
    if (o.parent_url.empty() || o.parent_token_file.empty() || o.parent.empty())
      throw CliError("usage", "a remote parent needs --parent, --parent-url and --parent-token-file", 2);
    std::string token = read_file(o.parent_token_file);
    token = token.substr(0, token.find_first_of("\r\n"));
    body["parent_url"] = o.parent_url;
    body["parent_token"] = token;
  }
  auto res = client_.post_json("/api/v1/cas", body.dump());
  if (format_ == OutputFormat::Json) return void(out_ << parse(res.body).dump(2) << '\n');
  print_ca(out_, parse(res.body));
}

void Commands::child_add(const std::string& parent, const std::string& child) {
  auto res = client_.post_json("/api/v1/cas/" + seg(parent) + "/children", json{{"child", child}}.dump());
  auto j = parse(res.body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  out_ << "Child '" << str(j, "child") << "' registered under '" << str(j, "parent")
       << "'. Its token (shown only now; give it to the child's server, e.g. in a file for\n"
       << "`cairn ca create " << str(j, "child") << " --parent " << str(j, "parent")
       << " --parent-url URL --parent-token-file FILE`):\n  " << str(j, "token") << '\n';
}

void Commands::keyroll(const std::string& ca, const std::string& step) {
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(ca) + "/keyroll/" + step, "{}").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_ca(out_, j);
  if (step == "init")
    out_ << "\nThe new key waits for its certificate from the parent (cairn task list); then run\n"
         << "`cairn keyroll activate " << ca << "` once relying parties can see it.\n";
}

void Commands::ca_list() {
  auto j = parse(client_.get("/api/v1/cas").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& ca : j["cas"])
    rows.push_back({str(ca, "handle"), str(ca, "kind"), str(ca, "status"), str(ca, "subject"),
                    str(ca, "parent"), str(ca, "not_after"), str(ca, "issued_count"),
                    str(ca, "revoked_count")});
  print_table(out_, {"HANDLE", "KIND", "STATUS", "SUBJECT", "PARENT", "NOT AFTER", "ISSUED", "REVOKED"}, rows);
}

void Commands::ca_show(const std::string& handle) {
  auto j = parse(client_.get("/api/v1/cas/" + seg(handle)).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_ca(out_, j);
}

void Commands::ca_chain(const std::string& handle, const std::string& out_file) {
  write_or_print(client_.get("/api/v1/cas/" + seg(handle) + "/chain").body, out_file);
}

void Commands::ca_certify(const std::string& handle) {
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(handle) + "/certify", "{}").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_ca(out_, j);
}

void Commands::issue_like(const std::string& path, const CertRequestOptions& o) {
  if (!o.csr_file.empty() && !o.key_type.empty())
    throw CliError("conflicting_options", "give either --csr or --key-type, not both", 2);
  if (!o.key_type.empty() && o.key_out.empty() && format_ != OutputFormat::Json)
    throw CliError("missing_option",
                   "--key-type needs --key-out FILE: the private key is returned once and never stored", 2);
  if (!o.key_out.empty() && std::filesystem::exists(o.key_out))
    throw CliError("file_exists", o.key_out + " already exists; a key file is never overwritten", 2);
  json body = json::object();
  if (!o.csr_file.empty()) {
    std::string csr = read_file(o.csr_file);
    // DER cannot travel in JSON: send it as PEM.
    body["csr"] = csr.find("-----BEGIN") == std::string::npos ? csr_pem(csr) : csr;
  }
  if (!o.key_type.empty()) body["key_type"] = o.key_type;
  if (o.keep_key) body["keep_key"] = true;
  if (!o.subject.empty()) body["subject"] = o.subject;
  if (!o.profile.empty()) body["profile"] = o.profile;
  if (o.validity_days) body["validity_days"] = o.validity_days;
  if (!o.dns.empty() || !o.ip.empty() || !o.email.empty() || !o.uri.empty())
    body["sans"] = {{"dns", o.dns}, {"ip", o.ip}, {"email", o.email}, {"uri", o.uri}};
  auto j = parse(client_.post_json(path, body.dump()).body);
  if (j.contains("request")) {  // the profile needs approval: nothing issued yet
    if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
    print_request(j["request"]);
    out_ << "The request waits for an operator's approval; poll it with `cairn request show "
         << str(j["request"], "ca") << " " << str(j["request"], "id") << "`.\n";
    return;
  }
  const auto& cert = j.at("certificate");
  if (!o.key_out.empty() && j.contains("private_key_pem"))
    write_file(o.key_out, j["private_key_pem"].get<std::string>(), true);
  if (!o.out.empty()) write_file(o.out, cert.at("certificate_pem").get<std::string>(), false);
  if (!o.chain_out.empty()) write_file(o.chain_out, j.at("chain_pem").get<std::string>(), false);
  if (format_ == OutputFormat::Json) {
    if (!o.key_out.empty()) j.erase("private_key_pem");  // it went to the key file only
    return void(out_ << j.dump(2) << '\n');
  }
  print_certificate(out_, cert);
  if (o.out.empty()) out_ << cert.at("certificate_pem").get<std::string>();
}

void Commands::cert_issue(const CertRequestOptions& o) {
  issue_like("/api/v1/cas/" + seg(o.ca) + "/certificates", o);
}

void Commands::cert_renew(const CertRequestOptions& o) {
  std::string ca = o.ca.empty() ? find_ca_of(o.serial) : o.ca;
  issue_like("/api/v1/cas/" + seg(ca) + "/certificates/" + seg(o.serial) + "/renew", o);
}

void Commands::cert_list(const std::string& ca, const std::string& status, const std::string& profile) {
  std::string path = "/api/v1/cas/" + seg(ca) + "/certificates";
  std::string query;
  if (!status.empty()) query += "status=" + seg(status);
  if (!profile.empty()) query += (query.empty() ? "" : "&") + std::string("profile=") + seg(profile);
  auto j = parse(client_.get(query.empty() ? path : path + "?" + query).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : j["certificates"])
    rows.push_back({str(c, "serial"), str(c, "subject"), str(c, "profile"), str(c, "status"),
                    str(c, "not_after"), str(c, "replaces")});
  print_table(out_, {"SERIAL", "SUBJECT", "PROFILE", "STATUS", "NOT AFTER", "REPLACES"}, rows);
}

void Commands::cert_show(const std::string& ca, const std::string& serial) {
  std::string path = ca.empty() ? "/api/v1/certificates/" + seg(serial)
                                : "/api/v1/cas/" + seg(ca) + "/certificates/" + seg(serial);
  auto j = parse(client_.get(path).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_certificate(out_, j);
}

void Commands::cert_download(const std::string& ca, const std::string& serial, const std::string& kind,
                             const std::string& out_file) {
  std::string owner = ca.empty() ? find_ca_of(serial) : ca;
  auto res = client_.get("/api/v1/cas/" + seg(owner) + "/certificates/" + seg(serial) + "/download?format=" + seg(kind));
  write_or_print(res.body, out_file);
}

void Commands::cert_revoke(const std::string& ca, const std::string& serial, const std::string& reason) {
  std::string owner = ca.empty() ? find_ca_of(serial) : ca;
  json body = {{"reason", reason.empty() ? "unspecified" : reason}};
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(owner) + "/certificates/" + seg(serial) + "/revoke", body.dump()).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_certificate(out_, j);
}

void Commands::cert_revoke_many(const std::string& ca, const std::vector<std::string>& serials,
                                const std::string& file, const std::string& reason) {
  std::vector<std::string> all = serials;
  if (!file.empty()) {
    std::istringstream lines(file == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(file));
    for (std::string line; std::getline(lines, line);) {
      line.erase(0, line.find_first_not_of(" \t\r"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (!line.empty() && line[0] != '#') all.push_back(line);
    }
  }
  if (all.empty()) throw CliError("missing_serials", "give serial numbers as arguments or with --file", 2);
  json body = {{"serials", all}, {"reason", reason.empty() ? "unspecified" : reason}};
  auto j = parse(client_.post_json("/api/v1/cas/" + seg(ca) + "/revocations", body.dump()).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_fields(out_, {{"ca", ca}, {"revoked", std::to_string(j.value("revoked", 0))}});
}

void Commands::crl_get(const std::string& ca, bool der, const std::string& out_file) {
  auto res = client_.get("/api/v1/cas/" + seg(ca) + "/crl?format=" + (der ? "der" : "pem"));
  write_or_print(res.body, out_file);
}

void Commands::history_list(const std::string& ca, const std::string& since, const std::string& until,
                            uint64_t offset, uint64_t rows) {
  std::string query = "?offset=" + std::to_string(offset) + "&rows=" + std::to_string(rows);
  if (!since.empty()) query += "&since=" + seg(since);
  if (!until.empty()) query += "&until=" + seg(until);
  auto j = parse(client_.get("/api/v1/cas/" + seg(ca) + "/history/commands" + query).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> table;
  for (const auto& c : j["commands"]) {
    std::string versions;
    for (const auto& v : c["event_versions"]) versions += (versions.empty() ? "" : ",") + v.dump();
    std::string outcome = str(c, "outcome");
    if (outcome != "ok") outcome += " (" + str(c, "error_code") + ")";
    table.push_back({str(c, "seq"), str(c, "time"), str(c, "actor"), str(c, "summary"), outcome, versions});
  }
  print_table(out_, {"SEQ", "TIME", "ACTOR", "SUMMARY", "OUTCOME", "EVENTS"}, table);
  out_ << str(j, "total") << " commands match\n";
}

void Commands::history_show(const std::string& ca, uint64_t seq) {
  auto j = parse(client_.get("/api/v1/cas/" + seg(ca) + "/history/commands/" + std::to_string(seq)).body);
  out_ << j.dump(2) << '\n';  // already the readable form, in both formats
}

void Commands::audit_checkpoint(const std::string& out_file) {
  auto res = client_.post_json("/api/v1/audit/checkpoints", "{}");
  write_or_print(res.body, out_file);
  if (!out_file.empty() && out_file != "-") {
    auto j = parse(res.body);
    out_ << "checkpoint of " << j["heads"].size() << " aggregates at " << str(j, "created_at") << " written to "
         << out_file << "\n";
  }
}

void Commands::token_create(const TokenSpec& spec) {
  json body{{"name", spec.name}, {"role", spec.role}};
  if (!spec.cas.empty()) body["cas"] = spec.cas;
  if (!spec.names.empty()) body["names"] = spec.names;
  if (!spec.profiles.empty()) body["profiles"] = spec.profiles;
  if (spec.rate_per_hour > 0) body["rate_per_hour"] = spec.rate_per_hour;
  auto j = parse(client_.post_json("/api/v1/tokens", body.dump()).body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::pair<std::string, std::string>> fields{
      {"id", str(j, "id")}, {"name", str(j, "name")}, {"role", str(j, "role")}};
  if (!spec.cas.empty()) fields.emplace_back("cas", join(j.value("cas", json::array())));
  if (!spec.names.empty()) fields.emplace_back("names", join(j.value("names", json::array())));
  if (!spec.profiles.empty()) fields.emplace_back("profiles", join(j.value("profiles", json::array())));
  if (spec.rate_per_hour > 0) fields.emplace_back("rate_per_hour", str(j, "rate_per_hour"));
  fields.emplace_back("token", str(j, "token"));
  print_fields(out_, fields);
  out_ << "The token is shown only now; cairn keeps only its hash.\n";
}

void Commands::token_list() {
  auto j = parse(client_.get("/api/v1/tokens").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : j["tokens"])
    rows.push_back({str(t, "id"), str(t, "name"), str(t, "role"), join(t.value("cas", json::array())), join(t.value("names", json::array())),
                    str(t, "created_by"), str(t, "created_at"),
                    t.value("revoked", false) ? "revoked" : "active"});
  print_table(out_, {"ID", "NAME", "ROLE", "CAS", "NAMES", "CREATED BY", "CREATED", "STATUS"}, rows);
}

void Commands::token_revoke(const std::string& id) {
  auto j = parse(client_.post_json("/api/v1/tokens/" + seg(id) + "/revoke", "{}").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  print_fields(out_, {{"id", str(j, "id")}, {"name", str(j, "name")}, {"status", "revoked"}});
}

void Commands::profile_list() {
  auto j = parse(client_.get("/api/v1/profiles").body);
  if (format_ == OutputFormat::Json) return void(out_ << j.dump(2) << '\n');
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : j["profiles"])
    rows.push_back({str(p, "name"), str(p, "extended_key_usage"), str(p, "default_validity_days"),
                    str(p, "max_validity_days"), str(p, "description")});
  print_table(out_, {"NAME", "EKU", "DEFAULT DAYS", "MAX DAYS", "DESCRIPTION"}, rows);
}

}  // namespace cairn::cli
