// A minimal protobuf wire-format reader and writer for the small libp2p messages whose encoding must be
// deterministic (keys, signed envelopes, peer records, the Noise handshake payload). Larger messages such as
// pubsub RPCs use protoc-generated code.
#ifndef LIBP2P_BASE_PROTO_WIRE_H_
#define LIBP2P_BASE_PROTO_WIRE_H_

#include <cstdint>
#include <string>

#include "libp2p/base/bytes.h"
#include "libp2p/base/status.h"

namespace libp2p::proto {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One field as read from the wire. For kLengthDelimited, `bytes` views the reader's input.
struct Field {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;  // kVarint, and the value of kFixed64 / kFixed32.
  ByteSpan bytes;       // kLengthDelimited.
};

// Reads fields one at a time from a complete encoded message, without copying. Strict: varints must be
// minimally encoded (at most 10 bytes), groups and unknown wire types are errors, field numbers must be
// 1..2^29-1, and a length must fit in what remains.
class Reader {
 public:
  explicit Reader(ByteSpan data) : rest_(data) {}

  bool done() const { return rest_.empty(); }
  // Reads the next field. kInvalidArgument on malformed input; calling after done() is an error too.
  Status Next(Field* field);

 private:
  ByteSpan rest_;
};

// Decodes a protobuf varint (up to 10 bytes, minimal) from the front of `*in`, advancing it.
StatusOr<uint64_t> ReadVarint(ByteSpan* in);

// Appenders for the fields of a message, in the order the caller writes them.
void AppendVarintField(uint32_t number, uint64_t value, Bytes* out);
void AppendBytesField(uint32_t number, ByteSpan value, Bytes* out);
inline void AppendBytesField(uint32_t number, std::string_view value, Bytes* out) {
  AppendBytesField(number, AsBytes(value), out);
}
// A protobuf varint of any uint64 value (up to 10 bytes).
void AppendVarint(uint64_t value, Bytes* out);
// Bytes taken by a length-delimited field with `size` bytes of payload.
size_t BytesFieldSize(uint32_t number, size_t size);

}  // namespace libp2p::proto

#endif  // LIBP2P_BASE_PROTO_WIRE_H_
