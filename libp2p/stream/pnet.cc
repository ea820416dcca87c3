#include "libp2p/stream/pnet.h"

#include <openssl/mem.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "libp2p/base/bytes.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/xsalsa20.h"
#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {
namespace {

constexpr std::string_view kBase16Line = "/base16/";
constexpr std::string_view kBase64Line = "/base64/";
constexpr std::string_view kBinLine = "/bin/";
// 32 bytes in padded base64: ten 4-character groups for 30 bytes, then two bytes as "XYZ=".
constexpr size_t kBase64KeyLength = 44;

Status KeyError(std::string what) { return InvalidArgumentError("swarm key file: " + std::move(what)); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimTrailingSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the next line off `*rest`: the text up to "\n" or "\r\n" (not included). False when there is no
// "\n" left.
bool NextLine(std::string_view* rest, std::string_view* line) {
  const size_t end = rest->find('\n');
  if (end == std::string_view::npos) return false;
  *line = rest->substr(0, end);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  rest->remove_prefix(end + 1);
  return true;
}

// The digit decoders below handle key material: they compute with masks rather than branch on or index a
// table by a character, so that their timing and memory accesses do not depend on the key. Each returns
// the digit's value, or -1 for a character outside the alphabet.

// All ones (-1) when lo <= c <= hi, else 0: the sign of (c - lo) | (hi - c), spread by the arithmetic shift.
int InRange(int c, int lo, int hi) { return (((c - lo) | (hi - c)) >> 31) ^ -1; }

int HexDigit(uint8_t byte) {
  const int c = byte;
  const int digit = InRange(c, '0', '9');
  const int lower = InRange(c, 'a', 'f');
  const int upper = InRange(c, 'A', 'F');
  const int value = (digit & (c - '0')) | (lower & (c - 'a' + 10)) | (upper & (c - 'A' + 10));
  return value | ~(digit | lower | upper);
}

int Base64Digit(uint8_t byte) {
  const int c = byte;
  const int upper = InRange(c, 'A', 'Z');
  const int lower = InRange(c, 'a', 'z');
  const int digit = InRange(c, '0', '9');
  const int plus = InRange(c, '+', '+');
  const int slash = InRange(c, '/', '/');
  const int value = (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) | (plus & 62) |
                    (slash & 63);
  return value | ~(upper | lower | digit | plus | slash);
}

// Lower-case hex digit of a nibble, without a table.
char HexChar(int nibble) {
  // 'a' - '0' - 10 = 39 more for the letters, which begin where nibble - 10 turns non-negative.
  return static_cast<char>('0' + nibble + (InRange(nibble, 10, 15) & 39));
}

StatusOr<SwarmKey> ParseBase16(std::string_view text) {
  text = TrimTrailingSpace(text);
  if (text.size() != 2 * SwarmKey::kSize) {
    return KeyError("the /base16/ key has " + std::to_string(text.size()) + " characters, expected " +
                    std::to_string(2 * SwarmKey::kSize) + " hex digits");
  }
  SwarmKey key;
  int invalid = 0;
  for (size_t i = 0; i < SwarmKey::kSize; ++i) {
    const int hi = HexDigit(static_cast<uint8_t>(text[2 * i]));
    const int lo = HexDigit(static_cast<uint8_t>(text[2 * i + 1]));
    invalid |= hi | lo;
    key.key[i] = static_cast<uint8_t>((hi & 15) << 4 | (lo & 15));
  }
  if (invalid < 0) {
    OPENSSL_cleanse(key.key.data(), key.key.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (HexDigit(static_cast<uint8_t>(text[i])) < 0) {
        return KeyError("the /base16/ key has a character that is not a hex digit at position " + std::to_string(i));
      }
    }
  }
  return key;
}

StatusOr<SwarmKey> ParseBase64(std::string_view text) {
  text = TrimTrailingSpace(text);
  // As go-libp2p's decoder does, line breaks inside the text are skipped. Gathered into a fixed buffer: no
  // allocation, and a text of any length is refused after kBase64KeyLength characters.
  char chars[kBase64KeyLength];
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') continue;
    if (n == kBase64KeyLength) {
      OPENSSL_cleanse(chars, sizeof(chars));
      return KeyError("the /base64/ key is longer than " + std::to_string(kBase64KeyLength) + " characters");
    }
    chars[n++] = text[i];
  }
  if (n != kBase64KeyLength) {
    OPENSSL_cleanse(chars, sizeof(chars));
    return KeyError("the /base64/ key has " + std::to_string(n) + " characters, expected " +
                    std::to_string(kBase64KeyLength) + " (32 bytes, padded)");
  }
  SwarmKey key;
  int invalid = 0;
  uint32_t bits = 0;
  for (size_t i = 0; i < kBase64KeyLength - 1; ++i) {
    const int v = Base64Digit(static_cast<uint8_t>(chars[i]));
    invalid |= v;
    bits = bits << 6 | static_cast<uint32_t>(v & 63);
    if (i % 4 == 3) {
      key.key[i / 4 * 3] = static_cast<uint8_t>(bits >> 16);
      key.key[i / 4 * 3 + 1] = static_cast<uint8_t>(bits >> 8);
      key.key[i / 4 * 3 + 2] = static_cast<uint8_t>(bits);
      bits = 0;
    }
  }
  // The last group "XYZ=": 18 bits, of which the low 2 must be zero (the canonical encoding).
  key.key[30] = static_cast<uint8_t>(bits >> 10);
  key.key[31] = static_cast<uint8_t>(bits >> 2);
  const bool canonical = (bits & 3) == 0;
  OPENSSL_cleanse(&bits, sizeof(bits));
  Status error;
  if (invalid < 0) {
    for (size_t i = 0; i < kBase64KeyLength - 1; ++i) {
      if (Base64Digit(static_cast<uint8_t>(chars[i])) < 0) {
        error = KeyError("the /base64/ key has a character outside the standard base64 alphabet at position " +
                         std::to_string(i) + " (line breaks not counted)");
        break;
      }
    }
  } else if (chars[kBase64KeyLength - 1] != '=') {
    error = KeyError("the /base64/ key must end in one '=' of padding (32 bytes)");
  } else if (!canonical) {
    error = KeyError("the /base64/ key is not canonical base64 (the last digit's unused bits are not zero)");
  }
  OPENSSL_cleanse(chars, sizeof(chars));
  if (!error.ok()) {
    OPENSSL_cleanse(key.key.data(), key.key.size());
    return error;
  }
  return key;
}

StatusOr<SwarmKey> ParseBin(std::string_view rest) {
  if (rest.size() < SwarmKey::kSize) {
    return KeyError("the /bin/ key has " + std::to_string(rest.size()) + " bytes, expected 32");
  }
  if (!TrimTrailingSpace(rest.substr(SwarmKey::kSize)).empty()) {
    return KeyError("the /bin/ key is followed by more than whitespace (a key of 32 bytes expected)");
  }
  SwarmKey key;
  std::copy(rest.begin(), rest.begin() + SwarmKey::kSize, key.key.begin());
  return key;
}

// The protected connection: our nonce first, then everything we write XORed with our keystream; what the
// peer sends after its nonce XORed with its keystream.
//
// Every byte goes below as soon as it is written (encrypted into a buffer handed over whole with
// WriteOwned(), or in place when WriteOwned() is given one): nothing is held here, so the write side's
// buffering and back-pressure are the inner connection's.
class ProtectedConnection final : public PnetConnection, public StreamBase {
 public:
  ProtectedConnection(EventLoop* loop, std::unique_ptr<RawConnection> inner, const SwarmKey& key,
                      const std::array<uint8_t, kPnetNonceSize>& nonce)
      : StreamBase(loop), inner_(std::move(inner)), psk_(key.key), send_(psk_, nonce),
        fail_task_(loop->CreateTask([this] { DeliverError(failure_); })) {
    // Our nonce goes first, at once: the peer may wait for it before it sends its own (go's multistream
    // listener writes first, but nothing requires a peer to).
    if (Status s = inner_->Write(nonce); !s.ok()) {
      failure_ = UnavailableError("writing the private network nonce failed: " + s.message());
      fail_task_->Post();
    }
    inner_->SetHandlers(Stream::Handlers{
        [this](ByteSpan data) { OnInnerData(data); },
        [this] { OnInnerEof(); },
        [this](const Status& e) { DeliverError(e); },
        [this] { NotifyWritable(); }});
    inner_->PauseReading(want_pause());
  }

