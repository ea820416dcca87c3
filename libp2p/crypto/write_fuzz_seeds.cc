// Writes seed inputs for the envelope and peer-record fuzzers (valid signed records made with a fixed key),
// so the corpora start from inputs that pass signature checks.
//
// bazel run //libp2p/crypto:write_fuzz_seeds -- $PWD/libp2p/crypto
#include <cstdio>
#include <fstream>
#include <string>

#include "libp2p/crypto/envelope.h"
#include "libp2p/crypto/peer_record.h"

namespace {

bool Write(const std::string& path, const libp2p::Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_fuzz_seeds DIR (the libp2p/crypto folder)\n");
    return 2;
  }
  using namespace libp2p;
  using namespace libp2p::crypto;
  const std::string dir = argv[1];
  const Ed25519PrivateKey key = *Ed25519PrivateKey::FromSeed(Bytes(32, 9));
  const PeerRecord record{PeerId::FromPublicKey(key.public_key()), 42,
                          {*Multiaddr::FromString("/ip4/127.0.0.1/tcp/4001"),
                           *Multiaddr::FromString("/dns4/example.com/tcp/443/wss")}};
  const Bytes signed_record = *SignPeerRecord(key, record);
  const Bytes other = SealEnvelope(key, "libp2p-test", AsBytes("type"), AsBytes("payload"))->Encode();
  const bool ok = Write(dir + "/envelope_fuzzer_corpus/signed_peer_record", signed_record) &&
                  Write(dir + "/envelope_fuzzer_corpus/other_domain", other) &&
                  Write(dir + "/peer_record_fuzzer_corpus/signed_peer_record", signed_record) &&
                  Write(dir + "/peer_record_fuzzer_corpus/record", record.Encode());
  if (!ok) {
    std::fprintf(stderr, "write_fuzz_seeds: cannot write under %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
