// The emulator's notification feed as a client observes it over HTTP: GET /api/system/tasks...,
// /api/system/taskSummaries... and DELETE /api/system/tasks... on every emulated version, checked
// against ../shared/docs/dhis2-wire.md §1 (task endpoints, notification JSON, ids, ordering, caps
// and eviction, how messages and `completed` are produced, the stale-job rule, task summaries) and
// §8. The emulator's clock stands still: every test drives it with advance(), so nothing sleeps.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>  // these tests talk to the emulator over HTTP directly

namespace {

using dhis2::Notification;
using dhis2::NotificationLevel;
using dhis2::ServerVersion;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::JobScript;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

// Every version profile the feed tests run on.
#define FEED_ALL_VERSIONS \
  GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.7", "2.40.8", "2.41.0", "2.41.3", "2.41.4", "2.42.1", "2.43.1")
// The versions with the rewritten notifier (2.40.8+, 2.41.4+, 2.42+).
#define FEED_NEW_NOTIFIER_VERSIONS GENERATE(as<std::string>{}, "2.40.8", "2.41.4", "2.42.1", "2.43.1")

// 2025-05-20T10:00:00Z: the emulator starts here, on the 20-second scheduler grid (§2.3), so a job
// started on 2.41+ begins exactly at the tick the test advances to.
const std::chrono::system_clock::time_point kStart{std::chrono::seconds(1747735200)};

// ---- what the wire reference says per version (§0), written out independently of the emulator --

bool at_least(const std::string& version, const char* minimum) {
  return ServerVersion::parse(version) >= ServerVersion::parse(minimum);
}
bool in_line(const std::string& version, int minor) { return ServerVersion::parse(version).minor == minor; }

// DefaultNotifier + NotifierStore: 2.40.8+, 2.41.4+, 2.42+ (§0).
bool new_notifier(const std::string& v) {
  return at_least(v, "2.42") || (in_line(v, 41) && at_least(v, "2.41.4")) || (in_line(v, 40) && at_least(v, "2.40.8"));
}
// The stale-job rule of GET /api/system/tasks/{type}/{id}: 2.41.1+ (§1.6).
bool stale_rule(const std::string& v) { return at_least(v, "2.41.1"); }
// dataType/data on a run's first row: 2.39.2+, 2.40+ (§0).
bool parameters_row(const std::string& v) { return at_least(v, "2.40") || (in_line(v, 39) && at_least(v, "2.39.2")); }
// Every row of an API-started job has id == uid == the job id: 2.38-2.40.7 (§0, §1.2).
bool ids_are_job_id(const std::string& v) { return !at_least(v, "2.40.8"); }
// Row ids derived from the (forced unique) timestamp: 2.42+ (§1.2).
bool ids_from_time(const std::string& v) { return at_least(v, "2.42"); }
// Types outside isUsingNotifications write ERROR-level rows ("" messages): 2.41.4+, 2.42+ (§1.5).
bool quiet_types_write_rows(const std::string& v) {
  return at_least(v, "2.42") || (in_line(v, 41) && at_least(v, "2.41.4"));
}
// The 2.41+ scheduler: jobs in the DB, a 20 s loop (§2.3).
bool scheduler_grid(const std::string& v) { return at_least(v, "2.41"); }
// notifierCleanAfterIdleTime (§1.4): 10 min on 2.42+, 1 min on the backports.
ms clean_after_idle(const std::string& v) { return at_least(v, "2.42") ? ms(10min) : ms(1min); }

// Types started at once on 2.41+ (JobType#isUsingContinuousExecution, §2.3).
bool continuous(const std::string& version, const std::string& type) {
  if (type == "METADATA_IMPORT" || type == "TRACKER_IMPORT_JOB" || type == "DATA_INTEGRITY" ||
      type == "DATA_INTEGRITY_DETAILS") {
    return true;
  }
  return at_least(version, "2.42") && (type == "GEOJSON_IMPORT" || type == "SMS_INBOUND_PROCESSING");
}

const std::regex& time_pattern() {
  static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})");
  return pattern;
}

// The server's time string for kStart + offset (the emulated server runs in UTC).
std::string time_at(ms offset) {
  const auto since_epoch = std::chrono::duration_cast<ms>(kStart.time_since_epoch()) + offset;
  return dhis2::format_local_time(dhis2::LocalTime(since_epoch));
}

std::vector<std::string> keys_of(const ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& item : object.items()) keys.push_back(item.key());
  return keys;
}

// One emulated server and an HTTP client talking to it as a DHIS2 client would.
class Emulated {
 public:
  explicit Emulated(std::string version_text, std::uint64_t seed = 20240520)
      : version(std::move(version_text)), server(options_for(version, seed)), http(server.url()) {
    http.set_default_headers({{"X-Requested-With", "XMLHttpRequest"}});
    http.set_basic_auth("admin", "district");
    http.set_keep_alive(true);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(10, 0);
    http.set_write_timeout(10, 0);
  }

  httplib::Result get(const std::string& path) {
    auto res = http.Get(path.c_str());
    REQUIRE(static_cast<bool>(res));
    return res;
  }
  httplib::Result post(const std::string& path) {
    auto res = http.Post(path.c_str(), "", "application/json");
    REQUIRE(static_cast<bool>(res));
    return res;
  }
  httplib::Result del(const std::string& path) {
    auto res = http.Delete(path.c_str());
    REQUIRE(static_cast<bool>(res));
    return res;
  }

  // GET /api/system/tasks/{type}/{id} as raw JSON (200 required).
  json feed_json(const std::string& type, const std::string& id) {
    const auto res = get("/api/system/tasks/" + type + "/" + id);
    INFO(res->body);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }
  // GET /api/system/tasks/{type}/{id}, decoded.
  std::vector<Notification> feed(const std::string& type, const std::string& id) {
    return dhis2::notifications_from_json(feed_json(type, id));
  }
  // GET /api/system/taskSummaries/{type}/{id}: the raw body (200 required).
  std::string summary_body(const std::string& type, const std::string& id) {
    const auto res = get("/api/system/taskSummaries/" + type + "/" + id);
    REQUIRE(res->status == 200);
    return res->body;
  }
  // GET returning a JSON object whose key order matters.
  ordered_json get_ordered(const std::string& path) {
    const auto res = get(path);
    INFO(path << " -> " << res->body);
    REQUIRE(res->status == 200);
    return ordered_json::parse(res->body);
  }

  void advance(ms by) { server.advance(by); }
  ms now_offset() { return std::chrono::duration_cast<ms>(server.clock().now() - kStart); }
  // Moves to the next 20-second scheduler tick strictly after now.
  void to_next_tick() { advance(20000ms - now_offset() % 20000ms); }

  // Starts a job as a kick-off would and, on 2.41+, lets the scheduler tick start it (unless its
  // type is continuous). The job's first step runs at the returned moment.
  std::string begin(const std::string& type, JobScript script, json parameters = json::object()) {
    const std::string id = server.start_job(type, std::move(script), std::move(parameters));
    if (scheduler_grid(version) && !continuous(version, type)) to_next_tick();
    return id;
  }

  std::string version;
  FakeServer server;
  httplib::Client http;

 private:
  static FakeServerOptions options_for(const std::string& version, std::uint64_t seed) {
    FakeServerOptions options;
    options.version = version;
    options.start_time = kStart;
    options.seed = seed;
    return options;
  }
};

JobScript three_row_script() {
  return JobScript()
      .start("Analytics table update", {{"lastYears", 2}, {"skipResourceTables", false}})
      .stage("Populating analytics tables", 1000ms)
      .complete("Analytics tables updated: {duration}", 2000ms);
}

std::vector<std::string> messages_of(const std::vector<Notification>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(row.message ? *row.message : std::string("<absent>"));
  return out;
}

std::size_t count_level(const std::vector<Notification>& rows, NotificationLevel level) {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [level](const Notification& n) { return n.level == level; }));
}

}  // namespace

// ---- GET /api/system/tasks/{type}/{id}: order and fields ---------------------------------------

