#ifndef DHIS2_JOBS_API_HPP
#define DHIS2_JOBS_API_HPP

// client.jobs(): start DHIS2 background jobs, cancel them, and free stuck ones. Each start
// returns the TaskRef taken from the server's answer (the job type is never assumed), with the
// kick-off time a watch of it needs (TaskRef::kickoff). A kick-off POST is never retried
// automatically, whatever the RetryPolicy: a retry would start a second job.
// Thread-safe; a JobsApi is a cheap handle that shares its Client's state (it stays valid when
// the Client is moved or destroyed).

#include <dhis2/detail/client_core.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/task_ref.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

struct AnalyticsOptions {
  bool skip_resource_tables = false;
  bool skip_aggregate = false;
  bool skip_events = false;
  bool skip_enrollment = false;
  bool skip_tracked_entities = false;
  bool skip_org_unit_ownership = false;
  bool skip_outliers = false;
  std::optional<int> last_years;  // only the last N years of data
  // On 2.39-2.40 a second analytics run answers 409 "already running": return the running job
  // instead of failing. (2.38 drops it silently; 2.41+ queues it.)
  bool attach_if_running = false;
};

struct PredictionOptions {
  std::string start_date;  // yyyy-MM-dd
  std::string end_date;
  std::vector<std::string> predictors;  // uids; empty with predictor_groups empty: all
  std::vector<std::string> predictor_groups;
};

struct DataIntegrityOptions {
  std::vector<std::string> checks;  // check names; empty: the server's default set
  bool details = false;             // DATA_INTEGRITY_DETAILS instead of the summary run
  bool attach_if_running = false;   // 2.39-2.40: join a running check instead of failing on 409
};

class JobsApi {
 public:
  explicit JobsApi(Client& client);

  // POST /api/resourceTables/analytics.
  TaskRef start_analytics(const AnalyticsOptions& options = {});

  // POST /api/resourceTables.
  TaskRef start_resource_tables(bool attach_if_running = false);

  // POST /api/resourceTables/monitoring.
  TaskRef start_monitoring(bool attach_if_running = false);

  // POST /api/predictions?async=true (without async the server runs them inside the request).
  TaskRef start_predictions(const PredictionOptions& options);

  // POST /api/dataIntegrity/summary or /details.
  TaskRef start_data_integrity(const DataIntegrityOptions& options = {});

  // POST /api/metadata?async=true with a metadata payload.
  TaskRef import_metadata_async(const nlohmann::json& payload, Query params = {});

  // POST /api/dataValueSets?async=true; `content_type` may be JSON, XML, CSV or ADX.
  TaskRef import_data_values_async(const std::string& payload, const std::string& content_type = "application/json",
                                   Query params = {});
  TaskRef import_data_values_async(const nlohmann::json& payload, Query params = {});

  // POST /api/tracker (asynchronous by default). Its envelope has no `created`: the kick-off
  // time is the server's time just before the request.
  TaskRef import_tracker_async(const nlohmann::json& payload, Query params = {});

  // Runs a saved job configuration now: POST /api/jobConfigurations/{uid}/execute. Its previous
  // run's rows stay in the feed until the new run starts (20 s and more on 2.41+, where it also
  // waits for a running job of its type), and its job row keeps the previous run's status. The
  // returned ref's kick-off time sets both apart: the previous run's end plus 1 ms where the row
  // has one (2.41+), else the server's time just before the run was asked for.
  TaskRef execute(const std::string& uid);

  // Asks the server to cancel the job: POST /api/jobConfigurations/{uid}/cancel on 2.41+,
  // /api/scheduling/cancel/{type} before. DHIS2 cancels cooperatively, at the job's next stage:
  // that can take tens of seconds. A TaskWatcher then reports Cancelled, whichever Client or
  // process watches: the outcome comes from the server (the job row, or the <=2.40 final row).
  void cancel(const TaskRef& ref);

  // Frees a job stuck in RUNNING (its node died, say) so that jobs of its type can run again:
  // POST /api/jobConfigurations/{uid}/revert. DHIS2 marks the run FAILED. Needs
  // F_PERFORM_MAINTENANCE. The endpoint exists from 2.41.1 (the wire reference says 2.41.4; the
  // server source has it from 2.41.1); 2.42+ refuses a job seen alive within the last minute
  // (409 "Failed to transition job from RUNNING state"), and every version a job that is not
  // running (409 "Job is not running"). Throws UnsupportedVersionError on older versions.
  void revert(const TaskRef& ref);

 private:
  TaskRef kick_off(const std::string& path, const Query& query, const std::string& body, const std::string& content_type,
                   bool attach_if_running, const std::string& job_type);

  // The server's wall-clock time now (serverDate), or empty when it cannot be read.
  std::optional<LocalTime> server_now();

  // POST /api/jobConfigurations/{uid}/execute; throws ApiError when the server refuses the run.
  void execute_post(const std::string& uid);

  // The job of `job_type` running now (2.39-2.40: /api/scheduling/running/{type} lists them).
  std::optional<TaskRef> find_running(const std::string& job_type);

  friend class Client;
  explicit JobsApi(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/jobs_api.ipp>
#endif

#endif  // DHIS2_JOBS_API_HPP
