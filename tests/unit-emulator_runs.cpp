// dhis2::testing::FakeServer reproducing what hid wrong waits from the watcher's tests (issue 8):
// the server's time zone and its daylight-saving changes, cluster skew, the asynchronous notifier
// (a final row stored after the job row changed; a job row committed after the last row), a node
// without the job's notifications, saved jobs queued behind a running job of their type, the
// <=2.41.3 shared 500-row pool, the 2.41+ structured progress, revert, and <=2.40 job rows.
// Expectations come from ../shared/docs/dhis2-wire.md and the DHIS2 source it cites (the section
// or class is named on each test), never from the emulator's version profile. The clock is manual.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "support/emulator_http.hpp"

namespace {

using namespace emulator_http;
using dhis2::testing::NotifierNode;
using dhis2::testing::ServerTimeZone;

std::vector<std::string> messages(const std::vector<Notification>& newest_first) {
  std::vector<std::string> out;
  for (const auto& n : newest_first) out.push_back(n.message.value_or("<absent>"));
  return out;
}

Json progress_of(Api& api, const std::string& id, int expected_status = 200) {
  const Reply r = api.get("/api/jobConfigurations/" + id + "/progress");
  INFO(r.body);
  REQUIRE(r.status == expected_status);
  return r.body.empty() ? Json() : r.json();
}

Json full_row(Api& api, const std::string& id) {
  const Reply r = api.get("/api/jobConfigurations/" + id);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

}  // namespace

// ================================================================================================
// Time: the server's zone, daylight saving, cluster skew (§1.2, §5.1)
// ================================================================================================

// §1.2 `time`, §5.1: every time is wall clock in the JVM zone, without an offset, and the zone is
// named by serverTimeZoneId. Clocks going back an hour make a later row's time the earlier one.
TEST_CASE("times are written in the server's zone, and a daylight-saving change makes later rows look older") {
  FakeServerOptions options = options_for("2.42.1");
  // 10:11:12Z is 12:11:12 in summer time (+2); at 10:11:30Z the clocks go back to +1.
  options.time_zone = ServerTimeZone::fixed("Europe/Oslo", "Central European Time", 2h);
  options.time_zone.change_at(kStart + 18s, 1h);
  FakeServer server(options);
  Api api(server);
  const Json info = api.get("/api/system/info").json();
  CHECK(info.at("serverTimeZoneId") == "Europe/Oslo");
  CHECK(info.at("serverTimeZoneDisplayName") == "Central European Time");
  CHECK(info.at("serverDate") == "2024-05-20T12:11:12.000");

  server.script_next("ANALYTICS_TABLE", JobScript()
                                            .start("Analytics table update")
                                            .stage("Before the change", 5s)
                                            .stage("After the change", 10s)
                                            .complete("Analytics tables updated: {duration}", 1s));
  const Json kickoff = kick_off(api, "/api/resourceTables/analytics");
  CHECK(kickoff.at("response").at("created") == "2024-05-20T12:11:12.000");
  const std::string id = id_of(kickoff);
  advance_to_next_tick(server);  // 10:11:20Z, 12:11:20 local
  server.advance(20s);
  const auto rows = feed(api, "ANALYTICS_TABLE", id);  // newest first, as stored: never by time
  REQUIRE(messages(rows) == std::vector<std::string>{"Analytics tables updated: 0:00:16.000", "After the change",
                                                     "Before the change", "Analytics table update"});
  CHECK(rows[3].time == "2024-05-20T12:11:20.000");
  CHECK(rows[2].time == "2024-05-20T12:11:25.000");
  CHECK(rows[1].time == "2024-05-20T11:11:35.000");  // 10:11:35Z after the change: an hour "earlier"
  CHECK(rows[0].time == "2024-05-20T11:11:36.000");
  const Json row = full_row(api, id);
  CHECK(row.at("lastExecuted") == "2024-05-20T12:11:20.000");
  CHECK(row.at("lastFinished") == "2024-05-20T11:11:36.000");
}

// §1.4 (a notifier per node), §2.3 (jobs run on the leader): the node that runs the job stamps its
// rows with its own clock, so with skew a job's rows can be older than its `created`.
TEST_CASE("a job node whose clock is behind writes rows older than the kick-off's created") {
  FakeServerOptions options = options_for("2.42.1");
  options.job_node_clock_offset = -10s;
  FakeServer server(options);
  Api api(server);
  const Json kickoff = kick_off(api, "/api/resourceTables/analytics");
  CHECK(kickoff.at("response").at("created") == kStartText);  // 10:11:12.000
  advance_to_next_tick(server);                               // the job starts at 10:11:20
  const auto rows = feed(api, "ANALYTICS_TABLE", id_of(kickoff));
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.back().time == "2024-05-20T10:11:10.000");
}

