#ifndef DHIS2_SERVER_VERSION_HPP
#define DHIS2_SERVER_VERSION_HPP

// A DHIS2 server version as /api/system/info reports it: "2.42.1", "2.41.4.1" (four-part hotfix),
// "2.40.12", "2.43-SNAPSHOT". Ordered like Maven versions: numbers first, and a SNAPSHOT before
// the release with the same numbers. A plain value; thread-safe to copy and share.

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
  static ServerVersion parse(std::string_view text) {
    if (auto v = try_parse(text)) return *v;
    throw UnsupportedVersionError(std::string(text),
                                  "\"" + std::string(text) +
                                      "\" is not a DHIS2 version; expected "
                                      "MAJOR.MINOR[.PATCH[.HOTFIX]][-SNAPSHOT], e.g. 2.42.1");
  }

  // As parse(), but an empty optional instead of an exception.
  static std::optional<ServerVersion> try_parse(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                             text.back() == '\r')) {
      text.remove_suffix(1);
    }
    ServerVersion v;
    constexpr std::string_view suffix = "-SNAPSHOT";
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      v.snapshot = true;
      text.remove_suffix(suffix.size());
    }
    int* parts[] = {&v.major, &v.minor, &v.patch, &v.hotfix};
    std::size_t count = 0;
    while (true) {
      if (count == 4) return std::nullopt;  // a fifth part
      std::size_t digits = 0;
      long value = 0;
      while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        value = value * 10 + (text[digits] - '0');
        if (++digits > 6) return std::nullopt;  // no real version part is this long
      }
      if (digits == 0) return std::nullopt;
      *parts[count++] = static_cast<int>(value);
      text.remove_prefix(digits);
      if (text.empty()) break;
      if (text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
    if (count < 2) return std::nullopt;  // "2" alone names no release
    return v;
  }

  // The API key of the minor release, "v42" for 2.42.x; "v3.1" style for a major other than 2.
  std::string key() const {
    if (major == 2) return "v" + std::to_string(minor);
    return "v" + std::to_string(major) + "." + std::to_string(minor);
  }

  // Canonical text: "2.42.1", "2.41.4.1", "2.43.0-SNAPSHOT". The patch is always shown; the
  // hotfix only when non-zero.
  std::string str() const {
    std::string out = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    if (hotfix != 0) out += "." + std::to_string(hotfix);
    if (snapshot) out += "-SNAPSHOT";
    return out;
  }

  friend bool operator==(const ServerVersion& a, const ServerVersion& b) {
    return a.tied() == b.tied();
  }
  friend bool operator!=(const ServerVersion& a, const ServerVersion& b) { return !(a == b); }
  friend bool operator<(const ServerVersion& a, const ServerVersion& b) { return a.tied() < b.tied(); }
  friend bool operator>(const ServerVersion& a, const ServerVersion& b) { return b < a; }
  friend bool operator<=(const ServerVersion& a, const ServerVersion& b) { return !(b < a); }
  friend bool operator>=(const ServerVersion& a, const ServerVersion& b) { return !(a < b); }

 private:
  // A snapshot sorts before its release: compare "is a release" (false < true).
  std::tuple<int, int, int, int, bool> tied() const {
    return std::make_tuple(major, minor, patch, hotfix, !snapshot);
  }
};

}  // namespace dhis2

#endif  // DHIS2_SERVER_VERSION_HPP
