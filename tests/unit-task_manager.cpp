// TaskManager and BackgroundWatch against the emulator: outcomes as a blocking watch has them,
// many jobs on few threads, callbacks (their thread, their order, their exceptions), cancel and
// shutdown latency, wait_all, chains, resuming from tokens in a new manager, futures.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <dirent.h>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/watch_rig.hpp"

namespace {

using namespace std::chrono_literals;
using dhis2::BackgroundWatch;
using dhis2::TaskCompletion;
using dhis2::TaskManager;
using dhis2::TaskManagerOptions;
using dhis2::TaskOutcome;
using dhis2::TaskRef;
using dhis2::TaskWatcher;
using dhis2::WatchCallbacks;
using dhis2::WatchStatus;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using Json = nlohmann::json;
using watch_rig::kTimeout;
using watch_rig::messages;
using watch_rig::quick;
using watch_rig::Rig;

JobScript quick_success(const std::string& text) {
  return JobScript().start(text).items("Working", 2, 700ms).complete(text + ": done", 300ms);
}

JobScript long_job() { return JobScript().start("Long job").items("Working", 1000, 10s).complete("done", 1s); }

// The threads of this process.
int thread_count() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
  }
  return n;
}

using test_support::eventually;

// The messages of the rows that stay as they are: a LOOP row ("[3/12] ...") is replaced in place
// by the next one, so two watches taken at different times see different LOOP rows.
std::vector<std::string> lasting(const std::vector<dhis2::Notification>& rows) {
  std::vector<dhis2::Notification> kept;
  for (const auto& n : rows) {
    if (n.level != dhis2::NotificationLevel::Loop) kept.push_back(n);
  }
  return messages(kept);
}

template <class E>
std::string error_message(const BackgroundWatch& w) {
  try {
    w.get();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("another error: ") + e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("background watches end with the outcomes, notifications and rules of a blocking watch") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  rig.server->script_next("MONITORING", JobScript().start("Monitoring").fail("Monitoring failed", 1s));
  rig.server->script_next("ANALYTICS_TABLE", JobScript().start("Analytics").crash("out of memory", 1s));
  const std::vector<TaskRef> refs = {rig.client->jobs().start_resource_tables(), rig.client->jobs().start_monitoring(),
                                     rig.client->jobs().start_analytics()};
  TaskManager manager(*rig.client);
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, quick(), kTimeout));
  const auto completions = manager.wait_all(watches, 10s);
  REQUIRE(completions.size() == 3);
  CHECK(watches[0].status() == WatchStatus::Succeeded);
  CHECK(watches[1].status() == WatchStatus::Failed);
  CHECK(watches[2].status() == WatchStatus::Failed);
  CHECK(completions[0].outcome == TaskOutcome::Succeeded);
  CHECK(completions[1].outcome == TaskOutcome::Failed);
  CHECK(completions[2].outcome == TaskOutcome::Failed);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    INFO(refs[i].str());
    CHECK(watches[i].ref() == refs[i]);
    CHECK(completions[i].ref == refs[i]);
    CHECK(watches[i].id() == i + 1);
    CHECK_FALSE(watches[i].error());
    REQUIRE(watches[i].queued_at());
    REQUIRE(watches[i].started_at());
    REQUIRE(watches[i].finished_at());
    CHECK(*watches[i].queued_at() <= *watches[i].started_at());
    CHECK(*watches[i].started_at() <= *watches[i].finished_at());
    // The same job watched by a blocking TaskWatcher afterwards: the same rows and the same answer.
    const auto blocking = TaskWatcher(*rig.client, refs[i], quick()).wait(kTimeout);
    CHECK(messages(completions[i].notifications) == messages(blocking.notifications));
    CHECK(completions[i].outcome == blocking.outcome);
    CHECK(completions[i].rule == blocking.rule);
  }
  CHECK(completions[0].message() == "Resource tables: done");
}

TEST_CASE("forty jobs are watched on the manager's two threads, not a thread per job") {
  Rig rig("2.42.1");
  // The jobs run on a clock of their own (1000x real time), as on a server, whatever the polls.
  // Imports of one type run one after another, each from a scheduler tick (20 s, 20 ms here).
  rig.drive = false;
  rig.server->clock().set_speed(1000);
  std::vector<TaskRef> refs;
  for (int i = 0; i < 40; ++i)
    refs.push_back(rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}}));
  TaskManager manager(*rig.client);  // 2 threads by default
  const int before = thread_count();
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, quick(), kTimeout));
  int most = thread_count();
  while (!manager.active().empty()) {
    most = std::max(most, thread_count());
    std::this_thread::sleep_for(1ms);
  }
  CHECK(most == before);  // no callbacks: not even the callback thread
  const auto completions = manager.wait_all(watches, 20s);
  REQUIRE(completions.size() == 40);
  for (std::size_t i = 0; i < completions.size(); ++i) {
    INFO(refs[i].str());
    CHECK(watches[i].status() == WatchStatus::Succeeded);
    CHECK(completions[i].ref == refs[i]);
    CHECK(completions[i].summary.is_object());
  }
}

