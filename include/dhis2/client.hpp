#ifndef DHIS2_CLIENT_HPP
#define DHIS2_CLIENT_HPP

// dhis2::Client: a blocking client for one DHIS2 server. It validates the base URL, shakes hands
// on connect (finds the canonical base URL without credentials, then reads /api/system/info and
// checks the version), and sends requests with authentication, retries with backoff, timeouts,
// TLS verification and a response size cap, turning each answer into JSON or a typed error.
//
// A Client is a movable handle over shared state (detail/client_core.hpp). The handles it gives
// out (system(), jobs(), tasks(), a TaskWatcher) share that state, so they stay valid after the
// Client is moved or destroyed; the connections close when close() is called or the last of
// them goes. A moved-from Client throws UsageError from every call but state() (Closed).
//
// Thread safety: one Client may be shared by many threads; up to ClientOptions::pool_size
// requests run concurrently. Its options are fixed at construction; RequestOptions set a
// timeout, a retry policy or a cancellation token for one call. close() may be called from any
// thread: it interrupts requests in flight and wakes those waiting to retry.
//
// Throws: UsageError for invalid arguments or a closed client; TransportError when no response
// arrived (kind() says why); CancelledError when RequestOptions::cancellation was cancelled;
// AuthenticationError for 401 and login redirects; UnexpectedResponseError for non-DHIS2
// answers (an HTML page where JSON was expected); ApiError for other HTTP errors;
// UnsupportedVersionError and VersionPinMismatchError from the handshake.

#include <dhis2/auth.hpp>
#include <dhis2/client_options.hpp>
#include <dhis2/detail/client_core.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/jobs_api.hpp>
#include <dhis2/response.hpp>
#include <dhis2/server_version.hpp>
#include <dhis2/system_api.hpp>
#include <dhis2/task_watcher.hpp>

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {

class Client {
 public:
  using State = ClientState;

  Client(std::string base_url, BasicAuth auth, ClientOptions options = {});
  Client(std::string base_url, TokenAuth auth, ClientOptions options = {});
  Client(std::string base_url, BearerAuth auth, ClientOptions options = {});

  Client(Client&& other) noexcept = default;
  Client& operator=(Client&& other) noexcept = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() = default;

  // Runs the handshake now; idempotent. A request on an unconnected client calls it first, and
  // its RequestOptions (timeout, retry policy, cancellation token) then apply to the handshake's
  // requests too. When another thread runs the handshake, this waits for its outcome; the
  // token's cancel() ends that wait as well (CancelledError), and close() ends it (UsageError).
  void connect() { core("connect")->connect(); }
  void connect(const RequestOptions& options) { core("connect")->connect(&options); }

  // Closes the connections, interrupting requests in flight (they throw UsageError); idempotent.
  // Later requests, through this Client or any handle it gave out, throw UsageError.
  void close() { core("close")->close(); }

  State state() const noexcept { return core_ ? core_->state() : State::Closed; }

  // The base URL: as given until connect(), then the canonical one the handshake found.
  std::string base_url() const { return core("base_url")->base_url(); }
  const ClientOptions& options() const { return core("options")->options(); }

  // What the server reported in the handshake (connecting first). Throw UsageError with
  // skip_version_probe; known_version() asks without throwing.
  std::string raw_version() { return core("raw_version")->raw_version(); }
  std::string version_key() { return server_version().key(); }
  ServerVersion server_version() { return core("server_version")->server_version(); }
  // The server's version when a handshake has read it; empty before connect(), with
  // skip_version_probe, and for a moved-from Client. Never connects, never throws.
  std::optional<ServerVersion> known_version() const noexcept { return core_ ? core_->known_version() : std::nullopt; }

  // ---- JSON requests: the body decoded, or a typed error --------------------------------------

  nlohmann::json get_raw(const std::string& path, const Query& query = {}, const RequestOptions& options = {}) {
    return core("get_raw")->request_json("GET", path, {}, {}, query, &options);
  }
  nlohmann::json post_raw(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {},
                          const RequestOptions& options = {}) {
    return core("post_raw")->request_json("POST", path, body_text(body), "application/json", query, &options);
  }
  nlohmann::json put_raw(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {},
                         const RequestOptions& options = {}) {
    return core("put_raw")->request_json("PUT", path, body_text(body), "application/json", query, &options);
  }
  // JSON Patch by default (what DHIS2's PATCH endpoints take).
  nlohmann::json patch_raw(const std::string& path, const nlohmann::json& body, const Query& query = {},
                           const std::string& content_type = "application/json-patch+json",
                           const RequestOptions& options = {}) {
    return core("patch_raw")->request_json("PATCH", path, body_text(body), content_type, query, &options);
  }
  nlohmann::json delete_raw(const std::string& path, const Query& query = {}, const RequestOptions& options = {}) {
    return core("delete_raw")->request_json("DELETE", path, {}, {}, query, &options);
  }

  // Typed: the JSON decoded with nlohmann's from_json (dhis2 types name the failing field).
  template <class T>
  T get(const std::string& path, const Query& query = {}, const RequestOptions& options = {}) {
    return decode<T>(get_raw(path, query, options), "GET", path);
  }
  template <class T>
  T post(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {},
         const RequestOptions& options = {}) {
    return decode<T>(post_raw(path, body, query, options), "POST", path);
  }
  template <class T>
  T put(const std::string& path, const nlohmann::json& body = nullptr, const Query& query = {},
        const RequestOptions& options = {}) {
    return decode<T>(put_raw(path, body, query, options), "PUT", path);
  }
  template <class T>
  T patch(const std::string& path, const nlohmann::json& body, const Query& query = {},
          const RequestOptions& options = {}) {
    return decode<T>(patch_raw(path, body, query, "application/json-patch+json", options), "PATCH", path);
  }
  template <class T>
  T del(const std::string& path, const Query& query = {}, const RequestOptions& options = {}) {
    return decode<T>(delete_raw(path, query, options), "DELETE", path);
  }

  // ---- raw escape hatches: never throw for an HTTP status -------------------------------------

  Response get_response(const std::string& path, const Query& query = {}, const RequestOptions& options = {}) {
    return send("GET", path, {}, {}, query, options);
  }
  // Any method and body. Still throws TransportError, CancelledError, and UsageError on a closed
  // client.
  Response send(const std::string& method, const std::string& path, const std::string& body = {},
                const std::string& content_type = {}, const Query& query = {}, const RequestOptions& options = {}) {
    return core("send")->send(method, path, body, content_type, query, &options);
  }

  SystemApi system();
  JobsApi jobs();
  TasksApi tasks();

 private:
  friend std::shared_ptr<detail::ClientCore> detail::core_of(const Client& client);

  // The core, held for the whole call (another thread may drop this Client meanwhile), or
  // UsageError when this Client was moved from.
  std::shared_ptr<detail::ClientCore> core(const char* what) const;

  static std::string body_text(const nlohmann::json& body) { return body.is_null() ? std::string() : body.dump(); }

  // A decode error names the request, as every other error does (docs/client.md "Errors").
  template <class T>
  T decode(const nlohmann::json& value, const std::string& method, const std::string& path) const {
    try {
      return value.get<T>();
    } catch (const DecodeError& e) {
      throw DecodeError(e.path(), e.expected(), e.actual(), core("decode")->request_name(method, path));
    } catch (const nlohmann::json::exception& e) {
      throw DecodeError(core("decode")->request_name(method, path), "the shape of the requested type",
                        std::string("JSON that does not fit (") + e.what() + ")");
    }
  }

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/client.ipp>
#endif

#endif  // DHIS2_CLIENT_HPP
