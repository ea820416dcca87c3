#include "libp2p/stream/noise.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libp2p/base/proto_wire.h"
#include "libp2p/base/random.h"
#include "libp2p/base/spliced_bytes.h"
#include "libp2p/crypto/chacha20_poly1305.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/x25519.h"
#include "libp2p/stream/multistream_select.h"
#include "libp2p/stream/stream_base.h"

namespace libp2p::stream {
namespace {

using crypto::ChaCha20Poly1305;
using crypto::Sha256Digest;

constexpr std::string_view kProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";
constexpr std::string_view kStaticKeySignaturePrefix = "noise-libp2p-static-key:";
constexpr size_t kDhLength = 32;
constexpr size_t kTagLength = ChaCha20Poly1305::kTagSize;
constexpr size_t kMaxListedItems = 16;

// The simulation's stand-in for X25519, used on connections whose simulation_null_cipher() says so: an
// ephemeral "public key" is 32 random bytes (as many draws as a real key takes), and the secret two keys
// agree on is SHA-256 of a label and the two public keys in byte order, which both sides compute alike. It
// keeps every handshake message at its real size and saves the curve arithmetic (about 140 us a side); it
// hides nothing, as the null cipher after it does not.
constexpr std::string_view kSimulationAgreementLabel = "libp2p simulation key agreement";

crypto::X25519PublicKey SimulationEphemeralKey() {
  crypto::X25519PublicKey key;
  RandomBytes(MutableByteSpan(key));
  return key;
}

StatusOr<crypto::X25519SharedSecret> SimulationAgreement(ByteSpan ours, ByteSpan theirs) {
  if (theirs.size() != kDhLength) {
    return InvalidArgumentError("X25519 public key must be 32 bytes, got " + std::to_string(theirs.size()));
  }
  const bool ours_first = std::lexicographical_compare(ours.begin(), ours.end(), theirs.begin(), theirs.end());
  Bytes input(kSimulationAgreementLabel.begin(), kSimulationAgreementLabel.end());
  input.insert(input.end(), (ours_first ? ours : theirs).begin(), (ours_first ? ours : theirs).end());
  input.insert(input.end(), (ours_first ? theirs : ours).begin(), (ours_first ? theirs : ours).end());
  return crypto::Sha256(input);
}

// A Noise CipherState: a key (once set) and a nonce that never repeats.
class CipherState {
 public:
  void InitializeKey(ByteSpan key) {
    aead_ = std::make_unique<ChaCha20Poly1305>(*ChaCha20Poly1305::Create(key));
    nonce_ = 0;
  }
  bool has_key() const { return aead_ != nullptr || null_; }
  // From now on, seals with the simulation's null cipher (LinkModel::null_cipher): the plaintext and 16
  // zero bytes. Only for connections whose simulation_null_cipher() says so. The cipher's context (about
  // 600 bytes) goes.
  void UseSimulationNullCipher() {
    null_ = true;
    aead_.reset();
  }

  // Seals `plaintext` into `out` (plaintext.size() + 16 bytes; may alias plaintext).
  Status Encrypt(ByteSpan ad, ByteSpan plaintext, std::span<uint8_t> out) {
    if (nonce_ == UINT64_MAX) return FailedPreconditionError("Noise nonce space exhausted");
    if (null_) {
      if (out.data() != plaintext.data()) std::memmove(out.data(), plaintext.data(), plaintext.size());
      std::memset(out.data() + plaintext.size(), 0, kTagLength);
    } else {
      RETURN_IF_ERROR(aead_->Seal(NonceBytes(), plaintext, ad, out).status());
    }
    ++nonce_;
    return OkStatus();
  }
  // Opens `ciphertext` into `out` (ciphertext.size() - 16 bytes; may alias). kUnauthenticated on failure.
  // A real cipher's only: messages sealed with the null cipher are read as they arrive (NullFrameReader).
  Status Decrypt(ByteSpan ad, ByteSpan ciphertext, std::span<uint8_t> out) {
    assert(!null_);
    if (nonce_ == UINT64_MAX) return FailedPreconditionError("Noise nonce space exhausted");
    RETURN_IF_ERROR(aead_->Open(NonceBytes(), ciphertext, ad, out).status());
    ++nonce_;
    return OkStatus();
  }
  bool null_cipher() const { return null_; }
  // The null cipher's tag, or part of it: kUnauthenticated unless all zero.
  static Status CheckNullTag(ByteSpan tag) {
    if (std::any_of(tag.begin(), tag.end(), [](uint8_t b) { return b != 0; })) {
      return UnauthenticatedError("Noise null cipher: the tag is not zero (a peer with a real cipher?)");
    }
    return OkStatus();
  }
  // Uses the nonce of one message opened with the null cipher (only when null_cipher()); kFailedPrecondition
  // once the nonces are used up.
  Status CountNullMessage() {
    assert(null_);
    if (nonce_ == UINT64_MAX) return FailedPreconditionError("Noise nonce space exhausted");
    ++nonce_;
    return OkStatus();
  }

 private:
  // ChaChaPoly's nonce: 4 zero bytes, then the 64-bit counter in little-endian order.
  std::array<uint8_t, 12> NonceBytes() const {
    std::array<uint8_t, 12> n{};
    for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<uint8_t>(nonce_ >> (8 * i));
    return n;
  }
  std::unique_ptr<ChaCha20Poly1305> aead_;  // On the heap: a simulated connection with the null cipher has none.
  uint64_t nonce_ = 0;
  bool null_ = false;
};

// The Noise SymmetricState: chaining key, handshake hash and the current cipher.
class SymmetricState {
 public:
  SymmetricState() {
    // The protocol name is exactly 32 bytes long, so it is used as h directly.
    static_assert(kProtocolName.size() == 32);
    std::memcpy(h_.data(), kProtocolName.data(), 32);
    ck_ = h_;
    MixHash(ByteSpan());  // The empty prologue.
  }

