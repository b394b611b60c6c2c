#ifndef DHIS2_TESTING_IMPL_FAKE_SERVER_IPP
#define DHIS2_TESTING_IMPL_FAKE_SERVER_IPP

// Definitions of <dhis2/testing/fake_server.hpp>; the emulator's only file that includes
// <httplib.h> (and through it OpenSSL).

#include <dhis2/testing/fake_server.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/base64.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/personal_access_token.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <initializer_list>
#include <regex>

#include <httplib.h>

namespace dhis2 {
namespace testing {

struct FakeServer::Impl {
  std::unique_ptr<httplib::Server> server;  // an httplib::SSLServer with TLS
};

struct FakeServer::Request {
  Request(const httplib::Request& request) : http(request) {}  // implicit: helpers take httplib's request
  const httplib::Request& http;
};

struct FakeServer::Response {
  httplib::Response& http;
};

struct FakeServer::Route {
  std::string method;
  std::vector<std::string> segments;  // after /api, e.g. {"system", "tasks", "ANALYTICS_TABLE"}
  std::string api_version;            // "41" for /api/41/..., else ""
  const httplib::Request* req = nullptr;
  const User* user = nullptr;
};

DHIS2CPP_INLINE FakeServer::FakeServer(FakeServerOptions options)
    : options_(validated(std::move(options))),
      profile_(VersionProfile::of(options_.version)),
      clock_(options_.start_time ? *options_.start_time : default_start()),
      engine_(profile_, clock_, options_.seed, EngineClock{options_.time_zone, options_.job_node_clock_offset}),
      impl_(std::make_unique<Impl>()) {
  clock_.set_speed(options_.speed);
  for (std::size_t i = 0; i < options_.users.size(); ++i) {
    if (options_.users[i].id.empty()) options_.users[i].id = "xE7jOejl9F" + std::string(1, static_cast<char>('a' + i % 26));
  }
  ignore_sigpipe();
  if (options_.tls) {
    impl_->server = std::make_unique<httplib::SSLServer>(options_.tls->cert_path.c_str(), options_.tls->key_path.c_str());
    if (!impl_->server->is_valid()) {
      throw Error("FakeServer: cannot load the TLS certificate " + options_.tls->cert_path + " and key " +
                  options_.tls->key_path);
    }
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  impl_->server->new_task_queue = [] { return new httplib::ThreadPool(32); };
  impl_->server->set_keep_alive_max_count(100000);
  // httplib writes headers and body separately: without TCP_NODELAY, Nagle and the client's
  // delayed ACK add ~40 ms to every response on a keep-alive connection.
  impl_->server->set_tcp_nodelay(true);
  impl_->server->set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_timeout.count()));
  impl_->server->set_payload_max_length(256 * 1024 * 1024);
  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Response response{res};
    handle(req, response);
  };
  impl_->server->Get(".*", handler);
  impl_->server->Post(".*", handler);
  impl_->server->Put(".*", handler);
  impl_->server->Patch(".*", handler);
  impl_->server->Delete(".*", handler);
  impl_->server->Options(".*", handler);

  if (options_.port == 0) {
    port_ = impl_->server->bind_to_any_port(options_.host.c_str());
  } else {
    port_ = impl_->server->bind_to_port(options_.host.c_str(), options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    throw Error("FakeServer: cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  }
  thread_ = std::thread([this] { impl_->server->listen_after_bind(); });
  while (!impl_->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

DHIS2CPP_INLINE FakeServer::~FakeServer() { stop(); }

DHIS2CPP_INLINE void FakeServer::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_cv_.notify_all();
  impl_->server->stop();
  // Keep-alive connections would otherwise hold the stop for the keep-alive timeout.
  close_connections([](int, int) { return true; });
  if (thread_.joinable()) thread_.join();
}

DHIS2CPP_INLINE std::string FakeServer::origin() const {
  return std::string(options_.tls ? "https" : "http") + "://" + options_.host + ":" + std::to_string(port_);
}

DHIS2CPP_INLINE void FakeServer::advance(std::chrono::milliseconds by) {
  clock_.advance(by);
  engine_.catch_up();
}

// ---- jobs ------------------------------------------------------------------------------------

DHIS2CPP_INLINE std::string FakeServer::start_job(const std::string& job_type, JobScript script,
                                                  nlohmann::json parameters) {
  return engine_.submit(job_type, std::move(parameters), options_.users.front().id, false, std::move(script)).job.uid;
}

DHIS2CPP_INLINE void FakeServer::add_job_configuration(const std::string& uid, const std::string& job_type,
                                                       JobScript script, const std::string& name) {
  engine_.add_job_configuration(uid, job_type, name.empty() ? job_type + " job" : name, std::move(script));
}

DHIS2CPP_INLINE void FakeServer::set_notifier_node(NotifierNode node) {
  std::lock_guard<std::mutex> lock(mutex_);
  notifier_node_ = node;
}

// ---- faults and the request log ------------------------------------------------------------

DHIS2CPP_INLINE void FakeServer::inject(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.push_back(std::move(rule));
}

DHIS2CPP_INLINE void FakeServer::clear_faults() {
  std::lock_guard<std::mutex> lock(mutex_);
  faults_.clear();
}

DHIS2CPP_INLINE std::vector<RecordedRequest> FakeServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

DHIS2CPP_INLINE std::vector<RecordedRequest> FakeServer::requests_to(const std::string& pattern,
                                                                   const std::string& method) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RecordedRequest> out;
  for (const auto& r : requests_) {
    if ((method.empty() || r.method == method) && glob_match(pattern, strip_context(r.path))) out.push_back(r);
  }
  return out;
}

DHIS2CPP_INLINE void FakeServer::clear_requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
}

DHIS2CPP_INLINE int FakeServer::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(connections_.size());
}

DHIS2CPP_INLINE FakeServerOptions FakeServer::validated(FakeServerOptions o) {
  if (!o.context_path.empty() && (o.context_path.front() != '/' || o.context_path.back() == '/')) {
    throw UsageError("FakeServerOptions::context_path must be empty or start with '/' and not end with it, e.g. /dhis");
  }
  if (o.users.empty()) throw UsageError("FakeServerOptions::users must hold at least one user");
  if (o.port < 0 || o.port > 65535) throw UsageError("FakeServerOptions::port must be 0 (any) or 1 to 65535");
  return o;
}

DHIS2CPP_INLINE std::chrono::system_clock::time_point FakeServer::default_start() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

DHIS2CPP_INLINE void FakeServer::ignore_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, nullptr);
  }
}

DHIS2CPP_INLINE void FakeServer::close_connections(const std::function<bool(int, int)>& select) const {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    const int local_port = port_of(local), peer_port = port_of(peer);
    if (local_port == port_ && select(local_port, peer_port)) ::shutdown(fd, SHUT_RDWR);
  }
  closedir(dir);
}

DHIS2CPP_INLINE int FakeServer::port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

DHIS2CPP_INLINE std::string FakeServer::strip_context(const std::string& path) const {
  const auto& ctx = options_.context_path;
  if (!ctx.empty() && path.compare(0, ctx.size(), ctx) == 0) return path.substr(ctx.size());
  return path;
}

