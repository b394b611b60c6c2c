#ifndef DHIS2_DETAIL_HTTP_TRANSPORT_HPP
#define DHIS2_DETAIL_HTTP_TRANSPORT_HPP

// The Client's transport: a bounded pool of keep-alive httplib connections to one origin, with
// explicit timeouts, TLS settings, a response size cap, and one silent retry when a reused
// keep-alive socket turns out to be stale. The only header of the library that includes
// <httplib.h>. Thread-safe.
//
// cpp-httplib 0.11.4 traps handled here: its default read timeout is 5 s (always set ours); it
// has no response size cap (count in the content receiver and stop by returning false: throwing
// from a callback corrupts the client); a stale HTTPS keep-alive socket fails the next request
// with a Read error.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/url.hpp>
#include <dhis2/response.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>

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

enum class TransportFailure { None, Connect, Timeout, Tls, Read, Write, TooLarge, Closed, Other };

struct HttpResult {
  TransportFailure failure = TransportFailure::None;
  std::string error;  // what went wrong when failure != None
  Response response;
};

class ConnectionPool {
 public:
  ConnectionPool(Url origin, const ClientOptions& options) : origin_(std::move(origin)), options_(options) {}

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Sends one request on a pooled connection, waiting for a free one when all `pool_size` are
  // busy. Never throws for a network failure: the result says what happened.
  HttpResult send(const HttpRequest& request) {
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

  // Closes every connection; in-flight, blocked and later sends fail with TransportFailure::Closed.
  void close() {
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

 private:
  struct Connection {
    std::unique_ptr<httplib::Client> client;
    bool used = false;  // has served a response on its current socket
  };

  std::unique_ptr<Connection> checkout() {
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
    auto c = std::make_unique<Connection>();
    c->client = make_client();
    lock.lock();
    if (closed_) {
      --open_;
      return nullptr;
    }
    busy_.push_back(c.get());
    return c;
  }

  bool is_closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

  void checkin(std::unique_ptr<Connection> connection) {
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

  std::unique_ptr<httplib::Client> make_client() const {
    auto client = std::make_unique<httplib::Client>(origin_.origin());
    const auto to_timeval = [](std::chrono::milliseconds d) {
      return std::make_pair(static_cast<time_t>(d.count() / 1000), static_cast<time_t>((d.count() % 1000) * 1000));
    };
    const auto connect = to_timeval(options_.connect_timeout);
    const auto io = to_timeval(options_.timeout);
    client->set_connection_timeout(connect.first, connect.second);
    client->set_read_timeout(io.first, io.second);
    client->set_write_timeout(io.first, io.second);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // otherwise Nagle delays each small request by ~40 ms
    client->set_follow_location(false);  // credentials never follow a redirect
    if (origin_.scheme == "https") {
      client->enable_server_certificate_verification(options_.verify_tls);
      if (!options_.ca_cert_path.empty()) client->set_ca_cert_path(options_.ca_cert_path);
    }
    return client;
  }

  HttpResult send_on(Connection& connection, const HttpRequest& request) const {
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
      result.failure = classify(error);
      result.error = describe(error, *connection.client);
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

  static TransportFailure classify(httplib::Error error) {
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

  std::string describe(httplib::Error error, const httplib::Client& client) const {
    switch (error) {
      case httplib::Error::Connection:
        return "cannot connect to " + origin_.origin() + " (refused, unreachable, or the name does not resolve)";
      case httplib::Error::ConnectionTimeout:
        return "connecting to " + origin_.origin() + " timed out";
      case httplib::Error::Read:
        return "the connection to " + origin_.origin() + " failed or timed out while reading the response";
      case httplib::Error::Write:
        return "the connection to " + origin_.origin() + " failed while sending the request";
      case httplib::Error::SSLServerVerification: {
        const long code = client.get_openssl_verify_result();
        std::string why = code != X509_V_OK ? X509_verify_cert_error_string(code) : "the certificate does not name this host";
        return "TLS verification of " + origin_.origin() + " failed (" + why +
               "); if the server uses a private CA, pass its certificate with ClientOptions::ca_cert_path";
      }
      case httplib::Error::SSLLoadingCerts:
        return "cannot load the CA certificates" +
               (options_.ca_cert_path.empty() ? std::string(" of the system store") : " from " + options_.ca_cert_path);
      case httplib::Error::SSLConnection:
        return "the TLS handshake with " + origin_.origin() + " failed";
      default:
        return "the request to " + origin_.origin() + " failed (" + httplib::to_string(error) + ")";
    }
  }

  static HttpResult closed_result() {
    HttpResult result;
    result.failure = TransportFailure::Closed;
    result.error = "the client is closed";
    return result;
  }

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

#endif  // DHIS2_DETAIL_HTTP_TRANSPORT_HPP