TEST_CASE("a watch waiting for its task summary gives the thread back between reads") {
  // One polling thread, two watches, the jobs on the server's clock in real time: a data value
  // import that ends at 100 ms without its summary (its watch reads the summary again for
  // summary_wait, 2 s, then decides without it), and a resource table job that ends at 700 ms.
  // The second watch ends while the first still waits: the wait is rounds that the thread takes
  // turns with, not a sleep that holds the thread (which would end the second watch after the first).
  Rig rig("2.40.8");
  rig.drive = false;
  rig.server->clock().set_speed(1);
  rig.server->script_next("DATAVALUE_IMPORT", JobScript().start("Data value set import").complete("Import done", 100ms));
  rig.server->script_next("RESOURCE_TABLE",
                          JobScript().start("Resource tables").stage("Tables", 600ms).complete("done", 100ms));
  const auto import = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
  const auto tables = rig.client->jobs().start_resource_tables();
  TaskManagerOptions one_thread;
  one_thread.threads = 1;
  TaskManager manager(*rig.client, one_thread);
  auto options = quick();
  options.initial_poll_interval = 10ms;
  options.poll_interval = 20ms;
  auto waits = options;
  waits.summary_wait = 2s;
  const auto a = manager.watch(import, {}, waits, kTimeout);
  const auto b = manager.watch(tables, {}, options, kTimeout);
  const auto ca = a.get();
  const auto cb = b.get();
  CHECK(cb.outcome == TaskOutcome::Succeeded);
  CHECK(ca.outcome == TaskOutcome::Unknown);  // no status in the row, no summary
  CHECK(ca.rule == "summary-missing");
  REQUIRE(a.finished_at());
  REQUIRE(b.finished_at());
  CHECK(*b.finished_at() < *a.finished_at());
  // The summary was read again over the 2 s (100, 200, 400, 800 ms apart, then what is left).
  const auto reads = rig.server->requests_to("/api/system/taskSummaries/DATAVALUE_IMPORT/*", "GET").size();
  CHECK(reads >= 3);
  CHECK(reads <= 8);
}

TEST_CASE("callbacks run on one thread of the manager: started, each row once in order, then finished") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  const auto ref = rig.client->jobs().start_resource_tables();
  TaskManager manager(*rig.client);
  std::mutex m;
  std::vector<std::string> events;
  std::set<std::thread::id> threads;
  std::promise<WatchStatus> status_in_finished;
  WatchCallbacks callbacks;
  callbacks.on_started = [&](const BackgroundWatch& w) {
    std::lock_guard<std::mutex> lock(m);
    threads.insert(std::this_thread::get_id());
    events.push_back("started " + w.ref().str());
  };
  callbacks.on_notification = [&](const BackgroundWatch&, const dhis2::Notification& n) {
    std::lock_guard<std::mutex> lock(m);
    threads.insert(std::this_thread::get_id());
    events.push_back(n.message.value_or("<absent>"));
  };
  callbacks.on_finished = [&](const BackgroundWatch& w) {
    {
      std::lock_guard<std::mutex> lock(m);
      threads.insert(std::this_thread::get_id());
      events.push_back("finished");
    }
    status_in_finished.set_value(w.status());
    CHECK(w.get().ok());  // answers at once here
  };
  const auto watch = manager.watch(ref, callbacks, quick(), kTimeout);
  const TaskCompletion c = watch.get();
  // get() returns after on_finished returned.
  std::lock_guard<std::mutex> lock(m);
  REQUIRE(events.size() == c.notifications.size() + 2);
  CHECK(events.front() == "started " + ref.str());
  CHECK(events.back() == "finished");
  CHECK(std::vector<std::string>(events.begin() + 1, events.end() - 1) == messages(c.notifications));
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  CHECK(status_in_finished.get_future().get() == WatchStatus::Succeeded);
}

TEST_CASE("a callback that throws fails its own watch with that error and no other") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", long_job());  // still running when the watch has stopped
  rig.server->script_next("MONITORING", quick_success("Monitoring"));
  const auto first = rig.client->jobs().start_resource_tables();
  const auto second = rig.client->jobs().start_monitoring();
  TaskManager manager(*rig.client);
  std::atomic<int> rows_after_throw{0};
  std::atomic<bool> thrown{false};
  std::atomic<int> finished{0};
  WatchCallbacks throwing;
  throwing.on_notification = [&](const BackgroundWatch&, const dhis2::Notification&) {
    if (thrown.exchange(true)) ++rows_after_throw;
    throw std::runtime_error("the user's callback broke");
  };
  throwing.on_finished = [&](const BackgroundWatch&) { ++finished; };
  WatchCallbacks calm;
  calm.on_finished = [&](const BackgroundWatch&) { ++finished; };
  const auto bad = manager.watch(first, throwing, quick(), kTimeout);
  const auto good = manager.watch(second, calm, quick(), kTimeout);
  REQUIRE(bad.wait_for(5s));  // stopped, although its job runs for hours
  CHECK(error_message<std::runtime_error>(bad) == "the user's callback broke");
  CHECK(bad.status() == WatchStatus::Failed);
  REQUIRE(bad.error());
  CHECK(good.get().ok());
  CHECK(good.status() == WatchStatus::Succeeded);
  CHECK(rows_after_throw.load() == 0);  // its later rows reach no callback
  CHECK(finished.load() == 2);          // on_finished still runs, once each
  // The manager's threads survived: another watch runs.
  rig.server->script_next("ANALYTICS_TABLE", quick_success("Again"));
  CHECK(manager.watch(rig.client->jobs().start_analytics(), {}, quick(), kTimeout).get().ok());
}

