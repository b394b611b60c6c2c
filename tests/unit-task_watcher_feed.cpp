// dhis2::TaskWatcher reading the notification feed as a user sees it: each row delivered once,
// oldest first; content keys where every id is the job id (2.38-2.40.7); LOOP rows replaced
// between polls; rows dropped by the 500-row cap; early stop; a previous run's rows; a seeded
// property test; and the adaptive poll schedule. See docs/tasks.md and dhis2-wire.md §1.2-§1.6.
//
// Time is deterministic: the emulator's clock stands still and the Client's request hook advances
// it by a fixed or seeded amount after every completed GET of the feed.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using dhis2::Notification;
using dhis2::NotificationLevel;
using dhis2::TaskRef;
using dhis2::WatchOptions;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::JobScript;
using ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

#define WATCH_ALL_VERSIONS GENERATE(as<std::string>{}, "2.38", "2.40.7", "2.40.8", "2.41.0", "2.41.4", "2.42.1", "2.43.1")

// 2025-05-20T10:00:00Z, on the 20-second scheduler grid.
const std::chrono::system_clock::time_point kStart{std::chrono::seconds(1747735200)};

bool ids_are_job_id(const std::string& version) {
  return dhis2::ServerVersion::parse(version) < dhis2::ServerVersion::parse("2.40.8");
}

// A row's identity for the checks, independent of the watcher's own keys.
std::string row_key(const Notification& n) {
  return n.id + '|' + n.time + '|' + n.level_name + '|' + (n.message ? *n.message : "<absent>") + '|' +
         (n.completed ? "1" : "0");
}

// One emulator plus one Client whose request hook drives the emulator's clock.
struct Env {
  FakeServer server;
  std::function<ms()> step = [] { return ms(0); };   // how far to advance after each feed GET
  std::string type, uid;                             // the watched job, for snapshots
  std::vector<std::vector<Notification>> snapshots;  // what each feed GET returned (newest first)
  int feed_polls = 0;
  std::vector<std::chrono::steady_clock::time_point> poll_times;  // when each feed GET completed
  bool drive = true;
  std::unique_ptr<dhis2::Client> client;

  explicit Env(const std::string& version, double speed = 0) : server(options_for(version, speed)) {
    client = make_client();
  }

  static FakeServerOptions options_for(const std::string& version, double speed) {
    FakeServerOptions o;
    o.version = version;
    o.start_time = kStart;
    o.speed = speed;
    return o;
  }

  std::unique_ptr<dhis2::Client> make_client() {
    dhis2::ClientOptions co;
    co.on_request = [this](const dhis2::RequestEvent& e) {
      if (e.method != "GET" || e.status != 200 || e.url.find("/api/system/tasks/") == std::string::npos) return;
      ++feed_polls;
      poll_times.push_back(std::chrono::steady_clock::now());
      if (!drive) return;
      if (uid.empty()) return server.advance(step());
      snapshots.push_back(server.engine().feed(type, uid, false));
      // A job queued for the 2.41+ scheduler tick: skip to the tick rather than poll for 20 s.
      server.advance(snapshots.back().empty() ? ms(20000) : step());
    };
    return std::make_unique<dhis2::Client>(server.url(), dhis2::BasicAuth{"admin", "district"}, co);
  }

  TaskRef start(const std::string& job_type, JobScript script) {
    type = job_type;
    uid = server.start_job(job_type, std::move(script));
    return TaskRef{type, uid};
  }
};

WatchOptions fast_options() {
  WatchOptions o;
  o.initial_poll_interval = 1ms;
  o.poll_interval = 2ms;
  o.start_grace = std::chrono::hours(1);
  o.summary_wait = 10ms;
  return o;
}

struct Watched {
  std::optional<dhis2::TaskCompletion> result;
  std::vector<Notification> delivered;
};

Watched watch(Env& env, const TaskRef& ref, WatchOptions options = fast_options(), ms timeout = 20s) {
  Watched w;
  dhis2::TaskWatcher watcher(*env.client, ref, options);
  w.result = watcher.for_each_notification(
      [&w](const Notification& n) {
        w.delivered.push_back(n);
        return true;
      },
      timeout);
  return w;
}

std::vector<std::string> keys_of(const std::vector<Notification>& rows) {
  std::vector<std::string> keys;
  for (const auto& n : rows) keys.push_back(row_key(n));
  return keys;
}

