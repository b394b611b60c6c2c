// dhis2::TaskWatcher against the server situations that made earlier waits end wrong, hang or take
// a previous run's end (issue 8, classes 1-8), each on every version it concerns, plus revert and
// structured progress. The emulator reproduces each situation (unit-emulator_runs.cpp checks it
// against dhis2-wire.md); these tests check what a user sees: the outcome, the rule that decided,
// the rows delivered. The clock is manual and moves with the feed polls (support/watch_rig.hpp).
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/watch_rig.hpp"

namespace {

using namespace watch_rig;
using dhis2::Notification;
using dhis2::NotificationLevel;
using dhis2::TaskCompletion;
using dhis2::TaskOutcome;
using dhis2::TaskRef;
using dhis2::TaskWatcher;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using dhis2::testing::NotifierNode;
using dhis2::testing::ServerTimeZone;
using Json = nlohmann::json;

std::size_t reads_of(const Rig& rig, const std::string& pattern) {
  return rig.server->requests_to(pattern, "GET").size();
}

void require_each_once(const std::vector<Notification>& rows) {
  std::set<std::string> seen;
  for (const auto& n : rows) {
    INFO(n.time << " " << n.message.value_or(""));
    CHECK(seen.insert(n.id + '|' + n.time + '|' + n.level_name + '|' + n.message.value_or("")).second);
  }
}

Json import_summary(const std::string& status) {
  return Json{{"responseType", "ImportSummary"},
              {"status", status},
              {"importCount", {{"imported", 0}, {"updated", 0}, {"ignored", 3}, {"deleted", 0}}}};
}

}  // namespace

// ================================================================================================
// Class 1: a job row is terminal for this run only if it finished after this run's kick-off
// ================================================================================================

TEST_CASE("class 1: a saved job queued behind a running job of its type is not ended by yesterday's COMPLETED") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1", "2.43.1");
  CAPTURE(version);
  Rig rig(version, 20s);
  rig.drive = false;
  rig.server->add_job_configuration(
      kSaved, "ANALYTICS_TABLE",
      JobScript().start("Saved analytics").complete("Analytics tables updated: {duration}", 2s));
  rig.client->jobs().execute(kSaved);
  rig.server->advance(30s);  // yesterday's run: the tick, then 2 s; it succeeded
  const auto yesterday = rig.server->job(kSaved)->last_finished;
  REQUIRE(yesterday);
  rig.server->advance(24h);
  // Today's run fails, and a long ad-hoc analytics run holds the type for three minutes.
  rig.server->set_configuration_script(
      kSaved, JobScript().start("Saved analytics").stage("Populating", 1s).fail("Analytics table update failed", 1s));
  rig.server->script_next("ANALYTICS_TABLE", JobScript().start("Long analytics").complete("Long done", 3min));
  rig.client->jobs().start_analytics();
  rig.server->advance(20s);
  const TaskRef executed = rig.client->jobs().execute(kSaved);
  REQUIRE(executed.kickoff);
  rig.drive = true;

  std::optional<TaskCompletion> c;
  SECTION("the TaskRef execute() returned, watched by another Client") {
    auto other = rig.make_client();
    c = TaskWatcher(*other, executed, quick(1ms)).wait(kTimeout);
  }
  SECTION("a bare JOB_TYPE/uid: the job row says it is queued, so the finished list is the last run's") {
    c = TaskWatcher(*rig.client, TaskRef::parse("ANALYTICS_TABLE/" + kSaved), quick(1ms)).wait(kTimeout);
  }
  REQUIRE(c);
  CHECK(c->outcome == TaskOutcome::Failed);
  CHECK(c->rule == "error-row");
  CHECK(messages(c->notifications) ==
        std::vector<std::string>{"Saved analytics", "Populating", "Analytics table update failed"});
  // The watcher did ask the job row while the run was queued, and did not take its COMPLETED.
  CHECK(reads_of(rig, "/api/jobConfigurations/" + kSaved) >= 3);
}

// ================================================================================================
// Class 2: a read that fails transiently is not "no job row" (nor "no summary")
// ================================================================================================