  void MixHash(ByteSpan data) {
    crypto::Sha256Hasher hasher;
    hasher.Update(h_);
    hasher.Update(data);
    h_ = hasher.Finish();
  }

  void MixKey(ByteSpan input_key_material) {
    std::array<uint8_t, 64> out;
    // Noise's HKDF(ck, ikm) with two outputs is RFC 5869 HKDF with salt = ck and no info.
    crypto::HkdfSha256(input_key_material, ck_, ByteSpan(), out).IgnoreError();
    std::memcpy(ck_.data(), out.data(), 32);
    cipher_.InitializeKey(ByteSpan(out).subspan(32));
    std::fill(out.begin(), out.end(), 0);
  }

  // Appends the (encrypted, once a key is set) `plaintext` to `out` and mixes it into the hash.
  Status EncryptAndHash(ByteSpan plaintext, Bytes* out) {
    const size_t start = out->size();
    if (!cipher_.has_key()) {
      out->insert(out->end(), plaintext.begin(), plaintext.end());
    } else {
      out->resize(start + plaintext.size() + kTagLength);
      RETURN_IF_ERROR(cipher_.Encrypt(h_, plaintext, std::span<uint8_t>(out->data() + start, out->size() - start)));
    }
    MixHash(ByteSpan(out->data() + start, out->size() - start));
    return OkStatus();
  }

  StatusOr<Bytes> DecryptAndHash(ByteSpan ciphertext) {
    Bytes plain;
    if (!cipher_.has_key()) {
      plain.assign(ciphertext.begin(), ciphertext.end());
    } else {
      if (ciphertext.size() < kTagLength) return InvalidArgumentError("Noise handshake message too short");
      plain.resize(ciphertext.size() - kTagLength);
      if (Status s = cipher_.Decrypt(h_, ciphertext, plain); !s.ok()) {
        return UnauthenticatedError("Noise handshake decryption failed");
      }
    }
    MixHash(ciphertext);
    return plain;
  }

  // The two transport ciphers: the first for initiator-to-responder traffic.
  std::pair<CipherState, CipherState> Split() {
    std::array<uint8_t, 64> out;
    crypto::HkdfSha256(ByteSpan(), ck_, ByteSpan(), out).IgnoreError();
    std::pair<CipherState, CipherState> ciphers;
    ciphers.first.InitializeKey(ByteSpan(out).first(32));
    ciphers.second.InitializeKey(ByteSpan(out).subspan(32));
    std::fill(out.begin(), out.end(), 0);
    return ciphers;
  }

  bool has_key() const { return cipher_.has_key(); }
  size_t overhead() const { return cipher_.has_key() ? kTagLength : 0; }

 private:
  Sha256Digest h_;
  Sha256Digest ck_;
  CipherState cipher_;
};

// Reads transport messages sealed with the simulation's null cipher as a stream: each message's plaintext
// is handed on as it arrives, in the pieces it arrives in, so that a message spread over several reads, or
// over the pieces of a write with shared buffers spliced in (MemoryConnection delivers those where they
// lie), is never gathered into a buffer. Its tag is checked as it arrives, after the plaintext went up:
// nothing under the null cipher is secret or authenticated, and the check only catches a peer that seals
// with something else.
class NullFrameReader {
 public:
  // Calls on_plain(ByteSpan), a view into `data`, with each piece of plaintext in it, in order, and stops
  // at the first error on_plain returns. kUnauthenticated for a message shorter than a tag or a tag not
  // zero; the cipher's error once its nonces are used up.
  template <typename F>
  Status Feed(ByteSpan data, CipherState& cipher, F&& on_plain) {
    while (!data.empty()) {
      if (plain_left_ > 0) {
        const ByteSpan piece = data.first(std::min(plain_left_, data.size()));
        data = data.subspan(piece.size());
        plain_left_ -= piece.size();
        RETURN_IF_ERROR(on_plain(piece));
      } else if (tag_left_ > 0) {
        const ByteSpan tag = data.first(std::min(tag_left_, data.size()));
        data = data.subspan(tag.size());
        tag_left_ -= tag.size();
        RETURN_IF_ERROR(CipherState::CheckNullTag(tag));
      } else {
        header_[header_size_++] = data[0];
        data = data.subspan(1);
        if (header_size_ < header_.size()) continue;
        header_size_ = 0;
        const size_t length = static_cast<size_t>(header_[0]) << 8 | header_[1];
        if (length < kTagLength) return UnauthenticatedError("Noise message shorter than its tag");
        RETURN_IF_ERROR(cipher.CountNullMessage());
        plain_left_ = length - kTagLength;
        tag_left_ = kTagLength;
      }
    }
    return OkStatus();
  }

