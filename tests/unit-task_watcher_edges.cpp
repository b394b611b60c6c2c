// dhis2::TaskWatcher at the edges of the failure classes of unit-task_watcher_runs.cpp: a previous
// run's list whose rows look newer than the kick-off, or is emptied, evicted or answered by another
// node while the job waits; a run whose first row comes late; a feed deleted under the watch;
// several-process types without a readable job row; <=2.40 jobs that leave nothing; a clock change
// with rows evicted by the cap; transient 4xx answers; a callback that throws. Each case once
// made a wait end wrong or hang. The clock is manual and moves with the feed polls.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/watch_rig.hpp"

namespace {

using namespace watch_rig;
using dhis2::Notification;
using dhis2::TaskCompletion;
using dhis2::TaskOutcome;
using dhis2::TaskRef;
using dhis2::TaskWatcher;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using dhis2::testing::NotifierNode;
using dhis2::testing::ServerTimeZone;
using Json = nlohmann::json;

// A saved job that ran once ("Old run" / "Old done"), and its next run (which fails) asked for.
TaskRef run_again(Rig& rig, JobScript first = JobScript().start("Old run").complete("Old done", 1s)) {
  rig.drive = false;
  rig.server->add_job_configuration(kSaved, "ANALYTICS_TABLE", std::move(first));
  rig.server->advance(1h);
  rig.client->jobs().execute(kSaved);
  rig.server->advance(1min);
  rig.server->set_configuration_script(kSaved,
                                       JobScript().start("New run").stage("New stage", 1s).fail("New failed", 1s));
  const TaskRef ref = rig.client->jobs().execute(kSaved);
  rig.drive = true;
  return ref;
}

const std::vector<std::string> kNewRun = {"New run", "New stage", "New failed"};

}  // namespace

// ---- a previous run's list -----------------------------------------------------------------------

TEST_CASE("a previous run's rows that look newer than its lastFinished (node skew) are still the previous run's") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 1s, 100ms, [](dhis2::testing::FakeServerOptions& o) { o.job_node_clock_offset = 3s; });
  const auto c = TaskWatcher(*rig.client, run_again(rig), quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == kNewRun);
}

TEST_CASE("a previous run's rows written in one millisecond burst are still the previous run's") {
  Rig rig("2.42.1");
  // 2.42 stamps rows of one millisecond 1 ms apart (§1.2): the last is later than lastFinished.
  const auto c = TaskWatcher(
                     *rig.client,
                     run_again(rig, JobScript().start("Old run").items("old item", 5, 0ms).complete("Old done", 0ms)),
                     quick())
                     .wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == kNewRun);
}

TEST_CASE("a <=2.40 saved job whose new run writes its first row late: the old list is not taken for it") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.8");
  CAPTURE(version);
  Rig rig(version, 1s);
  rig.drive = false;
  rig.server->add_job_configuration(kSaved, "RESOURCE_TABLE", JobScript().start("Old run").complete("Old done", 1s));
  rig.server->advance(1h);
  rig.client->jobs().execute(kSaved);
  rig.server->advance(1min);
  // The job row says RUNNING at once; its first row comes 2 s later.
  rig.server->set_configuration_script(
      kSaved, JobScript().start("New run", Json::object(), 2s).stage("New stage", 1s).fail("New failed", 1s));
  const TaskRef ref = rig.client->jobs().execute(kSaved);
  rig.drive = true;
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == kNewRun);
}

TEST_CASE("a previous run's list answered by alternating cluster nodes stays set aside") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 1s);
  const TaskRef ref = run_again(rig);
  rig.server->set_notifier_node(NotifierNode::Alternating);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == kNewRun);
}