TEST_CASE("cancel() stops a watch at once: Cancelled, get() throws TaskCancelledError, the job runs on") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  const auto ref = rig.client->jobs().start_analytics();
  TaskManager manager(*rig.client);
  auto options = quick();
  options.poll_interval = options.initial_poll_interval = 10s;  // it sleeps in the schedule
  const auto watch = manager.watch(ref, {}, options);
  REQUIRE(eventually([&] { return rig.task_polls.load() >= 1; }));
  std::this_thread::sleep_for(20ms);
  const auto before = std::chrono::steady_clock::now();
  watch.cancel();
  CHECK(watch.wait_for(1s));
  CHECK(std::chrono::steady_clock::now() - before < 1s);
  CHECK(watch.status() == WatchStatus::Cancelled);
  CHECK_THAT(error_message<dhis2::TaskCancelledError>(watch), Catch::Contains(ref.str()));
  CHECK(manager.active().empty());
  // Nothing asked the server to cancel the job.
  CHECK(rig.server->requests_to("/api/jobConfigurations/" + ref.uid + "/cancel", "POST").empty());
  CHECK(rig.server->requests_to("/api/scheduling/cancel/ANALYTICS_TABLE", "POST").empty());
  const auto job = rig.server->job(ref.uid);
  REQUIRE(job);
  CHECK(job->last_executed_status != "STOPPED");
}

TEST_CASE("cancel() interrupts a watch whose poll waits for a slow response") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  const auto ref = rig.client->jobs().start_analytics();
  rig.server->inject("GET", "/api/system/tasks/*", Fault::delay_by(5s));
  TaskManager manager(*rig.client);
  const auto watch = manager.watch(ref, {}, quick());
  REQUIRE(eventually([&] { return rig.server->requests_to("/api/system/tasks/*", "GET").size() == 1; }));
  std::this_thread::sleep_for(20ms);
  const auto before = std::chrono::steady_clock::now();
  watch.cancel();
  CHECK(watch.wait_for(2s));
  CHECK(std::chrono::steady_clock::now() - before < 1s);  // not the 5 s the server takes
  CHECK(watch.status() == WatchStatus::Cancelled);
}

TEST_CASE("the destructor ends every watch, sleeping or waiting on a slow response, within a second") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  rig.server->script_next("RESOURCE_TABLE", long_job());
  const auto sleeping_ref = rig.client->jobs().start_analytics();
  const auto slow_ref = rig.client->jobs().start_resource_tables();
  auto manager = std::make_unique<TaskManager>(*rig.client);
  auto slow_polls = quick();
  slow_polls.poll_interval = slow_polls.initial_poll_interval = 10s;
  std::vector<BackgroundWatch> watches;
  watches.push_back(manager->watch(sleeping_ref, {}, slow_polls));
  REQUIRE(eventually([&] { return rig.task_polls.load() >= 1; }));
  rig.server->inject("GET", "/api/system/tasks/RESOURCE_TABLE/*", Fault::delay_by(5s));
  watches.push_back(manager->watch(slow_ref, {}, quick()));
  REQUIRE(eventually([&] { return rig.server->requests_to("/api/system/tasks/RESOURCE_TABLE/*", "GET").size() == 1; }));
  std::this_thread::sleep_for(20ms);  // one sleeps between polls, one waits for the answer
  const auto before = std::chrono::steady_clock::now();
  manager.reset();
  CHECK(std::chrono::steady_clock::now() - before < 1s);  // not the 5 s or the 10 s
  for (const auto& w : watches) {
    INFO(w.ref().str());
    CHECK(w.wait_for(0ms));
    CHECK(w.status() == WatchStatus::Cancelled);
    CHECK_THAT(error_message<dhis2::TaskCancelledError>(w), Catch::Contains("TaskManager was destroyed"));
  }
}

TEST_CASE("wait_all throws TaskTimeoutError naming the jobs that had not finished") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  const auto quick_ref = rig.client->jobs().start_resource_tables();
  const auto long_ref = rig.client->jobs().start_analytics();
  TaskManager manager(*rig.client);
  auto slow = quick();
  slow.poll_interval = 50ms;
  const std::vector<BackgroundWatch> watches = {manager.watch(quick_ref, {}, quick(), kTimeout),
                                                manager.watch(long_ref, {}, slow)};
  REQUIRE(watches[0].wait_for(10s));
  std::string what;
  try {
    manager.wait_all(watches, 200ms);
  } catch (const dhis2::TaskTimeoutError& e) {
    what = e.what();
  }
  CHECK_THAT(what, Catch::Contains("1 of 2 watches had not finished"));
  CHECK_THAT(what, Catch::Contains(long_ref.str() + " (running)"));
  CHECK_THAT(what, !Catch::Contains(quick_ref.str()));
  manager.cancel_all();
  CHECK(watches[1].wait_for(2s));
  CHECK(watches[1].status() == WatchStatus::Cancelled);
  CHECK(watches[0].status() == WatchStatus::Succeeded);  // cancel_all leaves a final watch alone
}

