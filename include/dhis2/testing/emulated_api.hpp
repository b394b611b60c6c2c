#ifndef DHIS2_TESTING_EMULATED_API_HPP
#define DHIS2_TESTING_EMULATED_API_HPP

// What the emulated DHIS2 answers under /api, without HTTP: the route table (add_routes(), every
// route in one place), authentication, and one handler per route, which reads the JobEngine and
// builds the reply as the version does (../shared/docs/dhis2-wire.md). Internal to the emulator
// (dhis2::testing::detail): FakeServer owns one, hands it each request that no fault answered,
// and writes the Reply it gets back.
//
// Thread safety: serve() may be called from any number of threads at once. The route tables and
// the options are read only; the engine and the clock lock themselves; the notifier node has its
// own mutex (node_mutex_), never held while another lock is taken.

#include <dhis2/detail/config.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/testing/api_request.hpp>
#include <dhis2/testing/authenticator.hpp>
#include <dhis2/testing/clock.hpp>
#include <dhis2/testing/fake_server_options.hpp>
#include <dhis2/testing/job_engine.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/replies.hpp>
#include <dhis2/testing/route_table.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

// A request to /api, parsed: what a route's handler gets.
struct ApiCall {
  const ApiRequest* req = nullptr;
  std::vector<std::string> segments;  // after /api, e.g. {"system", "tasks", "ANALYTICS_TABLE"}
  std::string api_version;            // "41" for /api/41/..., else ""
  const User* user = nullptr;         // null on the routes open without credentials
  PathParams params;                  // the route's {name} segments
};

class EmulatedApi {
 public:
  // Refers to all four, which must outlive it. `options` has its users' ids filled in.
  EmulatedApi(const FakeServerOptions& options, const VersionProfile& profile, const Clock& clock, JobEngine& engine);

  EmulatedApi(const EmulatedApi&) = delete;
  EmulatedApi& operator=(const EmulatedApi&) = delete;

  // The port the server listens on, for the origin of requests without a Host header. Set before
  // the first request.
  void set_port(int port) noexcept;

  // Routes the notifier's reads to the node that runs the jobs, to another one, or alternately.
  void set_notifier_node(NotifierNode node);

  // The reply to a request: the login page, Tomcat's 404, an authentication failure, or a route's.
  Reply serve(const ApiRequest& request);

  // The path after the context path.
  std::string strip_context(const std::string& path) const;

  // The version text /api/system/info reports.
  const std::string& reported_version() const noexcept;

 private:
  void add_routes();

  // ---- system ----------------------------------------------------------------------------------

  Reply login_config(const ApiCall& r) const;
  Reply system_info(const ApiCall& r) const;
  Reply me(const ApiCall& r) const;
  // {"<key>": value}, null for a key the server does not have (SystemSettingController).
  Reply system_setting(const ApiCall& r) const;
  // Only the "default" combination exists; ?filter=name:eq:default finds it.
  Reply category_combos(const ApiCall& r) const;

  // ---- kick-offs (§2) ------------------------------------------------------------------------

  Reply kickoff(const ApiCall& r, const std::string& type, const char* authority, nlohmann::json parameters = nullptr,
                std::optional<std::string> location = std::nullopt, bool location_before_41 = false,
                std::optional<JobScript> script = std::nullopt);
  nlohmann::ordered_json job_configuration_response(const JobInfo& job) const;
  static bool flag(const ApiRequest& req, const char* name);
  nlohmann::json parameters_for(const std::string& type, const ApiRequest& req) const;
  Reply predictions(const ApiCall& r);
  static std::vector<std::string> checks_of(const ApiRequest& req);
  // `bare`: POST /api/dataIntegrity, which <=2.41 runs as a REPORT (§1.5).
  Reply data_integrity_run(const ApiCall& r, const std::string& type, const char* result_path, bool bare);
  static std::vector<std::string> default_checks();
  nlohmann::json integrity_result(const std::vector<std::string>& checks, bool details) const;
  Reply data_integrity_result(const ApiCall& r, const std::string& type);
  Reply imports(const ApiCall& r, const std::string& type, const char* authority);

  // The import report of a metadata payload ({"dataElements": [...], ...}) in which some objects
  // lack the required `name` (E4000), or empty when every object has one (or it is not JSON).
  static std::optional<nlohmann::json> metadata_without_names(const std::string& payload_text);

  // "dataElements" -> "org.hisp.dhis.dataelement.DataElement" (close enough for the common types).
  static std::string metadata_class(std::string plural);

  Reply tracker_import(const ApiCall& r);
  Reply tracker_job(const ApiCall& r, bool report);

  // ---- job control (§3) ----------------------------------------------------------------------

  Reply execute(const ApiCall& r);
  Reply cancel(const ApiCall& r);

