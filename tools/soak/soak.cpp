// dhis2-soak: many background watches for a long time against an emulator that keeps failing
// in small ways, counting what a user would lose (issue 13, docs/reliability.md "Soak").
//
//   dhis2-soak [--seconds N] [--watches N] [--seed N] [--threads N] [--version V]
//              [--no-faults] [--no-share] [--keep-jobs]
//
// The emulator (DHIS2 --version, 2.40.8 by default, where jobs of a type run side by side; on
// 2.41+ they queue, one at a time, so use few --watches there; real time) runs in a child process, so that the memory
// measured is the client's alone; one request to the task feeds in twenty meets a fault (dropped connections before and
// during the response, 502, 503, 504, 429, truncated and malformed JSON, HTML pages, slow answers) unless --no-faults.
// The parent keeps N background watches of metadata imports running on one TaskManager
// (--threads polling threads, 4 by default; shared polls unless --no-share): when one ends, it
// checks the watch against the rows the server kept (read again, with retries, until a clean
// read), deletes the job's rows from the server unless --keep-jobs, and starts another. At the
// end it prints one JSON object: watches completed, notifications delivered, lost and
// duplicated, wrong outcomes, and the peak RSS after the warm-up and at the end. Exit status 0
// when nothing was lost, duplicated or wrong and the peak RSS did not grow by more than a fifth
// (and 2 MB) after the warm-up; 1 otherwise; 2 for a bad command line.
//
// Why the deletion: DHIS2's notifier trims its per-type cap only after an idle minute
// (dhis2-wire.md §1.4), which this constant load never leaves it, so the type's overview, read
// by every shared poll, grows without bound, on DHIS2 as in the emulator. --keep-jobs shows it:
// the client's peak RSS then grows with the overview (24 to 42 MB in 60 s), not with time.

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
  unsigned threads = 4;
  std::string version = "2.40.8";
  bool faults = true;
  bool share_polls = true;
  bool keep_jobs = false;
};

constexpr const char* kUsage =
    "usage: dhis2-soak [--seconds N] [--watches N] [--seed N] [--threads N] [--version V]\n"
    "                  [--no-faults] [--no-share] [--keep-jobs]   (N from 1 to 1000000)\n";

