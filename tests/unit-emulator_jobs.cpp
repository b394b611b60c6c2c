// dhis2::testing::FakeServer's jobs as a client sees them over HTTP: kick-off envelopes, when jobs
// start, tracker jobs, job rows, /execute, /cancel, the running and last completed overviews, what
// scripted runs leave in the feed, and the data integrity result endpoints. Every expectation
// comes from ../shared/docs/dhis2-wire.md (the section is cited on each test), never from the
// emulator's own version profile. The clock is manual: nothing here sleeps.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "support/emulator_http.hpp"

namespace {

using namespace emulator_http;

// §2.1: jobConfigurationReport sets Location to the type's task list on 2.41+, not before.
std::string tasks_location(const FakeServer& server, const std::string& version, const std::string& type) {
  return at_least(version, 41) ? server.url() + "/api/system/tasks/" + type : std::string();
}

// The §2.1 envelope of a 200 kick-off and its Location header ("" when there must be none). An
// empty `old_name` leaves the <=2.40 name unchecked (the reference names only some).
void check_kickoff(const Reply& reply, const std::string& version, const std::string& type, const std::string& old_name,
                   const std::string& location) {
  REQUIRE(reply.status == 200);
  if (location.empty()) {
    CHECK_FALSE(reply.has_location);
  } else {
    CHECK(reply.location == location);
  }
  const Json body = reply.json();
  CHECK(body.at("httpStatus") == "OK");
  CHECK(body.at("httpStatusCode") == 200);
  CHECK(body.at("status") == "OK");
  const Json& response = body.at("response");
  const std::string name = response.at("name");
  if (at_least(version, 41)) {
    CHECK(name == type + " (" + kStartMillis + ")");
  } else if (!old_name.empty()) {
    CHECK(name == old_name);
  }
  CHECK(body.at("message") == "Initiated " + name);
  const std::string id = response.at("id");
  CHECK(is_uid(id));
  CHECK(response.at("created") == kStartText);
  CHECK(response.at("jobType") == type);
  const std::string status = response.at("jobStatus");
  if (at_least(version, 41)) {
    CHECK(status == "NOT_STARTED");
  } else {
    CHECK((status == "SCHEDULED" || status == "RUNNING"));
  }
  CHECK(response.at("relativeNotifierEndpoint") == "/api/system/tasks/" + type + "/" + id);
  const std::string response_type = expected_response_type(version, "JobConfiguration");
  if (response_type.empty()) {
    CHECK_FALSE(response.contains("responseType"));
  } else {
    CHECK(response.value("responseType", "") == response_type);
  }
  CHECK_FALSE(body.contains("location"));  // a getter without @JsonProperty (§2.1)
  const auto ref = dhis2::WebMessage::from_json(body).task_ref();
  REQUIRE(ref);
  CHECK(ref->job_type == type);
  CHECK(ref->uid == id);
}

}  // namespace

// ================================================================================================
// Kick-off envelopes (§2.1, §2.2, §4.3)
// ================================================================================================

// §2.1, §4.3: 200 (never 202), "Initiated <name>", the response fields, responseType per version.
TEST_CASE("analytics kick-off answers 200 with the jobConfigurationReport envelope of its version") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/resourceTables/analytics");
  check_kickoff(r, version, "ANALYTICS_TABLE", "inMemoryAnalyticsJob",
                tasks_location(server, version, "ANALYTICS_TABLE"));
  const Json body = r.json();
  const Json& parameters = body.at("response").at("jobParameters");
  CHECK(parameters.at("skipTableTypes") == Json::array());
  CHECK(parameters.at("skipResourceTables") == false);
  CHECK(parameters.at("skipOutliers") == false);
  CHECK_FALSE(parameters.contains("lastYears"));
}

// §2.2: the skip flags and lastYears of /api/resourceTables/analytics become jobParameters.
TEST_CASE("analytics kick-off maps skip flags and lastYears into jobParameters") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Json body = kick_off(api,
                             "/api/resourceTables/analytics?skipEvents=true&skipEnrollment=true"
                             "&skipResourceTables=true&skipOutliers=true&lastYears=2");
  const Json& parameters = body.at("response").at("jobParameters");
  const Json& skipped = parameters.at("skipTableTypes");
  CHECK(std::find(skipped.begin(), skipped.end(), "EVENT") != skipped.end());
  CHECK(std::find(skipped.begin(), skipped.end(), "ENROLLMENT") != skipped.end());
  CHECK(std::find(skipped.begin(), skipped.end(), "DATA_VALUE") == skipped.end());
  CHECK(parameters.at("skipResourceTables") == true);
  CHECK(parameters.at("skipOutliers") == true);
  CHECK(parameters.at("lastYears") == 2);
}

// §2.1, §2.2: RESOURCE_TABLE has no parameters, so jobParameters is omitted.
TEST_CASE("resource table kick-off has no jobParameters") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/resourceTables");
  check_kickoff(r, version, "RESOURCE_TABLE", "inMemoryResourceTableJob",
                tasks_location(server, version, "RESOURCE_TABLE"));
  CHECK_FALSE(r.json().at("response").contains("jobParameters"));
}

// §2.1, §2.2: POST /api/resourceTables/monitoring starts MONITORING.
TEST_CASE("monitoring kick-off starts a MONITORING job") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  check_kickoff(api.post("/api/resourceTables/monitoring"), version, "MONITORING", "inMemoryMonitoringJob",
                tasks_location(server, version, "MONITORING"));
}

// §2.1, §2.2: predictions with async=true start PREDICTOR; predictions set a Location on every version.
TEST_CASE("predictions with async=true start a PREDICTOR job and set Location on every version") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/predictions?startDate=2024-01-01&endDate=2024-03-31&async=true");
  check_kickoff(r, version, "PREDICTOR", "inMemoryPrediction", server.url() + "/api/system/tasks/PREDICTOR");
}

// §2.2: async defaults to false; then the answer is a synchronous PredictionSummary.
TEST_CASE("predictions without async answer synchronously with a PredictionSummary") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/predictions?startDate=2024-01-01&endDate=2024-03-31");
  REQUIRE(r.status == 200);
  const Json body = r.json();
  CHECK(body.at("status") == "OK");
  const Json& response = body.at("response");
  CHECK(response.at("responseType") == "PredictionSummary");
  CHECK(response.contains("inserted"));
  CHECK_FALSE(response.contains("jobType"));
  CHECK_FALSE(response.contains("id"));
  CHECK(dhis2::WebMessage::from_json(body).task_ref() == std::nullopt);
}

// §2.2: POST /api/dataIntegrity runs DATA_INTEGRITY, but its Location points at the details.
TEST_CASE("data integrity kick-off points Location at the details endpoint") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/dataIntegrity?checks=orgunits_orphaned,categories_no_options");
  check_kickoff(r, version, "DATA_INTEGRITY", "",
                server.url() + "/api/dataIntegrity/details?checks=orgunits_orphaned,categories_no_options");
}

// §2.2: POST /api/dataIntegrity/summary runs DATA_INTEGRITY; Location is the summary endpoint.
TEST_CASE("data integrity summary kick-off points Location at the summary endpoint") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/dataIntegrity/summary?checks=orgunits_orphaned,categories_no_options");
  check_kickoff(r, version, "DATA_INTEGRITY", "",
                server.url() + "/api/dataIntegrity/summary?checks=orgunits_orphaned,categories_no_options");
}

// §2.2: POST /api/dataIntegrity/details runs DATA_INTEGRITY_DETAILS; Location is the details endpoint.
TEST_CASE("data integrity details kick-off starts DATA_INTEGRITY_DETAILS with Location at the details") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/dataIntegrity/details?checks=orgunits_orphaned");
  check_kickoff(r, version, "DATA_INTEGRITY_DETAILS", "",
                server.url() + "/api/dataIntegrity/details?checks=orgunits_orphaned");
}

