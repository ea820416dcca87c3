// Test helpers for stream layers.
#ifndef LIBP2P_STREAM_TEST_UTIL_H_
#define LIBP2P_STREAM_TEST_UTIL_H_

#include <functional>
#include <string>

#include "libp2p/base/libevent_loop.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream::testing {

// Records what a stream delivers. Install with Attach(); the recorder must outlive the stream's callbacks.
struct Recorder {
  std::string data;
  bool eof = false;
  Status error;
  bool errored = false;
  int writable = 0;

  void Attach(Stream* s) {
    s->SetHandlers(Stream::Handlers{
        [this](ByteSpan b) { data.append(reinterpret_cast<const char*>(b.data()), b.size()); },
        [this] { eof = true; },
        [this](const Status& e) {
          error = e;
          errored = true;
        },
        [this] { ++writable; }});
  }
};

// Runs a real event loop until `done()` holds, checking after every loop iteration batch; gives up (and
// returns false) after `limit` of wall time, so a broken test fails instead of hanging.
bool RunUntil(LibeventLoop* loop, const std::function<bool()>& done,
              Duration limit = std::chrono::seconds(20));

}  // namespace libp2p::stream::testing

#endif  // LIBP2P_STREAM_TEST_UTIL_H_