// ---- the request pipeline ------------------------------------------------------------------

DHIS2CPP_INLINE void FakeServer::handle(const Request& request, Response& response) {
  const httplib::Request& req = request.http;
  httplib::Response& res = response.http;
  const std::optional<Fault> fault = record_and_pick_fault(req);
  bool stopped_during_delay = false;
  if (fault && fault->kind == Fault::Kind::Delay) {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    stopped_during_delay = stop_cv_.wait_for(lock, fault->delay, [this] { return stopped_; });
  }
  // A server stopped during a delay never answers (stop() must not deliver the response early).
  if (stopped_during_delay || (fault && fault->kind == Fault::Kind::DropBeforeResponse)) {
    const int peer = req.remote_port;
    close_connections([peer](int, int peer_port) { return peer_port == peer; });
    res.status = 500;
    return;
  }
  Reply reply = fault ? faulty_reply(*fault, req) : Reply{};
  if (!fault || fault->kind == Fault::Kind::Delay || fault->kind == Fault::Kind::DropMidResponse ||
      fault->kind == Fault::Kind::TruncatedJson) {
    reply = serve(req);
  }
  if (fault && fault->kind == Fault::Kind::TruncatedJson) reply.body.resize(reply.body.size() / 2);
  if (fault && !fault->retry_after.empty()) reply.headers.emplace_back("Retry-After", fault->retry_after);

  res.status = reply.status;
  for (const auto& h : reply.headers) res.set_header(h.first, h.second);
  if (fault && fault->kind == Fault::Kind::DropMidResponse) {
    auto body = std::make_shared<std::string>(std::move(reply.body));
    if (body->size() < 2) *body += "  ";
    res.set_content_provider(body->size(), reply.content_type,
                             [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               if (offset == 0) sink.write(body->data(), body->size() / 2);
                               return false;  // httplib closes the connection mid-body
                             });
    return;
  }
  if (!reply.body.empty() || reply.status != 204) res.set_content(reply.body, reply.content_type.c_str());
}

