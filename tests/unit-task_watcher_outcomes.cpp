// dhis2::TaskWatcher: how a wait ends (docs/tasks.md, "How a wait ends"), against the emulator.
// Time is deterministic: the emulator's clock is manual and moves only when the Client's request
// hook sees a feed poll (or a summary read) complete. Real-time knobs (start_grace, summary_wait,
// stall_timeout, the deadline) are tiny so the whole file runs in well under a few seconds.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/watch_rig.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <future>
#include <thread>

namespace {

using namespace std::chrono_literals;
using dhis2::NotificationLevel;
using dhis2::TaskOutcome;
using dhis2::TaskRef;
using dhis2::TaskWatcher;
using dhis2::WatchOptions;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using Json = nlohmann::json;
using std::chrono::milliseconds;

using namespace watch_rig;

Json import_summary(const std::string& status) {
  return Json{{"responseType", "ImportSummary"},
              {"status", status},
              {"importCount", {{"imported", 0}, {"updated", 0}, {"ignored", 3}, {"deleted", 0}}},
              {"conflicts", Json::array()}};
}

Json data_values() { return Json{{"dataValues", Json::array()}}; }

// ---- completed rows --------------------------------------------------------------------------

TEST_CASE("a job that completes is Succeeded and its message is the final notification's") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .items("Generating resource table", 3, 700ms)
                                                .complete("Resource tables generated: all good", 300ms));
  const auto ref = rig.client->jobs().start_resource_tables();
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.ok());
  CHECK(c.message() == "Resource tables generated: all good");
  CHECK(c.level() == NotificationLevel::Info);
  REQUIRE(c.terminal);
  CHECK(c.terminal->completed);
  CHECK(c.notifications.size() >= 2);
}

TEST_CASE("a job that fails is Failed") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE",
                          JobScript().start("Resource table update").fail("Resource tables could not be generated", 1s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK_FALSE(c.ok());
  CHECK(c.message() == "Resource tables could not be generated");
  CHECK(c.level() == NotificationLevel::Error);
}

TEST_CASE("a job that crashes (\"Process failed: ...\") is Failed") {
  Rig rig("2.42.1");
  rig.server->script_next("MONITORING", JobScript().start("Monitoring").crash("x", 1s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_monitoring(), quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(c.message() == "Process failed: x");
}

TEST_CASE("a data value import whose summary says ERROR ends at INFO completed and is Failed by its summary") {
  Rig rig("2.42.1");
  rig.server->script_next("DATAVALUE_IMPORT", JobScript()
                                                  .start("Data value set import")
                                                  .stage("Importing data values", 300ms)
                                                  .complete("Import done", 500ms)
                                                  .summary(import_summary("ERROR"), 150ms));
  const auto ref = rig.client->jobs().import_data_values_async(data_values());
  CHECK(ref.job_type == "DATAVALUE_IMPORT");
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.level() == NotificationLevel::Info);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(contains(c.reason, "summary"));
  CHECK(contains(c.reason, "ERROR"));
  CHECK(c.summary.value("status", "") == "ERROR");
}

TEST_CASE("a data value import's summary written 150 ms after its completed row is still read") {
  // Feed polls advance the clock by 100 ms: the poll that sees the completed row lands before the
  // summary is written, and the summary reads (each advancing 100 ms) then find it.
  Rig rig("2.42.1", 100ms, 100ms);
  rig.server->script_next("DATAVALUE_IMPORT", JobScript()
                                                  .start("Data value set import")
                                                  .complete("Import done", 500ms)
                                                  .summary(import_summary("SUCCESS"), 150ms));
  const auto ref = rig.client->jobs().import_data_values_async(data_values());
  auto options = quick();
  options.summary_wait = 2s;  // the retry pause is 100 ms real time; two reads are enough
  const auto c = TaskWatcher(*rig.client, ref, options).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.summary.value("status", "") == "SUCCESS");
  CHECK(rig.server->requests_to("/api/system/taskSummaries/*", "GET").size() >= 2);
}

