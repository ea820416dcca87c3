#include "libp2p/stream/pnet.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libp2p/base/manual_event_loop.h"
#include "libp2p/base/multibase.h"
#include "libp2p/base/random.h"
#include "libp2p/crypto/keys.h"
#include "libp2p/crypto/sha256.h"
#include "libp2p/crypto/xsalsa20.h"
#include "libp2p/stream/memory_transport.h"
#include "libp2p/stream/noise.h"
#include "libp2p/stream/test_util.h"

namespace libp2p::stream {
namespace {

using testing::Recorder;

constexpr std::string_view kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

SwarmKey KeyOf(std::string_view hex) {
  const Bytes b = *HexDecode(hex);
  SwarmKey key;
  std::copy(b.begin(), b.end(), key.key.begin());
  return key;
}

std::string Header() { return std::string(kSwarmKeyHeader) + "\n"; }

std::string Base64Of(const SwarmKey& key) {
  return Base64Encode(key.key, Base64Alphabet::kStandard, Base64Padding::kPadded);
}

// ---- Key files ----

TEST(SwarmKeyTest, ParsesBase16) {
  const SwarmKey expected = KeyOf(kHex);
  for (const std::string& file : {
           Header() + "/base16/\n" + std::string(kHex),                // js-libp2p's generateKey: no final newline
           Header() + "/base16/\n" + std::string(kHex) + "\n",         // a final newline
           Header() + "/base16/\n" + std::string(kHex) + "\r\n",       // CRLF
           std::string(kSwarmKeyHeader) + "\r\n/base16/\r\n" + std::string(kHex) + "\r\n",
           Header() + "/base16/\n" + std::string(kHex) + " \t\n\n",    // trailing whitespace
           Header() + "/base16/\n00112233445566778899AABBCCDDEEFF00112233445566778899aAbBcCdDeEfF",  // any case
       }) {
    StatusOr<SwarmKey> key = ParseSwarmKey(file);
    ASSERT_TRUE(key.ok()) << key.status().message() << " for " << file;
    EXPECT_EQ(key->key, expected.key);
  }
}

TEST(SwarmKeyTest, ParsesBase64) {
  // base64 of 00112233...eeff twice.
  const std::string b64 = Base64Of(KeyOf(kHex));
  ASSERT_EQ(b64.size(), 44u);
  const SwarmKey expected = KeyOf(kHex);
  for (const std::string& file : {
           Header() + "/base64/\n" + b64,
           Header() + "/base64/\n" + b64 + "\n",
           std::string(kSwarmKeyHeader) + "\r\n/base64/\r\n" + b64 + "\r\n",
           // Go's base64 decoder skips line breaks inside the text.
           Header() + "/base64/\n" + b64.substr(0, 20) + "\n" + b64.substr(20) + "\n",
           Header() + "/base64/\n" + b64.substr(0, 1) + "\r\n" + b64.substr(1, 30) + "\n\n" + b64.substr(31),
       }) {
    StatusOr<SwarmKey> key = ParseSwarmKey(file);
    ASSERT_TRUE(key.ok()) << key.status().message() << " for " << file;
    EXPECT_EQ(key->key, expected.key);
  }
}

TEST(SwarmKeyTest, ParsesBin) {
  // Key bytes that look like line ends and whitespace: /bin/ takes exactly 32 bytes after the second line.
  SwarmKey expected;
  for (size_t i = 0; i < 32; ++i) expected.key[i] = static_cast<uint8_t>(i % 2 == 0 ? '\n' : '\r');
  expected.key[5] = 0;
  expected.key[6] = 0xff;
  const std::string raw(expected.key.begin(), expected.key.end());
  for (const std::string& file : {
           Header() + "/bin/\n" + raw,
           Header() + "/bin/\n" + raw + "\n",
           std::string(kSwarmKeyHeader) + "\r\n/bin/\r\n" + raw + "\r\n",
       }) {
    StatusOr<SwarmKey> key = ParseSwarmKey(file);
    ASSERT_TRUE(key.ok()) << key.status().message();
    EXPECT_EQ(key->key, expected.key);
  }
}

// Parsing fails with kInvalidArgument, the message mentions `what`, and quotes nothing of the key text.
void ExpectRejected(const std::string& file, std::string_view what) {
  StatusOr<SwarmKey> key = ParseSwarmKey(file);
  ASSERT_FALSE(key.ok()) << "accepted: " << file;
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(key.status().message().find(what), std::string::npos)
      << "'" << key.status().message() << "' does not mention '" << what << "'";
  EXPECT_EQ(key.status().message().find("0011223344"), std::string::npos) << key.status().message();
  EXPECT_EQ(key.status().message().find("ABEiM0RVZn"), std::string::npos) << key.status().message();
}

TEST(SwarmKeyTest, RejectsMalformedFiles) {
  const std::string hex(kHex);
  ExpectRejected("", "empty");
  ExpectRejected(std::string(kSwarmKeyHeader), "found one");
  ExpectRejected(Header() + "/base16/", "found two");
  ExpectRejected(Header(), "found two");
  // The header must be exact.
  ExpectRejected("/key/swarm/psk/2.0.0/\n/base16/\n" + hex, "first line");
  ExpectRejected(" " + Header() + "/base16/\n" + hex, "first line");
  ExpectRejected("/key/swarm/psk/1.0.0/ \n/base16/\n" + hex, "first line");
  ExpectRejected("\n" + Header() + "/base16/\n" + hex, "first line");
  // A key file without the encoding line: the second line (the key itself) must not be quoted.
  ExpectRejected(Header() + hex + "\n", "unknown key encoding");
  ExpectRejected(Header() + "/base32/\n" + hex, "unknown key encoding");
  ExpectRejected(Header() + "/BASE16/\n" + hex, "unknown key encoding");
  ExpectRejected(Header() + "/base16\n" + hex, "unknown key encoding");
  // base16: length, characters, anything before or after.
  ExpectRejected(Header() + "/base16/\n", "has 0 characters");
  ExpectRejected(Header() + "/base16/\n" + hex.substr(2), "has 62 characters");
  ExpectRejected(Header() + "/base16/\n" + hex + "00", "has 66 characters");
  ExpectRejected(Header() + "/base16/\n" + hex.substr(1), "has 63 characters");
  ExpectRejected(Header() + "/base16/\n" + hex.substr(0, 10) + "g" + hex.substr(11), "position 10");
  ExpectRejected(Header() + "/base16/\n" + hex.substr(0, 63) + "\xff", "position 63");
  ExpectRejected(Header() + "/base16/\n " + hex.substr(1), "position 0");
  ExpectRejected(Header() + "/base16/\n0x" + hex.substr(2), "position 1");
  ExpectRejected(Header() + "/base16/\n" + hex + "\nextra", "characters");
  ExpectRejected(Header() + "/base16/\n" + hex.substr(0, 32) + "\n" + hex.substr(32), "characters");
  // base64: length, alphabet, padding, canonical form.
  const std::string b64 = Base64Of(KeyOf(kHex));
  ExpectRejected(Header() + "/base64/\n" + b64.substr(0, 43), "has 43 characters");
  ExpectRejected(Header() + "/base64/\n" + b64 + "AAAA", "longer than 44");
  ExpectRejected(Header() + "/base64/\n" + b64.substr(0, 10) + "-" + b64.substr(11), "position 10");
  ExpectRejected(Header() + "/base64/\n" + b64.substr(0, 10) + " " + b64.substr(11), "position 10");
  ExpectRejected(Header() + "/base64/\n" + b64.substr(0, 43) + "A", "padding");
  ExpectRejected(Header() + "/base64/\n" + b64.substr(0, 42) + "==", "position 42");
  {
    std::string noncanonical = b64;
    noncanonical[42] = static_cast<char>(noncanonical[42] + 1);  // Sets an unused low bit.
    ExpectRejected(Header() + "/base64/\n" + noncanonical, "canonical");
  }
  ExpectRejected(Header() + "/base64/\n" + hex, "longer than 44");
  // bin: exactly 32 bytes, then only whitespace.
  ExpectRejected(Header() + "/bin/\n" + std::string(31, 'k'), "has 31 bytes");
  ExpectRejected(Header() + "/bin/\n" + std::string(33, 'k'), "more than whitespace");
  ExpectRejected(Header() + "/bin/\n", "has 0 bytes");
}

TEST(SwarmKeyTest, FormatsAsGoAndJsWriteIt) {
  EXPECT_EQ(FormatSwarmKey(KeyOf(kHex)), "/key/swarm/psk/1.0.0/\n/base16/\n" + std::string(kHex));
  EXPECT_EQ(FormatSwarmKey(KeyOf(kHex)).size(), 95u);
  // Every byte value through the formatter and back.
  for (int start = 0; start < 256; start += 32) {
    SwarmKey key;
    for (size_t i = 0; i < 32; ++i) key.key[i] = static_cast<uint8_t>(start + i);
    const std::string file = FormatSwarmKey(key);
    EXPECT_EQ(file.substr(file.size() - 64), HexEncode(key.key));
    StatusOr<SwarmKey> parsed = ParseSwarmKey(file);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->key, key.key);
  }
}

TEST(SwarmKeyTest, GeneratesFromTheLibraryRandomness) {
  const SwarmKey a = GenerateSwarmKey(), b = GenerateSwarmKey();
  EXPECT_NE(a.key, b.key);
  std::array<uint8_t, 32> first, second;
  {
    ScopedDeterministicRandom seeded(7);
    first = GenerateSwarmKey().key;
  }
  {
    ScopedDeterministicRandom seeded(7);
    second = GenerateSwarmKey().key;
  }
  EXPECT_EQ(first, second);
  StatusOr<SwarmKey> parsed = ParseSwarmKey(FormatSwarmKey(a));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->key, a.key);
}

