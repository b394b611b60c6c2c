#ifndef DHIS2_IMPL_SERVER_VERSION_IPP
#define DHIS2_IMPL_SERVER_VERSION_IPP

// Definitions of <dhis2/server_version.hpp>.

#include <dhis2/server_version.hpp>

#include <cstddef>

namespace dhis2 {

DHIS2CPP_INLINE ServerVersion ServerVersion::parse(std::string_view text) {
  if (auto v = try_parse(text)) return *v;
  throw UnsupportedVersionError(std::string(text), "\"" + std::string(text) +
                                                       "\" is not a DHIS2 version; expected "
                                                       "MAJOR.MINOR[.PATCH[.HOTFIX]][-SNAPSHOT], e.g. 2.42.1");
}

DHIS2CPP_INLINE std::optional<ServerVersion> ServerVersion::try_parse(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
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

DHIS2CPP_INLINE std::string ServerVersion::key() const {
  if (major == 2) return "v" + std::to_string(minor);
  return "v" + std::to_string(major) + "." + std::to_string(minor);
}

DHIS2CPP_INLINE std::string ServerVersion::str() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (hotfix != 0) out += "." + std::to_string(hotfix);
  if (snapshot) out += "-SNAPSHOT";
  return out;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_SERVER_VERSION_IPP
