// Decodes arbitrary text with every decoder and checks that decoding is canonical: a success re-encodes to
// the input (lower-cased for the case-insensitive bare base32 and base16 decoders; exactly for base58, every
// base64 flavour, and, prefix included, MultibaseDecode). Also encodes the input bytes with every encoding
// and checks they decode back.
// Text over the limit must fail with kOutOfRange, any other failure must be kInvalidArgument.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "libp2p/base/multibase.h"

using libp2p::Base64Alphabet;
using libp2p::Base64Padding;
using libp2p::Bytes;
using libp2p::ByteSpan;
using libp2p::StatusCode;
using libp2p::StatusOr;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Checks the failure code, or that `encode(result)` equals `expected`.
template <typename Encode>
void CheckDecode(const StatusOr<Bytes>& result, std::string_view payload, const std::string& expected,
                 Encode encode) {
  if (!result.ok()) {
    const StatusCode want = payload.size() > libp2p::kMaxMultibaseTextLength ? StatusCode::kOutOfRange
                                                                             : StatusCode::kInvalidArgument;
    if (result.status().code() != want) abort();
    return;
  }
  if (encode(*result) != expected) abort();
}

void CheckEncodings(ByteSpan data) {
  using libp2p::Multibase;
  constexpr Multibase kBases[] = {Multibase::kBase58Btc, Multibase::kBase32, Multibase::kBase32Upper,
                                  Multibase::kBase16, Multibase::kBase16Upper, Multibase::kBase64,
                                  Multibase::kBase64Pad, Multibase::kBase64Url, Multibase::kBase64UrlPad};
  for (const Multibase base : kBases) {
    const std::string text = libp2p::MultibaseEncode(base, data);
    Multibase found = Multibase::kBase58Btc;
    const StatusOr<Bytes> back = libp2p::MultibaseDecode(text, &found);
    if (text.size() - 1 > libp2p::kMaxMultibaseTextLength) {
      if (back.ok()) abort();
      continue;
    }
    if (!back.ok() || found != base || !std::equal(back->begin(), back->end(), data.begin(), data.end())) {
      abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckDecode(libp2p::Base58BtcDecode(text), text, std::string(text), libp2p::Base58BtcEncode);
  CheckDecode(libp2p::Base32Decode(text), text, Lower(text), libp2p::Base32Encode);
  CheckDecode(libp2p::Base16Decode(text), text, Lower(text), libp2p::Base16Encode);
  for (const Base64Alphabet alphabet : {Base64Alphabet::kStandard, Base64Alphabet::kUrl, Base64Alphabet::kI2p}) {
    for (const Base64Padding padding : {Base64Padding::kNone, Base64Padding::kPadded}) {
      CheckDecode(libp2p::Base64Decode(text, alphabet, padding), text, std::string(text),
                  [&](ByteSpan bytes) { return libp2p::Base64Encode(bytes, alphabet, padding); });
    }
  }
  libp2p::Multibase base = libp2p::Multibase::kBase58Btc;
  const StatusOr<Bytes> prefixed = libp2p::MultibaseDecode(text, &base);
  if (prefixed.ok()) {
    if (libp2p::MultibaseEncode(base, *prefixed) != text) abort();
  } else if (prefixed.status().code() == StatusCode::kOutOfRange &&
             size <= libp2p::kMaxMultibaseTextLength + 1) {
    abort();
  }
  // Encoding is quadratic for base58: keep the reverse check to inputs of modest size.
  if (size <= 1024) CheckEncodings(ByteSpan(data, size));
  return 0;
}