TEST_CASE("a chained job starts when its predecessors succeeded, and is cancelled with the reason when one did not") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", quick_success("Analytics"));
  const auto a = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
  const auto b = rig.client->jobs().import_data_values_async(Json{{"dataValues", Json::array()}});
  TaskManager manager(*rig.client);
  const std::vector<BackgroundWatch> imports = {manager.watch(a, {}, quick(), kTimeout),
                                                manager.watch(b, {}, quick(), kTimeout)};
  std::atomic<int> started{0};
  dhis2::Client& client = *rig.client;
  const auto analytics = manager.after(
      imports,
      [&] {
        ++started;
        for (const auto& i : imports) CHECK(i.status() == WatchStatus::Succeeded);
        return client.jobs().start_analytics();
      },
      {}, quick(), kTimeout);
  CHECK(analytics.get().ok());
  CHECK(analytics.ref().job_type == "ANALYTICS_TABLE");
  CHECK(analytics.status() == WatchStatus::Succeeded);
  CHECK(started.load() == 1);

  SECTION("a failed predecessor cancels the chain") {
    rig.server->script_next("MONITORING", JobScript().start("Monitoring").fail("Monitoring failed", 1s));
    const auto failing = manager.watch(rig.client->jobs().start_monitoring(), {}, quick(), kTimeout);
    std::atomic<bool> ran{false};
    const auto chained = manager.after({failing}, [&] {
      ran = true;
      return client.jobs().start_analytics();
    });
    const std::string what = error_message<dhis2::TaskCancelledError>(chained);
    CHECK_THAT(what, Catch::Contains("not started"));
    CHECK_THAT(what, Catch::Contains(failing.ref().str()));
    CHECK_THAT(what, Catch::Contains("ended failed"));
    CHECK(chained.status() == WatchStatus::Cancelled);
    CHECK_FALSE(ran.load());
    CHECK(chained.ref().uid.empty());
  }
}

TEST_CASE("a chain's start function that throws fails the watch with its error; one that waits is refused") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  TaskManager manager(*rig.client);
  const auto first = manager.watch(rig.client->jobs().start_resource_tables(), {}, quick(), kTimeout);
  const auto throwing = manager.after({first},
                                      []() -> TaskRef { throw dhis2::TaskTimeoutError("the kick-off timed out"); });
  CHECK(error_message<dhis2::TaskTimeoutError>(throwing) == "the kick-off timed out");
  CHECK(throwing.status() == WatchStatus::Failed);  // whatever start() throws fails the watch
  const auto running = manager.watch(rig.client->jobs().start_analytics(), {}, quick());
  const auto waiting = manager.after({first}, [&running]() -> TaskRef {
    running.get();  // on a polling thread: would wait for the thread itself
    return running.ref();
  });
  CHECK_THAT(error_message<dhis2::UsageError>(waiting), Catch::Contains("polling thread"));
  CHECK(waiting.status() == WatchStatus::Failed);
  CHECK(running.status() == WatchStatus::Running);
  running.cancel();
}

TEST_CASE("a new manager resumes from resume tokens and delivers only the rows not delivered before") {
  Rig rig("2.42.1");
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics")
                                                 .stage("Resource tables", 700ms)
                                                 .stage("Analytics tables", 700ms)
                                                 .stage("Indexes", 700ms)
                                                 .stage("Swapping tables", 700ms)
                                                 .complete("Analytics tables updated", 300ms));
  const auto ref = rig.client->jobs().start_analytics();
  std::vector<std::string> first_rows;
  std::string token;
  std::atomic<bool> ran_ahead{false};
  std::promise<void> two_rows;
  {
    TaskManager manager(*rig.client);
    WatchCallbacks callbacks;
    callbacks.on_notification = [&](const BackgroundWatch& w, const dhis2::Notification& n) {
      if (first_rows.size() == 2) return;
      if (first_rows.empty()) {
        // A slow first callback: the polling goes on meanwhile and records later rows, which
        // must not count as delivered before their callbacks start. Each poll moves the clock
        // 2 s: poll 1 (at 0 s) brings the first rows, poll 2 (at 2 s) the stages through
        // "Indexes", poll 3 (at 4 s) the last ones, and the watch polls no more. The hook counts
        // a poll once its response is in, and a watch polls one request at a time, so a third
        // poll means the second one's rows are recorded. (Waiting for two polls more than had
        // been counted when this callback began waited for a fourth poll that never comes when
        // the second one was counted first, as it is on a loaded machine.)
        ran_ahead = eventually([&] { return rig.task_polls.load() >= 3; });
      }
      first_rows.push_back(n.message.value_or("<absent>"));
      if (first_rows.size() == 2) {
        token = w.resume_token();
        two_rows.set_value();
        w.cancel();  // the service stops here
      }
    };
    manager.watch(ref, callbacks, quick());
    REQUIRE(two_rows.get_future().wait_for(10s) == std::future_status::ready);
  }
  REQUIRE_FALSE(token.empty());
  CHECK(ran_ahead.load());  // the watcher had recorded rows beyond the two when the token was taken
  TaskManager restarted(*rig.client);
  std::vector<std::string> later_rows;
  WatchCallbacks callbacks;
  callbacks.on_notification = [&](const BackgroundWatch&, const dhis2::Notification& n) {
    later_rows.push_back(n.message.value_or("<absent>"));
  };
  const auto resumed = restarted.resume({token}, callbacks, quick(), kTimeout);
  REQUIRE(resumed.size() == 1);
  const auto c = resumed[0].get();
  CHECK(c.ok());
  const auto all = messages(TaskWatcher(*rig.client, ref, quick()).wait(kTimeout).notifications);
  std::vector<std::string> both = first_rows;
  both.insert(both.end(), later_rows.begin(), later_rows.end());
  CHECK(both == all);  // each row once, in order, across the restart
  CHECK_THROWS_AS(restarted.resume({"d2w1.damaged"}), dhis2::UsageError);
}

