#include "libp2p/pubsub/rpc/rpc_codec.h"

#include "libp2p/base/proto_wire.h"

namespace libp2p::pubsub {
namespace {

using proto::Field;
using proto::Reader;
using proto::WireType;

// Walks an encoded RPC, deciding for each element whether it is within the limits. With an output, it also
// writes the RPC again with only those elements; without, it only counts. Both passes decide alike.
class Filter {
 public:
  Filter(const RpcLimits& limits, Bytes* out) : limits_(limits), out_(out) {}

  // RPC {subscriptions = 1, publish = 2, control = 3, partial = 10, experimental extensions}. Other fields
  // are left out.
  Status Rpc(ByteSpan encoded) {
    return Fields(encoded, out_, [&](const Field& f, Bytes* out) -> Status {
      if (Experimental(f.number)) {
        const bool keep = f.type == WireType::kVarint ||
                          (f.type == WireType::kLengthDelimited && f.bytes.size() <= limits_.max_experimental_field_size);
        return keep ? Keep(f, out) : Leave(out);
      }
      if (f.type != WireType::kLengthDelimited) return Leave(out);
      if (f.number == 10) return Partial(f, out);
      if (f.number < 1 || f.number > 3) return Leave(out);
      if (f.number == 3) {
        if (f.bytes.size() > limits_.max_control_size) return Leave(out);
        return Nested(f, out, [&](ByteSpan control, Bytes* control_out) { return Control(control, control_out); });
      }
      // SubOpts {subscribe = 1, topicid = 2}; Message {..., topic = 4, ...}: kept whole (a message's bytes
      // are what its signature covers).
      ASSIGN_OR_RETURN(const bool topic_ok, TopicWithin(f.bytes, f.number == 1 ? 2 : 4));
      const bool keep = topic_ok && (f.number == 1 ? Take(&counts_.subscriptions, limits_.max_subscriptions)
                                                   : Take(&counts_.messages, limits_.max_messages));
      return keep ? Keep(f, out) : Leave(out);
    });
  }

  const RpcCounts& counts() const { return counts_; }

 private:
  bool Experimental(uint32_t number) const {
    for (uint32_t n : limits_.experimental_fields) {
      if (n == number) return true;
    }
    return false;
  }

  // PartialMessagesExtension {topicID = 1, groupID = 2, partialMessage = 3, partsMetadata = 4}: kept whole,
  // the first one only, when its topic and group id are within their limits.
  Status Partial(const Field& f, Bytes* out) {
    bool ok = true;
    RETURN_IF_ERROR(Fields(f.bytes, nullptr, [&](const Field& g, Bytes*) {
      if (g.type != WireType::kLengthDelimited) return OkStatus();
      if ((g.number == 1 && g.bytes.size() > limits_.max_topic_length) ||
          (g.number == 2 && g.bytes.size() > limits_.max_group_id_length)) {
        ok = false;
      }
      return OkStatus();
    }));
    return ok && Take(&counts_.partials, 1) ? Keep(f, out) : Leave(out);
  }

  // ControlExtensions {partialMessages = 10, experimental flags}: the first one, with its known flags.
  Status Extensions(const Field& f, Bytes* out) {
    if (!Take(&counts_.extensions, 1)) return Leave(out);
    return Nested(f, out, [&](ByteSpan ext, Bytes* ext_out) {
      return Fields(ext, ext_out, [&](const Field& g, Bytes* o) -> Status {
        const bool keep = g.type == WireType::kVarint && (g.number == 10 || Experimental(g.number));
        return keep ? Keep(g, o) : Leave(o);
      });
    });
  }

  // Calls on_field(field, out) for each field of `message`.
  template <typename F>
  static Status Fields(ByteSpan message, Bytes* out, F&& on_field) {
    Reader r(message);
    while (!r.done()) {
      Field f;
      RETURN_IF_ERROR(r.Next(&f));
      RETURN_IF_ERROR(on_field(f, out));
    }
    return OkStatus();
  }

  // Writes `f` as read (a length-delimited or varint field; the RPC has no fixed-width ones).
  static Status Keep(const Field& f, Bytes* out) {
    if (out == nullptr) return OkStatus();
    if (f.type == WireType::kVarint) {
      proto::AppendVarintField(f.number, f.varint, out);
    } else {
      proto::AppendBytesField(f.number, f.bytes, out);
    }
    return OkStatus();
  }

  // Leaves a field out.
  Status Leave(Bytes*) {
    ++counts_.left_out;
    return OkStatus();
  }

  // Counts one more element against `limit`; false when that would go over it.
  static bool Take(size_t* count, size_t limit) {
    if (*count >= limit) return false;
    ++*count;
    return true;
  }

