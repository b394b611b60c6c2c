#ifndef DHIS2_IMPL_CLIENT_CORE_IPP
#define DHIS2_IMPL_CLIENT_CORE_IPP

// Definitions of <dhis2/detail/client_core.hpp>.

#include <dhis2/detail/client_core.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/classify.hpp>
#include <dhis2/detail/http_transport.hpp>
#include <dhis2/detail/retry.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/version.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace dhis2 {

DHIS2CPP_INLINE const ServerVersion& minimum_supported_version() {
  static const ServerVersion v{2, 38, 0, 0, true};
  return v;
}

DHIS2CPP_INLINE const ServerVersion& first_unsupported_version() {
  static const ServerVersion v{2, 44, 0, 0, true};
  return v;
}

namespace detail {

DHIS2CPP_INLINE ClientCore::ClientCore(std::string base_url, Credentials::Auth auth, ClientOptions options)
    : url_(parse_url(base_url)), pipeline_(prepared(std::move(options)), std::move(auth)) {
  const std::string& pin = pipeline_.options().version_pin;
  if (!pin.empty()) {
    pin_ = ServerVersion::try_parse(pin);
    if (!pin_) {
      throw UsageError("ClientOptions::version_pin \"" + pin +
                       "\" is not a DHIS2 version; use e.g. \"2.41\" or \"2.41.4\"");
    }
    pin_has_patch_ = std::count(pin.begin(), pin.end(), '.') >= 2;
  }
}

DHIS2CPP_INLINE ClientCore::~ClientCore() { close(); }

DHIS2CPP_INLINE ClientOptions ClientCore::prepared(ClientOptions o) {
  if (o.timeout.count() <= 0) throw UsageError("ClientOptions::timeout must be positive");
  if (o.connect_timeout.count() <= 0) throw UsageError("ClientOptions::connect_timeout must be positive");
  if (o.pool_size == 0) throw UsageError("ClientOptions::pool_size must be at least 1");
  if (o.max_response_bytes == 0) throw UsageError("ClientOptions::max_response_bytes must be positive");
  if (o.system_cache_ttl.count() < 0) throw UsageError("ClientOptions::system_cache_ttl must not be negative");
  if (o.retry) validate_retry_policy(*o.retry);
  if (!o.ca_cert_path.empty()) {
    // fopen() accepts a directory on Linux; reading a byte tells (an empty file still passes).
    std::FILE* f = std::fopen(o.ca_cert_path.c_str(), "r");
    const bool readable = f && (std::fgetc(f) != EOF || !std::ferror(f));
    if (f) std::fclose(f);
    if (!readable) {
      throw UsageError("ClientOptions::ca_cert_path: cannot read \"" + o.ca_cert_path +
                       "\" (a PEM file of CA certificates is expected)");
    }
  }
  if (has_control_character(o.user_agent)) {
    throw UsageError(
        "ClientOptions::user_agent contains a line break or another control character, which no header "
        "value may hold");
  }
  if (o.user_agent.empty()) o.user_agent = std::string("dhis2-cpp/") + DHIS2CPP_VERSION_STRING;
  return o;
}

// ---- the state machine -----------------------------------------------------------------------

DHIS2CPP_INLINE void ClientCore::connect(const RequestOptions* options) {
  if (state_.load() == ClientState::Connecting && connecting_thread_.load() == std::this_thread::get_id()) {
    throw UsageError(
        "the client was called from its own handshake (a ClientOptions::on_request hook?); "
        "a hook must not make requests with the client it observes");
  }
  const CancellationToken* token = options && options->cancellation ? &*options->cancellation : nullptr;
  // Declared before the lock: its destructor waits for a callback running on another thread,
  // which takes connect_mutex_.
  CancellationToken::Registration wake;
  if (token) wake = token->on_cancel([this] { wake_connect_waiters(); });
  ClientState found = ClientState::Unconnected;
  bool cancelled = false;
  {
    std::unique_lock<std::mutex> lock(connect_mutex_);
    // Another thread's handshake: wait for its outcome, which is ours too when it succeeds.
    connect_done_.wait(lock, [&] { return state_.load() != ClientState::Connecting || (token && token->cancelled()); });
    found = state_.load();
    if (found == ClientState::Connecting || (found == ClientState::Unconnected && token && token->cancelled())) {
      cancelled = true;
    } else if (found == ClientState::Unconnected) {
      // A compare-and-swap: a close() from another thread always wins (found becomes Closed).
      if (state_.compare_exchange_strong(found, ClientState::Connecting)) {
        connecting_thread_ = std::this_thread::get_id();
      }
    }
  }
  if (cancelled) throw CancelledError("connecting to " + url().str() + ": cancelled");
  if (found == ClientState::Connected) return;
  if (found == ClientState::Closed) throw UsageError("Client::connect: the client is closed");
  try {
    handshake(options);
  } catch (...) {
    connecting_thread_ = std::thread::id();
    transition(ClientState::Connecting, ClientState::Unconnected);  // the next call tries again
    throw;
  }
  connecting_thread_ = std::thread::id();
  if (!transition(ClientState::Connecting, ClientState::Connected)) {
    throw UsageError("Client::connect: the client was closed during the handshake");
  }
}

DHIS2CPP_INLINE bool ClientCore::transition(ClientState from, ClientState to) {
  bool changed = false;
  {
    // Under the lock, so that a thread between its check of the state and its wait cannot
    // miss the change.
    std::lock_guard<std::mutex> lock(connect_mutex_);
    changed = state_.compare_exchange_strong(from, to);
  }
  connect_done_.notify_all();
  return changed;
}

DHIS2CPP_INLINE void ClientCore::wake_connect_waiters() {
  // The change they wait for (a state, a cancelled token) is made before this is called: taking
  // the lock once orders it before the wake-up of a thread that is about to wait.
  { std::lock_guard<std::mutex> lock(connect_mutex_); }
  connect_done_.notify_all();
}

DHIS2CPP_INLINE void ClientCore::close() {
  if (state_.exchange(ClientState::Closed) == ClientState::Closed) return;
  wake_connect_waiters();
  pipeline_.close();
  std::shared_ptr<Transport> transport, probe;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    transport = transport_;
    probe = probe_;
  }
  if (transport) transport->close();
  if (probe) probe->close();
}