// §1.1 (per-job list newest first), §1.2 (field set, time format, nulls omitted), §8.
TEST_CASE("emulator feed: per-job rows are newest first with DHIS2's field set", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", three_row_script());
  const ms started = e.now_offset();
  e.advance(3000ms);

  const json raw = e.feed_json("ANALYTICS_TABLE", id);
  REQUIRE(raw.is_array());
  REQUIRE(raw.size() == 3);
  const std::set<std::string> allowed = {"id",      "uid",       "level",    "category", "time",
                                         "message", "completed", "dataType", "data"};
  for (const auto& row : raw) {
    for (const auto& field : row.items()) {
      CAPTURE(field.key());
      CHECK(allowed.count(field.key()) == 1);
      CHECK_FALSE(field.value().is_null());  // NON_NULL: nulls are omitted
    }
    for (const char* required : {"id", "uid", "level", "category", "time", "message", "completed"}) {
      CAPTURE(required);
      CHECK(row.contains(required));
    }
    CHECK(row.at("id") == row.at("uid"));
    CHECK(row.at("category") == "ANALYTICS_TABLE");
    CHECK(row.at("completed").is_boolean());
    const std::string time = row.at("time").get<std::string>();
    CAPTURE(time);
    CHECK(std::regex_match(time, time_pattern()));  // yyyy-MM-ddTHH:mm:ss.SSS, no zone
  }

  const auto rows = dhis2::notifications_from_json(raw);
  CHECK(messages_of(rows) == std::vector<std::string>{"Analytics tables updated: 0:00:03.000",
                                                      "Populating analytics tables", "Analytics table update"});
  CHECK(rows[0].level == NotificationLevel::Info);
  CHECK(rows[0].completed);
  CHECK_FALSE(rows[1].completed);
  CHECK_FALSE(rows[2].completed);
  CHECK(rows[0].time == time_at(started + 3000ms));
  CHECK(rows[1].time == time_at(started + 1000ms));
  CHECK(rows[2].time == time_at(started));
  CHECK(rows[0].time > rows[1].time);
  CHECK(rows[1].time > rows[2].time);
}

// §0 (dataType/data since 2.39.2, 2.40.0) and §1.2 (first message of a run only; dataType even
// without data).
TEST_CASE("emulator feed: the first row carries dataType PARAMETERS and data from 2.39.2/2.40", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const json parameters = {{"lastYears", 2}, {"skipResourceTables", false}};
  const std::string id = e.begin("ANALYTICS_TABLE", three_row_script(), parameters);
  e.advance(3000ms);
  const json raw = e.feed_json("ANALYTICS_TABLE", id);
  REQUIRE(raw.size() == 3);
  const json& first = raw.back();
  if (parameters_row(version)) {
    CHECK(first.value("dataType", "") == "PARAMETERS");
    REQUIRE(first.contains("data"));
    CHECK(first.at("data") == parameters);
  } else {
    CHECK_FALSE(first.contains("dataType"));
    CHECK_FALSE(first.contains("data"));
  }
  for (std::size_t i = 0; i + 1 < raw.size(); ++i) {
    CHECK_FALSE(raw[i].contains("dataType"));
    CHECK_FALSE(raw[i].contains("data"));
  }

  // A job without parameters: dataType is there, data is not.
  const std::string bare = e.begin("RESOURCE_TABLE",
                                   JobScript().start("Resource table update", json()).complete("done", 500ms));
  e.advance(1000ms);
  const json resource = e.feed_json("RESOURCE_TABLE", bare);
  REQUIRE(resource.size() == 2);
  CHECK(resource.back().contains("dataType") == parameters_row(version));
  CHECK_FALSE(resource.back().contains("data"));
}

// §1.2 ("message" absent when the summary is null, completedProcess(null)).
TEST_CASE("emulator feed: a completion without a summary has no message key", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin(
      "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").stage("Populating", 500ms).complete(std::nullopt, 500ms));
  e.advance(1000ms);
  const json raw = e.feed_json("ANALYTICS_TABLE", id);
  REQUIRE(raw.size() == 3);
  CHECK(raw[0].at("completed") == true);
  CHECK(raw[0].at("level") == "INFO");
  CHECK_FALSE(raw[0].contains("message"));
  CHECK(raw[1].at("message") == "Populating");
  const auto rows = dhis2::notifications_from_json(raw);
  CHECK_FALSE(rows[0].message.has_value());
}

// §0 and §1.2 (ids per version), Gotcha 2: on 2.38-2.40.7 every row of an API-started job has the
// job's id; from 2.40.8 each row has its own id, stable across polls.
TEST_CASE("emulator feed: row ids equal the job id on 2.38-2.40.7 and are unique per row from 2.40.8",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  e.server.script_next("ANALYTICS_TABLE", JobScript()
                                              .start("Analytics table update")
                                              .stage("Generating resource tables", 400ms)
                                              .stage("Populating analytics tables", 400ms)
                                              .complete("Analytics tables updated", 400ms));
  const auto kicked = e.post("/api/resourceTables/analytics");
  REQUIRE(kicked->status == 200);
  const std::string job_id = json::parse(kicked->body).at("response").at("id").get<std::string>();
  if (scheduler_grid(version)) {
    CHECK(e.feed("ANALYTICS_TABLE", job_id).empty());  // not started before the tick (§2.3)
    e.to_next_tick();
  }
  e.advance(2000ms);
  const auto rows = e.feed("ANALYTICS_TABLE", job_id);
  REQUIRE(rows.size() == 4);
  std::set<std::string> ids;
  for (const auto& row : rows) {
    CHECK(row.id == row.uid);
    ids.insert(row.id);
  }
  if (ids_are_job_id(version)) {
    CHECK(ids == std::set<std::string>{job_id});
  } else {
    CHECK(ids.size() == rows.size());
    CHECK(ids.count(job_id) == 0);
    const auto again = e.feed("ANALYTICS_TABLE", job_id);
    REQUIRE(again.size() == rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) CHECK(again[i].id == rows[i].id);
  }
}

// §1.2 (2.42+: generateUid(timestamp), each stored timestamp >= previous + 1 ms on the node).
TEST_CASE("emulator feed: rows in the same millisecond get times 1 ms apart and timestamp ids on 2.42+",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  const auto run = [&version](std::uint64_t seed) {
    Emulated e(version, seed);
    const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                          .start("Analytics table update")
                                                          .stage("Stage a", 0ms)
                                                          .stage("Stage b", 0ms)
                                                          .complete("Analytics tables updated", 0ms));
    const ms started = e.now_offset();
    e.advance(100ms);
    auto rows = e.feed("ANALYTICS_TABLE", id);
    REQUIRE(rows.size() == 4);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ms expected = ids_from_time(version) ? started + ms(3 - static_cast<long>(i)) : started;
      CHECK(rows[i].time == time_at(expected));  // newest first: strictly decreasing on 2.42+
    }
    return rows;
  };
  const auto first = run(1);
  const auto second = run(2);
  std::set<std::string> ids;
  for (const auto& row : first) ids.insert(row.id);
  if (ids_are_job_id(version)) {
    CHECK(ids.size() == 1);
  } else {
    CHECK(ids.size() == first.size());
  }
  // Derived from the time on 2.42+: another server (other random seed) gives the same ids for the
  // same times. Random on 2.40.8-2.41.x; the job id (random) before.
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (ids_from_time(version)) {
      CHECK(first[i].id == second[i].id);
    } else {
      CHECK(first[i].id != second[i].id);
    }
  }
}

// ---- LOOP replacement ----------------------------------------------------------------------

// §1.2 (a LOOP entry is replaced by the next message) and §8.
TEST_CASE("emulator feed: while items run exactly one LOOP row, the newest, is visible", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .stage("Populating analytics tables", 1000ms)
                                                        .items("Populating analytics table analytics_2024", 12, 500ms)
                                                        .stage("Applying aggregation levels", 1000ms)
                                                        .complete("Analytics tables updated", 1000ms));
  e.advance(1000ms);
  for (int i = 1; i <= 12; ++i) {
    e.advance(500ms);
    const auto rows = e.feed("ANALYTICS_TABLE", id);
    CAPTURE(i);
    REQUIRE(rows.size() == 3);
    CHECK(count_level(rows, NotificationLevel::Loop) == 1);
    CHECK(rows[0].level == NotificationLevel::Loop);
    CHECK(rows[0].message == "[" + std::to_string(i) + "/12] Populating analytics table analytics_2024");
    CHECK(rows[1].message == "Populating analytics tables");
  }
  e.advance(1000ms);
  const auto after_stage = e.feed("ANALYTICS_TABLE", id);
  CHECK(count_level(after_stage, NotificationLevel::Loop) == 0);
  CHECK(messages_of(after_stage) ==
        std::vector<std::string>{"Applying aggregation levels", "Populating analytics tables", "Analytics table update"});
  e.advance(1000ms);
  const auto done = e.feed("ANALYTICS_TABLE", id);
  CHECK(count_level(done, NotificationLevel::Loop) == 0);
  CHECK(done.size() == 4);
}