// ================================================================================================
// The asynchronous notifier (§1.4, §1.6 point 4)
// ================================================================================================

namespace {

// At 10:11:20 the job starts; "Working" at :21; the final row is queued at :22 and stored at
// :22.050, while the job row says COMPLETED from :22.
JobScript final_row_in_the_queue() {
  return JobScript()
      .start("Resource table update")
      .stage("Working", 1s)
      .complete("Resource tables generated", 1s)
      .arrives_after(50ms);
}

}  // namespace

TEST_CASE("a final row held in the async queue lands after the job row says COMPLETED") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  server.script_next("RESOURCE_TABLE", final_row_in_the_queue());
  const std::string id = id_of(kick_off(api, "/api/resourceTables"));
  advance_to_next_tick(server);
  server.advance(2s);  // 10:11:22: finished, the final row still queued
  CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
  CHECK(messages(stored_rows(api, "RESOURCE_TABLE", id)) == std::vector<std::string>{"Working", "Resource table update"});
  server.advance(50ms);
  CHECK(messages(stored_rows(api, "RESOURCE_TABLE", id)) ==
        std::vector<std::string>{"Resource tables generated", "Working", "Resource table update"});
}

// §1.6 point 4: a poll in that window sees "newest not completed, job not RUNNING": it gets the
// stale copy and wipes the list; the real final row then lands in a fresh, empty list.
TEST_CASE("a poll while the final row is queued gets the stale copy, then the final row comes alone") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  server.script_next("RESOURCE_TABLE", final_row_in_the_queue());
  const std::string id = id_of(kick_off(api, "/api/resourceTables"));
  advance_to_next_tick(server);
  server.advance(2s);
  const auto copy = feed(api, "RESOURCE_TABLE", id);
  REQUIRE(copy.size() == 1);
  CHECK(copy.front().completed);
  CHECK(copy.front().message == std::optional<std::string>("Working"));
  CHECK(feed(api, "RESOURCE_TABLE", id).empty());
  server.advance(50ms);
  const auto alone = feed(api, "RESOURCE_TABLE", id);
  REQUIRE(alone.size() == 1);
  CHECK(alone.front().completed);
  CHECK(alone.front().message == std::optional<std::string>("Resource tables generated"));
}

// §1.4: the in-memory notifier of 2.40.7 and 2.41.0-2.41.3 writes synchronously.
TEST_CASE("before the notifier rewrite rows are stored at once") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.7", "2.41.0");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("RESOURCE_TABLE", final_row_in_the_queue());
  const std::string id = id_of(kick_off(api, "/api/resourceTables"));
  let_job_start(server, version);
  server.advance(2s);
  CHECK(messages(stored_rows(api, "RESOURCE_TABLE", id)).front() == "Resource tables generated");
}

// §1.5, §3.4: META_DATA_SYNC writes a completed row per process; its row is committed after the
// last one, so a read right after that row still says RUNNING.
TEST_CASE("a META_DATA_SYNC job row still says RUNNING right after its last completed row") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  const std::string id = server.start_job("META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
  advance_to_next_tick(server);
  server.advance(3100ms);  // the last completed row was written at +3.1 s
  const auto rows = stored_rows(api, "META_DATA_SYNC", id);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.front().completed);
  CHECK(std::count_if(rows.begin(), rows.end(), [](const Notification& n) { return n.completed; }) == 3);
  CHECK(job_row(api, id).at("jobStatus") == "RUNNING");
  server.advance(40ms);
  CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");
}

