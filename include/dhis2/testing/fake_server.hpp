#ifndef DHIS2_TESTING_FAKE_SERVER_HPP
#define DHIS2_TESTING_FAKE_SERVER_HPP

// dhis2::testing::FakeServer: an in-process DHIS2 on a loopback port, behaving as the chosen
// server version does on the wire (../shared/docs/dhis2-wire.md): system info, /me, ping, auth
// (Basic, personal access tokens with the real checksum rule, bearer tokens, the 401 and login
// redirect behaviours), job kick-offs and their envelopes, the notification feed, task summaries,
// job rows, cancellation, and the stale-job rule. Job timelines run on a clock the test drives.
//
// Thread safety: every member function may be called from any thread while the server runs.
// The destructor stops the server and waits for its threads. Linux only (it closes accepted
// sockets through /proc/self/fd for the drop faults and a prompt stop), and it ignores SIGPIPE in
// the process, as servers do, so that a client hanging up cannot kill it.

#include <dhis2/detail/config.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/testing/clock.hpp>
#include <dhis2/testing/faults.hpp>
#include <dhis2/testing/job_engine.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/time_zone.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

struct User {
  User() = default;
  User(std::string name, std::string pass, std::vector<std::string> granted = {"ALL"})
      : username(std::move(name)), password(std::move(pass)), authorities(std::move(granted)) {}

  std::string username;
  std::string password;
  std::vector<std::string> authorities = {"ALL"};  // "ALL" makes a superuser
  std::string id;                                  // generated when empty
  std::string first_name = "John";
  std::string surname = "Traore";
  bool disabled = false;
};

// A personal access token (or, in FakeServerOptions::bearer_tokens, an OAuth2 access token)
// and the user it authenticates.
struct IssuedToken {
  IssuedToken() = default;
  IssuedToken(std::string value, std::string user, bool is_expired = false)
      : token(std::move(value)), username(std::move(user)), expired(is_expired) {}

  std::string token;
  std::string username;
  bool expired = false;
};

struct TlsFiles {
  std::string cert_path;
  std::string key_path;
};

struct FakeServerOptions {
  std::string version = "2.42.1";  // any of 2.38 to 2.43, e.g. 2.40.7, 2.41.4, 2.43.1
  // What /api/system/info and /api/loginConfig report, when it should differ from `version`
  // (to test a client against 2.37, 2.44, "2.43-SNAPSHOT" or garbage). The behaviour stays `version`'s.
  std::string reported_version;
  std::string host = "127.0.0.1";
  int port = 0;                    // 0: an ephemeral port
  std::string context_path;        // "" or e.g. "/dhis": the API is then at /dhis/api
  std::optional<TlsFiles> tls;     // HTTPS with this certificate and key
  std::vector<User> users = {User{"admin", "district"}};
  std::vector<IssuedToken> tokens;         // personal access tokens
  std::vector<IssuedToken> bearer_tokens;  // OAuth2/OIDC access tokens (Authorization: Bearer)
  double speed = 0;                // the clock: 0 stands still until advanced, 1 real time, N faster
  std::optional<std::chrono::system_clock::time_point> start_time;  // default: now, to the second
  // System settings served at /api/systemSettings/{key}; an absent key reads as null.
  std::map<std::string, nlohmann::json> settings = {{"keyUiLocale", "en"}, {"applicationTitle", "DHIS 2"}};
  std::string default_category_combo = "bjDvmb4bfuf";  // the uid of the "default" category combo
  std::chrono::seconds keep_alive_timeout{5};
  std::uint64_t seed = 20240520;   // job and notification ids are reproducible for a seed
  // The server's zone: every time it writes is wall-clock time there (serverTimeZoneId). Give it
  // changes to put a daylight-saving change in the middle of a job.
  ServerTimeZone time_zone = ServerTimeZone::utc();
  // How far the clock of the node that runs jobs (and writes their notifications) is off the
  // node that answers kick-offs: cluster skew (a job's rows can then be older than its `created`).
  std::chrono::milliseconds job_node_clock_offset{0};
};

// Which node of a cluster answers the notifier's reads (tasks, task summaries, tracker job
// feeds). Without Redis every node keeps its own notifications, so a node that did not run the
// job answers [] and empty summaries while the job rows (in the database) are shared (§1.4).
enum class NotifierNode {
  Same,        // the node that runs the jobs (a single server, or a cluster with Redis)
  Other,       // a node that runs none of them
  Alternating  // a load balancer sending each read to the other node than the last one
};

class FakeServer {
 public:
  explicit FakeServer(FakeServerOptions options = {});

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  ~FakeServer();

  // Stops serving; idempotent. Open connections are closed.
  void stop();

