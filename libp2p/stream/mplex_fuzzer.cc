// Plays arbitrary bytes as the remote side of an mplex connection over an in-memory connection on virtual
// time. The first input byte picks how the bytes are cut into reads and how our side behaves; the rest is the
// remote's wire. Every inbound stream is accepted: every third one is paused until the input is used up, the
// others read (echoing, closing, resetting or dropping the stream from inside their callbacks).
//
// Invariants: no crash or sanitizer report; no more than kMaxInbound remote streams are open at once; a
// paused stream never holds more than kMaxBuffered unread bytes (all it delivers on resuming), and only a
// paused stream is ever failed for buffering (over kMaxBuffered, or over the connection's kBudget, which the
// paused streams together can exceed); the budget is whole again once the connection has ended; on_closed
// runs at most once. The same bytes also go through the
// frame decoder: each decoded message re-encodes to exactly the bytes it came from, and decodes back to
// itself.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/memory_budget.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/mplex.h"

using namespace libp2p;
using namespace libp2p::stream;

namespace {

constexpr size_t kMaxInbound = 8;
constexpr size_t kMaxBuffered = 1024;
constexpr size_t kBudget = 2048;

void Check(bool ok) {
  if (!ok) abort();
}

// Decoding then encoding is the identity on valid input: the encoding is canonical (minimal varints).
void CheckRoundTrip(ByteSpan wire) {
  MplexFrameDecoder decoder;
  ByteSpan in = wire;
  const uint8_t* frame_start = in.data();
  while (!in.empty()) {
    MplexFrameDecoder::View v;
    StatusOr<bool> complete = decoder.Next(&in, &v);
    if (!complete.ok() || !*complete) return;
    const MplexFrame frame{v.id, v.flag, Bytes(v.data.begin(), v.data.end())};
    const Bytes encoded = EncodeMplexFrame(frame);
    const ByteSpan consumed(frame_start, static_cast<size_t>(in.data() - frame_start));
    Check(std::equal(encoded.begin(), encoded.end(), consumed.begin(), consumed.end()));
    StatusOr<MplexFrame> again = DecodeMplexFrame(encoded);
    Check(again.ok() && *again == frame);
    frame_start = in.data();
  }
}

struct Accepted {
  std::unique_ptr<Stream> stream;
  size_t index = 0;
  bool paused = false;
  size_t delivered = 0;
  bool failed = false;
};

class Harness {
 public:
  explicit Harness(uint8_t control) : control_(control) {}

  void Run(ByteSpan wire) {
    Connect();
    if (control_ & 0x10) {
      StatusOr<std::unique_ptr<Stream>> s = conn_->OpenStream();
      Check(s.ok());
      outbound_ = std::move(s).value();
      outbound_->SetHandlers({[](ByteSpan) {}, {}, {}, {}});
      outbound_->Write(AsBytes("hello")).IgnoreError();
    }
    const size_t piece = PieceSize(wire.size());
    for (size_t off = 0; off < wire.size(); off += piece) {
      // Fails once our side has reset the connection (after a protocol error).
      if (!theirs_->Write(wire.subspan(off, std::min(piece, wire.size() - off))).ok()) break;
      loop_.RunUntilIdle();
    }
    // Resume the paused streams: what they deliver is what they held.
    for (auto& a : accepted_) {
      if (a->paused && a->stream != nullptr) {
        a->paused = false;
        a->stream->PauseReading(false);
      }
    }
    loop_.RunUntilIdle();
    for (auto& a : accepted_) {
      if (a->index % 3 == 0) Check(a->delivered <= kMaxBuffered);
    }
    Check(closed_ <= 1);
    End();
  }

 private:
  size_t PieceSize(size_t total) const {
    switch (control_ & 3) {
      case 0:
        return total == 0 ? 1 : total;
      case 1:
        return 1;
      case 2:
        return 7;
      default:
        return 64;
    }
  }

  void Connect() {
    auto transport = network_.CreateTransport();
    std::unique_ptr<RawConnection> ours;
    auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                       [&](std::unique_ptr<RawConnection> c) { ours = std::move(c); });
    auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { theirs_ = std::move(c).value(); });
    loop_.RunUntilIdle();
    Check(ours != nullptr && theirs_ != nullptr);
    theirs_->SetHandlers({[](ByteSpan) {}, {}, {}, {}});
    MuxerLimits limits;
    limits.max_inbound_streams = kMaxInbound;
    limits.mplex_max_buffered = kMaxBuffered;
    limits.budget = &budget_;
    conn_ = CreateMplexConnection(
        &loop_, std::move(ours), /*initiator=*/false,
        {[this](std::unique_ptr<Stream> s) { OnStream(std::move(s)); }, [this](const Status&) { ++closed_; }},
        limits);
  }

  void OnStream(std::unique_ptr<Stream> s) {
    Check(conn_ != nullptr && conn_->stream_count() <= kMaxInbound + (outbound_ != nullptr ? 1 : 0));
    auto a = std::make_unique<Accepted>();
    a->index = accepted_.size();
    a->stream = std::move(s);
    Accepted* raw = a.get();
    accepted_.push_back(std::move(a));
    raw->stream->SetHandlers({[this, raw](ByteSpan d) { OnData(raw, d); },
                              [this, raw] { OnEof(raw); },
                              [raw](const Status& e) {
                                raw->failed = true;
                                // Only a reader that did not keep up is failed for buffering.
                                if (e.code() == StatusCode::kResourceExhausted) Check(raw->index % 3 == 0);
                              },
                              {}});
    if (raw->index % 3 == 0) {
      raw->paused = true;
      raw->stream->PauseReading(true);
    }
  }

  void OnData(Accepted* a, ByteSpan d) {
    Check(!a->paused);
    a->delivered += d.size();
    if (a->index % 3 == 1) {
      if (control_ & 4) a->stream->Write(d).IgnoreError();
      return;
    }
    if (a->index % 3 != 2 || d.empty()) return;
    if (d[0] == 'R') {
      a->stream->Reset();
    } else if (d[0] == 'D') {
      a->stream.reset();  // Destroyed inside its own callback.
    } else if (d[0] == 'X' && (control_ & 8)) {
      conn_.reset();  // The connection destroyed inside a stream's callback.
    }
  }

  void OnEof(Accepted* a) {
    if (a->index % 3 == 2) {
      a->stream.reset();
    } else {
      a->stream->CloseWrite();
    }
  }

  void End() {
    if (control_ & 0x20) {
      if (conn_ != nullptr) conn_->Close();
    } else {
      conn_.reset();
    }
    Check(budget_.used() == 0);
    loop_.RunUntilIdle();
    // Streams outlive the connection and refuse writes.
    for (auto& a : accepted_) {
      if (a->stream != nullptr) Check(!a->stream->Write(AsBytes("x")).ok());
    }
    accepted_.clear();
    outbound_.reset();
    conn_.reset();
    loop_.RunUntilIdle();
  }

  const uint8_t control_;
  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<RawConnection> theirs_;
  MemoryBudget budget_{kBudget};  // The connection's; outlives it.
  std::unique_ptr<MuxedConnection> conn_;
  std::unique_ptr<Stream> outbound_;
  std::vector<std::unique_ptr<Accepted>> accepted_;
  int closed_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteSpan wire(data + 1, size - 1);
  CheckRoundTrip(wire);
  Harness(data[0]).Run(wire);
  return 0;
}
