#ifndef DHIS2_IMPL_CLIENT_IPP
#define DHIS2_IMPL_CLIENT_IPP

// Definitions of <dhis2/client.hpp>.

#include <dhis2/client.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/base64.hpp>
#include <dhis2/version.hpp>
#include <dhis2/web_message.hpp>

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <thread>

namespace dhis2 {

DHIS2CPP_INLINE const ServerVersion& minimum_supported_version() {
  static const ServerVersion v{2, 38, 0, 0, true};
  return v;
}

DHIS2CPP_INLINE const ServerVersion& first_unsupported_version() {
  static const ServerVersion v{2, 44, 0, 0, true};
  return v;
}

DHIS2CPP_INLINE Client::~Client() { close(); }

DHIS2CPP_INLINE void Client::connect() {
  std::lock_guard<std::mutex> lock(connect_mutex_);
  // Every transition is a compare-and-swap: a close() from another thread always wins.
  State expected = State::Unconnected;
  if (!state_.compare_exchange_strong(expected, State::Connecting)) {
    if (expected == State::Connected) return;
    throw UsageError("Client::connect: the client is closed");
  }
  try {
    handshake();
  } catch (...) {
    State connecting = State::Connecting;
    state_.compare_exchange_strong(connecting, State::Unconnected);
    throw;
  }
  State connecting = State::Connecting;
  if (!state_.compare_exchange_strong(connecting, State::Connected)) {
    throw UsageError("Client::connect: the client was closed during the handshake");
  }
}

DHIS2CPP_INLINE void Client::close() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    if (state_ == State::Closed) return;
    state_ = State::Closed;
  }
  sleep_cv_.notify_all();
  std::shared_ptr<detail::ConnectionPool> pool;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    pool = pool_;
  }
  if (pool) pool->close();
}

DHIS2CPP_INLINE std::string Client::base_url() const {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  return url_.str();
}

DHIS2CPP_INLINE std::string Client::raw_version() {
  ensure_connected();
  require_version("raw_version");
  return raw_version_;
}

DHIS2CPP_INLINE ServerVersion Client::server_version() {
  ensure_connected();
  require_version("server_version");
  return *server_version_;
}

DHIS2CPP_INLINE std::optional<ServerVersion> Client::known_version() {
  ensure_connected();
  return server_version_;
}

DHIS2CPP_INLINE Response Client::send(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& content_type, const Query& query) {
  if (method.empty()) throw UsageError("Client::send: the method is empty");
  ensure_connected();
  const std::string target = detail::api_target(context_path(), path, query);
  return execute(method, target, body, content_type, is_idempotent(method));
}

DHIS2CPP_INLINE Response Client::send_once(const std::string& method, const std::string& path, const std::string& body,
                                           const std::string& content_type, const Query& query) {
  ensure_connected();
  const std::string target = detail::api_target(context_path(), path, query);
  return execute(method, target, body, content_type, false, false);
}

DHIS2CPP_INLINE Client::Client(std::string base_url, Auth auth, ClientOptions options)
    : url_(detail::parse_url(base_url)), auth_(std::move(auth)), options_(std::move(options)) {
  validate_options();
  if (!options_.version_pin.empty()) {
    pin_ = ServerVersion::try_parse(options_.version_pin);
    if (!pin_) {
      throw UsageError("ClientOptions::version_pin \"" + options_.version_pin +
                       "\" is not a DHIS2 version; use e.g. \"2.41\" or \"2.41.4\"");
    }
    pin_has_patch_ = std::count(options_.version_pin.begin(), options_.version_pin.end(), '.') >= 2;
  }
  if (options_.user_agent.empty()) options_.user_agent = std::string("dhis2-cpp/") + DHIS2CPP_VERSION_STRING;
  std::random_device seed;
  random_.seed(seed());
}

