#ifndef DHIS2_IMPL_LOCAL_TIME_IPP
#define DHIS2_IMPL_LOCAL_TIME_IPP

// Definitions of <dhis2/local_time.hpp>.

#include <dhis2/local_time.hpp>

#include <cstdio>

namespace dhis2 {

namespace detail {

DHIS2CPP_INLINE bool read_digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace detail

DHIS2CPP_INLINE std::optional<LocalTime> parse_local_time(std::string_view text) {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || !detail::read_digits(text, 0, 4, y) || text[4] != '-' || !detail::read_digits(text, 5, 2, mo) ||
      text[7] != '-' || !detail::read_digits(text, 8, 2, d) || text[10] != 'T' || !detail::read_digits(text, 11, 2, h) ||
      text[13] != ':' || !detail::read_digits(text, 14, 2, mi) || text[16] != ':' ||
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
  if (mo < 1 || mo > 12 || d < 1 || d > detail::days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const std::int64_t days = detail::days_from_civil(y, mo, d);
  const std::int64_t ms = ((days * 24 + h) * 60 + mi) * 60 * 1000 + std::int64_t{s} * 1000 + millis;
  return LocalTime(std::chrono::milliseconds(ms));
}

DHIS2CPP_INLINE std::string format_local_time(LocalTime t) {
  const std::int64_t ms = t.time_since_epoch().count();
  std::int64_t days = ms / 86400000;
  std::int64_t rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  const auto date = detail::civil_from_days(days);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02d:%02d:%02d.%03d", static_cast<long long>(date.year),
                date.month, date.day, static_cast<int>(rest / 3600000), static_cast<int>(rest / 60000 % 60),
                static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return buffer;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_LOCAL_TIME_IPP
