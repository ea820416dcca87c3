#include "libp2p/stream/multistream_select.h"

#include <algorithm>

#include "libp2p/base/bytes.h"
#include "libp2p/base/varint.h"

namespace libp2p::stream {
namespace {

// The header as it travels: its length, its text and "\n". Both sides send it first, byte for byte the same.
constexpr std::string_view kEncodedHeader = "\x13/multistream/1.0.0\n";
static_assert(kEncodedHeader.size() == 1 + kMultistreamHeader.size() + 1 &&
              kEncodedHeader.substr(1, kMultistreamHeader.size()) == kMultistreamHeader &&
              static_cast<size_t>(kEncodedHeader[0]) == kMultistreamHeader.size() + 1);

}  // namespace

Bytes EncodeMultistreamMessage(std::string_view text) {
  Bytes out;
  out.reserve(text.size() + 3);
  AppendUvarint(text.size() + 1, &out);
  out.insert(out.end(), text.begin(), text.end());
  out.push_back('\n');
  return out;
}

StatusOr<std::string_view> DecodeMultistreamMessage(ByteSpan payload) {
  if (payload.empty() || payload.back() != '\n') {
    return InvalidArgumentError("multistream message does not end in a newline");
  }
  const std::string_view text = AsStringView(payload.first(payload.size() - 1));
  if (text.size() > kMaxProtocolNameLength) return OutOfRangeError("multistream message too long");
  if (text.find('\n') != std::string_view::npos) {
    return InvalidArgumentError("multistream message holds more than one line");
  }
  return text;
}

std::unique_ptr<MultistreamSelect> MultistreamSelect::Dial(EventLoop* loop, Stream* stream,
                                                           std::vector<std::string> protocols, Duration timeout,
                                                           Callback on_done) {
  std::unique_ptr<MultistreamSelect> m(
      new MultistreamSelect(loop, stream, Role::kDialer, std::move(protocols), timeout, std::move(on_done)));
  m->Start();
  return m;
}

std::unique_ptr<MultistreamSelect> MultistreamSelect::Listen(EventLoop* loop, Stream* stream,
                                                             std::vector<std::string> supported,
                                                             Duration timeout, Callback on_done) {
  std::unique_ptr<MultistreamSelect> m(
      new MultistreamSelect(loop, stream, Role::kListener, std::move(supported), timeout, std::move(on_done)));
  m->Start();
  return m;
}

MultistreamSelect::MultistreamSelect(EventLoop* loop, Stream* stream, Role role,
                                     std::vector<std::string> protocols, Duration timeout, Callback on_done)
    : loop_(loop), stream_(stream), role_(role), protocols_(std::move(protocols)), on_done_(std::move(on_done)),
      timeout_(loop->CreateTimer([this] {
        Finish(DeadlineExceededError("multistream-select negotiation timed out"), ByteSpan());
      })),
      finish_task_(loop->CreateTask([this] {
        Callback done = std::move(on_done_);
        done(std::move(result_));  // May destroy this.
      })) {
  timeout_->Schedule(timeout);
}

MultistreamSelect::~MultistreamSelect() {
  if (!finished_) stream_->SetHandlers({});
}

void MultistreamSelect::Start() {
  stream_->SetHandlers(Stream::Handlers{
      [this](ByteSpan data) { OnData(data); },
      [this] { Finish(UnavailableError("stream closed during multistream-select"), ByteSpan()); },
      [this](const Status& e) {
        Finish(UnavailableError("stream failed during multistream-select: " + e.message()), ByteSpan());
      },
      {}});
  if (role_ == Role::kDialer && protocols_.empty()) {
    return Finish(InvalidArgumentError("no protocol to propose"), ByteSpan());
  }
  // Both roles send the header at once; the dialer pipelines its first proposal with it.
  Bytes out = EncodeMultistreamMessage(kMultistreamHeader);
  if (role_ == Role::kDialer) {
    const Bytes proposal = EncodeMultistreamMessage(protocols_[0]);
    out.insert(out.end(), proposal.begin(), proposal.end());
  }
  if (Status s = stream_->Write(out); !s.ok()) Finish(s, ByteSpan());
}

void MultistreamSelect::Send(std::string_view text) {
  if (Status s = stream_->Write(EncodeMultistreamMessage(text)); !s.ok()) Finish(s, ByteSpan());
}

void MultistreamSelect::OnData(ByteSpan data) {
  if (finished_) return;
  // Frames are consumed one at a time so that the bytes after the final message can be given back.
  size_t consumed = 0;
  while (!finished_ && consumed < data.size()) {
    // The header is matched byte by byte, not read as a frame: a peer that sends anything else (a stranger,
    // or a peer on another private network whose bytes read as noise) is refused at its first wrong byte
    // instead of being waited for while its noise announces a frame that never comes.
    if (header_bytes_seen_ < kEncodedHeader.size()) {
      if (data[consumed] != static_cast<uint8_t>(kEncodedHeader[header_bytes_seen_])) {
        const ByteSpan seen = data.subspan(consumed, std::min<size_t>(data.size() - consumed, 16));
        return Finish(InvalidArgumentError("peer does not speak multistream-select 1.0 (byte " +
                                           std::to_string(header_bytes_seen_) + " of its header differs; got " +
                                           HexEncode(seen) + ")"),
                      ByteSpan());
      }
      ++header_bytes_seen_;
      ++consumed;
      continue;
    }
    // Feed one byte at a time until a frame completes: negotiation messages are tiny and rare.
    Status status = reader_.Feed(data.subspan(consumed, 1), [this](ByteSpan frame) -> Status {
      ASSIGN_OR_RETURN(std::string_view text, DecodeMultistreamMessage(frame));
      return OnMessage(text);
    });
    ++consumed;
    if (!status.ok()) return Finish(status, ByteSpan());
    if (!agreed_.empty()) return Finish(agreed_, data.subspan(consumed));
  }
}

Status MultistreamSelect::OnMessage(std::string_view text) {
  return role_ == Role::kDialer ? OnDialerMessage(text) : OnListenerMessage(text);
}

Status MultistreamSelect::OnDialerMessage(std::string_view text) {
  if (text == protocols_[next_proposal_]) {
    agreed_ = std::string(text);
    return OkStatus();
  }
  if (text != "na") {
    return InvalidArgumentError("unexpected multistream answer \"" + std::string(text.substr(0, 64)) + "\"");
  }
  if (++next_proposal_ >= protocols_.size()) return NotFoundError("peer supports none of our protocols");
  Send(protocols_[next_proposal_]);
  return OkStatus();
}

Status MultistreamSelect::OnListenerMessage(std::string_view text) {
  if (++proposals_seen_ > kMaxProposals) return ResourceExhaustedError("too many multistream proposals");
  if (text == "ls") {
    // One message holding each protocol as its own length-prefixed line, then a final newline.
    Bytes list;
    for (const std::string& p : protocols_) {
      const Bytes line = EncodeMultistreamMessage(p);
      list.insert(list.end(), line.begin(), line.end());
    }
    Bytes out;
    AppendUvarint(list.size() + 1, &out);
    out.insert(out.end(), list.begin(), list.end());
    out.push_back('\n');
    if (Status s = stream_->Write(out); !s.ok()) return s;
    return OkStatus();
  }
  if (std::find(protocols_.begin(), protocols_.end(), text) != protocols_.end()) {
    Send(text);
    agreed_ = std::string(text);
    return OkStatus();
  }
  Send("na");
  return OkStatus();
}

void MultistreamSelect::Finish(StatusOr<std::string> result, ByteSpan leftover) {
  if (finished_) return;
  finished_ = true;
  timeout_->Cancel();
  stream_->SetHandlers({});
  if (!leftover.empty()) stream_->Unread(leftover);
  result_ = std::move(result);
  finish_task_->Post();
}

}  // namespace libp2p::stream