DHIS2CPP_INLINE void Client::validate_options() const {
  if (options_.timeout.count() <= 0) throw UsageError("ClientOptions::timeout must be positive");
  if (options_.connect_timeout.count() <= 0) throw UsageError("ClientOptions::connect_timeout must be positive");
  if (options_.pool_size == 0) throw UsageError("ClientOptions::pool_size must be at least 1");
  if (options_.max_response_bytes == 0) throw UsageError("ClientOptions::max_response_bytes must be positive");
  if (options_.system_cache_ttl.count() < 0) throw UsageError("ClientOptions::system_cache_ttl must not be negative");
  if (const auto& r = options_.retry) {
    if (r->max_attempts < 1) throw UsageError("RetryPolicy::max_attempts must be at least 1");
    if (r->base_delay.count() < 0 || r->max_delay.count() < 0) throw UsageError("RetryPolicy delays must not be negative");
    if (r->backoff_factor < 1.0) throw UsageError("RetryPolicy::backoff_factor must be at least 1");
    if (r->jitter < 0.0 || r->jitter >= 1.0) throw UsageError("RetryPolicy::jitter must be in [0, 1)");
  }
  if (!options_.ca_cert_path.empty()) {
    // fopen() accepts a directory on Linux; reading a byte tells (an empty file still passes).
    std::FILE* f = std::fopen(options_.ca_cert_path.c_str(), "r");
    const bool readable = f && (std::fgetc(f) != EOF || !std::ferror(f));
    if (f) std::fclose(f);
    if (!readable) {
      throw UsageError("ClientOptions::ca_cert_path: cannot read \"" + options_.ca_cert_path +
                       "\" (a PEM file of CA certificates is expected)");
    }
  }
}

DHIS2CPP_INLINE nlohmann::json Client::request_json(const std::string& method, const std::string& path,
                                                    const std::string& body, const std::string& content_type,
                                                    const Query& query) {
  ensure_connected();
  const std::string target = detail::api_target(context_path(), path, query);
  return interpret(execute(method, target, body, content_type, is_idempotent(method)), method, target);
}

DHIS2CPP_INLINE bool Client::is_idempotent(const std::string& method) {
  return method == "GET" || method == "PUT" || method == "DELETE" || method == "HEAD" || method == "OPTIONS";
}

DHIS2CPP_INLINE std::string Client::body_text(const nlohmann::json& body) {
  return body.is_null() ? std::string() : body.dump();
}

DHIS2CPP_INLINE std::string Client::context_path() const {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  return url_.path;
}

DHIS2CPP_INLINE void Client::ensure_connected() {
  const State s = state_.load();
  if (s == State::Connected) return;
  if (s == State::Closed) throw UsageError("the client is closed; create a new dhis2::Client");
  connect();
}

DHIS2CPP_INLINE void Client::require_version(const char* what) const {
  if (!server_version_) {
    throw UsageError(std::string("Client::") + what +
                     ": the server version is unknown because ClientOptions::skip_version_probe is set");
  }
}

// ---- the handshake ---------------------------------------------------------------------------

DHIS2CPP_INLINE void Client::handshake() {
  if (!options_.skip_version_probe) adopt_canonical_url();
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    pool_ = std::make_shared<detail::ConnectionPool>(url_, options_);
  }
  if (options_.skip_version_probe) return;
  const std::string target = detail::api_target(url_.path, "system/info");
  const nlohmann::json info = interpret(execute("GET", target, {}, {}, true), "GET", target);
  if (!info.is_object() || !info.contains("version") || !info["version"].is_string()) {
    throw UnexpectedResponseError("the server at " + url_.str() +
                                  " is not a DHIS2 server: /api/system/info has no version", 200);
  }
  raw_version_ = info["version"].get<std::string>();
  const auto parsed = ServerVersion::try_parse(raw_version_);
  if (!parsed) {
    throw UnsupportedVersionError(raw_version_, "the server reports version \"" + raw_version_ +
                                                    "\", which is not a DHIS2 release version");
  }
  if (!options_.allow_unsupported_version && (*parsed < minimum_supported_version() || *parsed >= first_unsupported_version())) {
    throw UnsupportedVersionError(raw_version_, "DHIS2 " + raw_version_ +
                                                    " is not supported (this library supports 2.38 to 2.43); set "
                                                    "ClientOptions::allow_unsupported_version to try anyway");
  }
  if (pin_ && !options_.allow_version_mismatch) {
    const bool same = parsed->major == pin_->major && parsed->minor == pin_->minor &&
                      (!pin_has_patch_ || (parsed->patch == pin_->patch && parsed->hotfix == pin_->hotfix));
    if (!same) throw VersionPinMismatchError(options_.version_pin, raw_version_);
  }
  server_version_ = *parsed;
  prime_system_info(info);
}

