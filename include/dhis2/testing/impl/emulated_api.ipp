#ifndef DHIS2_TESTING_IMPL_EMULATED_API_IPP
#define DHIS2_TESTING_IMPL_EMULATED_API_IPP

// Definitions of <dhis2/testing/emulated_api.hpp>.

#include <dhis2/testing/emulated_api.hpp>

#include <dhis2/detail/ascii.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE EmulatedApi::EmulatedApi(const FakeServerOptions& options, const VersionProfile& profile,
                                         const Clock& clock, JobEngine& engine)
    : options_(options), profile_(profile), clock_(clock), engine_(engine), authenticator_(options, profile) {
  add_routes();
}

// Every route of /api, in the order they are tried. {name} segments reach the handler as
// r.params.at("name"). A route whose last argument is false does not exist in this version.
DHIS2CPP_INLINE void EmulatedApi::add_routes() {
  const auto to = [this](auto member) { return [this, member](const ApiCall& r) { return (this->*member)(r); }; };
  const std::vector<std::string> get = {"GET"}, post = {"POST"}, post_or_put = {"POST", "PUT"}, del = {"DELETE"};
  const auto kickoff_of = [this](const char* type, const char* authority) {
    return [this, type, authority](const ApiCall& r) { return kickoff(r, type, authority); };
  };

  // Reachable without credentials (dhis2-wire.md §5.3).
  open_routes_.add(get, "ping",
                   [](const ApiCall&) {
                     return Reply{200, "", "text/plain", {}};
                   })
      .add(get, "loginConfig", to(&EmulatedApi::login_config), profile_.scheduler_grid);

  routes_
      // system
      .add(get, "system/info", to(&EmulatedApi::system_info))
      .add(get, "system/ping", [](const ApiCall&) { return text_reply("pong"); })
      .add(get, "me", to(&EmulatedApi::me))
      .add(get, "systemSettings/{key}", to(&EmulatedApi::system_setting))
      .add(get, "categoryCombos", to(&EmulatedApi::category_combos))
      // kick-offs (§2)
      .add(post_or_put, "resourceTables/analytics", kickoff_of("ANALYTICS_TABLE", "F_PERFORM_MAINTENANCE"))
      .add(post_or_put, "resourceTables", kickoff_of("RESOURCE_TABLE", "F_PERFORM_MAINTENANCE"))
      .add(post_or_put, "resourceTables/monitoring", kickoff_of("MONITORING", "F_PERFORM_MAINTENANCE"))
      .add(post_or_put, "predictions", to(&EmulatedApi::predictions))
      .add(post, "dataIntegrity",
           [this](const ApiCall& r) { return data_integrity_run(r, "DATA_INTEGRITY", "details", true); })
      .add(post, "dataIntegrity/summary",
           [this](const ApiCall& r) { return data_integrity_run(r, "DATA_INTEGRITY", "summary", false); })
      .add(post, "dataIntegrity/details",
           [this](const ApiCall& r) { return data_integrity_run(r, "DATA_INTEGRITY_DETAILS", "details", false); })
      .add(get, "dataIntegrity/summary", [this](const ApiCall& r) { return data_integrity_result(r, "DATA_INTEGRITY"); })
      .add(get, "dataIntegrity/details",
           [this](const ApiCall& r) { return data_integrity_result(r, "DATA_INTEGRITY_DETAILS"); })
      .add(post, "metadata", [this](const ApiCall& r) { return imports(r, "METADATA_IMPORT", ""); })
      .add(post, "dataValueSets", [this](const ApiCall& r) { return imports(r, "DATAVALUE_IMPORT", "F_DATAVALUE_ADD"); })
      .add(post, "tracker", to(&EmulatedApi::tracker_import))
      .add(get, "tracker/jobs/{uid}", [this](const ApiCall& r) { return tracker_job(r, false); })
      .add(get, "tracker/jobs/{uid}/report", [this](const ApiCall& r) { return tracker_job(r, true); })
      // job control (§3)
      .add(post, "jobConfigurations/{uid}/execute", to(&EmulatedApi::execute))
      .add(post, "jobConfigurations/{uid}/cancel", to(&EmulatedApi::cancel), profile_.scheduler_grid)
      .add(post, "jobConfigurations/{uid}/revert", to(&EmulatedApi::revert), profile_.revert)
      .add(get, "jobConfigurations/{uid}/progress", to(&EmulatedApi::job_progress), profile_.progress_endpoint)
      .add(get, "jobConfigurations", to(&EmulatedApi::job_rows))
      .add(get, "jobConfigurations/{uid}", to(&EmulatedApi::job_row))
      .add(post, "scheduling/cancel/{jobType}", to(&EmulatedApi::cancel_type))
      .add(get, "scheduling/running", to(&EmulatedApi::running))
      .add(get, "scheduling/running/types", to(&EmulatedApi::running_types))
      .add(get, "scheduling/running/{jobType}", to(&EmulatedApi::running_of_type))
      .add(get, "scheduling/completed", to(&EmulatedApi::completed))
      .add(get, "scheduling/completed/{jobType}", to(&EmulatedApi::completed_of_type))
      // the feed (§1)
      .add(get, "system/tasks", to(&EmulatedApi::all_tasks))
      .add(get, "system/tasks/{jobType}", to(&EmulatedApi::tasks_of_type))
      .add(get, "system/tasks/{jobType}/{uid}", to(&EmulatedApi::task_feed))
      .add(get, "system/taskSummaries/{jobType}", to(&EmulatedApi::summaries_of_type))
      .add(get, "system/taskSummaries/{jobType}/{uid}", to(&EmulatedApi::task_summary))
      .add(del, "system/tasks", to(&EmulatedApi::delete_tasks), profile_.new_notifier)
      .add(del, "system/tasks/{jobType}", to(&EmulatedApi::delete_tasks), profile_.new_notifier)
      .add(del, "system/tasks/{jobType}/{uid}", to(&EmulatedApi::delete_tasks), profile_.new_notifier);
}

