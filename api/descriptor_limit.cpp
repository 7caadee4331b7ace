#include "api/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace cairn::api {
namespace {

constexpr size_t kReservedDescriptors = 1024;

}  // namespace

size_t connections_within_descriptor_limit(size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return wanted;
  rlim_t needed = static_cast<rlim_t>(wanted + kReservedDescriptors);
  if (limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  size_t available = limit.rlim_cur > kReservedDescriptors + 16 ? limit.rlim_cur - kReservedDescriptors : 16;
  return std::min(wanted, available);
}

}  // namespace cairn::api
