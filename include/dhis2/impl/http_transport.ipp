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

#include <dhis2/detail/ascii.hpp>
#include <dhis2/errors.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <openssl/x509v3.h>

namespace dhis2 {
namespace detail {

namespace http_transport {

// httplib 0.11.4 writes plain-HTTP sockets without MSG_NOSIGNAL, and OpenSSL writes with write():
// a peer that closed the socket (or a cancel that shut it down) raises SIGPIPE, which kills a
// host program that keeps the default action. While a request runs, SIGPIPE is blocked on this
// thread only, and one the request raised is consumed; the process's disposition is untouched.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    // Only a SIGPIPE that was blocked already can be pending before the request (an unblocked
    // one is delivered at once): ask only then, one system call fewer per request.
    if (sigismember(&previous_, SIGPIPE) == 1) {
      sigset_t pending;
      sigemptyset(&pending);
      was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    }
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t previous_;
  bool was_pending_ = false;
};

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

// httplib 0.11.4 matches the host against the certificate's names by itself, laxly: a "*"
// stands for any one label, even the only one ("*" matches "localhost"), a label ending in '*'
// matches by prefix, and when no subjectAltName matches it falls back to the subject's common
// name. Instead, OpenSSL checks the name while it verifies the chain (RFC 6125): subjectAltName
// only, a wildcard only as a whole leftmost label of a name with two more labels, and an IP
// literal only against an IP address entry. A mismatch is a verification error
// (X509_V_ERR_HOSTNAME_MISMATCH or X509_V_ERR_IP_ADDRESS_MISMATCH) before any request is sent.
// httplib's check still runs after a pass; it can only refuse more.
DHIS2CPP_INLINE void verify_host_name(httplib::Client& client, const std::string& host) {
  SSL_CTX* context = client.ssl_context();
  X509_VERIFY_PARAM* param = context ? SSL_CTX_get0_param(context) : nullptr;
  if (param == nullptr) throw TransportError("cannot set up TLS for " + host, TransportErrorKind::Tls);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const std::string bare = bracketed ? host.substr(1, host.size() - 2) : host;
  unsigned char address[16];
  const bool ip = bracketed ? inet_pton(AF_INET6, bare.c_str(), address) == 1
                            : inet_pton(AF_INET, bare.c_str(), address) == 1;
  const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, bare.c_str())
                     : X509_VERIFY_PARAM_set1_host(param, bare.c_str(), bare.size());
  if (set != 1) {
    throw TransportError("cannot check TLS certificates for the host \"" + host + "\" (OpenSSL refused the name)",
                         TransportErrorKind::Tls);
  }
}

// What OpenSSL's verification result means for a user, and what to do about it.
DHIS2CPP_INLINE std::string verification_failure(long code, const Url& origin, const ClientOptions& options) {
  const std::string reason = code != X509_V_OK ? X509_verify_cert_error_string(code)
                                               : "the certificate is not acceptable";
  const std::string what = "TLS verification of " + origin.origin() + " failed";
  switch (code) {
    case X509_V_OK:  // httplib's own name check refused what OpenSSL's accepted
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return what + ": the certificate does not name " + origin.host + " (" + reason +
             "); only its subjectAltName entries count, not its common name: connect with a name the "
             "certificate lists, or have it reissued for this one";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return what + " (" + reason +
             "): the server must renew its certificate, or this machine's clock is wrong; check the "
             "date here first";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      if (options.ca_cert_path.empty()) {
        // OpenSSL's default locations, which the SSL_CERT_FILE and SSL_CERT_DIR variables replace.
        const char* file = std::getenv("SSL_CERT_FILE");
        const char* dir = std::getenv("SSL_CERT_DIR");
        std::string store = "the system store";
        if (file && *file) store += ", SSL_CERT_FILE=" + std::string(file);
        if (dir && *dir) store += ", SSL_CERT_DIR=" + std::string(dir);
        return what + " (" + reason + "): no trusted CA signed the certificate (trusted: " + store +
               "); if the server uses a private CA, pass its certificate with ClientOptions::ca_cert_path, or "
               "name it in the SSL_CERT_FILE environment variable";
      }
      return what + " (" + reason + "): no trusted CA signed the certificate (trusted: " + options.ca_cert_path +
             "); if the server uses a private CA, pass its certificate with ClientOptions::ca_cert_path";
    default:
      return what + " (" + reason +
             "); if the server uses a private CA, pass its certificate with ClientOptions::ca_cert_path";
  }
}

DHIS2CPP_INLINE std::string describe(httplib::Error error, const httplib::Client& client, const Url& origin,
                                     const ClientOptions& options) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect to " + origin.origin() + " (refused or unreachable)";
    case httplib::Error::ConnectionTimeout: return "connecting to " + origin.origin() + " timed out";
    case httplib::Error::Read:
      return "the connection to " + origin.origin() + " failed or timed out while reading the response";
    case httplib::Error::Write: return "the connection to " + origin.origin() + " failed while sending the request";
    case httplib::Error::SSLServerVerification:
      return verification_failure(client.get_openssl_verify_result(), origin, options);
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates" +
             (options.ca_cert_path.empty() ? std::string(" of the system store") : " from " + options.ca_cert_path);
    case httplib::Error::SSLConnection: return "the TLS handshake with " + origin.origin() + " failed";
    default: return "the request to " + origin.origin() + " failed (" + httplib::to_string(error) + ")";
  }
}

}  // namespace http_transport