DHIS2CPP_INLINE std::optional<Fault> FakeServer::record_and_pick_fault(const Request& request) {
  const httplib::Request& req = request.http;
  RecordedRequest record;
  record.method = req.method;
  record.path = req.path;
  const auto q = req.target.find('?');
  if (q != std::string::npos) record.query = req.target.substr(q + 1);
  for (const auto& h : req.headers) {
    record.headers.emplace_back(h.first, dhis2::detail::redacted_header_value(h.first, h.second));
  }
  record.body = req.body;

  std::lock_guard<std::mutex> lock(mutex_);
  const auto key = req.remote_addr + ":" + std::to_string(req.remote_port);
  auto conn = connections_.find(key);
  if (conn == connections_.end()) conn = connections_.emplace(key, static_cast<int>(connections_.size()) + 1).first;
  record.connection = conn->second;
  requests_.push_back(std::move(record));

  const std::string path = strip_context(req.path);
  for (auto& rule : faults_) {
    if (rule.times == 0) continue;
    if (!rule.method.empty() && rule.method != req.method) continue;
    if (!glob_match(rule.path, path)) continue;
    if (rule.times > 0) --rule.times;
    return rule.fault;
  }
  return std::nullopt;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::faulty_reply(const Fault& fault, const Request& request) const {
  const httplib::Request& req = request.http;
  Reply r;
  switch (fault.kind) {
    case Fault::Kind::Status:
      r.status = fault.status;
      r.content_type = "text/html";
      r.body = "<html><head><title>" + std::to_string(fault.status) + " " + reason(fault.status) +
               "</title></head><body><center><h1>" + std::to_string(fault.status) + " " + reason(fault.status) +
               "</h1></center><hr><center>nginx</center></body></html>\n";
      break;
    case Fault::Kind::MalformedJson:
      r.body = "{\"httpStatus\": \"OK\", \"httpStatusCode\": 200, \"status\": OK,,";
      break;
    case Fault::Kind::HtmlPage:
      r.status = fault.status;
      r.content_type = "text/html;charset=UTF-8";
      r.body = login_page_html();
      break;
    case Fault::Kind::Redirect:
      r.status = fault.status;
      r.content_type = "text/html";
      r.headers.emplace_back("Location", fault.location);
      break;
    default:
      break;
  }
  (void)req;
  return r;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::serve(const Request& request) {
  const httplib::Request& req = request.http;
  const auto& ctx = options_.context_path;
  if (!ctx.empty() && req.path.compare(0, ctx.size(), ctx) != 0) return not_found_page();
  const std::string path = strip_context(req.path);

  if (path == profile_.login_path || (path.rfind(profile_.login_path, 0) == 0 && req.method == "GET")) {
    Reply r;
    r.content_type = "text/html;charset=UTF-8";
    r.body = login_page_html();
    return r;
  }
  if (path != "/api" && path.rfind("/api/", 0) != 0) return not_found_page();

  Route route;
  route.method = req.method;
  route.req = &req;
  route.segments = split(path.substr(4));
  if (!route.segments.empty() && is_number(route.segments.front())) {
    const int n = std::atoi(route.segments.front().c_str());
    if (n < 28 || n > profile_.max_api_version) return not_found_page();
    route.api_version = route.segments.front();
    route.segments.erase(route.segments.begin());
  }
  const auto& s = route.segments;

  // Reachable without credentials (dhis2-wire.md §5.3).
  if (req.method == "GET" && s == std::vector<std::string>{"ping"}) {
    Reply r;
    r.content_type = "text/plain";
    return r;
  }
  if (req.method == "GET" && s == std::vector<std::string>{"loginConfig"} && profile_.scheduler_grid) {
    return json_reply(200, {{"apiVersion", reported_version()}, {"applicationTitle", "DHIS 2"},
                            {"uiLocale", "en"}, {"emailConfigured", false}, {"selfRegistrationEnabled", false}});
  }

  Reply failure;
  route.user = authenticate(req, failure);
  if (!route.user) return failure;
  return dispatch(route);
}

// ---- authentication (§6) ---------------------------------------------------------------------

DHIS2CPP_INLINE const User* FakeServer::authenticate(const Request& request, Reply& failure) const {
  const httplib::Request& req = request.http;
  const std::string header = req.get_header_value("Authorization");
  if (header.empty()) {
    if (req.get_header_value("X-Requested-With") == "XMLHttpRequest") {
      failure = web_message(401, "Unauthorized");
    } else {
      failure.status = 302;
      failure.content_type = "text/html";
      failure.headers.emplace_back("Location", request_origin(req) + options_.context_path + profile_.login_path);
    }
    return nullptr;
  }
  const auto space = header.find(' ');
  const std::string scheme = dhis2::detail::to_lower(header.substr(0, space));
  const std::string credential = space == std::string::npos ? std::string() : header.substr(space + 1);
  if (scheme == "basic") {
    const auto decoded = dhis2::detail::base64_decode(credential);
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      const std::string name = decoded->substr(0, colon), password = decoded->substr(colon + 1);
      for (const auto& user : options_.users) {
        if (user.username == name && user.password == password) {
          if (!user.disabled) return &user;
          failure = web_message(401, "Account disabled");
          return nullptr;
        }
      }
    }
    failure = web_message(401, "Unauthorized");  // no WWW-Authenticate on the API chain
    return nullptr;
  }
  if (scheme == "apitoken") return authenticate_token(credential, failure);
  if (scheme == "bearer") {
    for (const auto& issued : options_.bearer_tokens) {
      if (issued.token == credential && !issued.expired) {
        if (const User* user = find_user(issued.username)) return user;
      }
    }
    failure = web_message(401, "Bearer token is invalid or expired");
    failure.headers.emplace_back("WWW-Authenticate",
                                 "Bearer error=\"invalid_token\", error_description=\"An error occurred while "
                                 "attempting to decode the Jwt: the token is invalid or expired\"");
    return nullptr;
  }
  failure = web_message(401, "Unauthorized");
  return nullptr;
}

DHIS2CPP_INLINE const User* FakeServer::authenticate_token(const std::string& token, Reply& failure) const {
  const auto fail = [&failure](int status, const char* message) -> const User* {
    failure = web_message(status, message);
    failure.headers.emplace_back("WWW-Authenticate", "ApiToken");
    return nullptr;
  };
  static const std::regex shape("^[a-z0-9-._~+/]+=*$", std::regex::icase);
  if (!std::regex_match(token, shape)) return fail(400, "Api token is malformed");
  if (profile_.checksum_checked && pat_problem(token)) return fail(400, "Checksum validation failed");
  for (const auto& issued : options_.tokens) {
    if (issued.token != token) continue;
    if (issued.expired) return fail(401, "Failed to authenticate API token, token has expired.");
    const User* user = find_user(issued.username);
    if (!user || user->disabled) return fail(401, "The API token is disabled, locked or 2FA is enabled.");
    return user;
  }
  return fail(401, "The API token does not exists");
}

DHIS2CPP_INLINE const User* FakeServer::find_user(const std::string& name) const {
  for (const auto& user : options_.users) {
    if (user.username == name) return &user;
  }
  return nullptr;
}

DHIS2CPP_INLINE bool FakeServer::has_authority(const User& user, const std::string& authority) {
  const auto& a = user.authorities;
  return std::find(a.begin(), a.end(), "ALL") != a.end() || std::find(a.begin(), a.end(), authority) != a.end();
}

// ---- routing -------------------------------------------------------------------------------

DHIS2CPP_INLINE FakeServer::Reply FakeServer::dispatch(const Route& r) {
  const auto& s = r.segments;
  const auto& m = r.method;
  const auto is = [&s](std::initializer_list<const char*> parts) {
    if (s.size() != parts.size()) return false;
    std::size_t i = 0;
    for (const char* p : parts) {
      if (std::string(p) != "*" && s[i] != p) return false;
      ++i;
    }
    return true;
  };
  const bool post_or_put = m == "POST" || m == "PUT";

  if (m == "GET" && is({"system", "info"})) return system_info(r);
  if (m == "GET" && is({"system", "ping"})) return text_reply("pong");
  if (m == "GET" && is({"me"})) return me(r);
  if (m == "GET" && is({"systemSettings", "*"})) return system_setting(s[1]);
  if (m == "GET" && is({"categoryCombos"})) return category_combos(r);

  if (post_or_put && is({"resourceTables", "analytics"})) return kickoff(r, "ANALYTICS_TABLE", "F_PERFORM_MAINTENANCE");
  if (post_or_put && is({"resourceTables"})) return kickoff(r, "RESOURCE_TABLE", "F_PERFORM_MAINTENANCE");
  if (post_or_put && is({"resourceTables", "monitoring"})) return kickoff(r, "MONITORING", "F_PERFORM_MAINTENANCE");
  if (post_or_put && is({"predictions"})) return predictions(r);
  if (m == "POST" && is({"dataIntegrity"})) return data_integrity_run(r, "DATA_INTEGRITY", "details");
  if (m == "POST" && is({"dataIntegrity", "summary"})) return data_integrity_run(r, "DATA_INTEGRITY", "summary");
  if (m == "POST" && is({"dataIntegrity", "details"})) return data_integrity_run(r, "DATA_INTEGRITY_DETAILS", "details");
  if (m == "GET" && is({"dataIntegrity", "summary"})) return data_integrity_result(r, "DATA_INTEGRITY");
  if (m == "GET" && is({"dataIntegrity", "details"})) return data_integrity_result(r, "DATA_INTEGRITY_DETAILS");
  if (m == "POST" && is({"metadata"})) return imports(r, "METADATA_IMPORT", "");
  if (m == "POST" && is({"dataValueSets"})) return imports(r, "DATAVALUE_IMPORT", "F_DATAVALUE_ADD");
  if (m == "POST" && is({"tracker"})) return tracker_import(r);
  if (m == "GET" && is({"tracker", "jobs", "*"})) return tracker_job(r, false);
  if (m == "GET" && is({"tracker", "jobs", "*", "report"})) return tracker_job(r, true);

  if (m == "POST" && is({"jobConfigurations", "*", "execute"})) return execute(r);
  if (m == "POST" && is({"jobConfigurations", "*", "cancel"}) && profile_.scheduler_grid) return cancel(r);
  if (m == "POST" && is({"jobConfigurations", "*", "revert"}) && profile_.revert) return revert(r);
  if (m == "GET" && is({"jobConfigurations", "*", "progress"}) && profile_.progress_endpoint) return job_progress(r);
  if (m == "GET" && is({"jobConfigurations", "*"})) return job_row(r);
  if (m == "POST" && is({"scheduling", "cancel", "*"})) {
    engine_.cancel_type(profile_.canonical_job_type(s[2]));
    return Reply{204, "", "", {}};
  }
  if (m == "GET" && s.size() >= 2 && s[0] == "scheduling" && s[1] == "running") return running(r);

  if (m == "GET" && is({"system", "tasks"})) {
    if (read_on_other_node()) return no_store(json_reply(200, empty_overview(), true));
    return no_store(json_reply(200, engine_.all(gist(r)), true));
  }
  if (m == "GET" && is({"system", "tasks", "*"})) return tasks_of_type(r);
  if (m == "GET" && is({"system", "tasks", "*", "*"})) return task_feed(r);
  if (m == "GET" && is({"system", "taskSummaries", "*"})) return summaries_of_type(r);
  if (m == "GET" && is({"system", "taskSummaries", "*", "*"})) return task_summary(r);
  if (m == "DELETE" && s.size() >= 2 && s.size() <= 4 && s[0] == "system" && s[1] == "tasks" && profile_.new_notifier) {
    return delete_tasks(r);
  }
  return not_found_page();
}

// ---- system ----------------------------------------------------------------------------------

DHIS2CPP_INLINE FakeServer::Reply FakeServer::system_info(const Route& r) const {
  const auto now = clock_.now();
  nlohmann::ordered_json info = {
      {"contextPath", request_origin(*r.req) + options_.context_path},
      {"userAgent", r.req->get_header_value("User-Agent")},
      {"calendar", "iso8601"},
      {"dateFormat", "yyyy-mm-dd"},
      {"serverDate", engine_.format_time(now)},
      {"serverTimeZoneId", options_.time_zone.id},
      {"serverTimeZoneDisplayName", options_.time_zone.display_name},
      {"lastAnalyticsTableSuccess", engine_.format_time(now - std::chrono::hours(8))},
      {"intervalSinceLastAnalyticsTableSuccess", "8 h, 0 m, 0 s"},
      {"lastAnalyticsTableRuntime", "0:00:47.890"},
      {"lastSystemMonitoringSuccess", engine_.format_time(now - std::chrono::hours(9))},
      {"version", reported_version()},
      {"revision", "eaf4b70"},
      {"buildTime", "2025-01-30T12:00:00.000"},
      {"jasperReportsVersion", "6.20.1"},
      {"environmentVariable", "DHIS2_HOME"},
      {"readOnlyMode", "off"},
      {"nodeId", "emulator"},
      {"javaVersion", "17.0.15"},
      {"osName", "Linux"},
      {"emailConfigured", false},
      {"redisEnabled", false},
      {"systemId", "eed3d451-4ff5-4193-b951-ffcc68954299"},
      {"systemName", "DHIS 2 (dhis2-cpp emulator)"},
      {"instanceBaseUrl", request_origin(*r.req) + options_.context_path},
      {"isMetadataVersionEnabled", true},
      {"isMetadataSyncEnabled", false},
      {"databaseInfo", {{"spatialSupport", true}, {"time", engine_.format_time(now)}}},
      {"encryption", false}};
  if (profile_.version >= ServerVersion{2, 43, 0, 0, true}) {
    info["sessionTimeout"] = 3600;
    info["capability"] = nlohmann::ordered_json::object();
  }
  if (!has_authority(*r.user, "ALL")) {
    // withoutSensitiveInfo() (§5.1)
    for (const char* key : {"jasperReportsVersion", "environmentVariable", "readOnlyMode", "nodeId", "javaVersion", "osName"}) {
      info.erase(key);
    }
  }
  Reply reply = json_reply(200, pick_fields(info, *r.req), true);
  reply.headers.emplace_back("Cache-Control", "no-store");  // SystemController sends no-store (§5.1)
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::me(const Route& r) const {
  const User& u = *r.user;
  nlohmann::json authorities = u.authorities;
  return json_reply(200, pick_fields(nlohmann::json{{"id", u.id},
                          {"username", u.username},
                          {"firstName", u.first_name},
                          {"surname", u.surname},
                          {"name", u.first_name + " " + u.surname},
                          {"displayName", u.first_name + " " + u.surname},
                          {"email", u.username + "@example.org"},
                          {"authorities", authorities},
                          {"settings", {{"keyUiLocale", "en"}}},
                          {"userRoles", nlohmann::json::array()},
                          {"organisationUnits", nlohmann::json::array()}}, *r.req));
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::system_setting(const std::string& key) const {
  const auto it = options_.settings.find(key);
  Reply reply = json_reply(200, nlohmann::json{{key, it == options_.settings.end() ? nlohmann::json() : it->second}});
  reply.headers.emplace_back("Cache-Control", "no-cache, private");
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::category_combos(const Route& r) const {
  const std::string filter = r.req->get_param_value("filter");
  nlohmann::json list = nlohmann::json::array();
  if (filter.empty() || filter == "name:eq:default") {
    list.push_back({{"id", options_.default_category_combo}, {"name", "default"}, {"displayName", "default"}});
  }
  return json_reply(200, {{"pager", {{"page", 1}, {"pageCount", 1}, {"total", list.size()}, {"pageSize", 50}}},
                          {"categoryCombos", list}});
}

// ---- kick-offs (§2) ------------------------------------------------------------------------

DHIS2CPP_INLINE FakeServer::Reply FakeServer::kickoff(const Route& r, const std::string& type, const char* authority,
                                                     nlohmann::json parameters, std::optional<std::string> location,
                                                     bool location_before_41, std::optional<JobScript> script) {
  if (authority && *authority && !has_authority(*r.user, authority)) return forbidden(authority);
  if (parameters.is_null()) parameters = parameters_for(type, *r.req);
  const bool guarded = type == "ANALYTICS_TABLE" || type == "RESOURCE_TABLE" || type == "MONITORING" ||
                       type == "DATA_INTEGRITY" || type == "DATA_INTEGRITY_DETAILS" || type == "PREDICTOR";
  const auto submitted = engine_.submit(type, parameters, r.user->id, guarded, std::move(script));
  if (submitted.status == JobEngine::SubmitStatus::AlreadyRunning) {
    const std::string message = type == "DATA_INTEGRITY" || type == "DATA_INTEGRITY_DETAILS"
                                    ? "Data integrity check is already running"
                                    : "Job of type " + type + " is already running";
    Reply reply = web_message(409, message);
    auto body = nlohmann::ordered_json::parse(reply.body);
    body["response"] = job_configuration_response(submitted.job);
    reply.body = body.dump();
    return reply;
  }
  nlohmann::ordered_json body = envelope(200, "OK", "Initiated " + submitted.job.name);
  body["response"] = job_configuration_response(submitted.job);
  Reply reply = json_reply(200, body, true);
  if (location) {
    reply.headers.emplace_back("Location", api_path(r) + *location);
  } else if (profile_.location_on_every_kickoff || location_before_41) {
    reply.headers.emplace_back("Location", api_path(r) + "/system/tasks/" + type);
  }
  return reply;
}

DHIS2CPP_INLINE nlohmann::ordered_json FakeServer::job_configuration_response(const JobInfo& job) const {
  nlohmann::ordered_json response = {{"name", job.name},
                                     {"id", job.uid},
                                     {"created", engine_.format_time(job.created)},
                                     {"jobType", job.job_type},
                                     {"jobStatus", profile_.scheduler_grid ? "NOT_STARTED" : job.job_status}};
  if (!job.parameters.is_null()) response["jobParameters"] = job.parameters;
  response["relativeNotifierEndpoint"] = "/api/system/tasks/" + job.job_type + "/" + job.uid;
  if (!profile_.kickoff_response_type.empty()) response["responseType"] = profile_.kickoff_response_type;
  return response;
}

DHIS2CPP_INLINE bool FakeServer::flag(const Request& request, const char* name) {
  const httplib::Request& req = request.http;
  return req.has_param(name) && dhis2::detail::to_lower(req.get_param_value(name)) != "false";
}

DHIS2CPP_INLINE nlohmann::json FakeServer::parameters_for(const std::string& type, const Request& request) const {
  const httplib::Request& req = request.http;
  if (type == "ANALYTICS_TABLE") {
    nlohmann::json skip = nlohmann::json::array();
    const std::pair<const char*, const char*> table_flags[] = {
        {"skipAggregate", "DATA_VALUE"},        {"skipEvents", "EVENT"},
        {"skipEnrollment", "ENROLLMENT"},       {"skipTrackedEntities", "TRACKED_ENTITY"},
        {"skipOrgUnitOwnership", "OWNERSHIP"},  {"skipValidationResult", "VALIDATION_RESULT"}};
    for (const auto& f : table_flags) {
      if (flag(req, f.first)) skip.push_back(f.second);
    }
    nlohmann::json p = {{"skipTableTypes", skip},
                        {"skipPrograms", nlohmann::json::array()},
                        {"skipResourceTables", flag(req, "skipResourceTables")},
                        {"skipOutliers", flag(req, "skipOutliers")}};
    if (req.has_param("lastYears")) p["lastYears"] = std::atoi(req.get_param_value("lastYears").c_str());
    return p;
  }
  if (type == "RESOURCE_TABLE") return nullptr;  // no parameters: jobParameters is omitted
  if (type == "MONITORING") {
    return {{"relativeStart", 0}, {"relativeEnd", 0}, {"validationRuleGroups", nlohmann::json::array()},
            {"sendNotifications", false}, {"persistResults", false}};
  }
  if (type == "PREDICTOR") {
    nlohmann::json predictors = nlohmann::json::array(), groups = nlohmann::json::array();
    for (std::size_t i = 0; i < req.get_param_value_count("predictor"); ++i) predictors.push_back(req.get_param_value("predictor", i));
    for (std::size_t i = 0; i < req.get_param_value_count("predictorGroup"); ++i) groups.push_back(req.get_param_value("predictorGroup", i));
    return {{"startDate", req.get_param_value("startDate")}, {"endDate", req.get_param_value("endDate")},
            {"predictors", predictors}, {"predictorGroups", groups}};
  }
  if (type == "DATAVALUE_IMPORT") {
    return {{"idSchemes", nlohmann::json::object()}, {"dryRun", flag(req, "dryRun")}, {"async", true},
            {"importStrategy", req.has_param("importStrategy") ? req.get_param_value("importStrategy") : "CREATE_AND_UPDATE"},
            {"mergeMode", "REPLACE"}, {"reportMode", "FULL"}, {"skipExistingCheck", false}, {"sharing", false},
            {"skipNotifications", false}, {"skipAudit", false}, {"force", false}, {"firstRowIsHeader", true}};
  }
  if (type == "METADATA_IMPORT") {
    return {{"importMode", flag(req, "dryRun") ? "VALIDATE" : "COMMIT"}, {"identifier", "UID"},
            {"importStrategy", req.has_param("importStrategy") ? req.get_param_value("importStrategy") : "CREATE_AND_UPDATE"},
            {"atomicMode", "ALL"}, {"flushMode", "AUTO"}, {"skipSharing", false}, {"skipValidation", false}};
  }
  return nlohmann::json::object();
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::predictions(const Route& r) {
  if (!has_authority(*r.user, "F_PREDICTOR_RUN")) return forbidden("F_PREDICTOR_RUN");
  if (flag(*r.req, "async")) return kickoff(r, "PREDICTOR", "F_PREDICTOR_RUN", nullptr, std::nullopt, true);
  nlohmann::ordered_json body = envelope(200, "OK", "");
  body.erase("message");
  body["response"] = {{"responseType", "PredictionSummary"}, {"status", "SUCCESS"}, {"predictors", 1},
                      {"inserted", 12}, {"updated", 0}, {"deleted", 0}, {"unchanged", 0}};
  return json_reply(200, body, true);
}

DHIS2CPP_INLINE std::vector<std::string> FakeServer::checks_of(const Request& request) {
  const httplib::Request& req = request.http;
  std::vector<std::string> checks;
  for (std::size_t i = 0; i < req.get_param_value_count("checks"); ++i) {
    const std::string value = req.get_param_value("checks", i);
    std::size_t start = 0;
    while (start <= value.size()) {
      const auto comma = value.find(',', start);
      const std::string check = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!check.empty()) checks.push_back(check);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (checks.empty() && !req.body.empty()) {
    const auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_array()) {
      for (const auto& c : body) {
        if (c.is_string()) checks.push_back(c.get<std::string>());
      }
    }
  }
  return checks;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::data_integrity_run(const Route& r, const std::string& type, const char* result_path) {
  auto checks = checks_of(*r.req);
  std::string joined;
  for (const auto& c : checks) joined += (joined.empty() ? "" : ",") + c;
  const bool report_run = s_is_bare_integrity(r) && profile_.data_integrity_report_run;
  nlohmann::json parameters = {{"checks", checks},
                               {"type", report_run ? "REPORT" : type == "DATA_INTEGRITY" ? "SUMMARY" : "DETAILS"}};
  std::optional<JobScript> script;
  if (report_run) {
    // <=2.41's REPORT run writes through the notifier directly (§1.5) and has a summary (§1.7).
    JobScript s;
    s.message(NotificationLevel::Info, "Starting data integrity job", std::chrono::milliseconds(0)).direct();
    s.summary({{"duplicatePeriods", nlohmann::json::array()}, {"dataElementsWithoutDataSet", nlohmann::json::array()}},
              std::chrono::milliseconds(2500));
    s.complete("Data integrity checks completed in 0:00:02.500", std::chrono::milliseconds(0)).direct();
    s.result(integrity_result(checks.empty() ? default_checks() : checks, type != "DATA_INTEGRITY"));
    script = std::move(s);
  } else {
    JobScript s = engine_.take_next_script(type).value_or(JobScript::default_for(type, parameters));
    s.result(integrity_result(checks.empty() ? default_checks() : checks, type != "DATA_INTEGRITY"));
    script = std::move(s);
  }
  return kickoff(r, type, "", parameters, "/dataIntegrity/" + std::string(result_path) + "?checks=" + joined,
                 false, std::move(script));
}

DHIS2CPP_INLINE bool FakeServer::s_is_bare_integrity(const Route& r) { return r.segments.size() == 1; }

DHIS2CPP_INLINE std::vector<std::string> FakeServer::default_checks() {
  return {"categories_no_options", "data_elements_aggregate_no_groups", "orgunits_orphaned"};
}

DHIS2CPP_INLINE nlohmann::json FakeServer::integrity_result(const std::vector<std::string>& checks, bool details) const {
  nlohmann::json out = nlohmann::json::object();
  int n = 0;
  for (const auto& check : checks) {
    nlohmann::json entry = {{"name", check}, {"displayName", check}, {"section", "Emulated"},
                            {"severity", "WARNING"}, {"count", n}, {"percentage", n * 1.5},
                            {"finishedTime", engine_.format_time(clock_.now())}};
    if (details) entry["issues"] = nlohmann::json::array();
    out[check] = entry;
    ++n;
  }
  return out;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::data_integrity_result(const Route& r, const std::string& type) {
  const auto all = engine_.last_result(type);
  const auto wanted = checks_of(*r.req);
  nlohmann::json out = nlohmann::json::object();
  if (all.is_object()) {
    for (const auto& item : all.items()) {
      if (wanted.empty() || std::find(wanted.begin(), wanted.end(), item.key()) != wanted.end()) out[item.key()] = item.value();
    }
  }
  return json_reply(200, out);
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::imports(const Route& r, const std::string& type, const char* authority) {
  if (*authority && !has_authority(*r.user, authority)) return forbidden(authority);
  if (flag(*r.req, "async")) {
    // <=2.40 set a Location only on some kick-offs, these among them (§2.1).
    return kickoff(r, type, authority, nullptr, std::nullopt, true);
  }
  if (type == "METADATA_IMPORT") {
    const char* report_type = profile_.kickoff_response_type.empty() || profile_.kickoff_response_type == "JobConfiguration"
                                  ? "ImportReport" : "ImportReportWebMessageResponse";
    if (auto rejected = metadata_without_names(r.req->body)) {
      // atomicMode=ALL: one invalid object and nothing is imported; 409 with status WARNING (§4.2).
      nlohmann::ordered_json body = envelope(409, "WARNING", "One or more errors occurred, please see full details in import report.");
      (*rejected)["responseType"] = report_type;
      body["response"] = *rejected;
      return json_reply(409, body, true);
    }
    nlohmann::ordered_json body = envelope(200, "OK", "");
    body.erase("message");
    nlohmann::json report = detail::default_metadata_report(1);
    report.erase("importParams");
    report["responseType"] = report_type;
    body["response"] = report;
    return json_reply(200, body, true);
  }
  nlohmann::ordered_json body = envelope(200, "OK", "Import was successful.");
  body["response"] = detail::default_import_summary("SUCCESS", 1, 0, 0, 0);
  return json_reply(200, body, true);
}

DHIS2CPP_INLINE std::optional<nlohmann::json> FakeServer::metadata_without_names(const std::string& payload_text) {
  const auto payload = nlohmann::json::parse(payload_text, nullptr, false);
  if (!payload.is_object()) return std::nullopt;
  const auto stats = [](std::size_t total) {
    return nlohmann::json{{"created", 0}, {"updated", 0}, {"deleted", 0}, {"ignored", total}, {"total", total}};
  };
  nlohmann::json type_reports = nlohmann::json::array();
  std::size_t total = 0, rejected = 0;
  for (const auto& list : payload.items()) {
    if (!list.value().is_array()) continue;
    const std::string klass = metadata_class(list.key());
    nlohmann::json object_reports = nlohmann::json::array();
    for (std::size_t i = 0; i < list.value().size(); ++i) {
      const auto& object = list.value()[i];
      const auto name = object.is_object() ? object.find("name") : object.end();
      if (name != object.end() && name->is_string() && !name->get<std::string>().empty()) continue;
      nlohmann::json error = {{"message", "Missing required property `name`"}, {"mainKlass", klass},
                              {"errorCode", "E4000"}, {"errorProperty", "name"},
                              {"errorProperties", nlohmann::json::array({"name"})}, {"args", nlohmann::json::array({"name"})}};
      nlohmann::json report = {{"klass", klass}, {"index", i}};
      if (object.is_object() && object.contains("id") && object["id"].is_string()) {
        report["uid"] = object["id"];
        error["mainId"] = object["id"];
      }
      report["errorReports"] = nlohmann::json::array({error});
      object_reports.push_back(report);
    }
    total += list.value().size();
    rejected += object_reports.size();
    type_reports.push_back({{"klass", klass}, {"stats", stats(list.value().size())}, {"objectReports", object_reports}});
  }
  if (rejected == 0) return std::nullopt;
  return nlohmann::json{{"status", "ERROR"}, {"stats", stats(total)}, {"typeReports", type_reports}};
}

DHIS2CPP_INLINE std::string FakeServer::metadata_class(std::string plural) {
  if (plural.size() > 3 && plural.compare(plural.size() - 3, 3, "ies") == 0) {
    plural.replace(plural.size() - 3, 3, "y");
  } else if (!plural.empty() && plural.back() == 's') {
    plural.pop_back();
  }
  std::string simple = plural;
  if (!simple.empty()) simple[0] = dhis2::detail::ascii_upper(simple[0]);
  return "org.hisp.dhis." + dhis2::detail::to_lower(plural) + "." + simple;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::tracker_import(const Route& r) {
  const bool async = !r.req->has_param("async") || flag(*r.req, "async");
  if (!async) return json_reply(200, detail::default_tracker_report(1));
  const auto submitted = engine_.submit("TRACKER_IMPORT_JOB", nlohmann::json::object(), r.user->id, false);
  const std::string api_location = api_path(r) + "/tracker/jobs/" + submitted.job.uid;
  // location is built from the root path; from 2.42 that lacks /api (§2.6, inferred).
  const std::string body_location = profile_.tracker_location_without_api
                                        ? request_origin(*r.req) + options_.context_path + "/tracker/jobs/" + submitted.job.uid
                                        : api_location;
  nlohmann::ordered_json body = envelope(200, "OK", "Tracker job added");
  body["response"] = {{"id", submitted.job.uid}, {"location", body_location}};
  if (!profile_.tracker_response_type.empty()) body["response"]["responseType"] = profile_.tracker_response_type;
  Reply reply = json_reply(200, body, true);
  reply.headers.emplace_back("Location", api_location);
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::tracker_job(const Route& r, bool report) {
  const std::string& uid = r.segments[2];
  if (profile_.new_notifier && !is_uid(uid)) return bad_uid(uid, "uid");
  const bool other = read_on_other_node();
  if (!report) return notifications_reply(other ? std::vector<Notification>{} : engine_.feed("TRACKER_IMPORT_JOB", uid, false));
  const auto summary = other ? std::nullopt : engine_.summary("TRACKER_IMPORT_JOB", uid);
  if (!summary) return web_message(404, "Summary for job " + uid + " does not exist", "E1005");
  return json_reply(200, *summary);
}

// ---- job control (§3) ----------------------------------------------------------------------

DHIS2CPP_INLINE FakeServer::Reply FakeServer::execute(const Route& r) {
  const std::string& uid = r.segments[1];
  if (profile_.scheduler_grid && !is_uid(uid)) return bad_uid(uid, "uid");
  const auto status = engine_.execute(uid);
  nlohmann::ordered_json report = {{"klass", "org.hisp.dhis.scheduling.JobConfiguration"}, {"index", 0},
                                   {"errorReports", nlohmann::ordered_json::array()}};
  if (!profile_.scheduler_grid) {
    // <=2.40: always 200; a failure is an error report inside (§3.1).
    if (status != JobEngine::ExecuteStatus::Started) {
      report["errorReports"].push_back({{"message", "Failed to execute job: `" + uid + "`"},
                                        {"mainKlass", "org.hisp.dhis.scheduling.JobConfiguration"},
                                        {"errorCode", "E7006"}});
    }
    return json_reply(200, report, true);
  }
  if (status == JobEngine::ExecuteStatus::NotFound) {
    return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  }
  if (status == JobEngine::ExecuteStatus::AlreadyRunning) return web_message(409, "Job is already running.", "E1004");
  if (status == JobEngine::ExecuteStatus::AlreadyRanOnce) return web_message(409, "Job did already run once.", "E1004");
  return json_reply(200, report, true);
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::cancel(const Route& r) {
  const std::string& uid = r.segments[1];
  const auto job = engine_.job(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  if (!has_authority(*r.user, "F_PERFORM_MAINTENANCE") && job->user_id != r.user->id) {
    return web_message(403, "User has no access to JobConfiguration:" + uid, "E1006");
  }
  engine_.cancel(uid);
  return Reply{204, "", "", {}};
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::job_row(const Route& r) {
  const std::string& uid = r.segments[1];
  const auto job = engine_.job_row(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  nlohmann::ordered_json row = {{"id", job->uid},
                                {"name", job->name},
                                {"created", engine_.format_time(job->created)},
                                {"lastUpdated", engine_.format_time(job->last_updated)},
                                {"jobType", job->job_type},
                                {"jobStatus", job->job_status},
                                {"lastExecutedStatus", job->last_executed_status},
                                {"schedulingType", job->scheduling_type},
                                {"enabled", job->enabled},
                                {"configurable", !job->ad_hoc}};
  if (!job->cron_expression.empty()) row["cronExpression"] = job->cron_expression;
  const auto runtime = [](SysTime from, SysTime to) {
    return JobEngine::format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
  };
  if (profile_.scheduler_grid) {
    if (job->last_executed) row["lastExecuted"] = engine_.format_time(*job->last_executed);
    if (job->last_finished) row["lastFinished"] = engine_.format_time(*job->last_finished);
    if (job->last_alive) row["lastAlive"] = engine_.format_time(*job->last_alive);
    if (job->last_executed && job->last_finished && *job->last_finished >= *job->last_executed) {
      row["lastRuntimeExecution"] = runtime(*job->last_executed, *job->last_finished);
    }
    if (!job->user_id.empty()) row["executedBy"] = job->user_id;
  } else if (job->finished_run_started && job->last_finished) {
    row["lastExecuted"] =
        engine_.format_time(profile_.last_executed_is_start ? *job->finished_run_started : *job->last_finished);
    row["lastRuntimeExecution"] = runtime(*job->finished_run_started, *job->last_finished);
  }
  if (!job->parameters.is_null()) row["jobParameters"] = job->parameters;
  const std::string fields = r.req->get_param_value("fields");
  if (!fields.empty() && fields != "*") {
    nlohmann::ordered_json picked = nlohmann::ordered_json::object();
    for (const auto& f : split(fields, ',')) {
      if (row.contains(f)) picked[f] = row[f];
    }
    row = picked;
  }
  return json_reply(200, row, true);
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::job_progress(const Route& r) {
  const std::string& uid = r.segments[1];
  if (!is_uid(uid)) return bad_uid(uid, "uid");
  const auto job = engine_.job_row(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  const bool reads_log = has_authority(*r.user, "F_JOB_LOG_READ");
  if (!reads_log && job->user_id != r.user->id) {
    return web_message(403, "User has no access to JobConfiguration:" + uid, "E1006");
  }
  if (job->progress.is_null()) return Reply{200, "", "", {}};
  nlohmann::json body = job->progress;
  if (!reads_log) body.erase("errors");
  return json_reply(200, body);
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::revert(const Route& r) {
  const std::string& uid = r.segments[1];
  if (!is_uid(uid)) return bad_uid(uid, "uid");
  if (!has_authority(*r.user, "F_PERFORM_MAINTENANCE")) {
    return web_message(403, "User has no access to JobConfiguration:" + uid, "E1006");
  }
  switch (engine_.revert(uid)) {
    case JobEngine::RevertStatus::NotFound:
      return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
    case JobEngine::RevertStatus::NotRunning: return web_message(409, "Job is not running", "E1004");
    case JobEngine::RevertStatus::StillAlive:
      return web_message(409, "Failed to transition job from RUNNING state", "E1004");
    case JobEngine::RevertStatus::Reverted: break;
  }
  return Reply{204, "", "", {}};
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::running(const Route& r) {
  const auto& s = r.segments;
  if (s.size() == 3 && s[2] == "types") {
    nlohmann::json types = nlohmann::json::array();
    for (const auto& job : engine_.running()) {
      if (std::find(types.begin(), types.end(), job.job_type) == types.end()) types.push_back(job.job_type);
    }
    return json_reply(200, types);
  }
  const auto process = [this](const JobInfo& job) {
    return nlohmann::json{{"jobId", job.uid}, {"status", "RUNNING"}, {"description", job.name},
                          {"startedTime", job.last_executed ? engine_.format_time(*job.last_executed) : ""},
                          {"stages", nlohmann::json::array()}};
  };
  if (s.size() == 2) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& job : engine_.running()) out[job.job_type].push_back(process(job));
    return json_reply(200, out);
  }
  if (s.size() != 3) return not_found_page();
  const auto jobs = engine_.running(profile_.canonical_job_type(s[2]));
  if (profile_.scheduler_grid) {
    // 2.41+: a Progress object, or an empty body when none runs (§3.1).
    if (jobs.empty()) return Reply{200, "", "application/json", {}};
    return json_reply(200, engine_.live_progress(jobs.front().uid));
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& job : jobs) list.push_back(process(job));
  return json_reply(200, list);
}

// ---- the feed (§1) ---------------------------------------------------------------------------

DHIS2CPP_INLINE bool FakeServer::gist(const Route& r) const {
  if (!profile_.new_notifier) return false;
  return !r.req->has_param("gist") || dhis2::detail::to_lower(r.req->get_param_value("gist")) != "false";
}

DHIS2CPP_INLINE std::optional<std::string> FakeServer::job_type_of(const std::string& text, Reply& error) const {
  if (profile_.knows_job_type(text)) return profile_.canonical_job_type(text);
  if (profile_.enum_editor_messages) {
    std::string valid;
    for (const auto& t : profile_.job_types) valid += (valid.empty() ? "" : ", ") + t;
    error = web_message(400, "Value '" + text + "' is not valid for path parameter jobType. Valid values are: [" + valid + "]");
  } else {
    error = web_message(400, "No enum constant org.hisp.dhis.scheduling.JobType." + profile_.canonical_job_type(text));
  }
  return std::nullopt;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::tasks_of_type(const Route& r) {
  Reply error;
  const auto type = job_type_of(r.segments[2], error);
  if (!type) return error;
  if (read_on_other_node()) return no_store(json_reply(200, nlohmann::ordered_json::object(), true));
  return no_store(json_reply(200, engine_.overview(*type, gist(r)), true));
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::task_feed(const Route& r) {
  Reply error;
  const auto type = job_type_of(r.segments[2], error);
  if (!type) return error;
  const std::string& uid = r.segments[3];
  if (!is_uid(uid)) {
    if (profile_.new_notifier) return bad_uid(uid, "jobId");
    return notifications_reply({});
  }
  if (read_on_other_node()) return notifications_reply({});
  return notifications_reply(engine_.feed(*type, uid, true));
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::summaries_of_type(const Route& r) {
  Reply error;
  const auto type = job_type_of(r.segments[2], error);
  if (!type) return error;
  if (read_on_other_node()) return no_store(json_reply(200, nlohmann::ordered_json::object(), true));
  return no_store(json_reply(200, engine_.summaries(*type), true));
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::task_summary(const Route& r) {
  Reply error;
  const auto type = job_type_of(r.segments[2], error);
  if (!type) return error;
  const std::string& uid = r.segments[3];
  if (!is_uid(uid) && profile_.new_notifier) return bad_uid(uid, "jobId");
  const auto summary = read_on_other_node() ? std::nullopt : engine_.summary(*type, uid);
  Reply reply;
  reply.headers.emplace_back("Cache-Control", "no-store");
  if (!summary) {
    reply.content_type.clear();  // 200 with an empty body and no content type (§1.1)
    return reply;
  }
  reply.body = summary->dump();
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::delete_tasks(const Route& r) {
  const auto& s = r.segments;
  std::string type;
  if (s.size() >= 3) {
    Reply error;
    const auto known = job_type_of(s[2], error);
    if (!known) return error;
    type = *known;
  }
  std::optional<std::size_t> max_count;
  std::optional<int> max_age;
  if (r.req->has_param("maxCount")) max_count = static_cast<std::size_t>(std::atoi(r.req->get_param_value("maxCount").c_str()));
  if (r.req->has_param("maxAge")) max_age = std::atoi(r.req->get_param_value("maxAge").c_str());
  if (!read_on_other_node()) engine_.clear_notifications(type, s.size() == 4 ? s[3] : std::string(), max_count, max_age);
  return Reply{204, "", "", {}};
}

DHIS2CPP_INLINE bool FakeServer::read_on_other_node() {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (notifier_node_) {
    case NotifierNode::Same: return false;
    case NotifierNode::Other: return true;
    case NotifierNode::Alternating: last_read_on_other_ = !last_read_on_other_; return last_read_on_other_;
  }
  return false;
}

DHIS2CPP_INLINE nlohmann::ordered_json FakeServer::empty_overview() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!profile_.new_notifier) {
    for (const auto& type : profile_.job_types) out[type] = nlohmann::ordered_json::object();
  }
  return out;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::no_store(Reply reply) {
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::notifications_reply(const std::vector<Notification>& rows) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& row : rows) list.push_back(row.to_json());
  Reply reply = json_reply(200, list);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

// ---- replies ---------------------------------------------------------------------------------

template <typename J>
J FakeServer::pick_fields(const J& body, const Request& request) {
  const httplib::Request& req = request.http;
  const std::string fields = req.get_param_value("fields");
  if (fields.empty()) return body;
  std::vector<std::string> names(1);
  int depth = 0;
  for (char c : fields) {
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      names.emplace_back();
    } else if (depth == 0 && c != ']' && c != ')') {
      names.back().push_back(c);
    }
  }
  J picked = J::object();
  for (const auto& name : names) {
    if (name == "*" || name == ":all") return body;
    if (body.contains(name)) picked[name] = body[name];
  }
  return picked;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::json_reply(int status, const nlohmann::json& body) {
  return Reply{status, body.dump(), "application/json;charset=UTF-8", {}};
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::json_reply(int status, const nlohmann::ordered_json& body, bool) {
  return Reply{status, body.dump(), "application/json;charset=UTF-8", {}};
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::text_reply(std::string text) {
  return Reply{200, std::move(text), "text/plain;charset=UTF-8", {{"Cache-Control", "no-store"}}};
}

DHIS2CPP_INLINE nlohmann::ordered_json FakeServer::envelope(int status, const char* web_status,
                                                            const std::string& message) {
  return nlohmann::ordered_json{{"httpStatus", reason(status)}, {"httpStatusCode", status}, {"status", web_status},
                                {"message", message}};
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::web_message(int status, const std::string& message,
                                                         const std::string& error_code) {
  nlohmann::ordered_json body = envelope(status, status < 400 ? "OK" : "ERROR", message);
  if (!error_code.empty()) body["errorCode"] = error_code;
  Reply reply = json_reply(status, body, true);
  if (status >= 400) reply.headers.emplace_back("Cache-Control", "no-cache, private");
  return reply;
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::forbidden(const std::string& authority) {
  return web_message(403, "Access is denied, requires one Authority from [" + authority + "]");
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::bad_uid(const std::string& uid, const char* parameter) const {
  const std::string rule = "UID must be an alphanumeric string of 11 characters starting with a letter, but was: " + uid;
  if (profile_.version.minor == 40) return web_message(400, rule);
  return web_message(400, "Value '" + uid + "' is not valid for path parameter " + parameter + ". " + rule);
}

DHIS2CPP_INLINE FakeServer::Reply FakeServer::not_found_page() {
  return Reply{404,
               "<!doctype html><html lang=\"en\"><head><title>HTTP Status 404 – Not Found</title></head>"
               "<body><h1>HTTP Status 404 – Not Found</h1></body></html>",
               "text/html;charset=utf-8",
               {}};
}

DHIS2CPP_INLINE std::string FakeServer::login_page_html() {
  return "<!DOCTYPE html><html><head><title>DHIS 2 | Login</title></head><body><form id=\"loginForm\" "
         "method=\"post\" action=\"login\"><input id=\"j_username\" name=\"j_username\"/>"
         "<input id=\"j_password\" name=\"j_password\" type=\"password\"/></form></body></html>";
}

DHIS2CPP_INLINE const char* FakeServer::reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

// ---- URLs and small helpers ------------------------------------------------------------------

DHIS2CPP_INLINE std::string FakeServer::request_origin(const Request& request) const {
  const httplib::Request& req = request.http;
  std::string scheme = req.get_header_value("X-Forwarded-Proto");
  if (scheme.empty()) scheme = options_.tls ? "https" : "http";
  std::string host = req.get_header_value("X-Forwarded-Host");
  if (host.empty()) host = req.get_header_value("Host");
  if (host.empty()) host = options_.host + ":" + std::to_string(port_);
  // HttpServletRequestPaths omits ports 80 and 443 (§5.1).
  for (const std::string default_port : {":80", ":443"}) {
    if (host.size() > default_port.size() &&
        host.compare(host.size() - default_port.size(), default_port.size(), default_port) == 0) {
      host.resize(host.size() - default_port.size());
    }
  }
  return scheme + "://" + host;
}

DHIS2CPP_INLINE std::string FakeServer::api_path(const Route& r) const {
  std::string path = request_origin(*r.req) + options_.context_path + "/api";
  if (!r.api_version.empty() && profile_.location_has_api_version) path += "/" + r.api_version;
  return path;
}

DHIS2CPP_INLINE std::vector<std::string> FakeServer::split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto next = text.find(separator, start);
    const std::string part = text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    if (!part.empty()) parts.push_back(part);
    if (next == std::string::npos) break;
    start = next + 1;
  }
  return parts;
}

DHIS2CPP_INLINE bool FakeServer::is_number(const std::string& s) {
  return !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

DHIS2CPP_INLINE bool FakeServer::is_uid(const std::string& s) {
  if (s.size() != 11 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_FAKE_SERVER_IPP
