// connections_within_descriptor_limit — how many connections a listener may
// keep open: raises the process's soft open-file limit towards `wanted`
// plus a reserve for everything else (RocksDB files, key files, the other
// listener's connections), within the hard limit, and returns `wanted`
// lowered to what the limit then leaves (at least 16).
// Thread-safety: call while starting up (it changes a process-wide limit).
// Ownership: none.
#pragma once

#include <cstddef>

namespace cairn::api {

size_t connections_within_descriptor_limit(size_t wanted);

}  // namespace cairn::api