// §2.1, §2.2: /api/metadata?async=true starts METADATA_IMPORT; metadata sets a Location on every version.
TEST_CASE("metadata async kick-off starts METADATA_IMPORT and sets Location on every version") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/metadata?async=true", R"({"dataElements":[]})");
  check_kickoff(r, version, "METADATA_IMPORT", "", server.url() + "/api/system/tasks/METADATA_IMPORT");
}

// §2.1, §2.2: /api/dataValueSets?async=true starts DATAVALUE_IMPORT; it sets a Location on every version.
TEST_CASE("data value set async kick-off starts DATAVALUE_IMPORT and sets Location on every version") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/dataValueSets?async=true", R"({"dataValues":[]})");
  check_kickoff(r, version, "DATAVALUE_IMPORT", "dataValueImport", server.url() + "/api/system/tasks/DATAVALUE_IMPORT");
  CHECK(r.json().at("response").at("jobParameters").at("async") == true);
}

// §2.1: Location is the absolute type list on 2.41+; <=2.40's analytics kick-off sets none.
TEST_CASE("analytics kick-off Location is the absolute task list of its type on 2.41+ and absent before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/resourceTables/analytics");
  REQUIRE(r.status == 200);
  if (at_least(version, 41)) {
    CHECK(r.location == server.url() + "/api/system/tasks/ANALYTICS_TABLE");
  } else {
    CHECK_FALSE(r.has_location);
  }
}

// §2.5: a /api/41/ request's Location keeps the version on <=2.42 and drops it on 2.43+.
TEST_CASE("a versioned kick-off echoes /api/41 in Location up to 2.42") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/41/resourceTables/analytics");
  REQUIRE(r.status == 200);
  const std::string api_root = at_least(version, 43) ? "/api" : "/api/41";
  CHECK(r.location == server.url() + api_root + "/system/tasks/ANALYTICS_TABLE");
  CHECK(r.json().at("response").at("relativeNotifierEndpoint") == "/api/system/tasks/ANALYTICS_TABLE/" + id_of(r.json()));
}

// §2.1: Location includes the servlet context path; relativeNotifierEndpoint does not.
TEST_CASE("a context path appears in Location but not in relativeNotifierEndpoint") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version, "/dhis"));
  Api api(server);
  const Reply r = api.post("/api/dataValueSets?async=true", R"({"dataValues":[]})");
  REQUIRE(r.status == 200);
  CHECK(r.location == server.origin() + "/dhis/api/system/tasks/DATAVALUE_IMPORT");
  const std::string endpoint = r.json().at("response").at("relativeNotifierEndpoint");
  CHECK(endpoint == "/api/system/tasks/DATAVALUE_IMPORT/" + id_of(r.json()));
  // Resolved against the root including the context path (the Api adds /dhis), it is the feed.
  CHECK(api.get(endpoint).status == 200);
}

// ================================================================================================
// When jobs start (§2.3)
// ================================================================================================

// §2.3: on 2.41+ a scheduled type waits for the 20-second scheduler loop; [] means "not started".
TEST_CASE("on 2.41+ a kicked-off job's feed is empty until the next scheduler tick") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
  server.advance(7999ms);  // 10:11:19.999
  CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
  server.advance(1ms);  // 10:11:20.000, the tick
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().level == NotificationLevel::Info);
  CHECK_FALSE(rows.front().completed);
  CHECK(rows.front().time == "2024-05-20T10:11:20.000");
  CHECK(rows.front().data_type == "PARAMETERS");
}

// §2.3: <=2.40 starts ad-hoc jobs at once on a thread pool.
TEST_CASE("on 2.40 and before a kicked-off job's first row is there at once") {
  const std::string version = GENERATE(from_range(versions_before(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().time == kStartText);
  CHECK_FALSE(rows.front().completed);
  CHECK(rows.front().category == "ANALYTICS_TABLE");
}

// §2.3: continuous types (METADATA_IMPORT, TRACKER_IMPORT_JOB, DATA_INTEGRITY*) start at once on 2.41+.
TEST_CASE("on 2.41+ continuous job types start at once") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  SECTION("METADATA_IMPORT") {
    const std::string id = id_of(kick_off(api, "/api/metadata?async=true", R"({"dataElements":[]})"));
    CHECK_FALSE(feed(api, "METADATA_IMPORT", id).empty());
    CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  }
  SECTION("TRACKER_IMPORT_JOB") {
    const std::string id = id_of(kick_off(api, "/api/tracker", R"({"trackedEntities":[]})"));
    CHECK_FALSE(feed(api, "TRACKER_IMPORT_JOB", id).empty());
    CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  }
  SECTION("DATA_INTEGRITY") {
    const std::string id = id_of(kick_off(api, "/api/dataIntegrity/summary?checks=orgunits_orphaned"));
    CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  }
  SECTION("DATA_INTEGRITY_DETAILS") {
    const std::string id = id_of(kick_off(api, "/api/dataIntegrity/details?checks=orgunits_orphaned"));
    CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  }
}

// §2.3: 2.41+ queues a second analytics job; it starts at the first tick after the first one ended.
TEST_CASE("on 2.41+ a second analytics kick-off is queued until the running one finished") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const auto thirty_seconds = JobScript()
                                  .start("Analytics table update")
                                  .stage("Populating analytics tables", 10s)
                                  .complete("Analytics tables updated: {duration}", 20s);
  server.script_next("ANALYTICS_TABLE", thirty_seconds);
  server.script_next("ANALYTICS_TABLE", thirty_seconds);
  const std::string first = id_of(kick_off(api, "/api/resourceTables/analytics"));
  const Reply second_reply = api.post("/api/resourceTables/analytics");
  REQUIRE(second_reply.status == 200);  // no 409 on 2.41+
  const std::string second = id_of(second_reply.json());

  advance_to_next_tick(server);  // 10:11:20: the first starts
  CHECK(feed(api, "ANALYTICS_TABLE", first).size() == 1);
  CHECK(feed(api, "ANALYTICS_TABLE", second).empty());
  advance_to_next_tick(server);  // 10:11:40: the first still runs
  CHECK(feed(api, "ANALYTICS_TABLE", second).empty());
  CHECK(job_row(api, second).at("jobStatus") == "SCHEDULED");
  server.advance(19999ms);  // 10:11:59.999: the first finished at :50
  CHECK(feed(api, "ANALYTICS_TABLE", first).front().completed);
  CHECK(feed(api, "ANALYTICS_TABLE", second).empty());
  server.advance(1ms);  // 10:12:00
  const auto rows = feed(api, "ANALYTICS_TABLE", second);
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().time == "2024-05-20T10:12:00.000");
}

// §2.3: one job per type starts per tick, so a queued one waits for a tick even when the type is idle.
TEST_CASE("on 2.41+ only one job per type starts per scheduler tick") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const auto one_second =
      JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 1s);
  server.script_next("ANALYTICS_TABLE", one_second);
  server.script_next("ANALYTICS_TABLE", one_second);
  const std::string first = id_of(kick_off(api, "/api/resourceTables/analytics"));
  const std::string second = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);  // 10:11:20
  server.advance(1s);            // 10:11:21: the first is done
  CHECK(feed(api, "ANALYTICS_TABLE", first).front().completed);
  server.advance(18999ms);  // 10:11:39.999
  CHECK(feed(api, "ANALYTICS_TABLE", second).empty());
  server.advance(1ms);  // 10:11:40
  const auto rows = feed(api, "ANALYTICS_TABLE", second);
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().time == "2024-05-20T10:11:40.000");
}

