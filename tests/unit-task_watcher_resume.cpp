// Resuming a watch from a resume token: TaskWatcher::resume_token() and TaskRef::resume_token(),
// TaskRef::parse(token), and TaskWatcher(client, TaskRef::parse(token)) on a new Client. Two
// emulators with the same seed, script and clock steps give the same feeds, so a watch that is
// stopped and resumed on one can be compared with an uninterrupted watch on the other. (The
// cross-process test, a watcher killed and resumed in another process, is example_task_resume.)
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "support/watch_rig.hpp"

namespace {

using namespace watch_rig;
using dhis2::Notification;
using dhis2::NotificationLevel;
using dhis2::TaskCompletion;
using dhis2::TaskRef;
using dhis2::TaskWatcher;
using dhis2::testing::JobScript;

std::string key(const Notification& n) {
  return n.id + '|' + n.time + '|' + n.level_name + '|' + n.message.value_or("") + (n.completed ? "|done" : "");
}
std::vector<std::string> keys(const std::vector<Notification>& rows) {
  std::vector<std::string> out;
  for (const auto& n : rows) out.push_back(key(n));
  return out;
}

JobScript stages_script() {
  return JobScript()
      .start("Analytics table update")
      .stage("Same", 1s)
      .stage("Same", 1s)
      .stage("Stage 3", 1s)
      .message(NotificationLevel::Warn, "Stage 3 slow", 0ms)
      .stage("Stage 4", 2s)
      .stage("Stage 5", 1s)
      .complete("Analytics tables updated: {duration}", 1s);
}

struct Watched {
  std::vector<Notification> rows;
  std::optional<TaskCompletion> completion;
  std::string token;  // saved after each row, as a service would
};

// Watches, saving the token after every row; stops (as if the process died) after `stop_after` rows.
Watched watch(dhis2::Client& client, const TaskRef& ref, std::optional<std::size_t> stop_after = std::nullopt) {
  Watched w;
  TaskWatcher watcher(client, ref, quick());
  w.completion = watcher.for_each_notification(
      [&](const Notification& n) {
        w.rows.push_back(n);
        w.token = watcher.resume_token();
        return !stop_after || w.rows.size() < *stop_after;
      },
      kTimeout);
  if (w.token.empty()) w.token = watcher.resume_token();
  return w;
}

}  // namespace

TEST_CASE("a watch resumed from its token delivers the rest once and ends as an uninterrupted one does") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.40.7", "2.40.8", "2.41.4", "2.42.1");
  const std::size_t stop_after = GENERATE(1u, 2u, 4u, 6u);
  CAPTURE(version, stop_after);
  Rig whole(version, 700ms), split(version, 700ms);
  whole.server->script_next("ANALYTICS_TABLE", stages_script());
  split.server->script_next("ANALYTICS_TABLE", stages_script());
  const TaskRef ref = whole.client->jobs().start_analytics();
  REQUIRE(split.client->jobs().start_analytics().uid == ref.uid);

  const Watched uninterrupted = watch(*whole.client, ref);
  REQUIRE(uninterrupted.completion);
  REQUIRE(uninterrupted.completion->ok());

  const Watched first = watch(*split.client, ref, stop_after);
  REQUIRE_FALSE(first.completion);  // stopped early
  REQUIRE(first.rows.size() == stop_after);
  const TaskRef resumed = TaskRef::parse(first.token);
  CHECK(resumed == ref);
  REQUIRE(resumed.position);
  CHECK(resumed.position->delivered == stop_after);
  CHECK(resumed.kickoff == ref.kickoff);

  auto fresh_client = split.make_client();  // another process would have its own Client
  const Watched rest = watch(*fresh_client, resumed);
  REQUIRE(rest.completion);
  std::vector<Notification> both = first.rows;
  both.insert(both.end(), rest.rows.begin(), rest.rows.end());
  CHECK(keys(both) == keys(uninterrupted.rows));
  CHECK(rest.completion->outcome == uninterrupted.completion->outcome);
  CHECK(rest.completion->rule == uninterrupted.completion->rule);
  CHECK(rest.completion->message() == uninterrupted.completion->message());
  CHECK(keys(rest.completion->notifications) == keys(rest.rows));  // a completion holds this watcher's rows
  CHECK(TaskRef::parse(rest.token).position->delivered == uninterrupted.rows.size());
}