TEST(SwarmKeyTest, ReadsKeyFiles) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  auto write = [&](const std::string& name, const std::string& content) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  };
  const std::string good = write("swarm.key", FormatSwarmKey(KeyOf(kHex)) + "\n");
  StatusOr<SwarmKey> key = ReadSwarmKeyFile(good);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->key, KeyOf(kHex).key);

  EXPECT_EQ(ReadSwarmKeyFile(dir + "/no-such.key").status().code(), StatusCode::kNotFound);
  const std::string bad = write("bad.key", Header() + "/base16/\n" + std::string(kHex).substr(2));
  const Status s = ReadSwarmKeyFile(bad).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "swarm key file " + bad + ": the /base16/ key has 62 characters, expected 64 hex digits");
  // Whitespace after the key is allowed, but not without bound.
  const std::string huge = write("huge.key", FormatSwarmKey(KeyOf(kHex)) + std::string(kMaxSwarmKeyFileSize, '\n'));
  EXPECT_NE(ReadSwarmKeyFile(huge).status().message().find("longer than 4096 bytes"), std::string::npos);
}

TEST(SwarmKeyTest, Fingerprint) {
  const SwarmKey key = KeyOf(kHex);
  EXPECT_EQ(SwarmKeyFingerprint(key), HexEncode(crypto::Sha256(key.key)).substr(0, 8));
  EXPECT_NE(SwarmKeyFingerprint(key), SwarmKeyFingerprint(KeyOf(std::string(64, '0'))));
}