TEST_CASE("a queued job's old rows evicted by the <=2.41.3 pool are not taken for its new run") {
  Rig rig("2.41.0", 2s);
  rig.drive = false;
  rig.server->add_job_configuration(kSaved, "ANALYTICS_TABLE",
                                    JobScript().start("Old run").stage("Old stage", 1s).complete("Old done", 2s));
  rig.client->jobs().execute(kSaved);
  rig.server->advance(30s);
  rig.server->advance(24h);
  rig.server->set_configuration_script(kSaved,
                                       JobScript().start("New run").stage("New stage", 1s).fail("New failed", 1s));
  JobScript blocker;  // 700 rows of the same type: the shared pool evicts the queued job's oldest rows
  blocker.start("Long analytics");
  for (int i = 0; i < 700; ++i) blocker.stage("Long stage " + std::to_string(i), 200ms);
  blocker.complete("Long done", 1s);
  rig.server->script_next("ANALYTICS_TABLE", blocker);
  rig.client->jobs().start_analytics();
  rig.server->advance(20s);
  const TaskRef ref = rig.client->jobs().execute(kSaved);
  rig.drive = true;
  const auto c = TaskWatcher(*rig.client, ref, quick(1ms)).wait(std::optional<milliseconds>(20s));
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == kNewRun);
}

TEST_CASE("a saved job's run that ended before anyone watched, after the clocks went back, is this run's") {
  Rig rig("2.42.1", 1s, 100ms, [](dhis2::testing::FakeServerOptions& o) {
    o.time_zone = ServerTimeZone::fixed("Europe/Oslo", "Central European Time", 2h);
    o.time_zone.change_at(kStart + 18s, 1h);
  });
  rig.drive = false;
  rig.server->add_job_configuration(kSaved, "ANALYTICS_TABLE", JobScript().start("Old run").complete("Old done", 1s));
  rig.client->jobs().execute(kSaved);
  rig.server->advance(13s);
  rig.server->set_configuration_script(kSaved, JobScript().start("New run").fail("New failed", 1s));
  const std::string token = rig.client->jobs().execute(kSaved).resume_token();
  rig.server->advance(1min);  // the run ends, an hour "earlier" than the kick-off, before the watch
  rig.drive = true;
  const auto c = TaskWatcher(*rig.client, TaskRef::parse(token), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(messages(c.notifications) == std::vector<std::string>{"New run", "New failed"});
}

// ---- nothing left to read ------------------------------------------------------------------------

TEST_CASE("a feed deleted under the watch of a job without a job row ends Unknown, not never") {
  Rig rig("2.40.8", 1s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Stage 1", 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  auto other = rig.make_client();
  bool deleted = false;
  TaskWatcher watcher(*rig.client, ref, quick(30ms));
  const auto c = watcher.for_each_notification(
      [&](const Notification& n) {
        if (!deleted && n.message == std::optional<std::string>("Stage 1")) {
          rig.drive = false;
          rig.server->advance(5s);  // the job ends, and then somebody clears its notifications
          other->delete_raw("system/tasks/ANALYTICS_TABLE/" + ref.uid);
          deleted = true;
          rig.drive = true;
        }
        return true;
      },
      kTimeout);
  REQUIRE(c);
  CHECK(c->outcome == TaskOutcome::Unknown);
  CHECK(c->rule == "feed-and-row-gone");
}

TEST_CASE("META_DATA_SYNC without a readable job row ends at its last completed row once quiet") {
  const int status = GENERATE(403, 404);
  CAPTURE(status);
  Rig rig("2.42.1", 200ms);
  const std::string uid = rig.server->start_job("META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
  rig.server->advance(8s);
  rig.server->inject("GET", "/api/jobConfigurations/*", Fault::status_page(status), -1);
  const auto c = TaskWatcher(*rig.client, TaskRef{"META_DATA_SYNC", uid}, quick(50ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "completed-row");
}

TEST_CASE("a <=2.40 job that writes nothing and is not running any more ends Unknown") {
  SECTION("a data integrity run that crashed (no rows, no job row, no results)") {
    const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.8");
    CAPTURE(version);
    Rig rig(version, 5s);
    rig.server->script_next("DATA_INTEGRITY",
                            JobScript().start("").stage("Checks", 1s).crash("NullPointerException", 2s));
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_data_integrity(), quick(50ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.rule == "not-running");
  }
  SECTION("2.38 drops a second analytics run while one runs") {
    Rig rig("2.38", 5s);
    rig.server->script_next("ANALYTICS_TABLE", JobScript().start("First").stage("Working", 1s).complete("Done", 1min));
    rig.client->jobs().start_analytics();
    const auto dropped = rig.client->jobs().start_analytics();
    const auto c = TaskWatcher(*rig.client, dropped, quick(50ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.notifications.empty());
  }
}

// ---- rows and answers at the edges -----------------------------------------------------------------

TEST_CASE("rows evicted by the cap after the clocks went back: the rest is delivered once") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 1s, 100ms, [](dhis2::testing::FakeServerOptions& o) {
    o.time_zone = ServerTimeZone::fixed("Europe/Oslo", "Central European Time", 2h);
    o.time_zone.change_at(kStart + 30s, 1h);
  });
  JobScript script;
  script.start("Import").stage("before", 1s).stage("s0", 20s);
  for (int i = 1; i < 1500; ++i) script.stage("s" + std::to_string(i), 1ms);  // 1,500 rows in 1.5 s: over the cap
  script.complete("Import done", 1ms);
  rig.server->script_next("ANALYTICS_TABLE", script);
  std::map<std::string, int> seen;
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), quick(200ms))
                     .for_each_notification(
                         [&](const Notification& n) {
                           ++seen[n.message.value_or("")];
                           return true;
                         },
                         kTimeout);
  REQUIRE(c);
  CHECK(c->outcome == TaskOutcome::Succeeded);
  CHECK(c->message() == "Import done");
  CHECK(c->notifications.size() > 900);
  for (const auto& entry : seen) {
    INFO(entry.first);
    CHECK(entry.second == 1);
  }
}

TEST_CASE("a proxy's 408 on the job row is not 'no job row'") {
  Rig rig("2.42.1");
  rig.server->script_next(
      "RESOURCE_TABLE",
      JobScript().start("Resource table update").lose_last_row().complete("Resource tables generated", 1s));
  const auto ref = rig.client->jobs().start_resource_tables();
  rig.server->inject("GET", "/api/jobConfigurations/*", Fault::status_page(408), 1);
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "job-row-completed");
}

