// One upgraded connection as the host's events and the connection gater describe it.
#ifndef LIBP2P_STREAM_CONNECTION_INFO_H_
#define LIBP2P_STREAM_CONNECTION_INFO_H_

#include <cstdint>
#include <string>

#include "libp2p/base/multiaddr.h"
#include "libp2p/crypto/peer_id.h"

namespace libp2p::stream {

struct ConnectionInfo {
  uint64_t id = 0;  // Unique within the host.
  crypto::PeerId peer;
  bool inbound = false;
  std::string security;
  std::string muxer;
  Multiaddr local_addr;
  Multiaddr remote_addr;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_CONNECTION_INFO_H_
