#include "libp2p/pubsub/trace/trace_collector.h"

#include <string>

namespace libp2p::pubsub::trace {

struct TraceCollector::Reader {
  Reader(std::unique_ptr<stream::Stream> s, TraceBatchDecoder::BatchFn on_batch, size_t max_batch_size)
      : stream(std::move(s)), decoder(std::move(on_batch), max_batch_size) {}
  ~Reader() {
    if (stream != nullptr) stream->SetHandlers({[](ByteSpan) {}, [] {}, [](const Status&) {}, [] {}});
  }
  std::unique_ptr<stream::Stream> stream;
  TraceBatchDecoder decoder;
};

TraceCollector::TraceCollector(stream::Host* host, TraceSink* sink, TraceCollectorOptions options)
    : host_(host), sink_(sink), options_(options), deleter_(host->loop()) {
  host_->SetStreamHandler(std::string(kRemoteTracerProtocol),
                          [this](std::unique_ptr<stream::Stream> s, const crypto::PeerId& peer, const std::string&) {
                            Accept(std::move(s), peer);
                          });
}

TraceCollector::~TraceCollector() { host_->RemoveStreamHandler(std::string(kRemoteTracerProtocol)); }

void TraceCollector::Accept(std::unique_ptr<stream::Stream> stream, const crypto::PeerId& peer) {
  if (readers_.size() >= options_.max_streams) {
    ++stats_.streams_refused;
    stream->Reset();
    return;
  }
  ++stats_.streams_accepted;
  const uint64_t id = next_id_++;
  auto on_batch = [this](const tracepb::TraceEventBatch& batch) {
    ++stats_.batches;
    for (const tracepb::TraceEvent& e : batch.batch()) {
      ++stats_.events;
      sink_->Write(e);
    }
  };
  auto reader = std::make_unique<Reader>(std::move(stream), std::move(on_batch), options_.max_batch_size);
  stream::Stream* s = reader->stream.get();
  readers_.emplace(id, std::move(reader));
  s->SetHandlers({[this, id](ByteSpan data) { OnData(id, data); },
                  // The tracer closed its side (RemoteTracer::Close): close ours.
                  [this, id] { End(id, /*reset=*/false); }, [this, id](const Status&) { End(id, /*reset=*/true); },
                  [] {}});
}

void TraceCollector::OnData(uint64_t id, ByteSpan data) {
  auto it = readers_.find(id);
  if (it == readers_.end()) return;
  if (!it->second->decoder.Feed(AsStringView(data)).ok()) {
    ++stats_.streams_failed;
    End(id, /*reset=*/true);
  }
}

void TraceCollector::End(uint64_t id, bool reset) {
  auto it = readers_.find(id);
  if (it == readers_.end()) return;
  std::unique_ptr<Reader> reader = std::move(it->second);
  readers_.erase(it);
  if (reset) {
    reader->stream->Reset();
  } else {
    reader->stream->CloseWrite();
  }
  deleter_.Delete(std::move(reader));
}

}  // namespace libp2p::pubsub::trace
