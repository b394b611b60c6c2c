// The job engine's parts alone: the id generator (DHIS2's uid rule), the notification store (LOOP
// replacement, caps, the async queue, the stale rule), the scheduler's 20-second grid and the step
// runner's duration format. The engine as a whole is tested in the other unit-emulator_* files.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <set>
#include <string>

using namespace std::chrono_literals;
using dhis2::NotificationLevel;
using dhis2::testing::ServerTimeZone;
using dhis2::testing::SysTime;
using dhis2::testing::VersionProfile;
using dhis2::testing::detail::IdGenerator;
using dhis2::testing::detail::Job;
using dhis2::testing::detail::Jobs;
using dhis2::testing::detail::LiveJobs;
using dhis2::testing::detail::NotificationStore;
using dhis2::testing::detail::PendingRow;
using dhis2::testing::detail::Scheduler;
using dhis2::testing::detail::StepRunner;

namespace {
const SysTime start = std::chrono::system_clock::from_time_t(1716199860);  // 2024-05-20T10:11:00Z

// dhis2-wire.md §1.1: "an alphanumeric string of 11 characters starting with a letter".
bool is_dhis2_uid(const std::string& uid) {
  static const std::regex rule("[A-Za-z][A-Za-z0-9]{10}");
  return std::regex_match(uid, rule);
}

Job job_of(const std::string& type, const std::string& uid) {
  Job job;
  job.info.job_type = type;
  job.info.uid = uid;
  return job;
}

std::string message_of(const dhis2::Notification& n) { return n.message ? *n.message : std::string("<none>"); }
}  // namespace

TEST_CASE("id generator: uids follow DHIS2's 11-character rule and repeat for a seed", "[emulator][parts]") {
  IdGenerator a(7);
  IdGenerator b(7);
  IdGenerator other(8);
  std::set<std::string> seen;
  bool differs = false;
  for (int i = 0; i < 200; ++i) {
    const std::string uid = a.new_uid();
    CHECK(is_dhis2_uid(uid));
    CHECK(b.new_uid() == uid);
    differs = differs || other.new_uid() != uid;
    seen.insert(uid);
  }
  CHECK(seen.size() == 200);
  CHECK(differs);
}