TEST_CASE("class 2: the job row of a dead job, unreadable for a while, still says how it ended") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1", "2.43.1");
  const int fault = GENERATE(0, 1, 2, 3);
  CAPTURE(version, fault);
  Rig rig(version);
  rig.server->script_next("RESOURCE_TABLE",
                          JobScript().start("Resource table update").failed_stage("Generating failed", 2s).abort(1s));
  const auto ref = rig.client->jobs().start_resource_tables();
  // Three reads in a row fail (the Client tries each three times).
  const Fault faults[] = {Fault::status_page(503), Fault::drop_before_response(), Fault::html_page(),
                          Fault::too_many_requests(std::chrono::seconds(0))};
  rig.server->inject("GET", "/api/jobConfigurations/*", faults[fault], 9);
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(c.rule == "job-row-failed");
  CHECK(reads_of(rig, "/api/jobConfigurations/*") > 9);
}

TEST_CASE("class 2: only a 404 means the job row is gone") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE",
                          JobScript().start("Resource table update").failed_stage("Generating failed", 2s).abort(1s));
  const auto ref = rig.client->jobs().start_resource_tables();
  rig.server->inject("GET", "/api/jobConfigurations/*", Fault::status_page(404), -1);
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Unknown);
  CHECK(c.rule == "stale-copy-no-job-row");
}

TEST_CASE("class 2: a task summary that cannot be read for longer than summary_wait is read again") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.8", "2.42.1");
  CAPTURE(version);
  Rig rig(version);
  // The final row names no status: only the summary says the import failed.
  rig.server->script_next(
      "DATAVALUE_IMPORT",
      JobScript().start("Data value set import").summary(import_summary("ERROR"), 1s).complete("Import done", 0ms));
  const auto ref = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
  rig.server->inject("GET", "/api/system/taskSummaries/*", Fault::status_page(502), 30);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(c.rule == "summary-status");
  CHECK(c.summary.value("status", "") == "ERROR");
}

// ================================================================================================
// Class 3: a lost final row is not an unknown end when the server says how it ended
// ================================================================================================

TEST_CASE("class 3: a lost final row of a type without a summary: the job row's COMPLETED, else never Succeeded") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.8", "2.41.4", "2.42.1", "2.43.1");
  CAPTURE(version);
  Rig rig(version);
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .stage("Generating resource tables", 1s)
                                                .complete("Resource tables generated", 1s)
                                                .lose_last_row());
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  if (version == "2.40.8") {
    // No stale rule, no job row for an API-started job: nothing says how it ended.
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.rule == "not-running");
  } else {
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(c.rule == "job-row-completed");
  }
}

TEST_CASE("class 3: a lost final row of a type with a summary takes the summary's word, or is Unknown without one") {
  SECTION("2.40.8: the data value import's summary survives and says ERROR") {
    Rig rig("2.40.8");
    rig.server->script_next("DATAVALUE_IMPORT", JobScript()
                                                    .start("Data value set import")
                                                    .complete("Import complete with status ERROR, 0 created", 1s)
                                                    .lose_last_row()
                                                    .summary(import_summary("ERROR"), 150ms));
    const auto ref = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Failed);
    CHECK(c.rule == "summary-without-final-row");
  }
  SECTION("2.42.1: the stale rule wiped the summary with the rows") {
    const std::string type = GENERATE(as<std::string>{}, "METADATA_IMPORT", "DATAVALUE_IMPORT");
    CAPTURE(type);
    Rig rig("2.42.1");
    JobScript script;
    script.start("Import");
    if (type == "METADATA_IMPORT") {
      script.summary(import_summary("OK"), 1s).complete("Import complete with status OK", 0ms).lose_last_row();
    } else {
      script.complete("Import complete with status OK", 1s).lose_last_row().summary(import_summary("SUCCESS"), 150ms);
    }
    rig.server->script_next(type, script);
    const auto ref = type == "METADATA_IMPORT" ? rig.client->jobs().import_metadata_async(Json::object())
                                               : rig.client->jobs().import_data_values_async(Json::object());
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.rule == "summary-missing");
  }
}

