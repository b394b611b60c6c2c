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
#include <dhis2/testing.hpp>

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
            << "Usage: bench-server [--version V] [--rows N] [--feed still|loop] [--every-ms MS] [--compress]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string version = "2.42.1";
  int rows = 200;
  std::string feed = "still";
  int every_ms = 1;
  bool compress = false;
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
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (rows < 2 || rows > 500) return usage("--rows must be 2 to 500 (DHIS2 keeps 500 rows of a job)");
  if (feed != "still" && feed != "loop") return usage("--feed must be still or loop");
  if (every_ms < 1) return usage("--every-ms must be at least 1");

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
