#include "scheduler/metrics.h"

namespace cairn {
namespace {

const char* help_for(const std::string& name) {
  if (name == "cairn_tasks_total") return "Background tasks run, by kind and outcome.";
  if (name == "cairn_certificates_issued_total") return "Certificates issued (CertificateIssued events).";
  if (name == "cairn_certificates_revoked_total") return "Certificates revoked (CertificateRevoked events).";
  if (name == "cairn_http_errors_total") return "HTTP answers with a 4xx or 5xx status, by class.";
  return "cairn counter.";
}

std::string counter_header(const std::string& name, const std::string& help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
}

}  // namespace

void Metrics::add(const std::string& name, const std::string& labels, uint64_t n) {
  std::lock_guard lock(mutex_);
  counters_[name][labels] += n;
}

uint64_t Metrics::value(const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mutex_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto v = it->second.find(labels);
  return v == it->second.end() ? 0 : v->second;
}

std::string Metrics::render_counter(const std::string& name, const std::string& help, uint64_t value) {
  return counter_header(name, help) + name + " " + std::to_string(value) + "\n";
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const char* always : {"cairn_certificates_issued_total", "cairn_certificates_revoked_total"})
    if (!counters_.count(always)) out += std::string("# TYPE ") + always + " counter\n" + always + " 0\n";
  for (const auto& [name, series] : counters_) {
    out += counter_header(name, help_for(name));
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
  }
  return out;
}

}  // namespace cairn