// ---- Protected connections ----

// An independent decryption of what a protected connection sent: 24 nonce bytes, then ciphertext.
Bytes DecryptWire(const SwarmKey& key, ByteSpan wire) {
  if (wire.size() < kPnetNonceSize) return {};
  crypto::XSalsa20 cipher(key.key, std::span<const uint8_t, 24>(wire.data(), 24));
  Bytes plain(wire.begin() + 24, wire.end());
  cipher.Apply(plain);
  return plain;
}

class PnetTest : public ::testing::Test {
 protected:
  // Connects two raw in-memory connections, client_raw_ (dialed) and server_raw_ (accepted).
  void Connect() {
    listener_ = *transport_->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                    [this](std::unique_ptr<RawConnection> c) { server_raw_ = std::move(c); });
    dial_ = transport_->Dial(listener_->listen_addr(),
                             [this](StatusOr<std::unique_ptr<RawConnection>> c) { client_raw_ = *std::move(c); });
    loop_.RunUntilIdle();
    ASSERT_NE(client_raw_, nullptr);
    ASSERT_NE(server_raw_, nullptr);
  }

  // Both ends protected, with the given keys.
  void ConnectProtected(const SwarmKey& client_key, const SwarmKey& server_key) {
    Connect();
    client_ = ProtectConnection(&loop_, std::move(client_raw_), client_key);
    server_ = ProtectConnection(&loop_, std::move(server_raw_), server_key);
  }

  ManualEventLoop loop_;
  MemoryNetwork network_{&loop_};
  std::unique_ptr<Transport> transport_ = network_.CreateTransport();
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<PendingDial> dial_;
  std::unique_ptr<RawConnection> client_raw_, server_raw_;
  std::unique_ptr<RawConnection> client_, server_;
  const SwarmKey key_ = KeyOf(kHex);
};

