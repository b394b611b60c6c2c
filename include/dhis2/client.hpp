#ifndef DHIS2_CLIENT_HPP
#define DHIS2_CLIENT_HPP

// dhis2::Client: a blocking client for one DHIS2 server. It validates the base URL, shakes hands
// on connect (finds the canonical base URL without credentials, then reads /api/system/info and
// checks the version), and sends requests with authentication, retries with backoff, timeouts,
// TLS verification and a response size cap, turning each answer into JSON or a typed error.
//
// Thread safety: one Client may be shared by many threads; up to ClientOptions::pool_size
// requests run concurrently. Its options are fixed at construction. close() may be called from
// any thread and wakes requests that are waiting to retry.
//
// Throws: UsageError for invalid arguments or a closed client; TransportError when no response
// arrived; AuthenticationError for 401 and login redirects; UnexpectedResponseError for
// non-DHIS2 answers (an HTML page where JSON was expected); ApiError for other HTTP errors;
// UnsupportedVersionError and VersionPinMismatchError from the handshake.

#include <dhis2/auth.hpp>
#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/http_transport.hpp>
#include <dhis2/detail/url.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/response.hpp>
#include <dhis2/server_version.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/version.hpp>
#include <dhis2/web_message.hpp>  // ApiError::web_message() of what a Client throws

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

class SystemApi;
class JobsApi;
class TasksApi;
class TaskWatcher;

// The DHIS2 versions this library is tested against (docs/compatibility.md).
const ServerVersion& minimum_supported_version();
const ServerVersion& first_unsupported_version();

class Client {
 public:
  enum class State { Unconnected, Connecting, Connected, Closed };

  Client(std::string base_url, BasicAuth auth, ClientOptions options = {})
      : Client(std::move(base_url), Auth(std::move(auth)), std::move(options)) {}
  Client(std::string base_url, TokenAuth auth, ClientOptions options = {})
      : Client(std::move(base_url), Auth(std::move(auth)), std::move(options)) {}
  Client(std::string base_url, BearerAuth auth, ClientOptions options = {})
      : Client(std::move(base_url), Auth(std::move(auth)), std::move(options)) {}

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // Runs the handshake now; idempotent. A request on an unconnected client calls it first.
  void connect();

  // Closes the connections; idempotent. Later requests throw UsageError.
  void close();

  State state() const noexcept { return state_.load(); }

  // The base URL: as given until connect(), then the canonical one the handshake found.
  std::string base_url() const;
  const ClientOptions& options() const noexcept { return options_; }

  // What the server reported in the handshake. Throw UsageError with skip_version_probe.
  std::string raw_version();
  std::string version_key() { return server_version().key(); }
  ServerVersion server_version();
  // The server's version, or empty when it is not known (ClientOptions::skip_version_probe).
  // Connects first, like every request.
  std::optional<ServerVersion> known_version();

  // ---- JSON requests: the body decoded, or a typed error --------------------------------------

  nlohmann::json get_raw(const std::string& path, const Query& query = {}) { return request_json("GET", path, {}, {}, query); }
  nlohmann::json post_raw(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {}) {
    return request_json("POST", path, body_text(body), "application/json", query);
  }
  nlohmann::json put_raw(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {}) {
    return request_json("PUT", path, body_text(body), "application/json", query);
  }
  // JSON Patch by default (what DHIS2's PATCH endpoints take).
  nlohmann::json patch_raw(const std::string& path, const nlohmann::json& body, const Query& query = {},
                           const std::string& content_type = "application/json-patch+json") {
    return request_json("PATCH", path, body_text(body), content_type, query);
  }
  nlohmann::json delete_raw(const std::string& path, const Query& query = {}) {
    return request_json("DELETE", path, {}, {}, query);
  }

  // Typed: the JSON decoded with nlohmann's from_json (dhis2 types name the failing field).
  template <class T>
  T get(const std::string& path, const Query& query = {}) {
    return decode<T>(get_raw(path, query), "GET", path);
  }
  template <class T>
  T post(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {}) {
    return decode<T>(post_raw(path, body, query), "POST", path);
  }
  template <class T>
  T put(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {}) {
    return decode<T>(put_raw(path, body, query), "PUT", path);
  }
  template <class T>
  T patch(const std::string& path, const nlohmann::json& body, const Query& query = {}) {
    return decode<T>(patch_raw(path, body, query), "PATCH", path);
  }
  template <class T>
  T del(const std::string& path, const Query& query = {}) {
    return decode<T>(delete_raw(path, query), "DELETE", path);
  }

  // ---- raw escape hatches: never throw for an HTTP status -------------------------------------

  Response get_response(const std::string& path, const Query& query = {}) { return send("GET", path, {}, {}, query); }
  // Any method and body. Still throws TransportError, and UsageError on a closed client.
  Response send(const std::string& method, const std::string& path, const std::string& body = {},
                const std::string& content_type = {}, const Query& query = {});

  SystemApi system();
  JobsApi jobs();
  TasksApi tasks();

