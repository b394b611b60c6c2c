// The emulator's clock (manual, real time, N times faster) and the validation of job scripts.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include <httplib.h>  // these tests talk to the emulator over HTTP directly

using namespace std::chrono_literals;
using dhis2::testing::Clock;
using dhis2::testing::JobScript;

namespace {
const Clock::time_point start = std::chrono::system_clock::from_time_t(1716199860);  // 2024-05-20T10:11:00Z
}

TEST_CASE("A manual clock stands still until advanced, then moves by exactly the step") {
  Clock clock(start);
  std::this_thread::sleep_for(5ms);
  CHECK(clock.now() == start);
  clock.advance(20s);
  CHECK(clock.now() == start + 20s);
  clock.advance(0ms);
  CHECK(clock.now() == start + 20s);
  CHECK_THROWS_WITH(clock.advance(-1ms), Catch::Contains("must not be negative"));
}

TEST_CASE("A clock at speed N runs N times faster than real time, and stops again at speed 0") {
  Clock clock(start);
  clock.set_speed(1000);
  const auto real_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(20ms);
  const auto emulated = clock.now() - start;
  const auto real = std::chrono::steady_clock::now() - real_start;
  CHECK(emulated >= 20s);  // at least 1000 x the 20 ms slept
  CHECK(emulated <= real * 1000 + 1s);
  clock.set_speed(0);
  const auto frozen = clock.now();
  std::this_thread::sleep_for(5ms);
  CHECK(clock.now() == frozen);
  clock.advance(1s);  // advancing works in any mode
  CHECK(clock.now() == frozen + 1s);
  CHECK(clock.real_duration_of(1s) == std::chrono::steady_clock::duration::max());
  clock.set_speed(4);
  CHECK(clock.real_duration_of(1s) == std::chrono::duration_cast<std::chrono::steady_clock::duration>(250ms));
}

TEST_CASE("A clock refuses a negative or non-finite speed") {
  Clock clock(start);
  CHECK_THROWS_AS(clock.set_speed(-1), dhis2::UsageError);
  CHECK_THROWS_AS(clock.set_speed(std::nan("")), dhis2::UsageError);
  CHECK_THROWS_WITH(clock.set_speed(std::numeric_limits<double>::infinity()),
                    Catch::Contains("0 = manual, 1 = real time"));
}

TEST_CASE("With a running clock a job progresses by itself, as in the demo") {
  dhis2::testing::FakeServerOptions options;
  options.version = "2.40.8";  // jobs start at once
  options.speed = 2000;        // the ~6 s resource table run takes ~3 ms
  dhis2::testing::FakeServer server(options);
  const auto id = server.start_job("RESOURCE_TABLE", JobScript::default_for("RESOURCE_TABLE"));
  httplib::Client client(server.url());
  client.set_basic_auth("admin", "district");
  client.set_read_timeout(5, 0);
  bool completed = false;
  for (int i = 0; i < 200 && !completed; ++i) {  // at most 2 s of real time
    auto res = client.Get(("/api/system/tasks/RESOURCE_TABLE/" + id).c_str(),
                          httplib::Headers{{"X-Requested-With", "XMLHttpRequest"}});
    REQUIRE(res);
    const auto rows = nlohmann::json::parse(res->body);
    completed = !rows.empty() && rows[0].value("completed", false);
    if (!completed) std::this_thread::sleep_for(10ms);
  }
  CHECK(completed);
  const auto job = server.job(id);
  REQUIRE(job);
  CHECK(job->last_executed_status == "COMPLETED");
}

TEST_CASE("A malformed job script is refused with a UsageError that says what is allowed") {
  CHECK_THROWS_WITH(JobScript().stage("x", -1ms), Catch::Contains("delay must not be negative"));
  CHECK_THROWS_WITH(JobScript().items("x", -2, 1ms), Catch::Contains("count must not be negative"));
  CHECK_THROWS_WITH(JobScript().message(dhis2::NotificationLevel::Unknown, "x", 1ms), Catch::Contains("known level"));
  CHECK_THROWS_WITH(JobScript().lose_last_row(), Catch::Contains("no step yet"));
  CHECK_THROWS_WITH(JobScript().direct(), Catch::Contains("no step yet"));
  CHECK_NOTHROW(JobScript().items("none", 0, 1ms));
  CHECK(JobScript().start().stage("a", 2s).items("i", 3, 500ms).duration() == 3500ms);
  CHECK(JobScript().start().stage("a", 2s).items("i", 3, 500ms).scale(0.5).duration() == 1750ms);
  CHECK(JobScript::default_for("ANALYTICS_TABLE").scale(2).duration() ==
        2 * JobScript::default_for("ANALYTICS_TABLE").duration());
  CHECK_THROWS_AS(JobScript().start().scale(0), dhis2::UsageError);
  CHECK_THROWS_AS(JobScript().start().scale(-1), dhis2::UsageError);
}