  // Whether the topic (field `number`) of a nested message is within max_topic_length.
  StatusOr<bool> TopicWithin(ByteSpan message, uint32_t number) const {
    bool ok = true;
    RETURN_IF_ERROR(Fields(message, nullptr, [&](const Field& g, Bytes*) {
      if (g.number == number && g.type == WireType::kLengthDelimited && g.bytes.size() > limits_.max_topic_length) {
        ok = false;
      }
      return OkStatus();
    }));
    return ok;
  }

  // A nested message written through `inner` (which filters its fields) as field `f.number`.
  template <typename F>
  static Status Nested(const Field& f, Bytes* out, F&& inner) {
    if (out == nullptr) return inner(f.bytes, nullptr);
    Bytes nested;
    RETURN_IF_ERROR(inner(f.bytes, &nested));
    proto::AppendBytesField(f.number, nested, out);
    return OkStatus();
  }

  // ControlMessage {ihave = 1, iwant = 2, graft = 3, prune = 4, idontwant = 5, extensions = 6}.
  Status Control(ByteSpan control, Bytes* out) {
    return Fields(control, out, [&](const Field& f, Bytes* control_out) -> Status {
      if (f.type == WireType::kLengthDelimited && f.number == 6) return Extensions(f, control_out);
      if (f.type != WireType::kLengthDelimited || f.number < 1 || f.number > 5) return Leave(control_out);
      // An entry with a topic (IHAVE, GRAFT, PRUNE) that is too long goes whole.
      if (f.number == 1 || f.number == 3 || f.number == 4) {
        ASSIGN_OR_RETURN(const bool topic_ok, TopicWithin(f.bytes, 1));
        if (!topic_ok) return Leave(control_out);
      }
      if (!Take(&counts_.control_entries, limits_.max_control_entries)) return Leave(control_out);
      EntryShape shape;
      switch (f.number) {
        case 1:  // ControlIHave {topicID = 1, messageIDs = 2}
          shape = {1, 2, &counts_.ihave_ids, limits_.max_ihave_ids, true, 0};
          break;
        case 2:  // ControlIWant {messageIDs = 1}
          shape = {0, 1, &counts_.iwant_ids, limits_.max_iwant_ids, true, 0};
          break;
        case 3:  // ControlGraft {topicID = 1}
          shape = {1, 0, nullptr, 0, false, 0};
          break;
        case 4:  // ControlPrune {topicID = 1, peers = 2, backoff = 3}
          shape = {1, 2, &counts_.prune_peers, limits_.max_prune_peers, false, 3};
          break;
        default:  // ControlIDontWant {messageIDs = 1}
          shape = {0, 1, &counts_.idontwant_ids, limits_.max_idontwant_ids, true, 0};
          break;
      }
      return Nested(f, control_out, [&](ByteSpan entry, Bytes* entry_out) { return Entry(shape, entry, entry_out); });
    });
  }

  // The fields of a control entry that are kept; a zero field number means the entry has no such field.
  struct EntryShape {
    uint32_t topic = 0;        // Kept.
    uint32_t items = 0;        // Repeated, counted against `limit` in `*count`.
    size_t* count = nullptr;
    size_t limit = 0;
    bool items_are_ids = false;  // Then each item is also length-checked.
    uint32_t varint = 0;         // Kept (PRUNE's backoff).
  };

  // Filters a control entry to the fields of `shape`; other fields are left out.
  Status Entry(const EntryShape& shape, ByteSpan entry, Bytes* out) {
    return Fields(entry, out, [&](const Field& g, Bytes* entry_out) -> Status {
      const bool delimited = g.type == WireType::kLengthDelimited;
      if (shape.topic != 0 && g.number == shape.topic && delimited) return Keep(g, entry_out);
      if (shape.varint != 0 && g.number == shape.varint && g.type == WireType::kVarint) return Keep(g, entry_out);
      if (shape.items == 0 || g.number != shape.items || !delimited) return Leave(entry_out);
      const bool keep = (!shape.items_are_ids || g.bytes.size() <= limits_.max_message_id_length) &&
                        Take(shape.count, shape.limit);
      return keep ? Keep(g, entry_out) : Leave(entry_out);
    });
  }