 private:
  std::array<uint8_t, 2> header_{};  // The next message's length, big-endian, as far as it has arrived.
  size_t header_size_ = 0;
  size_t plain_left_ = 0;  // Of the current message's plaintext, yet to arrive.
  size_t tag_left_ = 0;    // Of its tag, yet to arrive (after the plaintext).
};

// Parses 2-byte big-endian length-prefixed frames out of a byte stream.
class FrameSplitter {
 public:
  // Calls on_frame(ByteSpan frame, uint8_t* writable) for each complete frame: a view into `data` when the
  // frame lies whole in it (no copy; `writable` is null), else into a buffer that gathered it across calls
  // (at most 64 KiB), which the callee may then overwrite in place through `writable` (frame.data()). Stops
  // at the first error on_frame returns, or after the frame during which Stop() was called; `*rest` then
  // holds the bytes after that frame.
  template <typename F>
  Status Feed(ByteSpan data, F&& on_frame, ByteSpan* rest = nullptr) {
    while (!data.empty()) {
      ByteSpan frame;
      uint8_t* writable = nullptr;
      if (!partial_.empty() || data.size() < 2) {
        if (partial_.size() < 2) {
          const size_t take = std::min(2 - partial_.size(), data.size());
          partial_.insert(partial_.end(), data.begin(), data.begin() + take);
          data = data.subspan(take);
          if (partial_.size() < 2) break;
        }
        const size_t length = static_cast<size_t>(partial_[0]) << 8 | partial_[1];
        const size_t take = std::min(length - (partial_.size() - 2), data.size());
        partial_.insert(partial_.end(), data.begin(), data.begin() + take);
        data = data.subspan(take);
        if (partial_.size() - 2 < length) break;
        // Swap buffers rather than allocate: both keep their capacity from frame to frame.
        ready_.swap(partial_);
        partial_.clear();
        frame = ByteSpan(ready_).subspan(2);
        writable = ready_.data() + 2;
      } else {
        const size_t length = static_cast<size_t>(data[0]) << 8 | data[1];
        if (data.size() < 2 + length) {
          partial_.reserve(2 + length);
          partial_.assign(data.begin(), data.end());
          break;
        }
        frame = data.subspan(2, length);
        data = data.subspan(2 + length);
      }
      Status s = on_frame(frame, writable);
      if (!s.ok() || stopped_) {
        if (rest != nullptr) *rest = data;
        return s;
      }
    }
    if (rest != nullptr) *rest = ByteSpan();
    return OkStatus();
  }

  // Makes Feed() return after the current frame (the handshake's last message).
  void Stop() { stopped_ = true; }

  // Frees the gathering buffers when they hold no part of a frame and are larger than a small frame needs
  // (kKeepIdle).
  void ReleaseIdle() {
    if (ready_.capacity() > kKeepIdle) Bytes().swap(ready_);
    if (partial_.empty() && partial_.capacity() > kKeepIdle) Bytes().swap(partial_);
  }

  static constexpr size_t kKeepIdle = 4096;

 private:
  Bytes partial_;  // A frame being gathered across calls.
  Bytes ready_;    // The last gathered frame, while on_frame runs.
  bool stopped_ = false;
};

// Transport messages waiting to be handed to the connection below, laid out as they go on the wire: sealed
// frames, then at most one open frame whose plaintext is still growing (its header and tag are written when
// it is sealed). Writes of one loop turn share frames this way: N small writes cost one AEAD call, one frame
// and one write below instead of N. Frames are sealed in order, so their nonces follow the wire order.
//
// With the simulation's null cipher, whose sealing leaves the plaintext as it is, a shared write's bytes are
// not copied in: they are spliced into the wire bytes by reference (SplicedBytes), and the frames are the
// ones a copy would have made.
class NoiseFrameBuffer {
 public:
  explicit NoiseFrameBuffer(CipherState* cipher) : cipher_(cipher) {}

  // Adds `data`: copied into the open frame, which is sealed where it lies whenever it is full (a large
  // write is a run of full frames, none zero-filled first). Fails only when the nonces are exhausted.
  Status Append(ByteSpan data) { return Add(data, nullptr); }
  // Adds `data`, which lies in `owner` (a buffer no one changes): by reference when the cipher is the null
  // one and `data` is not small, else as Append() does.
  Status AppendShared(ByteSpan data, const std::shared_ptr<const Bytes>& owner) {
    return Add(data, cipher_->null_cipher() && data.size() >= kMinSplice ? &owner : nullptr);
  }

  // Makes room for `size` more bytes of plaintext at once, framing and tags included, and for the small
  // writes that often follow a large one in the same turn (a message's IDONTWANTs, other messages), so that
  // they do not move the buffer either. For `shared` bytes that will be spliced in, only their framing.
  void Reserve(size_t size, bool shared) {
    const size_t frames = size / kNoiseMaxPlaintextSize + 2;
    const size_t payload = shared && cipher_->null_cipher() ? 0 : size;
    const size_t needed = wire_.size() + payload + frames * (2 + kTagLength);
    if (needed > wire_.capacity()) wire_.reserve(needed + kFollowingWrites);
  }

  // Seals the open frame, if any: afterwards the buffer holds only whole transport messages.
  Status SealOpen() {
    if (!open_) return OkStatus();
    open_ = false;
    const size_t plain = OpenPlaintext();
    const bool spliced = open_spliced_ > 0;
    open_spliced_ = 0;
    const size_t tag_at = wire_.size();
    wire_.resize(wire_.size() + kTagLength);
    const size_t sealed = plain + kTagLength;
    wire_[open_at_] = static_cast<uint8_t>(sealed >> 8);
    wire_[open_at_ + 1] = static_cast<uint8_t>(sealed);
    if (spliced) {
      // The null cipher, with part of the plaintext spliced in: what is here stays as it is, the tag follows.
      return cipher_->Encrypt(ByteSpan(), ByteSpan(wire_.data() + tag_at, 0),
                              std::span<uint8_t>(wire_.data() + tag_at, kTagLength));
    }
    return cipher_->Encrypt(ByteSpan(), ByteSpan(wire_.data() + open_at_ + 2, plain),
                            std::span<uint8_t>(wire_.data() + open_at_ + 2, sealed));
  }

  // The sealed frames, when none has bytes spliced in (call SealOpen() first to include the open one).
  ByteSpan wire() const {
    assert(splices_.empty());
    return wire_;
  }
  bool has_splices() const { return !splices_.empty(); }
  // Bytes waiting, framing and tags included (as far as known).
  size_t size() const { return wire_.size() + spliced_ + (open_ ? kTagLength : 0); }
  bool empty() const { return size() == 0; }

  // Hands over the sealed frames (call SealOpen() first) and forgets them, as Clear(false) does.
  Bytes Release() {
    assert(splices_.empty());
    Bytes out = std::move(wire_);
    Clear(/*keep_buffer=*/false);
    return out;
  }
  // Hands over the sealed frames with their splices (call SealOpen() first) and forgets them, as
  // Clear(keep_buffer) does: with `keep_buffer`, what is handed over is a copy of the buffer's own bytes.
  SplicedBytes ReleaseSpliced(bool keep_buffer) {
    SplicedBytes out(keep_buffer ? Bytes(wire_) : std::move(wire_), std::move(splices_));
    Clear(keep_buffer);
    return out;
  }