TEST_CASE("a metadata import whose report says ERROR is Failed") {
  Rig rig("2.42.1");
  const Json report{{"responseType", "ImportReport"},
                    {"status", "ERROR"},
                    {"stats", {{"created", 0}, {"updated", 0}, {"deleted", 0}, {"ignored", 1}, {"total", 1}}}};
  rig.server->script_next(
      "METADATA_IMPORT", JobScript()
                             .start("Metadata import")
                             .stage("Validating objects", 300ms)
                             .summary(report, 200ms)
                             .fail("Import complete with status ERROR, 0 created, 0 updated, 0 deleted, 1 ignored", 0ms));
  const auto ref = rig.client->jobs().import_metadata_async(Json{{"dataElements", Json::array()}});
  CHECK(ref.job_type == "METADATA_IMPORT");
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(c.summary.value("status", "") == "ERROR");
}

TEST_CASE("an import whose summary says WARNING is Succeeded with the summary available") {
  Rig rig("2.42.1");
  rig.server->script_next(
      "DATAVALUE_IMPORT",
      JobScript()
          .start("Data value set import")
          .complete("Import complete with status WARNING, 0 created, 0 updated, 0 deleted, 3 ignored", 500ms)
          .summary(import_summary("WARNING"), 150ms));
  const auto c =
      TaskWatcher(*rig.client, rig.client->jobs().import_data_values_async(data_values()), quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.ok());
  REQUIRE(c.summary.is_object());
  CHECK(c.summary["status"] == "WARNING");
}

// ---- the stale rule (2.41.1+) and the job row ----------------------------------------------------

TEST_CASE("a job that aborts after a failed stage is never Succeeded on 2.41.4 (stale rule)") {
  Rig rig("2.41.4");
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .stage("Generating resource tables", 1s)
                                                .failed_stage("Generating resource tables failed", 3s)
                                                .abort(3s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome != TaskOutcome::Succeeded);
  CHECK((c.outcome == TaskOutcome::Failed || c.outcome == TaskOutcome::Unknown));
  // The job row says FAILED, so the synthetic completion (or the job row itself) says Failed.
  CHECK(c.outcome == TaskOutcome::Failed);
}

TEST_CASE("a job whose node dies is marked FAILED ten minutes later and is not Succeeded") {
  Rig rig("2.42.1", 30s);
  rig.server->script_next("RESOURCE_TABLE",
                          JobScript().start("Resource table update").items("Generating resource table", 3, 2s).die(1s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome != TaskOutcome::Succeeded);
  CHECK(c.outcome == TaskOutcome::Failed);
}

TEST_CASE("a lost final notification on 2.42.1: the stale rule's copy, confirmed by the job row's COMPLETED") {
  // The last stored row is not completed and the job row is no longer RUNNING, so the feed
  // answers once with a copy of that row marked completed (dhis2-wire.md §1.6). The copy alone
  // says nothing; the job row says COMPLETED after the kick-off, and RESOURCE_TABLE has no
  // summary, so the run succeeded (issue 8, class 3).
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .items("Generating resource table", 3, 1s)
                                                .complete("Resource tables generated", 1s)
                                                .lose_last_row());
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.rule == "job-row-completed");
  CHECK(contains(c.reason, "copy of the last row"));
  REQUIRE(c.terminal);
  CHECK(c.terminal->completed);
  CHECK(c.message() == "[3/3] Generating resource table");  // the copy keeps the last real row's text
}

TEST_CASE("a lone completed row seen on the first poll is confirmed by the job row, never taken alone") {
  // The watcher starts after the job ended without its final row: the very first answer is the
  // stale rule's one-row copy of the start row, marked completed. On 2.41.1+ such a row is only
  // evidence; the job row says how the run ended, and without a job row the end is Unknown.
  Rig rig("2.42.1");
  SECTION("the job row says COMPLETED: Succeeded") {
    rig.server->script_next(
        "RESOURCE_TABLE",
        JobScript().start("Resource table update").complete("Resource tables generated", 1s).lose_last_row());
    const auto ref = rig.client->jobs().start_resource_tables();
    rig.server->advance(2min);
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Succeeded);
    CHECK(c.rule == "job-row-completed");
  }
  SECTION("the job row says FAILED: Failed") {
    rig.server->script_next("RESOURCE_TABLE", JobScript().start("Resource table update").abort(1s));
    const auto ref = rig.client->jobs().start_resource_tables();
    rig.server->advance(2min);
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Failed);
    CHECK(c.rule == "job-row-failed");
  }
  SECTION("no job row any more (ad-hoc rows go 24 h after the run): Unknown") {
    rig.server->script_next(
        "RESOURCE_TABLE",
        JobScript().start("Resource table update").complete("Resource tables generated", 1s).lose_last_row());
    const auto ref = rig.client->jobs().start_resource_tables();
    rig.server->advance(25h);
    const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
    CHECK(c.outcome == TaskOutcome::Unknown);
    CHECK(c.rule == "stale-copy-no-job-row");
    CHECK(contains(c.reason, "stale"));
  }
}