TEST_CASE("class 3: a lone completed row is confirmed with the job row on 2.41.1+, and taken as it is before") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.8", "2.41.0", "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version);
  // The start row is lost: the feed's only row is the real final one.
  rig.server->script_next(
      "RESOURCE_TABLE",
      JobScript().start("Resource table update").lose_last_row().complete("Resource tables generated", 1s));
  const auto ref = rig.client->jobs().start_resource_tables();
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.message() == "Resource tables generated");
  const bool stale_rule = version != "2.40.8" && version != "2.41.0";
  CHECK(c.rule == (stale_rule ? "job-row-completed" : "completed-row"));
}

TEST_CASE("class 3: a final row stored after the job row changed (the async queue) ends Succeeded, not Unknown") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 25ms);  // a poll lands inside the 50 ms the final row waits in the queue
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .stage("Working", 1s)
                                                .complete("Resource tables generated", 1s)
                                                .arrives_after(50ms));
  const auto ref = rig.client->jobs().start_resource_tables();
  rig.server->advance(8s);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "job-row-completed");
}

// ================================================================================================
// Class 4: job types with several processes never hang
// ================================================================================================

TEST_CASE("class 4: META_DATA_SYNC ends when its job row, committed after the last completed row, says so") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1", "2.43.1");
  CAPTURE(version);
  Rig rig(version, 20ms);  // polls every 20 ms of emulated time: one lands before the commit
  const std::string uid = rig.server->start_job("META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
  rig.server->advance(8s);
  const auto c = TaskWatcher(*rig.client, TaskRef{"META_DATA_SYNC", uid}, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "job-row-completed");
  REQUIRE(c.terminal);
  CHECK(c.terminal->completed);
  CHECK(std::count_if(c.notifications.begin(), c.notifications.end(),
                      [](const Notification& n) { return n.completed; }) == 3);
}

TEST_CASE("class 4: a META_DATA_SYNC whose run fails after a completed process is Failed") {
  Rig rig("2.42.1", 200ms);
  const std::string uid = rig.server->start_job("META_DATA_SYNC", JobScript()
                                                                      .start("Pre-processing")
                                                                      .complete("Pre-processing done", 1s)
                                                                      .start("Metadata sync", Json::object(), 100ms)
                                                                      .abort(1s));
  rig.server->advance(8s);
  const auto c = TaskWatcher(*rig.client, TaskRef{"META_DATA_SYNC", uid}, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(c.rule == "job-row-failed");
}

// ================================================================================================
// Class 5: server time has no zone
// ================================================================================================

TEST_CASE("class 5: clocks going back an hour during a run drop, reorder and cut short nothing") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.7", "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 1s, 100ms, [](dhis2::testing::FakeServerOptions& o) {
    o.time_zone = ServerTimeZone::fixed("Europe/Oslo", "Central European Time", 2h);
    o.time_zone.change_at(kStart + 30s, 1h);
  });
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Stage 1", 5s)
                                                 .stage("Stage 2", 10s)
                                                 .stage("Stage 3", 10s)
                                                 .stage("Stage 4", 10s)
                                                 .complete("Analytics tables updated: {duration}", 5s));
  const auto ref = rig.client->jobs().start_analytics();
  REQUIRE(ref.kickoff);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "completed-row");
  CHECK(messages(c.notifications) ==
        std::vector<std::string>{"Analytics table update", "Stage 1", "Stage 2", "Stage 3", "Stage 4", c.message()});
  // Rows after the change look older than the kick-off, and are delivered all the same.
  CHECK(*c.notifications.back().parsed_time() < *ref.kickoff);
  require_each_once(c.notifications);
}