// §1.2 and §8: "a LOOP is always overwritten by whatever comes next", whatever its level.
TEST_CASE("emulator feed: a LOOP row is removed when the next row of any level is stored", "[emulator][feed]") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.7", "2.40.8", "2.41.0", "2.42.1");
  const std::string next = GENERATE(as<std::string>{}, "stage", "warn", "debug", "error", "loop", "complete", "fail");
  CAPTURE(version, next);
  Emulated e(version);
  JobScript script;
  script.start("Analytics table update").items("Populating analytics table", 3, 500ms);
  std::string expected_message;
  NotificationLevel expected_level = NotificationLevel::Info;
  if (next == "stage") {
    script.stage("Creating indexes", 500ms);
    expected_message = "Creating indexes";
  } else if (next == "warn") {
    script.message(NotificationLevel::Warn, "Import process aborted", 500ms);
    expected_message = "Import process aborted";
    expected_level = NotificationLevel::Warn;
  } else if (next == "debug") {
    script.message(NotificationLevel::Debug, "Batch flushed", 500ms);
    expected_message = "Batch flushed";
    expected_level = NotificationLevel::Debug;
  } else if (next == "error") {
    script.failed_stage("Populating failed for analytics_2023", 500ms);
    expected_message = "Populating failed for analytics_2023";
    expected_level = NotificationLevel::Error;
  } else if (next == "loop") {
    script.items("Creating index", 1, 500ms);
    expected_message = "[1/1] Creating index";
    expected_level = NotificationLevel::Loop;
  } else if (next == "complete") {
    script.complete("Analytics tables updated", 500ms);
    expected_message = "Analytics tables updated";
  } else {
    script.fail("Analytics table update failed", 500ms);
    expected_message = "Analytics table update failed";
    expected_level = NotificationLevel::Error;
  }
  // On 2.41+ a job that returns without completing gets "(process completed implicitly)" (§1.5):
  // keep the run going past the checks.
  if (next != "complete" && next != "fail") script.complete("Analytics tables updated", 5000ms);
  const std::string id = e.begin("ANALYTICS_TABLE", script);
  e.advance(1500ms);
  const auto before = e.feed("ANALYTICS_TABLE", id);
  REQUIRE(before.size() == 2);
  CHECK(before[0].message == "[3/3] Populating analytics table");
  e.advance(500ms);
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 2);  // the LOOP row gave way to the new one
  CHECK(rows[0].message == expected_message);
  CHECK(rows[0].level == expected_level);
  CHECK(rows[1].message == "Analytics table update");
  CHECK(count_level(rows, NotificationLevel::Loop) == (next == "loop" ? 1u : 0u));
}

// §1.2 and §8: "Non-LOOP entries are never replaced".
TEST_CASE("emulator feed: non-LOOP rows are never replaced", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .stage("Stage one", 100ms)
                                                        .message(NotificationLevel::Warn, "A warning", 100ms)
                                                        .message(NotificationLevel::Debug, "A debug line", 100ms)
                                                        .failed_stage("A failed stage", 100ms)
                                                        .message(NotificationLevel::Info, "An info line", 100ms)
                                                        .stage("Stage two", 100ms)
                                                        .complete("Analytics tables updated", 100ms));
  e.advance(1000ms);
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  CHECK(messages_of(rows) == std::vector<std::string>{"Analytics tables updated", "Stage two", "An info line",
                                                      "A failed stage", "A debug line", "A warning", "Stage one",
                                                      "Analytics table update"});
  REQUIRE(rows.size() == 8);
  CHECK(rows[3].level == NotificationLevel::Error);
  CHECK(rows[4].level == NotificationLevel::Debug);
  CHECK(rows[5].level == NotificationLevel::Warn);
}

// ---- errors and headers ----------------------------------------------------------------------

// §1.1: a well-formed but unknown job id gives 200 [] in every version.
TEST_CASE("emulator feed: an unknown job id gives 200 and an empty list", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const auto res = e.get("/api/system/tasks/ANALYTICS_TABLE/a0Bc1De2Fg3");
  CHECK(res->status == 200);
  CHECK(json::parse(res->body) == json::array());
}

// §1.1: unknown jobType -> 400, ConvertEnum message on 2.40.8+/2.41.4+/2.42+, the
// IllegalArgumentException message before.
TEST_CASE("emulator feed: an unknown job type gives 400 with the version's message", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  for (const std::string path : {"/api/system/tasks/FOO/a0Bc1De2Fg3", "/api/system/tasks/FOO"}) {
    CAPTURE(path);
    const auto res = e.get(path);
    CHECK(res->status == 400);
    const json body = json::parse(res->body);
    CHECK(body.at("httpStatusCode") == 400);
    CHECK(body.at("status") == "ERROR");
    const std::string message = body.at("message").get<std::string>();
    CAPTURE(message);
    if (new_notifier(version)) {
      CHECK(message.rfind("Value 'FOO' is not valid for path parameter jobType. Valid values are: [", 0) == 0);
      CHECK(message.find("ANALYTICS_TABLE") != std::string::npos);
    } else {
      CHECK(message == "No enum constant org.hisp.dhis.scheduling.JobType.FOO");
    }
  }
}

// §1.1: "{jobType} matching is case-insensitive in every version".
TEST_CASE("emulator feed: the job type in the path is case-insensitive", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", three_row_script());
  e.advance(3000ms);
  const json upper = e.feed_json("ANALYTICS_TABLE", id);
  REQUIRE(upper.size() == 3);
  CHECK(e.feed_json("analytics_table", id) == upper);
  CHECK(e.feed_json("Analytics_Table", id) == upper);
  const ordered_json overview = e.get_ordered("/api/system/tasks/analytics_table?gist=false");
  REQUIRE(overview.contains(id));
  CHECK(json::parse(overview.at(id).dump()) == upper);
}

// §1.1: a malformed jobId gives 400 (UID message) on 2.40.8+/2.41.4+/2.42+ and 200 [] before.
TEST_CASE("emulator feed: a malformed job id gives 400 from 2.40.8/2.41.4 and 200 [] before", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  for (const std::string bad : {"abc", "1abcdefghij", "abcdefghijkl"}) {
    CAPTURE(bad);
    const auto res = e.get("/api/system/tasks/ANALYTICS_TABLE/" + bad);
    if (new_notifier(version)) {
      CHECK(res->status == 400);
      const std::string message = json::parse(res->body).at("message").get<std::string>();
      CAPTURE(message);
      CHECK(message.find("UID must be an alphanumeric string of 11 characters starting with a letter, but was: " + bad) !=
            std::string::npos);
      if (at_least(version, "2.41.4")) {
        CHECK(message.rfind("Value '" + bad + "' is not valid for path parameter jobId. ", 0) == 0);
      }
    } else {
      CHECK(res->status == 200);
      CHECK(json::parse(res->body) == json::array());
    }
  }
}

// §1: every GET of the controller sends Cache-Control: no-store (so ETags are skipped).
TEST_CASE("emulator feed: the tasks and taskSummaries GETs send Cache-Control no-store", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string with_summary = e.begin(
      "PREDICTOR", JobScript().start("Predictors run").summary({{"status", "SUCCESS"}}, 100ms).complete("done", 100ms));
  e.advance(500ms);
  for (const std::string& path :
       {std::string("/api/system/tasks"), std::string("/api/system/tasks/PREDICTOR"),
        "/api/system/tasks/PREDICTOR/" + with_summary, std::string("/api/system/tasks/PREDICTOR/a0Bc1De2Fg3"),
        std::string("/api/system/taskSummaries/PREDICTOR"), "/api/system/taskSummaries/PREDICTOR/" + with_summary,
        std::string("/api/system/taskSummaries/PREDICTOR/a0Bc1De2Fg3")}) {
    CAPTURE(path);
    const auto res = e.get(path);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Cache-Control") == "no-store");
  }
}

