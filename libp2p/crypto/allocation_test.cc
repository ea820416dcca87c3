// Counts heap allocations of the parsers that run for every peer id and address a node sees: parsing a
// peer id (binary: none; text: at most one) and decoding a multiaddr (at most one).
#include <atomic>
#include <functional>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/peer_id.h"

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace libp2p::crypto {
namespace {

size_t CountAllocations(const std::function<void()>& f) {
  const size_t before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}

TEST(AllocationTest, PeerIdParsing) {
  const std::string text = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
  const PeerId id = *PeerId::FromString(text);
  const Bytes binary(id.bytes().begin(), id.bytes().end());
  EXPECT_EQ(CountAllocations([&] { ASSERT_TRUE(PeerId::FromBytes(binary).ok()); }), 0u);
  EXPECT_LE(CountAllocations([&] { ASSERT_TRUE(PeerId::FromString(text).ok()); }), 1u);
}

TEST(AllocationTest, MultiaddrDecoding) {
  const Multiaddr addr =
      *Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  const Bytes binary = addr.bytes();
  EXPECT_LE(CountAllocations([&] { ASSERT_TRUE(Multiaddr::FromBytes(binary).ok()); }), 1u);
}

}  // namespace
}  // namespace libp2p::crypto