// §2.3: 2.39-2.40 refuse a second analytics job with 409 and a FAILED job in the response.
TEST_CASE("on 2.39 and 2.40 a second analytics kick-off gets 409 already running") {
  const std::string version = GENERATE(as<std::string>{}, "2.39", "2.40.7", "2.40.8");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  kick_off(api, "/api/resourceTables/analytics");
  server.advance(2s);
  const Reply r = api.post("/api/resourceTables/analytics");
  CHECK(r.status == 409);
  const Json body = r.json();
  CHECK(body.at("httpStatus") == "Conflict");
  CHECK(body.at("httpStatusCode") == 409);
  CHECK(body.at("status") == "ERROR");
  CHECK(body.at("message") == "Job of type ANALYTICS_TABLE is already running");
  CHECK(body.at("response").at("jobType") == "ANALYTICS_TABLE");
  CHECK(body.at("response").at("jobStatus") == "FAILED");
  CHECK_FALSE(r.has_location);
}

// §2.3: 2.38 answers 200 to a second analytics kick-off but drops the job: its feed stays [].
TEST_CASE("on 2.38 a second analytics kick-off is accepted and never runs") {
  FakeServer server(options_for("2.38"));
  Api api(server);
  const std::string first = id_of(kick_off(api, "/api/resourceTables/analytics"));
  server.advance(2s);
  const Json second_body = kick_off(api, "/api/resourceTables/analytics");
  CHECK(second_body.at("message") == "Initiated inMemoryAnalyticsJob");
  const std::string second = id_of(second_body);
  for (int i = 0; i < 12; ++i) {
    server.advance(10min);
    CHECK(feed(api, "ANALYTICS_TABLE", second).empty());
  }
  CHECK(feed(api, "ANALYTICS_TABLE", first).front().completed);
}

// ================================================================================================
// Tracker (§2.6)
// ================================================================================================

// §2.6, §4.3: "Tracker job added", {id, location}, Location header, responseType per version,
// and the body's location without /api on 2.42+.
TEST_CASE("tracker kick-off answers Tracker job added with id and location") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/tracker", R"({"trackedEntities":[]})");
  REQUIRE(r.status == 200);
  const Json body = r.json();
  CHECK(body.at("httpStatusCode") == 200);
  CHECK(body.at("status") == "OK");
  CHECK(body.at("message") == "Tracker job added");
  const Json& response = body.at("response");
  const std::string id = response.at("id");
  CHECK(is_uid(id));
  CHECK(r.location == server.url() + "/api/tracker/jobs/" + id);
  if (at_least(version, 42)) {
    CHECK(response.at("location") == server.url() + "/tracker/jobs/" + id);
  } else {
    CHECK(response.at("location") == server.url() + "/api/tracker/jobs/" + id);
  }
  const std::string response_type = expected_response_type(version, "TrackerJob");
  if (response_type.empty()) {
    CHECK_FALSE(response.contains("responseType"));
  } else {
    CHECK(response.value("responseType", "") == response_type);
  }
  const auto ref = dhis2::WebMessage::from_json(body).task_ref();
  REQUIRE(ref);
  CHECK(ref->job_type == "TRACKER_IMPORT_JOB");
  CHECK(ref->uid == id);
}

// §2.6: GET /api/tracker/jobs/{id} is the TRACKER_IMPORT_JOB feed, newest first.
TEST_CASE("tracker job endpoint lists the job's TRACKER_IMPORT_JOB rows") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/tracker", R"({"trackedEntities":[]})"));
  server.advance(5s);
  const Reply r = api.get("/api/tracker/jobs/" + id);
  REQUIRE(r.status == 200);
  const auto rows = dhis2::notifications_from_json(r.json());
  REQUIRE(rows.size() >= 2);
  for (const auto& row : rows) CHECK(row.category == "TRACKER_IMPORT_JOB");
  CHECK(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Info);
  CHECK_FALSE(rows.back().completed);
}

// §2.6: /report is 404 E1005 until the summary exists, then the tracker ImportReport.
TEST_CASE("tracker job report is 404 until the job finished, then the ImportReport") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/tracker", R"({"trackedEntities":[]})"));
  const Reply before = api.get("/api/tracker/jobs/" + id + "/report");
  CHECK(before.status == 404);
  const Json error = before.json();
  CHECK(error.at("status") == "ERROR");
  CHECK(error.at("errorCode") == "E1005");
  CHECK(error.at("message") == "Summary for job " + id + " does not exist");
  server.advance(5s);
  const Reply after = api.get("/api/tracker/jobs/" + id + "/report");
  REQUIRE(after.status == 200);
  const Json report = after.json();
  CHECK(report.at("status") == "OK");
  CHECK(report.contains("stats"));
  CHECK(report.contains("validationReport"));
  CHECK_FALSE(report.contains("httpStatusCode"));
  CHECK(dhis2::classify_report(report) == dhis2::ResponseKind::TrackerImportReport);
}

// §2.6: async=false returns the bare tracker ImportReport, not a WebMessage.
TEST_CASE("synchronous tracker import returns the bare ImportReport") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/tracker?async=false", R"({"trackedEntities":[]})");
  REQUIRE(r.status == 200);
  const Json report = r.json();
  CHECK_FALSE(dhis2::WebMessage::looks_like(report));
  CHECK(report.at("status") == "OK");
  CHECK(report.contains("bundleReport"));
  CHECK(server.jobs().empty());
}

// ================================================================================================
// Job rows (§3.1, §3.3)
// ================================================================================================

// §3.1, §3.3: an ad-hoc row goes SCHEDULED/NOT_STARTED -> RUNNING -> DISABLED/COMPLETED.
TEST_CASE("on 2.41+ an ad-hoc job row reads SCHEDULED, then RUNNING, then DISABLED and COMPLETED") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 5s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  Json row = job_row(api, id);
  CHECK(row.at("jobStatus") == "SCHEDULED");
  CHECK(row.at("lastExecutedStatus") == "NOT_STARTED");
  CHECK_FALSE(row.contains("lastFinished"));
  advance_to_next_tick(server);
  row = job_row(api, id);
  CHECK(row.at("jobStatus") == "RUNNING");
  CHECK_FALSE(row.contains("lastFinished"));
  server.advance(5s);
  row = job_row(api, id);
  CHECK(row.at("jobStatus") == "DISABLED");
  CHECK(row.at("lastExecutedStatus") == "COMPLETED");
  CHECK(row.at("enabled") == false);
  CHECK(row.at("lastFinished") == "2024-05-20T10:11:25.000");
}

// §3.3: a failed run leaves lastExecutedStatus FAILED.
TEST_CASE("on 2.41+ a job row says FAILED after a failed run") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").fail("Analytics table update failed", 2s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(2s);
  const Json row = job_row(api, id);
  CHECK(row.at("jobStatus") == "DISABLED");
  CHECK(row.at("lastExecutedStatus") == "FAILED");
}

// §3.1, §4.2: an unknown job configuration is 404 E1005.
TEST_CASE("a job row of an unknown id is 404 E1005") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.get("/api/jobConfigurations/abcdefghijk?fields=jobStatus");
  CHECK(r.status == 404);
  const Json body = r.json();
  CHECK(body.at("httpStatus") == "Not Found");
  CHECK(body.at("errorCode") == "E1005");
  CHECK(body.at("message") == "JobConfiguration with id abcdefghijk could not be found.");
}

