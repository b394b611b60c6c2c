#ifndef DHIS2_DETAIL_ASCII_HPP
#define DHIS2_DETAIL_ASCII_HPP

// ASCII-only case handling for DHIS2's enum names and HTTP header names, and the redaction of
// credentials in header values: the library's and the emulator's one copy of each. Deliberately
// not std::tolower/toupper: those depend on the C locale, and these names are ASCII by definition.

#include <dhis2/detail/config.hpp>

#include <string>
#include <string_view>

namespace dhis2 {
namespace detail {

constexpr char ascii_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

// `text` without the spaces, tabs, CRs and LFs at either end.
std::string_view trim(std::string_view text) noexcept;

// True when `text` holds an ASCII control character (a line break, a tab, NUL, DEL): what no
// header value, request line or credential may carry.
bool has_control_character(std::string_view text) noexcept;

// `text` with ASCII letters upper-cased; other bytes unchanged.
std::string to_upper(std::string_view text);

// `text` with ASCII letters lower-cased; other bytes unchanged.
std::string to_lower(std::string_view text);

// The value of a header as hooks, logs and the emulator's request log show it: Authorization and
// Proxy-Authorization keep only their scheme ("Basic [redacted]"), Cookie and Set-Cookie become
// "[redacted]", every other header is unchanged. Header names compare ignoring ASCII case.
std::string redacted_header_value(std::string_view name, std::string_view value);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/ascii.ipp>
#endif

#endif  // DHIS2_DETAIL_ASCII_HPP
