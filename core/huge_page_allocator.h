// HugePageAllocator — a std allocator for large arrays read at random (the
// certificate index's hash table and entries). Allocations of 2 MiB or more
// are 2 MiB-aligned and advised as transparent huge pages, so a lookup in a
// table of a million certificates costs one cache miss instead of a cache
// miss plus a TLB miss. Smaller ones come from malloc. Only pages touched
// count as resident, so the alignment costs address space, not memory.
// Thread-safety: stateless.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace cairn {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugePage) {
      p = std::aligned_alloc(kHugePage, (bytes + kHugePage - 1) / kHugePage * kHugePage);
      if (p) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: fine if refused
    } else {
      p = std::malloc(bytes);
    }
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace cairn