DHIS2CPP_INLINE void ClientCore::ensure_connected(const RequestOptions* options) {
  const ClientState s = state_.load();
  if (s == ClientState::Connected) return;
  if (s == ClientState::Closed) throw UsageError("the client is closed; create a new dhis2::Client");
  connect(options);
}

DHIS2CPP_INLINE std::string ClientCore::base_url() const { return url().str(); }

DHIS2CPP_INLINE Url ClientCore::url() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return url_;
}

DHIS2CPP_INLINE std::string ClientCore::context_path() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return url_.path;
}

DHIS2CPP_INLINE std::string ClientCore::raw_version() {
  ensure_connected();
  if (!server_version_) {
    throw UsageError(
        "Client::raw_version: the server version is unknown because ClientOptions::skip_version_probe is set");
  }
  return raw_version_;
}

DHIS2CPP_INLINE ServerVersion ClientCore::server_version() {
  ensure_connected();
  if (!server_version_) {
    throw UsageError(
        "Client::server_version: the server version is unknown because ClientOptions::skip_version_probe "
        "is set; Client::known_version() asks without throwing");
  }
  return *server_version_;
}

DHIS2CPP_INLINE std::optional<ServerVersion> ClientCore::known_version() const noexcept {
  // The handshake writes the version before it publishes version_known_ (a sequentially
  // consistent store), so a reader that sees the flag sees the version; it stays after close().
  if (!version_known_.load()) return std::nullopt;
  return server_version_;
}

// ---- requests --------------------------------------------------------------------------------

