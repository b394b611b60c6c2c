// dhis2-soak: many background watches for a long time against an emulator that keeps failing
// in small ways, counting what a user would lose (issue 13, docs/reliability.md "Soak").
//
//   dhis2-soak [--seconds N] [--watches N] [--seed N]
//
// Work in progress (issue 13): not built by CMake yet; see the closing note of 2026-12-04. The
// SOAK_VERSION (default 2.40.8, where jobs of a type run side by side), SOAK_NO_FAULTS,
// SOAK_NO_SHARE (TaskManagerOptions::share_polls off) and SOAK_THREADS environment variables are
// debugging aids for the peak RSS growth seen with shared polls.
//
// The emulator (real time) runs in a child process, so that the memory measured is the client's
// alone; one request to the task feeds in twenty meets a fault (dropped connections before and
// during the response, 502, 503, 504, 429, truncated and malformed JSON, HTML pages, slow
// answers). The parent keeps N background watches of metadata imports running on one TaskManager: when one ends, it
// checks the watch against the rows the server kept (read again, with retries, until a clean read) and starts another. At
// the end it prints one JSON object: watches completed, notifications delivered, lost and duplicated, wrong outcomes, and
// the peak RSS after the warm-up and at the end. Exit status 0 when nothing was lost, duplicated or wrong and the peak
// RSS did not grow by more than a fifth (and 2 MB) after the warm-up; 1 otherwise; 2 for a bad command line.

#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Settings {
  int seconds = 600;
  int watches = 200;
  unsigned seed = 20241204;
};

bool parse(int argc, char** argv, Settings& s) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return false;
    if (i + 1 >= argc) return false;
    const long value = std::strtol(argv[++i], nullptr, 10);
    if (value <= 0) return false;
    if (arg == "--seconds") {
      s.seconds = static_cast<int>(value);
    } else if (arg == "--watches") {
      s.watches = static_cast<int>(value);
    } else if (arg == "--seed") {
      s.seed = static_cast<unsigned>(value);
    } else {
      return false;
    }
  }
  return true;
}

// kB from /proc/self/status ("VmHWM" the peak resident set, "VmRSS" the current one).
long status_kb(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + std::strlen(key) + 1, nullptr, 10);
  }
  return -1;
}

// The emulator's process: serves until its parent closes the pipe, injecting faults meanwhile.
[[noreturn]] void serve(int report_fd, int stop_fd, unsigned seed) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  dhis2::testing::FakeServerOptions options;
  options.version = std::getenv("SOAK_VERSION") ? std::getenv("SOAK_VERSION") : "2.40.8";
  options.speed = 1;
  dhis2::testing::FakeServer server(options);
  server.set_default_script("METADATA_IMPORT", dhis2::testing::JobScript()
                                                   .start("Importing metadata")
                                                   .stage("Validating", 1s)
                                                   .stage("Preheating the cache", 1s)
                                                   .stage("Creating objects", 1500ms)
                                                   .stage("Updating objects", 1500ms)
                                                   .stage("Deleting objects", 1s)
                                                   .complete("Import complete with status OK", 500ms));
  const std::string port = std::to_string(server.port()) + "\n";
  if (write(report_fd, port.data(), port.size()) != static_cast<ssize_t>(port.size())) std::_Exit(3);
  close(report_fd);
  const bool no_faults = std::getenv("SOAK_NO_FAULTS") != nullptr;
  // About one request in twenty to the task feeds meets a fault: every 20 ms, a burst sized to
  // the requests since the last look (so the share stays the same whatever the load).
  std::thread faults([&server, seed, no_faults] {
    if (no_faults) return;
    std::mt19937 random(seed);
    using dhis2::testing::Fault;
    const std::vector<Fault> kinds = {
        Fault::drop_before_response(), Fault::drop_mid_response(),   Fault::status_page(502), Fault::status_page(503),
        Fault::status_page(504),       Fault::too_many_requests(1s), Fault::truncated_json(), Fault::malformed_json(),
        Fault::html_page(200),         Fault::delay_by(300ms)};
    double owed = 0;
    for (;;) {
      std::this_thread::sleep_for(20ms);
      owed += static_cast<double>(server.requests_to("/api/system/tasks/*", "GET").size()) / 20.0;
      server.clear_requests();
      while (owed >= 1) {
        const int times = 1 + static_cast<int>(random() % 3);
        server.inject("GET", "/api/system/tasks/*", kinds[random() % kinds.size()], times);
        owed -= times;
      }
    }
  });
  faults.detach();
  char byte;
  while (read(stop_fd, &byte, 1) > 0) {
  }
  std::_Exit(0);  // the fault thread runs on: no destructors
}

