// For memory tests: a test binary that links //libp2p/base:live_bytes has the global operator new and
// delete replaced by ones that count the bytes alive, so that a test can see what an object holds between
// two points (LiveBytes() after minus before). Every allocation of the binary is counted; the sanitizers
// then see malloc and free instead. One thread only: the count is not atomic.
#ifndef LIBP2P_BASE_LIVE_BYTES_H_
#define LIBP2P_BASE_LIVE_BYTES_H_

#include <cstddef>

namespace libp2p::testing {

// Bytes allocated through operator new and not yet deleted.
size_t LiveBytes();

}  // namespace libp2p::testing

#endif  // LIBP2P_BASE_LIVE_BYTES_H_