DHIS2CPP_INLINE Response ClientCore::send(const std::string& method, const std::string& path, const std::string& body,
                                          const std::string& content_type, const Query& query,
                                          const RequestOptions* options, bool retry_allowed) {
  if (method.empty()) throw UsageError("Client::send: the method is empty");
  ensure_connected(options);
  std::shared_ptr<Transport> transport;
  Url base;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    transport = transport_;
    base = url_;
  }
  if (!transport) throw UsageError("the client is closed; create a new dhis2::Client");
  Call call;
  call.method = method;
  call.target = api_target(base.path, path, query);
  call.url = base.origin() + call.target;
  call.body = body;
  call.content_type = content_type;
  call.idempotent = method == "GET" || method == "PUT" || method == "DELETE" || method == "HEAD" || method == "OPTIONS";
  call.retry_allowed = retry_allowed;
  call.options = options;
  return pipeline_.run(*transport, call);
}

DHIS2CPP_INLINE nlohmann::json ClientCore::request_json(const std::string& method, const std::string& path,
                                                        const std::string& body, const std::string& content_type,
                                                        const Query& query, const RequestOptions* options) {
  const Response response = send(method, path, body, content_type, query, options);
  return classify_response(response, method, api_target(context_path(), path, query), pipeline_.auth_scheme());
}

DHIS2CPP_INLINE nlohmann::json ClientCore::interpret(const Response& response, const std::string& method,
                                                     const std::string& path) const {
  return classify_response(response, method, api_target(context_path(), path), pipeline_.auth_scheme());
}

DHIS2CPP_INLINE std::string ClientCore::request_name(const std::string& method, const std::string& path) const {
  return method + " " + strip_query(api_target(context_path(), path));
}

// ---- the handshake ---------------------------------------------------------------------------

namespace client_core {

// serverDate (wall clock, server zone) and Date (UTC, whole seconds) of one answer: the zone is
// the difference to the nearest quarter hour, and serverDate less it is UTC to the millisecond.
inline std::optional<ClientCore::ServerTimeSample> server_time_from(const nlohmann::json& info, const Response& response,
                                                                    std::chrono::steady_clock::time_point sent,
                                                                    std::chrono::steady_clock::time_point received) {
  const auto field = info.find("serverDate");
  if (field == info.end() || !field->is_string()) return std::nullopt;
  const auto local = parse_local_time(field->get_ref<const std::string&>());
  const auto date = parse_http_date(response.header("Date"));
  if (!local || !date) return std::nullopt;
  constexpr std::int64_t kQuarterHour = 15 * 60 * 1000;
  const std::int64_t local_ms = local->time_since_epoch().count();
  const std::int64_t date_ms = std::chrono::duration_cast<std::chrono::milliseconds>(date->time_since_epoch()).count();
  const std::int64_t diff = local_ms - date_ms;
  const std::int64_t zone = (diff >= 0 ? diff + kQuarterHour / 2 : diff - kQuarterHour / 2) / kQuarterHour * kQuarterHour;
  // The two fields were read by the server within the same request: a second apart at most.
  if (std::llabs(diff - zone) > 2000) return std::nullopt;
  ClientCore::ServerTimeSample sample;
  sample.utc = std::chrono::system_clock::time_point(std::chrono::milliseconds(local_ms - zone));
  sample.sent = sent;
  sample.received = received;
  return sample;
}

}  // namespace client_core