// ---- caps and eviction (§1.4) ------------------------------------------------------------------

// §1.4: notifierMaxMessagesPerJob = 500, FIFO, but removeOldest keeps the very first message.
// The in-memory notifier of <=2.40.7 and 2.41.0-2.41.3 has a 500-slot pool per type instead.
TEST_CASE("emulator feed: a job keeps 500 rows, the first (PARAMETERS) row among them on the new notifier",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  JobScript script;
  script.start("Analytics table update", {{"lastYears", 1}});
  for (int i = 1; i <= 599; ++i) script.stage("Stage " + std::to_string(i), 10ms);
  script.complete("Analytics tables updated", 10ms);  // 601 rows in all
  const std::string id = e.begin("ANALYTICS_TABLE", script);
  e.advance(7000ms);
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 500);
  CHECK(rows[0].message == "Analytics tables updated");
  CHECK(rows[1].message == "Stage 599");
  if (new_notifier(version)) {
    CHECK(rows[498].message == "Stage 102");               // the oldest others were dropped ...
    CHECK(rows[499].message == "Analytics table update");  // ... but not the first row
    CHECK(rows[499].data_type == (parameters_row(version) ? "PARAMETERS" : ""));
  } else {
    CHECK(rows[499].message == "Stage 101");  // plain FIFO: the first row went too
    for (const auto& row : rows) CHECK(row.data_type.empty());
  }
}

// §1.4: <=2.40.7 and 2.41.0-2.41.3 share MAX_POOL_TYPE_SIZE = 500 slots between all jobs of a
// type; the job owning the oldest slot loses it. The new notifier caps per job only.
TEST_CASE("emulator feed: the old notifier shares a pool of 500 rows per job type", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const auto script = [](const std::string& name) {
    JobScript s;
    s.start(name + " start");
    for (int i = 1; i <= 298; ++i) s.stage(name + " stage " + std::to_string(i), 10ms);
    s.complete(name + " done", 10ms);  // 300 rows
    return s;
  };
  const std::string a = e.begin("ANALYTICS_TABLE", script("A"));
  e.advance(4000ms);
  REQUIRE(e.feed("ANALYTICS_TABLE", a).size() == 300);
  const std::string b = e.begin("ANALYTICS_TABLE", script("B"));
  e.advance(4000ms);
  const auto rows_a = e.feed("ANALYTICS_TABLE", a);
  const auto rows_b = e.feed("ANALYTICS_TABLE", b);
  CHECK(rows_b.size() == 300);
  if (new_notifier(version)) {
    CHECK(rows_a.size() == 300);
  } else {
    REQUIRE(rows_a.size() == 200);  // 600 rows in a pool of 500: A's 100 oldest went
    CHECK(rows_a.front().message == "A done");
    CHECK(rows_a.back().message == "A stage 100");
  }
}

// §1.4: notifierMaxJobsPerType = 500 (notifications and summaries); like max-age, it runs only
// once the notifier has been idle notifierCleanAfterIdleTime (10 min on 2.42+, 1 min on 2.40.8+/2.41.4+).
TEST_CASE("emulator feed: the new notifier keeps the 500 most recent jobs per type once idle", "[emulator][feed]") {
  const std::string version = FEED_NEW_NOTIFIER_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  std::vector<std::string> ids;
  for (int i = 0; i < 501; ++i) {
    ids.push_back(e.server.start_job("METADATA_IMPORT", JobScript()
                                                            .start("Metadata import")
                                                            .summary({{"status", "OK"}, {"job", i}}, 0ms)
                                                            .complete("Import complete with status OK", 10ms)));
  }
  e.advance(6000ms);
  CHECK(e.feed("METADATA_IMPORT", ids.front()).size() == 2);  // not idle yet: nothing capped
  CHECK(e.get_ordered("/api/system/tasks/METADATA_IMPORT").size() == 501);
  e.advance(clean_after_idle(version) + 1000ms);
  CHECK(e.feed("METADATA_IMPORT", ids.front()).empty());
  CHECK(e.summary_body("METADATA_IMPORT", ids.front()).empty());
  CHECK(e.feed("METADATA_IMPORT", ids[1]).size() == 2);
  CHECK(json::parse(e.summary_body("METADATA_IMPORT", ids[1])).at("job") == 1);
  CHECK(e.feed("METADATA_IMPORT", ids.back()).size() == 2);
  CHECK(e.get_ordered("/api/system/tasks/METADATA_IMPORT").size() == 500);
  CHECK(e.get_ordered("/api/system/taskSummaries/METADATA_IMPORT").size() == 500);
}

// §1.4: notifierMaxAgeDays = 7: jobs whose newest notification is older are removed (when idle).
TEST_CASE("emulator feed: the new notifier drops jobs whose newest row is older than 7 days", "[emulator][feed]") {
  const std::string version = FEED_NEW_NOTIFIER_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin(
      "PREDICTOR", JobScript().start("Predictors run").summary({{"status", "SUCCESS"}}, 100ms).complete("done", 100ms));
  e.advance(1000ms);
  e.advance(std::chrono::hours(24 * 7) - 1h);
  CHECK(e.feed("PREDICTOR", id).size() == 2);
  CHECK_FALSE(e.summary_body("PREDICTOR", id).empty());
  e.advance(1h + clean_after_idle(version));
  CHECK(e.feed("PREDICTOR", id).empty());
  CHECK(e.summary_body("PREDICTOR", id).empty());
}

// §1.4: the in-memory notifier (<=2.40.7, 2.41.0-2.41.3) keeps summaries of 500 jobs per type.
TEST_CASE("emulator feed: the old notifier keeps summaries of 500 jobs per type", "[emulator][feed]") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.7", "2.41.0", "2.41.3");
  CAPTURE(version);
  Emulated e(version);
  std::vector<std::string> ids;
  for (int i = 0; i < 501; ++i) {
    ids.push_back(e.server.start_job("METADATA_IMPORT", JobScript()
                                                            .start("Metadata import")
                                                            .summary({{"status", "OK"}, {"job", i}}, 0ms)
                                                            .complete("Import complete with status OK", 10ms)));
  }
  e.advance(6000ms);
  CHECK(e.summary_body("METADATA_IMPORT", ids.front()).empty());
  CHECK(json::parse(e.summary_body("METADATA_IMPORT", ids[1])).at("job") == 1);
  CHECK(e.get_ordered("/api/system/taskSummaries/METADATA_IMPORT").size() == 500);
}

// ---- overviews (§1.1) --------------------------------------------------------------------------

// §1.1: GET /api/system/tasks/{type}: new notifier: gist defaults to true ([newest, oldest]),
// jobs ordered by their newest notification, most recent first; old: full lists.
TEST_CASE("emulator feed: the type overview gives gist lists, most recent job first, on the new notifier",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string a = e.server.start_job(
      "METADATA_IMPORT", JobScript().start("A start").stage("A stage", 100ms).complete("A done", 5000ms));
  const std::string b = e.server.start_job("METADATA_IMPORT", JobScript().start("B start").complete("B done", 1000ms));
  const std::string c = e.server.start_job("METADATA_IMPORT", JobScript().start("C start").complete("C done", 2000ms));
  e.advance(10000ms);

  std::map<std::string, json> feeds;
  std::vector<std::pair<std::string, std::string>> by_newest;  // (newest time, job)
  for (const auto& id : {a, b, c}) {
    feeds[id] = e.feed_json("METADATA_IMPORT", id);
    REQUIRE(feeds[id].size() >= 2);
    by_newest.emplace_back(feeds[id][0].at("time").get<std::string>(), id);
  }
  std::sort(by_newest.rbegin(), by_newest.rend());
  std::vector<std::string> most_recent_first;
  for (const auto& entry : by_newest) most_recent_first.push_back(entry.second);

  const ordered_json plain = e.get_ordered("/api/system/tasks/METADATA_IMPORT");
  const ordered_json gist_on = e.get_ordered("/api/system/tasks/METADATA_IMPORT?gist=true");
  const ordered_json gist_off = e.get_ordered("/api/system/tasks/METADATA_IMPORT?gist=false");
  for (const auto* overview : {&plain, &gist_on, &gist_off}) {
    auto keys = keys_of(*overview);
    if (new_notifier(version)) {
      CHECK(keys == most_recent_first);
    } else {
      std::sort(keys.begin(), keys.end());
      std::vector<std::string> expected = {a, b, c};
      std::sort(expected.begin(), expected.end());
      CHECK(keys == expected);
    }
  }
  for (const auto& id : {a, b, c}) {
    CAPTURE(id);
    const json& full = feeds[id];
    CHECK(json::parse(gist_off.at(id).dump()) == full);
    if (new_notifier(version)) {
      const json gist = json::array({full.front(), full.back()});
      CHECK(json::parse(plain.at(id).dump()) == gist);
      CHECK(json::parse(gist_on.at(id).dump()) == gist);
    } else {
      CHECK(json::parse(plain.at(id).dump()) == full);
      CHECK(json::parse(gist_on.at(id).dump()) == full);
    }
  }
}

