// multistream-select 1.0: agreeing on the protocol a stream (or a raw connection) will speak.
//
// Every message is an unsigned-varint length, the text, and "\n". Both sides first send the header
// "/multistream/1.0.0". The dialer then proposes protocols one at a time; the listener echoes a protocol it
// speaks or answers "na", and answers "ls" with the list of its protocols.
#ifndef LIBP2P_STREAM_MULTISTREAM_SELECT_H_
#define LIBP2P_STREAM_MULTISTREAM_SELECT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libp2p/base/event_loop.h"
#include "libp2p/base/frame_reader.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

inline constexpr std::string_view kMultistreamHeader = "/multistream/1.0.0";
// The longest protocol name accepted, and so the longest message (with its "\n").
inline constexpr size_t kMaxProtocolNameLength = 1024;
// Proposals a listener answers before giving up on a dialer that keeps proposing unknown protocols.
inline constexpr int kMaxProposals = 32;

// Encodes one multistream-select message: varint(len + 1) || text || "\n".
Bytes EncodeMultistreamMessage(std::string_view text);
// Decodes the payload of one message (the bytes after the length prefix): it must end in "\n", have at most
// kMaxProtocolNameLength bytes of text and contain no other "\n". Returns the text without "\n".
StatusOr<std::string_view> DecodeMultistreamMessage(ByteSpan payload);

// One negotiation on one stream. While it runs it owns the stream's handlers; when it ends, bytes that
// arrived after its last message are given back to the stream with Unread(), the handlers are cleared,
// and the callback runs with the agreed protocol or the reason there is none (kNotFound when the peers
// share no protocol, kDeadlineExceeded on timeout, kInvalidArgument for a malformed message or at the first
// byte that differs from the header, kOutOfRange for a message over kMaxProtocolNameLength,
// kResourceExhausted after kMaxProposals proposals, kUnavailable when the stream fails). The callback runs
// from the event loop, never from inside the factory functions, and may destroy the negotiation. Destroying
// it earlier cancels it; the callback then never runs. The stream is an observer and must outlive the
// negotiation.
class MultistreamSelect {
 public:
  using Callback = std::function<void(StatusOr<std::string> protocol)>;

  // Proposes `protocols` in order until the listener accepts one.
  static std::unique_ptr<MultistreamSelect> Dial(EventLoop* loop, Stream* stream,
                                                 std::vector<std::string> protocols, Duration timeout,
                                                 Callback on_done);
  // Accepts the first proposal that is in `supported`.
  static std::unique_ptr<MultistreamSelect> Listen(EventLoop* loop, Stream* stream,
                                                   std::vector<std::string> supported, Duration timeout,
                                                   Callback on_done);

  ~MultistreamSelect();

 private:
  enum class Role { kDialer, kListener };
  MultistreamSelect(EventLoop* loop, Stream* stream, Role role, std::vector<std::string> protocols,
                    Duration timeout, Callback on_done);
  void Start();
  // Handles one message after the header; returns an error to end the negotiation.
  Status OnMessage(std::string_view text);
  Status OnDialerMessage(std::string_view text);
  Status OnListenerMessage(std::string_view text);
  void OnData(ByteSpan data);
  void Send(std::string_view text);
  void Finish(StatusOr<std::string> result, ByteSpan leftover);

  EventLoop* const loop_;
  Stream* const stream_;
  const Role role_;
  const std::vector<std::string> protocols_;
  Callback on_done_;
  FrameReader reader_{kMaxProtocolNameLength + 1};
  std::unique_ptr<Timer> timeout_;
  std::unique_ptr<Task> finish_task_;
  StatusOr<std::string> result_ = CancelledError("not finished");
  // Bytes of the peer's encoded header matched so far; all of them once the header is in.
  size_t header_bytes_seen_ = 0;
  bool finished_ = false;
  size_t next_proposal_ = 0;  // Dialer: index of the protocol last proposed.
  int proposals_seen_ = 0;    // Listener.
  std::string agreed_;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_MULTISTREAM_SELECT_H_
