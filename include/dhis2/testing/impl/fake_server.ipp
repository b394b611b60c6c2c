#ifndef DHIS2_TESTING_IMPL_FAKE_SERVER_IPP
#define DHIS2_TESTING_IMPL_FAKE_SERVER_IPP

// Definitions of <dhis2/testing/fake_server.hpp>; the emulator's only file that includes
// <httplib.h> (and through it OpenSSL).

#include <dhis2/testing/fake_server.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/http_date.hpp>
#include <dhis2/errors.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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

DHIS2CPP_INLINE FakeServer::FakeServer(FakeServerOptions options)
    : options_(validated(std::move(options))),
      profile_(VersionProfile::of(options_.version)),
      clock_(options_.start_time ? *options_.start_time : default_start()),
      engine_(profile_, clock_, options_.seed, EngineClock{options_.time_zone, options_.job_node_clock_offset}),
      api_(options_, profile_, clock_, engine_),
      impl_(std::make_unique<Impl>()) {
  clock_.set_speed(options_.speed);
  for (std::size_t i = 0; i < options_.users.size(); ++i) {
    if (options_.users[i].id.empty())
      options_.users[i].id = "xE7jOejl9F" + std::string(1, static_cast<char>('a' + i % 26));
  }
  // httplib::Server's constructor sets SIGPIPE to SIG_IGN for the process: put back the host's.
  detail::keeping_sigpipe_disposition([this] {
    if (options_.tls) {
      impl_->server = std::make_unique<httplib::SSLServer>(options_.tls->cert_path.c_str(),
                                                           options_.tls->key_path.c_str());
    } else {
      impl_->server = std::make_unique<httplib::Server>();
    }
  });
  if (!impl_->server->is_valid()) {
    throw Error("FakeServer: cannot load the TLS certificate " + options_.tls->cert_path + " and key " +
                options_.tls->key_path);
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
  api_.set_port(port_);
  listen_in_thread();
}

DHIS2CPP_INLINE void FakeServer::listen_in_thread() {
  // httplib writes with send(..., 0) and SSL_write (write()), so a client that vanished raises
  // SIGPIPE in the writing thread. Every such thread is this one or one of the worker pool it
  // creates (new_task_queue runs in listen_after_bind), and threads inherit the signal mask.
  thread_ = std::thread([this] {
    detail::block_sigpipe_in_this_thread();
    impl_->server->listen_after_bind();
  });
  while (!impl_->server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

DHIS2CPP_INLINE FakeServer::~FakeServer() { stop(); }

DHIS2CPP_INLINE void FakeServer::stop() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_cv_.notify_all();
  impl_->server->stop();
  // Keep-alive connections would otherwise hold the stop for the keep-alive timeout.
  detail::shut_down_accepted(port_, [](int) { return true; });
  if (thread_.joinable()) thread_.join();
}

DHIS2CPP_INLINE void FakeServer::take_down() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_ || down_) return;
    down_ = true;
  }
  stop_cv_.notify_all();  // a delayed answer is never sent
  impl_->server->stop();
  detail::shut_down_accepted(port_, [](int) { return true; });
  if (thread_.joinable()) thread_.join();  // the requests in flight are done
  engine_.restart();
}

DHIS2CPP_INLINE void FakeServer::bring_up() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mutex_);
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopped_ || !down_) return;
  }
  // The old socket is closed; SO_REUSEADDR (httplib's default) lets the port be bound again at
  // once. Another process may have taken it meanwhile: then the server stays down.
  if (!impl_->server->bind_to_port(options_.host.c_str(), port_)) {
    throw Error("FakeServer: cannot listen again on " + options_.host + ":" + std::to_string(port_) +
                " after a restart: the port was taken meanwhile");
  }
  listen_in_thread();
  std::lock_guard<std::mutex> lock(stop_mutex_);
  down_ = false;
}

DHIS2CPP_INLINE void FakeServer::restart(std::chrono::milliseconds downtime) {
  take_down();
  if (downtime.count() > 0) std::this_thread::sleep_for(downtime);
  bring_up();
}

DHIS2CPP_INLINE bool FakeServer::is_down() const {
  std::lock_guard<std::mutex> lock(stop_mutex_);
  return down_;
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

DHIS2CPP_INLINE void FakeServer::set_notifier_node(NotifierNode node) { api_.set_notifier_node(node); }

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
    if ((method.empty() || r.method == method) && glob_match(pattern, api_.strip_context(r.path))) out.push_back(r);
  }
  return out;
}

DHIS2CPP_INLINE void FakeServer::clear_requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
  first_sequence_ = received_ + 1;
}

DHIS2CPP_INLINE int FakeServer::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_.count();
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

// ---- the request pipeline ------------------------------------------------------------------

DHIS2CPP_INLINE void FakeServer::handle(const Request& request, Response& response) {
  const httplib::Request& req = request.http;
  std::uint64_t sequence = 0;
  const std::optional<Fault> fault = record_and_pick_fault(req, sequence);
  bool stopped_during_delay = false;
  if (fault && fault->kind == Fault::Kind::Delay) {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    stopped_during_delay = stop_cv_.wait_for(lock, fault->delay, [this] { return stopped_ || down_; });
  }
  // A server stopped during a delay never answers (stop() must not deliver the response early).
  if (stopped_during_delay || (fault && fault->kind == Fault::Kind::DropBeforeResponse)) {
    const int peer = req.remote_port;
    detail::shut_down_accepted(port_, [peer](int peer_port) { return peer_port == peer; });
    response.http.status = 500;
    return;
  }
  detail::Reply reply = fault ? detail::fault_reply(*fault) : detail::Reply{};
  if (!fault || fault->kind == Fault::Kind::Delay || fault->kind == Fault::Kind::DropMidResponse ||
      fault->kind == Fault::Kind::TruncatedJson) {
    reply = api_.serve(api_request(req));
  }
  if (fault && fault->kind == Fault::Kind::TruncatedJson) reply.body.resize(reply.body.size() / 2);
  if (fault && !fault->retry_after.empty()) reply.headers.emplace_back("Retry-After", fault->retry_after);
  const Written written = write(std::move(reply), fault && fault->kind == Fault::Kind::DropMidResponse, request,
                                response);
  note_response(sequence, written);
}

