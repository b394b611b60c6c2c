#ifndef DHIS2_JOBS_API_HPP
#define DHIS2_JOBS_API_HPP

// client.jobs(): start DHIS2 background jobs, cancel them, and free stuck ones. Each start
// returns the TaskRef taken from the server's answer (the job type is never assumed), with the
// kick-off time a watch of it needs (TaskRef::kickoff). A kick-off POST is never retried
// automatically, whatever the RetryPolicy: a retry would start a second job.
// Thread-safe; a JobsApi is a cheap handle that must not outlive its Client.

#include <dhis2/client.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/web_message.hpp>

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
  std::vector<std::string> predictors;       // uids; empty with predictor_groups empty: all
  std::vector<std::string> predictor_groups;
};

struct DataIntegrityOptions {
  std::vector<std::string> checks;  // check names; empty: the server's default set
  bool details = false;             // DATA_INTEGRITY_DETAILS instead of the summary run
  bool attach_if_running = false;   // 2.39-2.40: join a running check instead of failing on 409
};

class JobsApi {
 public:
  explicit JobsApi(Client& client) : client_(client) {}

  // POST /api/resourceTables/analytics.
  TaskRef start_analytics(const AnalyticsOptions& options = {}) {
    Query query;
    const std::pair<bool, const char*> flags[] = {
        {options.skip_resource_tables, "skipResourceTables"}, {options.skip_aggregate, "skipAggregate"},
        {options.skip_events, "skipEvents"},                  {options.skip_enrollment, "skipEnrollment"},
        {options.skip_tracked_entities, "skipTrackedEntities"},
        {options.skip_org_unit_ownership, "skipOrgUnitOwnership"}, {options.skip_outliers, "skipOutliers"}};
    for (const auto& f : flags) {
      if (f.first) query.emplace_back(f.second, "true");
    }
    if (options.last_years) {
      if (*options.last_years < 1) throw UsageError("AnalyticsOptions::last_years must be at least 1");
      query.emplace_back("lastYears", std::to_string(*options.last_years));
    }
    return kick_off("resourceTables/analytics", query, {}, {}, options.attach_if_running, "ANALYTICS_TABLE");
  }

  // POST /api/resourceTables.
  TaskRef start_resource_tables(bool attach_if_running = false) {
    return kick_off("resourceTables", {}, {}, {}, attach_if_running, "RESOURCE_TABLE");
  }

  // POST /api/resourceTables/monitoring.
  TaskRef start_monitoring(bool attach_if_running = false) {
    return kick_off("resourceTables/monitoring", {}, {}, {}, attach_if_running, "MONITORING");
  }

  // POST /api/predictions?async=true (without async the server runs them inside the request).
  TaskRef start_predictions(const PredictionOptions& options) {
    if (options.start_date.empty() || options.end_date.empty()) {
      throw UsageError("PredictionOptions: start_date and end_date are required (yyyy-MM-dd)");
    }
    Query query = {{"startDate", options.start_date}, {"endDate", options.end_date}, {"async", "true"}};
    for (const auto& p : options.predictors) query.emplace_back("predictor", p);
    for (const auto& g : options.predictor_groups) query.emplace_back("predictorGroup", g);
    return kick_off("predictions", query, {}, {}, false, "PREDICTOR");
  }

  // POST /api/dataIntegrity/summary or /details.
  TaskRef start_data_integrity(const DataIntegrityOptions& options = {}) {
    Query query;
    std::string checks;
    for (const auto& c : options.checks) checks += (checks.empty() ? "" : ",") + c;
    if (!checks.empty()) query.emplace_back("checks", checks);
    const char* type = options.details ? "DATA_INTEGRITY_DETAILS" : "DATA_INTEGRITY";
    return kick_off(options.details ? "dataIntegrity/details" : "dataIntegrity/summary", query, {}, {},
                    options.attach_if_running, type);
  }

  // POST /api/metadata?async=true with a metadata payload.
  TaskRef import_metadata_async(const nlohmann::json& payload, Query params = {}) {
    params.emplace_back("async", "true");
    return kick_off("metadata", params, payload.dump(), "application/json", false, "");
  }

  // POST /api/dataValueSets?async=true; `content_type` may be JSON, XML, CSV or ADX.
  TaskRef import_data_values_async(const std::string& payload, const std::string& content_type = "application/json",
                                   Query params = {}) {
    params.emplace_back("async", "true");
    return kick_off("dataValueSets", params, payload, content_type, false, "");
  }
  TaskRef import_data_values_async(const nlohmann::json& payload, Query params = {}) {
    return import_data_values_async(payload.dump(), "application/json", std::move(params));
  }

  // POST /api/tracker (asynchronous by default). Its envelope has no `created`: the kick-off
  // time is the server's time just before the request.
  TaskRef import_tracker_async(const nlohmann::json& payload, Query params = {}) {
    params.emplace_back("async", "true");
    const auto before = server_now();
    TaskRef ref = kick_off("tracker", params, payload.dump(), "application/json", false, "");
    if (!ref.kickoff) ref.kickoff = before;
    return ref;
  }

