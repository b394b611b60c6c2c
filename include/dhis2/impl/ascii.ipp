#ifndef DHIS2_IMPL_ASCII_IPP
#define DHIS2_IMPL_ASCII_IPP

// Definitions of <dhis2/detail/ascii.hpp>.

#include <dhis2/detail/ascii.hpp>

#include <cstddef>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

DHIS2CPP_INLINE std::string_view trim(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

DHIS2CPP_INLINE bool has_control_character(std::string_view text) noexcept {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

DHIS2CPP_INLINE std::string to_upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = ascii_upper(c);
  return out;
}

DHIS2CPP_INLINE std::string to_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

DHIS2CPP_INLINE std::string redacted_header_value(std::string_view name, std::string_view value) {
  if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) {
    const auto space = value.find(' ');
    return std::string(space == std::string_view::npos ? std::string_view() : value.substr(0, space + 1)) + "[redacted]";
  }
  if (iequals(name, "Cookie") || iequals(name, "Set-Cookie")) return "[redacted]";
  return std::string(value);
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_ASCII_IPP