// §3.1: <=2.40 API-started jobs are in memory only: no job row.
TEST_CASE("on 2.40 and before an API-started job has no job row") {
  const std::string version = GENERATE(from_range(versions_before(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  const Reply r = api.get("/api/jobConfigurations/" + id + "?fields=jobStatus");
  CHECK(r.status == 404);
  CHECK(r.json().at("errorCode") == "E1005");
}

// §1.6, §3.3: ad-hoc rows are deleted 24 h after they finished (jobsCleanupAfterMinutes).
TEST_CASE("on 2.41+ an ad-hoc job row disappears 24 h after the job finished") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(1s);
  CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
  server.advance(24h - 1s);
  CHECK(api.get("/api/jobConfigurations/" + id).status == 200);
  server.advance(21s);
  const Reply gone = api.get("/api/jobConfigurations/" + id);
  CHECK(gone.status == 404);
  CHECK(gone.json().at("errorCode") == "E1005");
}

// GET /api/jobConfigurations is DHIS2's generic metadata list (JobConfigurationController has no
// filtering of its own): on 2.41+ it lists API-started (ONCE_ASAP) rows with the others.
TEST_CASE("on 2.41+ the job configuration list shows API-started jobs: fields, filter id:in, paging") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(id_of(kick_off(api, "/api/resourceTables/analytics")));
  advance_to_next_tick(server);  // the first runs, the other two wait their turn

  const Reply picked = api.get("/api/jobConfigurations?fields=id,jobStatus,lastExecutedStatus&filter=id:in:[" + ids[2] +
                               "," + ids[0] + "," + ids[2] + ",abcdefghijk]&paging=false");
  REQUIRE(picked.status == 200);
  Json body = picked.json();
  CHECK_FALSE(body.contains("pager"));                // paging=false: no pager
  REQUIRE(body.at("jobConfigurations").size() == 2);  // each id once; an unknown one lists nothing
  const Json first = body["jobConfigurations"][0];
  const Json third = body["jobConfigurations"][1];
  CHECK(first == Json{{"id", ids[0]}, {"jobStatus", "RUNNING"}, {"lastExecutedStatus", "NOT_STARTED"}});
  CHECK(third == Json{{"id", ids[2]}, {"jobStatus", "SCHEDULED"}, {"lastExecutedStatus", "NOT_STARTED"}});

  // Without `fields`: id and displayName; paged 50 a page by default.
  body = api.get("/api/jobConfigurations?filter=jobType:eq:ANALYTICS_TABLE").json();
  CHECK(body.at("pager") == Json{{"page", 1}, {"pageCount", 1}, {"total", 3}, {"pageSize", 50}});
  REQUIRE(body.at("jobConfigurations").size() == 3);
  CHECK(body["jobConfigurations"][1] ==
        Json{{"id", ids[1]}, {"displayName", api.get("/api/jobConfigurations/" + ids[1]).json().at("name")}});

  body = api.get("/api/jobConfigurations?fields=id&filter=jobType:eq:ANALYTICS_TABLE&pageSize=2&page=2").json();
  CHECK(body.at("pager").at("pageCount") == 2);
  CHECK(body.at("pager").at("prevPage").get<std::string>().find("page=1") != std::string::npos);
  CHECK_FALSE(body.at("pager").contains("nextPage"));
  CHECK(body.at("jobConfigurations") == Json::array({Json{{"id", ids[2]}}}));

  // Two filters AND: the queued ones.
  body = api.get(
                "/api/jobConfigurations?fields=id&filter=jobType:eq:ANALYTICS_TABLE&filter=jobStatus:eq:SCHEDULED"
                "&paging=false")
             .json();
  CHECK(body.at("jobConfigurations") == Json::array({Json{{"id", ids[1]}}, Json{{"id", ids[2]}}}));

  // A filter the emulator does not know is refused, not ignored.
  const Reply refused = api.get("/api/jobConfigurations?filter=name:like:Analytics");
  CHECK(refused.status == 400);
  CHECK(refused.json().at("message").get<std::string>().find("name:like:Analytics") != std::string::npos);
}

// §3.1: <=2.40 API-started jobs live in memory: the list does not show them.
TEST_CASE("on 2.40 and before the job configuration list has no API-started job") {
  const std::string version = GENERATE(from_range(versions_before(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  const Reply r = api.get("/api/jobConfigurations?fields=id&filter=id:in:[" + id + "]&paging=false");
  REQUIRE(r.status == 200);
  CHECK(r.json() == Json{{"jobConfigurations", Json::array()}});
}

// ================================================================================================
// Executing a saved job (§3.1, §1.5)
// ================================================================================================

// §3.1: /execute answers 200 with a bare ObjectReport; the job then runs as the version starts jobs.
TEST_CASE("execute of a saved job answers 200 with a bare ObjectReport") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.add_job_configuration(
      "jobConfig01", "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 5s));
  const Reply r = api.post("/api/jobConfigurations/jobConfig01/execute");
  REQUIRE(r.status == 200);
  const Json report = r.json();
  CHECK(report ==
        Json{{"klass", "org.hisp.dhis.scheduling.JobConfiguration"}, {"index", 0}, {"errorReports", Json::array()}});
  CHECK_FALSE(dhis2::WebMessage::looks_like(report));
  if (at_least(version, 41)) CHECK(feed(api, "ANALYTICS_TABLE", "jobConfig01").empty());
  let_job_start(server, version);
  CHECK(feed(api, "ANALYTICS_TABLE", "jobConfig01").size() == 1);
}

// §3.1: an unknown job is 404 E1005 on 2.41+; <=2.40 always answers 200 with an E7006 error report.
TEST_CASE("execute of an unknown job is 404 on 2.41+ and a 200 E7006 report before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.post("/api/jobConfigurations/abcdefghijk/execute");
  const Json body = r.json();
  if (at_least(version, 41)) {
    CHECK(r.status == 404);
    CHECK(body.at("errorCode") == "E1005");
    CHECK(body.at("message") == "JobConfiguration with id abcdefghijk could not be found.");
  } else {
    CHECK(r.status == 200);
    CHECK(body.at("klass") == "org.hisp.dhis.scheduling.JobConfiguration");
    REQUIRE(body.at("errorReports").size() == 1);
    CHECK(body.at("errorReports")[0].at("errorCode") == "E7006");
    CHECK(body.at("errorReports")[0].at("message").get<std::string>().rfind("Failed to execute job: `", 0) == 0);
  }
}

// §3.1: executing a running job is 409 "Job is already running." on 2.41+; <=2.40 answers 200 with
// an E7006 error report.
TEST_CASE("execute of a running job is 409 on 2.41+ and a 200 E7006 report before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.add_job_configuration(
      "jobConfig01", "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 30s));
  REQUIRE(api.post("/api/jobConfigurations/jobConfig01/execute").status == 200);
  let_job_start(server, version);
  REQUIRE(job_row(api, "jobConfig01").at("jobStatus") == "RUNNING");
  const Reply r = api.post("/api/jobConfigurations/jobConfig01/execute");
  const Json body = r.json();
  if (at_least(version, 41)) {
    CHECK(r.status == 409);
    CHECK(body.at("status") == "ERROR");
    CHECK(body.at("message") == "Job is already running.");
  } else {
    CHECK(r.status == 200);
    REQUIRE(body.at("errorReports").size() == 1);
    CHECK(body.at("errorReports")[0].at("errorCode") == "E7006");
  }
  CHECK(feed(api, "ANALYTICS_TABLE", "jobConfig01").size() == 1);  // the run goes on undisturbed
}

// §3.1: an API-started job is ONCE_ASAP; once finished, /execute refuses it with 409 "Job did already
// run once." on 2.41+. On <=2.40 it was in memory only, with no row to execute: 200 with E7006.
TEST_CASE("execute of a finished API-started job is 409 already run once on 2.41+ and E7006 before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  let_job_start(server, version);
  server.advance(2s);
  const auto finished = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE(finished.size() == 2);
  REQUIRE(finished.front().completed);
  const Reply r = api.post("/api/jobConfigurations/" + id + "/execute");
  const Json body = r.json();
  if (at_least(version, 41)) {
    CHECK(r.status == 409);
    CHECK(body.at("status") == "ERROR");
    CHECK(body.at("errorCode") == "E1004");
    CHECK(body.at("message") == "Job did already run once.");
  } else {
    CHECK(r.status == 200);
    REQUIRE(body.at("errorReports").size() == 1);
    CHECK(body.at("errorReports")[0].at("errorCode") == "E7006");
  }
  for (int i = 0; i < 3; ++i) advance_to_next_tick(server);  // and it does not run again
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 2);
  CHECK(rows.front().time == finished.front().time);
  if (at_least(version, 41)) CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
}

// §1.5: a re-run shows the previous run's completed list until the new run's first row (next tick).
TEST_CASE("on 2.41+ a re-run saved job shows its previous run's rows until the next tick") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.add_job_configuration(
      "jobConfig01", "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 1s));
  REQUIRE(api.post("/api/jobConfigurations/jobConfig01/execute").status == 200);
  advance_to_next_tick(server);  // 10:11:20
  server.advance(5s);            // 10:11:25
  const auto first_run = feed(api, "ANALYTICS_TABLE", "jobConfig01");
  REQUIRE(first_run.size() == 2);
  REQUIRE(first_run.front().completed);

  REQUIRE(api.post("/api/jobConfigurations/jobConfig01/execute").status == 200);
  auto rows = feed(api, "ANALYTICS_TABLE", "jobConfig01");
  REQUIRE(rows.size() == 2);
  CHECK(rows.front().completed);
  CHECK(rows.front().time == first_run.front().time);
  server.advance(14999ms);  // 10:11:39.999
  rows = feed(api, "ANALYTICS_TABLE", "jobConfig01");
  REQUIRE(rows.size() == 2);
  CHECK(rows.front().time == first_run.front().time);
  server.advance(1ms);  // 10:11:40: the new run's first row replaces the old list
  rows = feed(api, "ANALYTICS_TABLE", "jobConfig01");
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows.front().completed);
  CHECK(rows.front().time == "2024-05-20T10:11:40.000");
}

// ================================================================================================
// Cancel (§3.1, §3.2, §1.5, §1.6)
// ================================================================================================

// §3.1: cancel is 204, also when nothing is left to cancel, and 404 E1005 for an unknown job.
TEST_CASE("on 2.41+ cancel answers 204, also with nothing to cancel, and 404 for an unknown job") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(2s);
  REQUIRE(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
  const Reply finished = api.post("/api/jobConfigurations/" + id + "/cancel");
  CHECK(finished.status == 204);
  CHECK(finished.body.empty());
  CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
  const Reply unknown = api.post("/api/jobConfigurations/abcdefghijk/cancel");
  CHECK(unknown.status == 404);
  CHECK(unknown.json().at("errorCode") == "E1005");
}

// §3.2: a queued ONCE_ASAP job is reverted: it never writes a row and its row says STOPPED.
TEST_CASE("on 2.41+ cancelling a queued job reverts it without any row") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  CHECK(api.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
  for (int i = 0; i < 6; ++i) {
    advance_to_next_tick(server);
    CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
  }
  const Json row = job_row(api, id);
  CHECK(row.at("lastExecutedStatus") == "STOPPED");
  CHECK(row.at("enabled") == false);
  CHECK(row.at("jobStatus") != "RUNNING");
}

namespace {

// Starts at 10:11:20; rows at :20 (start), :21 (Stage 1), :30 (Stage 2); Stage 3 is due at :51.
JobScript four_stage_analytics() {
  return JobScript()
      .start("Analytics table update")
      .stage("Stage 1", 1s)
      .stage("Stage 2", 9s)
      .stage("Stage 3", 21s)
      .complete("Analytics tables updated: {duration}", 5s);
}

// Kicks off four_stage_analytics() and cancels it at 10:11:25, while it runs.
std::string start_and_cancel_running_job(FakeServer& server, Api& api) {
  server.script_next("ANALYTICS_TABLE", four_stage_analytics());
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);  // 10:11:20
  server.advance(5s);            // 10:11:25
  REQUIRE(job_row(api, id).at("jobStatus") == "RUNNING");
  REQUIRE(api.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
  return id;
}

}  // namespace

// §3.2, §1.5: the flag is applied by the next housekeeping run (:40) and the job stops at its next
// stage (:51), writing no final row; the row says STOPPED.
TEST_CASE("on 2.41+ cancelling a running job stops it at the first stage after the next housekeeping tick") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = start_and_cancel_running_job(server, api);
  server.advance(5s);  // 10:11:30: a stage boundary before housekeeping saw the flag
  CHECK(has_message(stored_rows(api, "ANALYTICS_TABLE", id), "Stage 2"));
  CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  server.advance(10s);  // 10:11:40: housekeeping applies the flag; no boundary yet
  CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  server.advance(10999ms);  // 10:11:50.999
  CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  server.advance(1ms);  // 10:11:51: Stage 3 would start: the job stops
  const Json row = job_row(api, id);
  CHECK(row.at("jobStatus") == "DISABLED");
  CHECK(row.at("lastExecutedStatus") == "STOPPED");
  CHECK(row.at("lastFinished") == "2024-05-20T10:11:51.000");
  server.advance(1min);
  const auto rows = stored_rows(api, "ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 3);
  CHECK(rows.front().message == std::optional<std::string>("Stage 2"));
  CHECK_FALSE(rows.front().completed);
  CHECK_FALSE(has_message(rows, "Stage 3"));
}

// §1.6, §1.5: after a cancel the per-job feed shows one synthetic completed:true copy of the last row
// on 2.41.1+, then []; on 2.41.0 the list keeps its completed:false row forever.
TEST_CASE("on 2.41+ the feed of a cancelled job ends by the stale rule from 2.41.1 only") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = start_and_cancel_running_job(server, api);
  server.advance(26s);  // 10:11:51: stopped
  REQUIRE(job_row(api, id).at("lastExecutedStatus") == "STOPPED");
  const auto first = feed(api, "ANALYTICS_TABLE", id);
  if (at_least(version, 41, 1)) {
    REQUIRE(first.size() == 1);
    CHECK(first.front().completed);
    CHECK(first.front().level == NotificationLevel::Info);
    CHECK(first.front().message == std::optional<std::string>("Stage 2"));
    CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
    server.advance(1min);
    CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
  } else {
    REQUIRE(first.size() == 3);
    CHECK_FALSE(first.front().completed);
    server.advance(1h);
    const auto later = feed(api, "ANALYTICS_TABLE", id);
    REQUIRE(later.size() == 3);
    CHECK_FALSE(later.front().completed);
  }
}

// §3.1, §1.5: <=2.40 cancels by type; the CancellationException ends the run with ERROR completed:true.
TEST_CASE("on 2.40 and before cancel by type ends the job with an ERROR completed row") {
  const std::string version = GENERATE(from_range(versions_before(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE", JobScript()
                                            .start("Analytics table update")
                                            .stage("Stage 1", 1s)
                                            .stage("Stage 2", 4s)
                                            .complete("Analytics tables updated: {duration}", 5s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  server.advance(2s);
  const Reply r = api.post("/api/scheduling/cancel/ANALYTICS_TABLE");
  CHECK(r.status == 204);
  server.advance(3s);  // the Stage 2 boundary
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Error);
  CHECK_FALSE(has_message(rows, "Stage 2"));
  server.advance(1min);
  const auto later = feed(api, "ANALYTICS_TABLE", id);
  CHECK(later.size() == rows.size());
  CHECK_FALSE(has_message(later, "Stage 2"));
}

// §3.1, §4.2: a user who is neither superuser, maintainer nor the job's owner gets 403 E1006.
TEST_CASE("on 2.41+ cancel by another user without F_PERFORM_MAINTENANCE is 403 E1006") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api admin(server);
  Api viewer(server, "viewer", "Viewer123");
  const std::string id = id_of(kick_off(admin, "/api/resourceTables/analytics"));
  const Reply r = viewer.post("/api/jobConfigurations/" + id + "/cancel");
  CHECK(r.status == 403);
  const Json body = r.json();
  CHECK(body.at("httpStatus") == "Forbidden");
  CHECK(body.at("status") == "ERROR");
  CHECK(body.at("errorCode") == "E1006");
  CHECK(body.at("message") == "User has no access to JobConfiguration:" + id);
  advance_to_next_tick(server);  // not cancelled: it starts
  CHECK(job_row(admin, id).at("jobStatus") == "RUNNING");
}

// §3.1: a maintainer, or the job's own executedBy user, may cancel.
TEST_CASE("on 2.41+ a maintenance user or the job's owner may cancel it") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api admin(server);
  SECTION("a user with F_PERFORM_MAINTENANCE") {
    Api keeper(server, "keeper", "Keeper123");
    const std::string id = id_of(kick_off(admin, "/api/resourceTables/analytics"));
    CHECK(keeper.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
    CHECK(job_row(admin, id).at("lastExecutedStatus") == "STOPPED");
  }
  SECTION("the user who started the job") {
    Api viewer(server, "viewer", "Viewer123");
    const std::string id = id_of(kick_off(viewer, "/api/tracker", R"({"trackedEntities":[]})"));
    CHECK(viewer.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
  }
}

// ================================================================================================
// The running and last completed overviews (§3.1, §3.3)
// ================================================================================================

namespace {

// A 6-second analytics run: a stage without items, then a stage of three items (§3.3 totalItems).
JobScript analytics_with_items() {
  return JobScript()
      .start("Analytics table update")
      .stage("Validating analytics tables", 1s)
      .stage("Populating analytics tables", 1s)
      .items("Populating analytics table", 3, 1s)
      .complete("Analytics tables updated: {duration}", 1s);
}

// GET `path`, which must answer 200 with a JSON body.
Json get_json(Api& api, const std::string& path) {
  const Reply r = api.get(path);
  INFO(path << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  REQUIRE_FALSE(r.body.empty());
  return r.json();
}

// Kicks off analytics with `script`, lets it start (§2.3) and run for `run_for`; returns its id.
std::string run_analytics(FakeServer& server, Api& api, const std::string& version, JobScript script,
                          milliseconds run_for) {
  server.script_next("ANALYTICS_TABLE", std::move(script));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  let_job_start(server, version);
  server.advance(run_for);
  return id;
}

// When the first analytics job kicked off at kStart starts: at the 10:11:20 tick on 2.41+, with
// the kick-off before (§2.3); `plus_seconds` later.
std::string run_time(const std::string& version, int plus_seconds) {
  const int start = at_least(version, 41) ? 20 : 12;
  const int second = start + plus_seconds;
  return std::string("2024-05-20T10:11:") + (second < 10 ? "0" : "") + std::to_string(second) + ".000";
}

// The processes of GET /api/scheduling/completed/{type}: a Progress's sequence on 2.41+, the
// array itself before (§3.1).
Json completed_processes(Api& api, const std::string& version, const std::string& type) {
  const Json body = get_json(api, "/api/scheduling/completed/" + type);
  if (!at_least(version, 41)) {
    REQUIRE(body.is_array());
    return body;
  }
  REQUIRE(body.is_object());
  REQUIRE(body.contains("sequence"));
  return body.at("sequence");
}

}  // namespace

// §3.1: GET /api/scheduling/completed (also with a trailing slash) is {} until a run finished; a
// running job is not in it.
TEST_CASE("the completed overview is empty before any job finished") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  CHECK(get_json(api, "/api/scheduling/completed") == Json::object());
  CHECK(get_json(api, "/api/scheduling/completed/") == Json::object());
  const std::string id = run_analytics(server, api, version, analytics_with_items(), 3s);
  REQUIRE(server.job(id)->job_status == "RUNNING");
  CHECK(get_json(api, "/api/scheduling/completed") == Json::object());
}

// §3.1, §3.3: once the run ended, /api/scheduling/completed maps its type to the run's ProcessInfo:
// the process flattened, each stage its description plus " [items/totalItems]" when totalItems > 1,
// null fields omitted.
TEST_CASE("after an analytics run finished the completed overview lists its flattened process") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = run_analytics(server, api, version, analytics_with_items(), 6s);
  REQUIRE(server.job(id)->last_finished);
  for (const std::string path : {"/api/scheduling/completed", "/api/scheduling/completed/"}) {
    CAPTURE(path);
    const Json all = get_json(api, path);
    REQUIRE(all.size() == 1);
    REQUIRE(all.contains("ANALYTICS_TABLE"));
    const Json& list = all.at("ANALYTICS_TABLE");
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 1);
    const Json& p = list.at(0);
    CHECK(p.at("jobId") == id);
    CHECK(p.at("status") == "SUCCESS");
    CHECK(p.at("description") == "Analytics table update");
    CHECK(p.at("startedTime") == run_time(version, 0));
    CHECK(p.at("completedTime") == run_time(version, 6));
    CHECK(p.at("summary") == "Analytics tables updated: 0:00:06.000");
    CHECK(p.at("stages") == Json::array({"Validating analytics tables", "Populating analytics tables [3/3]"}));
    for (const char* absent : {"cancelledTime", "error", "duration", "complete", "userId"}) {
      CAPTURE(absent);
      CHECK_FALSE(p.contains(absent));
    }
  }
}

// §3.1, §3.3: GET /api/scheduling/completed/{type} is the Progress of the last finished run on
// 2.41+ and an array of its processes on 2.38-2.40; either way the structured processes, with
// stages carrying status, duration, complete, totalItems and items.
TEST_CASE("completed of a type is a Progress on 2.41+ and an array of processes before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = run_analytics(server, api, version, analytics_with_items(), 6s);
  const Json body = get_json(api, "/api/scheduling/completed/ANALYTICS_TABLE");
  if (at_least(version, 41)) {
    REQUIRE(body.is_object());
    CHECK_FALSE(body.contains("errors"));  // omitted when empty (§3.3)
  } else {
    REQUIRE(body.is_array());
  }
  const Json processes = completed_processes(api, version, "ANALYTICS_TABLE");
  REQUIRE(processes.size() == 1);
  const Json& p = processes.at(0);
  CHECK(p.at("jobId") == id);
  CHECK(p.at("status") == "SUCCESS");
  CHECK(p.at("complete") == true);
  CHECK(p.at("duration") == 6000);
  CHECK(p.at("startedTime") == run_time(version, 0));
  CHECK(p.at("completedTime") == run_time(version, 6));
  const Json& stages = p.at("stages");
  REQUIRE(stages.size() == 2);
  CHECK(stages.at(0).at("description") == "Validating analytics tables");
  CHECK(stages.at(0).at("status") == "SUCCESS");
  CHECK(stages.at(0).at("complete") == true);
  CHECK(stages.at(0).at("duration") == 1000);
  CHECK(stages.at(0).at("totalItems") == -1);
  CHECK(stages.at(1).at("description") == "Populating analytics tables");
  CHECK(stages.at(1).at("status") == "SUCCESS");
  CHECK(stages.at(1).at("complete") == true);
  CHECK(stages.at(1).at("duration") == 4000);
  CHECK(stages.at(1).at("totalItems") == 3);
  CHECK(stages.at(1).at("items").size() == 3);
}

// §3.1: with no finished run of the type, completed/{type} is a 200 with an empty body on 2.41+
// and [] before: at first, while one runs, and when only another type finished.
TEST_CASE("completed of a type with no finished run is an empty body on 2.41+ and [] before") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const auto check_none = [&](const std::string& type) {
    const Reply r = api.get("/api/scheduling/completed/" + type);
    INFO(type << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    if (at_least(version, 41)) {
      CHECK(r.body.empty());
    } else {
      CHECK(r.json() == Json::array());
    }
  };
  check_none("ANALYTICS_TABLE");
  const std::string id = run_analytics(server, api, version, analytics_with_items(), 3s);
  REQUIRE(server.job(id)->job_status == "RUNNING");
  check_none("ANALYTICS_TABLE");
  server.advance(3s);
  REQUIRE(server.job(id)->last_finished);
  check_none("RESOURCE_TABLE");
}

// §3.1: the last completed run of a type is the one that finished last: while a later run runs the
// earlier one is shown, once it finished it replaces the earlier one.
TEST_CASE("a later finished run replaces the earlier one in the completed endpoints") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const auto shown = [&]() {
    const Json all = get_json(api, "/api/scheduling/completed");
    REQUIRE(all.at("ANALYTICS_TABLE").size() == 1);
    const Json processes = completed_processes(api, version, "ANALYTICS_TABLE");
    REQUIRE(processes.size() == 1);
    CHECK(processes.at(0).at("jobId") == all.at("ANALYTICS_TABLE").at(0).at("jobId"));
    return all.at("ANALYTICS_TABLE").at(0).at("jobId").get<std::string>();
  };
  const std::string first = run_analytics(server, api, version, analytics_with_items(), 6s);
  CHECK(shown() == first);
  const std::string second = run_analytics(server, api, version, analytics_with_items(), 3s);
  REQUIRE(second != first);
  REQUIRE(server.job(second)->job_status == "RUNNING");
  CHECK(shown() == first);
  server.advance(3s);
  REQUIRE(server.job(second)->last_finished);
  CHECK(shown() == second);
}

// §3.1, §3.3: a failed run is a finished run: status ERROR with its error and no summary; the
// stage open when it failed ends ERROR.
TEST_CASE("a failed run is reported by the completed endpoints with status ERROR") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = run_analytics(server, api, version,
                                       JobScript()
                                           .start("Analytics table update")
                                           .stage("Populating analytics tables", 1s)
                                           .fail("Analytics table update failed", 2s),
                                       3s);
  REQUIRE(server.job(id)->last_finished);
  const Json all = get_json(api, "/api/scheduling/completed");
  REQUIRE(all.at("ANALYTICS_TABLE").size() == 1);
  const Json& info = all.at("ANALYTICS_TABLE").at(0);
  CHECK(info.at("jobId") == id);
  CHECK(info.at("status") == "ERROR");
  CHECK(info.at("error") == "Analytics table update failed");
  CHECK(info.at("completedTime") == run_time(version, 3));
  CHECK_FALSE(info.contains("summary"));
  CHECK(info.at("stages") == Json::array({"Populating analytics tables"}));
  const Json processes = completed_processes(api, version, "ANALYTICS_TABLE");
  REQUIRE(processes.size() == 1);
  CHECK(processes.at(0).at("status") == "ERROR");
  CHECK(processes.at(0).at("error") == "Analytics table update failed");
  REQUIRE(processes.at(0).at("stages").size() == 1);
  CHECK(processes.at(0).at("stages").at(0).at("status") == "ERROR");
}

