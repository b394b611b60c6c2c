#ifndef DHIS2_DETAIL_HTTP_TRANSPORT_HPP
#define DHIS2_DETAIL_HTTP_TRANSPORT_HPP

// The Client's transport: a bounded pool of keep-alive httplib connections to one origin, with
// explicit timeouts, TLS settings, a response size cap, and one silent retry when a reused
// keep-alive socket turns out to be stale. Thread-safe. No httplib type shows here: only its
// definitions (<dhis2/impl/http_transport.ipp>) include <httplib.h>, so that a compiled-mode
// user's files never compile it.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/url.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/response.hpp>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
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
};

enum class TransportFailure { None, Connect, Dns, Timeout, Tls, Read, Write, TooLarge, Closed, Other };

// The public kind of a failure (Closed, which the Client reports as a UsageError, maps to Other).
TransportErrorKind transport_error_kind(TransportFailure failure) noexcept;

struct HttpResult {
  TransportFailure failure = TransportFailure::None;
  std::string error;  // what went wrong when failure != None
  Response response;
};

class ConnectionPool {
 public:
  ConnectionPool(Url origin, const ClientOptions& options);
  ~ConnectionPool();

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Sends one request on a pooled connection, waiting for a free one when all `pool_size` are
  // busy. Never throws for a network failure: the result says what happened.
  HttpResult send(const HttpRequest& request);

  // Closes every connection; in-flight, blocked and later sends fail with TransportFailure::Closed.
  void close();

 private:
  struct Connection;  // one httplib client and its socket; defined with the definitions

  std::unique_ptr<Connection> checkout();
  bool is_closed();
  void checkin(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> make_connection() const;
  HttpResult send_on(Connection& connection, const HttpRequest& request) const;
  static HttpResult closed_result();

  Url origin_;
  const ClientOptions& options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::vector<Connection*> busy_;  // checked out; close() stops them
  std::size_t open_ = 0;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/http_transport.ipp>
#endif

#endif  // DHIS2_DETAIL_HTTP_TRANSPORT_HPP