DHIS2CPP_INLINE void EmulatedApi::set_port(int port) noexcept { port_ = port; }

DHIS2CPP_INLINE void EmulatedApi::set_notifier_node(NotifierNode node) {
  std::lock_guard<std::mutex> lock(node_mutex_);
  notifier_node_ = node;
}

DHIS2CPP_INLINE std::string EmulatedApi::strip_context(const std::string& path) const {
  const auto& ctx = options_.context_path;
  if (!ctx.empty() && path.compare(0, ctx.size(), ctx) == 0) return path.substr(ctx.size());
  return path;
}

DHIS2CPP_INLINE Reply EmulatedApi::serve(const ApiRequest& request) {
  const auto& ctx = options_.context_path;
  if (!ctx.empty() && request.path.compare(0, ctx.size(), ctx) != 0) return not_found_page();
  const std::string path = strip_context(request.path);

  if (path == profile_.login_path || (path.rfind(profile_.login_path, 0) == 0 && request.method == "GET")) {
    Reply r;
    r.content_type = "text/html;charset=UTF-8";
    r.body = login_page_html();
    return r;
  }
  if (path != "/api" && path.rfind("/api/", 0) != 0) return not_found_page();

  ApiCall call;
  call.req = &request;
  call.segments = split_path(path.substr(4));
  if (!call.segments.empty() && is_number(call.segments.front())) {
    const int n = std::atoi(call.segments.front().c_str());
    if (n < 28 || n > profile_.max_api_version) return not_found_page();
    call.api_version = call.segments.front();
    call.segments.erase(call.segments.begin());
  }
  if (const auto* open = open_routes_.find(request.method, call.segments, call.params)) return open->handler(call);

  Reply failure;
  call.user = authenticator_.authenticate(request.header("Authorization"),
                                          request.header("X-Requested-With") == "XMLHttpRequest",
                                          request_origin(request) + options_.context_path + profile_.login_path, failure);
  if (!call.user) return failure;
  if (const auto* route = routes_.find(request.method, call.segments, call.params)) return route->handler(call);
  return not_found_page();
}

DHIS2CPP_INLINE Reply EmulatedApi::login_config(const ApiCall&) const {
  return json_reply(200, {{"apiVersion", reported_version()},
                          {"applicationTitle", "DHIS 2"},
                          {"uiLocale", "en"},
                          {"emailConfigured", false},
                          {"selfRegistrationEnabled", false}});
}

DHIS2CPP_INLINE const std::string& EmulatedApi::reported_version() const noexcept {
  return options_.reported_version.empty() ? profile_.version_text : options_.reported_version;
}

// ---- system ----------------------------------------------------------------------------------

DHIS2CPP_INLINE Reply EmulatedApi::system_info(const ApiCall& r) const {
  const auto now = clock_.now();
  nlohmann::ordered_json info = {{"contextPath", request_origin(*r.req) + options_.context_path},
                                 {"userAgent", r.req->header("User-Agent")},
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
    for (const char* key :
         {"jasperReportsVersion", "environmentVariable", "readOnlyMode", "nodeId", "javaVersion", "osName"}) {
      info.erase(key);
    }
  }
  Reply reply = ordered_json_reply(200, pick_fields(info, r.req->param("fields")));
  reply.headers.emplace_back("Cache-Control", "no-store");  // SystemController sends no-store (§5.1)
  return reply;
}

DHIS2CPP_INLINE Reply EmulatedApi::me(const ApiCall& r) const {
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
                                                    {"organisationUnits", nlohmann::json::array()}},
                                     r.req->param("fields")));
}

DHIS2CPP_INLINE Reply EmulatedApi::system_setting(const ApiCall& r) const {
  const std::string& key = r.params.at("key");
  const auto it = options_.settings.find(key);
  Reply reply = json_reply(200, nlohmann::json{{key, it == options_.settings.end() ? nlohmann::json() : it->second}});
  reply.headers.emplace_back("Cache-Control", "no-cache, private");
  return reply;
}

