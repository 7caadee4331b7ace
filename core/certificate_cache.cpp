#include "core/certificate_cache.h"

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/encoding.h"

namespace cairn {
namespace {

constexpr size_t kMaxCached = 256;

struct Cache {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const X509>> by_der;
};

Cache& cache() {
  static Cache instance;
  return instance;
}

}  // namespace

std::shared_ptr<const X509> shared_certificate(std::string_view der) {
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    auto it = c.by_der.find(std::string(der));
    if (it != c.by_der.end()) return it->second;
  }
  std::shared_ptr<const X509> parsed(parse_certificate(der).release(), X509_free);
  std::lock_guard lock(c.mutex);
  if (c.by_der.size() >= kMaxCached) c.by_der.clear();
  return c.by_der.emplace(std::string(der), std::move(parsed)).first->second;
}

}  // namespace cairn
