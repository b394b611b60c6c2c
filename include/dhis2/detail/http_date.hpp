#ifndef DHIS2_DETAIL_HTTP_DATE_HPP
#define DHIS2_DETAIL_HTTP_DATE_HPP

// HTTP dates (RFC 9110 §5.6.7): the IMF-fixdate form servers send ("Sun, 06 Nov 1994 08:49:37
// GMT") in Date and Retry-After. Locale-free, with no libc time functions, so it is the same on
// every platform and thread-safe.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dhis2 {
namespace detail {

// Parses an IMF-fixdate; empty for any other form (RFC 9110's obsolete forms included: no server
// DHIS2 runs behind sends them), for an impossible date, and for one system_clock cannot hold.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// Formats `t` (truncated to the second) as an IMF-fixdate.
std::string format_http_date(std::chrono::system_clock::time_point t);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/http_date.ipp>
#endif

#endif  // DHIS2_DETAIL_HTTP_DATE_HPP
