#include "libp2p/base/large_array.h"

#include <sys/mman.h>

namespace libp2p {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

void* AllocateLarge(size_t bytes, size_t alignment) {
  if (bytes >= kHugePage) {
    alignment = kHugePage;
    bytes = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  }
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  bytes = (bytes + alignment - 1) & ~(alignment - 1);
  void* p = std::aligned_alloc(alignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  if (bytes >= kHugePage) ::madvise(p, bytes, MADV_HUGEPAGE);  // Advice only: failure changes nothing.
  return p;
}

void FreeLarge(void* p) { std::free(p); }

}  // namespace libp2p
