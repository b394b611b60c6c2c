// An emulator on a manual clock and a Client whose request hook moves that clock, for the
// watcher's tests: every completed GET of the feed advances it by `tasks_step`, every summary
// read by `summary_step`. Real-time knobs (start_grace, summary_wait, the deadline) stay tiny, so
// a test of an hours-long job runs in milliseconds. Header-only, one per test executable.
#ifndef DHIS2CPP_TESTS_SUPPORT_WATCH_RIG_HPP
#define DHIS2CPP_TESTS_SUPPORT_WATCH_RIG_HPP

#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace watch_rig {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// 2024-05-20T10:11:12Z, 8 s before a scheduler tick (ticks at :00, :20, :40).
const std::chrono::system_clock::time_point kStart{std::chrono::seconds(1716199872)};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A wait's deadline in real time: far more than any test here needs.
const auto kTimeout = std::optional<milliseconds>(10s);

// The id of the saved job configuration the tests add.
const std::string kSaved = "Sv1Cd2Ef3Gh";

// The messages of rows, in order ("<absent>" for a row without one).
inline std::vector<std::string> messages(const std::vector<dhis2::Notification>& rows) {
  std::vector<std::string> out;
  for (const auto& n : rows) out.push_back(n.message.value_or("<absent>"));
  return out;
}

struct Rig {
  explicit Rig(const std::string& version, milliseconds tasks_step_ = 2s, milliseconds summary_step_ = 100ms,
               const std::function<void(dhis2::testing::FakeServerOptions&)>& tune = {})
      : tasks_step(tasks_step_.count()), summary_step(summary_step_.count()) {
    dhis2::testing::FakeServerOptions options;
    options.version = version;
    options.start_time = kStart;
    if (tune) tune(options);
    server = std::make_unique<dhis2::testing::FakeServer>(options);
    client = make_client();
  }

  // Another Client of the same server, driving the same clock (a second thread's or process's).
  std::unique_ptr<dhis2::Client> make_client(dhis2::ClientOptions co = {}) {
    co.retry->base_delay = 1ms;
    co.retry->max_delay = 2ms;
    co.connect_timeout = 2s;
    if (co.timeout == dhis2::ClientOptions{}.timeout) co.timeout = 5s;  // unless the test chose one
    co.on_request = [this](const dhis2::RequestEvent& e) {
      if (e.method != "GET" || e.will_retry || !drive) return;
      if (contains(e.url, "/api/system/tasks/")) {
        ++task_polls;
        server->advance(milliseconds(tasks_step.load()));
      } else if (contains(e.url, "/api/system/taskSummaries/")) {
        server->advance(milliseconds(summary_step.load()));
      }
    };
    return std::make_unique<dhis2::Client>(server->url(), dhis2::BasicAuth{"admin", "district"}, co);
  }

  std::atomic<long long> tasks_step;
  std::atomic<long long> summary_step;
  std::atomic<int> task_polls{0};
  std::atomic<bool> drive{true};
  std::unique_ptr<dhis2::testing::FakeServer> server;
  std::unique_ptr<dhis2::Client> client;
};

// Tiny real-time knobs; start_grace large unless a test needs the job-row path.
inline dhis2::WatchOptions quick(milliseconds start_grace = 60s) {
  dhis2::WatchOptions o;
  o.initial_poll_interval = 1ms;
  o.poll_interval = 2ms;
  o.summary_wait = 50ms;
  o.start_grace = start_grace;
  return o;
}

}  // namespace watch_rig

#endif  // DHIS2CPP_TESTS_SUPPORT_WATCH_RIG_HPP
