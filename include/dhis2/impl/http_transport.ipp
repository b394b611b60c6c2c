#ifndef DHIS2_IMPL_HTTP_TRANSPORT_IPP
#define DHIS2_IMPL_HTTP_TRANSPORT_IPP

// Definitions of <dhis2/detail/http_transport.hpp>; the only file of the library that includes
// <httplib.h> (and through it OpenSSL).
//
// cpp-httplib 0.11.4 traps handled here: its default read timeout is 5 s (always set ours); it
// has no response size cap (count in the content receiver and stop by returning false: throwing
// from a callback corrupts the client); a stale HTTPS keep-alive socket fails the next request
// with a Read error.

#include <dhis2/detail/http_transport.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#include <netdb.h>
#include <sys/socket.h>

#include <httplib.h>

namespace dhis2 {
namespace detail {

struct ConnectionPool::Connection {
  std::unique_ptr<httplib::Client> client;
  bool used = false;  // has served a response on its current socket
};

DHIS2CPP_INLINE TransportErrorKind transport_error_kind(TransportFailure failure) noexcept {
  switch (failure) {
    case TransportFailure::Connect: return TransportErrorKind::Connect;
    case TransportFailure::Dns: return TransportErrorKind::Dns;
    case TransportFailure::Timeout: return TransportErrorKind::Timeout;
    case TransportFailure::Tls: return TransportErrorKind::Tls;
    case TransportFailure::Read:
    case TransportFailure::Write: return TransportErrorKind::ConnectionClosed;
    case TransportFailure::TooLarge: return TransportErrorKind::ResponseTooLarge;
    case TransportFailure::None:
    case TransportFailure::Closed:
    case TransportFailure::Other: break;
  }
  return TransportErrorKind::Other;
}

namespace http_transport {

// After a failed connect: whether the host name itself does not resolve (a literal address
// always "resolves"). Asked only after a failure, so a working connection never pays for it.
DHIS2CPP_INLINE bool name_does_not_resolve(const std::string& host) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (found != nullptr) ::freeaddrinfo(found);
  return rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL
#ifdef EAI_NODATA
         || rc == EAI_NODATA
#endif
      ;
}

DHIS2CPP_INLINE TransportFailure classify(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return TransportFailure::Connect;
    case httplib::Error::ConnectionTimeout: return TransportFailure::Timeout;
    case httplib::Error::Read: return TransportFailure::Read;
    case httplib::Error::Write: return TransportFailure::Write;
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification: return TransportFailure::Tls;
    default: return TransportFailure::Other;
  }
}

DHIS2CPP_INLINE std::string describe(httplib::Error error, const httplib::Client& client, const Url& origin,
                                     const ClientOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect to " + origin.origin() + " (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connecting to " + origin.origin() + " timed out";
    case httplib::Error::Read:
      return "the connection to " + origin.origin() + " failed or timed out while reading the response";
    case httplib::Error::Write:
      return "the connection to " + origin.origin() + " failed while sending the request";
    case httplib::Error::SSLServerVerification: {
      const long code = client.get_openssl_verify_result();
      std::string why = code != X509_V_OK ? X509_verify_cert_error_string(code) : "the certificate does not name this host";
      return "TLS verification of " + origin.origin() + " failed (" + why +
             "); if the server uses a private CA, pass its certificate with ClientOptions::ca_cert_path";
    }
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates" +
             (options.ca_cert_path.empty() ? std::string(" of the system store") : " from " + options.ca_cert_path);
    case httplib::Error::SSLConnection:
      return "the TLS handshake with " + origin.origin() + " failed";
    default:
      return "the request to " + origin.origin() + " failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace http_transport

DHIS2CPP_INLINE ConnectionPool::ConnectionPool(Url origin, const ClientOptions& options)
    : origin_(std::move(origin)), options_(options) {}

DHIS2CPP_INLINE ConnectionPool::~ConnectionPool() = default;

DHIS2CPP_INLINE HttpResult ConnectionPool::send(const HttpRequest& request) {
  std::unique_ptr<Connection> connection = checkout();
  if (!connection) return closed_result();
  HttpResult result = send_on(*connection, request);
  if (request.idempotent && connection->used &&
      (result.failure == TransportFailure::Read || result.failure == TransportFailure::Write) && !is_closed()) {
    // The server closed this keep-alive socket while it sat in the pool: once, on a new socket.
    connection->client->stop();
    connection->used = false;
    result = send_on(*connection, request);
  }
  connection->used = result.failure == TransportFailure::None;
  if (!connection->used) connection->client->stop();
  // A failure after close() is close() shutting the socket of this request in flight.
  const bool closed = result.failure != TransportFailure::None && is_closed();
  checkin(std::move(connection));
  return closed ? closed_result() : result;
}

DHIS2CPP_INLINE void ConnectionPool::close() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    idle.swap(idle_);
    // httplib's stop() only shuts the socket of a request in flight: that request then fails.
    for (Connection* c : busy_) c->client->stop();
  }
  available_.notify_all();
  for (auto& c : idle) c->client->stop();
}

DHIS2CPP_INLINE std::unique_ptr<ConnectionPool::Connection> ConnectionPool::checkout() {
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [this] { return closed_ || !idle_.empty() || open_ < std::max<std::size_t>(1, options_.pool_size); });
  if (closed_) return nullptr;
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    busy_.push_back(c.get());
    return c;
  }
  ++open_;
  lock.unlock();
  auto c = make_connection();
  lock.lock();
  if (closed_) {
    --open_;
    return nullptr;
  }
  busy_.push_back(c.get());
  return c;
}