// §3.2, §3.3: on 2.41+ a cancelled run is a finished run: status CANCELLED with its cancelledTime,
// no completedTime; the stage it stopped in is CANCELLED.
TEST_CASE("on 2.41+ a cancelled run is reported by the completed endpoints as CANCELLED") {
  const std::string version = GENERATE(from_range(versions_from(41)));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = start_and_cancel_running_job(server, api);
  server.advance(26s);  // 10:11:51: stopped at the Stage 3 boundary
  REQUIRE(job_row(api, id).at("lastExecutedStatus") == "STOPPED");
  const Json all = get_json(api, "/api/scheduling/completed");
  REQUIRE(all.at("ANALYTICS_TABLE").size() == 1);
  const Json& info = all.at("ANALYTICS_TABLE").at(0);
  CHECK(info.at("jobId") == id);
  CHECK(info.at("status") == "CANCELLED");
  CHECK(info.at("cancelledTime") == "2024-05-20T10:11:51.000");
  CHECK_FALSE(info.contains("completedTime"));
  CHECK(info.at("stages") == Json::array({"Stage 1", "Stage 2"}));
  const Json processes = completed_processes(api, version, "ANALYTICS_TABLE");
  REQUIRE(processes.size() == 1);
  CHECK(processes.at(0).at("status") == "CANCELLED");
  REQUIRE(processes.at(0).at("stages").size() == 2);
  CHECK(processes.at(0).at("stages").at(0).at("status") == "SUCCESS");
  CHECK(processes.at(0).at("stages").at(1).at("status") == "CANCELLED");
}

