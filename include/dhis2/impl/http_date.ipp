#ifndef DHIS2_IMPL_HTTP_DATE_IPP
#define DHIS2_IMPL_HTTP_DATE_IPP

#include <dhis2/detail/http_date.hpp>
#include <dhis2/local_time.hpp>

#include <cstdint>
#include <cstdio>

namespace dhis2 {
namespace detail {

namespace http_date {

inline constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01 was a Thursday
inline constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

inline constexpr std::int64_t kSecondsPerDay = 86400;

// The weekday name of a day count since 1970-01-01.
inline const char* weekday(std::int64_t days) { return kDays[((days % 7) + 7) % 7]; }

}  // namespace http_date

DHIS2CPP_INLINE std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters, every field at a fixed place.
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  unsigned month = 0;
  for (unsigned m = 0; m < 12; ++m) {
    if (s.substr(8, 3) == http_date::kMonths[m]) month = m + 1;
  }
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (month == 0 || !read_digits(s, 5, 2, day) || !read_digits(s, 12, 4, year) || !read_digits(s, 17, 2, hour) ||
      !read_digits(s, 20, 2, minute) || !read_digits(s, 23, 2, second)) {
    return std::nullopt;
  }
  // RFC 9110 allows a leap second (60); it is read as the next second.
  if (day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = days_from_civil(year, month, day);
  if (s.substr(0, 3) != http_date::weekday(days)) return std::nullopt;
  const std::int64_t seconds = days * http_date::kSecondsPerDay + hour * 3600 + minute * 60 + second;
  // system_clock counts nanoseconds on libstdc++: years past 2262 (and before 1678) do not fit.
  using system_seconds = std::chrono::duration<std::int64_t>;
  const auto range = std::chrono::duration_cast<system_seconds>(std::chrono::system_clock::duration::max()).count();
  if (seconds >= range || seconds <= -range) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

DHIS2CPP_INLINE std::string format_http_date(std::chrono::system_clock::time_point t) {
  const std::int64_t seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  std::int64_t days = seconds / http_date::kSecondsPerDay;
  std::int64_t in_day = seconds % http_date::kSecondsPerDay;
  if (in_day < 0) {
    in_day += http_date::kSecondsPerDay;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02u %s %04lld %02d:%02d:%02d GMT", http_date::weekday(days), date.day,
                http_date::kMonths[date.month - 1], static_cast<long long>(date.year), static_cast<int>(in_day / 3600),
                static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
  return out;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_HTTP_DATE_IPP