TEST_CASE("find(), active() and to_future()") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  TaskManager manager(*rig.client);
  const auto done = manager.watch(rig.client->jobs().start_resource_tables(), {}, quick(), kTimeout);
  auto future = done.to_future();
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  CHECK(future.get().ok());
  CHECK(done.to_future().get().ok());  // a future taken after the end is ready at once
  const auto running = manager.watch(rig.client->jobs().start_analytics(), {}, quick());
  const auto found = manager.find(running.id());
  REQUIRE(found);
  CHECK(found->ref() == running.ref());
  CHECK_FALSE(manager.find(999));
  REQUIRE(eventually([&] { return running.status() == WatchStatus::Running; }));
  const auto active = manager.active();
  REQUIRE(active.size() == 1);
  CHECK(active[0].id() == running.id());
  auto cancelled = running.to_future();
  running.cancel();
  CHECK_THROWS_AS(cancelled.get(), dhis2::TaskCancelledError);
}

TEST_CASE("get() from a callback before the result is in is a UsageError, not a hang") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  TaskManager manager(*rig.client);
  std::promise<std::string> seen;
  std::atomic<bool> once{false};
  WatchCallbacks callbacks;
  callbacks.on_started = [&](const BackgroundWatch& w) {
    if (once.exchange(true)) return;
    try {
      w.get();
      seen.set_value("returned");
    } catch (const dhis2::UsageError& e) {
      seen.set_value(e.what());
    }
  };
  const auto watch = manager.watch(rig.client->jobs().start_resource_tables(), callbacks, quick(), kTimeout);
  auto answer = seen.get_future();
  REQUIRE(answer.wait_for(10s) == std::future_status::ready);
  CHECK_THAT(answer.get(), Catch::Contains("would wait for the thread that runs the callbacks"));
  CHECK(watch.get().ok());
}

TEST_CASE("bad input: an empty handle, an empty ref, zero threads, a negative timeout") {
  Rig rig("2.42.1");
  const BackgroundWatch empty;
  CHECK_FALSE(empty);
  CHECK_THROWS_AS(empty.status(), dhis2::UsageError);
  CHECK_THROWS_AS(empty.get(), dhis2::UsageError);
  TaskManagerOptions none;
  none.threads = 0;
  CHECK_THROWS_AS(TaskManager(*rig.client, none), dhis2::UsageError);
  TaskManager manager(*rig.client);
  CHECK_THROWS_AS(manager.watch(TaskRef{}), dhis2::UsageError);
  CHECK_THROWS_AS(manager.watch(TaskRef{"ANALYTICS_TABLE", "Ab1Cd2Ef3Gh"}, {}, {}, -1ms), dhis2::UsageError);
  auto bad = quick();
  bad.poll_interval = 0ms;
  CHECK_THROWS_AS(manager.after(
                      {}, [] { return TaskRef{}; }, {}, bad),
                  dhis2::UsageError);
  CHECK_THROWS_AS(manager.wait_all({empty}, 1s), dhis2::UsageError);
  CHECK(manager.active().empty());
}

// ---- shared polls ---------------------------------------------------------------------------------

namespace {

// Starts `per_type` jobs of each of three import types, as the kick-offs would.
std::vector<TaskRef> start_imports(Rig& rig, int per_type) {
  std::vector<TaskRef> refs;
  for (const char* type : {"DATAVALUE_IMPORT", "METADATA_IMPORT", "COMPLETE_DATA_SET_REGISTRATION_IMPORT"}) {
    for (int i = 0; i < per_type; ++i)
      refs.push_back(TaskRef{type, rig.server->start_job(type, JobScript::default_for(type))});
  }
  return refs;
}

std::size_t job_polls(Rig& rig) {
  std::size_t n = 0;
  for (const char* type : {"DATAVALUE_IMPORT", "METADATA_IMPORT", "COMPLETE_DATA_SET_REGISTRATION_IMPORT"}) {
    n += rig.server->requests_to(std::string("/api/system/tasks/") + type + "/*", "GET").size();
  }
  return n;
}

std::size_t overview_polls(Rig& rig) {
  std::size_t n = 0;
  for (const char* type : {"DATAVALUE_IMPORT", "METADATA_IMPORT", "COMPLETE_DATA_SET_REGISTRATION_IMPORT"}) {
    n += rig.server->requests_to(std::string("/api/system/tasks/") + type, "GET").size();
  }
  return n;
}

}  // namespace

TEST_CASE("watches of one job type share a gist poll, and only jobs that changed read their own feed") {
  Rig rig("2.42.1");
  rig.drive = false;  // the clock stands still: the jobs show no change while the polls are counted
  const auto refs = start_imports(rig, 20);
  TaskManager manager(*rig.client);
  auto options = quick();
  options.initial_poll_interval = options.poll_interval = 50ms;
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, options, 20s));
  // The first rounds: two full ones per watch before it may skip. Waited for, not slept: under
  // a sanitizer and a parallel ctest, 60 watches' first rounds can take longer than 200 ms.
  REQUIRE(eventually([&] { return job_polls(rig) >= 2 * refs.size(); }));
  const std::size_t polls_before = job_polls(rig);
  const std::size_t overviews_before = overview_polls(rig);
  std::this_thread::sleep_for(600ms);  // 12 rounds of 50 ms
  const std::size_t polls = job_polls(rig) - polls_before;
  const std::size_t overviews = overview_polls(rig) - overviews_before;
  INFO("per-job polls " << polls << ", overview polls " << overviews << " in 600 ms, after " << polls_before
                        << " per-job polls in the first rounds");
  CHECK(overviews >= 3);  // each type's overview read again
  // About one overview per type per 50 ms pause (two where the watches fall due apart, or two
  // threads read it at once); quiet jobs make no round of their own. Unshared: 60 x 12 = 720.
  CHECK(overviews <= 3 * 2 * 13);
  CHECK(polls <= refs.size() / 2);

  // The jobs move on: each watch ends as its blocking watch does.
  rig.drive = true;
  const auto completions = manager.wait_all(watches, 20s);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    INFO(refs[i].str());
    CHECK(watches[i].status() == WatchStatus::Succeeded);
    const auto blocking = TaskWatcher(*rig.client, refs[i], quick()).wait(kTimeout);
    CHECK(messages(completions[i].notifications) == messages(blocking.notifications));
    CHECK(completions[i].outcome == blocking.outcome);
  }
}

