#ifndef DHIS2_DETAIL_ASCII_HPP
#define DHIS2_DETAIL_ASCII_HPP

// ASCII-only case handling for DHIS2's enum names and HTTP header names. Deliberately not
// std::tolower/toupper: those depend on the C locale, and these names are ASCII by definition.

#include <string>
#include <string_view>

namespace dhis2 {
namespace detail {

constexpr char ascii_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// True when `a` and `b` are equal ignoring ASCII case.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

// `text` with ASCII letters upper-cased; other bytes unchanged.
inline std::string to_upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = ascii_upper(c);
  return out;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_DETAIL_ASCII_HPP