DHIS2CPP_INLINE bool ConnectionPool::is_closed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

DHIS2CPP_INLINE void ConnectionPool::checkin(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    busy_.erase(std::remove(busy_.begin(), busy_.end(), connection.get()), busy_.end());
    if (!closed_) {
      idle_.push_back(std::move(connection));
    } else {
      connection->client->stop();
      --open_;
    }
  }
  available_.notify_one();
}

DHIS2CPP_INLINE std::unique_ptr<ConnectionPool::Connection> ConnectionPool::make_connection() const {
  auto connection = std::make_unique<Connection>();
  connection->client = std::make_unique<httplib::Client>(origin_.origin());
  httplib::Client& client = *connection->client;
  const auto to_timeval = [](std::chrono::milliseconds d) {
    return std::make_pair(static_cast<time_t>(d.count() / 1000), static_cast<time_t>((d.count() % 1000) * 1000));
  };
  const auto connect = to_timeval(options_.connect_timeout);
  const auto io = to_timeval(options_.timeout);
  client.set_connection_timeout(connect.first, connect.second);
  client.set_read_timeout(io.first, io.second);
  client.set_write_timeout(io.first, io.second);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // otherwise Nagle delays each small request by ~40 ms
  client.set_follow_location(false);  // credentials never follow a redirect
  if (origin_.scheme == "https") {
    client.enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_cert_path.empty()) client.set_ca_cert_path(options_.ca_cert_path);
  }
  return connection;
}

DHIS2CPP_INLINE HttpResult ConnectionPool::send_on(Connection& connection, const HttpRequest& request) const {
  HttpResult result;
  httplib::Request req;
  req.method = request.method;
  req.path = request.target;
  for (const auto& h : request.headers) req.headers.emplace(h.first, h.second);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    req.body = request.body;
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
  }
  const std::size_t cap = options_.max_response_bytes;
  bool too_large = false;
  std::string body;
  // httplib reports a read timeout as a Read error, as it does a closed socket; the time since
  // the last byte tells them apart (a stale socket fails at once).
  auto last_progress = std::chrono::steady_clock::now();
  req.response_handler = [&](const httplib::Response& head) {
    last_progress = std::chrono::steady_clock::now();
    const auto length = head.get_header_value("Content-Length");
    if (!length.empty() && std::strtoull(length.c_str(), nullptr, 10) > cap) {
      too_large = true;
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    last_progress = std::chrono::steady_clock::now();
    if (body.size() + size > cap) {
      too_large = true;
      return false;
    }
    body.append(data, size);
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool sent = connection.client->send(req, res, error);
  if (too_large) {
    result.failure = TransportFailure::TooLarge;
    result.error = "the response is larger than the " + std::to_string(cap) + "-byte cap";
    return result;
  }
  if (!sent || error != httplib::Error::Success) {
    result.failure = http_transport::classify(error);
    result.error = http_transport::describe(error, *connection.client, origin_, options_);
    if (result.failure == TransportFailure::Connect && http_transport::name_does_not_resolve(origin_.host)) {
      result.failure = TransportFailure::Dns;
      result.error = "cannot connect to " + origin_.origin() + ": the host name " + origin_.host +
                     " does not resolve (check the spelling, the DNS settings, or the network)";
    }
    if ((error == httplib::Error::Read || error == httplib::Error::Write) &&
        std::chrono::steady_clock::now() - last_progress >= options_.timeout) {
      result.failure = TransportFailure::Timeout;
      result.error = std::string(error == httplib::Error::Read ? "reading the response from " : "sending the request to ") +
                     origin_.origin() + " timed out";
    }
    return result;
  }
  result.response.status = res.status;
  for (const auto& h : res.headers) result.response.headers.emplace_back(h.first, h.second);
  result.response.body = std::move(body);
  return result;
}

DHIS2CPP_INLINE HttpResult ConnectionPool::closed_result() {
  HttpResult result;
  result.failure = TransportFailure::Closed;
  result.error = "the client is closed";
  return result;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_HTTP_TRANSPORT_IPP