  // Forgets everything. With `keep_buffer`, the buffer's memory stays for the next batch (a bulk transfer
  // reuses it instead of faulting in fresh pages every turn; Write() bounds it to about kNoiseFlushThreshold
  // plus a message); without, it is freed (a connection that carried one large message and then little or
  // nothing, a block and then attestations, holds none while idle).
  void Clear(bool keep_buffer) {
    if (keep_buffer) {
      wire_.clear();
    } else {
      Bytes().swap(wire_);
    }
    splices_.clear();
    spliced_ = 0;
    open_spliced_ = 0;
    open_ = false;
  }

 private:
  static constexpr size_t kSmallFrame = 4096;
  // Shared bytes fewer than this are copied: a reference costs more than a copy of a small write.
  static constexpr size_t kMinSplice = 4096;
  // Room left after a large write for the small ones that may follow it in the turn.
  static constexpr size_t kFollowingWrites = 4096;
  // A buffer this large grows by LargeBufferSlack() rather than doubling.
  static constexpr size_t kLargeBuffer = 64 * 1024;
  // An eighth of `size`: geometric growth, so that many small writes after a large one still move each
  // byte a bounded number of times, with spare room below the quarter of its size that makes the in-memory
  // connection copy a buffer rather than queue it (MemoryConnection::WriteOwned).
  static size_t LargeBufferSlack(size_t size) { return size / 8; }

  // The open frame's plaintext so far, here and spliced in.
  size_t OpenPlaintext() const { return wire_.size() - open_at_ - 2 + open_spliced_; }

  // Append() (`owner` null) or a splice of `data` from *owner. The frames are the same either way.
  Status Add(ByteSpan data, const std::shared_ptr<const Bytes>* owner) {
    if (owner != nullptr) {
      // Only framing is written here: a large splice needs no room for its bytes.
    } else if (data.size() >= kNoiseMaxPlaintextSize) {
      // Room for all of it at once, rather than growing (and copying) the buffer frame by frame.
      Reserve(data.size(), /*shared=*/false);
    } else if (const size_t sealed = wire_.size() + (open_ ? 0 : 2) + data.size() + kTagLength;
               sealed > wire_.capacity()) {
      // Room for it and its frame's header and tag: a turn's first write (usually its only one, or a muxer
      // header and its payload) fills the buffer exactly, so the connection below can take it as it is,
      // with no spare room to copy away. Later ones double a small buffer, as a vector would grow; a large
      // one grows by its slack, little enough that the connection below still takes it as it is.
      wire_.reserve(wire_.capacity() < kLargeBuffer ? std::max(sealed, 2 * wire_.capacity())
                                                    : sealed + LargeBufferSlack(sealed));
    }
    // A little open frame is sealed before a large write, so that the write's frames are whole ones of its own.
    if (open_ && data.size() >= kNoiseMaxPlaintextSize && OpenPlaintext() < kSmallFrame) {
      RETURN_IF_ERROR(SealOpen());
    }
    while (!data.empty()) {
      if (!open_) {
        open_at_ = wire_.size();
        wire_.resize(open_at_ + 2);
        open_ = true;
      }
      const size_t room = kNoiseMaxPlaintextSize - OpenPlaintext();
      const size_t n = std::min(room, data.size());
      if (owner != nullptr) {
        splices_.push_back(SplicedBytes::Splice{wire_.size(), data.first(n), *owner});
        spliced_ += n;
        open_spliced_ += n;
      } else {
        wire_.insert(wire_.end(), data.begin(), data.begin() + n);
      }
      data = data.subspan(n);
      if (n == room) RETURN_IF_ERROR(SealOpen());
    }
    return OkStatus();
  }

  CipherState* const cipher_;  // The sending cipher; owned by the connection.
  Bytes wire_;                 // The frames' own bytes: headers, copied plaintext, tags.
  std::vector<SplicedBytes::Splice> splices_;  // Shared plaintext, each before wire_[at], in order.
  size_t spliced_ = 0;         // The splices' bytes.
  size_t open_spliced_ = 0;    // Of those, the open frame's.
  bool open_ = false;
  size_t open_at_ = 0;  // Where the open frame's header goes.
};

// The secure connection: encrypts writes into Noise transport messages and decrypts reads.
//
// Writes are coalesced: what is written during one loop turn is sealed into as few transport messages as
// possible and handed to the connection below once, from a task posted by the turn's first write (or at
// once when kNoiseFlushThreshold bytes wait, so the buffer stays bounded and back-pressure is the inner
// connection's, as before). CloseWrite() and destruction hand over what waits first; Reset() drops it.
class NoiseConnection final : public RawConnection, public StreamBase {
 public:
  NoiseConnection(EventLoop* loop, std::unique_ptr<RawConnection> inner, CipherState send, CipherState receive)
      : StreamBase(loop), inner_(std::move(inner)), send_(std::move(send)), receive_(std::move(receive)),
        pending_(&send_), flush_task_(loop->CreateTask([this] { FlushFromLoop(); })) {
    inner_->SetHandlers(Stream::Handlers{
        [this](ByteSpan data) { OnInnerData(data); },
        [this] { DeliverEof(); },
        [this](const Status& e) { DeliverError(e); },
        [this] { NotifyWritable(); }});
    inner_->PauseReading(false);  // The handshake paused it when it completed.
  }

  // Hands what waits to the connection below (which sends it as far as the socket takes it when it goes).
  ~NoiseConnection() override {
    if (!reset_ && failure_.ok()) HandOver(/*keep_buffer=*/false).IgnoreError();
  }