void require_each_once_in_order(const std::vector<Notification>& delivered) {
  std::set<std::string> seen;
  std::optional<dhis2::LocalTime> previous;
  for (const auto& n : delivered) {
    INFO(row_key(n));
    CHECK(seen.insert(row_key(n)).second);
    const auto t = n.parsed_time();
    REQUIRE(t);
    if (previous) CHECK(*previous <= *t);
    previous = t;
  }
}

std::vector<std::string> messages_at(const std::vector<Notification>& rows, NotificationLevel level) {
  std::vector<std::string> out;
  for (const auto& n : rows) {
    if (n.level == level && n.message) out.push_back(*n.message);
  }
  return out;
}

JobScript basic_script() {
  return JobScript()
      .start("Analytics table update")
      .stage("Populating analytics tables", 1s)
      .items("Populating analytics table analytics_2024", 3, 500ms)
      .stage("Creating indexes", 1s)
      .complete(std::string("Analytics tables updated: {duration}"), 1s);
}

}  // namespace

TEST_CASE("for_each_notification delivers every row once, oldest first, and returns the completion", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  Env env(version);
  env.step = [] { return ms(300); };
  const auto ref = env.start("ANALYTICS_TABLE", basic_script());
  const auto w = watch(env, ref);

  REQUIRE(w.result);
  const auto& done = *w.result;
  CHECK(done.ok());
  require_each_once_in_order(w.delivered);
  CHECK(keys_of(done.notifications) == keys_of(w.delivered));
  REQUIRE(done.terminal);
  CHECK(done.terminal->completed);
  CHECK(row_key(*done.terminal) == row_key(w.delivered.back()));
  CHECK(done.message().rfind("Analytics tables updated: ", 0) == 0);
  CHECK(messages_at(w.delivered, NotificationLevel::Info) ==
        std::vector<std::string>{"Analytics table update", "Populating analytics tables", "Creating indexes",
                                 done.message()});
  // Polls every 300 ms of emulated time against items 500 ms apart: every LOOP row is seen.
  CHECK(messages_at(w.delivered, NotificationLevel::Loop) ==
        std::vector<std::string>{"[1/3] Populating analytics table analytics_2024",
                                 "[2/3] Populating analytics table analytics_2024",
                                 "[3/3] Populating analytics table analytics_2024"});
  if (ids_are_job_id(version)) {
    for (const auto& n : w.delivered) CHECK(n.id == ref.uid);
  }
}

TEST_CASE("wait() returns the same completion as for_each_notification", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  // Two identical emulators driven identically see identical feeds.
  Env a(version), b(version);
  a.step = b.step = [] { return ms(300); };
  const auto ref_a = a.start("ANALYTICS_TABLE", basic_script());
  const auto ref_b = b.start("ANALYTICS_TABLE", basic_script());
  REQUIRE(ref_a.uid == ref_b.uid);

  const auto w = watch(a, ref_a);
  REQUIRE(w.result);
  const auto done = dhis2::TaskWatcher(*b.client, ref_b, fast_options()).wait(20s);
  CHECK(done.outcome == w.result->outcome);
  CHECK(keys_of(done.notifications) == keys_of(w.result->notifications));
  REQUIRE(done.terminal);
  CHECK(row_key(*done.terminal) == row_key(*w.result->terminal));
  CHECK(done.message() == w.result->message());
}

