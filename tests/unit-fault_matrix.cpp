// The fault matrix (issue 13, docs/reliability.md): every fault the emulator can put between a
// client and DHIS2, against every operation (connect, a raw request, a blocking watch, a
// background watch, a resumed watch), once intermittent (a burst of two, then the server is
// well) and once persistent. Each cell's expected result is asserted: intermittent faults that a
// retry or the next poll gets past end as if nothing happened (a watch with the right outcome and
// every row the server kept, once, in order); the others, and persistent faults, end with the
// typed error that says what is wrong, within the deadline.

#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/watch_rig.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using dhis2::TaskWatcher;
using dhis2::testing::FakeServer;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using watch_rig::messages;
using watch_rig::quick;
using watch_rig::Rig;

struct NamedFault {
  std::string name;
  std::function<Fault(const FakeServer& elsewhere)> make;
};

std::vector<NamedFault> faults() {
  return {
      {"drop before the response", [](const FakeServer&) { return Fault::drop_before_response(); }},
      {"drop mid-response", [](const FakeServer&) { return Fault::drop_mid_response(); }},
      {"502", [](const FakeServer&) { return Fault::status_page(502); }},
      {"503", [](const FakeServer&) { return Fault::status_page(503); }},
      {"504", [](const FakeServer&) { return Fault::status_page(504); }},
      {"429 Retry-After seconds", [](const FakeServer&) { return Fault::too_many_requests(1s); }},
      {"429 Retry-After date",
       [](const FakeServer&) { return Fault::too_many_requests_until(std::chrono::system_clock::now() + 1s); }},
      {"slower than the timeout", [](const FakeServer&) { return Fault::delay_by(400ms); }},
      {"truncated JSON", [](const FakeServer&) { return Fault::truncated_json(); }},
      {"malformed JSON", [](const FakeServer&) { return Fault::malformed_json(); }},
      {"HTML page, 200", [](const FakeServer&) { return Fault::html_page(200); }},
      {"login redirect", [](const FakeServer& e) { return Fault::redirect(e.url() + "/dhis-web-login/", 302); }},
      {"cross-origin redirect", [](const FakeServer& e) { return Fault::redirect(e.url() + "/api/me", 302); }},
  };
}

