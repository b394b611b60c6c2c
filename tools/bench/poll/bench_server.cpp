// bench-server: the emulator (dhis2::testing::FakeServer) in a process of its own, holding one
// running ANALYTICS_TABLE job whose feed has a chosen number of rows, for tools/bench/run.py. The
// clients measured against it (tools/bench/poll/bench_poll.cpp, the peers in tools/bench/peers/)
// then poll the same feed, and the server's CPU is not theirs.
//
//   bench-server [--version 2.42.1] [--rows 200] [--feed still|loop] [--every-ms 1] [--compress]
//
// --feed still: the job's rows are written at once, then it stays in its last stage: no poll sees
//               a new row.
// --feed loop:  after the first rows, one work item every --every-ms of real time: DHIS2 keeps
//               only the newest LOOP row, so every poll sees a new row and the feed keeps its size.
// --compress:   answer as behind nginx with `gzip on` (FakeServerOptions::compress).
//
// Prints one line of JSON and flushes it:
//   {"url": "http://127.0.0.1:PORT", "job_type": "ANALYTICS_TABLE", "uid": "...", "rows": N}
// then serves until its standard input closes, and prints a second line:
//   {"requests": R, "feed_requests": F, "connections": C, "feed_bytes": B, "feed_compressed": Z}
// (B: the feed bodies' bytes as sent, Z: how many of them went out gzip-encoded).
// Exit status: 0; 2 for a usage error.
//
//   bench-server --job-seconds D [--speed S] [--pending-ms P] [--version V]
//
// Latency mode, for bench-wait and the Python peer's --wait: no job yet; every analytics
// kick-off runs D (emulated) seconds. The clock runs at S times real time (default 1), and the
// 2.41+ scheduler's first tick comes P emulated ms after the server starts (default 0: at once).
// The ready line is {"url", "job_type"}; the exit line adds "completed_real_ms": when (system
// clock, ms since the epoch, real time) the server wrote the run's completed row, or null.
//
//   bench-server --jobs N [--changing M] [--version V]
//
// Scale mode, for bench-manager: N running jobs spread over ANALYTICS_TABLE, DATAVALUE_IMPORT and
// METADATA_IMPORT, on a clock at real time. The first M write a new (LOOP) row every second; the
// others stay in their first stage. The ready line is {"url", "refs": ["TYPE/uid", ...]}; every
// line read, and the end of the input, prints the counts so far: "requests", "feed_requests" (a
// job's own feed), "overview_requests" (a type's overview) and "connections".
#include <dhis2/testing.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::JobScript;

int usage(const std::string& problem) {
  std::cerr << "bench-server: " << problem << "\n"
            << "Usage: bench-server [--version V] [--rows N] [--feed still|loop] [--every-ms MS] [--compress]\n"
            << "       bench-server --jobs N [--changing M] [--version V]\n"
            << "       bench-server --job-seconds D [--speed S] [--pending-ms P] [--version V] [--compress]\n";
  return 2;
}