// §1.1: GET /api/system/tasks: new notifier: only types with data, in JobType order; the old
// NotificationMap has every JobType key, {} when empty.
TEST_CASE("emulator feed: the all-types overview lists only types with data on the new notifier", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string m = e.server.start_job("METADATA_IMPORT",
                                           JobScript().start("Metadata import").complete("done", 500ms));
  const std::string x = e.begin("ANALYTICS_TABLE", three_row_script());
  e.advance(5000ms);
  const ordered_json all = e.get_ordered("/api/system/tasks");
  const ordered_json full = e.get_ordered("/api/system/tasks?gist=false");
  const json analytics = e.feed_json("ANALYTICS_TABLE", x);
  REQUIRE(analytics.size() == 3);
  if (new_notifier(version)) {
    CHECK(keys_of(all) == std::vector<std::string>{"ANALYTICS_TABLE", "METADATA_IMPORT"});
    CHECK(json::parse(all.at("ANALYTICS_TABLE").at(x).dump()) == json::array({analytics.front(), analytics.back()}));
    CHECK(json::parse(full.at("ANALYTICS_TABLE").at(x).dump()) == analytics);
  } else {
    CHECK(all.size() >= 30);
    for (const char* empty : {"MONITORING", "PREDICTOR", "DATAVALUE_IMPORT", "DATA_INTEGRITY", "RESOURCE_TABLE"}) {
      CAPTURE(empty);
      REQUIRE(all.contains(empty));
      CHECK(all.at(empty) == ordered_json::object());
    }
    CHECK(json::parse(all.at("ANALYTICS_TABLE").at(x).dump()) == analytics);
  }
  CHECK(all.at("METADATA_IMPORT").contains(m));
}

// ---- runs and summaries ------------------------------------------------------------------------

// §1.5 (the first startingProcess of a run clears the job's notifications and summary) and
// Gotcha 10 (until then the previous run's list stays visible).
TEST_CASE("emulator feed: a new run of a job id clears its previous rows and summary at its first row",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string uid = "SavedJob001";
  e.server.add_job_configuration(uid, "ANALYTICS_TABLE",
                                 JobScript()
                                     .start("Analytics table update")
                                     .stage("Populating analytics tables", 1000ms)
                                     .summary({{"status", "SUCCESS"}}, 0ms)
                                     .complete("Analytics tables updated", 1000ms));
  REQUIRE(e.post("/api/jobConfigurations/" + uid + "/execute")->status == 200);
  if (scheduler_grid(version)) e.to_next_tick();
  e.advance(3000ms);
  const auto first_run = e.feed("ANALYTICS_TABLE", uid);
  REQUIRE(first_run.size() == 3);
  REQUIRE(first_run[0].completed);
  REQUIRE_FALSE(e.summary_body("ANALYTICS_TABLE", uid).empty());

  REQUIRE(e.post("/api/jobConfigurations/" + uid + "/execute")->status == 200);
  if (scheduler_grid(version)) {
    // Not started before the tick: the previous run's list (ending completed:true) is still there.
    CHECK(messages_of(e.feed("ANALYTICS_TABLE", uid)) == messages_of(first_run));
    CHECK_FALSE(e.summary_body("ANALYTICS_TABLE", uid).empty());
    e.to_next_tick();
  }
  const auto second_run = e.feed("ANALYTICS_TABLE", uid);
  REQUIRE(second_run.size() == 1);
  CHECK(second_run[0].message == "Analytics table update");
  CHECK_FALSE(second_run[0].completed);
  CHECK(e.summary_body("ANALYTICS_TABLE", uid).empty());
  e.advance(2000ms);
  CHECK(e.feed("ANALYTICS_TABLE", uid).size() == 3);
  CHECK(json::parse(e.summary_body("ANALYTICS_TABLE", uid)) == json{{"status", "SUCCESS"}});
}

// §1.1 (taskSummaries: 200 with an empty body when none; the map per type, most recently set
// first on the new notifier, only jobs that have one) and §1.7.
TEST_CASE("emulator feed: taskSummaries give an empty 200 when none, the summary JSON when set", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const auto unknown = e.get("/api/system/taskSummaries/PREDICTOR/a0Bc1De2Fg3");
  CHECK(unknown->status == 200);
  CHECK(unknown->body.empty());

  const json first = {{"responseType", "PredictionSummary"}, {"status", "SUCCESS"}, {"inserted", 1}};
  const json second = {{"responseType", "PredictionSummary"}, {"status", "SUCCESS"}, {"inserted", 2}};
  const std::string a = e.begin("PREDICTOR",
                                JobScript().start("Predictors run").summary(first, 500ms).complete("done", 0ms));
  e.advance(1000ms);
  const std::string none = e.begin("PREDICTOR", JobScript().start("Predictors run").complete("done", 500ms));
  e.advance(1000ms);
  const std::string b = e.begin("PREDICTOR",
                                JobScript().start("Predictors run").summary(second, 500ms).complete("done", 0ms));
  e.advance(1000ms);

  CHECK(e.summary_body("PREDICTOR", none).empty());
  CHECK(json::parse(e.summary_body("PREDICTOR", a)) == first);
  CHECK(json::parse(e.summary_body("PREDICTOR", b)) == second);
  const ordered_json map = e.get_ordered("/api/system/taskSummaries/PREDICTOR");
  CHECK(map.size() == 2);
  CHECK_FALSE(map.contains(none));
  CHECK(json::parse(map.at(a).dump()) == first);
  CHECK(json::parse(map.at(b).dump()) == second);
  if (new_notifier(version)) CHECK(keys_of(map) == std::vector<std::string>{b, a});
  CHECK(e.get_ordered("/api/system/taskSummaries/MONITORING") == ordered_json::object());
}

// ---- the stale-job rule (§1.6) -----------------------------------------------------------------

// §1.6, §1.5 (abort after a failed stage writes no notification), Gotcha 1: 2.41.1+ return ONE
// synthetic completed copy of the last row (a LOOP row here), wipe rows and summary, then [].
TEST_CASE("emulator feed: an aborted job's feed is completed once, then wiped, on 2.41.1+", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .summary({{"status", "ERROR"}}, 0ms)
                                                        .stage("Populating analytics tables", 1000ms)
                                                        .items("Populating analytics table", 3, 500ms)
                                                        .abort(1000ms));
  e.advance(2500ms);
  const auto running = e.feed("ANALYTICS_TABLE", id);  // RUNNING: never synthetic
  REQUIRE(running.size() == 3);
  CHECK_FALSE(running[0].completed);
  const Notification last = running[0];
  CHECK(last.level == NotificationLevel::Loop);
  CHECK(last.message == "[3/3] Populating analytics table");

  e.advance(1000ms);  // the run ends FAILED without a row
  if (stale_rule(version)) {
    const auto synthetic = e.feed("ANALYTICS_TABLE", id);
    REQUIRE(synthetic.size() == 1);
    CHECK(synthetic[0].completed);
    CHECK(synthetic[0].level == NotificationLevel::Loop);
    CHECK(synthetic[0].message == last.message);
    CHECK(synthetic[0].id == last.id);
    CHECK(synthetic[0].time == last.time);
    CHECK(e.summary_body("ANALYTICS_TABLE", id).empty());
    CHECK(e.feed("ANALYTICS_TABLE", id).empty());
    CHECK(e.feed("ANALYTICS_TABLE", id).empty());
  } else {
    for (int poll = 0; poll < 2; ++poll) {
      const auto rows = e.feed("ANALYTICS_TABLE", id);
      REQUIRE(rows.size() == 3);
      CHECK_FALSE(rows[0].completed);
      CHECK(rows[0].message == last.message);
    }
    CHECK_FALSE(e.summary_body("ANALYTICS_TABLE", id).empty());
  }
}