TEST_CASE("Rows with equal ids, equal messages or equal times are each delivered once", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  Env env(version);
  std::vector<ms> steps{0ms, 100ms, 700ms, 0ms, 1500ms};
  std::size_t next = 0;
  env.step = [&] { return steps[next++ % steps.size()]; };
  const auto ref = env.start("ANALYTICS_TABLE", JobScript()
                                                    .start("Analytics table update")
                                                    .message(NotificationLevel::Info, "Same message", 1s)
                                                    .message(NotificationLevel::Info, "Same message", 1s)
                                                    .message(NotificationLevel::Info, "Same millisecond A", 500ms)
                                                    .message(NotificationLevel::Info, "Same millisecond B", 0ms)
                                                    .message(NotificationLevel::Info, "Twin", 300ms)
                                                    .message(NotificationLevel::Info, "Twin", 0ms)
                                                    .message(NotificationLevel::Warn, "Twin", 0ms)
                                                    .complete(std::string("Done"), 2s));
  const auto w = watch(env, ref);
  REQUIRE(w.result);
  CHECK(w.result->ok());
  CHECK(w.result->message() == "Done");
  const std::vector<std::string> expected_info{
      "Analytics table update", "Same message", "Same message", "Same millisecond A",
      "Same millisecond B",     "Twin",         "Twin",         "Done"};
  CHECK(messages_at(w.delivered, NotificationLevel::Info) == expected_info);
  CHECK(messages_at(w.delivered, NotificationLevel::Warn) == std::vector<std::string>{"Twin"});
  CHECK(w.delivered.size() == expected_info.size() + 1);
  CHECK(keys_of(w.result->notifications) == keys_of(w.delivered));
  // The two "Same message" rows differ only in time.
  const auto first = std::find_if(w.delivered.begin(), w.delivered.end(),
                                  [](const Notification& n) { return n.message == std::string("Same message"); });
  REQUIRE(first != w.delivered.end());
  REQUIRE(first + 1 != w.delivered.end());
  CHECK(first->time != (first + 1)->time);
  if (ids_are_job_id(version)) {
    // The case the content keys exist for: every id equals the job id, and rows share a millisecond.
    for (const auto& n : w.delivered) CHECK(n.id == ref.uid);
    std::map<std::string, int> per_time;
    for (const auto& n : w.delivered) ++per_time[n.time];
    CHECK(std::any_of(per_time.begin(), per_time.end(), [](const auto& p) { return p.second >= 2; }));
  }
}

TEST_CASE("LOOP rows replaced between polls: each polled one once, missed ones are no error", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  const auto script = JobScript()
                          .start("Resource table update")
                          .stage("Generating resource tables", 1s)
                          .items("Generating table", 10, 1s)
                          .complete(std::string("Resource tables generated"), 1s);
  std::vector<std::string> all_items;
  for (int i = 1; i <= 10; ++i) all_items.push_back("[" + std::to_string(i) + "/10] Generating table");

  SECTION("polls between items: every item once, never again after its replacement") {
    Env env(version);
    env.step = [] { return ms(400); };
    const auto ref = env.start("RESOURCE_TABLE", script);
    const auto w = watch(env, ref);
    REQUIRE(w.result);
    CHECK(w.result->ok());
    require_each_once_in_order(w.delivered);
    CHECK(messages_at(w.delivered, NotificationLevel::Loop) == all_items);
    // The feed never holds more than one LOOP row, so replaced ones really went away.
    for (const auto& snap : env.snapshots) {
      CHECK(std::count_if(snap.begin(), snap.end(),
                          [](const Notification& n) { return n.level == NotificationLevel::Loop; }) <= 1);
    }
  }
  SECTION("coarse polls: the replaced LOOP rows are simply missed") {
    Env env(version);
    env.step = [] { return ms(60000); };
    const auto ref = env.start("RESOURCE_TABLE", script);
    const auto w = watch(env, ref);
    REQUIRE(w.result);
    CHECK(w.result->ok());
    require_each_once_in_order(w.delivered);
    CHECK(messages_at(w.delivered, NotificationLevel::Loop).empty());
    CHECK(messages_at(w.delivered, NotificationLevel::Info) ==
          std::vector<std::string>{"Resource table update", "Generating resource tables", "Resource tables generated"});
  }
}

TEST_CASE("Rows dropped by the 500-row cap are neither redelivered nor waited for", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  Env env(version);
  env.step = [] { return ms(7000); };  // ~700 rows between polls: more than the cap
  JobScript script;
  script.start("Big import");
  for (int i = 1; i <= 1198; ++i) script.message(NotificationLevel::Info, "row " + std::to_string(i), 10ms);
  script.complete(std::string("Finished"), 10ms);
  const auto ref = env.start("ANALYTICS_TABLE", script);
  const auto w = watch(env, ref);

  REQUIRE(w.result);
  CHECK(w.result->ok());
  CHECK(w.result->message() == "Finished");
  require_each_once_in_order(w.delivered);
  CHECK(keys_of(w.result->notifications) == keys_of(w.delivered));
  // Rows come in script order, each once, with gaps where the cap dropped rows unseen.
  int last = 0;
  int kept = 0;
  for (const auto& n : w.delivered) {
    REQUIRE(n.message);
    if (n.message->rfind("row ", 0) != 0) continue;
    const int index = std::stoi(n.message->substr(4));
    CHECK(index > last);
    last = index;
    ++kept;
  }
  CHECK(kept < 1198);  // the cap really dropped rows between polls
  CHECK(kept > 0);
  CHECK(std::count_if(w.delivered.begin(), w.delivered.end(),
                      [](const Notification& n) { return n.message == std::string("Big import"); }) == 1);
  CHECK(std::count_if(w.delivered.begin(), w.delivered.end(),
                      [](const Notification& n) { return n.data_type == "PARAMETERS"; }) <= 1);
  // Every row of every poll was delivered.
  std::set<std::string> delivered_keys;
  for (const auto& n : w.delivered) delivered_keys.insert(row_key(n));
  for (const auto& snap : env.snapshots) {
    for (const auto& n : snap) CHECK(delivered_keys.count(row_key(n)) == 1);
  }
}