TEST_CASE("a lost final notification on 2.41.0 (no stale rule) ends truthfully through the job row after start_grace") {
  Rig rig("2.41.0");
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .items("Generating resource table", 3, 1s)
                                                .complete("Resource tables generated", 1s)
                                                .lose_last_row());
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(contains(c.reason, "job row says COMPLETED"));
}

TEST_CASE("a job that aborts on 2.41.0 (no stale rule) is Failed through the job row after start_grace") {
  Rig rig("2.41.0");
  rig.server->script_next(
      "RESOURCE_TABLE",
      JobScript().start("Resource table update").failed_stage("Generating resource tables failed", 2s).abort(2s));
  const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Failed);
  CHECK(contains(c.reason, "job row says FAILED"));
}

// ---- cancellation ----------------------------------------------------------------------------

void check_cancel_of_running_job(const std::string& version) {
  Rig rig(version, 1s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 2s)
                                                 .items("Populating analytics table analytics_2024", 100, 2s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  // Let it start (the 20 s tick) and write a few rows.
  rig.server->advance(30s);
  REQUIRE(rig.server->job(ref.uid));
  rig.client->jobs().cancel(ref);
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Cancelled);
  CHECK(contains(c.reason, "STOPPED"));
  CHECK(c.notifications.size() >= 2);
}

TEST_CASE("cancelling a running job on 2.41.4 ends the wait Cancelled") { check_cancel_of_running_job("2.41.4"); }

TEST_CASE("cancelling a running job on 2.42.1 ends the wait Cancelled") { check_cancel_of_running_job("2.42.1"); }

TEST_CASE("cancelling a queued job that never started is Cancelled through the job row") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_resource_tables();  // waits for the 20 s tick
  rig.client->jobs().cancel(ref);
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Cancelled);
  CHECK(c.notifications.empty());
  CHECK_FALSE(c.terminal);
  CHECK(contains(c.reason, "STOPPED"));
}

TEST_CASE("cancelling a job on 2.40.8 (by type) gives an ERROR completed row, read as Cancelled") {
  Rig rig("2.40.8", 1s);
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .items("Populating analytics table analytics_2024", 100, 2s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  rig.server->advance(5s);
  rig.client->jobs().cancel(ref);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Cancelled);
  CHECK(c.level() == NotificationLevel::Error);
  CHECK(rig.server->requests_to("/api/scheduling/cancel/ANALYTICS_TABLE", "POST").size() == 1);
  CHECK(c.rule == "cancel-message");
  CHECK(c.message() == "Process failed: java.util.concurrent.CancellationException");
}

// ---- job types without notifications -------------------------------------------------------------

TEST_CASE("a data integrity job on 2.42.1 (rows with empty messages) is Succeeded") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_data_integrity();
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  REQUIRE(c.terminal);
  CHECK(c.message().empty());
}

TEST_CASE("a data integrity job on 2.41.0 (no rows) is Succeeded through the job row after start_grace") {
  Rig rig("2.41.0");
  const auto ref = rig.client->jobs().start_data_integrity();
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.notifications.empty());
  CHECK(contains(c.reason, "job row says COMPLETED"));
}