// ================================================================================================
// A cluster without Redis (§1.4): notifications are per node, job rows are in the database
// ================================================================================================

TEST_CASE("a node that did not run the job has no notifications and no summary, but the same job row") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/dataValueSets?async=true", R"({"dataValues":[]})"));
  advance_to_next_tick(server);
  server.advance(5s);
  REQUIRE_FALSE(feed(api, "DATAVALUE_IMPORT", id).empty());
  REQUIRE(api.get("/api/system/taskSummaries/DATAVALUE_IMPORT/" + id).body.size() > 2);

  server.set_notifier_node(NotifierNode::Other);
  CHECK(feed(api, "DATAVALUE_IMPORT", id).empty());
  CHECK(api.get("/api/system/tasks/DATAVALUE_IMPORT").json() == Json::object());
  CHECK(api.get("/api/system/taskSummaries/DATAVALUE_IMPORT/" + id).body.empty());
  CHECK(job_row(api, id).at("lastExecutedStatus") == "COMPLETED");

  server.set_notifier_node(NotifierNode::Alternating);
  const bool first_empty = feed(api, "DATAVALUE_IMPORT", id).empty();
  const bool second_empty = feed(api, "DATAVALUE_IMPORT", id).empty();
  CHECK(first_empty != second_empty);
}

// ================================================================================================
// Saved jobs run again (§1.5, §3.1: tryExecuteNow, tryStart, tryFinish, tryCancel)
// ================================================================================================

namespace {

// A saved analytics job that ran yesterday, and a long ad-hoc analytics run going on now.
struct QueuedBehind {
  FakeServer server{options_for("2.42.1")};
  Api api{server};
  std::string saved = "Sv1Cd2Ef3Gh";
  std::string blocker;
  std::string yesterday_end;

  QueuedBehind() {
    server.add_job_configuration(
        saved, "ANALYTICS_TABLE",
        JobScript().start("Saved analytics").complete("Analytics tables updated: {duration}", 2s));
    REQUIRE(api.post("/api/jobConfigurations/" + saved + "/execute").status == 200);
    advance_to_next_tick(server);
    server.advance(3s);
    yesterday_end = full_row(api, saved).at("lastFinished");
    server.advance(24h);
    server.script_next("ANALYTICS_TABLE",
                       JobScript().start("Long analytics").complete("Analytics tables updated: {duration}", 10min));
    blocker = id_of(kick_off(api, "/api/resourceTables/analytics"));
    advance_to_next_tick(server);
    REQUIRE(job_row(api, blocker).at("jobStatus") == "RUNNING");
    REQUIRE(api.post("/api/jobConfigurations/" + saved + "/execute").status == 200);
  }
};

}  // namespace

TEST_CASE("a saved job executed while its type runs stays queued with its previous run's row and feed") {
  QueuedBehind q;
  for (int tick = 0; tick < 3; ++tick) {
    advance_to_next_tick(q.server);
    const Json row = full_row(q.api, q.saved);
    CHECK(row.at("jobStatus") == "SCHEDULED");
    CHECK(row.at("schedulingType") == "ONCE_ASAP");  // tryExecuteNow
    CHECK(row.at("cronExpression") == "0 0 3 ? * *");
    CHECK(row.at("lastExecutedStatus") == "COMPLETED");  // yesterday's
    CHECK(row.at("lastFinished") == q.yesterday_end);
    const auto rows = feed(q.api, "ANALYTICS_TABLE", q.saved);
    REQUIRE_FALSE(rows.empty());
    CHECK(rows.front().completed);  // yesterday's completed list
  }
  q.server.advance(10min);  // the blocker ends; the saved job starts at the next tick and ends 2 s later
  advance_to_next_tick(q.server);
  q.server.advance(3s);
  const Json row = full_row(q.api, q.saved);
  CHECK(row.at("schedulingType") == "CRON");
  CHECK(row.at("jobStatus") == "SCHEDULED");
  CHECK(row.at("lastExecutedStatus") == "COMPLETED");
  CHECK(row.at("lastFinished").get<std::string>() > q.yesterday_end);
  CHECK_FALSE(row.contains("lastAlive"));  // tryFinish clears it
}

