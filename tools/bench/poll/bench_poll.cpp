// bench-poll: polls one job's feed (GET /api/system/tasks/{type}/{uid}) a given number of times
// and reports the CPU it used, for tools/bench/run.py.
//
//   bench-poll MODE URL JOB_TYPE UID POLLS [USER:PASSWORD]
//
// ours:  a dhis2::TaskWatcher following the job with 1 ms pauses; it is cancelled once it has
//        sent POLLS feed requests (counted by the Client's request hook). It asks for gzip and br
//        (ClientOptions::compression, the default).
// ours-identity: the same with compression = false.
// floor: the least a C++ program can do: one keep-alive cpp-httplib client that GETs the feed and
//        parses it with nlohmann::json, POLLS times with 1 ms pauses, reading each row's id.
// floor-gzip: the floor asking for gzip (httplib decodes it).
// receive: the floor without the parse: what receiving the bytes costs (a reference, not a peer).
//
// Prints one line of JSON: {"mode", "polls", "requests", "rows", "cpu_s", "cpu_per_poll_us",
// "max_rss_kb", "body_bytes"}; cpu_s is user + sys of this process from the first poll to the
// last (the handshake and the connection come before). Exit status 0, 1 on failure, 2 for usage.
#include <dhis2/dhis2.hpp>

#include "process_stats.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

struct Result {
  long polls = 0;
  long requests = 0;
  long rows = 0;
  double cpu_s = 0;
  long body_bytes = 0;
};

Result run_ours(const std::string& url, const std::string& job_type, const std::string& uid, long polls,
                const std::string& user, const std::string& password, bool compression) {
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<long> feed_requests{0};
  std::atomic<long> requests{0};
  std::atomic<bool> counting{false};
  dhis2::ClientOptions options;
  options.compression = compression;
  options.on_request = [&](const dhis2::RequestEvent& event) {
    if (!counting.load()) return;
    requests.fetch_add(1);
    if (event.url.find("/api/system/tasks/") != std::string::npos && feed_requests.fetch_add(1) + 1 == polls) {
      std::lock_guard<std::mutex> lock(mutex);
      cv.notify_all();
    }
  };
  dhis2::Client client(url, dhis2::BasicAuth{user, password}, options);
  client.connect();

  dhis2::WatchOptions watch;
  watch.poll_interval = std::chrono::milliseconds(1);
  watch.initial_poll_interval = std::chrono::milliseconds(1);
  watch.start_grace = std::chrono::hours(1);
  dhis2::TaskWatcher watcher(client, dhis2::TaskRef::parse(job_type + "/" + uid), watch);

  std::thread stopper([&] {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return feed_requests.load() >= polls; });
    watcher.cancel();
  });
  Result r;
  counting = true;
  const double before = bench::cpu_seconds();
  try {
    watcher.for_each_notification(
        [&](const dhis2::Notification&) {
          ++r.rows;
          return true;
        },
        std::chrono::minutes(30));
  } catch (const dhis2::TaskCancelledError&) {
  }
  r.cpu_s = bench::cpu_seconds() - before;
  stopper.join();
  r.polls = feed_requests.load();
  r.requests = requests.load();
  return r;
}

Result run_floor(const std::string& url, const std::string& job_type, const std::string& uid, long polls,
                 const std::string& user, const std::string& password, bool parse, bool gzip) {
  httplib::Client http(url);
  http.set_keep_alive(true);
  http.set_basic_auth(user, password);
  httplib::Headers headers = {{"X-Requested-With", "XMLHttpRequest"}, {"Accept", "application/json"}};
  if (gzip) headers.emplace("Accept-Encoding", "gzip");
  const std::string path = "/api/system/tasks/" + job_type + "/" + uid;
  Result r;
  const double before = bench::cpu_seconds();
  for (long i = 0; i < polls; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the pause ours takes too
    auto response = http.Get(path, headers);
    if (!response || response->status != 200) {
      std::cerr << "bench-poll floor: GET " << path << " failed\n";
      std::exit(1);
    }
    r.body_bytes = static_cast<long>(response->body.size());
    ++r.requests;
    if (!parse) continue;
    const auto feed = nlohmann::json::parse(response->body);
    for (const auto& row : feed) {
      if (!row.at("id").get_ref<const std::string&>().empty()) ++r.rows;
    }
  }
  r.cpu_s = bench::cpu_seconds() - before;
  r.polls = polls;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "Usage: bench-poll ours|ours-identity|floor|floor-gzip|receive URL JOB_TYPE UID POLLS [USER:PASSWORD]\n";
  if (argc < 6 || argc > 7) {
    std::cerr << usage;
    return 2;
  }
  const std::string mode = argv[1];
  const std::string credentials = argc > 6 ? argv[6] : "admin:district";
  const auto colon = credentials.find(':');
  const long polls = std::atol(argv[5]);
  const bool ours = mode == "ours" || mode == "ours-identity";
  const bool floor = mode == "floor" || mode == "floor-gzip" || mode == "receive";
  if ((!ours && !floor) || polls < 1 || colon == std::string::npos) {
    std::cerr << usage;
    return 2;
  }
  const std::string user = credentials.substr(0, colon);
  const std::string password = credentials.substr(colon + 1);
  try {
    const Result r = ours ? run_ours(argv[2], argv[3], argv[4], polls, user, password, mode == "ours")
                          : run_floor(argv[2], argv[3], argv[4], polls, user, password, mode != "receive",
                                      mode == "floor-gzip");
    nlohmann::json out = {{"mode", mode},
                          {"polls", r.polls},
                          {"requests", r.requests},
                          {"rows", r.rows},
                          {"cpu_s", r.cpu_s},
                          {"cpu_per_poll_us", r.polls ? r.cpu_s * 1e6 / static_cast<double>(r.polls) : 0.0},
                          {"max_rss_kb", bench::peak_rss_kb()},
                          {"body_bytes", r.body_bytes}};
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench-poll " << mode << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