// One keep-alive connection. A cancel from another thread must not wait for httplib's socket
// mutex (held while it connects), so the connection keeps its own copy (dup) of the current
// socket's descriptor: shutting that down interrupts a connect, a send or a read at once, and a
// copy cannot be closed and reused under us while the cancel runs.
struct ConnectionPool::Connection {
  std::unique_ptr<httplib::Client> client;
  bool used = false;  // has served a response on its current socket

  std::mutex socket_mutex;  // guards the two below; taken by a cancel callback and by httplib's socket hook
  int socket_copy = -1;
  bool cancelling = false;  // the request on this connection was cancelled

  ~Connection() {
    {
      const http_transport::SigpipeGuard no_sigpipe;  // a TLS close_notify to a vanished peer
      client.reset();
    }
    if (socket_copy >= 0) ::close(socket_copy);
  }

  // Closes the socket (httplib's stop(): on this thread, with no request in flight on it).
  void stop() {
    const http_transport::SigpipeGuard no_sigpipe;
    client->stop();
  }

  // httplib's socket hook: a new socket, before it connects.
  void adopt_socket(int sock) {
    std::lock_guard<std::mutex> lock(socket_mutex);
    drop_copy_locked();
    if (cancelling) {
      // A shutdown() before connect() would not stop the connect: put a socket of another family
      // in its place, and the connect fails at once (httplib reports Error::Connection).
      const int other = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (other >= 0) {
        ::dup3(other, sock, O_CLOEXEC);
        ::close(other);
      }
      return;
    }
    socket_copy = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
  }

  // Forgets the copy of a socket that httplib closed or will not use again, so that a connect
  // that timed out is not kept alive by the copy. Only with no cancel registered.
  void drop_copy() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    drop_copy_locked();
  }

  void drop_copy_locked() {
    if (socket_copy >= 0) ::close(socket_copy);
    socket_copy = -1;
  }

  bool cancelled() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    return cancelling;
  }

  void interrupt() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    cancelling = true;
    if (socket_copy >= 0) ::shutdown(socket_copy, SHUT_RDWR);
  }

  void reset_cancel() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    cancelling = false;
  }
};

DHIS2CPP_INLINE ConnectionPool::ConnectionPool(Url origin, ClientOptions options)
    : origin_(std::move(origin)), options_(std::move(options)) {}

DHIS2CPP_INLINE ConnectionPool::~ConnectionPool() = default;

DHIS2CPP_INLINE HttpResult ConnectionPool::send(const HttpRequest& request) {
  const CancellationToken* token = request.cancellation;
  if (token && token->cancelled()) return cancelled_result();
  // Returns the connection to the pool however send() ends, an exception included.
  struct Lease {
    ConnectionPool& pool;
    std::unique_ptr<Connection> connection;
    ~Lease() {
      if (connection) pool.checkin(std::move(connection));
    }
  } lease{*this, checkout(token)};
  if (!lease.connection) return token && token->cancelled() && !is_closed() ? cancelled_result() : closed_result();
  Connection& connection = *lease.connection;
  HttpResult result;
  {
    Connection* target = &connection;
    const auto registration = token ? token->on_cancel([target] { target->interrupt(); })
                                    : CancellationToken::Registration();
    result = send_on(connection, request);
    if (request.idempotent && connection.used && !connection.cancelled() &&
        (result.failure == TransportFailure::Read || result.failure == TransportFailure::Write) && !is_closed()) {
      // The server closed this keep-alive socket while it sat in the pool: once, on a new socket.
      connection.stop();
      connection.used = false;
      result = send_on(connection, request);
    }
  }  // the registration ends here: no cancel touches the connection after this
  const bool cancelled = token && token->cancelled() && result.failure != TransportFailure::None;
  connection.reset_cancel();
  connection.used = result.failure == TransportFailure::None;
  if (!connection.used) {
    connection.stop();
    connection.drop_copy();
  }
  // A failure after close() is close() shutting the socket of this request in flight.
  const bool closed = result.failure != TransportFailure::None && is_closed();
  if (closed) return closed_result();
  if (cancelled) return cancelled_result();
  return result;  // moved, not copied (a ?: of it would copy the body)
}

DHIS2CPP_INLINE void ConnectionPool::close() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    idle.swap(idle_);
    // Shuts the socket of each request in flight (it then fails) without waiting for httplib,
    // which holds its socket mutex while it connects.
    for (Connection* c : busy_) c->interrupt();
  }
  available_.notify_all();
  for (auto& c : idle) c->stop();
}