// §1.6 and §3.3: a job whose node died stays RUNNING until rescheduleStaleJobs marks it FAILED
// 10 minutes later; only then does the stale rule fire.
TEST_CASE("emulator feed: a dead job stays RUNNING for 10 minutes, then its feed is completed once", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin(
      "ANALYTICS_TABLE",
      JobScript().start("Analytics table update").stage("Populating analytics tables", 1000ms).die(1000ms));
  e.advance(2000ms);
  const auto job_status = [&e, &id]() {
    return json::parse(e.get("/api/jobConfigurations/" + id + "?fields=jobStatus,lastExecutedStatus")->body);
  };
  for (const ms step : {ms(1000), ms(5min), ms(4min + 58s)}) {  // up to 9:59 after the death
    e.advance(step);
    const auto rows = e.feed("ANALYTICS_TABLE", id);
    REQUIRE(rows.size() == 2);
    CHECK_FALSE(rows[0].completed);
    if (scheduler_grid(version)) CHECK(job_status().at("jobStatus") == "RUNNING");
  }
  e.advance(1000ms);  // 10 minutes after the death: FAILED
  if (scheduler_grid(version)) CHECK(job_status().at("lastExecutedStatus") == "FAILED");
  if (stale_rule(version)) {
    const auto synthetic = e.feed("ANALYTICS_TABLE", id);
    REQUIRE(synthetic.size() == 1);
    CHECK(synthetic[0].completed);
    CHECK(synthetic[0].level == NotificationLevel::Info);
    CHECK(synthetic[0].message == "Populating analytics tables");
    CHECK(e.feed("ANALYTICS_TABLE", id).empty());
  } else {
    for (int poll = 0; poll < 2; ++poll) {
      const auto rows = e.feed("ANALYTICS_TABLE", id);
      REQUIRE(rows.size() == 2);
      CHECK_FALSE(rows[0].completed);
    }
  }
}

// §1.4 (final notifications can be lost in the async queue) and §1.6: the stale rule makes a
// completion out of the previous row on 2.41.1+; 2.41.0 and older keep returning completed:false.
TEST_CASE("emulator feed: a dropped final notification is synthesised from the previous row on 2.41.1+",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .stage("Swapping analytics tables", 1000ms)
                                                        .complete("Analytics tables updated", 1000ms)
                                                        .lose_last_row());
  e.advance(2000ms);
  if (stale_rule(version)) {
    const auto synthetic = e.feed("ANALYTICS_TABLE", id);
    REQUIRE(synthetic.size() == 1);
    CHECK(synthetic[0].completed);
    CHECK(synthetic[0].level == NotificationLevel::Info);
    CHECK(synthetic[0].message == "Swapping analytics tables");
    CHECK(e.feed("ANALYTICS_TABLE", id).empty());
  } else {
    for (int poll = 0; poll < 2; ++poll) {
      const auto rows = e.feed("ANALYTICS_TABLE", id);
      REQUIRE(rows.size() == 2);
      CHECK_FALSE(rows[0].completed);
      CHECK(rows[0].message == "Swapping analytics tables");
    }
  }
}

// §1.5 (cancellation 2.41+: no final notification; <=2.40: failedProcess, ERROR completed:true),
// §3.2 (applied by the next housekeeping run, effective at the next item), §1.6.
TEST_CASE("emulator feed: a cancelled job ends without a row on 2.41+ and with an ERROR completion before",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .items("Populating analytics table", 100, 1000ms)
                                                        .complete("Analytics tables updated", 1000ms));
  e.advance(5500ms);
  if (scheduler_grid(version)) {
    CHECK(e.post("/api/jobConfigurations/" + id + "/cancel")->status == 204);
  } else {
    CHECK(e.post("/api/scheduling/cancel/ANALYTICS_TABLE")->status == 204);
  }
  e.advance(22000ms);  // the housekeeping tick, then the next item boundary
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  if (!scheduler_grid(version)) {
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].level == NotificationLevel::Error);
    CHECK(rows[0].completed);
  } else if (stale_rule(version)) {
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].completed);
    CHECK(rows[0].level == NotificationLevel::Loop);
    CHECK(rows[0].message->find("] Populating analytics table") != std::string::npos);
    CHECK(e.feed("ANALYTICS_TABLE", id).empty());
  } else {
    REQUIRE(rows.size() == 2);
    CHECK_FALSE(rows[0].completed);
    CHECK(rows[0].level == NotificationLevel::Loop);
    e.advance(60000ms);
    CHECK(e.feed("ANALYTICS_TABLE", id).size() == 2);  // 2.41.0: completed:false forever
  }
}

// ---- non-notifying types (§1.5) ----------------------------------------------------------------

// §1.5, Gotcha 7: types outside isUsingNotifications run at level ERROR on 2.41.4+/2.42+: a first
// and a last row with message "", and nothing at all on 2.41.0-2.41.3 and <=2.40.
TEST_CASE("emulator feed: non-notifying types write empty-message rows on 2.41.4+ and none before", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const auto kicked = e.post("/api/dataIntegrity/details?checks=orgunits_orphaned");
  REQUIRE(kicked->status == 200);
  const std::string id = json::parse(kicked->body).at("response").at("id").get<std::string>();
  e.advance(10000ms);
  const json raw = e.feed_json("DATA_INTEGRITY_DETAILS", id);
  if (quiet_types_write_rows(version)) {
    REQUIRE(raw.size() == 2);
    CHECK(raw[0].at("message") == "");
    CHECK(raw[0].at("completed") == true);
    CHECK(raw[0].at("level") == "INFO");
    CHECK(raw[1].at("message") == "");
    CHECK(raw[1].at("completed") == false);
    CHECK(raw[1].at("dataType") == "PARAMETERS");
  } else {
    CHECK(raw == json::array());
  }
  e.advance(60000ms);
  CHECK(e.feed_json("DATA_INTEGRITY_DETAILS", id).size() == (quiet_types_write_rows(version) ? 2u : 0u));
}

// §1.5: at notifier level ERROR, startingProcess is always emitted (message ""), completedProcess
// too ("", or absent for a null summary), stages, items and WARN/DEBUG/INFO lines are not, and
// ERROR rows (failed stages, ERROR messages, failedProcess) keep their text.
TEST_CASE("emulator feed: a non-notifying type at level ERROR keeps only its first, last and ERROR rows",
          "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  const bool failing = GENERATE(false, true);
  CAPTURE(version, failing);
  Emulated e(version);
  JobScript script;
  script.start("Data integrity", {{"checks", json::array({"orgunits_orphaned"})}})
      .stage("Running data integrity checks", 100ms)
      .items("Running check", 3, 100ms)
      .message(NotificationLevel::Warn, "Slow check", 100ms)
      .message(NotificationLevel::Debug, "Debug detail", 100ms)
      .message(NotificationLevel::Info, "Info detail", 100ms)
      .failed_stage("Check orgunits_orphaned failed", 100ms)
      .message(NotificationLevel::Error, "An error line", 100ms);
  if (failing) {
    script.fail("Process failed: boom", 100ms);
  } else {
    script.complete("Data integrity checks completed", 100ms);
  }
  const std::string id = e.begin("DATA_INTEGRITY", script);
  e.advance(2000ms);
  const auto rows = e.feed("DATA_INTEGRITY", id);
  if (!quiet_types_write_rows(version)) {
    CHECK(rows.empty());
    return;
  }
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].completed);
  if (failing) {
    CHECK(rows[0].level == NotificationLevel::Error);
    CHECK(rows[0].message == "Process failed: boom");
  } else {
    CHECK(rows[0].level == NotificationLevel::Info);
    CHECK(rows[0].message == "");
  }
  CHECK(rows[1].level == NotificationLevel::Error);
  CHECK(rows[1].message == "An error line");
  CHECK(rows[2].level == NotificationLevel::Error);
  CHECK(rows[2].message == "Check orgunits_orphaned failed");
  CHECK_FALSE(rows[2].completed);
  CHECK(rows[3].level == NotificationLevel::Info);
  CHECK(rows[3].message == "");
  CHECK(rows[3].data_type == "PARAMETERS");
  CHECK_FALSE(rows[3].completed);
}

