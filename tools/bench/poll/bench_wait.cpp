// bench-wait: kicks off one analytics run and waits for it to end, for tools/bench/run.py's
// detection-latency and memory figures. The job runs on bench-server (--job-seconds), which says
// when the server wrote the job's last row; the delay is this program's `returned_ms` less that.
//
//   bench-wait MODE URL [SCALE] [USER:PASSWORD]
//
// ours:  client.jobs().start_analytics(), then a dhis2::TaskWatcher's wait() with the default
//        WatchOptions (250 ms growing with the job's age to 2 s), every interval times SCALE.
// fixed: the same job by hand on cpp-httplib + nlohmann_json: the kick-off, then a GET of the feed
//        every 2 s times SCALE until a row is completed (fixed 2-second polling).
//
// SCALE (default 1) shrinks the intervals with an emulator that runs faster than real time
// (bench-server --speed 60 with SCALE 1/60 behaves as real time, 60 times sooner).
//
// Prints one line of JSON: {"mode", "returned_ms" (system clock, ms since the epoch), "ok",
// "feed_requests", "requests", "cpu_s", "max_rss_kb"}. Exit status 0, 1 on failure, 2 for usage.
#include <dhis2/dhis2.hpp>

#include "process_stats.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using std::chrono::milliseconds;

long long now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

milliseconds scaled(long ms, double scale) {
  return milliseconds(std::max(1L, static_cast<long>(static_cast<double>(ms) * scale)));
}

struct Result {
  long long returned_ms = 0;
  bool ok = false;
  long feed_requests = 0;
  long requests = 0;
};

Result run_ours(const std::string& url, double scale, const std::string& user, const std::string& password) {
  std::atomic<long> feed{0};
  std::atomic<long> all{0};
  dhis2::ClientOptions options;
  options.on_request = [&](const dhis2::RequestEvent& event) {
    all.fetch_add(1);
    if (event.url.find("/api/system/tasks/") != std::string::npos) feed.fetch_add(1);
  };
  dhis2::Client client(url, dhis2::BasicAuth{user, password}, options);
  const dhis2::TaskRef ref = client.jobs().start_analytics();
  dhis2::WatchOptions watch;
  watch.initial_poll_interval = scaled(250, scale);
  watch.poll_interval = scaled(2000, scale);
  watch.start_grace = scaled(60000, scale);
  watch.summary_wait = scaled(5000, scale);
  const auto done = dhis2::TaskWatcher(client, ref, watch).wait(std::chrono::hours(2));
  Result r;
  r.returned_ms = now_ms();
  r.ok = done.ok();
  r.feed_requests = feed.load();
  r.requests = all.load();
  return r;
}

Result run_fixed(const std::string& url, double scale, const std::string& user, const std::string& password) {
  httplib::Client http(url);
  http.set_keep_alive(true);
  http.set_basic_auth(user, password);
  const httplib::Headers headers = {{"X-Requested-With", "XMLHttpRequest"}, {"Accept", "application/json"}};
  Result r;
  const auto kicked = http.Post("/api/resourceTables/analytics", headers, "", "application/json");
  ++r.requests;
  if (!kicked || kicked->status != 200) throw std::runtime_error("the analytics kick-off failed");
  const auto started = nlohmann::json::parse(kicked->body).at("response");
  const std::string path = "/api/system/tasks/" + started.at("jobType").get<std::string>() + "/" +
                           started.at("id").get<std::string>();
  const auto interval = scaled(2000, scale);
  for (;;) {
    const auto feed = http.Get(path, headers);
    ++r.requests;
    ++r.feed_requests;
    if (feed && feed->status == 200) {
      for (const auto& row : nlohmann::json::parse(feed->body)) {
        if (row.value("completed", false)) {
          r.returned_ms = now_ms();
          r.ok = row.value("level", "") != "ERROR";
          return r;
        }
      }
    }
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage = "Usage: bench-wait ours|fixed URL [SCALE] [USER:PASSWORD]\n";
  if (argc < 3 || argc > 5) {
    std::cerr << usage;
    return 2;
  }
  const std::string mode = argv[1];
  const double scale = argc > 3 ? std::atof(argv[3]) : 1.0;
  const std::string credentials = argc > 4 ? argv[4] : "admin:district";
  const auto colon = credentials.find(':');
  if ((mode != "ours" && mode != "fixed") || !(scale > 0) || colon == std::string::npos) {
    std::cerr << usage;
    return 2;
  }
  const std::string user = credentials.substr(0, colon);
  const std::string password = credentials.substr(colon + 1);
  try {
    const double before = bench::cpu_seconds();
    const Result r = mode == "ours" ? run_ours(argv[2], scale, user, password)
                                    : run_fixed(argv[2], scale, user, password);
    const nlohmann::json out = {{"mode", mode},
                                {"returned_ms", r.returned_ms},
                                {"ok", r.ok},
                                {"feed_requests", r.feed_requests},
                                {"requests", r.requests},
                                {"cpu_s", bench::cpu_seconds() - before},
                                {"max_rss_kb", bench::peak_rss_kb()}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench-wait " << mode << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