TEST_F(PnetTest, ExchangesDataBothWaysInManySplits) {
  ConnectProtected(key_, key_);
  Recorder at_client, at_server;
  at_client.Attach(client_.get());
  at_server.Attach(server_.get());
  std::mt19937_64 rng(5);
  std::string to_server, to_client;
  for (int round = 0; round < 300; ++round) {
    // A few writes each way per loop turn, of sizes from 0 to a few blocks, sometimes large.
    const int writes = 1 + static_cast<int>(rng() % 4);
    for (int w = 0; w < writes; ++w) {
      const size_t size = rng() % 10 == 0 ? rng() % 100000 : rng() % 300;
      std::string chunk(size, '\0');
      for (char& c : chunk) c = static_cast<char>(rng());
      if (rng() % 2 == 0) {
        ASSERT_TRUE(client_->Write(AsBytes(chunk)).ok());
        to_server += chunk;
      } else {
        ASSERT_TRUE(server_->WriteOwned(ToBytes(chunk)).ok());
        to_client += chunk;
      }
    }
    loop_.RunUntilIdle();
  }
  EXPECT_EQ(at_server.data, to_server);
  EXPECT_EQ(at_client.data, to_client);
  EXPECT_FALSE(at_client.errored || at_server.errored);
  EXPECT_EQ(client_->local_addr(), server_->remote_addr());
  EXPECT_EQ(client_->remote_addr(), server_->local_addr());
}