TEST_CASE("without a version, a row id equal to the job id rules out the stale rule: a lone completed row stands") {
  Rig rig("2.40.7", 1s);
  dhis2::ClientOptions blind;
  blind.skip_version_probe = true;
  auto client = rig.make_client(blind);
  rig.server->script_next(
      "RESOURCE_TABLE",
      JobScript().start("Resource table update").lose_last_row().complete("Resource tables generated", 1s));
  const auto c = TaskWatcher(*client, client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "completed-row");
}

TEST_CASE("a callback that throws leaves the watch at its row; a new wait delivers the rest and the real end") {
  Rig rig("2.42.1", 10s);  // one poll sees the whole run
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Stage 1", 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  rig.server->advance(30s);
  TaskWatcher watcher(*rig.client, ref, quick());
  std::vector<std::string> first;
  CHECK_THROWS_AS(watcher.for_each_notification(
                      [&](const Notification& n) {
                        first.push_back(n.message.value_or(""));
                        if (first.size() == 2) throw std::runtime_error("the handler failed");
                        return true;
                      },
                      kTimeout),
                  std::runtime_error);
  REQUIRE(first == std::vector<std::string>{"Analytics table update", "Stage 1"});
  rig.server->inject("GET", "/api/system/tasks/*", Fault::status_page(502), 3);  // the next poll fails
  const TaskCompletion c = watcher.wait(kTimeout);
  CHECK(c.ok());
  CHECK(messages(c.notifications) == std::vector<std::string>{c.message()});
  CHECK(c.message().rfind("Analytics tables updated", 0) == 0);
}
