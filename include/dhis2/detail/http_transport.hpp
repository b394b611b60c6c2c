#ifndef DHIS2_DETAIL_HTTP_TRANSPORT_HPP
#define DHIS2_DETAIL_HTTP_TRANSPORT_HPP

// The Client's transport: a bounded pool of keep-alive httplib connections to one origin, with
// explicit timeouts (per request where it says so), TLS settings, a response size cap, one
// silent retry when a reused keep-alive socket turns out to be stale, and cancellation that
// reaches a request while it connects, sends or waits. Thread-safe. No httplib type shows here:
// only its definitions (<dhis2/impl/http_transport.ipp>) include <httplib.h>, so that a
// compiled-mode user's files never compile it.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/transport.hpp>
#include <dhis2/detail/url.hpp>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace detail {

class ConnectionPool final : public Transport {
 public:
  ConnectionPool(Url origin, ClientOptions options);
  ~ConnectionPool() override;

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Sends one request on a pooled connection, waiting for a free one when all `pool_size` are
  // busy. Never throws for a network failure: the result says what happened.
  HttpResult send(const HttpRequest& request) override;

  // Closes every connection; in-flight, blocked and later sends fail with TransportFailure::Closed.
  void close() override;

  // What this build's httplib decodes: "gzip" with CPPHTTPLIB_ZLIB_SUPPORT, "br" with
  // CPPHTTPLIB_BROTLI_SUPPORT (Debian's package has both).
  std::string content_codings() const override;

 private:
  struct Connection;  // one httplib client and its socket; defined with the definitions

  std::unique_ptr<Connection> checkout(const CancellationToken* cancellation);
  bool is_closed();
  void checkin(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> make_connection() const;
  HttpResult send_on(Connection& connection, const HttpRequest& request) const;
  static HttpResult closed_result();
  static HttpResult cancelled_result();

  Url origin_;
  const ClientOptions options_;
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