TEST_CASE("with share_polls off, or on a server without the gist, every watch polls its own feed") {
  const bool gistless = GENERATE(false, true);
  Rig rig(gistless ? "2.41.1" : "2.42.1");
  rig.drive = false;
  const auto refs = start_imports(rig, 3);
  TaskManagerOptions options;
  options.share_polls = gistless;  // on 2.41.1 it is on, and does nothing
  TaskManager manager(*rig.client, options);
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, quick()));
  std::this_thread::sleep_for(300ms);
  INFO((gistless ? "2.41.1" : "share_polls off"));
  CHECK(overview_polls(rig) == 0);
  CHECK(job_polls(rig) > 3 * refs.size());  // the 2 ms interval: many rounds each
  manager.cancel_all();
}

std::size_t row_list_reads(Rig& rig) { return rig.server->requests_to("/api/jobConfigurations", "GET").size(); }

TEST_CASE("on 2.41+ quiet watches are checked by one job-row read for many jobs, not by polls of their own feeds") {
  // dhis2-wire.md §3.2: a job cancelled on 2.41+ writes no row, so the overview never shows its
  // end; its job row does. Every full_poll_interval a quiet watch is checked: on 2.42 by a
  // batched GET /api/jobConfigurations?filter=id:in:[...], on 2.40.8 (no rows for API-started
  // jobs) by a poll of its own feed.
  const std::string version = GENERATE(as<std::string>(), "2.42.1", "2.40.8");
  INFO(version);
  Rig rig(version);
  rig.drive = false;  // no row but the first ones: every job stays quiet (queued or running)
  const auto refs = start_imports(rig, 10);
  TaskManagerOptions manager_options;
  manager_options.full_poll_interval = 200ms;
  TaskManager manager(*rig.client, manager_options);
  auto options = quick();
  options.initial_poll_interval = options.poll_interval = 50ms;
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, options, 20s));
  REQUIRE(eventually([&] { return job_polls(rig) >= 2 * refs.size(); }));
  const std::size_t polls_before = job_polls(rig);
  const std::size_t rows_before = row_list_reads(rig);
  std::this_thread::sleep_for(1s);  // five full_poll_intervals
  const std::size_t polls = job_polls(rig) - polls_before;
  const std::size_t row_reads = row_list_reads(rig) - rows_before;
  INFO("per-job polls " << polls << ", job-row list reads " << row_reads << " in 1 s for " << refs.size() << " jobs");
  if (version == "2.42.1") {
    CHECK(row_reads >= 4);             // the checks ran, about one read per interval
    CHECK(row_reads <= refs.size());   // batched: not one per job and interval (150)
    CHECK(polls <= refs.size() / 10);  // quiet jobs read their own feeds almost never
    // Each read names the watched jobs in one filter, and asks only what the check needs.
    const auto reads = rig.server->requests_to("/api/jobConfigurations", "GET");
    REQUIRE_FALSE(reads.empty());
    CHECK(reads.back().query.find("paging=false") != std::string::npos);
    CHECK(reads.back().query.find("id%3Ain%3A%5B") != std::string::npos);
  } else {
    CHECK(row_reads == 0);
    CHECK(polls >= 2 * refs.size());  // every watch polls its own feed each interval (4-5 times)
  }

  // Unchanged outcome: the jobs move on and each watch ends as its blocking watch does.
  rig.drive = true;
  const auto completions = manager.wait_all(watches, 20s);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    INFO(refs[i].str());
    CHECK(watches[i].status() == WatchStatus::Succeeded);
    CHECK(completions[i].outcome == TaskOutcome::Succeeded);
  }
}

TEST_CASE("a job-row check that fails falls back to the watch's own poll") {
  Rig rig("2.42.1");
  rig.drive = false;
  const auto refs = start_imports(rig, 2);
  const bool proxy_error = GENERATE(true, false);
  INFO((proxy_error ? "the list answers 503" : "the list answers a login page with status 200"));
  rig.server->inject("GET", "/api/jobConfigurations", proxy_error ? Fault::status_page(503) : Fault::html_page(), -1);
  TaskManagerOptions manager_options;
  manager_options.full_poll_interval = 200ms;
  TaskManager manager(*rig.client, manager_options);
  auto options = quick();
  options.initial_poll_interval = options.poll_interval = 50ms;
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, options, 20s));
  REQUIRE(eventually([&] { return job_polls(rig) >= 2 * refs.size(); }));
  const std::size_t polls_before = job_polls(rig);
  std::this_thread::sleep_for(1s);
  const std::size_t polls = job_polls(rig) - polls_before;
  INFO("per-job polls " << polls << ", job-row list reads " << row_list_reads(rig));
  CHECK(row_list_reads(rig) >= 4);
  CHECK(polls >= 2 * refs.size());  // as without the row check: a poll of its own feed per interval (4-5)
  manager.cancel_all();
}

// ---- TaskWatcher::start() -----------------------------------------------------------------------