// §3.1, §3.3: GET /api/scheduling/running lists each running job's processes as ProcessInfo, the
// stages flattened as in the completed overview, " [items so far/totalItems]" live; a job that
// finished is no longer listed.
TEST_CASE("the running overview flattens the live progress of a running job") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = run_analytics(server, api, version, analytics_with_items(), 3500ms);
  const auto running_info = [&]() {
    const Json all = get_json(api, "/api/scheduling/running");
    REQUIRE(all.size() == 1);
    REQUIRE(all.contains("ANALYTICS_TABLE"));
    REQUIRE(all.at("ANALYTICS_TABLE").size() == 1);
    return all.at("ANALYTICS_TABLE").at(0);
  };
  Json info = running_info();
  CHECK(info.at("jobId") == id);
  CHECK(info.at("status") == "RUNNING");
  CHECK(info.at("description") == "Analytics table update");
  CHECK(info.at("startedTime") == run_time(version, 0));
  CHECK(info.at("stages") == Json::array({"Validating analytics tables", "Populating analytics tables [1/3]"}));
  for (const char* absent : {"completedTime", "cancelledTime", "summary", "error", "duration"}) {
    CAPTURE(absent);
    CHECK_FALSE(info.contains(absent));
  }
  server.advance(1s);
  info = running_info();
  CHECK(info.at("stages") == Json::array({"Validating analytics tables", "Populating analytics tables [2/3]"}));
  server.advance(1500ms);  // the run ended
  REQUIRE(server.job(id)->last_finished);
  CHECK(get_json(api, "/api/scheduling/running") == Json::object());
}