DHIS2CPP_INLINE void Client::adopt_canonical_url() {
  detail::Url current = url_;
  for (int hop = 0; hop < 5; ++hop) {
    const detail::HttpResult probe = probe_info(current);
    if (probe.failure != detail::TransportFailure::None) throw transport_error("GET", current.str() + "/api/system/info", probe);
    const int status = probe.response.status;
    const std::string location = probe.response.header("Location");
    if (status < 300 || status > 399 || location.empty()) break;
    const auto next = resolve_redirect(current, location);
    if (!next) break;  // a login page or somewhere that is not an API root
    if (!next->same_origin(current)) {
      const detail::HttpResult check = probe_info(*next);
      if (check.failure != detail::TransportFailure::None || !is_json(check.response)) break;
    }
    current = *next;
  }
  std::lock_guard<std::mutex> lock(pool_mutex_);
  url_ = current;
}

DHIS2CPP_INLINE detail::HttpResult Client::probe_info(const detail::Url& base) const {
  detail::ConnectionPool probe_pool(base, options_);
  detail::HttpRequest request;
  request.method = "GET";
  request.target = base.path + "/api/system/info";
  request.headers = common_headers();
  return probe_pool.send(request);
}

DHIS2CPP_INLINE std::optional<detail::Url> Client::resolve_redirect(const detail::Url& from,
                                                                    const std::string& location) {
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
  return detail::try_parse_url(absolute.substr(0, absolute.size() - suffix.size()), "redirect target");
}

DHIS2CPP_INLINE bool Client::is_json(const Response& r) {
  return r.header("Content-Type").find("json") != std::string::npos &&
         !nlohmann::json::parse(r.body, nullptr, false).is_discarded();
}

// ---- sending, retrying -----------------------------------------------------------------------

DHIS2CPP_INLINE std::vector<std::pair<std::string, std::string>> Client::common_headers() const {
  return {{"Accept", "application/json"}, {"X-Requested-With", "XMLHttpRequest"}, {"User-Agent", options_.user_agent}};
}

DHIS2CPP_INLINE Client::Credential Client::credential() {
  if (const auto* basic = std::get_if<BasicAuth>(&auth_)) {
    return {"Basic " + detail::base64_encode(basic->username + ":" + basic->password), 0};
  }
  if (const auto* token = std::get_if<TokenAuth>(&auth_)) return {"ApiToken " + token->token(), 0};
  std::lock_guard<std::mutex> lock(bearer_mutex_);
  return {"Bearer " + std::get<BearerAuth>(auth_).provider()(false), bearer_generation_};
}

DHIS2CPP_INLINE Client::Credential Client::refreshed_credential(std::uint64_t generation) {
  std::lock_guard<std::mutex> lock(bearer_mutex_);
  if (bearer_generation_ == generation) {
    bearer_token_ = std::get<BearerAuth>(auth_).provider()(true);
    ++bearer_generation_;
  }
  return {"Bearer " + bearer_token_, bearer_generation_};
}

DHIS2CPP_INLINE Response Client::execute(const std::string& method, const std::string& target, const std::string& body,
                                         const std::string& content_type, bool idempotent, bool allow_retry) {
  std::shared_ptr<detail::ConnectionPool> pool;
  {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    pool = pool_;
  }
  if (!pool || state_ == State::Closed) throw UsageError("the client is closed; create a new dhis2::Client");
  const std::string url = url_origin() + target;
  const bool may_retry = allow_retry && options_.retry && (idempotent || options_.retry->retry_non_idempotent);
  const int max_attempts = may_retry ? options_.retry->max_attempts : 1;
  Credential cred = credential();
  bool refreshed = false;
  for (int attempt = 1;; ++attempt) {
    detail::HttpRequest request;
    request.method = method;
    request.target = target;
    request.headers = common_headers();
    request.headers.emplace_back("Authorization", cred.header);
    request.body = body;
    request.content_type = content_type;
    request.idempotent = idempotent;
    const auto started = std::chrono::steady_clock::now();
    detail::HttpResult result = pool->send(request);
    RequestEvent event;
    event.method = method;
    event.url = url;
    event.request_headers = redacted(request.headers);
    event.attempt = attempt;
    event.status = result.response.status;
    event.error = result.error;
    event.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

    if (result.failure == detail::TransportFailure::Closed) {
      report(event);
      throw UsageError("the client is closed; create a new dhis2::Client");
    }
    if (result.failure == detail::TransportFailure::None && result.response.status == 401 &&
        std::holds_alternative<BearerAuth>(auth_) && !refreshed) {
      event.will_retry = true;  // once, with a refreshed token
      report(event);
      refreshed = true;
      cred = refreshed_credential(cred.generation);
      --attempt;  // the refresh retry is not a retry of the policy
      continue;
    }
    const auto delay = retry_delay(result, attempt, max_attempts, may_retry);
    event.will_retry = delay.has_value();
    if (delay) event.retry_delay = *delay;
    report(event);
    if (!delay) {
      if (result.failure != detail::TransportFailure::None) throw transport_error(method, url, result);
      return std::move(result.response);
    }
    sleep_for(*delay);
  }
}

