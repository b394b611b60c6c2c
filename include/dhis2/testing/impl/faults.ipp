#ifndef DHIS2_TESTING_IMPL_FAULTS_IPP
#define DHIS2_TESTING_IMPL_FAULTS_IPP

// Definitions of <dhis2/testing/faults.hpp>.

#include <dhis2/testing/faults.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/errors.hpp>

#include <cctype>
#include <cstddef>
#include <cstdio>
#include <ctime>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE Fault Fault::status_page(int status) {
  if (status < 400 || status > 599) throw UsageError("Fault::status_page: the status must be 4xx or 5xx");
  Fault f(Kind::Status);
  f.status = status;
  return f;
}

DHIS2CPP_INLINE Fault Fault::delay_by(std::chrono::milliseconds delay) {
  if (delay.count() < 0) throw UsageError("Fault::delay_by: the delay must not be negative");
  Fault f(Kind::Delay);
  f.delay = delay;
  return f;
}

DHIS2CPP_INLINE Fault Fault::html_page(int status) {
  Fault f(Kind::HtmlPage);
  f.status = status;
  return f;
}

DHIS2CPP_INLINE Fault Fault::redirect(std::string location, int status) {
  if (status < 300 || status > 399) throw UsageError("Fault::redirect: the status must be 3xx");
  Fault f(Kind::Redirect);
  f.status = status;
  f.location = std::move(location);
  return f;
}

DHIS2CPP_INLINE Fault Fault::with_retry_after(std::string value) const {
  Fault f = *this;
  f.retry_after = std::move(value);
  return f;
}

DHIS2CPP_INLINE std::string Fault::http_date(std::chrono::system_clock::time_point when) {
  static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[utc.tm_wday], utc.tm_mday,
                months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buffer;
}

DHIS2CPP_INLINE bool glob_match(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

DHIS2CPP_INLINE std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& h : headers) {
    if (dhis2::detail::iequals(h.first, name)) return h.second;
  }
  return {};
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_FAULTS_IPP