TEST_CASE("class 5: a saved job's new rows that look older than the kick-off (clocks went back) are this run's") {
  Rig rig("2.42.1", 1s, 100ms, [](dhis2::testing::FakeServerOptions& o) {
    o.time_zone = ServerTimeZone::fixed("Europe/Oslo", "Central European Time", 2h);
    o.time_zone.change_at(kStart + 18s, 1h);  // 10:11:30Z, between the kick-off and the run
  });
  rig.drive = false;
  rig.server->add_job_configuration(kSaved, "ANALYTICS_TABLE", JobScript().start("Saved").complete("Saved done", 1s));
  rig.client->jobs().execute(kSaved);
  rig.server->advance(13s);  // 10:11:25; the first run ran 10:11:20-21 (12:11:20-21 local)
  rig.server->set_configuration_script(kSaved, JobScript().start("Saved again").fail("Saved failed", 1s));
  const TaskRef ref = rig.client->jobs().execute(kSaved);  // kick-off 12:11:21.001; the run starts at 11:11:40
  rig.drive = true;
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == std::vector<std::string>{"Saved again", "Saved failed"});
  CHECK(*c.notifications.front().parsed_time() < *ref.kickoff);
}

TEST_CASE("class 5: rows stamped by a job node whose clock is behind the kick-off's are all delivered") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.8", "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 500ms, 100ms, [](dhis2::testing::FakeServerOptions& o) { o.job_node_clock_offset = -30s; });
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Stage 1", 1s)
                                                 .stage("Stage 2", 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(messages(c.notifications) ==
        std::vector<std::string>{"Analytics table update", "Stage 1", "Stage 2", c.message()});
  CHECK(*c.notifications.front().parsed_time() < *ref.kickoff);
}

// ================================================================================================
// Class 6: a node that never ran the job (a cluster without Redis)
// ================================================================================================

TEST_CASE("class 6: on another node the feed stays empty; the job row decides, and a missing summary is Unknown") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1", "2.43.1");
  CAPTURE(version);
  Rig rig(version, 5s);
  rig.server->set_notifier_node(NotifierNode::Other);
  SECTION("a data value import whose summary (on the other node) says ERROR") {
    rig.server->script_next("DATAVALUE_IMPORT", JobScript()
                                                    .start("Data value set import")
                                                    .complete("Import complete with status ERROR, 0 created", 1s)
                                                    .summary(import_summary("ERROR"), 150ms));
    const auto ref = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.rule == "summary-missing");
    CHECK(c.notifications.empty());
  }
  SECTION("a resource table run: the job row's COMPLETED") {
    const auto ref = rig.client->jobs().start_resource_tables();
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(c.rule == "job-row-completed");
  }
}

TEST_CASE("class 6: a load balancer alternating between nodes: each row once, and the real end") {
  Rig rig("2.42.1", 300ms);
  rig.server->set_notifier_node(NotifierNode::Alternating);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Stage 1", 1s)
                                                 .stage("Stage 2", 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "completed-row");
  CHECK(messages(c.notifications) ==
        std::vector<std::string>{"Analytics table update", "Stage 1", "Stage 2", c.message()});
}

// ================================================================================================
// Class 7: no version known (skip_version_probe)
// ================================================================================================

TEST_CASE("class 7: without a version, rows are known as the rows show, and a dead job is never Succeeded") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.7", "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 500ms);
  dhis2::ClientOptions blind;
  blind.skip_version_probe = true;
  auto client = rig.make_client(blind);
  SECTION("a job that completes: every row once") {
    rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                   .start("Analytics table update")
                                                   .stage("Same", 1s)
                                                   .stage("Same", 1s)
                                                   .complete("Analytics tables updated: {duration}", 1s));
    const auto c = TaskWatcher(*client, client->jobs().start_analytics(), quick()).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(messages(c.notifications) == std::vector<std::string>{"Analytics table update", "Same", "Same", c.message()});
  }
  SECTION("a job that aborts without a final row") {
    rig.server->script_next("ANALYTICS_TABLE",
                            JobScript().start("Analytics table update").failed_stage("Populating failed", 1s).abort(1s));
    const auto c = TaskWatcher(*client, client->jobs().start_analytics(), quick(30ms)).wait(kTimeout);
    CHECK(c.outcome != TaskOutcome::Succeeded);
    // Where the server keeps job rows it says FAILED; before 2.41 nothing says how it ended.
    CHECK(c.outcome == (version == "2.41.4" || version == "2.42.1" ? TaskOutcome::Failed : TaskOutcome::Unknown));
  }
}

// ================================================================================================
// Class 8: 2.38-2.40 saved job configurations have job rows; earlier data integrity results
// ================================================================================================