TEST_CASE("TaskWatcher::start() watches one job in the background and its thread ends with the watch") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  const auto ref = rig.client->jobs().start_resource_tables();
  const int before = thread_count();
  std::vector<std::string> rows;
  WatchCallbacks callbacks;
  callbacks.on_notification = [&rows](const BackgroundWatch&, const dhis2::Notification& n) {
    rows.push_back(n.message.value_or("<absent>"));
  };
  TaskCompletion c;
  {
    const BackgroundWatch watch = TaskWatcher(*rig.client, ref, quick()).start(callbacks, kTimeout);
    c = watch.get();
    CHECK(watch.status() == WatchStatus::Succeeded);
  }
  CHECK(c.ok());
  CHECK(rows == messages(c.notifications));
  CHECK(rows == messages(TaskWatcher(*rig.client, ref, quick()).wait(kTimeout).notifications));
  // Its polling and callback threads end once the watch has ended.
  CHECK(eventually([&] { return thread_count() == before; }));

  // cancel() works on it as on any background watch.
  rig.server->script_next("ANALYTICS_TABLE", long_job());
  const auto running = TaskWatcher(*rig.client, rig.client->jobs().start_analytics(), quick()).start();
  running.cancel();
  CHECK(running.wait_for(2s));
  CHECK(running.status() == WatchStatus::Cancelled);
  CHECK(eventually([&] { return thread_count() == before; }));
}

// ---- scale and sharing the client -----------------------------------------------------------------

TEST_CASE("200 jobs of mixed types and outcomes each end as their blocking watch does") {
  Rig rig("2.42.1");
  // The jobs run on the server's clock at 2000x real time: jobs of one type run one after another,
  // each from a scheduler tick (20 s, 10 ms here).
  rig.drive = false;
  rig.server->clock().set_speed(2000);
  const std::vector<std::string> types = {"DATAVALUE_IMPORT", "ANALYTICS_TABLE", "MONITORING", "RESOURCE_TABLE"};
  std::vector<TaskRef> refs;
  std::vector<WatchStatus> expected;
  for (int i = 0; i < 200; ++i) {
    const std::string& type = types[static_cast<std::size_t>(i) % types.size()];
    const bool import = type == "DATAVALUE_IMPORT";
    const std::string name = "Job " + std::to_string(i);
    JobScript script;
    switch (i % 3) {
      case 0:
        script = JobScript::default_for(type);
        expected.push_back(WatchStatus::Succeeded);
        break;
      case 1:
        script = JobScript().start(name).fail(name + " failed", 1s);
        if (import) script.summary(dhis2::testing::detail::default_import_summary("ERROR", 0, 0, 0, 3), 100ms);
        expected.push_back(WatchStatus::Failed);
        break;
      default:
        // An import that crashed before writing its summary: the rules cannot say how it ended.
        script = JobScript().start(name).crash("out of memory", 1s);
        expected.push_back(import ? WatchStatus::Unknown : WatchStatus::Failed);
        break;
    }
    refs.push_back(TaskRef{type, rig.server->start_job(type, script)});
  }
  TaskManager manager(*rig.client);
  std::vector<BackgroundWatch> watches;
  for (const auto& ref : refs) watches.push_back(manager.watch(ref, {}, quick(), 60s));
  const auto completions = manager.wait_all(watches, 60s);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    INFO(i << " " << refs[i].str() << ": " << completions[i].reason);
    CHECK(watches[i].status() == expected[i]);
    const auto blocking = TaskWatcher(*rig.client, refs[i], quick()).wait(kTimeout);
    CHECK(lasting(completions[i].notifications) == lasting(blocking.notifications));
    CHECK(completions[i].outcome == blocking.outcome);
    CHECK(completions[i].rule == blocking.rule);
  }
}

TEST_CASE("the caller's own thread uses the client while the manager watches with it") {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", quick_success("Resource tables"));
  rig.server->script_next("MONITORING", quick_success("Monitoring"));
  TaskManager manager(*rig.client);
  const std::vector<BackgroundWatch> watches = {
      manager.watch(rig.client->jobs().start_resource_tables(), {}, quick(), kTimeout),
      manager.watch(rig.client->jobs().start_monitoring(), {}, quick(), kTimeout)};
  int calls = 0;
  while (!manager.active().empty() && calls < 10000) {
    CHECK(rig.client->get_raw("me")["username"] == "admin");
    ++calls;
  }
  CHECK(calls > 0);
  for (const auto& c : manager.wait_all(watches, 10s)) CHECK(c.ok());
}

TEST_CASE("on_progress and progress(): the server's structured progress on 2.41+, the rows' before") {
  const bool structured = GENERATE(true, false);
  Rig rig(structured ? "2.42.1" : "2.40.8", 200ms);  // the 13 s job spans many polls
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 1s)
                                                 .items("Populating analytics table", 10, 1s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  TaskManager manager(*rig.client);
  auto options = quick();
  options.initial_poll_interval = options.poll_interval = 5ms;
  options.progress_interval = 1ms;
  std::mutex m;
  std::vector<dhis2::JobProgress> seen;
  std::set<std::thread::id> threads;
  WatchCallbacks callbacks;
  callbacks.on_progress = [&](const BackgroundWatch&, const dhis2::JobProgress& p) {
    std::lock_guard<std::mutex> lock(m);
    seen.push_back(p);
    threads.insert(std::this_thread::get_id());
  };
  const auto watch = manager.watch(rig.client->jobs().start_analytics(), callbacks, options, kTimeout);
  CHECK(watch.get().ok());
  INFO((structured ? "2.42.1" : "2.40.8")
       << ", progress reads " << rig.server->requests_to("/api/jobConfigurations/*/progress", "GET").size());
  const auto expected = structured ? dhis2::ProgressSource::Server : dhis2::ProgressSource::Notifications;
  std::lock_guard<std::mutex> lock(m);
  REQUIRE_FALSE(seen.empty());
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] != seen[i - 1]);  // only changes
  CHECK(seen.back().source == expected);
  CHECK(threads.size() == 1);
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  const auto latest = watch.progress();
  REQUIRE(latest);
  CHECK(*latest == seen.back());  // the handle keeps the latest, without a request
}