  // Runs a saved job configuration now: POST /api/jobConfigurations/{uid}/execute. Its previous
  // run's rows stay in the feed until the new run starts (20 s and more on 2.41+, where it also
  // waits for a running job of its type), and its job row keeps the previous run's status. The
  // returned ref's kick-off time sets both apart: the previous run's end plus 1 ms where the row
  // has one (2.41+), else the server's time just before the run was asked for.
  TaskRef execute(const std::string& uid) {
    nlohmann::json row;
    try {
      row = client_.get_raw("jobConfigurations/" + uid, {{"fields", "id,jobType,lastFinished"}});
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;
      // Unknown uid: let /execute give the server's own answer (404 on 2.41+, E7006 before).
      execute_post(uid);
      throw;
    }
    if (!row.is_object() || !row.contains("jobType") || !row["jobType"].is_string()) {
      throw UnexpectedResponseError("GET /api/jobConfigurations/" + uid + ": the job row has no jobType");
    }
    TaskRef ref{row["jobType"].get<std::string>(), uid};
    if (row.contains("lastFinished") && row["lastFinished"].is_string()) {
      if (const auto previous_end = parse_local_time(row["lastFinished"].get<std::string>())) {
        ref.kickoff = *previous_end + std::chrono::milliseconds(1);
      }
    }
    if (!ref.kickoff) ref.kickoff = server_now();
    execute_post(uid);
    return ref;
  }

  // Asks the server to cancel the job: POST /api/jobConfigurations/{uid}/cancel on 2.41+,
  // /api/scheduling/cancel/{type} before. DHIS2 cancels cooperatively, at the job's next stage:
  // that can take tens of seconds. A TaskWatcher then reports Cancelled, whichever Client or
  // process watches: the outcome comes from the server (the job row, or the <=2.40 final row).
  void cancel(const TaskRef& ref) {
    const auto version = client_.known_version();
    if (!version || *version >= ServerVersion{2, 41, 0, 0, true}) {
      client_.post_raw("jobConfigurations/" + ref.uid + "/cancel");
    } else {
      client_.post_raw("scheduling/cancel/" + ref.job_type);
    }
  }

  // Frees a job stuck in RUNNING (its node died, say) so that jobs of its type can run again:
  // POST /api/jobConfigurations/{uid}/revert. DHIS2 marks the run FAILED. Needs
  // F_PERFORM_MAINTENANCE. The endpoint exists from 2.41.1 (the wire reference says 2.41.4; the
  // server source has it from 2.41.1); 2.42+ refuses a job seen alive within the last minute
  // (409 "Failed to transition job from RUNNING state"), and every version a job that is not
  // running (409 "Job is not running"). Throws UnsupportedVersionError on older versions.
  void revert(const TaskRef& ref) {
    const auto version = client_.known_version();
    if (version && *version < ServerVersion{2, 41, 1, 0, true}) {
      throw UnsupportedVersionError(client_.raw_version(),
                                    "reverting a job needs DHIS2 2.41.1 or later; this server runs " +
                                        client_.raw_version() + ". Wait for DHIS2 to mark the job FAILED (" +
                                        "10 minutes without a heartbeat), or restart the server");
    }
    const std::string path = "jobConfigurations/" + ref.uid + "/revert";
    client_.interpret(client_.send_once("POST", path, {}, {}, {}), "POST", path);
  }

 private:
  TaskRef kick_off(const std::string& path, const Query& query, const std::string& body, const std::string& content_type,
                   bool attach_if_running, const std::string& job_type) {
    const Response response = client_.send_once("POST", path, body, content_type, query);
    if (response.status == 409 && attach_if_running && !job_type.empty()) {
      const auto message = nlohmann::json::parse(response.body, nullptr, false);
      if (message.is_object() && message.value("message", "").find("already running") != std::string::npos) {
        if (auto running = find_running(job_type)) return *running;
      }
    }
    const auto json = client_.interpret(response, "POST", path);
    const auto envelope = WebMessage::from_json(json, "kick-off");
    auto ref = envelope.task_ref();
    if (!ref) {
      throw UnexpectedResponseError("POST " + path + ": the answer names no job (no response.jobType and response.id): " +
                                    envelope.message);
    }
    if (envelope.response.is_object()) {
      const auto created = envelope.response.find("created");
      if (created != envelope.response.end() && created->is_string()) ref->kickoff = parse_local_time(created->get<std::string>());
    }
    return *ref;
  }

  // The server's wall-clock time now (serverDate), or empty when it cannot be read.
  std::optional<LocalTime> server_now() {
    try {
      const auto info = client_.get_raw("system/info", {{"fields", "serverDate"}});
      if (info.is_object() && info.contains("serverDate") && info["serverDate"].is_string()) {
        return parse_local_time(info["serverDate"].get<std::string>());
      }
    } catch (const ApiError&) {
    } catch (const TransportError&) {
    } catch (const UnexpectedResponseError&) {
    }
    return std::nullopt;
  }

  // POST /api/jobConfigurations/{uid}/execute; throws ApiError when the server refuses the run.
  void execute_post(const std::string& uid) {
    const Response response = client_.send_once("POST", "jobConfigurations/" + uid + "/execute", {}, {}, {});
    const auto report = client_.interpret(response, "POST", "jobConfigurations/" + uid + "/execute");
    // <=2.40 answers 200 with the failure inside the ObjectReport (E7006).
    if (report.is_object() && report.contains("errorReports") && report["errorReports"].is_array() &&
        !report["errorReports"].empty()) {
      const auto& first = report["errorReports"][0];
      throw ApiError(response.status, first.value("message", "the job could not be executed"), first.value("errorCode", ""),
                     nullptr, "POST /api/jobConfigurations/" + uid + "/execute");
    }
  }

  // The job of `job_type` running now (2.39-2.40: /api/scheduling/running/{type} lists them).
  std::optional<TaskRef> find_running(const std::string& job_type) {
    const auto running = client_.get_raw("scheduling/running/" + job_type);
    if (running.is_array()) {
      for (const auto& process : running) {
        if (process.is_object() && process.contains("jobId") && process["jobId"].is_string()) {
          return TaskRef{job_type, process["jobId"].get<std::string>()};
        }
      }
    }
    return std::nullopt;
  }

  Client& client_;
};

inline JobsApi Client::jobs() { return JobsApi(*this); }

}  // namespace dhis2

#endif  // DHIS2_JOBS_API_HPP
