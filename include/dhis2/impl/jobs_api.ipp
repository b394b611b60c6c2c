#ifndef DHIS2_IMPL_JOBS_API_IPP
#define DHIS2_IMPL_JOBS_API_IPP

// Definitions of <dhis2/jobs_api.hpp>.

#include <dhis2/jobs_api.hpp>

#include <dhis2/client.hpp>  // detail::core_of, defined with the Client

#include <dhis2/response.hpp>
#include <dhis2/server_version.hpp>
#include <dhis2/web_message.hpp>

#include <chrono>
#include <utility>

namespace dhis2 {

DHIS2CPP_INLINE JobsApi::JobsApi(Client& client) : core_(detail::live_core_of(client, "JobsApi")) {}

DHIS2CPP_INLINE TaskRef JobsApi::start_analytics(const AnalyticsOptions& options) {
  Query query;
  const std::pair<bool, const char*> flags[] = {{options.skip_resource_tables, "skipResourceTables"},
                                                {options.skip_aggregate, "skipAggregate"},
                                                {options.skip_events, "skipEvents"},
                                                {options.skip_enrollment, "skipEnrollment"},
                                                {options.skip_tracked_entities, "skipTrackedEntities"},
                                                {options.skip_org_unit_ownership, "skipOrgUnitOwnership"},
                                                {options.skip_outliers, "skipOutliers"}};
  for (const auto& f : flags) {
    if (f.first) query.emplace_back(f.second, "true");
  }
  if (options.last_years) {
    if (*options.last_years < 1) throw UsageError("AnalyticsOptions::last_years must be at least 1");
    query.emplace_back("lastYears", std::to_string(*options.last_years));
  }
  return kick_off("resourceTables/analytics", query, {}, {}, options.attach_if_running, "ANALYTICS_TABLE");
}

DHIS2CPP_INLINE TaskRef JobsApi::start_resource_tables(bool attach_if_running) {
  return kick_off("resourceTables", {}, {}, {}, attach_if_running, "RESOURCE_TABLE");
}

DHIS2CPP_INLINE TaskRef JobsApi::start_monitoring(bool attach_if_running) {
  return kick_off("resourceTables/monitoring", {}, {}, {}, attach_if_running, "MONITORING");
}

DHIS2CPP_INLINE TaskRef JobsApi::start_predictions(const PredictionOptions& options) {
  if (options.start_date.empty() || options.end_date.empty()) {
    throw UsageError("PredictionOptions: start_date and end_date are required (yyyy-MM-dd)");
  }
  Query query = {{"startDate", options.start_date}, {"endDate", options.end_date}, {"async", "true"}};
  for (const auto& p : options.predictors) query.emplace_back("predictor", p);
  for (const auto& g : options.predictor_groups) query.emplace_back("predictorGroup", g);
  return kick_off("predictions", query, {}, {}, false, "PREDICTOR");
}

DHIS2CPP_INLINE TaskRef JobsApi::start_data_integrity(const DataIntegrityOptions& options) {
  Query query;
  std::string checks;
  for (const auto& c : options.checks) checks += (checks.empty() ? "" : ",") + c;
  if (!checks.empty()) query.emplace_back("checks", checks);
  const char* type = options.details ? "DATA_INTEGRITY_DETAILS" : "DATA_INTEGRITY";
  return kick_off(options.details ? "dataIntegrity/details" : "dataIntegrity/summary", query, {}, {},
                  options.attach_if_running, type);
}

DHIS2CPP_INLINE TaskRef JobsApi::import_metadata_async(const nlohmann::json& payload, Query params) {
  params.emplace_back("async", "true");
  return kick_off("metadata", params, payload.dump(), "application/json", false, "");
}

DHIS2CPP_INLINE TaskRef JobsApi::import_data_values_async(const std::string& payload, const std::string& content_type,
                                                          Query params) {
  params.emplace_back("async", "true");
  return kick_off("dataValueSets", params, payload, content_type, false, "");
}
DHIS2CPP_INLINE TaskRef JobsApi::import_data_values_async(const nlohmann::json& payload, Query params) {
  return import_data_values_async(payload.dump(), "application/json", std::move(params));
}

DHIS2CPP_INLINE TaskRef JobsApi::import_tracker_async(const nlohmann::json& payload, Query params) {
  params.emplace_back("async", "true");
  const auto before = server_now();
  TaskRef ref = kick_off("tracker", params, payload.dump(), "application/json", false, "");
  if (!ref.kickoff) ref.kickoff = before;
  return ref;
}

DHIS2CPP_INLINE TaskRef JobsApi::execute(const std::string& uid) {
  nlohmann::json row;
  try {
    row = core_->get_json("jobConfigurations/" + uid, {{"fields", "id,jobType,lastFinished"}});
  } catch (const ApiError& e) {
    if (e.status() != 404) throw;
    // Unknown uid: let /execute give the server's own answer (404 on 2.41+, E7006 before).
    execute_post(uid);
    // It ran after all (a configuration this user may run but not read): say so, not "404".
    throw UnexpectedResponseError("POST /api/jobConfigurations/" + uid +
                                      "/execute started the job, but GET "
                                      "/api/jobConfigurations/" +
                                      uid +
                                      " answered 404, so its job type is unknown; "
                                      "find the run in /api/scheduling/running and watch it as JOB_TYPE/" +
                                      uid,
                                  404);
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

DHIS2CPP_INLINE void JobsApi::cancel(const TaskRef& ref) {
  core_->ensure_connected();
  const auto version = core_->known_version();
  if (!version || *version >= ServerVersion{2, 41, 0, 0, true}) {
    core_->request_json("POST", "jobConfigurations/" + ref.uid + "/cancel", {}, "application/json", {});
  } else {
    core_->request_json("POST", "scheduling/cancel/" + ref.job_type, {}, "application/json", {});
  }
}

DHIS2CPP_INLINE void JobsApi::revert(const TaskRef& ref) {
  core_->ensure_connected();
  const auto version = core_->known_version();
  if (version && *version < ServerVersion{2, 41, 1, 0, true}) {
    throw UnsupportedVersionError(core_->raw_version(), "reverting a job needs DHIS2 2.41.1 or later; this server runs " +
                                                            core_->raw_version() +
                                                            ". Wait for DHIS2 to mark the job FAILED (" +
                                                            "10 minutes without a heartbeat), or restart the server");
  }
  const std::string path = "jobConfigurations/" + ref.uid + "/revert";
  core_->interpret(core_->send("POST", path, {}, {}, {}, nullptr, false), "POST", path);
}

DHIS2CPP_INLINE TaskRef JobsApi::kick_off(const std::string& path, const Query& query, const std::string& body,
                                          const std::string& content_type, bool attach_if_running,
                                          const std::string& job_type) {
  const Response response = core_->send("POST", path, body, content_type, query, nullptr, false);
  if (response.status == 409 && attach_if_running && !job_type.empty()) {
    const auto message = nlohmann::json::parse(response.body, nullptr, false);
    if (message.is_object() && message.value("message", "").find("already running") != std::string::npos) {
      if (auto running = find_running(job_type)) return *running;
    }
  }
  const auto json = core_->interpret(response, "POST", path);
  const auto envelope = WebMessage::from_json(json, "kick-off");
  auto ref = envelope.task_ref();
  if (!ref) {
    throw UnexpectedResponseError("POST " + path +
                                  ": the answer names no job (no response.jobType and response.id): " + envelope.message);
  }
  if (envelope.response.is_object()) {
    const auto created = envelope.response.find("created");
    if (created != envelope.response.end() && created->is_string())
      ref->kickoff = parse_local_time(created->get<std::string>());
  }
  return *ref;
}

DHIS2CPP_INLINE std::optional<LocalTime> JobsApi::server_now() {
  try {
    const auto info = core_->get_json("system/info", {{"fields", "serverDate"}});
    if (info.is_object() && info.contains("serverDate") && info["serverDate"].is_string()) {
      return parse_local_time(info["serverDate"].get<std::string>());
    }
  } catch (const ApiError&) {
  } catch (const TransportError&) {
  } catch (const UnexpectedResponseError&) {
  }
  return std::nullopt;
}

DHIS2CPP_INLINE void JobsApi::execute_post(const std::string& uid) {
  const Response response = core_->send("POST", "jobConfigurations/" + uid + "/execute", {}, {}, {}, nullptr, false);
  const auto report = core_->interpret(response, "POST", "jobConfigurations/" + uid + "/execute");
  // <=2.40 answers 200 with the failure inside the ObjectReport (E7006).
  if (report.is_object() && report.contains("errorReports") && report["errorReports"].is_array() &&
      !report["errorReports"].empty()) {
    const auto& first = report["errorReports"][0];
    throw ApiError(response.status, first.value("message", "the job could not be executed"), first.value("errorCode", ""),
                   nullptr, "POST /api/jobConfigurations/" + uid + "/execute", &response);
  }
}

DHIS2CPP_INLINE std::optional<TaskRef> JobsApi::find_running(const std::string& job_type) {
  const auto running = core_->get_json("scheduling/running/" + job_type);
  if (running.is_array()) {
    for (const auto& process : running) {
      if (process.is_object() && process.contains("jobId") && process["jobId"].is_string()) {
        return TaskRef{job_type, process["jobId"].get<std::string>()};
      }
    }
  }
  return std::nullopt;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_JOBS_API_IPP