DHIS2CPP_INLINE void ClientCore::handshake(const RequestOptions* call_options) {
  const ClientOptions& options = pipeline_.options();
  if (!options.skip_version_probe) adopt_canonical_url(call_options);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    transport_ = std::make_shared<ConnectionPool>(url_, options);
  }
  if (state_.load() == ClientState::Closed) transport_->close();  // a close() that came meanwhile
  if (options.skip_version_probe) return;
  const Url base = url();
  Call call;
  call.method = "GET";
  call.target = api_target(base.path, "system/info");
  call.url = base.origin() + call.target;
  call.options = call_options;
  const auto sent = std::chrono::steady_clock::now();
  const Response answer = pipeline_.run(*transport_, call);
  const auto received = std::chrono::steady_clock::now();
  const nlohmann::json info = classify_response(answer, "GET", call.target, pipeline_.auth_scheme());
  if (!info.is_object() || !info.contains("version") || !info["version"].is_string()) {
    throw UnexpectedResponseError(
        "the server at " + base.str() + " is not a DHIS2 server: /api/system/info has no version", 200);
  }
  raw_version_ = info["version"].get<std::string>();
  const auto parsed = ServerVersion::try_parse(raw_version_);
  if (!parsed) {
    throw UnsupportedVersionError(
        raw_version_, "the server reports version \"" + raw_version_ + "\", which is not a DHIS2 release version");
  }
  if (!options.allow_unsupported_version &&
      (*parsed < minimum_supported_version() || *parsed >= first_unsupported_version())) {
    throw UnsupportedVersionError(raw_version_, "DHIS2 " + raw_version_ +
                                                    " is not supported (this library supports 2.38 to 2.43); set "
                                                    "ClientOptions::allow_unsupported_version to try anyway");
  }
  if (pin_ && !options.allow_version_mismatch) {
    const bool same = parsed->major == pin_->major && parsed->minor == pin_->minor &&
                      (!pin_has_patch_ || (parsed->patch == pin_->patch && parsed->hotfix == pin_->hotfix));
    if (!same) throw VersionPinMismatchError(options.version_pin, raw_version_);
  }
  server_version_ = *parsed;
  server_time_ = client_core::server_time_from(info, answer, sent, received);
  version_known_ = true;
  cache_.put("info", info, options.system_cache_ttl);
}

// Follows redirects of an unauthenticated probe to find the canonical base URL: a moved context
// path on the same origin, or the same host over https instead of http. Another host is never
// adopted, because the credentials would follow the redirect to it: the authenticated handshake
// then meets the redirect and says to use the final URL. The https origin is adopted only when
// its /api/system/info answers with JSON, so an SSO login page never becomes the base URL.
DHIS2CPP_INLINE void ClientCore::adopt_canonical_url(const RequestOptions* options) {
  Url current = url();
  for (int hop = 0; hop < 5; ++hop) {
    const Response probe = probe_info(current, options);
    const std::string location = probe.header("Location");
    if (probe.status < 300 || probe.status > 399 || location.empty()) break;
    const auto next = resolve_redirect(current, location);
    if (!next) break;  // a login page or somewhere that is not an API root
    if (!next->same_origin(current)) {
      const bool upgrade = current.scheme == "http" && next->scheme == "https" &&
                           to_lower(current.host) == to_lower(next->host);
      if (!upgrade) break;  // another host: not where the user sent the credentials
      std::optional<Response> check;
      try {
        check = probe_info(*next, options);
      } catch (const TransportError&) {
        break;  // the other origin does not answer: stay
      }
      if (!is_json_response(*check)) break;
    }
    current = *next;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  url_ = current;
}

// GET {base}/api/system/info without credentials, through the pipeline (hook, retry policy,
// close()), on a transport of its own.
DHIS2CPP_INLINE Response ClientCore::probe_info(const Url& base, const RequestOptions* options) {
  const auto probe = std::make_shared<ConnectionPool>(base, pipeline_.options());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    probe_ = probe;
  }
  if (state_.load() == ClientState::Closed) probe->close();
  Call call;
  call.method = "GET";
  call.target = base.path + "/api/system/info";
  call.url = base.origin() + call.target;
  call.authenticate = false;
  call.options = options;
  struct Forget {
    ClientCore& core;
    ~Forget() {
      std::lock_guard<std::mutex> lock(core.mutex_);
      core.probe_.reset();
    }
  } forget{*this};
  return pipeline_.run(*probe, call);
}

DHIS2CPP_INLINE std::optional<Url> ClientCore::resolve_redirect(const Url& from, const std::string& location) {
  std::string absolute = location;
  if (absolute.rfind("http://", 0) != 0 && absolute.rfind("https://", 0) != 0) {
    if (absolute.empty() || absolute.front() != '/') return std::nullopt;
    absolute = from.origin() + absolute;
  }
  const auto query = absolute.find_first_of("?#");
  if (query != std::string::npos) absolute.resize(query);
  const std::string suffix = "/api/system/info";
  if (absolute.size() < suffix.size() || absolute.compare(absolute.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  return try_parse_url(absolute.substr(0, absolute.size() - suffix.size()), "redirect target");
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_CLIENT_CORE_IPP
