// Metrics — process-wide counters for the /metrics endpoint (Prometheus
// text format 0.0.4): background tasks by kind and outcome, certificates
// issued and revoked, HTTP error answers. Counters start at 0 with each
// process, as Prometheus expects.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace cairn {

class Metrics {
 public:
  // `labels`: e.g. R"(kind="sync-repo")", or "" for none.
  void add(const std::string& name, const std::string& labels = "", uint64_t n = 1);
  uint64_t value(const std::string& name, const std::string& labels = "") const;
  std::string render() const;
  // One counter kept elsewhere (e.g. the event store's), in the same format.
  static std::string render_counter(const std::string& name, const std::string& help, uint64_t value);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, uint64_t>> counters_;
};

}  // namespace cairn