DHIS2CPP_INLINE std::optional<std::chrono::milliseconds> Client::retry_delay(const detail::HttpResult& result, int attempt,
                                                                             int max_attempts, bool may_retry) {
  if (!may_retry || attempt >= max_attempts) return std::nullopt;
  const RetryPolicy& policy = *options_.retry;
  if (result.failure != detail::TransportFailure::None) {
    const bool retryable = result.failure == detail::TransportFailure::Connect ||
                           result.failure == detail::TransportFailure::Dns ||
                           result.failure == detail::TransportFailure::Timeout ||
                           result.failure == detail::TransportFailure::Read ||
                           result.failure == detail::TransportFailure::Write;
    if (!retryable || !policy.retry_connection_errors) return std::nullopt;
  } else {
    const auto& statuses = policy.retry_statuses;
    if (std::find(statuses.begin(), statuses.end(), result.response.status) == statuses.end()) return std::nullopt;
    if (const auto after = retry_after(result.response.header("Retry-After"))) return std::min(*after, policy.max_delay);
  }
  double base = static_cast<double>(policy.base_delay.count());
  for (int i = 1; i < attempt; ++i) base *= policy.backoff_factor;
  base = std::min(base, static_cast<double>(policy.max_delay.count()));
  std::uniform_real_distribution<double> spread(1.0 - policy.jitter, 1.0 + policy.jitter);
  double jittered;
  {
    std::lock_guard<std::mutex> lock(random_mutex_);
    jittered = base * spread(random_);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(jittered, static_cast<double>(policy.max_delay.count()))));
}

DHIS2CPP_INLINE std::optional<std::chrono::milliseconds> Client::retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (value.size() > 9) return std::chrono::milliseconds::max();
    return std::chrono::milliseconds(std::stoll(value) * 1000);
  }
  std::tm tm{};
  const char* end = strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(when - std::chrono::system_clock::now());
  return std::max(wait, std::chrono::milliseconds(0));
}

DHIS2CPP_INLINE void Client::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  sleep_cv_.wait_for(lock, delay, [this] { return state_ == State::Closed; });
  if (state_ == State::Closed) throw UsageError("the client was closed while waiting to retry a request");
}

DHIS2CPP_INLINE void Client::report(const RequestEvent& event) const {
  if (options_.on_request) options_.on_request(event);
}

DHIS2CPP_INLINE std::vector<std::pair<std::string, std::string>> Client::redacted(
    std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& h : headers) h.second = detail::redacted_header_value(h.first, h.second);
  return headers;
}

DHIS2CPP_INLINE std::string Client::url_origin() const {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  return url_.origin();
}

// ---- classifying answers (DESIGN.md §2) -------------------------------------------------------

DHIS2CPP_INLINE TransportError Client::transport_error(const std::string& method, const std::string& url,
                                                       const detail::HttpResult& r) const {
  std::string message = method + " " + url + ": " + r.error;
  if (r.failure == detail::TransportFailure::TooLarge) {
    message += "; raise ClientOptions::max_response_bytes or ask for less (paging, fields=)";
  } else if (r.failure == detail::TransportFailure::Timeout || r.failure == detail::TransportFailure::Read) {
    message += " (timeouts: connect " + std::to_string(options_.connect_timeout.count()) + " ms, read " +
               std::to_string(options_.timeout.count()) + " ms)";
  }
  return TransportError(message, detail::transport_error_kind(r.failure));
}