// §3.1, §1.1: an unknown {jobType} on completed/{type} gives the same 400 as the other {jobType}
// routes of the version.
TEST_CASE("completed of an unknown job type gives 400") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const Reply r = api.get("/api/scheduling/completed/FOO");
  INFO(r.body);
  REQUIRE(r.status == 400);
  const Json body = r.json();
  CHECK(body.at("httpStatusCode") == 400);
  CHECK(body.at("status") == "ERROR");
  const std::string message = body.at("message");
  CHECK(message.find("FOO") != std::string::npos);
  const Reply tasks = api.get("/api/system/tasks/FOO");
  REQUIRE(tasks.status == 400);
  CHECK(message == tasks.json().at("message"));
}

// ================================================================================================
// Scripted outcomes over HTTP (§1.5, §1.7)
// ================================================================================================

// §1.5: success ends INFO completed:true "Analytics tables updated: H:mm:ss.SSS".
TEST_CASE("a successful analytics run ends INFO completed with an H:mm:ss.SSS duration") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  SECTION("scripted: 83.456 s") {
    server.script_next("ANALYTICS_TABLE", JobScript()
                                              .start("Analytics table update")
                                              .stage("Populating analytics tables", 61s)
                                              .complete("Analytics tables updated: {duration}", 22456ms));
    const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
    let_job_start(server, version);
    server.advance(83455ms);
    CHECK_FALSE(feed(api, "ANALYTICS_TABLE", id).front().completed);
    server.advance(1ms);
    const auto rows = feed(api, "ANALYTICS_TABLE", id);
    REQUIRE(rows.size() == 3);
    CHECK(rows.front().completed);
    CHECK(rows.front().level == NotificationLevel::Info);
    CHECK(rows.front().message == std::optional<std::string>("Analytics tables updated: 0:01:23.456"));
  }
  SECTION("the default analytics timeline") {
    const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
    let_job_start(server, version);
    server.advance(5min);
    const auto rows = feed(api, "ANALYTICS_TABLE", id);
    REQUIRE_FALSE(rows.empty());
    CHECK(rows.front().completed);
    CHECK(rows.front().level == NotificationLevel::Info);
    REQUIRE(rows.front().message);
    CHECK(std::regex_match(*rows.front().message, std::regex(R"(Analytics tables updated: \d+:\d{2}:\d{2}\.\d{3})")));
  }
}