namespace fake_server {

// Whether an Accept-Encoding value accepts gzip: "gzip", "x-gzip" or "*" with a q above 0.
DHIS2CPP_INLINE bool accepts_gzip(const std::string& accept_encoding) {
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == std::string::npos) end = accept_encoding.size();
    const std::string item = accept_encoding.substr(start, end - start);
    const std::size_t semicolon = item.find(';');
    const std::string coding = dhis2::detail::to_lower(dhis2::detail::trim(std::string_view(item).substr(0, semicolon)));
    if (coding == "gzip" || coding == "x-gzip" || coding == "*") {
      bool refused = false;  // q=0, q=0.0, q=0.000
      if (semicolon != std::string::npos) {
        const std::string params = dhis2::detail::to_lower(item.substr(semicolon + 1));
        const auto q = params.find("q=");
        if (q != std::string::npos) {
          const std::string value(dhis2::detail::trim(std::string_view(params).substr(q + 2)));
          refused = !value.empty() && value.find_first_not_of("0.") == std::string::npos;
        }
      }
      if (!refused) return true;
    }
    start = end + 1;
  }
  return false;
}

// nginx's gzip_min_length default: a shorter body is sent as it is.
constexpr std::size_t kMinCompressedLength = 20;

}  // namespace fake_server

DHIS2CPP_INLINE FakeServer::Written FakeServer::write(detail::Reply reply, bool drop_mid_body, const Request& request,
                                                      Response& response) const {
  httplib::Response& res = response.http;
  res.status = reply.status;
  // Tomcat (and nginx in front of it) dates every answer (RFC 9110 §6.6.1), on the server's
  // clock: here the emulated one. A client may read the server's time from it.
  res.set_header("Date", dhis2::detail::format_http_date(clock_.now()));
  for (const auto& h : reply.headers) res.set_header(h.first, h.second);
  if (reply.body.empty()) {
    if (reply.status != 204) res.set_content(std::string(), reply.content_type.c_str());
    return {};
  }
  Written written;
  if (options_.compress && reply.body.size() >= fake_server::kMinCompressedLength &&
      fake_server::accepts_gzip(request.http.get_header_value("Accept-Encoding"))) {
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
    std::string compressed;
    httplib::detail::gzip_compressor gzip;
    const bool ok = gzip.compress(reply.body.data(), reply.body.size(), true,
                                  [&compressed](const char* data, std::size_t size) {
                                    compressed.append(data, size);
                                    return true;
                                  });
    if (ok) {
      reply.body = std::move(compressed);
      res.set_header("Content-Encoding", "gzip");
      res.set_header("Vary", "Accept-Encoding");
      written.compressed = true;
    }
#endif
  }
  // Always through a content provider of known length: httplib's server compresses a plain body
  // of a text/* or application/json type on its own whenever the request accepts gzip or br,
  // which DHIS2 does not do (and a proxy does only when `compress` says so).
  auto body = std::make_shared<std::string>(std::move(reply.body));
  if (drop_mid_body && body->size() < 2) *body += "  ";
  const std::size_t sent = drop_mid_body ? body->size() / 2 : body->size();
  written.bytes = sent;
  res.set_content_provider(body->size(), reply.content_type,
                           [body, sent](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             if (offset >= sent) return false;  // httplib closes the connection mid-body
                             sink.write(body->data() + offset, sent - offset);
                             return true;
                           });
  return written;
}

DHIS2CPP_INLINE void FakeServer::note_response(std::uint64_t sequence, Written written) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sequence < first_sequence_) return;  // cleared meanwhile
  const auto i = static_cast<std::size_t>(sequence - first_sequence_);
  if (i >= requests_.size()) return;
  requests_[i].response_bytes = written.bytes;
  requests_[i].response_compressed = written.compressed;
}

DHIS2CPP_INLINE std::optional<Fault> FakeServer::record_and_pick_fault(const Request& request, std::uint64_t& sequence) {
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
  record.connection = connections_.id_of(req.remote_addr + ":" + std::to_string(req.remote_port));
  requests_.push_back(std::move(record));
  sequence = ++received_;

  const std::string path = api_.strip_context(req.path);
  for (auto& rule : faults_) {
    if (rule.times == 0) continue;
    if (!rule.method.empty() && rule.method != req.method) continue;
    if (!glob_match(rule.path, path)) continue;
    if (rule.times > 0) --rule.times;
    return rule.fault;
  }
  return std::nullopt;
}

DHIS2CPP_INLINE detail::ApiRequest FakeServer::api_request(const Request& request) {
  const httplib::Request& req = request.http;
  detail::ApiRequest out;
  out.method = req.method;
  out.path = req.path;
  out.params.assign(req.params.begin(), req.params.end());
  out.headers.assign(req.headers.begin(), req.headers.end());
  out.body = req.body;
  return out;
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_FAKE_SERVER_IPP