TEST_CASE("cancelling a queued saved job gives it its CRON back, STOPPED, with yesterday's lastFinished") {
  QueuedBehind q;
  q.server.advance(5s);
  REQUIRE(q.api.post("/api/jobConfigurations/" + q.saved + "/cancel").status == 204);
  const Json row = full_row(q.api, q.saved);
  CHECK(row.at("schedulingType") == "CRON");
  CHECK(row.at("jobStatus") == "SCHEDULED");
  CHECK(row.at("enabled") == true);
  CHECK(row.at("lastExecutedStatus") == "STOPPED");
  CHECK(row.at("lastFinished") == q.yesterday_end);
  CHECK(row.at("lastUpdated") == dhis2::format_local_time(dhis2::LocalTime(std::chrono::duration_cast<milliseconds>(
                                     q.server.clock().now().time_since_epoch()))));
}

// §3.2 tryCancel: an ad-hoc job cancelled before it started is disabled; its status stays SCHEDULED.
TEST_CASE("cancelling a queued ad-hoc job disables it and leaves it SCHEDULED ONCE_ASAP, STOPPED") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  REQUIRE(api.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
  const Json row = full_row(api, id);
  CHECK(row.at("jobStatus") == "SCHEDULED");
  CHECK(row.at("schedulingType") == "ONCE_ASAP");
  CHECK(row.at("enabled") == false);
  CHECK(row.at("lastExecutedStatus") == "STOPPED");
  CHECK_FALSE(row.contains("lastFinished"));
}

// ================================================================================================
// <=2.40 job rows of saved configurations (§3.1; AbstractSchedulingManager#whenRunIsDone)
// ================================================================================================

TEST_CASE("a <=2.40 saved job's row: RUNNING while it runs, then SCHEDULED with lastExecuted, and no lastFinished") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.7", "2.40.8");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string uid = "Sv1Cd2Ef3Gh";
  server.add_job_configuration(uid, "RESOURCE_TABLE", JobScript().start("Saved").complete("Done", 2s));
  REQUIRE(api.post("/api/jobConfigurations/" + uid + "/execute").status == 200);
  server.advance(1s);
  Json row = full_row(api, uid);
  CHECK(row.at("jobStatus") == "RUNNING");
  CHECK_FALSE(row.contains("lastExecuted"));  // written when the run ends
  server.advance(2s);
  row = full_row(api, uid);
  CHECK(row.at("jobStatus") == "SCHEDULED");
  CHECK(row.at("lastExecutedStatus") == "COMPLETED");
  CHECK(row.at("lastRuntimeExecution") == "0:00:02.000");
  CHECK_FALSE(row.contains("lastFinished"));
  CHECK_FALSE(row.contains("lastAlive"));
  // The start from 2.38.3/2.39.2/2.40, the end before.
  CHECK(row.at("lastExecuted") == (at_least(version, 40) ? kStartText : "2024-05-20T10:11:14.000"));
  // A second /execute while it runs is refused with E7006 (isRunning(jobType)).
  REQUIRE(api.post("/api/jobConfigurations/" + uid + "/execute").status == 200);
  const Reply again = api.post("/api/jobConfigurations/" + uid + "/execute");
  CHECK(again.json().at("errorReports").size() == 1);
}

TEST_CASE("a <=2.40 saved job cancelled by type ends STOPPED from 2.38.3/2.39.2/2.40, FAILED before") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.8");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  const std::string uid = "Sv1Cd2Ef3Gh";
  server.add_job_configuration(uid, "RESOURCE_TABLE",
                               JobScript().start("Saved").stage("One", 1s).stage("Two", 2s).complete("Done", 1s));
  REQUIRE(api.post("/api/jobConfigurations/" + uid + "/execute").status == 200);
  server.advance(1500ms);
  REQUIRE(api.post("/api/scheduling/cancel/RESOURCE_TABLE").status == 204);
  server.advance(2s);
  CHECK(full_row(api, uid).at("lastExecutedStatus") == (at_least(version, 40) ? "STOPPED" : "FAILED"));
  const auto rows = feed(api, "RESOURCE_TABLE", uid);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.front().completed);
  CHECK(rows.front().level == NotificationLevel::Error);
  // JobProgress#failedProcess(Exception) with a message-less CancellationException (2.40.0).
  CHECK(rows.front().message == std::optional<std::string>("Process failed: java.util.concurrent.CancellationException"));
}