// How an operation ended: "ok", or the name of the error type it threw.
std::string error_name(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const dhis2::AuthenticationError&) {
    return "AuthenticationError";
  } catch (const dhis2::DecodeError&) {
    return "DecodeError";
  } catch (const dhis2::UnexpectedResponseError&) {
    return "UnexpectedResponseError";
  } catch (const dhis2::ApiError& e) {
    return "ApiError " + std::to_string(e.status());
  } catch (const dhis2::TransportError& e) {
    return std::string("TransportError ") + dhis2::to_string(e.kind());
  } catch (const dhis2::TaskTimeoutError& e) {
    // Under a persistent fault the message says why no row came: the feed could not be read.
    const bool named = std::string(e.what()).find("reads of the feed failed, the latest: ") != std::string::npos;
    return named ? "TaskTimeoutError naming the failed reads" : "TaskTimeoutError";
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

dhis2::ClientOptions fast_client() {
  dhis2::ClientOptions o;
  o.retry->base_delay = 1ms;
  o.retry->max_delay = 5ms;
  o.timeout = 150ms;
  o.connect_timeout = 2s;
  return o;
}

std::string run_connect(const NamedFault& f, int times) {
  FakeServer server;
  FakeServer elsewhere;
  server.inject("GET", "/api/system/info", f.make(elsewhere), times);
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"}, fast_client());
  try {
    client.connect();
    return client.raw_version() == server.reported_version() ? "ok" : "wrong version";
  } catch (...) {
    return error_name(std::current_exception());
  }
}

std::string run_raw(const NamedFault& f, int times) {
  FakeServer server;
  FakeServer elsewhere;
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"}, fast_client());
  client.connect();
  server.inject("GET", "/api/me", f.make(elsewhere), times);
  try {
    return client.get_raw("me").at("username") == "admin" ? "ok" : "wrong answer";
  } catch (...) {
    return error_name(std::current_exception());
  }
}

// Stages only: a LOOP row is replaced in place by the next, so two watches at different times
// would see different ones.
JobScript job() {
  return JobScript()
      .start("Resource table update")
      .stage("Organisation unit structure", 1s)
      .stage("Category option combos", 1s)
      .stage("Data element structure", 1s)
      .stage("Period structure", 1s)
      .complete("Resource tables generated", 300ms);
}

// A job that is still running when a persistent fault's deadline passes.
// (A step's row comes its duration after the one before: two rows at once, then ten hours.)
JobScript long_job() {
  return JobScript().start("Resource table update").stage("Tables", 1s).stage("Everything", 10h).complete("done", 1s);
}

// A watch's result: "Succeeded, rows as kept", or what went wrong.
std::string watch_result(Rig& rig, const dhis2::TaskRef& ref, const dhis2::TaskCompletion& c,
                         const std::vector<std::string>& delivered) {
  rig.server->clear_faults();
  const auto kept = messages(TaskWatcher(*rig.client, ref, quick()).wait(5s).notifications);
  std::string result = dhis2::to_string(c.outcome);
  result += delivered == kept ? ", rows as kept" : ", rows differ";
  return result;
}

enum class Watch { Blocking, Background, Resumed };

// How long a watch under a persistent fault waits, and how much later than that it may end.
// Long enough for a whole read to fail first: a slow answer costs three attempts of the 150 ms
// timeout (450 ms), and a 500 ms deadline left 50 ms, which a loaded ASan build overran (the
// watch then ended before any read had failed, and its message rightly named none).
constexpr std::chrono::milliseconds kPersistentDeadline{1200};
constexpr std::chrono::milliseconds kLateness{1500};

std::string run_watch_once(Watch kind, const NamedFault& f, int times);

// A watch's result; under a persistent fault, also whether it ended within its deadline.
std::string run_watch(Watch kind, const NamedFault& f, int times) {
  const auto began = std::chrono::steady_clock::now();
  std::string result = run_watch_once(kind, f, times);
  if (times < 0 && std::chrono::steady_clock::now() - began > kPersistentDeadline + kLateness + 2s) {
    result += " (late)";  // 2 s more for the set-up: the emulators and the first watcher
  }
  return result;
}

std::string run_watch_once(Watch kind, const NamedFault& f, int times) {
  Rig rig("2.42.1");
  dhis2::ClientOptions short_timeout;
  short_timeout.timeout = 150ms;  // so that "slower than the timeout" is
  rig.client = rig.make_client(short_timeout);
  FakeServer elsewhere;
  rig.server->script_next("RESOURCE_TABLE", times < 0 ? long_job() : job());
  const auto ref = rig.client->jobs().start_resource_tables();
  auto options = quick();
  const std::optional<std::chrono::milliseconds> deadline = times < 0 ? kPersistentDeadline : 10s;
  std::vector<std::string> delivered;
  try {
    if (kind == Watch::Blocking) {
      rig.server->inject("GET", "/api/system/tasks/*", f.make(elsewhere), times);
      TaskWatcher w(*rig.client, ref, options);
      const auto c = w.for_each_notification(
          [&](const dhis2::Notification& n) {
            delivered.push_back(n.message.value_or("<absent>"));
            return true;
          },
          deadline);
      return watch_result(rig, ref, *c, delivered);
    }
    if (kind == Watch::Background) {
      rig.server->inject("GET", "/api/system/tasks/*", f.make(elsewhere), times);
      dhis2::TaskManager manager(*rig.client);
      dhis2::WatchCallbacks callbacks;
      callbacks.on_notification = [&](const dhis2::BackgroundWatch&, const dhis2::Notification& n) {
        delivered.push_back(n.message.value_or("<absent>"));
      };
      const auto c = manager.watch(ref, callbacks, options, deadline).get();
      return watch_result(rig, ref, c, delivered);
    }
    // Resumed: two rows in one watcher, then the rest in another from its token, with the fault.
    std::string token;
    try {
      TaskWatcher first(*rig.client, ref, options);
      first.for_each_notification(
          [&](const dhis2::Notification& n) {
            delivered.push_back(n.message.value_or("<absent>"));
            token = first.resume_token();
            return delivered.size() < 2;
          },
          10s);
    } catch (...) {
      return "the first watcher: " + error_name(std::current_exception());
    }
    if (delivered.size() != 2) return "the first watcher delivered " + std::to_string(delivered.size());
    rig.server->inject("GET", "/api/system/tasks/*", f.make(elsewhere), times);
    rig.server->clear_requests();
    TaskWatcher resumed(*rig.client, dhis2::TaskRef::parse(token), options);
    const auto c = resumed.for_each_notification(
        [&](const dhis2::Notification& n) {
          delivered.push_back(n.message.value_or("<absent>"));
          return true;
        },
        deadline);
    return watch_result(rig, ref, *c, delivered);
  } catch (...) {
    return error_name(std::current_exception());
  }
}

// What each fault does to a request: "transient" faults are retried (a GET), the others are
// answers that a retry would not change.
struct Expected {
  std::string intermittent;  // connect() and a raw request, after a burst of two
  std::string persistent;    // the same, when every attempt meets the fault
  bool ends_watch;           // a watch ends at once with the error (only a login redirect)
};

std::map<std::string, Expected> expectations() {
  const std::string unexpected = "UnexpectedResponseError";
  return {
      {"drop before the response", {"ok", "TransportError connection closed", false}},
      {"drop mid-response", {"ok", "TransportError connection closed", false}},
      {"502", {"ok", "ApiError 502", false}},
      {"503", {"ok", "ApiError 503", false}},
      {"504", {"ok", "ApiError 504", false}},
      {"429 Retry-After seconds", {"ok", "ApiError 429", false}},
      {"429 Retry-After date", {"ok", "ApiError 429", false}},
      {"slower than the timeout", {"ok", "TransportError timeout", false}},
      {"truncated JSON", {unexpected, unexpected, false}},
      {"malformed JSON", {unexpected, unexpected, false}},
      {"HTML page, 200", {unexpected, unexpected, false}},
      {"login redirect", {"AuthenticationError", "AuthenticationError", true}},
      {"cross-origin redirect", {unexpected, unexpected, false}},
  };
}

}  // namespace

