// Plays arbitrary bytes as what a peer sends to a protected connection, over an in-memory connection, in
// pieces whose size the first input byte chooses (the rest is the wire). Invariants: nothing crashes; a
// wire shorter than the nonce ends in the "nonce" error and delivers nothing; a longer one delivers exactly
// its bytes after the nonce, decrypted, which the keystream of (key, the first 24 wire bytes) turns back
// into the wire; and the connection itself wrote its nonce first.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/crypto/xsalsa20.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/pnet.h"

using namespace libp2p;
using namespace libp2p::stream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const ByteSpan wire(data + 1, size - 1);
  ManualEventLoop loop;
  MemoryNetwork network(&loop);
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> ours, theirs;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { ours = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { theirs = std::move(c).value(); });
  loop.RunUntilIdle();
  if (ours == nullptr || theirs == nullptr) abort();
  SwarmKey key;
  for (size_t i = 0; i < key.key.size(); ++i) key.key[i] = static_cast<uint8_t>(3 * i + 1);
  std::unique_ptr<RawConnection> protected_conn = ProtectConnection(&loop, std::move(ours), key);

  Bytes received, peer_saw;
  bool eof = false, failed = false;
  Status error;
  protected_conn->SetHandlers(Stream::Handlers{
      [&](ByteSpan b) { received.insert(received.end(), b.begin(), b.end()); },
      [&] { eof = true; },
      [&](const Status& e) {
        failed = true;
        error = e;
      },
      {}});
  theirs->SetHandlers(Stream::Handlers{[&](ByteSpan b) { peer_saw.insert(peer_saw.end(), b.begin(), b.end()); }});
  for (size_t at = 0; at < wire.size(); at += piece) {
    if (!theirs->Write(wire.subspan(at, std::min(piece, wire.size() - at))).ok()) abort();
    loop.RunUntilIdle();
  }
  theirs->CloseWrite();
  loop.RunUntilIdle();

  if (peer_saw.size() != kPnetNonceSize) abort();
  if (wire.size() < kPnetNonceSize) {
    if (!failed || eof || !received.empty() || error.code() != StatusCode::kUnavailable) abort();
    return 0;
  }
  if (failed || !eof || received.size() != wire.size() - kPnetNonceSize) abort();
  crypto::XSalsa20 cipher(key.key, wire.first<kPnetNonceSize>());
  cipher.Apply(received);
  if (!std::equal(received.begin(), received.end(), wire.begin() + kPnetNonceSize, wire.end())) abort();
  return 0;
}
