// The library's version: the one place it is written. CHANGELOG.md says what each version changed and what
// the version promises (semantic versioning of the public API).
#ifndef LIBP2P_VERSION_H_
#define LIBP2P_VERSION_H_

#include <string_view>

namespace libp2p {

// MAJOR.MINOR.PATCH, semantic versioning. Before 1.0, a MINOR step may break the public API; a PATCH step
// never does.
inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace libp2p

#endif  // LIBP2P_VERSION_H_