TEST_CASE("the fault matrix: connect() and a raw request", "[faults]") {
  const auto expected = expectations();
  for (const auto& f : faults()) {
    INFO(f.name);
    const auto& e = expected.at(f.name);
    CHECK(run_connect(f, 2) == e.intermittent);
    CHECK(run_connect(f, -1) == e.persistent);
    CHECK(run_raw(f, 2) == e.intermittent);
    CHECK(run_raw(f, -1) == e.persistent);
  }
}

TEST_CASE("the fault matrix: blocking, background and resumed watches", "[faults]") {
  // Intermittent: every watch ends Succeeded with the rows the server kept, once, in order,
  // whatever the poll got; persistent: TaskTimeoutError at the deadline, the job still running,
  // whose message names the failed reads.
  // A login redirect ends any watch at once: the credentials are no longer accepted.
  // The 78 watches are independent (each has its own emulators and client) and mostly wait, so
  // four run at a time; the results are asserted here, on the test's thread.
  struct Cell {
    const NamedFault* fault;
    Watch kind;
    int times;
    std::string expected;
    std::string result;
  };
  const auto expected = expectations();
  const auto all = faults();
  std::vector<Cell> cells;
  for (const auto& f : all) {
    const bool ends = expected.at(f.name).ends_watch;
    for (const auto kind : {Watch::Blocking, Watch::Background, Watch::Resumed}) {
      cells.push_back({&f, kind, 2, ends ? "AuthenticationError" : "succeeded, rows as kept", {}});
      std::string persistent = ends ? "AuthenticationError" : "TaskTimeoutError naming the failed reads";
      // A resumed watch reads the feed only down to the row it delivered last, which the first
      // half of this body holds: the truncated body still brings every new row, so its reads
      // succeed, and the wait ends at the deadline for the job alone.
      if (kind == Watch::Resumed && f.name == "truncated JSON") persistent = "TaskTimeoutError";
      cells.push_back({&f, kind, -1, persistent, {}});
    }
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      for (std::size_t c = next++; c < cells.size(); c = next++) {
        try {
          cells[c].result = run_watch(cells[c].kind, *cells[c].fault, cells[c].times);
        } catch (...) {  // the set-up, outside the watch's own try
          cells[c].result = "set-up: " + error_name(std::current_exception());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& c : cells) {
    INFO(c.fault->name << ", watch " << static_cast<int>(c.kind) << (c.times < 0 ? ", persistent" : ", a burst of two"));
    CHECK(c.result == c.expected);
  }
}

TEST_CASE("the fault matrix: a keep-alive socket the server closed while idle", "[faults]") {
  // The emulator closes an idle connection after 1 s (its finest setting); the next request
  // finds the socket dead and goes out again on a new one, unseen.
  dhis2::testing::FakeServerOptions options;
  options.keep_alive_timeout = 1s;
  FakeServer server(options);
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"}, fast_client());
  client.connect();
  std::this_thread::sleep_for(1200ms);
  CHECK(client.get_raw("me").at("username") == "admin");
  CHECK(server.connection_count() >= 2);  // the first socket was gone
  Rig rig("2.42.1", 2s, 100ms, [](dhis2::testing::FakeServerOptions& o) { o.keep_alive_timeout = 1s; });
  rig.server->script_next("RESOURCE_TABLE", job());
  const auto ref = rig.client->jobs().start_resource_tables();
  auto slow = quick();
  slow.initial_poll_interval = 1200ms;
  slow.poll_interval = 1200ms;
  std::vector<std::string> delivered;
  const auto c = TaskWatcher(*rig.client, ref, slow)
                     .for_each_notification(
                         [&](const dhis2::Notification& n) {
                           delivered.push_back(n.message.value_or("<absent>"));
                           return true;
                         },
                         20s);
  REQUIRE(c);
  CHECK(watch_result(rig, ref, *c, delivered) == "succeeded, rows as kept");
}

// ---- the server restarting and losing its notifications ---------------------------------------

namespace {

// A watch across a restart: two rows, then the server restarts (FakeServer::restart: the
// notifications are lost, the running job dies with the process), then the watch goes on. Its
// result: the outcome, the rule that decided it, and whether it delivered the rows the server
// had written before the restart, in order, once each (nothing twice, nothing made up).
// The job a restart kills, after its second row. The stages after that one are long: each poll
// moves the emulator's clock 2 s, and a background watch delivers its rows on another thread than
// the one that polls, so with job()'s 1 s stages the poller could reach the job's end (a few
// polls, a few milliseconds) before the callback that restarts the server ran; the job would then
// truly have completed first. Here it would take about 2,700 polls.
JobScript restart_job() {
  return JobScript()
      .start("Resource table update")
      .stage("Organisation unit structure", 1s)
      .stage("Category option combos", 30min)
      .stage("Data element structure", 30min)
      .stage("Period structure", 30min)
      .complete("Resource tables generated", 300ms);
}

std::string run_restart_watch(Watch kind, const std::string& version) {
  Rig rig(version);
  rig.server->script_next("RESOURCE_TABLE", restart_job());
  const auto ref = rig.client->jobs().start_resource_tables();
  const auto options = quick(50ms);  // the job-row checks start 50 ms after the feed went quiet
  std::vector<std::string> delivered;
  const auto deliver = [&](const dhis2::Notification& n) {
    delivered.push_back(n.message.value_or("<absent>"));
    if (delivered.size() == 2) rig.server->restart();
  };
  const auto result = [&](const dhis2::TaskCompletion& c) {
    // The rows the job wrote, in order; a poll may have brought more than two before the restart.
    const std::vector<std::string> all = {"Resource table update",  "Organisation unit structure",
                                          "Category option combos", "Data element structure",
                                          "Period structure",       "Resource tables generated"};
    const bool prefix = delivered.size() >= 2 && delivered.size() < all.size() &&
                        std::equal(delivered.begin(), delivered.end(), all.begin());
    std::string rows;
    for (const auto& m : delivered) rows += " | " + m;
    UNSCOPED_INFO("delivered" << rows);
    return std::string(dhis2::to_string(c.outcome)) + " by " + c.rule +
           (prefix ? ", the rows before the restart once" : ", rows differ");
  };
  try {
    if (kind == Watch::Blocking) {
      TaskWatcher w(*rig.client, ref, options);
      const auto c = w.for_each_notification(
          [&](const dhis2::Notification& n) {
            deliver(n);
            return true;
          },
          10s);
      return result(*c);
    }
    if (kind == Watch::Background) {
      dhis2::TaskManager manager(*rig.client);
      dhis2::WatchCallbacks callbacks;
      callbacks.on_notification = [&](const dhis2::BackgroundWatch&, const dhis2::Notification& n) { deliver(n); };
      return result(manager.watch(ref, callbacks, options, 10s).get());
    }
    std::string token;
    {
      TaskWatcher first(*rig.client, ref, options);
      first.for_each_notification(
          [&](const dhis2::Notification& n) {
            delivered.push_back(n.message.value_or("<absent>"));
            token = first.resume_token();
            return delivered.size() < 2;
          },
          10s);
    }
    rig.server->restart();
    TaskWatcher resumed(*rig.client, dhis2::TaskRef::parse(token), options);
    const auto c = resumed.for_each_notification(
        [&](const dhis2::Notification& n) {
          delivered.push_back(n.message.value_or("<absent>"));
          return true;
        },
        10s);
    return result(*c);
  } catch (...) {
    return error_name(std::current_exception());
  }
}

// A watch while the server is down for good (a restart that never comes back): the reads fail
// with refused connections until the deadline.
std::string run_down_watch(Watch kind) {
  Rig rig("2.42.1");
  rig.server->script_next("RESOURCE_TABLE", long_job());
  const auto ref = rig.client->jobs().start_resource_tables();
  const auto options = quick();
  std::string token;
  if (kind == Watch::Resumed) {
    TaskWatcher first(*rig.client, ref, options);
    first.for_each_notification(
        [&](const dhis2::Notification&) {
          token = first.resume_token();
          return false;
        },
        10s);
  }
  rig.server->take_down();
  try {
    if (kind == Watch::Background) {
      dhis2::TaskManager manager(*rig.client);
      manager.watch(ref, {}, options, kPersistentDeadline).get();
    } else {
      TaskWatcher w(*rig.client, kind == Watch::Resumed ? dhis2::TaskRef::parse(token) : ref, options);
      w.wait(kPersistentDeadline);
    }
    return "ok";
  } catch (...) {
    return error_name(std::current_exception());
  }
}

}  // namespace

TEST_CASE("the fault matrix: the server restarting and losing its notifications", "[faults]") {
  SECTION("connect() and a raw request") {
    FakeServer server;
    auto patient = fast_client();
    patient.retry->max_attempts = 30;  // 30 attempts 20-50 ms apart outlast a 150 ms downtime
    patient.retry->base_delay = 20ms;
    patient.retry->max_delay = 50ms;
    dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"}, patient);
    server.take_down();
    std::thread comes_back([&] {
      std::this_thread::sleep_for(150ms);
      server.bring_up();
    });
    std::string connected = "ok";
    try {
      client.connect();
    } catch (...) {
      connected = error_name(std::current_exception());
    }
    comes_back.join();
    CHECK(connected == "ok");
    // A restart between two requests: the pooled connection is dead, the next request reconnects.
    server.restart();
    CHECK(client.get_raw("me").at("username") == "admin");
    // Down for good: every attempt is refused.
    server.take_down();
    dhis2::Client fresh(server.url(), dhis2::BasicAuth{"admin", "district"}, fast_client());
    std::string refused = "ok";
    try {
      fresh.connect();
    } catch (...) {
      refused = error_name(std::current_exception());
    }
    CHECK(refused == "TransportError connect");
    try {
      client.get_raw("me");
      refused = "ok";
    } catch (...) {
      refused = error_name(std::current_exception());
    }
    CHECK(refused == "TransportError connect");
  }
  SECTION("watches: never Succeeded for a job the restart killed; no row twice") {
    for (const auto kind : {Watch::Blocking, Watch::Background, Watch::Resumed}) {
      INFO("watch " << static_cast<int>(kind));
      // 2.42: the job row stays RUNNING, then rescheduleStaleJobs marks it FAILED.
      CHECK(run_restart_watch(kind, "2.42.1") == "failed by job-row-failed, the rows before the restart once");
      // 2.40: the job lived in memory; with its rows and its row gone, how it ended is unknown.
      CHECK(run_restart_watch(kind, "2.40.8") == "unknown by feed-and-row-gone, the rows before the restart once");
      // Down for good: the reads fail until the deadline, and the message says so.
      CHECK(run_down_watch(kind) == "TaskTimeoutError naming the failed reads");
    }
  }
}
