#ifndef DHIS2_LOCAL_TIME_HPP
#define DHIS2_LOCAL_TIME_HPP

// DHIS2 writes times as "2025-05-20T10:12:00.456": wall-clock time in the server JVM's zone, with
// no offset (serverTimeZoneId in /api/system/info names the zone). LocalTime keeps exactly that:
// a date and time with no zone attached, so two server times compare and subtract correctly and
// nothing invents a zone. Converting to UTC needs the server's zone and is left to the caller.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <ratio>
#include <string>
#include <string_view>

namespace dhis2 {

// A clock-like tag for zone-less wall-clock times (like C++20's std::chrono::local_t). It has no
// now(): a wall-clock time is only meaningful with the server's zone.
struct LocalClock {
  using rep = std::int64_t;
  using period = std::milli;
  using duration = std::chrono::milliseconds;
  using time_point = std::chrono::time_point<LocalClock, duration>;
  static constexpr bool is_steady = false;
};

// Milliseconds since 1970-01-01T00:00:00.000 of the server's wall clock.
using LocalTime = LocalClock::time_point;

namespace detail {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The inverse: year, month and day of a day count since 1970-01-01.
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
constexpr CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

// Reads exactly `n` digits at `pos`; false when they are not all digits.
inline bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace detail

// Parses "yyyy-MM-ddTHH:mm:ss" with an optional fraction of 1 to 9 digits (DHIS2 always sends
// 3; finer digits are truncated to milliseconds). Anything else, including a zone offset or an
// impossible date, gives an empty optional: the text itself stays available to the caller.
inline std::optional<LocalTime> parse_local_time(std::string_view text) {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || !detail::read_digits(text, 0, 4, y) || text[4] != '-' ||
      !detail::read_digits(text, 5, 2, mo) || text[7] != '-' ||
      !detail::read_digits(text, 8, 2, d) || text[10] != 'T' ||
      !detail::read_digits(text, 11, 2, h) || text[13] != ':' ||
      !detail::read_digits(text, 14, 2, mi) || text[16] != ':' ||
      !detail::read_digits(text, 17, 2, s)) {
    return std::nullopt;
  }
  unsigned millis = 0;
  if (text.size() > 19) {
    const std::size_t digits = text.size() - 20;
    if (text[19] != '.' || digits < 1 || digits > 9) return std::nullopt;
    unsigned fraction = 0;
    if (!detail::read_digits(text, 20, digits, fraction)) return std::nullopt;
    for (std::size_t i = digits; i < 3; ++i) fraction *= 10;
    for (std::size_t i = 3; i < digits; ++i) fraction /= 10;
    millis = fraction;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > detail::days_in_month(y, mo) || h > 23 || mi > 59 ||
      s > 59) {
    return std::nullopt;
  }
  const std::int64_t days = detail::days_from_civil(y, mo, d);
  const std::int64_t ms = ((days * 24 + h) * 60 + mi) * 60 * 1000 + std::int64_t{s} * 1000 + millis;
  return LocalTime(std::chrono::milliseconds(ms));
}

// Formats as DHIS2 does: "yyyy-MM-ddTHH:mm:ss.SSS". parse_local_time(format_local_time(t)) == t
// for every year from 0 to 9999.
inline std::string format_local_time(LocalTime t) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t days = ms / 86400000;
  std::int64_t rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  const auto date = detail::civil_from_days(days);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02d:%02d:%02d.%03d",
                static_cast<long long>(date.year), date.month, date.day,
                static_cast<int>(rest / 3600000), static_cast<int>(rest / 60000 % 60),
                static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return buffer;
}

}  // namespace dhis2

#endif  // DHIS2_LOCAL_TIME_HPP
