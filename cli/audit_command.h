// `cairn audit ...`: the auditor's offline tools. They open a data
// directory's RocksDB read-only (safe while the server runs) and never write:
//   verify     — checks history, signatures, snapshots, CRLs, checkpoints;
//   replay     — the state of one CA at a version or a time;
//   export     — every command and event as JSON lines.
// `cairn audit checkpoint` is a client command (the server signs).
// Thread-safety: called once from main.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cairn::cli {

struct AuditFlags {
  std::string data_dir = "./cairn-data";
  std::string ca;
  std::vector<std::string> checkpoint_files;
  uint64_t version = 0;
  std::string at;
  std::string out;
  bool json = false;
};

int audit_verify(const AuditFlags& flags, std::ostream& out);
int audit_replay(const AuditFlags& flags, std::ostream& out);
int audit_export(const AuditFlags& flags, std::ostream& out);

}  // namespace cairn::cli