// ================================================================================================
// The <=2.41.3 in-memory pool: 500 rows per job type, shared (NotificationMap.Pool#add, §1.4)
// ================================================================================================

TEST_CASE("on a full <=2.41.3 pool the job with the oldest addition loses its LOOP row, else its oldest row") {
  SECTION("2.40.7: two jobs of a type run at once; the older one's newest row is a LOOP row") {
    FakeServer server(options_for("2.40.7"));
    Api api(server);
    JobScript big;
    big.start("Big");
    for (int i = 1; i <= 498; ++i) big.message(NotificationLevel::Info, "row " + std::to_string(i), 1ms);
    big.items("item", 1, 1ms);  // the 500th row, a LOOP row
    big.stage("waits", 1h);
    const std::string a = server.start_job("ANALYTICS_TABLE", big);
    server.advance(1s);
    REQUIRE(stored_rows(api, "ANALYTICS_TABLE", a).size() == 500);
    const std::string b = server.start_job("ANALYTICS_TABLE",
                                           JobScript().start("Small").stage("next", 1s).stage("last", 1h));
    auto rows_a = stored_rows(api, "ANALYTICS_TABLE", a);
    REQUIRE(rows_a.size() == 499);
    CHECK(rows_a.front().message == std::optional<std::string>("row 498"));  // the LOOP row went
    CHECK(rows_a.back().message == std::optional<std::string>("Big"));
    server.advance(1s);  // b's second row: a loses its oldest row, the first one included
    rows_a = stored_rows(api, "ANALYTICS_TABLE", a);
    REQUIRE(rows_a.size() == 498);
    CHECK(rows_a.back().message == std::optional<std::string>("row 1"));
    CHECK(stored_rows(api, "ANALYTICS_TABLE", b).size() == 2);
  }
  SECTION("2.41.0: the next job of the type takes a finished job's oldest rows") {
    FakeServer server(options_for("2.41.0"));
    Api api(server);
    JobScript big;
    big.start("Big");
    for (int i = 1; i <= 498; ++i) big.message(NotificationLevel::Info, "row " + std::to_string(i), 1ms);
    big.complete("Big done", 1ms);  // 500 rows
    const std::string a = server.start_job("ANALYTICS_TABLE", big);
    advance_to_next_tick(server);
    server.advance(1s);
    REQUIRE(stored_rows(api, "ANALYTICS_TABLE", a).size() == 500);
    server.start_job("ANALYTICS_TABLE", JobScript().start("Small").stage("next", 1s).stage("last", 1h));
    advance_to_next_tick(server);
    server.advance(1s);
    const auto rows_a = stored_rows(api, "ANALYTICS_TABLE", a);
    REQUIRE(rows_a.size() == 498);
    CHECK(rows_a.front().message == std::optional<std::string>("Big done"));
    CHECK(rows_a.back().message == std::optional<std::string>("row 2"));
  }
}

// ================================================================================================
// Structured progress (2.41+, §3.1, §3.3; JobConfigurationController#getProgress)
// ================================================================================================

namespace {

// Starts at the 10:11:20 tick; rows at :20, :21, items each second from :22 to :26; fails at :30.
JobScript staged_failure() {
  return JobScript()
      .start("Analytics table update")
      .stage("Generating resource tables", 1s)
      .items("Generating resource table", 5, 1s)
      .object_error("E7610", "dE1234567890", "DataElement", {"dE1234567890"}, "Data element not found")
      .failed_stage("Generating resource tables failed", 4s)
      .abort(1s);
}

}  // namespace