TEST_CASE("a job cancelled on 2.42 writes no final row: a shared-poll watch still ends Cancelled by its full round") {
  // dhis2-wire.md §1.5: on 2.41+ a cancelled job writes no final notification, so the type's
  // overview shows no change; only a watch's own feed read (the stale check, §1.6) and its job
  // row say the job ended. full_poll_interval bounds how long a shared-poll watch takes to see it.
  const bool bounded = GENERATE(true, false);
  Rig rig("2.42.1", 1s);
  rig.drive = false;  // no row but the ones written below
  rig.server->script_next("ANALYTICS_TABLE", JobScript()
                                                 .start("Analytics table update")
                                                 .stage("Populating analytics tables", 2s)
                                                 .items("Populating analytics table analytics_2024", 100, 60s)
                                                 .complete("Analytics tables updated: {duration}", 1s));
  const auto ref = rig.client->jobs().start_analytics();
  rig.server->advance(30s);  // started at the 20 s tick: two rows, the first item due 60 s later
  TaskManagerOptions options;
  options.full_poll_interval = bounded ? 300ms : std::chrono::milliseconds(std::chrono::hours(1));
  TaskManager manager(*rig.client, options);
  auto watch_options = quick(30ms);
  watch_options.initial_poll_interval = watch_options.poll_interval = 20ms;
  const auto watch = manager.watch(ref, {}, watch_options, 20s);
  // Its first two rounds read the feed, then it skips: the job shows no change. Waited for: a
  // second round that came after the cancel below would read the feed itself, and the unbounded
  // case would no longer test the shared poll alone.
  REQUIRE(eventually([&] { return rig.server->requests_to("/api/system/tasks/ANALYTICS_TABLE/*", "GET").size() >= 2; }));
  std::this_thread::sleep_for(100ms);  // skipped rounds
  REQUIRE(watch.status() == WatchStatus::Running);
  rig.client->jobs().cancel(ref);
  // Housekeeping (20 s grid) flags it; it stops when its first item is due, writing no row.
  rig.server->advance(45s);
  REQUIRE(rig.server->job(ref.uid)->job_status != "RUNNING");
  INFO((bounded ? "full_poll_interval 300 ms" : "full_poll_interval 1 h"));
  if (bounded) {
    REQUIRE(watch.wait_for(5s));
    CHECK(watch.status() == WatchStatus::Cancelled);
    CHECK(watch.get().outcome == TaskOutcome::Cancelled);
  } else {
    CHECK_FALSE(watch.wait_for(1s));  // the overview alone never shows the end
    CHECK(watch.status() == WatchStatus::Running);
    watch.cancel();
  }
}

TEST_CASE("a feed emptied by a restart: a shared-poll watch reads the job row at once, not at its full round") {
  // The server restarts (dhis2-wire.md §1.4: nothing survives a restart with the in-memory
  // store); the job dies with it. Its overview entry is gone and stays gone, which looks like "no
  // change" to the shared poll; the watcher's rules need its own rounds (feed [], then the job
  // row) to end it, so the manager must not skip them until full_poll_interval (here an hour).
  const std::string version = GENERATE(as<std::string>(), "2.42.1", "2.40.8");
  INFO(version);
  Rig rig(version);
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .stage("Organisation unit structure", 1s)
                                                .stage("Period structure", 1h)
                                                .complete("Resource tables generated", 1s));
  const auto ref = rig.client->jobs().start_resource_tables();
  TaskManagerOptions options;
  options.full_poll_interval = std::chrono::milliseconds(std::chrono::hours(1));
  TaskManager manager(*rig.client, options);
  std::mutex mutex;
  std::vector<std::string> rows;
  const auto count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return rows.size();
  };
  WatchCallbacks callbacks;
  callbacks.on_notification = [&](const BackgroundWatch&, const dhis2::Notification& n) {
    std::lock_guard<std::mutex> lock(mutex);
    rows.push_back(n.message.value_or("<absent>"));
  };
  const auto watch = manager.watch(ref, callbacks, quick(30ms), 60s);
  REQUIRE(eventually([&] { return count() >= 2; }));
  rig.server->restart();
  // Well before the deadline (60 s) and the full round (1 h).
  REQUIRE(watch.wait_for(20s));
  // 2.42: the row stays RUNNING until rescheduleStaleJobs marks it FAILED; 2.40: the job lived in
  // memory, and with its rows and row gone how it ended is not known. Never Succeeded.
  CHECK(watch.get().outcome == (version == "2.42.1" ? TaskOutcome::Failed : TaskOutcome::Unknown));
  CHECK(watch.get().rule == (version == "2.42.1" ? "job-row-failed" : "feed-and-row-gone"));
  // The rows written before the restart (a poll may have brought the third), each once.
  const std::vector<std::string> written = {"Resource table update", "Organisation unit structure", "Period structure"};
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(rows.size() <= written.size());
  CHECK(std::equal(rows.begin(), rows.end(), written.begin()));
}
