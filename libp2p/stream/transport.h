// Transports: how raw connections are dialed and accepted (TCP on libevent, or in memory for tests).
#ifndef LIBP2P_STREAM_TRANSPORT_H_
#define LIBP2P_STREAM_TRANSPORT_H_

#include <functional>
#include <memory>
#include <utility>

#include "libp2p/base/multiaddr.h"
#include "libp2p/base/spliced_bytes.h"
#include "libp2p/base/status.h"
#include "libp2p/stream/stream.h"

namespace libp2p::stream {

// A raw (not yet secured) connection: a Stream with its two addresses.
class RawConnection : public virtual Stream {
 public:
  virtual const Multiaddr& local_addr() const = 0;
  virtual const Multiaddr& remote_addr() const = 0;
  // Whether Noise seals this connection's transport messages with the simulation's null cipher, and agrees
  // on its keys with the simulation's stand-in for X25519 (LinkModel::null_cipher): true only on the
  // in-memory connections of a simulated network built with it, never on a real transport.
  virtual bool simulation_null_cipher() const { return false; }
  // Write() of a buffer the connection may keep rather than copy: one that queues what it is given (the
  // in-memory connection) takes it whole. Fails as Write() does. This default writes a copy.
  virtual Status WriteOwned(Bytes data) { return Write(data); }
  // WriteOwned() of bytes with views of shared buffers spliced in (what Noise with the simulation's null
  // cipher makes of WriteShared() calls): one that queues what it is given (the in-memory connection) keeps
  // the views, and so the shared buffers, until the bytes are delivered. Fails as Write() does. This
  // default writes them gathered into one buffer.
  virtual Status WriteSpliced(SplicedBytes data) { return WriteOwned(std::move(data).Flat()); }
  // A hint that about `bytes` more are about to be written, in several Write() calls of this loop turn (a
  // muxer writing a large message as a run of frames), most of them WriteShared() calls when `shared`: a
  // connection that gathers a turn's writes into one buffer makes room for all of them at once (unless it
  // keeps shared bytes by reference), rather than growing (and moving) the buffer as they come. Changes
  // nothing that is sent. This default ignores it.
  virtual void ExpectWrites(size_t bytes, bool shared) {}
};

// Accepts connections while it exists; destroying it stops listening.
class Listener {
 public:
  virtual ~Listener() = default;
  // The address actually bound (with the real port when port 0 was asked for).
  virtual const Multiaddr& listen_addr() const = 0;
};

// A dial in progress; destroying it cancels the dial, and its callback then never runs.
class PendingDial {
 public:
  virtual ~PendingDial() = default;
};

class Transport {
 public:
  // Receives each accepted connection; the callee owns it.
  using AcceptCallback = std::function<void(std::unique_ptr<RawConnection>)>;
  // Receives the connection, or why there is none. Runs at most once, from the event loop, never from
  // inside Dial().
  using DialCallback = std::function<void(StatusOr<std::unique_ptr<RawConnection>>)>;

  virtual ~Transport() = default;

  // Whether this transport handles `addr` (e.g. /ip4/../tcp/.. for TCP; a /p2p suffix is ignored).
  virtual bool CanDial(const Multiaddr& addr) const = 0;

  // Starts listening. Fails with kInvalidArgument for an address this transport does not handle and with
  // kUnavailable when it cannot be bound.
  virtual StatusOr<std::unique_ptr<Listener>> Listen(const Multiaddr& addr, AcceptCallback on_accept) = 0;

  // Starts a dial. The returned handle must be kept until the callback runs; destroying it earlier cancels.
  virtual std::unique_ptr<PendingDial> Dial(const Multiaddr& addr, DialCallback on_done) = 0;
};

}  // namespace libp2p::stream

#endif  // LIBP2P_STREAM_TRANSPORT_H_