TEST_CASE("progress is empty until the first snapshot, then stored every 10 s and at the end") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.0", "2.42.1");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  server.script_next("ANALYTICS_TABLE", staged_failure());
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  CHECK(progress_of(api, id).is_null());  // queued: 200 with an empty body
  advance_to_next_tick(server);           // 10:11:20: tryStart clears progress
  server.advance(9s);
  CHECK(progress_of(api, id).is_null());
  server.advance(1s);  // 10:11:30: the first snapshot
  Json p = progress_of(api, id);
  REQUIRE(p.at("sequence").size() == 1);
  const Json& process = p.at("sequence")[0];
  CHECK(process.at("description") == "Analytics table update");
  CHECK(process.at("jobId") == id);
  CHECK(process.at("startedTime") == "2024-05-20T10:11:20.000");
  // The failure at :30 runs before the snapshot of :30 (the abort follows at :31).
  REQUIRE(process.at("stages").size() == 1);
  const Json& stage = process.at("stages")[0];
  CHECK(stage.at("description") == "Generating resource tables");
  CHECK(stage.at("totalItems") == 5);
  CHECK(stage.at("items").size() == 5);
  CHECK(stage.at("items")[0].at("description") == "Generating resource table");
  CHECK(stage.at("status") == "ERROR");
  CHECK(stage.at("error") == "Generating resource tables failed");
  server.advance(1s);  // the abort ends the run: the final snapshot
  p = progress_of(api, id);
  CHECK(p.at("sequence")[0].at("status") == "ERROR");
  CHECK(p.at("sequence")[0].at("complete") == true);
  CHECK(p.at("errors").at("dE1234567890").at("E7610")[0].at("message") == "Data element not found");
  // dhis2::JobProgress reads it.
  const auto decoded = dhis2::JobProgress::from_json(p);
  CHECK_FALSE(decoded.failures().empty());
}

// §3.3: the snapshot is the `alive` observer's, on the node that runs the job; a node that dies
// stores none after. One jump of the clock over the whole run must leave what the server would
// have: the last snapshot before the death, not none and not a later state.
TEST_CASE("a job whose node dies keeps the last snapshot before the death, however far the clock jumps") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  server.script_next("ANALYTICS_TABLE", JobScript()
                                            .start("Analytics table update")
                                            .stage("First stage", 5s)    // :25
                                            .stage("Second stage", 10s)  // :35, snapshots at :30 and :40
                                            .die(10s)                    // :45
                                            .stage("Never reached", 10s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);  // 10:11:20: the run starts
  server.advance(2min);          // past the death and past the :50 snapshot a live node would store
  const Json p = progress_of(api, id);
  REQUIRE(p.at("sequence").size() == 1);
  const Json& process = p.at("sequence")[0];
  CHECK(process.at("status") == "RUNNING");
  CHECK(process.at("complete") == false);
  CHECK(process.at("duration") == 20000);  // the :40 snapshot, 20 s after the start
  REQUIRE(process.at("stages").size() == 2);
  CHECK(process.at("stages")[1].at("description") == "Second stage");
}

TEST_CASE("progress is for superusers, F_JOB_LOG_READ and the job's owner; errors only for the first two") {
  FakeServerOptions options = options_for("2.42.1");
  options.users.push_back(User{"logreader", "Reader123", {"F_JOB_LOG_READ"}});
  FakeServer server(options);
  Api admin(server);
  Api keeper(server, "keeper", "Keeper123");
  Api reader(server, "logreader", "Reader123");
  Api viewer(server, "viewer", "Viewer123");
  server.script_next("ANALYTICS_TABLE", staged_failure());
  const std::string id = id_of(kick_off(keeper, "/api/resourceTables/analytics"));  // keeper owns it
  advance_to_next_tick(server);
  server.advance(15s);
  CHECK(progress_of(admin, id).contains("errors"));
  CHECK(progress_of(reader, id).contains("errors"));
  const Json own = progress_of(keeper, id);
  CHECK(own.contains("sequence"));
  CHECK_FALSE(own.contains("errors"));
  const Json denied = progress_of(viewer, id, 403);
  CHECK(denied.at("errorCode") == "E1006");
  CHECK(progress_of(admin, "aBcDeFgHiJk", 404).at("errorCode") == "E1005");
}