TEST_CASE("a data integrity job on 2.40.8 (no rows, no job row) is Succeeded through /api/dataIntegrity/summary") {
  Rig rig("2.40.8");
  const auto ref = rig.client->jobs().start_data_integrity();
  const auto c = TaskWatcher(*rig.client, ref, quick(30ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.notifications.empty());
  CHECK(c.summary.is_object());
  CHECK(rig.server->requests_to("/api/dataIntegrity/summary", "GET").size() >= 1);
}

TEST_CASE("META_DATA_SYNC: several completed rows do not end the wait before the job row says COMPLETED") {
  Rig rig("2.42.1", 500ms);
  const auto uid = rig.server->start_job("META_DATA_SYNC", JobScript::default_for("META_DATA_SYNC"));
  const auto c = TaskWatcher(*rig.client, TaskRef{"META_DATA_SYNC", uid}, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  int completed_rows = 0;
  for (const auto& n : c.notifications) completed_rows += n.completed ? 1 : 0;
  CHECK(completed_rows == 3);
  REQUIRE(c.terminal);
  CHECK(c.terminal->completed);
  CHECK(c.terminal->id == c.notifications.back().id);
  CHECK(c.message().empty());  // a non-notifying type: its rows carry "" (docs/tasks.md)
  const auto job = rig.client->get_raw("jobConfigurations/" + uid, {{"fields", "lastExecutedStatus"}});
  CHECK(job.value("lastExecutedStatus", "") == "COMPLETED");
}

TEST_CASE("an unknown job id on 2.42.1 ends Unknown after start_grace") {
  Rig rig("2.42.1");
  const TaskRef ref{"ANALYTICS_TABLE", "aBcDeFgHiJk"};
  const auto c = TaskWatcher(*rig.client, ref, quick(20ms)).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Unknown);
  CHECK(c.notifications.empty());
  CHECK_FALSE(c.terminal);
}

// ---- deadline and stall ----------------------------------------------------------------------------

JobScript long_running() {
  return JobScript()
      .start("Analytics table update")
      .stage("Populating analytics tables", 1s)
      .message(NotificationLevel::Info, "Populating analytics table analytics_2024", 1s)
      .complete("Analytics tables updated: {duration}", 24h);
}

TEST_CASE("the deadline throws TaskTimeoutError naming the job and the last notification") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_running());
  const auto ref = rig.client->jobs().start_analytics();
  try {
    TaskWatcher(*rig.client, ref, quick()).wait(150ms);
    FAIL("no TaskTimeoutError");
  } catch (const dhis2::TaskTimeoutError& e) {
    CHECK_FALSE(e.stalled());
    const std::string what = e.what();
    CHECK(contains(what, ref.uid));
    CHECK(contains(what, "did not finish within"));
    CHECK(contains(what, "Populating analytics table analytics_2024"));
  }
}

TEST_CASE("stall_timeout throws a stalled TaskTimeoutError with its own message") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_running());
  const auto ref = rig.client->jobs().start_analytics();
  auto options = quick();
  options.stall_timeout = 100ms;
  try {
    TaskWatcher(*rig.client, ref, options).wait(5s);
    FAIL("no TaskTimeoutError");
  } catch (const dhis2::TaskTimeoutError& e) {
    CHECK(e.stalled());
    const std::string what = e.what();
    CHECK(contains(what, "stalled"));
    CHECK(contains(what, ref.uid));
    CHECK_FALSE(contains(what, "did not finish within"));
  }
}

// ---- watcher.cancel() ----------------------------------------------------------------------------

TEST_CASE("watcher.cancel() from another thread interrupts the sleep between polls within 50 ms") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_running());
  const auto ref = rig.client->jobs().start_analytics();
  auto options = quick();
  options.initial_poll_interval = 10s;
  options.poll_interval = 10s;
  TaskWatcher watcher(*rig.client, ref, options);
  std::atomic<bool> threw{false};
  std::chrono::steady_clock::time_point thrown_at;
  std::thread waiter([&] {
    try {
      watcher.wait(60s);
    } catch (const dhis2::TaskCancelledError&) {
      thrown_at = std::chrono::steady_clock::now();
      threw = true;
    }
  });
  // Wait until the first poll is done and the watcher sleeps.
  const auto give_up = std::chrono::steady_clock::now() + 3s;
  while (rig.task_polls.load() < 1 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  const auto cancelled_at = std::chrono::steady_clock::now();
  watcher.cancel();
  waiter.join();
  REQUIRE(threw);
  CHECK(thrown_at - cancelled_at < 50ms);
  CHECK(rig.task_polls.load() == 1);
}

TEST_CASE("watcher.cancel() interrupts the handshake of a client that was not connected yet") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_resource_tables();
  auto fresh = rig.make_client();  // unconnected: the wait's first request runs the handshake
  rig.server->inject("GET", "/api/system/info", dhis2::testing::Fault::delay_by(5s));
  TaskWatcher watcher(*fresh, ref, quick());
  std::promise<std::string> ended;
  auto outcome = ended.get_future();
  std::thread waiter([&] {
    try {
      watcher.wait(60s);
      ended.set_value("returned");
    } catch (const dhis2::TaskCancelledError&) {
      ended.set_value("TaskCancelledError");
    } catch (const std::exception& e) {
      ended.set_value(std::string("another error: ") + e.what());
    }
  });
  const auto give_up = std::chrono::steady_clock::now() + 3s;
  while (rig.server->requests_to("/api/system/info").size() < 3 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);  // 2 from rig.client's handshake, then the fresh client's probe
  }
  std::this_thread::sleep_for(20ms);  // let it block reading the answer
  const auto cancelled_at = std::chrono::steady_clock::now();
  watcher.cancel();
  const bool ready = outcome.wait_for(3s) == std::future_status::ready;
  const auto took = std::chrono::steady_clock::now() - cancelled_at;
  waiter.join();
  REQUIRE(ready);
  CHECK(outcome.get() == "TaskCancelledError");
  CHECK(took < 1s);  // not the 5 s the server takes
  CHECK(rig.task_polls.load() == 0);
  CHECK(fresh->state() == dhis2::Client::State::Unconnected);
}