  const Multiaddr& local_addr() const override { return inner_->local_addr(); }
  const Multiaddr& remote_addr() const override { return inner_->remote_addr(); }

  Status Write(ByteSpan data) override { return Send(data, nullptr); }
  Status WriteShared(ByteSpan data, const std::shared_ptr<const Bytes>& owner) override { return Send(data, &owner); }
  // Room for the expected writes, up to what the buffer holds before it goes below anyway.
  void ExpectWrites(size_t bytes, bool shared) override {
    if (failure_.ok() && !reset_) pending_.Reserve(std::min(bytes, kNoiseFlushThreshold), shared);
  }
  size_t buffered_bytes() const override { return inner_->buffered_bytes() + pending_.size(); }
  bool write_blocked() const override { return inner_->write_blocked(); }
  void CloseWrite() override {
    if (write_closed_ || reset_) return;
    write_closed_ = true;
    if (failure_.ok() && !HandOver(/*keep_buffer=*/false).ok()) {
      flush_task_->Post();  // Reports the failure from the loop.
      return;
    }
    inner_->CloseWrite();
  }
  void Reset() override {
    if (reset_) return;
    reset_ = true;
    MarkDead();
    flush_task_->Cancel();
    pending_.Clear(/*keep_buffer=*/false);
    inner_->Reset();
  }

 protected:
  void OnReadPauseChanged() override { inner_->PauseReading(want_pause()); }

 private:
  // Write() and WriteShared() (`data` within *owner; else `owner` is null).
  Status Send(ByteSpan data, const std::shared_ptr<const Bytes>* owner) {
    if (reset_) return FailedPreconditionError("write on a reset Noise connection");
    if (!failure_.ok()) return failure_;
    if (write_closed_) return FailedPreconditionError("write after CloseWrite on a Noise connection");
    if (dead()) return UnavailableError("Noise connection failed");
    // A large write goes down in pieces of about kNoiseFlushThreshold, so the buffer stays bounded.
    while (!data.empty()) {
      const ByteSpan piece = data.first(std::min(data.size(), kNoiseFlushThreshold));
      data = data.subspan(piece.size());
      if (Status s = owner != nullptr ? pending_.AppendShared(piece, *owner) : pending_.Append(piece); !s.ok()) {
        failure_ = s;
        return s;
      }
      if (pending_.size() >= kNoiseFlushThreshold) {
        bulk_turn_ = true;
        RETURN_IF_ERROR(HandOver(/*keep_buffer=*/true));
      }
    }
    if (!pending_.empty()) flush_task_->Post();
    return OkStatus();
  }

  // Seals the open frame and writes everything waiting to the connection below. A refusal (it failed, or its
  // hard limit or budget reset it) is kept in failure_ and returned. With `keep_buffer`, the buffer's memory
  // stays for the next batch (NoiseFrameBuffer::Clear).
  Status HandOver(bool keep_buffer) {
    flush_task_->Cancel();
    Status s = pending_.SealOpen();
    if (s.ok() && !pending_.empty()) {
      // A buffer that is not kept goes below whole: a connection that queues it takes it without a copy.
      if (pending_.has_splices()) {
        s = inner_->WriteSpliced(pending_.ReleaseSpliced(keep_buffer));
      } else {
        s = keep_buffer ? inner_->Write(pending_.wire()) : inner_->WriteOwned(pending_.Release());
      }
    }
    pending_.Clear(keep_buffer);
    if (!s.ok() && failure_.ok()) failure_ = s;
    return s;
  }

  void FlushFromLoop() {
    if (!failure_.ok()) {
      DeliverError(failure_);
      return;
    }
    // The buffer stays only on a connection that filled whole batches this turn: a bulk transfer.
    const bool keep = bulk_turn_;
    bulk_turn_ = false;
    if (!HandOver(keep).ok()) DeliverError(failure_);
  }

  // Hands what the inner connection read up, opened: plaintext under the null cipher as it arrives, whole
  // messages decrypted under a real one.
  Status Open(ByteSpan data) {
    auto deliver = [this](ByteSpan plain) { return DeliverData(plain) ? OkStatus() : CancelledError("destroyed"); };
    if (receive_.null_cipher()) return null_frames_.Feed(data, receive_, deliver);
    return frames_.Feed(data, [&](ByteSpan frame, uint8_t* writable) -> Status {
      if (frame.size() < kTagLength) return UnauthenticatedError("Noise message shorter than its tag");
      // A frame gathered across reads is ours to overwrite: decrypt it in place.
      std::span<uint8_t> plain;
      if (writable != nullptr) {
        plain = std::span<uint8_t>(writable, frame.size() - kTagLength);
      } else {
        plain_.resize(frame.size() - kTagLength);
        plain = plain_;
      }
      RETURN_IF_ERROR(receive_.Decrypt(ByteSpan(), frame, plain));
      return deliver(plain);
    });
  }

  void OnInnerData(ByteSpan data) {
    Liveness::Scope scope(&liveness_);
    Status s = Open(data);
    if (!scope.alive()) return;
    // The read buffers are kept while large deliveries follow each other (a bulk transfer reuses them
    // instead of faulting in fresh pages for every read) and freed after a small one (a keep-alive, a
    // control message): a connection that once carried large frames holds nothing for them once its traffic
    // is small again; with hundreds of connections that is up to 192 KiB each.
    if (data.size() < FrameSplitter::kKeepIdle) {
      frames_.ReleaseIdle();
      if (plain_.capacity() > FrameSplitter::kKeepIdle) Bytes().swap(plain_);
    }
    if (!s.ok()) {
      failure_ = UnauthenticatedError("Noise transport message failed to decrypt: " + s.message());
      flush_task_->Cancel();
      pending_.Clear(/*keep_buffer=*/false);
      inner_->Reset();
      DeliverError(failure_);
    }
  }