TEST_CASE("a cancelled run's progress says CANCELLED; <=2.40 has no progress endpoint") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  server.script_next("ANALYTICS_TABLE",
                     JobScript().start("Analytics").stage("One", 1s).stage("Two", 30s).complete("Done", 1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(2s);
  REQUIRE(api.post("/api/jobConfigurations/" + id + "/cancel").status == 204);
  server.advance(1min);
  const Json p = progress_of(api, id);
  CHECK(p.at("sequence")[0].at("status") == "CANCELLED");
  CHECK(p.at("sequence")[0].contains("cancelledTime"));

  FakeServer old(options_for("2.40.8"));
  Api old_api(old);
  CHECK(old_api.get("/api/jobConfigurations/aBcDeFgHiJk/progress").status == 404);
}

// ================================================================================================
// Revert (2.41.1+ in the source; HibernateJobConfigurationStore#tryRevertNow)
// ================================================================================================

TEST_CASE("revert frees a job stuck in RUNNING as FAILED; a job that is not running is 409") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.1", "2.41.4", "2.42.1");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  Api viewer(server, "viewer", "Viewer123");
  server.script_next("ANALYTICS_TABLE", JobScript().start("Analytics").stage("One", 1s).die(1s));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(2min);  // the node died at :22; no heartbeat since
  REQUIRE(job_row(api, id).at("jobStatus") == "RUNNING");
  CHECK(viewer.post("/api/jobConfigurations/" + id + "/revert").status == 403);
  CHECK(api.post("/api/jobConfigurations/" + id + "/revert").status == 204);
  const Json row = full_row(api, id);
  CHECK(row.at("lastExecutedStatus") == "FAILED");
  CHECK(row.at("jobStatus") == "DISABLED");
  CHECK(row.contains("lastFinished"));
  const Reply again = api.post("/api/jobConfigurations/" + id + "/revert");
  CHECK(again.status == 409);
  CHECK(again.json().at("message") == "Job is not running");
  CHECK(api.post("/api/jobConfigurations/aBcDeFgHiJk/revert").status == 404);
}

TEST_CASE("2.42+ refuses to revert a job seen alive within the last minute; 2.41.0 has no revert") {
  FakeServer server(options_for("2.42.1"));
  Api api(server);
  server.script_next("ANALYTICS_TABLE", JobScript().start("Analytics").stage("One", 1s).stage("Two", 1h));
  const std::string id = id_of(kick_off(api, "/api/resourceTables/analytics"));
  advance_to_next_tick(server);
  server.advance(2s);
  const Reply alive = api.post("/api/jobConfigurations/" + id + "/revert");
  CHECK(alive.status == 409);
  CHECK(alive.json().at("message") == "Failed to transition job from RUNNING state");

  FakeServer old(options_for("2.41.0"));
  Api old_api(old);
  CHECK(old_api.post("/api/jobConfigurations/aBcDeFgHiJk/revert").status == 404);
}

// ================================================================================================
// Data integrity results carry their run's times (DataIntegritySummary: finishedTime; startTime 2.39.4+)
// ================================================================================================

TEST_CASE("data integrity results carry the time their run finished, and its start from 2.39.4") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.8", "2.42.1");
  CAPTURE(version);
  FakeServer server(options_for(version));
  Api api(server);
  kick_off(api, "/api/dataIntegrity/summary?checks=orgunits_orphaned");
  server.advance(1min);
  const Json results = api.get("/api/dataIntegrity/summary").json();
  REQUIRE(results.contains("orgunits_orphaned"));
  const Json& check = results.at("orgunits_orphaned");
  // The default run takes 3 s from its start (at once before 2.41; continuous on 2.41+).
  CHECK(check.at("finishedTime") == "2024-05-20T10:11:15.000");
  CHECK(check.contains("startTime") == at_least(version, 40));
}
