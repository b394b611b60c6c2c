#ifndef DHIS2_DETAIL_ASCII_HPP
#define DHIS2_DETAIL_ASCII_HPP

// ASCII-only case handling for DHIS2's enum names and HTTP header names. Deliberately not
// std::tolower/toupper: those depend on the C locale, and these names are ASCII by definition.

#include <dhis2/detail/config.hpp>

#include <string>
#include <string_view>

namespace dhis2 {
namespace detail {

constexpr char ascii_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

// `text` with ASCII letters upper-cased; other bytes unchanged.
std::string to_upper(std::string_view text);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/ascii.ipp>
#endif

#endif  // DHIS2_DETAIL_ASCII_HPP
