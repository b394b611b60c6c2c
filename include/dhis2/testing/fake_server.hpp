#ifndef DHIS2_TESTING_FAKE_SERVER_HPP
#define DHIS2_TESTING_FAKE_SERVER_HPP

// dhis2::testing::FakeServer: an in-process DHIS2 on a loopback port, behaving as the chosen
// server version does on the wire (../shared/docs/dhis2-wire.md): system info, /me, ping, auth
// (Basic, personal access tokens with the real checksum rule, bearer tokens, the 401 and login
// redirect behaviours), job kick-offs and their envelopes, the notification feed, task summaries,
// job rows, cancellation, and the stale-job rule. Job timelines run on a clock the test drives.
//
// FakeServer itself is the HTTP server and the request pipeline: it records each request, applies
// the faults, and hands the rest to its parts (all in dhis2::testing::detail):
//   EmulatedApi    (emulated_api.hpp)   the route table and one handler per route
//   Authenticator  (authenticator.hpp)  Basic, ApiToken and Bearer, and the 401/302 replies
//   Reply & co.    (replies.hpp)        the replies and the JSON/WebMessage builders
//   RouteTable     (route_table.hpp)    method + "a/{name}/b" patterns -> handler, first match wins
//   connections    (connections.hpp)    the /proc/self/fd socket scan, connection numbers, SIGPIPE
//   JobEngine      (job_engine.hpp)     the jobs, the notifier and the clock's events
//
// Thread safety: every member function may be called from any thread while the server runs.
// The destructor stops the server and waits for its threads. Linux only (it closes accepted
// sockets through /proc/self/fd for the drop faults and a prompt stop). A client that hangs up
// cannot kill the process with SIGPIPE: the server's threads block SIGPIPE for themselves. The
// process's disposition of SIGPIPE stays as the host set it (httplib's server constructor sets
// SIG_IGN; the constructor puts it back).

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/clock.hpp>
#include <dhis2/testing/connections.hpp>
#include <dhis2/testing/emulated_api.hpp>
#include <dhis2/testing/fake_server_options.hpp>
#include <dhis2/testing/faults.hpp>
#include <dhis2/testing/job_engine.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/replies.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

class FakeServer {
 public:
  explicit FakeServer(FakeServerOptions options = {});

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  ~FakeServer();

  // Stops serving; idempotent. Open connections are closed.
  void stop();

  // ---- a restart ---------------------------------------------------------------------------

  // DHIS2 goes down as in a restart: the port stops listening (a connection is refused), every
  // open connection is closed, requests in flight get no answer, and what the server keeps in
  // memory is lost (JobEngine::restart: every notification and summary; <=2.40 API-started
  // jobs; running jobs die). Waits for the requests in flight. Idempotent.
  void take_down();
  // Listens again on the same port, with the same options, users and job configurations.
  void bring_up();
  // take_down(), `downtime` of real time, bring_up().
  void restart(std::chrono::milliseconds downtime = std::chrono::milliseconds(0));
  bool is_down() const;

  // "http://127.0.0.1:PORT" plus the context path; https with TLS.
  std::string url() const { return origin() + options_.context_path; }
  // "http://127.0.0.1:PORT", without the context path.
  std::string origin() const;
  int port() const noexcept { return port_; }
  const VersionProfile& profile() const noexcept { return profile_; }
  const FakeServerOptions& options() const noexcept { return options_; }
  // The version text /api/system/info reports.
  const std::string& reported_version() const noexcept { return api_.reported_version(); }

  // The emulated clock: advance it, or set its speed.
  Clock& clock() noexcept { return clock_; }
  // Moves the clock forward and runs every job step that falls due.
  void advance(std::chrono::milliseconds by);

  // ---- jobs ------------------------------------------------------------------------------------

  // The next job of `job_type` that a kick-off starts runs `script` (each script once, in order).
  void script_next(const std::string& job_type, JobScript script) { engine_.script_next(job_type, std::move(script)); }
  // Every later job of `job_type` runs `script` unless script_next() queued another.
  void set_default_script(const std::string& job_type, JobScript script) {
    engine_.set_default_script(job_type, std::move(script));
  }
  // Starts a job as a kick-off would, without HTTP; returns its id.
  std::string start_job(const std::string& job_type, JobScript script,
                        nlohmann::json parameters = nlohmann::json::object());
  // A saved job configuration, run by POST /api/jobConfigurations/{uid}/execute.
  void add_job_configuration(const std::string& uid, const std::string& job_type, JobScript script,
                             const std::string& name = {});
  // The script a saved configuration runs from its next run on.
  void set_configuration_script(const std::string& uid, JobScript script) {
    engine_.set_configuration_script(uid, std::move(script));
  }
  std::optional<JobInfo> job(const std::string& uid) { return engine_.job(uid); }
  // Routes the notifier's reads to the node that runs the jobs, to another one, or alternately.
  void set_notifier_node(NotifierNode node);
  std::vector<JobInfo> jobs() { return engine_.jobs(); }
  JobEngine& engine() noexcept { return engine_; }

  // ---- faults and the request log ------------------------------------------------------------

  void inject(FaultRule rule);
  void inject(const std::string& method, const std::string& path, Fault fault, int times = 1) {
    inject(FaultRule{method, path, std::move(fault), times});
  }
  void clear_faults();

  std::vector<RecordedRequest> requests() const;
  // The requests whose path (after the context path) matches `pattern` ('*' wildcards).
  std::vector<RecordedRequest> requests_to(const std::string& pattern, const std::string& method = {}) const;
  void clear_requests();
  // How many TCP connections the emulator has accepted so far.
  int connection_count() const;

 private:
  // No httplib type shows here: only the definitions (<dhis2/testing/impl/fake_server.ipp>)
  // include <httplib.h>, so that a compiled-mode user's files never compile it.
  struct Impl;      // the httplib server
  struct Request;   // refers to the httplib request being handled (converts from it)
  struct Response;  // refers to the httplib response being written

  static FakeServerOptions validated(FakeServerOptions o);
  static std::chrono::system_clock::time_point default_start();

  // ---- the request pipeline ------------------------------------------------------------------

  void handle(const Request& request, Response& response);
  // Records the request (its place in the log is `sequence`) and picks the fault that applies.
  std::optional<Fault> record_and_pick_fault(const Request& request, std::uint64_t& sequence);
  static detail::ApiRequest api_request(const Request& request);
  struct Written {
    std::size_t bytes = 0;
    bool compressed = false;
  };
  Written write(detail::Reply reply, bool drop_mid_body, const Request& request, Response& response) const;
  void note_response(std::uint64_t sequence, Written written);

  FakeServerOptions options_;
  VersionProfile profile_;
  Clock clock_;
  JobEngine engine_;
  detail::EmulatedApi api_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = -1;

  mutable std::mutex mutex_;  // faults, requests, connections
  std::vector<FaultRule> faults_;
  std::vector<RecordedRequest> requests_;
  std::uint64_t received_ = 0;        // requests numbered from 1
  std::uint64_t first_sequence_ = 1;  // requests_[i] is request number first_sequence_ + i
  detail::ConnectionLog connections_;

  void listen_in_thread();

  std::mutex lifecycle_mutex_;  // serializes stop(), take_down() and bring_up(); before stop_mutex_
  mutable std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  bool down_ = false;  // take_down() ran, bring_up() not yet
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/fake_server.ipp>
#endif

#endif  // DHIS2_TESTING_FAKE_SERVER_HPP
