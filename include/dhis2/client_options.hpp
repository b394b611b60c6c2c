#ifndef DHIS2_CLIENT_OPTIONS_HPP
#define DHIS2_CLIENT_OPTIONS_HPP

// The Client's options: plain structs with their defaults in the declaration, fixed once the
// Client is constructed; and RequestOptions, which one call may set for itself.

#include <dhis2/cancellation.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {

// When and how a failed request is tried again. Only idempotent requests (GET, PUT, DELETE,
// HEAD, OPTIONS) are retried unless retry_non_idempotent is set: a retried POST can start a
// second DHIS2 job. The delay before attempt n+1 is base_delay * backoff_factor^(n-1), capped at
// max_delay, varied by +-jitter; a Retry-After header (seconds or HTTP date) takes precedence,
// also capped at max_delay.
struct RetryPolicy {
  int max_attempts = 3;  // including the first
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30000};
  double backoff_factor = 2.0;
  double jitter = 0.1;  // +-10 %
  std::vector<int> retry_statuses = {429, 502, 503, 504};
  bool retry_connection_errors = true;  // refused, a name that did not resolve, reset, dropped, timed out
  bool retry_non_idempotent = false;
};

// What the request hook receives for every attempt. Credentials are redacted.
struct RequestEvent {
  std::string method;
  std::string url;                                                   // without credentials
  std::vector<std::pair<std::string, std::string>> request_headers;  // Authorization redacted
  int attempt = 1;                                                   // 1 for the first try
  int status = 0;                                                    // the HTTP status, or 0 when no response arrived
  std::string error;                                                 // what went wrong without a response; "" otherwise
  std::chrono::milliseconds elapsed{0};
  bool will_retry = false;
  std::chrono::milliseconds retry_delay{0};  // when will_retry
};

struct ClientOptions {
  std::chrono::milliseconds timeout{30000};          // reading (and writing) one response
  std::chrono::milliseconds connect_timeout{10000};  // establishing a connection
  std::optional<RetryPolicy> retry = RetryPolicy{};  // empty: never retry
  bool verify_tls = true;                            // never turn off outside a test
  std::string ca_cert_path;                          // a PEM bundle for a private CA; "" uses the system store
  std::string version_pin;                           // e.g. "2.41" (any 2.41.x) or "2.41.4"; "" pins nothing
  bool allow_version_mismatch = false;               // accept a server whose version differs from the pin
  bool allow_unsupported_version = false;            // accept servers outside 2.38-2.43
  bool skip_version_probe = false;                   // no handshake; version accessors then throw
  std::chrono::seconds system_cache_ttl{300};        // 0 disables the cache of system().info() etc.
  std::size_t pool_size = 4;                         // keep-alive connections, = concurrent requests
  std::size_t max_response_bytes = 64u * 1024u * 1024u;
  std::string user_agent;  // "" sends "dhis2-cpp/<version>"
  // Ask for compressed responses (Accept-Encoding: gzip, br, as far as this build's httplib can
  // decode them). A proxy in front of DHIS2 (nginx, usually) then sends a JSON body in a fifth to
  // a tenth of its bytes. Bodies arrive decoded; Response::headers keep the server's
  // Content-Encoding and Content-Length; max_response_bytes caps the decoded size.
  bool compression = true;
  std::function<void(const RequestEvent&)> on_request;  // called for every attempt, on the calling thread
};

// Options of one call (the raw requests: get_raw(path, query, options), send(..., options), ...),
// each empty by default: the Client's then apply.
struct RequestOptions {
  // The read (and write) timeout of each attempt of this call, instead of ClientOptions::timeout.
  std::optional<std::chrono::milliseconds> timeout;
  // This call's retry policy, instead of ClientOptions::retry; max_attempts = 1 turns retries off.
  // A job kick-off is never retried, whatever the policy.
  std::optional<RetryPolicy> retry;
  // Cancelling it makes the call throw CancelledError promptly: while it waits for a free
  // connection, connects, sends, waits for the answer, or sleeps before a retry.
  std::optional<CancellationToken> cancellation;
};

}  // namespace dhis2

#endif  // DHIS2_CLIENT_OPTIONS_HPP