// §1.5 and §1.7: <=2.41's POST /api/dataIntegrity is a REPORT run that calls the notifier
// directly, so it has rows (and a summary) even where DATA_INTEGRITY otherwise has none.
TEST_CASE("emulator feed: the <=2.41 data integrity REPORT run writes its own two rows", "[emulator][feed]") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.7", "2.40.8", "2.41.0", "2.41.3",
                                       "2.41.4");
  CAPTURE(version);
  Emulated e(version);
  const auto kicked = e.post("/api/dataIntegrity");
  REQUIRE(kicked->status == 200);
  const std::string id = json::parse(kicked->body).at("response").at("id").get<std::string>();
  e.advance(5000ms);
  const auto rows = e.feed("DATA_INTEGRITY", id);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].message->rfind("Data integrity checks completed in ", 0) == 0);
  CHECK(rows[0].completed);
  CHECK(rows[1].message == "Starting data integrity job");
  CHECK_FALSE(rows[1].completed);
  CHECK(json::parse(e.summary_body("DATA_INTEGRITY", id)).is_object());
}

// §1.5 and Gotcha 8: META_DATA_SYNC runs several processes, so one run has several
// completed:true rows (with "" messages, where the version writes rows for it at all).
TEST_CASE("emulator feed: a META_DATA_SYNC run has several completed rows", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
  e.advance(5000ms);
  const auto rows = e.feed("META_DATA_SYNC", id);
  if (!quiet_types_write_rows(version)) {
    CHECK(rows.empty());
    return;
  }
  const auto completed = std::count_if(rows.begin(), rows.end(), [](const Notification& n) { return n.completed; });
  CHECK(completed >= 2);
  CHECK(rows.front().completed);
  for (const auto& row : rows) CHECK(row.message == "");
  CHECK_FALSE(rows.back().completed);
}

// ---- DELETE (§1.1, 2.40.8+) ------------------------------------------------------------------

// §1.1: DELETE /api/system/tasks/{type}/{id} removes the job's notifications and its summary.
TEST_CASE("emulator feed: DELETE of one job's tasks removes its rows and summary", "[emulator][feed]") {
  const std::string version = FEED_NEW_NOTIFIER_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const auto script = [] {
    return JobScript().start("Predictors run").summary({{"status", "SUCCESS"}}, 100ms).complete("done", 0ms);
  };
  const std::string a = e.begin("PREDICTOR", script());
  e.advance(1000ms);
  const std::string b = e.begin("PREDICTOR", script());
  e.advance(1000ms);
  const auto res = e.del("/api/system/tasks/PREDICTOR/" + a);
  CHECK(res->status == 204);
  CHECK(res->body.empty());
  CHECK(e.feed("PREDICTOR", a).empty());
  CHECK(e.summary_body("PREDICTOR", a).empty());
  CHECK(e.feed("PREDICTOR", b).size() == 2);
  CHECK_FALSE(e.summary_body("PREDICTOR", b).empty());
}

// §1.1: DELETE /api/system/tasks/{type} clears one type, DELETE /api/system/tasks everything.
TEST_CASE("emulator feed: DELETE of a type's tasks and of all tasks", "[emulator][feed]") {
  const std::string version = FEED_NEW_NOTIFIER_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string p = e.begin("PREDICTOR", JobScript().start("Predictors run").complete("done", 100ms));
  e.advance(1000ms);
  const std::string m = e.server.start_job("METADATA_IMPORT",
                                           JobScript().start("Metadata import").complete("done", 100ms));
  e.advance(1000ms);
  CHECK(e.del("/api/system/tasks/PREDICTOR")->status == 204);
  CHECK(e.feed("PREDICTOR", p).empty());
  CHECK(e.feed("METADATA_IMPORT", m).size() == 2);
  CHECK(keys_of(e.get_ordered("/api/system/tasks")) == std::vector<std::string>{"METADATA_IMPORT"});
  CHECK(e.del("/api/system/tasks")->status == 204);
  CHECK(e.feed("METADATA_IMPORT", m).empty());
  CHECK(e.get_ordered("/api/system/tasks") == ordered_json::object());
}

// §1.1: maxCount keeps the N most recent jobs (per type).
TEST_CASE("emulator feed: DELETE with maxCount keeps the N most recent jobs", "[emulator][feed]") {
  const std::string version = FEED_NEW_NOTIFIER_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(e.server.start_job("METADATA_IMPORT", JobScript().start("Metadata import").complete("done", 100ms)));
    e.advance(1000ms);
  }
  const std::string p = e.begin("PREDICTOR", JobScript().start("Predictors run").complete("done", 100ms));
  e.advance(1000ms);
  CHECK(e.del("/api/system/tasks/METADATA_IMPORT?maxCount=2")->status == 204);
  CHECK(e.feed("METADATA_IMPORT", ids[0]).empty());
  CHECK(e.feed("METADATA_IMPORT", ids[1]).empty());
  CHECK(e.feed("METADATA_IMPORT", ids[2]).size() == 2);
  CHECK(e.feed("METADATA_IMPORT", ids[3]).size() == 2);
  CHECK(e.feed("PREDICTOR", p).size() == 2);
  CHECK(e.del("/api/system/tasks?maxCount=1")->status == 204);
  CHECK(e.feed("METADATA_IMPORT", ids[2]).empty());
  CHECK(e.feed("METADATA_IMPORT", ids[3]).size() == 2);
  CHECK(e.feed("PREDICTOR", p).size() == 2);
}

// ---- scripted outcomes (§1.5) ------------------------------------------------------------------

// §1.5: failedProcess -> ERROR + completed:true.
TEST_CASE("emulator feed: a failed process ends with ERROR and completed", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE", JobScript()
                                                        .start("Analytics table update")
                                                        .stage("Populating analytics tables", 500ms)
                                                        .fail("Analytics table update failed: disk full", 500ms));
  e.advance(1000ms);
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].level == NotificationLevel::Error);
  CHECK(rows[0].completed);
  CHECK(rows[0].message == "Analytics table update failed: disk full");
  CHECK(e.feed("ANALYTICS_TABLE", id).size() == 3);  // a real completion: no stale rule
}

// §1.5: a job that threw -> ERROR + completed:true, "Process failed: <exception message>".
TEST_CASE("emulator feed: a crashed job ends with Process failed", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  const std::string id = e.begin("ANALYTICS_TABLE",
                                 JobScript().start("Analytics table update").crash("Connection refused", 500ms));
  e.advance(1000ms);
  const auto rows = e.feed("ANALYTICS_TABLE", id);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].level == NotificationLevel::Error);
  CHECK(rows[0].completed);
  CHECK(rows[0].message == "Process failed: Connection refused");
}

// §1.5 (DATAVALUE_IMPORT with status ERROR still ends INFO + completed:true), §1.7 (its summary is
// written after the completed row), Gotcha 3.
TEST_CASE("emulator feed: a data value import with an ERROR summary ends INFO completed", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  CAPTURE(version);
  Emulated e(version);
  json summary = {{"responseType", "ImportSummary"},
                  {"status", "ERROR"},
                  {"description", "The import process failed: Failed to parse input"},
                  {"importCount", {{"imported", 0}, {"updated", 0}, {"ignored", 3}, {"deleted", 0}}},
                  {"conflicts", json::array()}};
  const std::string id = e.begin(
      "DATAVALUE_IMPORT",
      JobScript()
          .start("Data value set import")
          .stage("Importing data values", 300ms)
          .complete("Import complete with status ERROR, 0 created, 0 updated, 0 deleted, 3 ignored", 500ms)
          .summary(summary, 150ms));
  e.advance(800ms);
  const auto rows = e.feed("DATAVALUE_IMPORT", id);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].level == NotificationLevel::Info);
  CHECK(rows[0].completed);
  CHECK(rows[0].message->rfind("Import complete with status ERROR", 0) == 0);
  CHECK(e.summary_body("DATAVALUE_IMPORT", id).empty());  // not written yet
  e.advance(150ms);
  CHECK(json::parse(e.summary_body("DATAVALUE_IMPORT", id)).at("status") == "ERROR");
  CHECK(e.feed("DATAVALUE_IMPORT", id).size() == 3);
}

