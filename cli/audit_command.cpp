#include "cli/audit_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/api_client.h"
#include "cli/output.h"
#include "core/x509_time.h"
#include "eventstore/rocksdb_kv_store.h"
#include "objects/ca_auditor.h"

namespace cairn::cli {
namespace {

std::unique_ptr<RocksDbKvStore> open_store(const std::string& data_dir) {
  std::string db = data_dir + "/db";
  if (!std::filesystem::exists(db + "/CURRENT"))
    throw CliError("no_data_dir", "no cairn database in " + data_dir + " (expected " + db + ")", 2);
  try {
    return RocksDbKvStore::open_read_only(db);
  } catch (const Error& e) {
    throw CliError(e.code(), e.what(), 2);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("file_unreadable", "cannot read " + path, 2);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class F>
auto domain(F&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    throw CliError(e.code(), e.what(), 1);
  }
}

}  // namespace

int audit_verify(const AuditFlags& flags, std::ostream& out) {
  auto kv = open_store(flags.data_dir);
  AuditOptions options;
  options.only_ca = flags.ca;
  for (const auto& file : flags.checkpoint_files)
    options.checkpoints.push_back(domain([&] { return Checkpoint::from_json(read_file(file)); }));
  AuditReport r = domain([&] { return audit(*kv, options); });
  if (flags.json) {
    nlohmann::json j = {{"ok", !r.problem},        {"cas", r.cas},
                        {"events", r.events},      {"commands", r.commands},
                        {"certificates", r.certificates}, {"crls", r.crls},
                        {"snapshots", r.snapshots}, {"outdated_snapshots", r.outdated_snapshots}, {"checkpoints", r.checkpoints}};
    if (r.problem) j["problem"] = *r.problem;
    out << j.dump(2) << '\n';
  } else if (r.problem) {
    std::cerr << "audit FAILED: " << *r.problem << '\n';
  } else {
    out << "audit OK: " << r.cas << " CAs, " << r.events << " events, " << r.commands << " commands, "
        << r.certificates << " certificate signatures, " << r.crls << " CRLs, " << r.snapshots << " snapshots, "
        << r.checkpoints << " checkpoints verified";
    if (r.outdated_snapshots)
      out << " (" << r.outdated_snapshots << " snapshots of an earlier format: replaced on the next change)";
    out << '\n';
  }
  return r.problem ? 1 : 0;
}

int audit_replay(const AuditFlags& flags, std::ostream& out) {
  if (flags.ca.empty()) throw CliError("missing_option", "--ca is required", 2);
  if (flags.version && !flags.at.empty()) throw CliError("conflicting_options", "give --version or --at, not both", 2);
  auto kv = open_store(flags.data_dir);
  int64_t at_ms = flags.at.empty() ? 0 : domain([&] { return parse_iso8601(flags.at); });
  uint64_t version = flags.version;
  if (at_ms) {
    version = domain([&] { return version_at(*kv, flags.ca, at_ms); });
    if (version == 0) throw CliError("no_history", "CA '" + flags.ca + "' did not exist at " + flags.at, 1);
  }
  CertAuth state = domain([&] { return replay_ca(*kv, flags.ca, version); });
  uint64_t head = AggregateLog(*kv, CertAuth::kType).head(flags.ca).version;
  if (version > head) throw CliError("no_such_version", "CA '" + flags.ca + "' has only " + std::to_string(head) + " events", 1);
  int64_t status_time = at_ms ? at_ms : SystemClock().now_ms();
  auto j = nlohmann::json::parse(state.state_json(status_time));
  j["version"] = version ? version : head;
  if (flags.json) {
    out << j.dump(2) << '\n';
    return 0;
  }
  print_fields(out, {{"handle", j["handle"]}, {"version", j["version"].dump()}, {"kind", j["kind"]},
                     {"status", j["status"]}, {"subject", j["subject"]}, {"parent", j["parent"]},
                     {"key id", j["key_id"]}, {"not after", j["not_after"]}});
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : j["certificates"])
    rows.push_back({c["serial"], c["subject"], c["profile"], c["status"], c["not_after"], c["revoked_at"]});
  out << '\n';
  print_table(out, {"SERIAL", "SUBJECT", "PROFILE", "STATUS", "NOT AFTER", "REVOKED AT"}, rows);
  return 0;
}

int audit_export(const AuditFlags& flags, std::ostream& out) {
  auto kv = open_store(flags.data_dir);
  if (flags.out.empty() || flags.out == "-") {
    domain([&] { export_history(*kv, flags.ca, out); return 0; });
    return 0;
  }
  std::ofstream file(flags.out);
  if (!file) throw CliError("file_unwritable", "cannot write " + flags.out, 2);
  domain([&] { export_history(*kv, flags.ca, file); return 0; });
  return 0;
}

}  // namespace cairn::cli