TEST_CASE("A callback that returns false stops the watch with an empty result", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  Env env(version);
  env.step = [] { return ms(300); };
  const auto ref = env.start("ANALYTICS_TABLE", basic_script());
  int calls = 0;
  dhis2::TaskWatcher watcher(*env.client, ref, fast_options());
  const auto result = watcher.for_each_notification(
      [&calls](const Notification&) {
        ++calls;
        return calls < 2;
      },
      20s);
  CHECK_FALSE(result);
  CHECK(calls == 2);
}

// A poll whose body is the one the last poll absorbed in full is not parsed again (it cannot bring
// a new row): these check that a poll left unfinished, by a callback that stopped or threw, is
// absorbed again, and that the body changing is seen at once.
TEST_CASE("A watch taken up again on an unchanged feed delivers the rest once, then the end", "[watcher][feed]") {
  const std::string version = WATCH_ALL_VERSIONS;
  CAPTURE(version);
  Env env(version);
  env.step = [] { return ms(0); };  // the clock stands still while the watch polls
  JobScript script;
  script.start("Analytics table update");
  for (int i = 1; i <= 5; ++i) script.stage("Stage " + std::to_string(i), 1s);
  script.complete(std::string("Analytics tables updated"), 1h);
  const auto ref = env.start("ANALYTICS_TABLE", script);
  env.server.advance(30s);  // past the 2.41+ scheduler tick and the five stages: six rows, then quiet
  dhis2::TaskWatcher watcher(*env.client, ref, fast_options());
  std::vector<std::string> delivered;

  // Stops at the second row: the other four of that very body are still to come.
  int calls = 0;
  CHECK_FALSE(watcher.for_each_notification(
      [&](const Notification& n) {
        delivered.push_back(*n.message);
        return ++calls < 2;
      },
      20s));
  REQUIRE(delivered.size() == 2);

  // Throws at the next row; the body has not changed, and the rows after it still come.
  CHECK_THROWS_WITH(watcher.for_each_notification(
                        [&](const Notification& n) -> bool {
                          delivered.push_back(*n.message);
                          throw std::runtime_error("the caller's own failure");
                        },
                        20s),
                    "the caller's own failure");
  REQUIRE(delivered.size() == 3);

  // The rest, then many polls of the same body: nothing more, the wait times out.
  const int polls_before = env.feed_polls;
  CHECK_THROWS_AS(watcher.for_each_notification(
                      [&](const Notification& n) {
                        delivered.push_back(*n.message);
                        return true;
                      },
                      300ms),
                  dhis2::TaskTimeoutError);
  CHECK(env.feed_polls - polls_before >= 10);
  CHECK(delivered ==
        std::vector<std::string>{"Analytics table update", "Stage 1", "Stage 2", "Stage 3", "Stage 4", "Stage 5"});

  // The job ends: the changed body is absorbed, and the wait ends on its completed row.
  env.server.advance(2h);
  const auto done = watcher.for_each_notification(
      [&](const Notification& n) {
        delivered.push_back(*n.message);
        return true;
      },
      20s);
  REQUIRE(done);
  CHECK(done->ok());
  CHECK(delivered.size() == 7);
  CHECK(delivered.back() == "Analytics tables updated");
}