  const RpcLimits& limits_;
  Bytes* const out_;
  RpcCounts counts_;
};

}  // namespace

StatusOr<RpcCounts> CheckRpcLimits(ByteSpan encoded, const RpcLimits& limits) {
  if (encoded.size() > limits.max_rpc_size) {
    return OutOfRangeError("RPC of " + std::to_string(encoded.size()) + " bytes exceeds " +
                           std::to_string(limits.max_rpc_size));
  }
  Filter count(limits, nullptr);
  RETURN_IF_ERROR(count.Rpc(encoded));
  return count.counts();
}

StatusOr<pb::RPC> DecodeRpc(ByteSpan encoded, const RpcLimits& limits, RpcCounts* counts) {
  ASSIGN_OR_RETURN(const RpcCounts c, CheckRpcLimits(encoded, limits));
  if (counts != nullptr) *counts = c;
  Bytes filtered;
  if (c.left_out > 0) {
    // Written again without what is over the limits (never larger than the original).
    Filter write(limits, &filtered);
    RETURN_IF_ERROR(write.Rpc(encoded));
    encoded = filtered;
  }
  pb::RPC rpc;
  if (!rpc.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) {
    return InvalidArgumentError("RPC is not a valid protobuf");
  }
  return rpc;
}

namespace {

// Fills control messages of at most `max_bytes` each, entry by entry.
class ControlSplitter {
 public:
  explicit ControlSplitter(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Room for an entry of field `number` with `entry_size` bytes: the current message, or a new one.
  pb::ControlMessage* For(uint32_t number, size_t entry_size) {
    const size_t bytes = proto::BytesFieldSize(number, entry_size);
    if (out_.empty() || (used_ > 0 && used_ + bytes > max_bytes_)) {
      out_.emplace_back();
      used_ = 0;
    }
    used_ += bytes;
    return &out_.back();
  }

  // Adds the ids of an IHAVE (`topic` set), IWANT or IDONTWANT entry, in as many entries as it takes.
  template <typename Entry, typename AddTo>
  void Ids(uint32_t number, const Entry& entry, const google::protobuf::RepeatedPtrField<std::string>& ids,
           AddTo add_to) {
    if (entry.ByteSizeLong() + kHeaderRoom <= max_bytes_) {
      *add_to(For(number, entry.ByteSizeLong())) = entry;
      return;
    }
    Entry chunk = entry;
    chunk.clear_messageids();
    const Entry empty = chunk;
    const auto flush = [&] {
      if (chunk.messageids_size() == 0) return;
      *add_to(For(number, chunk.ByteSizeLong())) = std::move(chunk);
      chunk = empty;
    };
    for (const std::string& id : ids) {
      // The entry, its field header and this id must fit.
      if (chunk.ByteSizeLong() + proto::BytesFieldSize(2, id.size()) + kHeaderRoom > max_bytes_) flush();
      chunk.add_messageids(id);
    }
    flush();
  }

  std::vector<pb::ControlMessage> Take() { return std::move(out_); }

  // Room for an entry's varint headers (its field's tag and length, and those of an id within it).
  static constexpr size_t kHeaderRoom = 8;

 private:
  const size_t max_bytes_;
  std::vector<pb::ControlMessage> out_;
  size_t used_ = 0;
};

}  // namespace

std::vector<pb::ControlMessage> SplitControl(pb::ControlMessage control, size_t max_bytes) {
  std::vector<pb::ControlMessage> parts;
  // Within its size with room to spare, as almost every one is: the splitter would make one part, an
  // entry-by-entry copy of it, and it goes as it is.
  if (const size_t size = control.ByteSizeLong(); size + ControlSplitter::kHeaderRoom <= max_bytes) {
    if (size > 0) parts.push_back(std::move(control));
    return parts;
  }
  ControlSplitter s(max_bytes);
  for (const auto& g : control.graft()) *s.For(3, g.ByteSizeLong())->add_graft() = g;
  for (const auto& p : control.prune()) *s.For(4, p.ByteSizeLong())->add_prune() = p;
  for (const auto& e : control.ihave()) s.Ids(1, e, e.messageids(), [](pb::ControlMessage* c) { return c->add_ihave(); });
  for (const auto& e : control.iwant()) s.Ids(2, e, e.messageids(), [](pb::ControlMessage* c) { return c->add_iwant(); });
  for (const auto& e : control.idontwant()) {
    s.Ids(5, e, e.messageids(), [](pb::ControlMessage* c) { return c->add_idontwant(); });
  }
  return s.Take();
}

StatusOr<std::string> EncodeRpc(const pb::RPC& rpc, const RpcLimits& limits) {
  const size_t size = rpc.ByteSizeLong();
  if (size > limits.max_rpc_size) {
    return OutOfRangeError("RPC of " + std::to_string(size) + " bytes exceeds " + std::to_string(limits.max_rpc_size));
  }
  std::string out;
  if (!rpc.SerializeToString(&out)) return InternalError("RPC serialization failed");
  return out;
}

size_t AppendPublishFrame(const pb::Message& msg, Bytes* out) {
  // RPC {publish = 2}: one length-delimited field, the message's own encoding.
  const size_t msg_size = msg.ByteSizeLong();
  const size_t rpc_size = proto::BytesFieldSize(2, msg_size);
  constexpr size_t kLongestPrefix = 10;  // A uvarint of 64 bits.
  out->reserve(out->size() + kLongestPrefix + rpc_size);  // One allocation, not one per field as it grows.
  proto::AppendVarint(rpc_size, out);
  proto::AppendVarint((2 << 3) | static_cast<uint32_t>(WireType::kLengthDelimited), out);
  proto::AppendVarint(msg_size, out);
  const size_t at = out->size();
  out->resize(at + msg_size);
  msg.SerializeWithCachedSizesToArray(out->data() + at);
  return rpc_size;
}

}  // namespace libp2p::pubsub
