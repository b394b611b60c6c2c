#ifndef DHIS2_TESTING_FAULTS_HPP
#define DHIS2_TESTING_FAULTS_HPP

// What can go wrong between a client and DHIS2, injectable per route into the emulator: the
// failures of reverse proxies, load balancers, SSO gateways and networks (DHIS2 itself never
// sends 429 or Retry-After; dhis2-wire.md §7). And the record of what the emulator received.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <cstddef>
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
  static Fault status_page(int status);
  // 429 Too Many Requests with Retry-After in seconds.
  static Fault too_many_requests(std::chrono::seconds retry_after) {
    return status_page(429).with_retry_after(std::to_string(retry_after.count()));
  }
  // 429 Too Many Requests with Retry-After as an HTTP date.
  static Fault too_many_requests_until(std::chrono::system_clock::time_point when) {
    return status_page(429).with_retry_after(http_date(when));
  }
  static Fault delay_by(std::chrono::milliseconds delay);
  static Fault truncated_json() { return Fault(Kind::TruncatedJson); }
  static Fault malformed_json() { return Fault(Kind::MalformedJson); }
  static Fault html_page(int status = 200);
  static Fault redirect(std::string location, int status = 302);

  Fault with_retry_after(std::string value) const;

  // "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), in English whatever the C locale.
  static std::string http_date(std::chrono::system_clock::time_point when);

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
bool glob_match(const std::string& pattern, const std::string& text);

// One request as the emulator received it. Credentials are redacted: Authorization keeps only
// its scheme ("Basic [redacted]"), Cookie is "[redacted]".
struct RecordedRequest {
  std::string method;
  std::string path;   // as received, context path included
  std::string query;  // the raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // 1 for the first TCP connection the emulator accepted, 2 for the next, ...
  // The response body's bytes as the emulator sent them: after compression
  // (FakeServerOptions::compress), half of it for a drop mid-response, 0 when none was sent.
  // Headers are not counted. Filled in once the reply is written.
  std::size_t response_bytes = 0;
  bool response_compressed = false;  // the body went out gzip-encoded

  // The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/faults.ipp>
#endif

#endif  // DHIS2_TESTING_FAULTS_HPP
