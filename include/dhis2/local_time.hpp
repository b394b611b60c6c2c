#ifndef DHIS2_LOCAL_TIME_HPP
#define DHIS2_LOCAL_TIME_HPP

// DHIS2 writes times as "2025-05-20T10:12:00.456": wall-clock time in the server JVM's zone, with
// no offset (serverTimeZoneId in /api/system/info names the zone). LocalTime keeps exactly that:
// a date and time with no zone attached, so two server times compare and subtract correctly and
// nothing invents a zone. Converting to UTC needs the server's zone and is left to the caller.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
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
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out);

}  // namespace detail

// Parses "yyyy-MM-ddTHH:mm:ss" with an optional fraction of 1 to 9 digits (DHIS2 always sends
// 3; finer digits are truncated to milliseconds). Anything else, including a zone offset or an
// impossible date, gives an empty optional: the text itself stays available to the caller.
std::optional<LocalTime> parse_local_time(std::string_view text);

// Formats as DHIS2 does: "yyyy-MM-ddTHH:mm:ss.SSS". parse_local_time(format_local_time(t)) == t
// for every year from 0 to 9999.
std::string format_local_time(LocalTime t);

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/local_time.ipp>
#endif

#endif  // DHIS2_LOCAL_TIME_HPP