  Liveness liveness_;
  std::unique_ptr<RawConnection> inner_;
  CipherState send_;
  CipherState receive_;
  FrameSplitter frames_;         // Under a real cipher.
  NullFrameReader null_frames_;  // Under the null cipher.
  NoiseFrameBuffer pending_;     // Sealed with send_.
  Bytes plain_;               // Reused for every read of a frame that lies whole in the inner delivery.
  Status failure_;
  bool write_closed_ = false;
  bool reset_ = false;
  bool bulk_turn_ = false;  // A whole batch (kNoiseFlushThreshold) was handed over in this loop turn.
  std::unique_ptr<Task> flush_task_;  // Hands pending_ over at the end of the loop turn.
};

class NoiseHandshakeImpl final : public NoiseHandshake {
 public:
  NoiseHandshakeImpl(EventLoop* loop, std::unique_ptr<RawConnection> connection, const NoiseOptions& options,
                     bool initiator, std::optional<crypto::PeerId> expected, Callback on_done)
      : loop_(loop), connection_(std::move(connection)), options_(options), initiator_(initiator),
        expected_(std::move(expected)), on_done_(std::move(on_done)),
        simulated_agreement_(connection_->simulation_null_cipher()),
        ephemeral_(simulated_agreement_ ? std::nullopt : std::optional(crypto::X25519KeyPair::Generate())),
        ephemeral_public_(ephemeral_.has_value() ? ephemeral_->public_key() : SimulationEphemeralKey()),
        static_key_(options.static_key != nullptr ? *options.static_key : own_static_key_.emplace(*options.identity)),
        static_(static_key_.key_pair()),
        timeout_(loop->CreateTimer([this] { Fail(DeadlineExceededError("Noise handshake timed out")); })),
        finish_task_(loop->CreateTask([this] { RunCallback(); })) {
    assert(options.static_key == nullptr || &options.static_key->identity() == options.identity);
  }

  ~NoiseHandshakeImpl() override {
    if (connection_ != nullptr) connection_->Reset();
  }

  void Start() {
    timeout_->Schedule(options_.timeout);
    connection_->SetHandlers(Stream::Handlers{
        [this](ByteSpan data) { OnData(data); },
        [this] { Fail(UnavailableError("connection closed during the Noise handshake")); },
        [this](const Status& e) { Fail(UnavailableError("connection failed during the Noise handshake: " + e.message())); },
        {}});
    if (initiator_) {
      // -> e
      Bytes msg;
      msg.insert(msg.end(), ephemeral_public_.begin(), ephemeral_public_.end());
      state_.MixHash(ephemeral_public_);
      Status s = state_.EncryptAndHash(ByteSpan(), &msg);
      if (s.ok()) s = SendFrame(msg);
      if (!s.ok()) return Fail(s);
      step_ = 1;
    }
  }

 private:
  Status SendFrame(const Bytes& msg) {
    Bytes framed;
    framed.reserve(msg.size() + 2);
    framed.push_back(static_cast<uint8_t>(msg.size() >> 8));
    framed.push_back(static_cast<uint8_t>(msg.size()));
    framed.insert(framed.end(), msg.begin(), msg.end());
    return connection_->Write(framed);
  }

  void OnData(ByteSpan data) {
    if (done_) return;
    ByteSpan rest;
    Status s = frames_.Feed(data, [&](ByteSpan frame, uint8_t*) { return OnMessage(frame); }, &rest);
    if (!s.ok()) return Fail(s);
    if (done_ && !rest.empty()) connection_->Unread(rest);
  }

  Status OnMessage(ByteSpan msg) {
    if (initiator_ && step_ == 1) return ReadMessage2(msg);
    if (!initiator_ && step_ == 0) return ReadMessage1(msg);
    if (!initiator_ && step_ == 2) return ReadMessage3(msg);
    return InvalidArgumentError("unexpected Noise handshake message");
  }

  // Responder: <- e
  Status ReadMessage1(ByteSpan msg) {
    if (msg.size() < kDhLength) return InvalidArgumentError("Noise message 1 too short");
    remote_ephemeral_.assign(msg.begin(), msg.begin() + kDhLength);
    state_.MixHash(remote_ephemeral_);
    ASSIGN_OR_RETURN(Bytes payload, state_.DecryptAndHash(msg.subspan(kDhLength)));
    (void)payload;  // Message 1 carries no payload in libp2p; anything there is ignored.
    // -> e, ee, s, es, payload
    Bytes out;
    out.insert(out.end(), ephemeral_public_.begin(), ephemeral_public_.end());
    state_.MixHash(ephemeral_public_);
    RETURN_IF_ERROR(MixDh(Ephemeral(), remote_ephemeral_));
    RETURN_IF_ERROR(state_.EncryptAndHash(static_.public_key(), &out));
    RETURN_IF_ERROR(MixDh(Static(), remote_ephemeral_));
    RETURN_IF_ERROR(state_.EncryptAndHash(OurPayload(), &out));
    RETURN_IF_ERROR(SendFrame(out));
    step_ = 2;
    return OkStatus();
  }

  // Initiator: <- e, ee, s, es, payload; then -> s, se, payload.
  Status ReadMessage2(ByteSpan msg) {
    if (msg.size() < kDhLength + kDhLength + kTagLength + kTagLength) {
      return InvalidArgumentError("Noise message 2 too short");
    }
    remote_ephemeral_.assign(msg.begin(), msg.begin() + kDhLength);
    state_.MixHash(remote_ephemeral_);
    RETURN_IF_ERROR(MixDh(Ephemeral(), remote_ephemeral_));
    ASSIGN_OR_RETURN(remote_static_, state_.DecryptAndHash(msg.subspan(kDhLength, kDhLength + kTagLength)));
    RETURN_IF_ERROR(MixDh(Ephemeral(), remote_static_));
    ASSIGN_OR_RETURN(Bytes payload, state_.DecryptAndHash(msg.subspan(2 * kDhLength + kTagLength)));
    RETURN_IF_ERROR(VerifyPayload(payload));
    Bytes out;
    RETURN_IF_ERROR(state_.EncryptAndHash(static_.public_key(), &out));
    RETURN_IF_ERROR(MixDh(Static(), remote_ephemeral_));
    RETURN_IF_ERROR(state_.EncryptAndHash(OurPayload(), &out));
    RETURN_IF_ERROR(SendFrame(out));
    return Complete();
  }