  // "http://127.0.0.1:PORT" plus the context path; https with TLS.
  std::string url() const { return origin() + options_.context_path; }
  // "http://127.0.0.1:PORT", without the context path.
  std::string origin() const;
  int port() const noexcept { return port_; }
  const VersionProfile& profile() const noexcept { return profile_; }
  const FakeServerOptions& options() const noexcept { return options_; }
  // The version text /api/system/info reports.
  const std::string& reported_version() const noexcept {
    return options_.reported_version.empty() ? profile_.version_text : options_.reported_version;
  }

  // The emulated clock: advance it, or set its speed.
  Clock& clock() noexcept { return clock_; }
  // Moves the clock forward and runs every job step that falls due.
  void advance(std::chrono::milliseconds by);

  // ---- jobs ------------------------------------------------------------------------------------

  // The next job of `job_type` that a kick-off starts runs `script` (each script once, in order).
  void script_next(const std::string& job_type, JobScript script) { engine_.script_next(job_type, std::move(script)); }
  // Every later job of `job_type` runs `script` unless script_next() queued another.
  void set_default_script(const std::string& job_type, JobScript script) {
    engine_.set_default_script(job_type, std::move(script));
  }
  // Starts a job as a kick-off would, without HTTP; returns its id.
  std::string start_job(const std::string& job_type, JobScript script,
                        nlohmann::json parameters = nlohmann::json::object());
  // A saved job configuration, run by POST /api/jobConfigurations/{uid}/execute.
  void add_job_configuration(const std::string& uid, const std::string& job_type, JobScript script,
                             const std::string& name = {});
  // The script a saved configuration runs from its next run on.
  void set_configuration_script(const std::string& uid, JobScript script) {
    engine_.set_configuration_script(uid, std::move(script));
  }
  std::optional<JobInfo> job(const std::string& uid) { return engine_.job(uid); }
  // Routes the notifier's reads to the node that runs the jobs, to another one, or alternately.
  void set_notifier_node(NotifierNode node);
  std::vector<JobInfo> jobs() { return engine_.jobs(); }
  JobEngine& engine() noexcept { return engine_; }

  // ---- faults and the request log ------------------------------------------------------------

  void inject(FaultRule rule);
  void inject(const std::string& method, const std::string& path, Fault fault, int times = 1) {
    inject(FaultRule{method, path, std::move(fault), times});
  }
  void clear_faults();

  std::vector<RecordedRequest> requests() const;
  // The requests whose path (after the context path) matches `pattern` ('*' wildcards).
  std::vector<RecordedRequest> requests_to(const std::string& pattern, const std::string& method = {}) const;
  void clear_requests();
  // How many TCP connections the emulator has accepted so far.
  int connection_count() const;