TEST_CASE("a watch resumed after a LOOP row that was replaced meanwhile delivers no row twice") {
  const std::string version = GENERATE(as<std::string>{}, "2.38", "2.42.1");
  CAPTURE(version);
  Rig rig(version, 300ms);
  rig.server->script_next("RESOURCE_TABLE", JobScript()
                                                .start("Resource table update")
                                                .stage("Generating resource tables", 1s)
                                                .items("Generating table", 6, 1s)
                                                .stage("Finishing", 1s)
                                                .complete("Resource tables generated", 1s));
  const TaskRef ref = rig.client->jobs().start_resource_tables();
  Watched first;
  {
    TaskWatcher watcher(*rig.client, ref, quick());
    watcher.for_each_notification(
        [&](const Notification& n) {
          first.rows.push_back(n);
          first.token = watcher.resume_token();
          return n.level != NotificationLevel::Loop || n.message.value_or("").rfind("[2/6]", 0) != 0;
        },
        kTimeout);
  }
  REQUIRE(first.rows.back().level == NotificationLevel::Loop);
  CHECK_FALSE(TaskRef::parse(first.token).position->loop.empty());
  rig.server->advance(2500ms);  // [2/6] is replaced; [4/6] is the newest row now
  const Watched rest = watch(*rig.client, TaskRef::parse(first.token));
  REQUIRE(rest.completion);
  CHECK(rest.completion->ok());
  std::vector<Notification> both = first.rows;
  both.insert(both.end(), rest.rows.begin(), rest.rows.end());
  std::vector<std::string> seen;
  for (const auto& n : both) {
    CHECK(std::find(seen.begin(), seen.end(), key(n)) == seen.end());
    seen.push_back(key(n));
  }
  CHECK(rest.rows.front().message == std::optional<std::string>("[4/6] Generating table"));
  CHECK(rest.rows.back().message == std::optional<std::string>("Resource tables generated"));
}

TEST_CASE("a watch resumed after its last row ends at once, as it would have") {
  Rig rig("2.42.1", 700ms);
  rig.server->script_next("ANALYTICS_TABLE", stages_script());
  const TaskRef ref = rig.client->jobs().start_analytics();
  const Watched whole = watch(*rig.client, ref);
  REQUIRE(whole.completion);
  const Watched again = watch(*rig.client, TaskRef::parse(whole.token));
  REQUIRE(again.completion);
  CHECK(again.rows.empty());
  CHECK(again.completion->outcome == whole.completion->outcome);
  CHECK(again.completion->message() == whole.completion->message());
}

TEST_CASE("a TaskRef's own token resumes a watch of that run from its start, without the previous run's rows") {
  Rig rig("2.42.1", 1s);
  const std::string uid = "Sv1Cd2Ef3Gh";
  rig.server->add_job_configuration(uid, "RESOURCE_TABLE",
                                    JobScript().start("Saved").stage("Working", 1s).complete("Done", 1s));
  const auto first_run = watch(*rig.client, rig.client->jobs().execute(uid));
  REQUIRE(first_run.completion);
  rig.server->advance(5s);
  const std::string token = rig.client->jobs().execute(uid).resume_token();  // e.g. printed by `dhis2 run --no-wait`
  auto other = rig.make_client();
  const TaskRef parsed = TaskRef::parse(token);
  CHECK_FALSE(parsed.position);
  REQUIRE(parsed.kickoff);
  const Watched second_run = watch(*other, parsed);
  REQUIRE(second_run.completion);
  CHECK(second_run.rows.size() == 3);
  for (const auto& n : second_run.rows) CHECK(*n.parsed_time() > *first_run.rows.back().parsed_time());
}

TEST_CASE("a resume token holds no credential and no address") {
  Rig rig("2.42.1", 700ms);
  const TaskRef ref = rig.client->jobs().start_analytics();
  const Watched w = watch(*rig.client, ref, 2);
  for (const std::string& token : {ref.resume_token(), w.token}) {
    const auto payload = dhis2::detail::base64_decode(token.substr(5, token.rfind('.') - 5));
    REQUIRE(payload);
    CAPTURE(*payload);
    CHECK_FALSE(contains(*payload, "district"));
    CHECK_FALSE(contains(*payload, "admin"));
    CHECK_FALSE(contains(*payload, "127.0.0.1"));
    const auto body = nlohmann::json::parse(*payload);
    for (const auto& item : body.items()) {
      CHECK((item.key() == "t" || item.key() == "u" || item.key() == "k" || item.key() == "p"));
    }
  }
}