struct Tally {
  std::mutex mutex;
  std::map<std::uint64_t, std::vector<dhis2::Notification>> delivered;  // by watch id
  long completed = 0, rows = 0, lost = 0, duplicated = 0, wrong = 0;
  std::vector<std::string> problems;
  std::map<std::string, long> rules;  // how the watches ended (TaskCompletion::rule)
  double seconds_to_end = 0;          // summed: kick-off to the end of the watch
};

// The rows the server kept for `ref`, oldest first, read until a read succeeds.
std::vector<dhis2::Notification> kept_rows(dhis2::Client& client, const dhis2::TaskRef& ref) {
  for (int attempt = 0;; ++attempt) {
    try {
      auto rows = dhis2::notifications_from_json(client.get_raw("system/tasks/" + ref.job_type + "/" + ref.uid));
      std::reverse(rows.begin(), rows.end());
      return rows;
    } catch (const dhis2::Error&) {
      if (attempt >= 200) throw;
      std::this_thread::sleep_for(10ms);
    }
  }
}

void check(dhis2::Client& client, const dhis2::BackgroundWatch& watch, Tally& tally) {
  std::vector<dhis2::Notification> got;
  {
    std::lock_guard<std::mutex> lock(tally.mutex);
    got = std::move(tally.delivered[watch.id()]);
    tally.delivered.erase(watch.id());
  }
  const auto kept = kept_rows(client, watch.ref());
  std::set<std::string> seen;
  long duplicated = 0;
  for (const auto& n : got) {
    if (!seen.insert(n.id).second) ++duplicated;  // ids are unique on 2.42
  }
  long lost = 0;
  for (const auto& n : kept) {
    if (seen.count(n.id) == 0) ++lost;
  }
  bool ordered = got.size() == kept.size();
  for (std::size_t i = 0; ordered && i < got.size(); ++i) ordered = got[i].id == kept[i].id;
  std::string problem;
  if (watch.status() != dhis2::WatchStatus::Succeeded) {
    std::string why = "not Succeeded";
    try {
      const auto c = watch.get();
      why = std::string(dhis2::to_string(c.outcome)) + " (" + c.reason + ")";
    } catch (...) {
    }
    if (const auto error = watch.error()) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        why = std::string("with an error: ") + e.what();
      }
    }
    problem = watch.ref().str() + " ended " + why;
  } else if (!ordered && lost == 0 && duplicated == 0) {
    problem = watch.ref().str() + ": rows out of order";
  }
  std::string rule = "error";
  try {
    rule = watch.get().rule;
  } catch (...) {
  }
  std::lock_guard<std::mutex> lock(tally.mutex);
  ++tally.rules[rule];
  if (watch.queued_at() && watch.finished_at()) {
    tally.seconds_to_end += std::chrono::duration<double>(*watch.finished_at() - *watch.queued_at()).count();
  }
  ++tally.completed;
  tally.rows += static_cast<long>(got.size());
  tally.lost += lost;
  tally.duplicated += duplicated;
  if (!problem.empty()) {
    ++tally.wrong;
    if (tally.problems.size() < 10) tally.problems.push_back(problem);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parse(argc, argv, settings)) {
    std::cerr << "usage: dhis2-soak [--seconds N] [--watches N] [--seed N]  (all positive)\n";
    return 2;
  }
  int report[2], stop[2];
  if (pipe(report) != 0 || pipe(stop) != 0) return 1;
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(report[0]);
    close(stop[1]);
    serve(report[1], stop[0], settings.seed);
  }
  close(report[1]);
  close(stop[0]);
  std::string port;
  char c;
  while (read(report[0], &c, 1) == 1 && c != '\n') port += c;
  close(report[0]);
  if (port.empty()) {
    std::cerr << "dhis2-soak: the emulator did not start\n";
    return 1;
  }
  int result = 1;
  try {
    dhis2::ClientOptions client_options;
    client_options.pool_size = std::getenv("SOAK_THREADS") ? std::strtoul(std::getenv("SOAK_THREADS"), nullptr, 10) : 8;
    client_options.timeout = 2s;
    client_options.retry->base_delay = 5ms;
    client_options.retry->max_delay = 50ms;
    dhis2::Client client("http://127.0.0.1:" + port, dhis2::BasicAuth{"admin", "district"}, client_options);
    dhis2::TaskManagerOptions manager_options;
    manager_options.threads = std::getenv("SOAK_THREADS") ? std::strtoul(std::getenv("SOAK_THREADS"), nullptr, 10) : 4;
    if (std::getenv("SOAK_NO_SHARE")) manager_options.share_polls = false;
    // Finished watches the manager remembers (1000 by default) would grow the memory for the
    // first 1000 watches; remember few, so that the steady state comes early.
    manager_options.keep_finished = 20;
    dhis2::TaskManager manager(client, manager_options);
    dhis2::WatchOptions watch_options;
    watch_options.initial_poll_interval = 100ms;
    watch_options.poll_interval = 1s;
    // The emulated metadata import writes no task summary: do not wait for one. (A watch that
    // waits for a summary holds its polling thread meanwhile: 200 watches ending every few
    // seconds with the default 5 s would need far more threads than four.)
    watch_options.summary_wait = 0ms;
    Tally tally;
    dhis2::WatchCallbacks callbacks;
    callbacks.on_notification = [&tally](const dhis2::BackgroundWatch& w, const dhis2::Notification& n) {
      std::lock_guard<std::mutex> lock(tally.mutex);
      tally.delivered[w.id()].push_back(n);
    };
    const nlohmann::json payload = {{"dataElements", nlohmann::json::array({{{"name", "Soak"}}})}};
    const auto start_one = [&] {
      return manager.watch(client.jobs().import_metadata_async(payload), callbacks, watch_options, 60s);
    };

    const auto began = Clock::now();
    const auto end = began + std::chrono::seconds(settings.seconds);
    std::vector<dhis2::BackgroundWatch> active;
    for (int i = 0; i < settings.watches; ++i) active.push_back(start_one());
    long peak_after_warm_up = -1;
    while (Clock::now() < end) {
      std::this_thread::sleep_for(50ms);
      for (auto& w : active) {
        const auto status = w.status();
        if (status == dhis2::WatchStatus::Queued || status == dhis2::WatchStatus::Running) continue;
        check(client, w, tally);
        w = start_one();
      }
      // Warmed up once as many watches as run at a time have ended: every structure has its
      // working size.
      if (peak_after_warm_up < 0 && tally.completed >= settings.watches) peak_after_warm_up = status_kb("VmHWM:");
    }
    for (auto& w : active) {
      try {
        w.get();
      } catch (const dhis2::Error&) {
      }
      check(client, w, tally);
    }
    const long peak_end = status_kb("VmHWM:");
    if (peak_after_warm_up < 0) {
      std::cerr << "dhis2-soak: too short: fewer watches ended than run at a time; give more --seconds\n";
      peak_after_warm_up = peak_end;
    }
    const bool grew = peak_end > peak_after_warm_up + std::max(2048L, peak_after_warm_up / 5);
    const nlohmann::json report_json = {
        {"seconds", settings.seconds},
        {"watches", settings.watches},
        {"completed", tally.completed},
        {"notifications_delivered", tally.rows},
        {"lost", tally.lost},
        {"duplicated", tally.duplicated},
        {"wrong_outcomes", tally.wrong},
        {"problems", tally.problems},
        {"rules", tally.rules},
        {"mean_seconds_to_end", tally.completed ? tally.seconds_to_end / static_cast<double>(tally.completed) : 0.0},
        {"peak_rss_kb_after_warm_up", peak_after_warm_up},
        {"peak_rss_kb_end", peak_end},
        {"rss_grew", grew}};
    std::cout << report_json.dump() << std::endl;
    result = tally.lost == 0 && tally.duplicated == 0 && tally.wrong == 0 && !grew && tally.completed > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "dhis2-soak: " << e.what() << "\n";
    result = 1;
  }
  close(stop[1]);
  int status = 0;
  waitpid(child, &status, 0);
  return result;
}