TEST_CASE("id generator: timestamp ids are valid uids, distinct per millisecond", "[emulator][parts]") {
  const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count();
  std::set<std::string> seen;
  for (std::int64_t i = 0; i < 100; ++i) {
    const std::string uid = IdGenerator::uid_from_timestamp(ms + i);
    CHECK(is_dhis2_uid(uid));
    CHECK(IdGenerator::uid_from_timestamp(ms + i) == uid);  // deterministic (§1.2)
    seen.insert(uid);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("id generator: unique row times and job names move 1 ms on; plain ones do not", "[emulator][parts]") {
  IdGenerator ids(1);
  CHECK(ids.row_ms(1000, true) == 1000);
  CHECK(ids.row_ms(1000, true) == 1001);
  CHECK(ids.row_ms(999, true) == 1002);
  CHECK(ids.row_ms(1000, false) == 1000);
  CHECK(ids.ad_hoc_name("ANALYTICS_TABLE", start, true) == "ANALYTICS_TABLE (1716199860000)");
  CHECK(ids.ad_hoc_name("ANALYTICS_TABLE", start, true) == "ANALYTICS_TABLE (1716199860001)");
  CHECK(ids.ad_hoc_name("ANALYTICS_TABLE", start, false) == "inMemoryAnalyticsJob");
  CHECK(ids.next_sequence() == 1);
  CHECK(ids.next_sequence() == 2);
}

TEST_CASE("notification store: a job keeps 500 rows, its first among them, on the new notifier", "[emulator][parts]") {
  IdGenerator ids(1);
  NotificationStore store(VersionProfile::of("2.42.0"), ServerTimeZone(), 0ms, ids);
  const Job job = job_of("ANALYTICS_TABLE", "AbcdEfgh123");
  const nlohmann::json parameters = {{"skipResourceTables", true}};
  store.store(job, start, NotificationLevel::Info, std::string("first"), false, &parameters);
  for (int i = 1; i <= 600; ++i) {
    store.store(job, start + std::chrono::milliseconds(i), NotificationLevel::Info, "row " + std::to_string(i), false,
                nullptr);
  }
  const auto rows = store.read("ANALYTICS_TABLE", job.info.uid, false, true);
  REQUIRE(rows.size() == NotificationStore::kMaxMessagesPerJob);
  CHECK(message_of(rows.front()) == "row 600");
  CHECK(message_of(rows[rows.size() - 2]) == "row 102");
  CHECK(message_of(rows.back()) == "first");
  CHECK(rows.back().data_type == "PARAMETERS");
  std::set<std::string> ids_seen;
  for (const auto& row : rows) ids_seen.insert(row.id);
  CHECK(ids_seen.size() == rows.size());
}

TEST_CASE("notification store: the old notifier's pool of 500 per type takes from the oldest adder",
          "[emulator][parts]") {
  IdGenerator ids(1);
  NotificationStore store(VersionProfile::of("2.40.0"), ServerTimeZone(), 0ms, ids);
  const Job first = job_of("ANALYTICS_TABLE", "Aaaaaaaaaaa");
  const Job second = job_of("ANALYTICS_TABLE", "Bbbbbbbbbbb");
  for (int i = 0; i < 300; ++i)
    store.store(first, start, NotificationLevel::Info, "a" + std::to_string(i), false, nullptr);
  for (int i = 0; i < 300; ++i)
    store.store(second, start, NotificationLevel::Info, "b" + std::to_string(i), false, nullptr);
  const auto a = store.read("ANALYTICS_TABLE", first.info.uid, false, true);
  const auto b = store.read("ANALYTICS_TABLE", second.info.uid, false, true);
  CHECK(a.size() + b.size() == 500);
  CHECK(b.size() == 300);
  REQUIRE(a.size() == 200);
  CHECK(message_of(a.back()) == "a100");  // the first job lost its oldest rows
  CHECK(message_of(a.front()) == "a299");
}

TEST_CASE("notification store: a LOOP row gives way to the next row, queued rows wait, the stale rule wipes",
          "[emulator][parts]") {
  IdGenerator ids(1);
  NotificationStore store(VersionProfile::of("2.42.0"), ServerTimeZone(), 0ms, ids);
  const Job job = job_of("ANALYTICS_TABLE", "AbcdEfgh123");
  store.store(job, start, NotificationLevel::Info, std::string("started"), false, nullptr);
  store.store(job, start + 1s, NotificationLevel::Loop, std::string("[1/2] a"), false, nullptr);
  store.store(job, start + 2s, NotificationLevel::Loop, std::string("[2/2] b"), false, nullptr);
  auto rows = store.read("ANALYTICS_TABLE", job.info.uid, false, true);
  REQUIRE(rows.size() == 2);
  CHECK(message_of(rows.front()) == "[2/2] b");

  CHECK_FALSE(store.next_queued());
  store.queue(PendingRow{start + 5s, start + 3s, job.info.uid, NotificationLevel::Info, std::string("late"), false,
                         std::nullopt});
  REQUIRE(store.next_queued());
  CHECK(*store.next_queued() == start + 5s);
  CHECK_FALSE(store.take_queued(start + 4s));
  const auto row = store.take_queued(start + 5s);
  REQUIRE(row);
  CHECK(*row->text == "late");
  CHECK_FALSE(store.next_queued());

  store.set_summary("ANALYTICS_TABLE", job.info.uid, {{"status", "OK"}}, start + 2s);
  CHECK(store.summary("ANALYTICS_TABLE", job.info.uid));
  rows = store.read("ANALYTICS_TABLE", job.info.uid, true, false);  // not completed, not running
  REQUIRE(rows.size() == 1);
  CHECK(rows.front().completed);
  CHECK(store.read("ANALYTICS_TABLE", job.info.uid, true, false).empty());
  CHECK_FALSE(store.summary("ANALYTICS_TABLE", job.info.uid));
}

TEST_CASE("notification store: the new notifier's job cap waits until it has been idle", "[emulator][parts]") {
  IdGenerator ids(1);
  NotificationStore store(VersionProfile::of("2.42.0"), ServerTimeZone(), 0ms, ids);
  for (std::size_t i = 0; i < NotificationStore::kMaxJobsPerType + 1; ++i) {
    store.store(job_of("ANALYTICS_TABLE", "A" + std::to_string(1000000000 + i)), start, NotificationLevel::Info,
                std::string("row"), true, nullptr);
  }
  CHECK(store.overview("ANALYTICS_TABLE", false).size() == NotificationStore::kMaxJobsPerType + 1);
  store.clean_if_idle(start + 9min);  // 2.42+: 10 minutes idle
  CHECK(store.overview("ANALYTICS_TABLE", false).size() == NotificationStore::kMaxJobsPerType + 1);
  store.clean_if_idle(start + 10min);
  CHECK(store.overview("ANALYTICS_TABLE", false).size() == NotificationStore::kMaxJobsPerType);
  CHECK(store.read("ANALYTICS_TABLE", "A1000000000", false, true).empty());  // the least recent job went
}

TEST_CASE("scheduler: ticks every 20 s on 2.41+, none on 2.40; continuous types do not wait", "[emulator][parts]") {
  CHECK(Scheduler::floor_to_tick(start + 19999ms) == start);  // start is on the grid (…:11:00)
  CHECK(Scheduler::floor_to_tick(start + 20s) == start + 20s);

  Scheduler grid(VersionProfile::of("2.41.0"), start + 5s);
  CHECK(grid.is_tick(start + 20s));
  CHECK_FALSE(grid.is_tick(start + 25s));
  CHECK(grid.is_continuous("METADATA_IMPORT"));
  CHECK_FALSE(grid.is_continuous("ANALYTICS_TABLE"));
  CHECK_FALSE(Scheduler(VersionProfile::of("2.40.0"), start).is_tick(start + 20s));

  Jobs jobs;
  jobs["Aaaaaaaaaaa"] = job_of("ANALYTICS_TABLE", "Aaaaaaaaaaa");
  jobs["Bbbbbbbbbbb"] = job_of("ANALYTICS_TABLE", "Bbbbbbbbbbb");
  jobs["Aaaaaaaaaaa"].order = 2;
  jobs["Bbbbbbbbbbb"].order = 1;
  // The scheduler sees the jobs the engine lists as live (it lists queued and running ones).
  const LiveJobs live = {{"Aaaaaaaaaaa", &jobs["Aaaaaaaaaaa"]}, {"Bbbbbbbbbbb", &jobs["Bbbbbbbbbbb"]}};
  CHECK_FALSE(grid.next_event(live));  // neither queued nor running yet
  grid.enqueue(jobs["Aaaaaaaaaaa"], start + 6s);
  grid.enqueue(jobs["Bbbbbbbbbbb"], start + 7s);
  REQUIRE(grid.next_event(live));
  CHECK(*grid.next_event(live) == start + 20s);
  const auto started = grid.tick(live, start + 20s);
  REQUIRE(started.size() == 1);  // one per type, the oldest
  CHECK(started.front()->info.uid == "Bbbbbbbbbbb");
  CHECK(grid.is_tick(start + 40s));
}

TEST_CASE("step runner: durations are written H:mm:ss.SSS", "[emulator][parts]") {
  CHECK(StepRunner::format_duration(0ms) == "0:00:00.000");
  CHECK(StepRunner::format_duration(3723004ms) == "1:02:03.004");
  CHECK(StepRunner::format_duration(std::chrono::hours(25)) == "25:00:00.000");
  CHECK(StepRunner::notifies_progress("ANALYTICS_TABLE"));
  CHECK_FALSE(StepRunner::notifies_progress("DATA_INTEGRITY"));
}
