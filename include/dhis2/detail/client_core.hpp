#ifndef DHIS2_DETAIL_CLIENT_CORE_HPP
#define DHIS2_DETAIL_CLIENT_CORE_HPP

// The shared state behind a dhis2::Client and the handles it gives out (system(), jobs(),
// tasks(), TaskWatcher): the connection state machine, the handshake (canonical base URL,
// version check), the transport, the request pipeline and the system cache. A Client is a thin
// handle over one ClientCore; the handles share it, so none of them can dangle.
//
// Thread-safe. Every lock is a leaf: connect_mutex_ (the state changes that threads waiting for
// another thread's handshake watch), mutex_, and the pipeline's, the transport's and the cache's
// locks; none is held while another is taken, or while a request runs or a request hook or a
// bearer provider is called. One thread runs the handshake at a time; the others wait on
// connect_done_, and their cancellation tokens and close() wake them. A hook that calls the
// client from the handshake gets a UsageError, not a deadlock.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/pipeline.hpp>
#include <dhis2/detail/system_cache.hpp>
#include <dhis2/detail/transport.hpp>
#include <dhis2/detail/url.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/response.hpp>
#include <dhis2/server_version.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace dhis2 {

class Client;

// A Client's state, spelled Client::State.
enum class ClientState { Unconnected, Connecting, Connected, Closed };

// The DHIS2 versions this library is tested against (docs/compatibility.md).
const ServerVersion& minimum_supported_version();
const ServerVersion& first_unsupported_version();

namespace detail {

class ClientCore {
 public:
  ClientCore(std::string base_url, Credentials::Auth auth, ClientOptions options);
  ~ClientCore();

  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Runs the handshake, or waits for the one another thread runs. `options` are those of the
  // call that needs the connection: their timeout, retry policy and cancellation token apply to
  // the handshake's requests, and the token also ends a wait for another thread's handshake
  // (CancelledError).
  void connect(const RequestOptions* options = nullptr);
  void close();
  ClientState state() const noexcept { return state_.load(); }
  void ensure_connected(const RequestOptions* options = nullptr);

  std::string base_url() const;
  const ClientOptions& options() const noexcept { return pipeline_.options(); }

  std::string raw_version();
  ServerVersion server_version();
  // Never connects, never throws: empty until a handshake read the version (or with
  // skip_version_probe).
  std::optional<ServerVersion> known_version() const noexcept;

  // A request through the pipeline, connecting first. `retry_allowed` false: never retried.
  Response send(const std::string& method, const std::string& path, const std::string& body,
                const std::string& content_type, const Query& query, const RequestOptions* options,
                bool retry_allowed = true);
  // The same, its answer classified: the JSON, or the typed error.
  nlohmann::json request_json(const std::string& method, const std::string& path, const std::string& body,
                              const std::string& content_type, const Query& query,
                              const RequestOptions* options = nullptr);
  nlohmann::json get_json(const std::string& path, const Query& query = {}) {
    return request_json("GET", path, {}, {}, query);
  }

  // Classifies an answer to `method` `path` (relative to /api, as given to send()).
  nlohmann::json interpret(const Response& response, const std::string& method, const std::string& path) const;

  // "GET /api/x": how messages name a request (no query).
  std::string request_name(const std::string& method, const std::string& path) const;

  SystemCache& system_cache() noexcept { return cache_; }

  // The server's time to the millisecond, as the handshake read it: /api/system/info's
  // serverDate (the server's wall clock, in its zone), turned to UTC by the zone offset that the
  // same answer's Date header shows (whole quarter hours), read between `sent` and `received`.
  // Empty before the handshake, without one (skip_version_probe), or when either field is
  // missing. Never connects, never throws.
  struct ServerTimeSample {
    std::chrono::system_clock::time_point utc;
    std::chrono::steady_clock::time_point sent, received;
  };
  std::optional<ServerTimeSample> server_time_sample() const noexcept {
    return version_known_.load() ? server_time_ : std::nullopt;
  }

 private:
  // The options checked (UsageError naming the field) and completed (the default User-Agent).
  static ClientOptions prepared(ClientOptions options);
  void handshake(const RequestOptions* options);
  void adopt_canonical_url(const RequestOptions* options);
  Response probe_info(const Url& base, const RequestOptions* options);
  // Sets the state from `from` to `to` and wakes the threads waiting in connect(); false when
  // the state was not `from` (a close() came first).
  bool transition(ClientState from, ClientState to);
  void wake_connect_waiters();
  static std::optional<Url> resolve_redirect(const Url& from, const std::string& location);
  std::string context_path() const;
  Url url() const;

  std::atomic<ClientState> state_{ClientState::Unconnected};
  std::mutex connect_mutex_;  // held only to change the state and to wait on connect_done_
  std::condition_variable connect_done_;
  std::atomic<std::thread::id> connecting_thread_{};

  mutable std::mutex mutex_;  // guards the three below
  Url url_;                   // changed once, by the handshake
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Transport> probe_;  // the handshake's probe in flight: close() interrupts it too

  // Written by the handshake before it sets version_known_ (and the state becomes Connected),
  // read only after one of them is seen.
  std::string raw_version_;
  std::optional<ServerVersion> server_version_;
  std::optional<ServerTimeSample> server_time_;
  std::atomic<bool> version_known_{false};
  std::optional<ServerVersion> pin_;
  bool pin_has_patch_ = false;

  RequestPipeline pipeline_;
  SystemCache cache_;
};

// The core a Client shares (null for a moved-from Client). For the handles' constructors that
// take a Client&; defined with the Client.
std::shared_ptr<ClientCore> core_of(const Client& client);

// The core, or UsageError when the Client was moved from.
std::shared_ptr<ClientCore> live_core_of(const Client& client, const char* what);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/client_core.ipp>
#endif

#endif  // DHIS2_DETAIL_CLIENT_CORE_HPP