  ~ProtectedConnection() override { OPENSSL_cleanse(psk_.data(), psk_.size()); }

  const Multiaddr& local_addr() const override { return inner_->local_addr(); }
  const Multiaddr& remote_addr() const override { return inner_->remote_addr(); }
  bool simulation_null_cipher() const override { return inner_->simulation_null_cipher(); }
  bool received_any() const override { return peer_nonce_size_ > 0; }

  Status Write(ByteSpan data) override {
    RETURN_IF_ERROR(CheckWritable());
    if (data.empty()) return OkStatus();
    Bytes sealed(data.size());
    send_.Apply(data, sealed);
    return HandBelow(std::move(sealed));
  }

  // Encrypts the caller's buffer in place and hands it below: no copy.
  Status WriteOwned(Bytes data) override {
    RETURN_IF_ERROR(CheckWritable());
    if (data.empty()) return OkStatus();
    send_.Apply(data);
    return HandBelow(std::move(data));
  }

  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  bool write_blocked() const override { return inner_->write_blocked(); }

  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    inner_->CloseWrite();
  }

  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    fail_task_->Cancel();
    inner_->Reset();
  }

 protected:
  void OnReadPauseChanged() override { inner_->PauseReading(want_pause()); }

 private:
  Status CheckWritable() const {
    if (reset_) return FailedPreconditionError("write on a reset private network connection");
    if (!failure_.ok()) return failure_;
    if (write_closed_) return FailedPreconditionError("write after CloseWrite on a private network connection");
    if (dead()) return UnavailableError("private network connection failed");
    return OkStatus();
  }

  // Our keystream has advanced over the bytes whether or not the connection below takes them: after a
  // refusal nothing more may be sent (the peer would decrypt it with the wrong part of the keystream).
  Status HandBelow(Bytes sealed) {
    Status s = inner_->WriteOwned(std::move(sealed));
    if (!s.ok() && failure_.ok()) failure_ = s;
    return s;
  }

  void OnInnerData(ByteSpan data) {
    if (!receive_.has_value()) {
      const size_t take = std::min(data.size(), kPnetNonceSize - peer_nonce_size_);
      std::copy(data.begin(), data.begin() + take, peer_nonce_.begin() + peer_nonce_size_);
      peer_nonce_size_ += take;
      data = data.subspan(take);
      if (peer_nonce_size_ < kPnetNonceSize) return;
      receive_.emplace(psk_, peer_nonce_);
      // The key is in both ciphers now; this copy is not needed any more.
      OPENSSL_cleanse(psk_.data(), psk_.size());
    }
    if (data.empty()) return;
    // Decrypt into the reused buffer, taken out of its member while the reader runs: a nested delivery
    // (a reader that makes the connection below deliver again) then uses a buffer of its own.
    Bytes plain;
    plain.swap(plain_);
    plain.resize(data.size());
    receive_->Apply(data, plain);
    if (!DeliverData(plain)) return;  // The reader destroyed the connection.
    // Kept while large deliveries follow each other (a bulk transfer reuses it), freed after a small one:
    // an idle connection holds no read buffer.
    if (data.size() >= kKeepIdle && plain_.empty()) plain_.swap(plain);
  }

  void OnInnerEof() {
    if (receive_.has_value()) {
      DeliverEof();
      return;
    }
    failure_ = UnavailableError("connection closed before the private network nonce arrived");
    inner_->Reset();
    DeliverError(failure_);
  }

  static constexpr size_t kKeepIdle = 4096;

  std::unique_ptr<RawConnection> inner_;
  std::array<uint8_t, SwarmKey::kSize> psk_;  // Until the peer's nonce has arrived; then wiped.
  crypto::XSalsa20 send_;                     // Our nonce's keystream.
  std::optional<crypto::XSalsa20> receive_;   // The peer's, once its nonce has arrived.
  std::array<uint8_t, kPnetNonceSize> peer_nonce_{};
  size_t peer_nonce_size_ = 0;  // Bytes of peer_nonce_ received so far.
  Bytes plain_;                 // The decryption buffer, kept across large reads.
  Status failure_;              // Why the connection failed on our side (a write refused, a short nonce).
  bool write_closed_ = false;
  bool reset_ = false;
  std::unique_ptr<Task> fail_task_;  // Reports a failure found in the constructor, from the loop.
};

}  // namespace