  // Responder: <- s, se, payload
  Status ReadMessage3(ByteSpan msg) {
    if (msg.size() < kDhLength + kTagLength + kTagLength) return InvalidArgumentError("Noise message 3 too short");
    ASSIGN_OR_RETURN(remote_static_, state_.DecryptAndHash(msg.first(kDhLength + kTagLength)));
    RETURN_IF_ERROR(MixDh(Ephemeral(), remote_static_));
    ASSIGN_OR_RETURN(Bytes payload, state_.DecryptAndHash(msg.subspan(kDhLength + kTagLength)));
    RETURN_IF_ERROR(VerifyPayload(payload));
    return Complete();
  }

  // One of our two keys: the key pair (null under the simulation's stand-in) and its public key.
  struct OurKey {
    const crypto::X25519KeyPair* pair;
    const crypto::X25519PublicKey& public_key;
  };
  OurKey Ephemeral() const { return {ephemeral_.has_value() ? &*ephemeral_ : nullptr, ephemeral_public_}; }
  OurKey Static() const { return {&static_, static_.public_key()}; }

  Status MixDh(OurKey ours, ByteSpan theirs) {
    StatusOr<crypto::X25519SharedSecret> secret =
        simulated_agreement_ ? SimulationAgreement(ours.public_key, theirs) : ours.pair->Agree(theirs);
    if (!secret.ok()) return InvalidArgumentError("Noise: " + secret.status().message());
    state_.MixKey(*secret);
    return OkStatus();
  }

  Bytes OurPayload() const { return static_key_.Payload(options_.muxers); }

  Status VerifyPayload(ByteSpan encoded) {
    ASSIGN_OR_RETURN(VerifiedNoisePayload verified, VerifyNoisePayload(encoded, remote_static_));
    if (expected_.has_value() && !(verified.peer == *expected_)) {
      return UnauthenticatedError("dialed " + expected_->ToBase58() + " but the remote is " +
                                  verified.peer.ToBase58());
    }
    remote_key_.emplace(std::move(verified.key));
    remote_peer_.emplace(verified.peer);
    remote_muxers_ = std::move(verified.muxers);
    return OkStatus();
  }

  // Ends the handshake with the agreed muxer. Fails when both sides listed muxers and none is common (the
  // inlined-muxer spec says the handshake MUST fail then).
  Status Complete() {
    const std::vector<std::string>& initiator_list = initiator_ ? options_.muxers : remote_muxers_;
    const std::vector<std::string>& responder_list = initiator_ ? remote_muxers_ : options_.muxers;
    std::string early;
    for (const std::string& m : initiator_list) {
      if (std::find(responder_list.begin(), responder_list.end(), m) != responder_list.end()) {
        early = m;
        break;
      }
    }
    if (early.empty() && !initiator_list.empty() && !responder_list.empty()) {
      return InvalidArgumentError("Noise: both sides listed muxers, and none in common");
    }
    done_ = true;
    frames_.Stop();
    // Transport messages may follow at once; hold them in the raw connection, in order, until the secure
    // connection takes it over.
    connection_->PauseReading(true);
    timeout_->Cancel();
    auto [c1, c2] = state_.Split();
    // The initiator sends with the first cipher; the responder with the second.
    CipherState send = initiator_ ? std::move(c1) : std::move(c2);
    CipherState receive = initiator_ ? std::move(c2) : std::move(c1);
    if (connection_->simulation_null_cipher()) {
      send.UseSimulationNullCipher();
      receive.UseSimulationNullCipher();
    }
    // Bytes after the last handshake message are given back to the raw connection by OnData, before the
    // secure connection takes over its handlers (it delivers them from the loop).
    session_.emplace(NoiseSession{nullptr, std::move(*remote_key_), *remote_peer_, std::move(remote_muxers_),
                                  std::move(early)});
    pending_send_ = std::move(send);
    pending_receive_ = std::move(receive);
    finish_task_->Post();
    return OkStatus();
  }

  void Fail(Status error) {
    if (finished_) return;
    done_ = true;
    timeout_->Cancel();
    if (connection_ != nullptr) {
      connection_->SetHandlers({});
      connection_->Reset();
      connection_.reset();
    }
    result_error_ = std::move(error);
    session_.reset();
    finish_task_->Post();
  }

  void RunCallback() {
    finished_ = true;
    Callback done = std::move(on_done_);
    if (!result_error_.ok() || !session_.has_value()) {
      done(result_error_.ok() ? InternalError("Noise handshake ended without a session") : result_error_);
      return;
    }
    session_->connection = std::make_unique<NoiseConnection>(loop_, std::move(connection_), std::move(*pending_send_),
                                                             std::move(*pending_receive_));
    NoiseSession session = std::move(*session_);
    done(std::move(session));  // May destroy this.
  }