// ---- property: random scripts, random polls ------------------------------------------------------

namespace {

struct ScriptedRow {
  NotificationLevel level;
  std::string message;
  bool completed;
  std::int64_t at;  // ms since the job started
};

// A random analytics-style run of `rows` rows: stages, LOOP item batches (up to 10 items),
// messages at every level, failed stages; delays of 0 (same millisecond) to 299 ms.
JobScript random_script(std::mt19937& rng, int rows, std::vector<ScriptedRow>& out) {
  JobScript script;
  std::int64_t at = 0;
  const auto delay = [&rng, &at]() {
    const std::int64_t d = rng() % 4 == 0 ? 0 : static_cast<std::int64_t>(rng() % 300);
    at += d;
    return ms(d);
  };
  script.start("Property run", {{"rows", rows}});
  out.push_back({NotificationLevel::Info, "Property run", false, 0});
  int batch = 0;
  while (static_cast<int>(out.size()) < rows - 1) {
    const int left = rows - 1 - static_cast<int>(out.size());
    const auto kind = rng() % 10;
    const std::string n = std::to_string(out.size());
    if (kind < 3) {
      const int count = 1 + static_cast<int>(rng() % static_cast<unsigned>(std::min(left, 10)));
      const ms each = rng() % 4 == 0 ? ms(0) : ms(rng() % 200);
      const std::string text = "Batch " + std::to_string(++batch);
      script.items(text, count, each);
      for (int i = 1; i <= count; ++i) {
        at += each.count();
        out.push_back(
            {NotificationLevel::Loop, "[" + std::to_string(i) + "/" + std::to_string(count) + "] " + text, false, at});
      }
    } else if (kind < 7) {
      const ms d = delay();
      script.stage("Stage " + n, d);
      out.push_back({NotificationLevel::Info, "Stage " + n, false, at});
    } else if (kind == 7) {
      const NotificationLevel level = rng() % 2 == 0 ? NotificationLevel::Warn : NotificationLevel::Debug;
      const ms d = delay();
      script.message(level, "Note " + n, d);
      out.push_back({level, "Note " + n, false, at});
    } else if (kind == 8) {
      const ms d = delay();
      script.failed_stage("Failure " + n, d);
      out.push_back({NotificationLevel::Error, "Failure " + n, false, at});
    } else {
      const ms d = delay();
      script.message(NotificationLevel::Info, "Info " + n, d);
      out.push_back({NotificationLevel::Info, "Info " + n, false, at});
    }
  }
  const ms d = delay();
  script.complete("Property run done", d);
  out.push_back({NotificationLevel::Info, "Property run done", true, at});
  return script;
}

// The rows the wire reference says a job's list holds `elapsed` ms after the start: LOOP
// replacement (§1.2), 500 per job keeping the first (new notifier) or plain FIFO (one job alone in
// the old pool), §1.4. Indices into `rows`, newest first.
std::vector<std::size_t> expected_feed(const std::vector<ScriptedRow>& rows, std::int64_t elapsed, bool keep_first) {
  std::deque<std::size_t> kept;
  for (std::size_t i = 0; i < rows.size() && rows[i].at <= elapsed; ++i) {
    if (!kept.empty() && rows[kept.front()].level == NotificationLevel::Loop) kept.pop_front();
    kept.push_front(i);
    if (kept.size() > 500) {
      if (keep_first) {
        kept.erase(kept.end() - 2);
      } else {
        kept.pop_back();
      }
    }
  }
  return {kept.begin(), kept.end()};
}

}  // namespace

// §1.2 (newest first, LOOP replacement, ids per version, strictly increasing times on 2.42+),
// §1.3 (no incremental fetch: every poll returns the whole kept list), §1.4 (caps): for random
// scripts of up to 2000 rows and random poll times, every poll shows exactly the rows the server
// kept at that moment, in a consistent newest-first order, with ids stable across polls.
TEST_CASE("emulator feed: random scripts polled at random times show every kept row in order", "[emulator][feed]") {
  const std::string version = FEED_ALL_VERSIONS;
  const std::uint32_t seed = GENERATE(11u, 2024u);
  CAPTURE(version, seed);
  std::mt19937 rng(seed);
  const int row_count = seed == 11u ? 2000 : 1 + static_cast<int>(rng() % 2000);
  std::vector<ScriptedRow> rows;
  JobScript script = random_script(rng, std::max(row_count, 2), rows);
  Emulated e(version, seed);
  const std::string id = e.begin("ANALYTICS_TABLE", script);
  const ms started = e.now_offset();
  const bool keep_first = new_notifier(version);

  std::map<std::size_t, std::string> id_of_row;
  std::map<std::string, std::size_t> row_of_id;
  std::set<std::size_t> seen, kept_at_polls;
  std::int64_t elapsed = 0;
  int polls = 0;
  while (true) {
    const std::int64_t step = static_cast<std::int64_t>(rng() % 20001);
    e.advance(ms(step));
    elapsed += step;
    ++polls;
    const auto got = e.feed("ANALYTICS_TABLE", id);
    const auto expected = expected_feed(rows, elapsed, keep_first);
    std::ostringstream problems;
    if (got.size() != expected.size()) problems << "size " << got.size() << " != " << expected.size() << "; ";
    for (std::size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
      const Notification& row = got[i];
      const std::size_t index = expected[i];
      const ScriptedRow& want = rows[index];
      if (row.level != want.level || row.message != want.message || row.completed != want.completed) {
        problems << "row " << i << ": " << row.level_name << " '" << row.message.value_or("<absent>") << "' "
                 << row.completed << " != '" << want.message << "'; ";
      }
      if ((row.data_type == "PARAMETERS") != (index == 0 && parameters_row(version))) {
        problems << "row " << i << ": dataType '" << row.data_type << "'; ";
      }
      const std::string scheduled = time_at(started + ms(want.at));
      if (ids_from_time(version) ? row.time < scheduled : row.time != scheduled) {
        problems << "row " << i << ": time " << row.time << " vs scheduled " << scheduled << "; ";
      }
      if (i > 0 && (ids_from_time(version) ? row.time >= got[i - 1].time : row.time > got[i - 1].time)) {
        problems << "row " << i << ": time " << row.time << " out of order after " << got[i - 1].time << "; ";
      }
      if (row.id != row.uid) problems << "row " << i << ": id != uid; ";
      if (ids_are_job_id(version)) {
        if (row.id != id) problems << "row " << i << ": id " << row.id << " is not the job id; ";
      } else {
        const auto known = id_of_row.find(index);
        if (known != id_of_row.end() && known->second != row.id) {
          problems << "row " << i << ": id changed from " << known->second << " to " << row.id << "; ";
        }
        const auto owner = row_of_id.find(row.id);
        if (owner != row_of_id.end() && owner->second != index)
          problems << "row " << i << ": id " << row.id << " reused; ";
        id_of_row.emplace(index, row.id);
        row_of_id.emplace(row.id, index);
      }
      seen.insert(index);
    }
    kept_at_polls.insert(expected.begin(), expected.end());
    INFO("poll " << polls << " at +" << elapsed << " ms: " << problems.str());
    REQUIRE(problems.str().empty());
    if (elapsed >= rows.back().at) break;
  }
  CHECK(seen == kept_at_polls);
  const auto final_rows = e.feed("ANALYTICS_TABLE", id);
  REQUIRE_FALSE(final_rows.empty());
  CHECK(final_rows.front().completed);
  CHECK(final_rows.front().message == "Property run done");
  CHECK(final_rows.size() == std::min<std::size_t>(500, expected_feed(rows, elapsed, keep_first).size()));
  // The 2000-row run must reach the 500-row cap, or the cap rules above went untested.
  const auto non_loop = std::count_if(rows.begin(), rows.end(),
                                      [](const ScriptedRow& r) { return r.level != NotificationLevel::Loop; });
  if (row_count == 2000) {
    CHECK(non_loop > 500);
    CHECK(final_rows.size() == 500);
  }
}