TEST_CASE("A re-run job configuration: the previous run's rows are ignored", "[watcher][feed]") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.4", "2.42.1");
  CAPTURE(version);
  Env env(version);
  env.step = [] { return ms(1000); };
  const std::string uid = "Ab1Cd2Ef3Gh";
  env.server.add_job_configuration(uid, "RESOURCE_TABLE",
                                   JobScript()
                                       .start("Resource table update")
                                       .stage("Generating resource tables", 2s)
                                       .complete(std::string("Resource tables generated"), 2s));
  env.type = "RESOURCE_TABLE";
  env.uid = uid;

  const auto first_ref = env.client->jobs().execute(uid);
  const auto first = dhis2::TaskWatcher(*env.client, first_ref, fast_options()).wait(20s);
  REQUIRE(first.ok());
  REQUIRE(first.terminal);
  const auto first_end = first.terminal->parsed_time();
  REQUIRE(first_end);
  env.server.advance(3s);  // off the scheduler grid: the re-run waits for the next tick

  auto check_second_run = [&](const Watched& w) {
    REQUIRE(w.result);
    CHECK(w.result->ok());
    REQUIRE(w.result->terminal);
    CHECK(*w.result->terminal->parsed_time() > *first_end);
    REQUIRE_FALSE(w.delivered.empty());
    for (const auto& n : w.delivered) CHECK(*n.parsed_time() > *first_end);
    require_each_once_in_order(w.delivered);
    CHECK(messages_at(w.delivered, NotificationLevel::Info) ==
          std::vector<std::string>{"Resource table update", "Generating resource tables", "Resource tables generated"});
    // The scenario is real: some poll saw the old completed list.
    CHECK(std::any_of(env.snapshots.begin(), env.snapshots.end(), [&](const std::vector<Notification>& s) {
      return !s.empty() && s.front().completed && row_key(s.front()) == row_key(*first.terminal);
    }));
  };

  SECTION("the kick-off time noted by jobs().execute") {
    env.snapshots.clear();
    const auto ref = env.client->jobs().execute(uid);
    check_second_run(watch(env, ref));
  }
  SECTION("the kick-off time carried by the TaskRef, on a client that did not start the job") {
    env.snapshots.clear();
    const auto ref = env.client->jobs().execute(uid);
    REQUIRE(ref.kickoff);
    auto other = env.make_client();
    std::swap(other, env.client);
    TaskRef carried{"RESOURCE_TABLE", uid};
    carried.kickoff = ref.kickoff;
    check_second_run(watch(env, carried));
    std::swap(other, env.client);
  }
  SECTION("a bare JOB_TYPE/uid: the job row says the run is queued, so the finished list is the last run's") {
    env.snapshots.clear();
    env.client->jobs().execute(uid);
    check_second_run(watch(env, TaskRef::parse("RESOURCE_TABLE/" + uid)));
  }
}

TEST_CASE("Property: random scripts and random poll spacing", "[watcher][feed][property]") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.42.1");
  const std::uint32_t seed = GENERATE(range(1u, 9u));
  CAPTURE(version, seed);
  std::mt19937 rng(seed);
  auto uniform = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };

  const int budget = uniform(1, 2000);
  JobScript script;
  script.start("Random job " + std::to_string(seed));
  int rows = 1;
  int serial = 0;
  while (rows < budget - 1) {
    const int kind = uniform(0, 9);
    if (kind < 3) {
      const int n = std::min(uniform(1, 40), budget - 1 - rows);
      script.items("item batch " + std::to_string(++serial), n, ms(uniform(0, 40)));
      rows += n;
    } else if (kind < 7) {
      script.stage("stage " + std::to_string(++serial), ms(uniform(0, 60)));
      ++rows;
    } else {
      const auto level = kind == 7 ? NotificationLevel::Warn
                                   : (kind == 8 ? NotificationLevel::Debug : NotificationLevel::Info);
      script.message(level, "message " + std::to_string(++serial), ms(uniform(0, 30)));
      ++rows;
    }
  }
  script.complete(std::string("Random job done"), ms(uniform(0, 100)));

  Env env(version);
  env.step = [&] {
    const int pick = uniform(0, 9);
    if (pick < 2) return ms(0);
    if (pick < 7) return ms(uniform(1, 500));
    return ms(uniform(500, 6000));
  };
  const auto ref = env.start("ANALYTICS_TABLE", script);
  const auto w = watch(env, ref, fast_options(), 60s);

  REQUIRE(w.result);
  CHECK(w.result->ok());
  REQUIRE(w.result->terminal);
  CHECK(w.result->terminal->completed);
  CHECK(w.result->message() == "Random job done");
  REQUIRE_FALSE(w.delivered.empty());
  CHECK(row_key(w.delivered.back()) == row_key(*w.result->terminal));
  require_each_once_in_order(w.delivered);
  CHECK(keys_of(w.result->notifications) == keys_of(w.delivered));
  // Every row any poll returned was delivered (LOOP rows included: the watcher saw them).
  std::set<std::string> delivered_keys;
  for (const auto& n : w.delivered) delivered_keys.insert(row_key(n));
  for (const auto& snap : env.snapshots) {
    for (const auto& n : snap) {
      INFO(row_key(n));
      CHECK(delivered_keys.count(row_key(n)) == 1);
    }
  }
  // Nothing was delivered that no poll returned, and the order follows the script.
  std::set<std::string> polled;
  for (const auto& snap : env.snapshots) {
    for (const auto& n : snap) polled.insert(row_key(n));
  }
  for (const auto& n : w.delivered) CHECK(polled.count(row_key(n)) == 1);
}