 private:
  using Auth = std::variant<BasicAuth, TokenAuth, BearerAuth>;
  friend class SystemApi;
  friend class JobsApi;
  friend class TaskWatcher;

  // A request that is never retried by the policy: job kick-offs (a retry starts a second job).
  Response send_once(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type, const Query& query);

  Client(std::string base_url, Auth auth, ClientOptions options);

  void validate_options() const;

  nlohmann::json request_json(const std::string& method, const std::string& path, const std::string& body,
                              const std::string& content_type, const Query& query);

  static bool is_idempotent(const std::string& method);
  static std::string body_text(const nlohmann::json& body);
  std::string context_path() const;
  void ensure_connected();
  void require_version(const char* what) const;

  // ---- the handshake ---------------------------------------------------------------------------

  void handshake();

  // Follows redirects of an unauthenticated probe to find the canonical base URL (http to https,
  // a moved context path). A target on another origin is adopted only when its
  // /api/system/info answers with JSON, so an SSO login page never becomes the base URL.
  void adopt_canonical_url();

  detail::HttpResult probe_info(const detail::Url& base) const;

  // The base URL a redirect of ".../api/system/info" points to, if it points to one.
  static std::optional<detail::Url> resolve_redirect(const detail::Url& from, const std::string& location);

  static bool is_json(const Response& r);

  // ---- sending, retrying -----------------------------------------------------------------------

  std::vector<std::pair<std::string, std::string>> common_headers() const;

  struct Credential {
    std::string header;
    std::uint64_t generation = 0;
  };

  Credential credential();

  // After a 401 with the token of `generation`: one refresh for all threads that saw it.
  Credential refreshed_credential(std::uint64_t generation);

  Response execute(const std::string& method, const std::string& target, const std::string& body,
                   const std::string& content_type, bool idempotent, bool allow_retry = true);

  // The wait before the next attempt, or empty when this result is final.
  std::optional<std::chrono::milliseconds> retry_delay(const detail::HttpResult& result, int attempt, int max_attempts,
                                                       bool may_retry);

  // Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3); empty when absent or invalid.
  static std::optional<std::chrono::milliseconds> retry_after(const std::string& value);

  void sleep_for(std::chrono::milliseconds delay);
  void report(const RequestEvent& event) const;
  static std::vector<std::pair<std::string, std::string>> redacted(std::vector<std::pair<std::string, std::string>> headers);
  std::string url_origin() const;

  // ---- classifying answers (DESIGN.md §2) -------------------------------------------------------

  TransportError transport_error(const std::string& method, const std::string& url, const detail::HttpResult& r) const;
  nlohmann::json interpret(const Response& r, const std::string& method, const std::string& target) const;
  std::string unauthorized_hint(const Response& r, const WebMessage* message) const;
  static std::string excerpt(const std::string& body);
  static std::string describe_html(const std::string& type);
  static std::string strip_query(const std::string& url);

  // A decode error names the request, as every other error does (docs/client.md "Errors").
  template <class T>
  T decode(const nlohmann::json& value, const std::string& method, const std::string& path) const {
    const std::string request = method + " " + strip_query(detail::api_target(context_path(), path));
    try {
      return value.get<T>();
    } catch (const DecodeError& e) {
      throw DecodeError(e.path(), e.expected(), e.actual(), request);
    } catch (const nlohmann::json::exception& e) {
      throw DecodeError(request, "the shape of the requested type", std::string("JSON that does not fit (") + e.what() + ")");
    }
  }

  void prime_system_info(const nlohmann::json& info);

  // ---- state -----------------------------------------------------------------------------------

  detail::Url url_;  // guarded by pool_mutex_ (changed once, by the handshake)
  Auth auth_;
  ClientOptions options_;
  std::optional<ServerVersion> pin_;
  bool pin_has_patch_ = false;

  std::atomic<State> state_{State::Unconnected};
  std::mutex connect_mutex_;
  mutable std::mutex pool_mutex_;
  std::shared_ptr<detail::ConnectionPool> pool_;
  std::string raw_version_;
  std::optional<ServerVersion> server_version_;

  std::mutex bearer_mutex_;
  std::string bearer_token_;
  std::uint64_t bearer_generation_ = 0;

  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;

  // The system cache (SystemApi): key -> value with its expiry; loads in flight are shared.
  // A load in flight: the threads that wait for it share its value, or its error.
  struct CacheLoad {
    bool done = false;
    nlohmann::json value;
    std::exception_ptr error;
  };
  struct CacheEntry {
    nlohmann::json value;
    std::chrono::steady_clock::time_point expires;
    std::shared_ptr<CacheLoad> loading;  // set while a thread loads this key
  };
  std::mutex cache_mutex_;
  std::condition_variable cache_cv_;
  std::map<std::string, CacheEntry> cache_;

};

}  // namespace dhis2

#include <dhis2/system_api.hpp>
#include <dhis2/jobs_api.hpp>
#include <dhis2/task_watcher.hpp>

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/client.ipp>
#endif

#endif  // DHIS2_CLIENT_HPP