// What is wrong with the command line, or empty when it is fine.
std::string parse(int argc, char** argv, Settings& s) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-faults") {
      s.faults = false;
      continue;
    }
    if (arg == "--no-share") {
      s.share_polls = false;
      continue;
    }
    if (arg == "--keep-jobs") {
      s.keep_jobs = true;
      continue;
    }
    const bool numeric = arg == "--seconds" || arg == "--watches" || arg == "--seed" || arg == "--threads";
    if (!numeric && arg != "--version") return "unknown option " + arg;
    if (i + 1 >= argc) return arg + " needs a value";
    const std::string text = argv[++i];
    if (arg == "--version") {
      try {
        (void)dhis2::testing::VersionProfile::of(text);
      } catch (const dhis2::Error& e) {
        return std::string("--version: ") + e.what();
      }
      s.version = text;
      continue;
    }
    char* rest = nullptr;
    const long value = std::strtol(text.c_str(), &rest, 10);
    if (text.empty() || *rest != '\0' || value <= 0 || value > 1000000) {
      return arg + " takes a whole number from 1 to 1000000, not \"" + text + "\"";
    }
    if (arg == "--seconds") {
      s.seconds = static_cast<int>(value);
    } else if (arg == "--watches") {
      s.watches = static_cast<int>(value);
    } else if (arg == "--seed") {
      s.seed = static_cast<unsigned>(value);
    } else {
      s.threads = static_cast<unsigned>(value);
    }
  }
  return {};
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
[[noreturn]] void serve(int report_fd, int stop_fd, const Settings& settings) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  dhis2::testing::FakeServerOptions options;
  options.version = settings.version;
  options.speed = 1;
  dhis2::testing::FakeServer server(options);
  server.set_default_script("METADATA_IMPORT", dhis2::testing::JobScript()
                                                   .start("Importing metadata")
                                                   .stage("Validating", 1s)
                                                   .stage("Preheating the cache", 1s)
                                                   .stage("Creating objects", 1500ms)
                                                   .stage("Updating objects", 1500ms)
                                                   .stage("Deleting objects", 1s)
                                                   // Its ImportReport, stored before the final row
                                                   // (dhis2-wire.md §1.7).
                                                   .summary(dhis2::testing::detail::default_metadata_report(1), 400ms)
                                                   .complete("Import complete with status OK", 100ms));
  const std::string port = std::to_string(server.port()) + "\n";
  if (write(report_fd, port.data(), port.size()) != static_cast<ssize_t>(port.size())) std::_Exit(3);
  close(report_fd);
  // About one request in twenty to the task feeds meets a fault: every 20 ms, a burst sized to
  // the requests since the last look (so the share stays the same whatever the load).
  std::thread faults([&server, settings] {
    if (!settings.faults) return;
    std::mt19937 random(settings.seed);
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

// Removes the job's rows from the server once checked, as an operator's housekeeping would: the
// notifier trims its per-type cap only after an idle minute (dhis2-wire.md §1.4), so under this
// constant load the type's overview, which shared polls read, would grow without bound.
void forget(dhis2::Client& client, const dhis2::TaskRef& ref) {
  for (int attempt = 0;; ++attempt) {
    try {
      client.delete_raw("system/tasks/" + ref.job_type + "/" + ref.uid);
      return;
    } catch (const dhis2::Error&) {
      if (attempt >= 200) throw;
      std::this_thread::sleep_for(10ms);
    }
  }
}

void check(dhis2::Client& client, const dhis2::BackgroundWatch& watch, Tally& tally, bool keep_jobs) {
  std::vector<dhis2::Notification> got;
  {
    std::lock_guard<std::mutex> lock(tally.mutex);
    got = std::move(tally.delivered[watch.id()]);
    tally.delivered.erase(watch.id());
  }
  const auto kept = kept_rows(client, watch.ref());
  if (!keep_jobs) forget(client, watch.ref());
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
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::cout << kUsage;
    return 0;
  }
  const std::string wrong = parse(argc, argv, settings);
  if (!wrong.empty()) {
    std::cerr << "dhis2-soak: " << wrong << "\n" << kUsage;
    return 2;
  }
  int report[2], stop[2];
  if (pipe(report) != 0 || pipe(stop) != 0) return 1;
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(report[0]);
    close(stop[1]);
    serve(report[1], stop[0], settings);
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
    client_options.pool_size = 2 * settings.threads;
    client_options.timeout = 2s;
    client_options.retry->base_delay = 5ms;
    client_options.retry->max_delay = 50ms;
    dhis2::Client client("http://127.0.0.1:" + port, dhis2::BasicAuth{"admin", "district"}, client_options);
    dhis2::TaskManagerOptions manager_options;
    manager_options.threads = settings.threads;
    manager_options.share_polls = settings.share_polls;
    // Finished watches the manager remembers (1000 by default) would grow the memory for the
    // first 1000 watches; remember few, so that the steady state comes early.
    manager_options.keep_finished = 20;
    dhis2::TaskManager manager(client, manager_options);
    dhis2::WatchOptions watch_options;
    watch_options.initial_poll_interval = 100ms;
    watch_options.poll_interval = 1s;
    Tally tally;
    dhis2::WatchCallbacks callbacks;
    callbacks.on_notification = [&tally](const dhis2::BackgroundWatch& w, const dhis2::Notification& n) {
      std::lock_guard<std::mutex> lock(tally.mutex);
      tally.delivered[w.id()].push_back(n);
    };
    const nlohmann::json payload = {{"dataElements", nlohmann::json::array({{{"name", "Soak"}}})}};
    // On 2.41+ the jobs of one type run one at a time, the others wait in the queue (dhis2-wire.md
    // §2.3): the last of N watches waits for the N - 1 before it, each a scheduler loop (20 s) at
    // worst. On 2.40 they run side by side and a minute is plenty.
    const bool queued = dhis2::testing::VersionProfile::of(settings.version).already_running ==
                        dhis2::testing::AlreadyRunning::Queue;
    const std::chrono::seconds deadline = queued ? 60s + settings.watches * 20s : 60s;
    const auto start_one = [&] {
      return manager.watch(client.jobs().import_metadata_async(payload), callbacks, watch_options, deadline);
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
        check(client, w, tally, settings.keep_jobs);
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
      check(client, w, tally, settings.keep_jobs);
    }
    const long peak_end = status_kb("VmHWM:");
    if (peak_after_warm_up < 0) {
      std::cerr << "dhis2-soak: too short: fewer watches ended than run at a time; give more --seconds\n";
      peak_after_warm_up = peak_end;
    }
    const bool grew = peak_end > peak_after_warm_up + std::max(2048L, peak_after_warm_up / 5);
    const nlohmann::json report_json = {
        {"seconds", settings.seconds},
        {"version", settings.version},
        {"faults", settings.faults},
        {"share_polls", settings.share_polls},
        {"watches", settings.watches},
        {"watch_deadline_seconds", deadline.count()},
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