DHIS2CPP_INLINE Reply EmulatedApi::category_combos(const ApiCall& r) const {
  const std::string filter = r.req->param("filter");
  nlohmann::json list = nlohmann::json::array();
  if (filter.empty() || filter == "name:eq:default") {
    list.push_back({{"id", options_.default_category_combo}, {"name", "default"}, {"displayName", "default"}});
  }
  return json_reply(200, {{"pager", {{"page", 1}, {"pageCount", 1}, {"total", list.size()}, {"pageSize", 50}}},
                          {"categoryCombos", list}});
}

// ---- kick-offs (§2) ------------------------------------------------------------------------

DHIS2CPP_INLINE Reply EmulatedApi::kickoff(const ApiCall& r, const std::string& type, const char* authority,
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
  Reply reply = ordered_json_reply(200, body);
  if (location) {
    reply.headers.emplace_back("Location", api_path(r) + *location);
  } else if (profile_.location_on_every_kickoff || location_before_41) {
    reply.headers.emplace_back("Location", api_path(r) + "/system/tasks/" + type);
  }
  return reply;
}

DHIS2CPP_INLINE nlohmann::ordered_json EmulatedApi::job_configuration_response(const JobInfo& job) const {
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

DHIS2CPP_INLINE bool EmulatedApi::flag(const ApiRequest& req, const char* name) {
  return req.has_param(name) && dhis2::detail::to_lower(req.param(name)) != "false";
}

DHIS2CPP_INLINE nlohmann::json EmulatedApi::parameters_for(const std::string& type, const ApiRequest& req) const {
  if (type == "ANALYTICS_TABLE") {
    nlohmann::json skip = nlohmann::json::array();
    const std::pair<const char*, const char*> table_flags[] = {
        {"skipAggregate", "DATA_VALUE"},       {"skipEvents", "EVENT"},
        {"skipEnrollment", "ENROLLMENT"},      {"skipTrackedEntities", "TRACKED_ENTITY"},
        {"skipOrgUnitOwnership", "OWNERSHIP"}, {"skipValidationResult", "VALIDATION_RESULT"}};
    for (const auto& f : table_flags) {
      if (flag(req, f.first)) skip.push_back(f.second);
    }
    nlohmann::json p = {{"skipTableTypes", skip},
                        {"skipPrograms", nlohmann::json::array()},
                        {"skipResourceTables", flag(req, "skipResourceTables")},
                        {"skipOutliers", flag(req, "skipOutliers")}};
    if (req.has_param("lastYears")) p["lastYears"] = std::atoi(req.param("lastYears").c_str());
    return p;
  }
  if (type == "RESOURCE_TABLE") return nullptr;  // no parameters: jobParameters is omitted
  if (type == "MONITORING") {
    return {{"relativeStart", 0},
            {"relativeEnd", 0},
            {"validationRuleGroups", nlohmann::json::array()},
            {"sendNotifications", false},
            {"persistResults", false}};
  }
  if (type == "PREDICTOR") {
    nlohmann::json predictors = nlohmann::json::array(), groups = nlohmann::json::array();
    for (std::size_t i = 0; i < req.param_count("predictor"); ++i) predictors.push_back(req.param("predictor", i));
    for (std::size_t i = 0; i < req.param_count("predictorGroup"); ++i) groups.push_back(req.param("predictorGroup", i));
    return {{"startDate", req.param("startDate")},
            {"endDate", req.param("endDate")},
            {"predictors", predictors},
            {"predictorGroups", groups}};
  }
  if (type == "DATAVALUE_IMPORT") {
    return {{"idSchemes", nlohmann::json::object()},
            {"dryRun", flag(req, "dryRun")},
            {"async", true},
            {"importStrategy", req.has_param("importStrategy") ? req.param("importStrategy") : "CREATE_AND_UPDATE"},
            {"mergeMode", "REPLACE"},
            {"reportMode", "FULL"},
            {"skipExistingCheck", false},
            {"sharing", false},
            {"skipNotifications", false},
            {"skipAudit", false},
            {"force", false},
            {"firstRowIsHeader", true}};
  }
  if (type == "METADATA_IMPORT") {
    return {{"importMode", flag(req, "dryRun") ? "VALIDATE" : "COMMIT"},
            {"identifier", "UID"},
            {"importStrategy", req.has_param("importStrategy") ? req.param("importStrategy") : "CREATE_AND_UPDATE"},
            {"atomicMode", "ALL"},
            {"flushMode", "AUTO"},
            {"skipSharing", false},
            {"skipValidation", false}};
  }
  return nlohmann::json::object();
}

DHIS2CPP_INLINE Reply EmulatedApi::predictions(const ApiCall& r) {
  if (!has_authority(*r.user, "F_PREDICTOR_RUN")) return forbidden("F_PREDICTOR_RUN");
  if (flag(*r.req, "async")) return kickoff(r, "PREDICTOR", "F_PREDICTOR_RUN", nullptr, std::nullopt, true);
  nlohmann::ordered_json body = envelope(200, "OK", "");
  body.erase("message");
  body["response"] = {{"responseType", "PredictionSummary"},
                      {"status", "SUCCESS"},
                      {"predictors", 1},
                      {"inserted", 12},
                      {"updated", 0},
                      {"deleted", 0},
                      {"unchanged", 0}};
  return ordered_json_reply(200, body);
}

DHIS2CPP_INLINE std::vector<std::string> EmulatedApi::checks_of(const ApiRequest& req) {
  std::vector<std::string> checks;
  for (std::size_t i = 0; i < req.param_count("checks"); ++i) {
    const std::string value = req.param("checks", i);
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

DHIS2CPP_INLINE Reply EmulatedApi::data_integrity_run(const ApiCall& r, const std::string& type, const char* result_path,
                                                      bool bare) {
  auto checks = checks_of(*r.req);
  std::string joined;
  for (const auto& c : checks) joined += (joined.empty() ? "" : ",") + c;
  const bool report_run = bare && profile_.data_integrity_report_run;
  nlohmann::json parameters = {{"checks", checks},
                               {"type", report_run                 ? "REPORT"
                                        : type == "DATA_INTEGRITY" ? "SUMMARY"
                                                                   : "DETAILS"}};
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
  return kickoff(r, type, "", parameters, "/dataIntegrity/" + std::string(result_path) + "?checks=" + joined, false,
                 std::move(script));
}

DHIS2CPP_INLINE std::vector<std::string> EmulatedApi::default_checks() {
  return {"categories_no_options", "data_elements_aggregate_no_groups", "orgunits_orphaned"};
}

DHIS2CPP_INLINE nlohmann::json EmulatedApi::integrity_result(const std::vector<std::string>& checks, bool details) const {
  nlohmann::json out = nlohmann::json::object();
  int n = 0;
  for (const auto& check : checks) {
    nlohmann::json entry = {{"name", check},
                            {"displayName", check},
                            {"section", "Emulated"},
                            {"severity", "WARNING"},
                            {"count", n},
                            {"percentage", n * 1.5},
                            {"finishedTime", engine_.format_time(clock_.now())}};
    if (details) entry["issues"] = nlohmann::json::array();
    out[check] = entry;
    ++n;
  }
  return out;
}

DHIS2CPP_INLINE Reply EmulatedApi::data_integrity_result(const ApiCall& r, const std::string& type) {
  const auto all = engine_.last_result(type);
  const auto wanted = checks_of(*r.req);
  nlohmann::json out = nlohmann::json::object();
  if (all.is_object()) {
    for (const auto& item : all.items()) {
      if (wanted.empty() || std::find(wanted.begin(), wanted.end(), item.key()) != wanted.end())
        out[item.key()] = item.value();
    }
  }
  return json_reply(200, out);
}

DHIS2CPP_INLINE Reply EmulatedApi::imports(const ApiCall& r, const std::string& type, const char* authority) {
  if (*authority && !has_authority(*r.user, authority)) return forbidden(authority);
  if (flag(*r.req, "async")) {
    // <=2.40 set a Location only on some kick-offs, these among them (§2.1).
    return kickoff(r, type, authority, nullptr, std::nullopt, true);
  }
  if (type == "METADATA_IMPORT") {
    const char* report_type = profile_.kickoff_response_type.empty() ||
                                      profile_.kickoff_response_type == "JobConfiguration"
                                  ? "ImportReport"
                                  : "ImportReportWebMessageResponse";
    if (auto rejected = metadata_without_names(r.req->body)) {
      // atomicMode=ALL: one invalid object and nothing is imported; 409 with status WARNING (§4.2).
      nlohmann::ordered_json body = envelope(409, "WARNING",
                                             "One or more errors occurred, please see full details in import report.");
      (*rejected)["responseType"] = report_type;
      body["response"] = *rejected;
      return ordered_json_reply(409, body);
    }
    nlohmann::ordered_json body = envelope(200, "OK", "");
    body.erase("message");
    nlohmann::json report = detail::default_metadata_report(1);
    report.erase("importParams");
    report["responseType"] = report_type;
    body["response"] = report;
    return ordered_json_reply(200, body);
  }
  nlohmann::ordered_json body = envelope(200, "OK", "Import was successful.");
  body["response"] = detail::default_import_summary("SUCCESS", 1, 0, 0, 0);
  return ordered_json_reply(200, body);
}

DHIS2CPP_INLINE std::optional<nlohmann::json> EmulatedApi::metadata_without_names(const std::string& payload_text) {
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
      nlohmann::json error = {{"message", "Missing required property `name`"},
                              {"mainKlass", klass},
                              {"errorCode", "E4000"},
                              {"errorProperty", "name"},
                              {"errorProperties", nlohmann::json::array({"name"})},
                              {"args", nlohmann::json::array({"name"})}};
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

DHIS2CPP_INLINE std::string EmulatedApi::metadata_class(std::string plural) {
  if (plural.size() > 3 && plural.compare(plural.size() - 3, 3, "ies") == 0) {
    plural.replace(plural.size() - 3, 3, "y");
  } else if (!plural.empty() && plural.back() == 's') {
    plural.pop_back();
  }
  std::string simple = plural;
  if (!simple.empty()) simple[0] = dhis2::detail::ascii_upper(simple[0]);
  return "org.hisp.dhis." + dhis2::detail::to_lower(plural) + "." + simple;
}

DHIS2CPP_INLINE Reply EmulatedApi::tracker_import(const ApiCall& r) {
  const bool async = !r.req->has_param("async") || flag(*r.req, "async");
  if (!async) return json_reply(200, detail::default_tracker_report(1));
  const auto submitted = engine_.submit("TRACKER_IMPORT_JOB", nlohmann::json::object(), r.user->id, false);
  const std::string api_location = api_path(r) + "/tracker/jobs/" + submitted.job.uid;
  // location is built from the root path; from 2.42 that lacks /api (§2.6, inferred).
  const std::string body_location = profile_.tracker_location_without_api
                                        ? request_origin(*r.req) + options_.context_path + "/tracker/jobs/" +
                                              submitted.job.uid
                                        : api_location;
  nlohmann::ordered_json body = envelope(200, "OK", "Tracker job added");
  body["response"] = {{"id", submitted.job.uid}, {"location", body_location}};
  if (!profile_.tracker_response_type.empty()) body["response"]["responseType"] = profile_.tracker_response_type;
  Reply reply = ordered_json_reply(200, body);
  reply.headers.emplace_back("Location", api_location);
  return reply;
}

DHIS2CPP_INLINE Reply EmulatedApi::tracker_job(const ApiCall& r, bool report) {
  const std::string& uid = r.params.at("uid");
  if (profile_.new_notifier && !is_uid(uid)) return bad_uid(profile_, uid, "uid");
  const bool other = read_on_other_node();
  if (!report)
    return notifications_reply(other ? std::vector<Notification>{} : engine_.feed("TRACKER_IMPORT_JOB", uid, false));
  const auto summary = other ? std::nullopt : engine_.summary("TRACKER_IMPORT_JOB", uid);
  if (!summary) return web_message(404, "Summary for job " + uid + " does not exist", "E1005");
  return json_reply(200, *summary);
}

// ---- job control (§3) ----------------------------------------------------------------------

DHIS2CPP_INLINE Reply EmulatedApi::execute(const ApiCall& r) {
  const std::string& uid = r.params.at("uid");
  if (profile_.scheduler_grid && !is_uid(uid)) return bad_uid(profile_, uid, "uid");
  const auto status = engine_.execute(uid);
  nlohmann::ordered_json report = {{"klass", "org.hisp.dhis.scheduling.JobConfiguration"},
                                   {"index", 0},
                                   {"errorReports", nlohmann::ordered_json::array()}};
  if (!profile_.scheduler_grid) {
    // <=2.40: always 200; a failure is an error report inside (§3.1).
    if (status != JobEngine::ExecuteStatus::Started) {
      report["errorReports"].push_back({{"message", "Failed to execute job: `" + uid + "`"},
                                        {"mainKlass", "org.hisp.dhis.scheduling.JobConfiguration"},
                                        {"errorCode", "E7006"}});
    }
    return ordered_json_reply(200, report);
  }
  if (status == JobEngine::ExecuteStatus::NotFound) {
    return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  }
  if (status == JobEngine::ExecuteStatus::AlreadyRunning) return web_message(409, "Job is already running.", "E1004");
  if (status == JobEngine::ExecuteStatus::AlreadyRanOnce) return web_message(409, "Job did already run once.", "E1004");
  return ordered_json_reply(200, report);
}

DHIS2CPP_INLINE Reply EmulatedApi::cancel(const ApiCall& r) {
  const std::string& uid = r.params.at("uid");
  const auto job = engine_.job(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  if (!has_authority(*r.user, "F_PERFORM_MAINTENANCE") && job->user_id != r.user->id) {
    return web_message(403, "User has no access to JobConfiguration:" + uid, "E1006");
  }
  engine_.cancel(uid);
  return empty_reply(204);
}

namespace detail {

// The row with only the named fields (a comma-separated list; "*" or "": all of them).
DHIS2CPP_INLINE nlohmann::ordered_json pick_fields(const nlohmann::ordered_json& row, const std::string& fields) {
  if (fields.empty() || fields == "*") return row;
  nlohmann::ordered_json picked = nlohmann::ordered_json::object();
  for (const auto& f : split_path(fields, ',')) {
    if (row.contains(f)) picked[f] = row[f];
  }
  return picked;
}

}  // namespace detail

DHIS2CPP_INLINE Reply EmulatedApi::job_row(const ApiCall& r) {
  const std::string& uid = r.params.at("uid");
  const auto job = engine_.job_row(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  return ordered_json_reply(200, detail::pick_fields(row_json(*job), r.req->param("fields")));
}

DHIS2CPP_INLINE Reply EmulatedApi::job_rows(const ApiCall& r) {
  // The filters: property -> the values it may take (eq: one, in: the bracketed list).
  std::vector<std::pair<std::string, std::vector<std::string>>> filters;
  for (std::size_t i = 0; i < r.req->param_count("filter"); ++i) {
    const std::string filter = r.req->param("filter", i);
    const auto first = filter.find(':');
    const auto second = first == std::string::npos ? std::string::npos : filter.find(':', first + 1);
    const std::string property = filter.substr(0, first);
    const std::string op = second == std::string::npos ? "" : filter.substr(first + 1, second - first - 1);
    const std::string value = second == std::string::npos ? "" : filter.substr(second + 1);
    static const char* const kProperties[] = {"id", "jobType", "jobStatus", "lastExecutedStatus", "schedulingType"};
    const bool known = std::find(std::begin(kProperties), std::end(kProperties), property) != std::end(kProperties);
    if (!known || (op != "eq" && op != "in") ||
        (op == "in" && (value.size() < 2 || value.front() != '[' || value.back() != ']'))) {
      return web_message(400, "The emulator does not support the filter `" + filter +
                                  "` (it knows id, jobType, jobStatus, lastExecutedStatus and schedulingType, "
                                  "with eq or in:[...])");
    }
    filters.emplace_back(
        property, op == "eq" ? std::vector<std::string>{value} : split_path(value.substr(1, value.size() - 2), ','));
  }
  std::optional<std::vector<std::string>> uids;
  for (const auto& f : filters) {
    if (f.first == "id" && !uids) uids = f.second;  // looked up by id, not by a scan of every job
  }
  std::vector<nlohmann::ordered_json> rows;
  for (const auto& job : engine_.job_rows(uids)) {
    nlohmann::ordered_json row = row_json(job);
    const bool matches = std::all_of(filters.begin(), filters.end(), [&row](const auto& f) {
      const auto it = row.find(f.first);
      return it != row.end() && it->is_string() &&
             std::find(f.second.begin(), f.second.end(), it->template get<std::string>()) != f.second.end();
    });
    if (matches) rows.push_back(std::move(row));
  }
  const std::string fields = r.req->has_param("fields") ? r.req->param("fields") : "id,displayName";
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  std::size_t from = 0;
  std::size_t to = rows.size();
  if (r.req->param("paging") != "false") {
    const auto number = [&r](const char* name, long fallback) {
      const std::string text = r.req->param(name);
      if (text.empty() || text.size() > 9 ||
          !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
        return fallback;
      }
      return std::max(1L, std::stol(text));
    };
    const long page = number("page", 1);
    const long page_size = number("pageSize", 50);
    const long total = static_cast<long>(rows.size());
    const long page_count = std::max(1L, (total + page_size - 1) / page_size);
    nlohmann::ordered_json pager = {{"page", page}, {"pageCount", page_count}, {"total", total}, {"pageSize", page_size}};
    const std::string base = api_path(r) + "/jobConfigurations?page=";
    if (page < page_count) pager["nextPage"] = base + std::to_string(page + 1);
    if (page > 1) pager["prevPage"] = base + std::to_string(page - 1);
    body["pager"] = pager;
    from = std::min(rows.size(), static_cast<std::size_t>((page - 1) * page_size));
    to = std::min(rows.size(), from + static_cast<std::size_t>(page_size));
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (std::size_t i = from; i < to; ++i) list.push_back(detail::pick_fields(rows[i], fields));
  body["jobConfigurations"] = std::move(list);
  return ordered_json_reply(200, body);
}

DHIS2CPP_INLINE nlohmann::ordered_json EmulatedApi::row_json(const JobInfo& info) const {
  const JobInfo* job = &info;
  nlohmann::ordered_json row = {{"id", job->uid},
                                {"name", job->name},
                                {"displayName", job->name},
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
    row["lastExecuted"] = engine_.format_time(profile_.last_executed_is_start ? *job->finished_run_started
                                                                              : *job->last_finished);
    row["lastRuntimeExecution"] = runtime(*job->finished_run_started, *job->last_finished);
  }
  if (!job->parameters.is_null()) row["jobParameters"] = job->parameters;
  return row;
}

DHIS2CPP_INLINE Reply EmulatedApi::job_progress(const ApiCall& r) {
  const std::string& uid = r.params.at("uid");
  if (!is_uid(uid)) return bad_uid(profile_, uid, "uid");
  const auto job = engine_.job_row(uid);
  if (!job) return web_message(404, "JobConfiguration with id " + uid + " could not be found.", "E1005");
  const bool reads_log = has_authority(*r.user, "F_JOB_LOG_READ");
  if (!reads_log && job->user_id != r.user->id) {
    return web_message(403, "User has no access to JobConfiguration:" + uid, "E1006");
  }
  if (job->progress.is_null()) return empty_reply(200);
  nlohmann::json body = job->progress;
  if (!reads_log) body.erase("errors");
  return json_reply(200, body);
}

DHIS2CPP_INLINE Reply EmulatedApi::revert(const ApiCall& r) {
  const std::string& uid = r.params.at("uid");
  if (!is_uid(uid)) return bad_uid(profile_, uid, "uid");
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
  return empty_reply(204);
}

DHIS2CPP_INLINE nlohmann::json EmulatedApi::process_info(const nlohmann::json& process) {
  nlohmann::json info = nlohmann::json::object();
  for (const char* key :
       {"jobId", "status", "description", "startedTime", "completedTime", "cancelledTime", "summary", "error"}) {
    const auto it = process.find(key);
    if (it != process.end() && !it->is_null()) info[key] = *it;
  }
  nlohmann::json stages = nlohmann::json::array();
  const auto all_stages = process.find("stages");
  if (all_stages != process.end() && all_stages->is_array()) {
    for (const auto& stage : *all_stages) {
      std::string text = stage.value("description", std::string());
      const auto total = stage.value("totalItems", std::int64_t{-1});
      if (total > 1) {
        const auto items = stage.find("items");
        const std::size_t done = items != stage.end() && items->is_array() ? items->size() : 0;
        text += " [" + std::to_string(done) + "/" + std::to_string(total) + "]";
      }
      stages.push_back(text);
    }
  }
  info["stages"] = stages;
  return info;
}

DHIS2CPP_INLINE nlohmann::json EmulatedApi::process_infos(const nlohmann::json& progress) {
  nlohmann::json list = nlohmann::json::array();
  if (!progress.is_object()) return list;
  const auto sequence = progress.find("sequence");
  if (sequence == progress.end() || !sequence->is_array()) return list;
  for (const auto& process : *sequence) list.push_back(process_info(process));
  return list;
}

DHIS2CPP_INLINE nlohmann::json EmulatedApi::running_processes(const JobInfo& job) const {
  nlohmann::json list = process_infos(engine_.live_progress(job.uid));
  if (!list.empty()) return list;
  nlohmann::json row = {{"jobId", job.uid},
                        {"status", "RUNNING"},
                        {"description", job.name},
                        {"startedTime", job.last_executed ? engine_.format_time(*job.last_executed) : ""},
                        {"stages", nlohmann::json::array()}};
  list.push_back(std::move(row));
  return list;
}

DHIS2CPP_INLINE Reply EmulatedApi::running(const ApiCall&) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& job : engine_.running()) {
    for (auto& process : running_processes(job)) out[job.job_type].push_back(std::move(process));
  }
  return json_reply(200, out);
}

DHIS2CPP_INLINE Reply EmulatedApi::running_types(const ApiCall&) {
  nlohmann::json types = nlohmann::json::array();
  for (const auto& job : engine_.running()) {
    if (std::find(types.begin(), types.end(), job.job_type) == types.end()) types.push_back(job.job_type);
  }
  return json_reply(200, types);
}

DHIS2CPP_INLINE Reply EmulatedApi::running_of_type(const ApiCall& r) {
  const auto jobs = engine_.running(profile_.canonical_job_type(r.params.at("jobType")));
  if (profile_.scheduler_grid) {
    // 2.41+: a Progress object, or an empty body when none runs (§3.1).
    if (jobs.empty()) return Reply{200, "", "application/json", {}};
    return json_reply(200, engine_.live_progress(jobs.front().uid));
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& job : jobs) {
    for (auto& process : running_processes(job)) list.push_back(std::move(process));
  }
  return json_reply(200, list);
}

DHIS2CPP_INLINE Reply EmulatedApi::completed(const ApiCall&) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& run : engine_.last_finished_runs()) out[run.job.job_type] = process_infos(run.progress);
  return json_reply(200, out);
}

DHIS2CPP_INLINE Reply EmulatedApi::completed_of_type(const ApiCall& r) {
  Reply error;
  const auto type = job_type_of(r.params.at("jobType"), error);
  if (!type) return error;
  const auto runs = engine_.last_finished_runs(*type);
  if (profile_.scheduler_grid) {
    // 2.41+: the Progress of the last finished run, or an empty body when none finished (§3.1).
    if (runs.empty()) return Reply{200, "", "application/json", {}};
    return json_reply(200, runs.front().progress);
  }
  // <=2.40: the processes of the last finished run, [] when none finished (§3.1).
  if (runs.empty()) return json_reply(200, nlohmann::json::array());
  return json_reply(200, runs.front().progress.value("sequence", nlohmann::json::array()));
}

DHIS2CPP_INLINE Reply EmulatedApi::cancel_type(const ApiCall& r) {
  engine_.cancel_type(profile_.canonical_job_type(r.params.at("jobType")));
  return empty_reply(204);
}

// ---- the feed (§1) ---------------------------------------------------------------------------

DHIS2CPP_INLINE Reply EmulatedApi::all_tasks(const ApiCall& r) {
  if (read_on_other_node()) return no_store(ordered_json_reply(200, empty_overview()));
  return no_store(ordered_json_reply(200, engine_.all(gist(r))));
}

DHIS2CPP_INLINE bool EmulatedApi::gist(const ApiCall& r) const {
  if (!profile_.new_notifier) return false;
  return !r.req->has_param("gist") || dhis2::detail::to_lower(r.req->param("gist")) != "false";
}

DHIS2CPP_INLINE std::optional<std::string> EmulatedApi::job_type_of(const std::string& text, Reply& error) const {
  if (profile_.knows_job_type(text)) return profile_.canonical_job_type(text);
  if (profile_.enum_editor_messages) {
    std::string valid;
    for (const auto& t : profile_.job_types) valid += (valid.empty() ? "" : ", ") + t;
    error = web_message(
        400, "Value '" + text + "' is not valid for path parameter jobType. Valid values are: [" + valid + "]");
  } else {
    error = web_message(400, "No enum constant org.hisp.dhis.scheduling.JobType." + profile_.canonical_job_type(text));
  }
  return std::nullopt;
}

DHIS2CPP_INLINE Reply EmulatedApi::tasks_of_type(const ApiCall& r) {
  Reply error;
  const auto type = job_type_of(r.params.at("jobType"), error);
  if (!type) return error;
  if (read_on_other_node()) return no_store(ordered_json_reply(200, nlohmann::ordered_json::object()));
  return no_store(ordered_json_reply(200, engine_.overview(*type, gist(r))));
}

DHIS2CPP_INLINE Reply EmulatedApi::task_feed(const ApiCall& r) {
  Reply error;
  const auto type = job_type_of(r.params.at("jobType"), error);
  if (!type) return error;
  const std::string& uid = r.params.at("uid");
  if (!is_uid(uid)) {
    if (profile_.new_notifier) return bad_uid(profile_, uid, "jobId");
    return notifications_reply({});
  }
  if (read_on_other_node()) return notifications_reply({});
  return notifications_reply(engine_.feed(*type, uid, true));
}

DHIS2CPP_INLINE Reply EmulatedApi::summaries_of_type(const ApiCall& r) {
  Reply error;
  const auto type = job_type_of(r.params.at("jobType"), error);
  if (!type) return error;
  if (read_on_other_node()) return no_store(ordered_json_reply(200, nlohmann::ordered_json::object()));
  return no_store(ordered_json_reply(200, engine_.summaries(*type)));
}

DHIS2CPP_INLINE Reply EmulatedApi::task_summary(const ApiCall& r) {
  Reply error;
  const auto type = job_type_of(r.params.at("jobType"), error);
  if (!type) return error;
  const std::string& uid = r.params.at("uid");
  if (!is_uid(uid) && profile_.new_notifier) return bad_uid(profile_, uid, "jobId");
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

DHIS2CPP_INLINE Reply EmulatedApi::delete_tasks(const ApiCall& r) {
  const auto job_type = r.params.find("jobType");
  const auto uid = r.params.find("uid");
  std::string type;
  if (job_type != r.params.end()) {
    Reply error;
    const auto known = job_type_of(job_type->second, error);
    if (!known) return error;
    type = *known;
  }
  std::optional<std::size_t> max_count;
  std::optional<int> max_age;
  if (r.req->has_param("maxCount")) max_count = static_cast<std::size_t>(std::atoi(r.req->param("maxCount").c_str()));
  if (r.req->has_param("maxAge")) max_age = std::atoi(r.req->param("maxAge").c_str());
  if (!read_on_other_node())
    engine_.clear_notifications(type, uid != r.params.end() ? uid->second : std::string(), max_count, max_age);
  return empty_reply(204);
}

DHIS2CPP_INLINE bool EmulatedApi::read_on_other_node() {
  std::lock_guard<std::mutex> lock(node_mutex_);
  switch (notifier_node_) {
    case NotifierNode::Same: return false;
    case NotifierNode::Other: return true;
    case NotifierNode::Alternating: last_read_on_other_ = !last_read_on_other_; return last_read_on_other_;
  }
  return false;
}

DHIS2CPP_INLINE nlohmann::ordered_json EmulatedApi::empty_overview() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!profile_.new_notifier) {
    for (const auto& type : profile_.job_types) out[type] = nlohmann::ordered_json::object();
  }
  return out;
}

DHIS2CPP_INLINE Reply EmulatedApi::notifications_reply(const std::vector<Notification>& rows) const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& row : rows) list.push_back(row.to_json());
  Reply reply = json_reply(200, list);
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

// ---- URLs and small helpers ------------------------------------------------------------------

DHIS2CPP_INLINE std::string EmulatedApi::request_origin(const ApiRequest& req) const {
  std::string scheme = req.header("X-Forwarded-Proto");
  if (scheme.empty()) scheme = options_.tls ? "https" : "http";
  std::string host = req.header("X-Forwarded-Host");
  if (host.empty()) host = req.header("Host");
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

DHIS2CPP_INLINE std::string EmulatedApi::api_path(const ApiCall& r) const {
  std::string path = request_origin(*r.req) + options_.context_path + "/api";
  if (!r.api_version.empty() && profile_.location_has_api_version) path += "/" + r.api_version;
  return path;
}

DHIS2CPP_INLINE bool EmulatedApi::is_number(const std::string& s) {
  return !s.empty() && s.size() <= 3 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

DHIS2CPP_INLINE bool EmulatedApi::is_uid(const std::string& s) {
  if (s.size() != 11 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_EMULATED_API_IPP