TEST_CASE("class 8: a <=2.40 saved job that lost its final row ends by its job row") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.7", "2.40.8");
  CAPTURE(version);
  Rig rig(version, 1s);
  SECTION("the row says COMPLETED") {
    rig.server->add_job_configuration(
        kSaved, "RESOURCE_TABLE",
        JobScript().start("Saved").stage("Working", 1s).complete("Saved done", 1s).lose_last_row());
    rig.server->advance(1h);  // saved an hour before it runs
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().execute(kSaved), quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(c.rule == "job-row-completed");
  }
  SECTION("the row says FAILED") {
    rig.server->add_job_configuration(kSaved, "RESOURCE_TABLE",
                                      JobScript().start("Saved").failed_stage("Working failed", 1s).abort(1s));
    rig.server->advance(1h);  // saved an hour before it runs
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().execute(kSaved), quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Failed);
    CHECK(c.rule == "job-row-failed");
  }
  SECTION("META_DATA_SYNC writes no rows there: the row says COMPLETED") {
    rig.server->add_job_configuration(kSaved, "META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
    rig.server->advance(1h);  // saved an hour before it runs
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().execute(kSaved), quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(c.notifications.empty());
  }
}

TEST_CASE("class 8: a <=2.40 job cancelled by another Client is Cancelled by its final row") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.8");
  CAPTURE(version);
  Rig rig(version, 1s);
  rig.server->add_job_configuration(kSaved, "RESOURCE_TABLE",
                                    JobScript().start("Saved").stage("One", 1s).stage("Two", 5s).complete("Done", 1s));
  rig.server->advance(1h);  // saved an hour before it runs
  const auto ref = rig.client->jobs().execute(kSaved);
  auto other = rig.make_client();
  other->jobs().cancel(ref);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Cancelled);
  CHECK(c.rule == "cancel-message");
}

TEST_CASE("class 8: an earlier data integrity run's results are not this run's") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.8");
  CAPTURE(version);
  Rig rig(version, 5s);
  rig.drive = false;
  rig.client->jobs().start_data_integrity();
  rig.server->advance(1min);  // the earlier run finished; its results are served
  rig.server->script_next("DATA_INTEGRITY", JobScript().start("").stage("Checks", 1s).complete("", 2min));
  const auto ref = rig.client->jobs().start_data_integrity();
  rig.drive = true;
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "integrity-results");
  REQUIRE(c.summary.is_object());
  REQUIRE_FALSE(c.summary.empty());
  for (const auto& check : c.summary.items()) {
    CHECK(*dhis2::parse_local_time(check.value().at("finishedTime").get<std::string>()) >= *ref.kickoff);
  }
  CHECK(rig.server->job(ref.uid)->last_executed_status == "COMPLETED");  // it really ended first
}

// ================================================================================================
// jobs().revert
// ================================================================================================