// §1.5: failedProcess ends ERROR completed:true.
TEST_CASE("a script that fails ends ERROR completed") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE", JobScript()
                                            .start("Analytics table update")
                                            .stage("Populating analytics tables", 1s)
                                            .fail("Analytics table update failed", 2s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  let_job_start(server, version);
  server.advance(3s);
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 3);
  CHECK(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Error);
  CHECK(rows.front().message == std::optional<std::string>("Analytics table update failed"));
  CHECK_FALSE(rows[1].completed);
}

// §1.5: an exception ends ERROR completed:true "Process failed: <message>".
TEST_CASE("a script that crashes ends ERROR completed with Process failed") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next(
      "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").stage("Populating analytics tables", 1s).crash("boom", 2s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  let_job_start(server, version);
  server.advance(3s);
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Error);
  CHECK(rows.front().message == std::optional<std::string>("Process failed: boom"));
}

// §1.5, §1.7: a data value import ends INFO completed:true and its summary is stored just after:
// right at completion the summary is an empty 200 body.
TEST_CASE("a data value import ends INFO completed and its summary follows the completed row") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/dataValueSets?async=true", R"({"dataValues":[]})"));
  let_job_start(server, version);
  const std::string summary_path = "/api/system/taskSummaries/DATAVALUE_IMPORT/" + id;
  std::vector<Notification> rows;
  int waited_ms = 0;
  for (; waited_ms < 10000; waited_ms += 50) {
    rows = feed(api, "DATAVALUE_IMPORT", id);
    if (!rows.empty() && rows.front().completed) break;
    const Reply early = api.get(summary_path);
    REQUIRE(early.status == 200);
    CHECK(early.body.empty());
    server.advance(50ms);
  }
  REQUIRE(!rows.empty());
  REQUIRE(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Info);
  REQUIRE(rows.front().message);
  CHECK(rows.front().message->rfind("Import complete with status OK", 0) == 0);
  const Reply at_completion = api.get(summary_path);
  CHECK(at_completion.status == 200);
  CHECK(at_completion.body.empty());
  server.advance(1s);
  const Reply later = api.get(summary_path);
  REQUIRE(later.status == 200);
  REQUIRE_FALSE(later.body.empty());
  const Json summary = later.json();
  CHECK(summary.at("responseType") == "ImportSummary");
  CHECK(summary.at("status") == "SUCCESS");
  CHECK(dhis2::classify_report(summary) == dhis2::ResponseKind::ImportSummary);
}

// §1.5: 2.41+ auto-completes a job that returned without completedProcess; <=2.40 does not.
TEST_CASE("a script that ends without completing is completed implicitly on 2.41+ only") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics table update").stage("Populating analytics tables", 1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  let_job_start(server, version);
  server.advance(2s);
  const auto rows = feed(api, "ANALYTICS_TABLE", id);
  REQUIRE_FALSE(rows.empty());
  if (at_least(version, 41)) {
    REQUIRE(rows.size() == 3);
    CHECK(rows.front().completed);
    CHECK(rows.front().level == NotificationLevel::Info);
    CHECK(rows.front().message == std::optional<std::string>("(process completed implicitly)"));
    CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
  } else {
    REQUIRE(rows.size() == 2);
    CHECK_FALSE(rows.front().completed);
    CHECK(rows.front().message == std::optional<std::string>("Populating analytics tables"));
  }
}

// ================================================================================================
// Data integrity results (§1.7, §2.2)
// ================================================================================================

// §1.7, §2.2: GET /api/dataIntegrity/summary?checks=a,b serves the finished job's summary results.
TEST_CASE("data integrity summary results are served after the job finished") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  kick_off(api, "/api/dataIntegrity/summary?checks=orgunits_orphaned,categories_no_options");
  server.advance(1min);
  const Reply r = api.get("/api/dataIntegrity/summary?checks=orgunits_orphaned,categories_no_options");
  REQUIRE(r.status == 200);
  const Json results = r.json();
  REQUIRE(results.is_object());
  CHECK(results.size() == 2);
  for (const char* check : {"orgunits_orphaned", "categories_no_options"}) {
    CAPTURE(check);
    REQUIRE(results.contains(check));
    CHECK(results.at(check).at("name") == check);
    CHECK(results.at(check).at("count").is_number());
  }
  const Json one = api.get("/api/dataIntegrity/summary?checks=orgunits_orphaned").json();
  CHECK(one.size() == 1);
  CHECK(one.contains("orgunits_orphaned"));
}

// §2.2: GET /api/dataIntegrity/details?checks=… serves the finished details job's issues.
TEST_CASE("data integrity details results are served after the job finished") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  kick_off(api, "/api/dataIntegrity/details?checks=orgunits_orphaned,categories_no_options");
  server.advance(1min);
  const Reply r = api.get("/api/dataIntegrity/details?checks=orgunits_orphaned,categories_no_options");
  REQUIRE(r.status == 200);
  const Json results = r.json();
  REQUIRE(results.is_object());
  CHECK(results.size() == 2);
  for (const char* check : {"orgunits_orphaned", "categories_no_options"}) {
    CAPTURE(check);
    REQUIRE(results.contains(check));
    CHECK(results.at(check).at("name") == check);
    CHECK(results.at(check).at("issues").is_array());
  }
}

// ================================================================================================
// The test-side API: start_job, job(), jobs()
// ================================================================================================

// DESIGN.md §6, §2.3, §3.3: start_job runs like a kick-off; job() and jobs() follow the job's states.
TEST_CASE("start_job and job() and jobs() reflect the job's states") {
  const std::string version = GENERATE(from_range(kAllVersions));
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string id = server.start_job(
      "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").complete("Analytics tables updated: {duration}", 5s));
  CHECK(is_uid(id));
  auto job = server.job(id);
  REQUIRE(job);
  CHECK(job->job_type == "ANALYTICS_TABLE");
  CHECK(job->ad_hoc);
  if (at_least(version, 41)) {
    CHECK(job->job_status == "SCHEDULED");
    CHECK(job->last_executed_status == "NOT_STARTED");
    CHECK(feed(api, "ANALYTICS_TABLE", id).empty());
    advance_to_next_tick(server);
  }
  job = server.job(id);
  REQUIRE(job);
  CHECK(job->job_status == "RUNNING");
  CHECK(feed(api, "ANALYTICS_TABLE", id).size() == 1);
  const auto all = server.jobs();
  CHECK(std::any_of(all.begin(), all.end(), [&](const dhis2::testing::JobInfo& j) { return j.uid == id; }));
  server.advance(5s);
  job = server.job(id);
  REQUIRE(job);
  CHECK(job->job_status == "DISABLED");
  CHECK(job->last_executed_status == "COMPLETED");
  CHECK(job->last_finished.has_value());
  CHECK_FALSE(server.job("abcdefghijk").has_value());
}