TEST_CASE("watcher.cancel() before wait() makes wait() throw at once") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_resource_tables();
  TaskWatcher watcher(*rig.client, ref, quick());
  watcher.cancel();
  const auto before = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(watcher.wait(10s), dhis2::TaskCancelledError);
  CHECK(std::chrono::steady_clock::now() - before < 50ms);
  CHECK(rig.task_polls.load() == 0);
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("transient errors on the feed (502 pages, dropped connections) do not end the wait") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_resource_tables();
  rig.server->inject("GET", "/api/system/tasks/*", Fault::status_page(502), 3);
  rig.server->inject("GET", "/api/system/tasks/*", Fault::drop_before_response(), 3);
  const auto c = TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(contains(c.message(), "Resource tables generated"));
}

TEST_CASE("an AuthenticationError (401) ends the wait and is rethrown") {
  Rig rig("2.42.1");
  const auto ref = rig.client->jobs().start_resource_tables();
  dhis2::ClientOptions options;
  options.skip_version_probe = true;  // the feed GET is the first request, and gets the 401
  dhis2::Client wrong(rig.server->url(), dhis2::BasicAuth{"admin", "wrong"}, options);
  CHECK_THROWS_AS(TaskWatcher(wrong, ref, quick()).wait(kTimeout), dhis2::AuthenticationError);
  CHECK(rig.server->requests_to("/api/system/tasks/*", "GET").size() == 1);
}

TEST_CASE("an unknown job type ends the wait with the server's 400 ApiError") {
  Rig rig("2.42.1");
  const TaskRef ref{"NO_SUCH_TYPE", "aBcDeFgHiJk"};
  try {
    TaskWatcher(*rig.client, ref, quick()).wait(kTimeout);
    FAIL("no ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 400);
  }
}

// ---- client.tasks() --------------------------------------------------------------------------------

TEST_CASE("client.tasks().await_completion returns the completion") {
  Rig rig("2.42.1");
  rig.server->script_next("MONITORING", JobScript().start("Monitoring").complete("Monitoring process done", 2s));
  const auto ref = rig.client->jobs().start_monitoring();
  const auto c = rig.client->tasks().await_completion(ref, 10s, 2ms);
  CHECK(c.outcome == TaskOutcome::Succeeded);
  CHECK(c.ref.uid == ref.uid);
  CHECK(c.message() == "Monitoring process done");
}

}  // namespace

// ---- behind a compressing proxy -------------------------------------------------------------

TEST_CASE("behind a gzip proxy a watch reads compressed feeds and ends as it does without one") {
  const auto watch = [](bool compress) {
    Rig rig("2.42.1", 2s, 100ms, [compress](FakeServerOptions& o) { o.compress = compress; });
    rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                  .start("Resource table update")
                                                  .items("Generating resource table", 5, 700ms)
                                                  .complete("Resource tables generated", 300ms));
    const auto c = TaskWatcher(*rig.client, rig.client->jobs().start_resource_tables(), quick()).wait(kTimeout);
    std::size_t compressed_feeds = 0;
    for (const auto& r : rig.server->requests_to("/api/system/tasks/*")) compressed_feeds += r.response_compressed;
    return std::make_pair(c, compressed_feeds);
  };
  const auto [gzip, gzip_feeds] = watch(true);
  const auto [plain, plain_feeds] = watch(false);
  CHECK(gzip_feeds > 0);  // the feeds really came compressed
  CHECK(plain_feeds == 0);
  CHECK(gzip.outcome == TaskOutcome::Succeeded);
  CHECK(gzip.outcome == plain.outcome);
  CHECK(messages(gzip.notifications) == messages(plain.notifications));
  CHECK(gzip.notifications.size() >= 3);  // the start, the newest work item, the completion
}
