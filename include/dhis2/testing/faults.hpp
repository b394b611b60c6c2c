#ifndef DHIS2_TESTING_FAULTS_HPP
#define DHIS2_TESTING_FAULTS_HPP

// What can go wrong between a client and DHIS2, injectable per route into the emulator: the
// failures of reverse proxies, load balancers, SSO gateways and networks (DHIS2 itself never
// sends 429 or Retry-After; dhis2-wire.md §7). And the record of what the emulator received.

#include <dhis2/errors.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace testing {

struct Fault {
  enum class Kind {
    DropBeforeResponse,  // the connection closes without a byte of response
    DropMidResponse,     // the headers and half the body arrive, then the connection closes
    Status,              // a proxy's error page with this status (502, 503, 504, 429, ...)
    Delay,               // the real response, after a (real-time) delay
    TruncatedJson,       // a complete HTTP response whose JSON body is cut in half
    MalformedJson,       // 200 with a body that is not JSON at all but says it is
    HtmlPage,            // an SSO or proxy login page with this status (200 by default)
    Redirect             // a redirect to `location` (another origin, a login page, ...)
  };

  Kind kind = Kind::Status;
  int status = 0;
  std::chrono::milliseconds delay{0};
  std::string location;
  std::string retry_after;  // sent as Retry-After when not empty

  static Fault drop_before_response() { return Fault(Kind::DropBeforeResponse); }
  static Fault drop_mid_response() { return Fault(Kind::DropMidResponse); }
  static Fault status_page(int status) {
    if (status < 400 || status > 599) throw UsageError("Fault::status_page: the status must be 4xx or 5xx");
    Fault f(Kind::Status);
    f.status = status;
    return f;
  }
  // 429 Too Many Requests with Retry-After in seconds.
  static Fault too_many_requests(std::chrono::seconds retry_after) {
    return status_page(429).with_retry_after(std::to_string(retry_after.count()));
  }
  // 429 Too Many Requests with Retry-After as an HTTP date.
  static Fault too_many_requests_until(std::chrono::system_clock::time_point when) {
    return status_page(429).with_retry_after(http_date(when));
  }
  static Fault delay_by(std::chrono::milliseconds delay) {
    if (delay.count() < 0) throw UsageError("Fault::delay_by: the delay must not be negative");
    Fault f(Kind::Delay);
    f.delay = delay;
    return f;
  }
  static Fault truncated_json() { return Fault(Kind::TruncatedJson); }
  static Fault malformed_json() { return Fault(Kind::MalformedJson); }
  static Fault html_page(int status = 200) {
    Fault f(Kind::HtmlPage);
    f.status = status;
    return f;
  }
  static Fault redirect(std::string location, int status = 302) {
    if (status < 300 || status > 399) throw UsageError("Fault::redirect: the status must be 3xx");
    Fault f(Kind::Redirect);
    f.status = status;
    f.location = std::move(location);
    return f;
  }

  Fault with_retry_after(std::string value) const {
    Fault f = *this;
    f.retry_after = std::move(value);
    return f;
  }

  // "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), in English whatever the C locale.
  static std::string http_date(std::chrono::system_clock::time_point when) {
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

 private:
  explicit Fault(Kind k) : kind(k) {}
};

// Where a fault applies: a method ("" for any) and a path pattern in which '*' matches any run of
// characters, matched against the request path after the context path ("/api/system/tasks/*").
// It fires `times` times (a burst), or on every request when `times` is negative.
struct FaultRule {
  std::string method;
  std::string path;
  Fault fault;
  int times = 1;
};

// '*' matches any run of characters (also '/'); everything else matches itself.
inline bool glob_match(const std::string& pattern, const std::string& text) {
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

// One request as the emulator received it. Credentials are redacted: Authorization keeps only
// its scheme ("Basic [redacted]"), Cookie is "[redacted]".
struct RecordedRequest {
  std::string method;
  std::string path;   // as received, context path included
  std::string query;  // the raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // 1 for the first TCP connection the emulator accepted, 2 for the next, ...

  // The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(h.first[i])) == std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return h.second;
    }
    return {};
  }
};

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_FAULTS_HPP