TEST_CASE("jobs().revert frees a job stuck in RUNNING, and the watch ends Failed") {
  Rig rig("2.42.1", 30s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript().start("Analytics table update").stage("Populating", 1s).die(1s));
  const auto ref = rig.client->jobs().start_analytics();
  rig.server->advance(3min);
  REQUIRE(rig.server->job(ref.uid)->job_status == "RUNNING");
  rig.client->jobs().revert(ref);
  CHECK(rig.server->job(ref.uid)->last_executed_status == "FAILED");
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  // A second revert: the job is not running any more.
  try {
    rig.client->jobs().revert(ref);
    FAIL("no ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 409);
    CHECK(e.dhis2_message() == "Job is not running");
  }
}

TEST_CASE("jobs().revert on a server without it says which version it needs") {
  const std::string version = GENERATE(as<std::string>{}, "2.40.8", "2.41.0");
  CAPTURE(version);
  Rig rig(version);
  try {
    rig.client->jobs().revert(TaskRef{"ANALYTICS_TABLE", "aBcDeFgHiJk"});
    FAIL("no UnsupportedVersionError");
  } catch (const dhis2::UnsupportedVersionError& e) {
    CHECK(contains(e.what(), "2.41.1"));
    CHECK(contains(e.what(), version));
  }
  CHECK(rig.server->requests_to("/api/jobConfigurations/*", "POST").empty());
}

// ================================================================================================
// Structured progress
// ================================================================================================

TEST_CASE("a failed job's completion carries the stage and object errors of the server's progress") {
  Rig rig("2.42.1", 2s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Generating resource tables", 1s)
                                                 .items("Generating resource table", 3, 1s)
                                                 .object_error("E7610", "dE1234567890", "DataElement", {"dE1234567890"},
                                                               "Data element not found")
                                                 .failed_stage("Generating resource tables failed", 1s)
                                                 .abort(1s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  REQUIRE(c.progress);
  CHECK(c.progress->source == dhis2::ProgressSource::Server);
  const auto has = [&c](const std::string& part) {
    return std::any_of(c.errors.begin(), c.errors.end(), [&](const std::string& e) { return contains(e, part); });
  };
  CHECK(has("Generating resource tables failed"));
  CHECK(has("Data element not found"));
}

TEST_CASE("on_progress gets the server's progress no more often than progress_interval, and nothing is read unasked") {
  Rig rig("2.42.1", 1s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 1s)
                                                 .items("Populating analytics table", 40, 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  SECTION("with a callback") {
    auto options = quick();
    options.initial_poll_interval = options.poll_interval = 5ms;
    options.progress_interval = 100ms;
    std::vector<dhis2::JobProgress> seen;
    options.on_progress = [&seen](const dhis2::JobProgress& p) { seen.push_back(p); };
    const auto began = std::chrono::steady_clock::now();
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), options).wait(kTimeout);
    const auto took = std::chrono::steady_clock::now() - began;
    CHECK(c.ok());
    REQUIRE_FALSE(seen.empty());
    for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] != seen[i - 1]);
    CHECK(seen.back().source == dhis2::ProgressSource::Server);
    const auto reads = reads_of(rig, "/api/jobConfigurations/*/progress");
    CHECK(reads >= 1);
    CHECK(reads <= static_cast<std::size_t>(took / 100ms) + 3);  // one more at the end
  }
  SECTION("without one") {
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), quick()).wait(kTimeout);
    CHECK(c.ok());
    CHECK(reads_of(rig, "/api/jobConfigurations/*/progress") == 0);
    REQUIRE(c.progress);
    CHECK(c.progress->source == dhis2::ProgressSource::Notifications);
  }
}

TEST_CASE("before 2.41 the progress is what the rows say: the stage and its [i/n] items") {
  Rig rig("2.40.8", 300ms);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 1s)
                                                 .items("Populating analytics table", 4, 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  auto options = quick();
  std::vector<dhis2::JobProgress> seen;
  options.on_progress = [&seen](const dhis2::JobProgress& p) { seen.push_back(p); };
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), options).wait(kTimeout);
  CHECK(c.ok());
  REQUIRE(seen.size() >= 3);
  CHECK(reads_of(rig, "/api/jobConfigurations/*/progress") == 0);
  const auto with_items = std::find_if(seen.begin(), seen.end(), [](const dhis2::JobProgress& p) {
    return p.item_counts() && p.item_counts()->second == 4;
  });
  REQUIRE(with_items != seen.end());
  CHECK(with_items->source == dhis2::ProgressSource::Notifications);
  REQUIRE(with_items->current_stage());
  CHECK(with_items->current_stage()->description == "Populating analytics tables");
}

TEST_CASE("progress() may be asked from another thread while a wait runs") {
  Rig rig("2.42.1", 1s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 1s)
                                                 .items("Populating analytics table", 60, 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  auto options = quick();
  options.poll_interval = 3ms;
  options.progress_interval = 5ms;
  TaskWatcher watcher(*rig.client, rig.client->jobs().start_analytics(), options);
  std::atomic<bool> done{false};
  std::atomic<int> non_empty{0};
  std::thread asker([&] {
    while (!done) {
      if (!watcher.progress().empty()) ++non_empty;
      if (!watcher.resume_token().empty() && watcher.position().delivered > 1000) break;  // never
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto c = watcher.wait(kTimeout);
  done = true;
  asker.join();
  CHECK(c.ok());
  CHECK(non_empty > 0);
}
