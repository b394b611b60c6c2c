#ifndef DHIS2_SERVER_VERSION_HPP
#define DHIS2_SERVER_VERSION_HPP

// A DHIS2 server version as /api/system/info reports it: "2.42.1", "2.41.4.1" (four-part hotfix),
// "2.40.12", "2.43-SNAPSHOT". Ordered like Maven versions: numbers first, and a SNAPSHOT before
// the release with the same numbers. A plain value; thread-safe to copy and share.

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace dhis2 {

struct ServerVersion {
  // Data members, not accessors: glibc defines function-like macros major() and minor().
  int major = 2;
  int minor = 0;
  int patch = 0;
  int hotfix = 0;
  bool snapshot = false;

  // Parses a DHIS2 version: MAJOR.MINOR[.PATCH[.HOTFIX]][-SNAPSHOT], surrounding spaces ignored.
  // Throws UnsupportedVersionError naming the text and the expected form otherwise.
  static ServerVersion parse(std::string_view text);

  // As parse(), but an empty optional instead of an exception.
  static std::optional<ServerVersion> try_parse(std::string_view text) noexcept;

  // The API key of the minor release, "v42" for 2.42.x; "v3.1" style for a major other than 2.
  std::string key() const;

  // Canonical text: "2.42.1", "2.41.4.1", "2.43.0-SNAPSHOT". The patch is always shown; the
  // hotfix only when non-zero.
  std::string str() const;

  // Defined here, so that only argument-dependent lookup finds them, in every mode.
  friend bool operator==(const ServerVersion& a, const ServerVersion& b) { return a.tied() == b.tied(); }
  friend bool operator!=(const ServerVersion& a, const ServerVersion& b) { return !(a == b); }
  friend bool operator<(const ServerVersion& a, const ServerVersion& b) { return a.tied() < b.tied(); }
  friend bool operator>(const ServerVersion& a, const ServerVersion& b) { return b < a; }
  friend bool operator<=(const ServerVersion& a, const ServerVersion& b) { return !(b < a); }
  friend bool operator>=(const ServerVersion& a, const ServerVersion& b) { return !(a < b); }

 private:
  // A snapshot sorts before its release: compare "is a release" (false < true).
  std::tuple<int, int, int, int, bool> tied() const { return std::make_tuple(major, minor, patch, hotfix, !snapshot); }
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/server_version.ipp>
#endif

#endif  // DHIS2_SERVER_VERSION_HPP