// The scale mode (see the top of the file).
int serve_scale(const std::string& version, int jobs, int changing) {
  if (jobs > 3000 || changing < 0 || changing > jobs) return usage("--jobs must be 1 to 3000, --changing 0 to --jobs");
  FakeServerOptions options;
  options.version = version;
  options.speed = 1;
  std::unique_ptr<FakeServer> server;
  try {
    server = std::make_unique<FakeServer>(options);
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  const char* types[] = {"ANALYTICS_TABLE", "DATAVALUE_IMPORT", "METADATA_IMPORT"};
  nlohmann::json refs = nlohmann::json::array();
  for (int i = 0; i < jobs; ++i) {
    const std::string type = types[i % 3];
    JobScript script;
    script.start("Job " + std::to_string(i));
    if (i < changing) script.items("Processing", 600, std::chrono::seconds(1));  // ten minutes of rows
    script.complete("Job " + std::to_string(i) + " done", 24h);
    refs.push_back(type + "/" + server->start_job(type, script));
  }
  std::cout << nlohmann::json{{"url", server->url()}, {"refs", refs}}.dump() << std::endl;
  const auto counts = [&server] {
    std::size_t feed = 0;
    std::size_t overview = 0;
    for (const auto& r : server->requests_to("/api/system/tasks/*", "GET")) {
      (std::count(r.path.begin(), r.path.end(), '/') >= 5 ? feed : overview) += 1;
    }
    return nlohmann::json{{"requests", server->requests().size()},
                          {"feed_requests", feed},
                          {"overview_requests", overview},
                          {"connections", server->connection_count()}};
  };
  // Each line read prints the counts so far (run.py marks the start and the end of its window).
  std::string line;
  while (std::getline(std::cin, line)) std::cout << counts().dump() << std::endl;
  std::cout << counts().dump() << std::endl;
  server->stop();
  return 0;
}

// The latency mode (see the top of the file).
int serve_latency(const std::string& version, double job_seconds, double speed, long pending_ms, bool compress) {
  if (!(speed > 0) || pending_ms < 0 || pending_ms >= 20000) {
    return usage("--speed must be positive and --pending-ms in [0, 20000)");
  }
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  FakeServerOptions options;
  options.version = version;
  options.speed = speed;
  options.compress = compress;
  // A start P ms before a 20-second tick (the emulator ticks at :00, :20 and :40).
  const auto minute = std::chrono::floor<std::chrono::minutes>(system_clock::now());
  options.start_time = minute + std::chrono::seconds(20) - milliseconds(pending_ms);
  std::unique_ptr<FakeServer> server;
  try {
    server = std::make_unique<FakeServer>(options);
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  const auto emulated0 = server->clock().now();
  const auto real0 = system_clock::now();
  JobScript script;
  script.start("Analytics table update", {{"lastYears", 2}});
  script.complete("Analytics tables updated", milliseconds(static_cast<long>(job_seconds * 1000)));
  server->set_default_script("ANALYTICS_TABLE", script);
  std::cout << nlohmann::json{{"url", server->url()}, {"job_type", "ANALYTICS_TABLE"}}.dump() << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
  }
  // The run's completed row, on the emulated clock (UTC), back to real time.
  nlohmann::json completed_real_ms = nullptr;
  for (const auto& job : server->jobs()) {
    if (job.job_type != "ANALYTICS_TABLE") continue;
    for (const auto& row : server->engine().feed(job.job_type, job.uid, false)) {
      const auto at = row.parsed_time();
      if (!row.completed || !at) continue;
      const system_clock::time_point emulated{milliseconds(at->time_since_epoch().count())};
      const auto real = real0 + std::chrono::duration_cast<system_clock::duration>((emulated - emulated0) / speed);
      completed_real_ms = std::chrono::duration_cast<milliseconds>(real.time_since_epoch()).count();
    }
  }
  const auto feeds = server->requests_to("/api/system/tasks/*");
  nlohmann::json stats = {{"requests", server->requests().size()},
                          {"feed_requests", feeds.size()},
                          {"connections", server->connection_count()},
                          {"completed_real_ms", completed_real_ms}};
  std::cout << stats.dump() << std::endl;
  server->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string version = "2.42.1";
  int rows = 200;
  std::string feed = "still";
  int every_ms = 1;
  bool compress = false;
  double job_seconds = 0;
  int jobs = 0;
  int changing = 0;
  double speed = 1;
  long pending_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--compress") {
      compress = true;
      continue;
    }
    if (i + 1 >= argc) return usage("missing value after " + arg);
    const std::string value = argv[++i];
    if (arg == "--version") {
      version = value;
    } else if (arg == "--rows") {
      rows = std::atoi(value.c_str());
    } else if (arg == "--feed") {
      feed = value;
    } else if (arg == "--every-ms") {
      every_ms = std::atoi(value.c_str());
    } else if (arg == "--jobs") {
      jobs = std::atoi(value.c_str());
    } else if (arg == "--changing") {
      changing = std::atoi(value.c_str());
    } else if (arg == "--job-seconds") {
      job_seconds = std::atof(value.c_str());
    } else if (arg == "--speed") {
      speed = std::atof(value.c_str());
    } else if (arg == "--pending-ms") {
      pending_ms = std::atol(value.c_str());
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (rows < 2 || rows > 500) return usage("--rows must be 2 to 500 (DHIS2 keeps 500 rows of a job)");
  if (feed != "still" && feed != "loop") return usage("--feed must be still or loop");
  if (every_ms < 1) return usage("--every-ms must be at least 1");

  if (jobs > 0) return serve_scale(version, jobs, changing);
  if (job_seconds > 0) return serve_latency(version, job_seconds, speed, pending_ms, compress);
  if (job_seconds < 0) return usage("--job-seconds must be positive");

  FakeServerOptions options;
  options.version = version;
  options.speed = 0;  // the clock moves only when this program moves it
  options.compress = compress;
  std::unique_ptr<FakeServer> server;
  try {
    server = std::make_unique<FakeServer>(options);
  } catch (const std::exception& e) {
    return usage(e.what());
  }

  // The first row (PARAMETERS on 2.39.2+), then stages 1 ms apart. "still" ends with a stage that
  // never ends; "loop" with work items, of which the feed shows only the newest.
  JobScript script;
  script.start("Analytics table update", {{"lastYears", 2}});
  const int stages = feed == "still" ? rows - 1 : rows - 2;
  for (int i = 1; i <= stages; ++i) script.stage("Populating analytics table partition " + std::to_string(i), 1ms);
  // 100,000 items: 100 s of new rows at 1 ms (each a step the emulator holds in memory).
  constexpr int kItems = 100000;
  if (feed == "loop") script.items("Processing organisation unit", kItems, std::chrono::milliseconds(every_ms));
  script.complete("Analytics tables updated", 24h);
  const std::string uid = server->start_job("ANALYTICS_TABLE", script);
  // Past the scheduler's tick (2.41+ start a job at the next 20-second tick) and the stages.
  server->advance(std::chrono::milliseconds(21000 + 2 * rows));

  std::atomic<bool> done{false};
  std::thread ticker;
  if (feed == "loop") {
    ticker = std::thread([&] {
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
        server->advance(std::chrono::milliseconds(every_ms));
      }
    });
  }
  server->clear_requests();

  nlohmann::json ready = {{"url", server->url()}, {"job_type", "ANALYTICS_TABLE"}, {"uid", uid}, {"rows", rows}};
  std::cout << ready.dump() << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
  }
  done = true;
  if (ticker.joinable()) ticker.join();
  const auto all = server->requests();
  const auto feeds = server->requests_to("/api/system/tasks/*");
  std::size_t feed_bytes = 0;
  std::size_t feed_compressed = 0;
  for (const auto& r : feeds) {
    feed_bytes += r.response_bytes;
    feed_compressed += r.response_compressed ? 1 : 0;
  }
  nlohmann::json stats = {{"requests", all.size()},
                          {"feed_requests", feeds.size()},
                          {"connections", server->connection_count()},
                          {"feed_bytes", feed_bytes},
                          {"feed_compressed", feed_compressed}};
  std::cout << stats.dump() << std::endl;
  server->stop();
  return 0;
}
