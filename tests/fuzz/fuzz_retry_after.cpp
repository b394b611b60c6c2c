// Retry-After, as delta-seconds or an HTTP date: never a negative wait; delta-seconds are exact.

#include <dhis2/detail/retry.hpp>

#include "fuzz.hpp"

#include <chrono>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(fuzz::text(data, size));
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1733300000));
  const auto wait = dhis2::detail::parse_retry_after(input, now);
  if (wait) fuzz::require(wait->count() >= 0, "a wait is never negative", input);
  const bool digits = !input.empty() && input.size() <= 9 && input.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    fuzz::require(wait && wait->count() == std::stoll(input) * 1000, "delta-seconds are read exactly", input);
  }
  if (const auto date = dhis2::detail::parse_http_date(input)) {
    const auto formatted = dhis2::detail::format_http_date(*date);
    const auto again = dhis2::detail::parse_http_date(formatted);
    fuzz::require(again && *again == *date, "a parsed date formats and parses back to itself", formatted);
  }
  return 0;
}
