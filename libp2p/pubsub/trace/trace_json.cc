#include "libp2p/pubsub/trace/trace_json.h"

#include <charconv>
#include <cstdint>
#include <string_view>

#include "google/protobuf/descriptor.h"
#include "libp2p/pubsub/trace/go_json.h"

namespace libp2p::pubsub::trace {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename T>
void AppendNumber(T value, std::string* out) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

void AppendBytes(std::string_view bytes, std::string* out) {
  out->push_back('"');
  AppendBase64(bytes, out);
  out->push_back('"');
}

// Appends element `index` of a repeated field (index < 0: the singular field's value).
void AppendValue(const Message& message, const Reflection& r, const FieldDescriptor& f, int index, std::string* out) {
  const bool rep = index >= 0;
  std::string scratch;  // Only for string fields not stored as std::string (never, for generated messages).
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      AppendNumber(rep ? r.GetRepeatedInt32(message, &f, index) : r.GetInt32(message, &f), out);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      AppendNumber(rep ? r.GetRepeatedInt64(message, &f, index) : r.GetInt64(message, &f), out);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      AppendNumber(rep ? r.GetRepeatedUInt32(message, &f, index) : r.GetUInt32(message, &f), out);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      AppendNumber(rep ? r.GetRepeatedUInt64(message, &f, index) : r.GetUInt64(message, &f), out);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      // Go's enum types are int32s without a MarshalJSON: a number.
      AppendNumber(rep ? r.GetRepeatedEnumValue(message, &f, index) : r.GetEnumValue(message, &f), out);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r.GetRepeatedBool(message, &f, index) : r.GetBool(message, &f)) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      // The trace schema has no floating-point fields; Go's float formatting is not reproduced.
      out->append("0");
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string& v = rep ? r.GetRepeatedStringReference(message, &f, index, &scratch)
                                 : r.GetStringReference(message, &f, &scratch);
      if (f.type() == FieldDescriptor::TYPE_BYTES) {
        AppendBytes(v, out);
      } else {
        AppendGoJsonString(v, out);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendGoJsonMessage(rep ? r.GetRepeatedMessage(message, &f, index) : r.GetMessage(message, &f), out);
      break;
  }
}

// Whether Go writes the singular field `f`: its pointer is non-nil, and for []byte, omitempty also drops an
// empty slice.
bool GoWritesSingular(const Message& message, const Reflection& r, const FieldDescriptor& f) {
  if (!r.HasField(message, &f)) return false;
  if (f.type() != FieldDescriptor::TYPE_BYTES) return true;
  std::string scratch;
  return !r.GetStringReference(message, &f, &scratch).empty();
}

}  // namespace

void AppendGoJsonMessage(const Message& message, std::string* out) {
  const google::protobuf::Descriptor& d = *message.GetDescriptor();
  const Reflection& r = *message.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d.field_count(); ++i) {  // Declaration order.
    const FieldDescriptor& f = *d.field(i);
    const int size = f.is_repeated() ? r.FieldSize(message, &f) : 0;
    if (f.is_repeated() ? size == 0 : !GoWritesSingular(message, r, f)) continue;
    if (!first) out->push_back(',');
    first = false;
    out->push_back('"');
    out->append(f.name());  // Proto names are identifiers: nothing to escape.
    out->append("\":");
    if (!f.is_repeated()) {
      AppendValue(message, r, f, -1, out);
      continue;
    }
    out->push_back('[');
    for (int k = 0; k < size; ++k) {
      if (k > 0) out->push_back(',');
      AppendValue(message, r, f, k, out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

void AppendTraceEventJsonLine(const tracepb::TraceEvent& event, std::string* out) {
  AppendGoJsonMessage(event, out);
  out->push_back('\n');
}

}  // namespace libp2p::pubsub::trace
