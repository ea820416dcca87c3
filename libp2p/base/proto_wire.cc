#include "libp2p/base/proto_wire.h"

#include <string>

namespace libp2p::proto {
namespace {

constexpr size_t kMaxVarintBytes = 10;
constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

StatusOr<uint64_t> ReadVarint(ByteSpan* in) {
  uint64_t value = 0;
  for (size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (i >= in->size()) return InvalidArgumentError("protobuf: truncated varint");
    const uint8_t b = (*in)[i];
    if (i == 9 && b > 1) return InvalidArgumentError("protobuf: varint overflows 64 bits");
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (b == 0 && i > 0) return InvalidArgumentError("protobuf: varint is not minimally encoded");
      *in = in->subspan(i + 1);
      return value;
    }
  }
  return InvalidArgumentError("protobuf: varint longer than 10 bytes");
}

Status Reader::Next(Field* field) {
  if (rest_.empty()) return InvalidArgumentError("protobuf: no more fields");
  ASSIGN_OR_RETURN(const uint64_t key, ReadVarint(&rest_));
  const uint64_t number = key >> 3;
  if (number == 0 || number > kMaxFieldNumber) {
    return InvalidArgumentError("protobuf: invalid field number " + std::to_string(number));
  }
  field->number = static_cast<uint32_t>(number);
  field->bytes = ByteSpan();
  field->varint = 0;
  switch (key & 7) {
    case 0: {
      field->type = WireType::kVarint;
      ASSIGN_OR_RETURN(field->varint, ReadVarint(&rest_));
      return OkStatus();
    }
    case 1:
    case 5: {
      const size_t n = (key & 7) == 1 ? 8 : 4;
      if (rest_.size() < n) return InvalidArgumentError("protobuf: truncated fixed-width field");
      uint64_t v = 0;
      for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(rest_[i]) << (8 * i);
      field->type = n == 8 ? WireType::kFixed64 : WireType::kFixed32;
      field->varint = v;
      rest_ = rest_.subspan(n);
      return OkStatus();
    }
    case 2: {
      ASSIGN_OR_RETURN(const uint64_t length, ReadVarint(&rest_));
      if (length > rest_.size()) {
        return InvalidArgumentError("protobuf: field " + std::to_string(number) + " declares " +
                                    std::to_string(length) + " bytes but " + std::to_string(rest_.size()) +
                                    " remain");
      }
      field->type = WireType::kLengthDelimited;
      field->bytes = rest_.first(static_cast<size_t>(length));
      rest_ = rest_.subspan(static_cast<size_t>(length));
      return OkStatus();
    }
    default:
      return InvalidArgumentError("protobuf: unsupported wire type " + std::to_string(key & 7));
  }
}

void AppendVarint(uint64_t value, Bytes* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<uint8_t>(value) | 0x80);
    value >>= 7;
  }
  out->push_back(static_cast<uint8_t>(value));
}

void AppendVarintField(uint32_t number, uint64_t value, Bytes* out) {
  AppendVarint(uint64_t{number} << 3, out);
  AppendVarint(value, out);
}

void AppendBytesField(uint32_t number, ByteSpan value, Bytes* out) {
  AppendVarint((uint64_t{number} << 3) | 2, out);
  AppendVarint(value.size(), out);
  out->insert(out->end(), value.begin(), value.end());
}

size_t BytesFieldSize(uint32_t number, size_t size) {
  return VarintSize((uint64_t{number} << 3) | 2) + VarintSize(size) + size;
}

}  // namespace libp2p::proto