DHIS2CPP_INLINE std::unique_ptr<ConnectionPool::Connection> ConnectionPool::checkout(
    const CancellationToken* cancellation) {
  // A cancel wakes a thread that waits for a free connection (taking mutex_ orders the wake-up
  // after the wait began, or before the predicate is checked).
  const auto registration = cancellation ? cancellation->on_cancel([this] {
    { std::lock_guard<std::mutex> lock(mutex_); }
    available_.notify_all();
  })
                                         : CancellationToken::Registration();
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [this, cancellation] {
    return closed_ || (cancellation && cancellation->cancelled()) || !idle_.empty() ||
           open_ < std::max<std::size_t>(1, options_.pool_size);
  });
  if (closed_ || (cancellation && cancellation->cancelled())) return nullptr;
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    busy_.push_back(c.get());
    return c;
  }
  ++open_;
  lock.unlock();
  std::unique_ptr<Connection> c;
  try {
    c = make_connection();
  } catch (...) {  // the TLS setup refused the host name: the slot was never used
    lock.lock();
    --open_;
    throw;
  }
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
      --open_;
    }
  }
  available_.notify_one();
  if (connection) connection->stop();  // closed meanwhile: its socket goes (TLS I/O, so without the lock)
}

DHIS2CPP_INLINE std::unique_ptr<ConnectionPool::Connection> ConnectionPool::make_connection() const {
  auto connection = std::make_unique<Connection>();
  // The host in lower case: DNS does not care, and httplib's own name check after OpenSSL's
  // (see verify_host_name) compares names case-sensitively.
  Url lowered = origin_;
  lowered.host = to_lower(lowered.host);
  connection->client = std::make_unique<httplib::Client>(lowered.origin());
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
  client.set_tcp_nodelay(true);       // otherwise Nagle delays each small request by ~40 ms
  client.set_follow_location(false);  // credentials never follow a redirect
  Connection* self = connection.get();
  client.set_socket_options([self](int sock) { self->adopt_socket(sock); });
  if (origin_.scheme == "https") {
    client.enable_server_certificate_verification(options_.verify_tls);
    if (!options_.ca_cert_path.empty()) client.set_ca_cert_path(options_.ca_cert_path);
    if (options_.verify_tls) http_transport::verify_host_name(client, lowered.host);
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
    if (!length.empty()) {
      const auto bytes = std::strtoull(length.c_str(), nullptr, 10);
      if (bytes > cap) {
        too_large = true;
        return false;
      }
      body.reserve(static_cast<std::size_t>(bytes));  // one allocation, not one per 4 KB read
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
  const std::chrono::milliseconds timeout = request.timeout.value_or(options_.timeout);
  const auto seconds = static_cast<time_t>(timeout.count() / 1000);
  const auto micros = static_cast<time_t>((timeout.count() % 1000) * 1000);
  connection.client->set_read_timeout(seconds, micros);  // the connection is this thread's alone now
  connection.client->set_write_timeout(seconds, micros);
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (connection.cancelled()) return cancelled_result();  // cancelled before httplib began: no socket at all
  bool sent = false;
  {
    const http_transport::SigpipeGuard no_sigpipe;
    sent = connection.client->send(req, res, error);
  }
  if (too_large) {
    result.failure = TransportFailure::TooLarge;
    result.error = "the response is larger than the " + std::to_string(cap) + "-byte cap";
    return result;
  }
  if (!sent || error != httplib::Error::Success) {
    result.failure = http_transport::classify(error);
    result.error = http_transport::describe(error, *connection.client, origin_, options_);
    if (result.failure == TransportFailure::Connect && !connection.cancelled() &&
        http_transport::name_does_not_resolve(origin_.host)) {
      result.failure = TransportFailure::Dns;
      result.error = "cannot connect to " + origin_.origin() + ": the host name " + origin_.host +
                     " does not resolve (check the spelling, the DNS settings, or the network)";
    }
    if ((error == httplib::Error::Read || error == httplib::Error::Write) &&
        std::chrono::steady_clock::now() - last_progress >= timeout) {
      result.failure = TransportFailure::Timeout;
      result.error = std::string(error == httplib::Error::Read ? "reading the response from "
                                                               : "sending the request to ") +
                     origin_.origin() + " timed out";
    }
    return result;
  }
  result.response.status = res.status;
  for (const auto& h : res.headers) result.response.headers.emplace_back(h.first, h.second);
  result.response.body = std::move(body);
  return result;
}

DHIS2CPP_INLINE std::string ConnectionPool::content_codings() const {
  std::string codings;
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
  codings = "gzip";
#endif
#ifdef CPPHTTPLIB_BROTLI_SUPPORT
  codings += codings.empty() ? "br" : ", br";
#endif
  return codings;
}

DHIS2CPP_INLINE HttpResult ConnectionPool::cancelled_result() {
  HttpResult result;
  result.failure = TransportFailure::Cancelled;
  result.error = "the request was cancelled";
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