 private:
  struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json;charset=UTF-8";
    std::vector<std::pair<std::string, std::string>> headers;
  };
  // No httplib type shows here: only the definitions (<dhis2/testing/impl/fake_server.ipp>)
  // include <httplib.h>, so that a compiled-mode user's files never compile it.
  struct Impl;      // the httplib server
  struct Request;   // refers to the httplib request being handled (converts from it)
  struct Response;  // refers to the httplib response being written
  struct Route;     // a request to /api, parsed

  static FakeServerOptions validated(FakeServerOptions o);
  static std::chrono::system_clock::time_point default_start();
  static void ignore_sigpipe();

  // Shuts down the accepted sockets of this server for which `select(local_port, peer_port)` is
  // true. httplib does not hand out its sockets, so they are found by their addresses.
  void close_connections(const std::function<bool(int, int)>& select) const;
  static int port_of(const sockaddr_storage& address);
  std::string strip_context(const std::string& path) const;

  // ---- the request pipeline ------------------------------------------------------------------

  void handle(const Request& request, Response& response);
  std::optional<Fault> record_and_pick_fault(const Request& request);
  Reply faulty_reply(const Fault& fault, const Request& request) const;
  Reply serve(const Request& request);

  // ---- authentication (§6) ---------------------------------------------------------------------

  const User* authenticate(const Request& request, Reply& failure) const;
  const User* authenticate_token(const std::string& token, Reply& failure) const;
  const User* find_user(const std::string& name) const;
  static bool has_authority(const User& user, const std::string& authority);

  // ---- routing -------------------------------------------------------------------------------

  Reply dispatch(const Route& r);

  // ---- system ----------------------------------------------------------------------------------

  Reply system_info(const Route& r) const;
  Reply me(const Route& r) const;

  // {"<key>": value}, null for a key the server does not have (SystemSettingController).
  Reply system_setting(const std::string& key) const;

  // Only the "default" combination exists; ?filter=name:eq:default finds it.
  Reply category_combos(const Route& r) const;

  // ---- kick-offs (§2) ------------------------------------------------------------------------

  Reply kickoff(const Route& r, const std::string& type, const char* authority, nlohmann::json parameters = nullptr,
                std::optional<std::string> location = std::nullopt, bool location_before_41 = false,
                std::optional<JobScript> script = std::nullopt);
  nlohmann::ordered_json job_configuration_response(const JobInfo& job) const;
  static bool flag(const Request& request, const char* name);
  nlohmann::json parameters_for(const std::string& type, const Request& request) const;
  Reply predictions(const Route& r);
  static std::vector<std::string> checks_of(const Request& request);
  Reply data_integrity_run(const Route& r, const std::string& type, const char* result_path);
  static bool s_is_bare_integrity(const Route& r);
  static std::vector<std::string> default_checks();
  nlohmann::json integrity_result(const std::vector<std::string>& checks, bool details) const;
  Reply data_integrity_result(const Route& r, const std::string& type);
  Reply imports(const Route& r, const std::string& type, const char* authority);

  // The import report of a metadata payload ({"dataElements": [...], ...}) in which some objects
  // lack the required `name` (E4000), or empty when every object has one (or it is not JSON).
  static std::optional<nlohmann::json> metadata_without_names(const std::string& payload_text);

  // "dataElements" -> "org.hisp.dhis.dataelement.DataElement" (close enough for the common types).
  static std::string metadata_class(std::string plural);

  Reply tracker_import(const Route& r);
  Reply tracker_job(const Route& r, bool report);

  // ---- job control (§3) ----------------------------------------------------------------------

  Reply execute(const Route& r);
  Reply cancel(const Route& r);

  // GET /api/jobConfigurations/{uid} (§3.1, §3.3). 2.41+ rows change in tryStart/tryFinish;
  // <=2.40 rows (saved configurations only) have no lastFinished, and get lastExecuted and
  // lastRuntimeExecution only when a run ends (whenRunIsDone).
  Reply job_row(const Route& r);

  // GET /api/jobConfigurations/{uid}/progress (2.41+, §3.1, §3.3): for a superuser, a holder of
  // F_JOB_LOG_READ or the user who ran the job; `errors` only for the first two. 200 with an
  // empty body while the job has no progress (before its first snapshot).
  Reply job_progress(const Route& r);

  // POST /api/jobConfigurations/{uid}/revert (2.41.1+, §3.1): frees a job stuck in RUNNING.
  Reply revert(const Route& r);

  Reply running(const Route& r);

  // ---- the feed (§1) ---------------------------------------------------------------------------

  bool gist(const Route& r) const;

  // Validates {jobType}; on failure `error` holds the 400 the version sends.
  std::optional<std::string> job_type_of(const std::string& text, Reply& error) const;
  Reply tasks_of_type(const Route& r);
  Reply task_feed(const Route& r);
  Reply summaries_of_type(const Route& r);
  Reply task_summary(const Route& r);
  Reply delete_tasks(const Route& r);

  // Whether this notifier read lands on a node that did not run the jobs (set_notifier_node).
  bool read_on_other_node();

  // GET /api/system/tasks on a node with no notifications: the old map lists every type (§1.1).
  nlohmann::ordered_json empty_overview() const;

  // SystemController answers every GET with Cache-Control: no-store (§1).
  static Reply no_store(Reply reply);

  Reply notifications_reply(const std::vector<Notification>& rows) const;

  // ---- replies ---------------------------------------------------------------------------------

  // ?fields= on the top level (§5.1, §5.2): absent, "*" or ":all" keep everything; "a,b[c,d]"
  // keeps a and b (b whole: nested selections are not narrowed). Defined with the definitions,
  // the only code that uses it.
  template <typename J>
  static J pick_fields(const J& body, const Request& request);

  static Reply json_reply(int status, const nlohmann::json& body);
  static Reply json_reply(int status, const nlohmann::ordered_json& body, bool);
  static Reply text_reply(std::string text);
  static nlohmann::ordered_json envelope(int status, const char* web_status, const std::string& message);
  static Reply web_message(int status, const std::string& message, const std::string& error_code = {});
  static Reply forbidden(const std::string& authority);
  Reply bad_uid(const std::string& uid, const char* parameter) const;
  static Reply not_found_page();
  static std::string login_page_html();
  static const char* reason(int status);

  // ---- URLs and small helpers ------------------------------------------------------------------

  // scheme://host[:port] as the client addressed the server, honouring X-Forwarded-Proto/-Host.
  std::string request_origin(const Request& request) const;

  // The absolute API root for Location headers: origin, context path, /api, and on <=2.42 the
  // /<n> version segment when the request used one (§2.5).
  std::string api_path(const Route& r) const;

  static std::vector<std::string> split(const std::string& text, char separator = '/');
  static bool is_number(const std::string& s);
  static bool is_uid(const std::string& s);

  FakeServerOptions options_;
  VersionProfile profile_;
  Clock clock_;
  JobEngine engine_;
  NotifierNode notifier_node_ = NotifierNode::Same;  // guarded by mutex_
  bool last_read_on_other_ = false;                   // for Alternating; guarded by mutex_
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = -1;

  mutable std::mutex mutex_;  // faults, requests, connections
  std::vector<FaultRule> faults_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, int> connections_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/fake_server.ipp>
#endif

#endif  // DHIS2_TESTING_FAKE_SERVER_HPP