TEST_F(PnetTest, WireCarriesTheNonceThenCiphertext) {
  Connect();
  Recorder wire;
  wire.Attach(server_raw_.get());  // The unprotected end sees what crosses the network.
  {
    ScopedDeterministicRandom seeded(42);
    client_ = ProtectConnection(&loop_, std::move(client_raw_), key_);
  }
  loop_.RunUntilIdle();
  // The nonce goes at once, before anything is written or read.
  ASSERT_EQ(wire.data.size(), kPnetNonceSize);
  std::array<uint8_t, kPnetNonceSize> expected_nonce;
  {
    ScopedDeterministicRandom seeded(42);
    RandomBytes(expected_nonce);
  }
  EXPECT_EQ(wire.data, std::string(expected_nonce.begin(), expected_nonce.end()));

  const std::string plain = "\x13/multistream/1.0.0\n" + std::string(5000, 'x') + "the end";
  ASSERT_TRUE(client_->Write(AsBytes(plain.substr(0, 20))).ok());
  ASSERT_TRUE(client_->Write(AsBytes(plain.substr(20, 1000))).ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(client_->WriteOwned(ToBytes(plain.substr(1020))).ok());
  loop_.RunUntilIdle();
  ASSERT_EQ(wire.data.size(), kPnetNonceSize + plain.size());
  EXPECT_EQ(wire.data.find("multistream"), std::string::npos);
  EXPECT_EQ(wire.data.find("xxxxxxxx"), std::string::npos);
  EXPECT_EQ(ToString(DecryptWire(key_, AsBytes(wire.data))), plain);
}

TEST_F(PnetTest, DecryptsWhatAnIndependentPeerSends) {
  // The interop vector: key 0011..eeff, peer nonce 00 01 .. 17, and the first multistream-select message
  // as js-libp2p (xsalsa20@1.2.0) and libsodium encrypt it.
  Connect();
  client_ = ProtectConnection(&loop_, std::move(client_raw_), key_);
  Recorder at_client;
  at_client.Attach(client_.get());
  Bytes wire(24);
  for (size_t i = 0; i < 24; ++i) wire[i] = static_cast<uint8_t>(i);
  const Bytes ciphertext = *HexDecode("02c247cd75e03e73760e2600a0efb4a4e0e4c5b9");
  wire.insert(wire.end(), ciphertext.begin(), ciphertext.end());
  ASSERT_TRUE(server_raw_->Write(wire).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(at_client.data, "\x13/multistream/1.0.0\n");
}

TEST_F(PnetTest, NonceArrivingOneByteAtATime) {
  Connect();
  client_ = ProtectConnection(&loop_, std::move(client_raw_), key_);
  Recorder at_client;
  at_client.Attach(client_.get());
  std::array<uint8_t, 24> nonce;
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(0xa0 + i);
  const std::string plain = "hello through the private network";
  Bytes sealed(plain.begin(), plain.end());
  crypto::XSalsa20(key_.key, nonce).Apply(sealed);
  // 23 nonce bytes alone, then the last one with the first ciphertext byte, then the rest.
  for (size_t i = 0; i < 23; ++i) {
    ASSERT_TRUE(server_raw_->Write(ByteSpan(&nonce[i], 1)).ok());
    loop_.RunUntilIdle();
    EXPECT_TRUE(at_client.data.empty());
    EXPECT_FALSE(at_client.errored);
  }
  Bytes piece = {nonce[23], sealed[0]};
  ASSERT_TRUE(server_raw_->Write(piece).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(at_client.data, plain.substr(0, 1));
  for (size_t i = 1; i < sealed.size(); ++i) {
    ASSERT_TRUE(server_raw_->Write(ByteSpan(&sealed[i], 1)).ok());
    loop_.RunUntilIdle();
  }
  EXPECT_EQ(at_client.data, plain);
}

TEST_F(PnetTest, WrongKeyGivesGarbage) {
  SwarmKey other = key_;
  other.key[31] ^= 1;
  ConnectProtected(key_, other);
  Recorder at_client, at_server;
  at_client.Attach(client_.get());
  at_server.Attach(server_.get());
  const std::string message = "\x13/multistream/1.0.0\n\x07/noise\n";
  ASSERT_TRUE(client_->Write(AsBytes(message)).ok());
  ASSERT_TRUE(server_->Write(AsBytes(message)).ok());
  loop_.RunUntilIdle();
  // The bytes arrive (nothing detects the mismatch at this layer), but scrambled.
  ASSERT_EQ(at_server.data.size(), message.size());
  ASSERT_EQ(at_client.data.size(), message.size());
  EXPECT_NE(at_server.data, message);
  EXPECT_NE(at_client.data, message);
  EXPECT_EQ(at_server.data.find("multistream"), std::string::npos);
}

TEST_F(PnetTest, EndOfStreamBeforeTheNonceFails) {
  Connect();
  client_ = ProtectConnection(&loop_, std::move(client_raw_), key_);
  Recorder at_client;
  at_client.Attach(client_.get());
  ASSERT_TRUE(server_raw_->Write(Bytes(10, 1)).ok());
  server_raw_->CloseWrite();
  loop_.RunUntilIdle();
  ASSERT_TRUE(at_client.errored);
  EXPECT_EQ(at_client.error.code(), StatusCode::kUnavailable);
  EXPECT_EQ(at_client.error.message(), "connection closed before the private network nonce arrived");
  EXPECT_TRUE(at_client.data.empty());
  EXPECT_FALSE(at_client.eof);
  EXPECT_FALSE(client_->Write(AsBytes("late")).ok());
}

TEST_F(PnetTest, EndOfStreamAfterTheNonce) {
  ConnectProtected(key_, key_);
  Recorder at_client, at_server;
  at_client.Attach(client_.get());
  at_server.Attach(server_.get());
  ASSERT_TRUE(client_->Write(AsBytes("last words")).ok());
  client_->CloseWrite();
  EXPECT_EQ(client_->Write(AsBytes("more")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_EQ(at_server.data, "last words");
  EXPECT_TRUE(at_server.eof);
  EXPECT_FALSE(at_server.errored);
  // The other direction stays open (half-close).
  ASSERT_TRUE(server_->Write(AsBytes("reply")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(at_client.data, "reply");
  // A peer that closes right after its nonce, having sent nothing else: an end of stream, not an error.
  Connect();
  auto lone = ProtectConnection(&loop_, std::move(client_raw_), key_);
  Recorder at_lone;
  at_lone.Attach(lone.get());
  ASSERT_TRUE(server_raw_->Write(Bytes(24, 9)).ok());
  server_raw_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_TRUE(at_lone.eof);
  EXPECT_FALSE(at_lone.errored);
}

TEST_F(PnetTest, PauseAndUnread) {
  ConnectProtected(key_, key_);
  std::string received;
  int calls = 0;
  bool give_back = true;
  server_->SetHandlers(Stream::Handlers{[&](ByteSpan data) {
    ++calls;
    // The first time, take 3 bytes and give the rest back: it comes again, first.
    if (give_back && data.size() > 3) {
      give_back = false;
      received.append(AsStringView(data.first(3)));
      server_->Unread(data.subspan(3));
      return;
    }
    received.append(AsStringView(data));
  }});
  server_->PauseReading(true);
  ASSERT_TRUE(client_->Write(AsBytes("abcdefgh")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(calls, 0);  // Paused: nothing delivered (nor read from below: the nonce waits too).
  server_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(received, "abcdefgh");
  EXPECT_GE(calls, 2);
  // Pausing in the middle of a stream, with bytes on the way.
  server_->PauseReading(true);
  ASSERT_TRUE(client_->Write(AsBytes("ijkl")).ok());
  loop_.RunUntilIdle();
  ASSERT_TRUE(client_->Write(AsBytes("mnop")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(received, "abcdefgh");
  server_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(received, "abcdefghijklmnop");
}

TEST_F(PnetTest, Reset) {
  ConnectProtected(key_, key_);
  Recorder at_client, at_server;
  at_client.Attach(client_.get());
  at_server.Attach(server_.get());
  loop_.RunUntilIdle();
  client_->Reset();
  client_->Reset();  // Idempotent.
  EXPECT_EQ(client_->Write(AsBytes("x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(client_->WriteOwned(ToBytes("x")).code(), StatusCode::kFailedPrecondition);
  loop_.RunUntilIdle();
  EXPECT_TRUE(at_server.errored);
  EXPECT_FALSE(at_client.errored);  // No callback after our own Reset().
  EXPECT_FALSE(server_->Write(AsBytes("x")).ok());
}

TEST_F(PnetTest, ReaderMayDestroyTheConnectionInItsCallback) {
  ConnectProtected(key_, key_);
  int calls = 0;
  server_->SetHandlers(Stream::Handlers{[&](ByteSpan) {
    ++calls;
    server_.reset();
  }});
  ASSERT_TRUE(client_->Write(AsBytes("one")).ok());
  loop_.RunUntilIdle();
  client_->Write(AsBytes("two")).IgnoreError();  // The server's end is gone: this may fail.
  loop_.RunUntilIdle();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_, nullptr);
  // The same on an end of stream and on an error.
  ConnectProtected(key_, key_);
  server_->SetHandlers(Stream::Handlers{{}, [&] { server_.reset(); }});
  client_->CloseWrite();
  loop_.RunUntilIdle();
  EXPECT_EQ(server_, nullptr);
  ConnectProtected(key_, key_);
  server_->SetHandlers(Stream::Handlers{{}, {}, [&](const Status&) { server_.reset(); }});
  client_->Reset();
  loop_.RunUntilIdle();
  EXPECT_EQ(server_, nullptr);
}

TEST_F(PnetTest, BackPressureIsTheInnerConnections) {
  ConnectProtected(key_, key_);
  Recorder at_client;
  at_client.Attach(client_.get());
  server_->PauseReading(true);
  // Beyond the high-water mark (256 KiB): the writer is told to stop, then told when it may go on.
  const Bytes big(300 * 1024, 7);
  ASSERT_TRUE(client_->Write(big).ok());
  EXPECT_GE(client_->buffered_bytes(), big.size());
  EXPECT_TRUE(client_->write_blocked());
  Recorder at_server;
  at_server.Attach(server_.get());
  server_->PauseReading(false);
  loop_.RunUntilIdle();
  EXPECT_EQ(at_server.data.size(), big.size());
  EXPECT_FALSE(client_->write_blocked());
  EXPECT_EQ(at_client.writable, 1);
}

TEST(PnetSimulationTest, NullCipherNetworkStillEncrypts) {
  ManualEventLoop loop;
  MemoryNetwork network(&loop, WriteLimits{}, LinkModel{.latency = nullptr, .null_cipher = true});
  auto transport = network.CreateTransport();
  std::unique_ptr<RawConnection> accepted, dialed;
  auto listener = *transport->Listen(*Multiaddr::FromString("/ip4/127.0.0.1/tcp/0"),
                                     [&](std::unique_ptr<RawConnection> c) { accepted = std::move(c); });
  auto dial = transport->Dial(listener->listen_addr(), [&](auto c) { dialed = *std::move(c); });
  loop.AdvanceTime(std::chrono::seconds(1));
  ASSERT_NE(accepted, nullptr);
  ASSERT_NE(dialed, nullptr);
  const SwarmKey key = KeyOf(kHex);
  auto client = ProtectConnection(&loop, std::move(dialed), key);
  EXPECT_TRUE(client->simulation_null_cipher());
  Recorder wire;
  wire.Attach(accepted.get());
  ASSERT_TRUE(client->Write(AsBytes("secret words")).ok());
  loop.AdvanceTime(std::chrono::seconds(1));
  ASSERT_EQ(wire.data.size(), 24u + 12u);
  EXPECT_EQ(wire.data.find("secret"), std::string::npos);
  EXPECT_EQ(ToString(DecryptWire(key, AsBytes(wire.data))), "secret words");
}

// The connection stack as a host builds it: pnet under Noise. With the same key the handshake succeeds and
// carries data; with different keys it fails.
class PnetNoiseTest : public PnetTest {
 protected:
  void Handshake(const SwarmKey& client_key, const SwarmKey& server_key) {
    ConnectProtected(client_key, server_key);
    noise_client_ = NoiseHandshake::Initiate(&loop_, std::move(client_), NoiseOptions{&client_identity_, {}},
                                             std::nullopt,
                                             [this](StatusOr<NoiseSession> s) { client_result_ = std::move(s); });
    noise_server_ = NoiseHandshake::Respond(&loop_, std::move(server_), NoiseOptions{&server_identity_, {}},
                                            [this](StatusOr<NoiseSession> s) { server_result_ = std::move(s); });
    loop_.RunUntilIdle();
    loop_.AdvanceTime(std::chrono::seconds(11));  // Past the handshake timeout, if it hangs.
  }

  crypto::Ed25519PrivateKey client_identity_ = crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey server_identity_ = crypto::Ed25519PrivateKey::Generate();
  std::unique_ptr<NoiseHandshake> noise_client_, noise_server_;
  StatusOr<NoiseSession> client_result_ = CancelledError("unset");
  StatusOr<NoiseSession> server_result_ = CancelledError("unset");
};

TEST_F(PnetNoiseTest, SameKeyHandshakes) {
  Handshake(key_, key_);
  ASSERT_TRUE(client_result_.ok()) << client_result_.status().message();
  ASSERT_TRUE(server_result_.ok()) << server_result_.status().message();
  Recorder at_server;
  at_server.Attach(server_result_->connection.get());
  ASSERT_TRUE(client_result_->connection->Write(AsBytes("over noise over pnet")).ok());
  loop_.RunUntilIdle();
  EXPECT_EQ(at_server.data, "over noise over pnet");
}

TEST_F(PnetNoiseTest, DifferentKeysFail) {
  Handshake(key_, KeyOf(std::string(64, 'f')));
  EXPECT_FALSE(client_result_.ok());
  EXPECT_FALSE(server_result_.ok());
}

}  // namespace
}  // namespace libp2p::stream