StatusOr<SwarmKey> ParseSwarmKey(std::string_view file) {
  if (file.empty()) return KeyError("the file is empty");
  std::string_view rest = file;
  std::string_view header, encoding;
  if (!NextLine(&rest, &header)) {
    return KeyError("expected three lines (" + std::string(kSwarmKeyHeader) + ", the encoding, the key), found one");
  }
  if (header != kSwarmKeyHeader) return KeyError("the first line must be exactly " + std::string(kSwarmKeyHeader));
  if (!NextLine(&rest, &encoding)) {
    return KeyError("expected three lines (" + std::string(kSwarmKeyHeader) + ", the encoding, the key), found two");
  }
  if (encoding == kBase16Line) return ParseBase16(rest);
  if (encoding == kBase64Line) return ParseBase64(rest);
  if (encoding == kBinLine) return ParseBin(rest);
  return KeyError("unknown key encoding on the second line (" + std::to_string(encoding.size()) +
                  " characters); expected /base16/, /base64/ or /bin/");
}

StatusOr<SwarmKey> ReadSwarmKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("swarm key file " + path + " cannot be read");
  // Read no more than the limit and one byte.
  std::string bytes(kMaxSwarmKeyFileSize + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  StatusOr<SwarmKey> key = bytes.size() > kMaxSwarmKeyFileSize
                               ? StatusOr<SwarmKey>(KeyError("longer than " + std::to_string(kMaxSwarmKeyFileSize) +
                                                             " bytes, not a key file"))
                               : ParseSwarmKey(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!key.ok()) {
    // "swarm key file: what" becomes "swarm key file PATH: what".
    std::string what = key.status().message();
    const std::string_view prefix = "swarm key file: ";
    if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
    return InvalidArgumentError("swarm key file " + path + ": " + what);
  }
  return key;
}

std::string FormatSwarmKey(const SwarmKey& key) {
  std::string out;
  out.reserve(kSwarmKeyHeader.size() + 1 + kBase16Line.size() + 1 + 2 * SwarmKey::kSize);
  out.append(kSwarmKeyHeader);
  out.push_back('\n');
  out.append(kBase16Line);
  out.push_back('\n');
  for (uint8_t b : key.key) {
    out.push_back(HexChar(b >> 4));
    out.push_back(HexChar(b & 15));
  }
  return out;
}

SwarmKey GenerateSwarmKey() {
  SwarmKey key;
  RandomBytes(key.key);
  return key;
}

std::string SwarmKeyFingerprint(const SwarmKey& key) {
  return HexEncode(ByteSpan(crypto::Sha256(key.key)).first(4));
}

std::unique_ptr<PnetConnection> ProtectConnection(EventLoop* loop, std::unique_ptr<RawConnection> raw,
                                                  const SwarmKey& key) {
  std::array<uint8_t, kPnetNonceSize> nonce;
  RandomBytes(nonce);
  return std::make_unique<ProtectedConnection>(loop, std::move(raw), key, nonce);
}

}  // namespace libp2p::stream
