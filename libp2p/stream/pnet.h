// libp2p private networks (libp2p/specs pnet/Private-Networks-PSK-V1.md): every connection of a node that
// belongs to a private network is XORed with XSalsa20 keystreams under the network's pre-shared key, below
// multistream-select and the security handshake, so that nodes without the key cannot even negotiate.
//
// Wire format: each side sends a random 24-byte nonce as its first bytes, without waiting for the other's;
// every later byte it sends is XORed with the XSalsa20 keystream of (key, its own nonce), from block 0 on and
// continuing across writes. What it receives after the peer's 24 nonce bytes is XORed with the keystream
// of (key, the peer's nonce). There is no handshake message and no authentication: a peer with another key
// is not told so, its bytes merely decrypt to garbage and the protocol above (multistream-select) fails.
// The security layer above (Noise) still provides integrity and peer authentication.
#ifndef LIBP2P_STREAM_PNET_H_
#define LIBP2P_STREAM_PNET_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/transport.h"

namespace libp2p::stream {

// The first line of a key file (the path multicodec of PSK v1).
inline constexpr std::string_view kSwarmKeyHeader = "/key/swarm/psk/1.0.0/";
// Bytes of the nonce each side sends first.
inline constexpr size_t kPnetNonceSize = 24;

// A private network's pre-shared key: 32 secret bytes. Plain data; whoever holds a copy holds the network.
struct SwarmKey {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> key{};
};

// Parses a key file ("swarm.key"): three lines, the header kSwarmKeyHeader, an encoding line ("/base16/",
// "/base64/" or "/bin/") and the 32-byte key in that encoding, as go-libp2p reads them:
// - a line ends in "\n" or "\r\n";
// - /base16/: 64 hex digits of either case;
// - /base64/: the standard alphabet with '=' padding (44 characters); line breaks inside are skipped;
// - /bin/: the 32 bytes right after the encoding line's end.
// After the key, only whitespace (spaces, tabs, CR, LF) may follow. Stricter than go-libp2p, which ignores
// anything after the key, and than js-libp2p, which checks neither of the first two lines (and reads only
// base16). Fails with kInvalidArgument, with a message that names what is wrong (the header, the encoding,
// a bad character's position, the key's length) without quoting the file's content: it may hold the key.
StatusOr<SwarmKey> ParseSwarmKey(std::string_view file);

// The longest key file ReadSwarmKeyFile() reads: far more than any key file of the three encodings needs.
inline constexpr size_t kMaxSwarmKeyFileSize = 4096;

// Reads and parses the key file at `path`. Fails with kNotFound when it cannot be read, and with
// kInvalidArgument ("swarm key file PATH: ...") when it is longer than kMaxSwarmKeyFileSize or does not
// parse (see ParseSwarmKey). The bytes read are wiped before it returns.
StatusOr<SwarmKey> ReadSwarmKeyFile(const std::string& path);

// The key file in its usual form: kSwarmKeyHeader, "/base16/" and 64 lower-case hex digits, on three lines
// joined by "\n", without a final newline (95 bytes, as js-libp2p's generateKey writes it; go-libp2p and
// js-libp2p both read it).
std::string FormatSwarmKey(const SwarmKey& key);

// A fresh key from RandomBytes (libp2p/base/random.h).
SwarmKey GenerateSwarmKey();

// A short, non-secret name for a key, for logs: the first 8 hex digits of the SHA-256 of its 32 bytes.
// Our own convention: it does not match the "fingerprint" of go-libp2p-pnet (which Kubo printed) or
// rust-libp2p's pnet, which use a Salsa20 and SHAKE-128 construction.
std::string SwarmKeyFingerprint(const SwarmKey& key);

// A raw connection protected with a private network's key (ProtectConnection).
class PnetConnection : public RawConnection {
 public:
  // Whether any byte has arrived from the peer. A peer in a private network sends its nonce first, and any
  // other peer its protocol's first bytes: a connection that ends without any was refused or cut, not spoken
  // to with another key.
  virtual bool received_any() const = 0;
};

// Wraps a new raw connection (before anything else has been read from or written to it) in the private
// network's protection, and returns the protected connection, which owns `raw`. `loop` is an observer that
// must outlive it; `key` is copied.
//
// The returned connection writes our nonce (kPnetNonceSize bytes from RandomBytes, so a simulation under a
// ScopedDeterministicRandom stays deterministic) to `raw` at once, then encrypts every Write() and hands
// the result below (WriteOwned()). Reads wait for the peer's nonce, which may arrive in any number of
// pieces; then every byte is decrypted and delivered with the usual Stream semantics (pausing, Unread(),
// end of stream, errors, callbacks that destroy the stream). There is no timeout of its own: a peer that
// never sends its nonce is caught by the handshake timeout of the layer above. An end of stream before the
// whole nonce fails the connection with kUnavailable ("connection closed before the private network nonce
// arrived") and resets `raw`. buffered_bytes(), write_blocked(), CloseWrite(), Reset(), the addresses and
// simulation_null_cipher() are those of `raw` (a simulated network's null cipher concerns Noise only; this
// encryption stays real).
std::unique_ptr<PnetConnection> ProtectConnection(EventLoop* loop, std::unique_ptr<RawConnection> raw,
                                                  const SwarmKey& key);

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_PNET_H_