  // GET /api/jobConfigurations/{uid} (§3.1, §3.3). 2.41+ rows change in tryStart/tryFinish;
  // <=2.40 rows (saved configurations only) have no lastFinished, and get lastExecuted and
  // lastRuntimeExecution only when a run ends (whenRunIsDone).
  Reply job_row(const ApiCall& r);
  // GET /api/jobConfigurations: the job rows (2.41+: every job, API-started ones included; <=2.40:
  // saved configurations only), as DHIS2's generic metadata list. `fields` as job_row's (default
  // id and displayName); `filter` on id, jobType, jobStatus, lastExecutedStatus or schedulingType
  // with `eq` or `in` (`id:in:[a,b]`), several ANDed (any other filter: 400); paged 50 a page
  // with a `pager` unless `paging=false`, `page` and `pageSize` as given.
  Reply job_rows(const ApiCall& r);
  // A job row as GET /api/jobConfigurations/{uid} shows it, every field.
  nlohmann::ordered_json row_json(const JobInfo& job) const;

  // GET /api/jobConfigurations/{uid}/progress (2.41+, §3.1, §3.3): for a superuser, a holder of
  // F_JOB_LOG_READ or the user who ran the job; `errors` only for the first two. 200 with an
  // empty body while the job has no progress (before its first snapshot).
  Reply job_progress(const ApiCall& r);

  // POST /api/jobConfigurations/{uid}/revert (2.41.1+, §3.1): frees a job stuck in RUNNING.
  Reply revert(const ApiCall& r);

  // POST /api/scheduling/cancel/{jobType}: 204 whether or not one ran.
  Reply cancel_type(const ApiCall& r);

  // GET /api/scheduling/running, .../types and .../{jobType}.
  Reply running(const ApiCall& r);
  Reply running_types(const ApiCall& r);
  Reply running_of_type(const ApiCall& r);

  // The ProcessInfo entries of a running job: its live progress flattened (process_infos). A job
  // that has not started its first process yet is listed from its row, with no stages.
  nlohmann::json running_processes(const JobInfo& job) const;

  // GET /api/scheduling/completed[/] (§3.1): {type: [ProcessInfo...]} of each type's last
  // finished run.
  Reply completed(const ApiCall& r);

  // GET /api/scheduling/completed/{jobType} (§3.1): the last finished run of the type; on 2.41+
  // its Progress (§3.3), or an empty 200 body when none finished; on <=2.40 the array of its
  // processes, [] when none finished. An unknown type is 400 (job_type_of).
  Reply completed_of_type(const ApiCall& r);

  // SchedulingController.ProcessInfo (§3.3): a Progress process flattened to jobId, status,
  // description, startedTime, completedTime, cancelledTime, summary, error (nulls omitted) and
  // stages, each its description plus " [<items>/<totalItems>]" when totalItems > 1.
  static nlohmann::json process_info(const nlohmann::json& process);

  // The ProcessInfo of every process in a Progress's sequence; [] for a null Progress.
  static nlohmann::json process_infos(const nlohmann::json& progress);

  // ---- the feed (§1) ---------------------------------------------------------------------------

  Reply all_tasks(const ApiCall& r);
  bool gist(const ApiCall& r) const;

  // Validates {jobType}; on failure `error` holds the 400 the version sends.
  std::optional<std::string> job_type_of(const std::string& text, Reply& error) const;
  Reply tasks_of_type(const ApiCall& r);
  Reply task_feed(const ApiCall& r);
  Reply summaries_of_type(const ApiCall& r);
  Reply task_summary(const ApiCall& r);
  Reply delete_tasks(const ApiCall& r);

  // Whether this notifier read lands on a node that did not run the jobs (set_notifier_node).
  bool read_on_other_node();

  // GET /api/system/tasks on a node with no notifications: the old map lists every type (§1.1).
  nlohmann::ordered_json empty_overview() const;

  Reply notifications_reply(const std::vector<Notification>& rows) const;

  // ---- URLs and small helpers ------------------------------------------------------------------

  // scheme://host[:port] as the client addressed the server, honouring X-Forwarded-Proto/-Host.
  std::string request_origin(const ApiRequest& req) const;

  // The absolute API root for Location headers: origin, context path, /api, and on <=2.42 the
  // /<n> version segment when the request used one (§2.5).
  std::string api_path(const ApiCall& r) const;

  static bool is_number(const std::string& s);
  static bool is_uid(const std::string& s);

  const FakeServerOptions& options_;
  const VersionProfile& profile_;
  const Clock& clock_;
  JobEngine& engine_;
  Authenticator authenticator_;
  RouteTable<ApiCall> open_routes_;  // answered without credentials
  RouteTable<ApiCall> routes_;
  int port_ = -1;

  std::mutex node_mutex_;
  NotifierNode notifier_node_ = NotifierNode::Same;  // guarded by node_mutex_
  bool last_read_on_other_ = false;                  // for Alternating; guarded by node_mutex_
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/emulated_api.ipp>
#endif

#endif  // DHIS2_TESTING_EMULATED_API_HPP
