#include "libp2p/base/live_bytes.h"

#include <cstdlib>
#include <new>

namespace {
size_t g_live_bytes = 0;
// Each block carries its size in a header this long (which keeps the block's alignment).
constexpr size_t kHeader = alignof(std::max_align_t);
}  // namespace

void* operator new(size_t n) {
  auto* p = static_cast<unsigned char*>(std::malloc(n + kHeader));
  if (p == nullptr) throw std::bad_alloc();
  *reinterpret_cast<size_t*>(p) = n;
  g_live_bytes += n;
  return p + kHeader;
}

void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  auto* block = static_cast<unsigned char*>(p) - kHeader;
  g_live_bytes -= *reinterpret_cast<size_t*>(block);
  std::free(block);
}

void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace libp2p::testing {

size_t LiveBytes() { return g_live_bytes; }

}  // namespace libp2p::testing
