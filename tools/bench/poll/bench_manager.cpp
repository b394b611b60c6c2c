// bench-manager: one dhis2::TaskManager watching many running jobs for a while, for
// tools/bench/run.py's memory and scale figures (bench-server --jobs N serves them).
//
//   bench-manager URL WARMUP MEASURE [POLL_MS] [--no-share]  < refs
//
// Reads a JSON array of job refs ("TYPE/uid") from its standard input, watches every one with the
// default TaskManager (2 polling threads; --no-share turns shared polls off) and WatchOptions whose
// poll_interval is POLL_MS (default 2000; initial_poll_interval the same, so that every round is a
// steady one), with a callback for every row as a user would have: WARMUP seconds, then MEASURE
// seconds whose CPU it reports; then it cancels them.
//
// Prints one line of JSON: {"jobs", "measure_s", "poll_ms", "threads" (of this process, while it
// watched), "max_rss_kb" (VmHWM), "rss_before_kb" (before the first watch), "cpu_s" (user + sys
// of the MEASURE seconds), "rows" (delivered)}. Exit status 0, 1 on failure, 2 for usage.
#include <dhis2/dhis2.hpp>

#include "process_stats.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  const char* usage = "Usage: bench-manager URL WARMUP MEASURE [POLL_MS] [--no-share] < refs.json\n";
  std::vector<std::string> args(argv + 1, argv + argc);
  bool share = true;
  for (auto it = args.begin(); it != args.end();) {
    if (*it == "--no-share") {
      share = false;
      it = args.erase(it);
    } else {
      ++it;
    }
  }
  if (args.size() < 3 || args.size() > 4) {
    std::cerr << usage;
    return 2;
  }
  const double warmup = std::atof(args[1].c_str());
  const double seconds = std::atof(args[2].c_str());
  const long poll_ms = args.size() > 3 ? std::atol(args[3].c_str()) : 2000;
  if (!(warmup >= 0) || !(seconds > 0) || poll_ms < 1) {
    std::cerr << usage;
    return 2;
  }
  try {
    nlohmann::json refs;
    std::cin >> refs;
    dhis2::Client client(args[0], dhis2::BasicAuth{"admin", "district"});
    client.connect();
    const long rss_before = bench::status_kb("VmRSS");
    dhis2::TaskManagerOptions options;
    options.share_polls = share;
    dhis2::TaskManager manager(client, options);
    dhis2::WatchOptions watch;
    watch.poll_interval = watch.initial_poll_interval = std::chrono::milliseconds(poll_ms);
    std::atomic<long> rows{0};
    dhis2::WatchCallbacks callbacks;
    callbacks.on_notification = [&rows](const dhis2::BackgroundWatch&, const dhis2::Notification&) { ++rows; };
    for (const auto& ref : refs) manager.watch(dhis2::TaskRef::parse(ref.get<std::string>()), callbacks, watch);
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
    const double before = bench::cpu_seconds();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const int threads = bench::thread_count();
    const double cpu = bench::cpu_seconds() - before;
    manager.cancel_all();
    const nlohmann::json out = {{"jobs", refs.size()},
                                {"measure_s", seconds},
                                {"poll_ms", poll_ms},
                                {"threads", threads},
                                {"max_rss_kb", bench::status_kb("VmHWM")},
                                {"rss_before_kb", rss_before},
                                {"cpu_s", cpu},
                                {"rows", rows.load()}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench-manager: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