TEST_CASE("Adaptive polling sees a short job end soon with few polls", "[watcher][feed][timing]") {
  Env env("2.40.8", 1.0);
  env.drive = false;
  const auto ref = env.start("ANALYTICS_TABLE", JobScript().start("Quick").complete(std::string("Quick done"), 300ms));
  WatchOptions options;  // defaults: 250 ms growing by half up to 2 s
  options.summary_wait = 10ms;
  const auto began = std::chrono::steady_clock::now();
  const auto done = dhis2::TaskWatcher(*env.client, ref, options).wait(10s);
  const auto took = std::chrono::steady_clock::now() - began;
  CHECK(done.ok());
  CHECK(done.message() == "Quick done");
  // A poll at once, then at the job's ages 0.25 s and 0.63 s: the job (300 ms) is seen to end by
  // the third poll at the latest. No pause is shorter than half the first (125 ms); sleeps are
  // never shorter than asked, so that is a lower bound.
  CHECK(env.feed_polls <= 3);
  for (std::size_t i = 1; i < env.poll_times.size(); ++i) {
    CHECK(env.poll_times[i] - env.poll_times[i - 1] > 125ms);
  }
  CHECK(took < 2s);
  CHECK(env.server.requests_to("/api/system/tasks/*", "GET").size() == static_cast<std::size_t>(env.feed_polls));
}

TEST_CASE("On 2.41+ polls wait for the scheduler's tick, then follow the job's age", "[watcher][feed][timing]") {
  // The job waits for the 20-second tick (dhis2-wire.md §2.3), 1 s after the kick-off here, and
  // lasts 1.5 s. Keyed to the wait's age, the pauses would be at 2 s by the time the job runs;
  // keyed to the job's age (its first row's time on the server's clock, from the Date headers),
  // the polls after the one that saw it start come at its young ages, well under 2 s apart.
  FakeServerOptions o = Env::options_for("2.42.1", 1.0);
  o.start_time = kStart + 19s;
  FakeServer server(o);
  dhis2::ClientOptions co;
  std::vector<std::chrono::steady_clock::time_point> polls;
  co.on_request = [&polls](const dhis2::RequestEvent& e) {
    if (e.method == "GET" && e.status == 200 && e.url.find("/api/system/tasks/") != std::string::npos) {
      polls.push_back(std::chrono::steady_clock::now());
    }
  };
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"}, co);
  const std::string uid = server.start_job("ANALYTICS_TABLE",
                                           JobScript().start("Quick").complete(std::string("Quick done"), 1500ms));
  WatchOptions options;  // defaults: 250 ms, growing with the job's age up to 2 s
  options.summary_wait = 10ms;
  const auto done = dhis2::TaskWatcher(client, TaskRef{"ANALYTICS_TABLE", uid}, options).wait(10s);
  CHECK(done.ok());
  CHECK(done.message() == "Quick done");
  // At once (nothing yet), 2 s later (the job, about 1 s old), then at its ages 1.2 and 2.0 s or
  // so (the server's clock is known to a second at first, and the job is taken as young as that
  // allows). Sleeps are never shorter than asked, so the first pause is a lower bound; the others
  // allow 0.5 s of oversleeping on a loaded machine.
  REQUIRE(polls.size() >= 3);
  CHECK(polls.size() <= 6);
  CHECK(polls[1] - polls[0] >= 2s);
  for (std::size_t i = 2; i < polls.size(); ++i) CHECK(polls[i] - polls[i - 1] < 1500ms);
}
