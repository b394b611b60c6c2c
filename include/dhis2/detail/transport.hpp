#ifndef DHIS2_DETAIL_TRANSPORT_HPP
#define DHIS2_DETAIL_TRANSPORT_HPP

// The transport interface under the request pipeline: sends one HTTP request and says what
// happened, never throwing for a network failure. ConnectionPool (http_transport.hpp) is the
// real one; tests of the pipeline put a scripted one in its place. No httplib type shows here.

#include <dhis2/cancellation.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/response.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace detail {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
  bool idempotent = true;
  std::optional<std::chrono::milliseconds> timeout;  // this request's read/write timeout, if not the default
  const CancellationToken* cancellation = nullptr;   // cancelling it interrupts the request
};

enum class TransportFailure { None, Connect, Dns, Timeout, Tls, Read, Write, TooLarge, Closed, Cancelled, Other };

// The public kind of a failure (Closed and Cancelled, which the pipeline reports as UsageError
// and CancelledError, map to Other).
TransportErrorKind transport_error_kind(TransportFailure failure) noexcept;

// Whether a failure may be retried by a RetryPolicy with retry_connection_errors: the request
// may not have reached the server, or its answer was lost on the way back.
bool is_retryable(TransportFailure failure) noexcept;

struct HttpResult {
  TransportFailure failure = TransportFailure::None;
  std::string error;  // what went wrong when failure != None
  Response response;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends one request. Thread-safe. A closed transport answers TransportFailure::Closed, a
  // cancelled request TransportFailure::Cancelled.
  virtual HttpResult send(const HttpRequest& request) = 0;

  // Interrupts requests in flight and refuses later ones; idempotent, thread-safe.
  virtual void close() = 0;

  // The content codings this transport decodes, for Accept-Encoding ("gzip, br"); "" when it
  // decodes none, and then the pipeline asks for none. Bodies reach the pipeline decoded.
  virtual std::string content_codings() const { return {}; }
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/transport.ipp>
#endif

#endif  // DHIS2_DETAIL_TRANSPORT_HPP