  EventLoop* const loop_;
  std::unique_ptr<RawConnection> connection_;
  const NoiseOptions options_;
  const bool initiator_;
  const std::optional<crypto::PeerId> expected_;
  Callback on_done_;
  // Whether the key agreement is the simulation's stand-in (SimulationAgreement), as on a connection that
  // says simulation_null_cipher(); then there is no ephemeral key pair, only ephemeral_public_.
  const bool simulated_agreement_;
  std::optional<crypto::X25519KeyPair> ephemeral_;
  const crypto::X25519PublicKey ephemeral_public_;
  std::optional<NoiseStaticKey> own_static_key_;  // Made here when the options bring none.
  const NoiseStaticKey& static_key_;
  const crypto::X25519KeyPair& static_;
  SymmetricState state_;
  FrameSplitter frames_;
  Bytes remote_ephemeral_;
  Bytes remote_static_;
  std::optional<crypto::PublicKey> remote_key_;
  std::optional<crypto::PeerId> remote_peer_;
  std::vector<std::string> remote_muxers_;
  int step_ = 0;
  bool done_ = false;
  bool finished_ = false;
  std::optional<NoiseSession> session_;
  std::optional<CipherState> pending_send_, pending_receive_;
  Status result_error_;
  std::unique_ptr<Timer> timeout_;
  std::unique_ptr<Task> finish_task_;
};

Bytes StaticKeySignedData(ByteSpan noise_static_public) {
  Bytes data(kStaticKeySignaturePrefix.begin(), kStaticKeySignaturePrefix.end());
  data.insert(data.end(), noise_static_public.begin(), noise_static_public.end());
  return data;
}

Bytes EncodeNoisePayload(const crypto::PrivateKey& identity, const Bytes& signature,
                         const std::vector<std::string>& muxers) {
  NoiseHandshakePayload payload;
  payload.identity_key = identity.public_key().ToProtobuf();
  payload.identity_sig = signature;
  payload.stream_muxers = muxers;
  return payload.Encode();
}

}  // namespace

Bytes MakeNoisePayload(const crypto::PrivateKey& identity, ByteSpan noise_static_public,
                       const std::vector<std::string>& muxers) {
  return EncodeNoisePayload(identity, identity.Sign(StaticKeySignedData(noise_static_public)), muxers);
}

NoiseStaticKey::NoiseStaticKey(const crypto::PrivateKey& identity)
    : identity_(&identity), key_pair_(crypto::X25519KeyPair::Generate()),
      signature_(identity.Sign(StaticKeySignedData(key_pair_.public_key()))) {}

Bytes NoiseStaticKey::Payload(const std::vector<std::string>& muxers) const {
  return EncodeNoisePayload(*identity_, signature_, muxers);
}

StatusOr<VerifiedNoisePayload> VerifyNoisePayload(ByteSpan encoded, ByteSpan noise_static_public) {
  ASSIGN_OR_RETURN(NoiseHandshakePayload payload, NoiseHandshakePayload::Decode(encoded));
  StatusOr<crypto::PublicKey> key = crypto::PublicKey::FromProtobuf(payload.identity_key);
  if (!key.ok()) return UnauthenticatedError("Noise payload identity key: " + key.status().message());
  if (!key->Verify(StaticKeySignedData(noise_static_public), payload.identity_sig)) {
    return UnauthenticatedError("Noise payload identity signature does not verify");
  }
  const crypto::PeerId peer = crypto::PeerId::FromPublicKey(*key);
  return VerifiedNoisePayload{std::move(*key), peer, std::move(payload.stream_muxers)};
}

Bytes NoiseHandshakePayload::Encode() const {
  Bytes out;
  if (!identity_key.empty()) proto::AppendBytesField(1, identity_key, &out);
  if (!identity_sig.empty()) proto::AppendBytesField(2, identity_sig, &out);
  if (!stream_muxers.empty() || !webtransport_certhashes.empty()) {
    Bytes ext;
    for (const Bytes& h : webtransport_certhashes) proto::AppendBytesField(1, h, &ext);
    for (const std::string& m : stream_muxers) proto::AppendBytesField(2, AsBytes(m), &ext);
    proto::AppendBytesField(4, ext, &out);
  }
  return out;
}

StatusOr<NoiseHandshakePayload> NoiseHandshakePayload::Decode(ByteSpan encoded) {
  NoiseHandshakePayload p;
  proto::Reader reader(encoded);
  while (!reader.done()) {
    proto::Field f;
    RETURN_IF_ERROR(reader.Next(&f));
    if (f.type != proto::WireType::kLengthDelimited) continue;
    if (f.number == 1) {
      p.identity_key.assign(f.bytes.begin(), f.bytes.end());
    } else if (f.number == 2) {
      p.identity_sig.assign(f.bytes.begin(), f.bytes.end());
    } else if (f.number == 4) {
      proto::Reader ext(f.bytes);
      while (!ext.done()) {
        proto::Field g;
        RETURN_IF_ERROR(ext.Next(&g));
        if (g.type != proto::WireType::kLengthDelimited || (g.number != 1 && g.number != 2)) continue;
        if (g.bytes.size() > kMaxProtocolNameLength) return InvalidArgumentError("Noise extension entry too long");
        if (p.stream_muxers.size() + p.webtransport_certhashes.size() >= kMaxListedItems) {
          return InvalidArgumentError("Noise extensions list too many entries");
        }
        if (g.number == 1) {
          p.webtransport_certhashes.emplace_back(g.bytes.begin(), g.bytes.end());
        } else {
          p.stream_muxers.emplace_back(AsStringView(g.bytes));
        }
      }
    }
  }
  return p;
}

std::unique_ptr<NoiseHandshake> NoiseHandshake::Initiate(EventLoop* loop, std::unique_ptr<RawConnection> connection,
                                                         const NoiseOptions& options,
                                                         std::optional<crypto::PeerId> expected_peer,
                                                         Callback on_done) {
  auto h = std::make_unique<NoiseHandshakeImpl>(loop, std::move(connection), options, /*initiator=*/true,
                                                std::move(expected_peer), std::move(on_done));
  h->Start();
  return h;
}

std::unique_ptr<NoiseHandshake> NoiseHandshake::Respond(EventLoop* loop, std::unique_ptr<RawConnection> connection,
                                                        const NoiseOptions& options, Callback on_done) {
  auto h = std::make_unique<NoiseHandshakeImpl>(loop, std::move(connection), options, /*initiator=*/false,
                                                std::nullopt, std::move(on_done));
  h->Start();
  return h;
}

}  // namespace libp2p::stream