DHIS2CPP_INLINE nlohmann::json Client::interpret(const Response& r, const std::string& method,
                                                 const std::string& target) const {
  const std::string what = method + " " + strip_query(target);
  const std::string type = r.header("Content-Type");
  if (r.status >= 200 && r.status < 300) {
    if (r.body.empty() || std::all_of(r.body.begin(), r.body.end(), [](unsigned char c) { return std::isspace(c) != 0; })) {
      return nullptr;
    }
    auto parsed = nlohmann::json::parse(r.body, nullptr, false);
    if (parsed.is_discarded() || type.find("html") != std::string::npos) {
      throw UnexpectedResponseError(what + ": expected JSON but got " + (type.empty() ? "a body" : type) + " (HTTP " +
                                        std::to_string(r.status) + "): " + excerpt(r.body) + describe_html(type),
                                    r.status);
    }
    return parsed;
  }
  if (r.status >= 300 && r.status < 400) {
    const std::string location = r.header("Location");
    if (location.find("login") != std::string::npos) {
      throw AuthenticationError(r.status, what + ": the server redirected to its login page (" + strip_query(location) +
                                              ") instead of answering: the request was not authenticated. "
                                              "Check the credentials, or whether a single sign-on proxy sits in front "
                                              "of DHIS2");
    }
    throw UnexpectedResponseError(what + ": the server redirected to " + strip_query(location) + " (HTTP " +
                                      std::to_string(r.status) +
                                      "); redirects are not followed so credentials never travel elsewhere; use the "
                                      "final URL as the base URL",
                                  r.status);
  }
  std::shared_ptr<const WebMessage> message;
  const auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (!parsed.is_discarded() && WebMessage::looks_like(parsed)) {
    try {
      message = std::make_shared<const WebMessage>(WebMessage::from_json(parsed));
    } catch (const DecodeError&) {
      message = nullptr;
    }
  }
  if (r.status == 401) throw AuthenticationError(401, what + ": " + unauthorized_hint(r, message.get()));
  std::string text = message ? message->message : "";
  if (!message && !parsed.is_discarded() && parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    text = parsed["message"].get<std::string>();
  }
  if (!message && parsed.is_discarded() && !r.body.empty()) {
    text = "the answer is not JSON but " + (type.empty() ? std::string("a body") : type) +
           (r.status == 404 ? " (a path this server does not have?)" : "");
  }
  if (r.status == 409 && message && message->status == "WARNING") {
    text += " [the import finished with errors: see web_message() for the report]";
  }
  throw ApiError(r.status, text, message ? message->error_code : "", message, what, &r);
}

DHIS2CPP_INLINE std::string Client::unauthorized_hint(const Response& r, const WebMessage* message) const {
  std::string hint = "the server refused the credentials (HTTP 401";
  if (message && !message->message.empty() && message->message != "Unauthorized") hint += ": " + message->message;
  hint += "). ";
  if (std::holds_alternative<BasicAuth>(auth_)) {
    hint += "Check the user name and password, and that the account is not disabled or locked";
  } else if (std::holds_alternative<TokenAuth>(auth_)) {
    hint += "Check that the personal access token exists on this server, has not expired, and that its allowed "
            "IP addresses, methods and referrers permit this request";
  } else {
    hint += "The bearer token was refreshed once and still refused: check the token provider and the server's "
            "OAuth2/OIDC configuration";
  }
  const std::string challenge = r.header("WWW-Authenticate");
  if (!challenge.empty()) hint += " (WWW-Authenticate: " + challenge + ")";
  return hint;
}

DHIS2CPP_INLINE std::string Client::excerpt(const std::string& body) {
  std::string text = body.substr(0, 80);
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return "\"" + text + (body.size() > 80 ? "...\"" : "\"");
}

DHIS2CPP_INLINE std::string Client::describe_html(const std::string& type) {
  return type.find("html") != std::string::npos ? " (a login, proxy or error page?)" : "";
}

DHIS2CPP_INLINE std::string Client::strip_query(const std::string& url) {
  return url.substr(0, url.find_first_of("?#"));
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_CLIENT_IPP
