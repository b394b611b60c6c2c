// The commands of `dhis2` (DESIGN.md §5, docs/cli.md).
#include "cli.hpp"

#include <dhis2/testing.hpp>

#include <cmath>
#include <iostream>

namespace dhis2cli {

using std::chrono::milliseconds;

std::optional<milliseconds> to_ms(const Seconds& s, const char* option) {
  if (!s) return std::nullopt;
  if (!std::isfinite(*s) || *s <= 0 || *s > 1e9) {
    throw CliUsageError(std::string(option) + ": expected a number of seconds greater than 0, got " + std::to_string(*s));
  }
  return milliseconds(static_cast<long long>(std::ceil(*s * 1000)));
}

namespace {

using steady = std::chrono::steady_clock;

// What this process's requests found: since when none got an answer (a transport failure, a 5xx
// or 429 after the retries), for a watch that must not wait forever on a server that went away.
// The library retries a watch's failed polls for ever; the command gives up after max_outage.
struct Health {
  std::mutex mutex;
  std::optional<steady::time_point> failing_since;
  std::string last_error;
  bool warned = false;
  // Set by follow(): what to do when the outage reaches `limit`, and whether to warn on stderr.
  std::function<void()> on_lost;
  std::optional<milliseconds> limit;
  bool warn = false;
};

Health& health() {
  static Health h;
  return h;
}

void note_request(const dhis2::RequestEvent& e) {
  Health& h = health();
  std::function<void()> lost;
  std::string warning;
  {
    std::lock_guard<std::mutex> lock(h.mutex);
    const bool failed = !e.error.empty() || e.status >= 500 || e.status == 429;
    if (!failed) {
      h.failing_since.reset();
      h.warned = false;
      return;
    }
    if (e.will_retry) return;  // the client tries again: not yet an outage
    const auto now = steady::now();
    if (!h.failing_since) h.failing_since = now;
    h.last_error = e.error.empty() ? "HTTP " + std::to_string(e.status) : e.error;
    const auto out_for = std::chrono::duration_cast<milliseconds>(now - *h.failing_since);
    if (h.warn && !h.warned && out_for >= std::chrono::seconds(30)) {
      h.warned = true;
      warning = "no answer from the server for " + clock_text(out_for) + " (" + h.last_error + "); still trying";
    }
    if (h.limit && out_for >= *h.limit && h.on_lost) lost = std::exchange(h.on_lost, nullptr);
  }
  if (!warning.empty()) std::cerr << "dhis2: warning: " << warning << "\n" << std::flush;
  if (lost) lost();
}

}  // namespace

std::optional<std::pair<milliseconds, std::string>> current_outage() {
  Health& h = health();
  std::lock_guard<std::mutex> lock(h.mutex);
  if (!h.failing_since) return std::nullopt;
  return std::make_pair(std::chrono::duration_cast<milliseconds>(steady::now() - *h.failing_since), h.last_error);
}

namespace {

dhis2::ClientOptions client_options(const Settings& s) {
  dhis2::ClientOptions o;
  if (const auto t = to_ms(s.timeout, "--timeout")) o.timeout = *t;
  o.verify_tls = !s.insecure;
  o.ca_cert_path = s.ca_cert;
  o.user_agent = std::string("dhis2-cli/") + DHIS2CPP_VERSION_STRING;
  o.on_request = note_request;
  return o;
}

dhis2::Client make_client(const Settings& s) {
  if (s.url.empty()) throw CliUsageError("no server given: pass --url URL or set DHIS2_URL");
  const dhis2::ClientOptions o = client_options(s);
  if (!s.token.empty()) {
    if (const auto problem = dhis2::pat_problem(s.token)) {
      throw dhis2::AuthenticationError(0, "the personal access token is not valid: " + *problem);
    }
    return dhis2::Client(s.url, dhis2::TokenAuth(s.token), o);
  }
  if (s.username.empty()) {
    throw CliUsageError(
        "no credentials given: pass --username and --password, or --token (or set DHIS2_USERNAME and "
        "DHIS2_PASSWORD, or DHIS2_TOKEN)");
  }
  return dhis2::Client(s.url, dhis2::BasicAuth{s.username, s.password}, o);
}

// The handshake. An answer no DHIS2 server gives (an HTML page, a 404 for /api/system/info) means
// the URL is not a DHIS2 server's.
void connect(dhis2::Client& client) {
  try {
    client.connect();
  } catch (const dhis2::ApiError& e) {
    if (e.status() == 404) throw NotDhis2Error(e.what());
    throw;
  } catch (const dhis2::UnexpectedResponseError& e) {
    throw NotDhis2Error(e.what());
  }
}

bool all_of(const std::string& text, bool (*ok)(char)) {
  for (char c : text) {
    if (!ok(c)) return false;
  }
  return true;
}

// A JOB_TYPE/UID or a resume token, with the usage error a person can act on. DHIS2 names job
// types in upper case (ANALYTICS_TABLE) and job ids with 11-character uids that start with a letter.
dhis2::TaskRef parse_ref(const std::string& text) {
  dhis2::TaskRef ref;
  try {
    ref = dhis2::TaskRef::parse(text);
  } catch (const dhis2::UsageError& e) {
    throw CliUsageError(e.what());
  }
  if (text.rfind("d2w1.", 0) == 0) return ref;  // a resume token: checked by its checksum
  const auto upper = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  const auto alnum = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!all_of(ref.job_type, upper)) {
    throw CliUsageError("invalid task reference \"" + text + "\": the job type is written in capitals, e.g. " +
                        "ANALYTICS_TABLE/BFa3jDsbtdO");
  }
  const char first = ref.uid.empty() ? '0' : ref.uid.front();
  if (ref.uid.size() != 11 || !all_of(ref.uid, alnum) || (first >= '0' && first <= '9')) {
    throw CliUsageError("invalid task reference \"" + text +
                        "\": a job id is 11 letters and digits starting with a letter, e.g. BFa3jDsbtdO");
  }
  return ref;
}

// The previous completed run of the job type's progress (2.41+), for the estimate; empty when the
// server has none or it cannot be read (the estimate is then left out, never guessed). Asked with
// a short timeout, and a signal stops it.
std::optional<dhis2::JobProgress> previous_run(dhis2::Client& client, const dhis2::TaskRef& ref) {
  const auto v = client.known_version();
  if (!v || *v < dhis2::ServerVersion::parse("2.41")) return std::nullopt;
  try {
    dhis2::RequestOptions o;
    o.retry = dhis2::RetryPolicy{};
    o.retry->max_attempts = 1;
    o.timeout = std::chrono::seconds(5);
    o.cancellation = dhis2::CancellationToken();
    Interrupts::Guard guard([token = *o.cancellation]() mutable { token.cancel(); });
    const auto response = client.get_response("scheduling/completed/" + ref.job_type, {}, o);
    if (response.status != 200 || response.body.empty()) return std::nullopt;
    auto p = dhis2::JobProgress::from_json(nlohmann::json::parse(response.body));
    const auto* process = p.current_process();
    if (!process || process->job_id == ref.uid) return std::nullopt;  // this very run, already over
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct Followed {
  int code = kSuccess;
  std::optional<dhis2::TaskCompletion> completion;  // empty when the watch stopped before the end
};

// A watch that stopped before the job ended: one line with the way to resume it, and the JSON
// error line with the token.
int stopped(Output& out, const Failure& f, const std::string& token, bool resumable) {
  out.stop_display(true);
  std::string line = f.message;
  if (resumable) line += "; resume the watch with: dhis2 watch --resume " + token;
  out.err() << "dhis2: " << line << "\n" << std::flush;
  if (out.json()) {
    nlohmann::json j = {{"event", "error"}, {"kind", f.kind}, {"message", f.message}};
    if (resumable) j["resume_token"] = token;
    out.json_line(j);
  }
  return f.exit_code;
}

// Follows `ref` to its end on `out`; the exit code of its outcome. `resumable`: the server outlives
// this process (not so for the demo's), so a stopped watch says how to resume it.
Followed follow(dhis2::Client& client, const dhis2::TaskRef& ref, const std::optional<milliseconds>& timeout,
                const std::optional<milliseconds>& poll, const std::optional<milliseconds>& max_outage, Output& out,
                bool resumable = true) {
  dhis2::WatchOptions options;
  if (poll) {
    options.poll_interval = *poll;
    options.initial_poll_interval = std::min(options.initial_poll_interval, *poll);
  }
  options.on_progress = [&out](const dhis2::JobProgress& p) { out.progress(p); };
  dhis2::TaskWatcher watcher(client, ref, options);
  out.watching(ref, out.mode() == Mode::Live ? previous_run(client, ref) : std::nullopt);

  std::atomic<bool> lost{false};
  {
    Health& h = health();
    std::lock_guard<std::mutex> lock(h.mutex);
    h.limit = max_outage;
    h.warn = out.mode() != Mode::Live;  // the live display shows the outage itself
    h.on_lost = [&lost, &watcher] {
      lost = true;
      watcher.cancel();
    };
  }
  struct Unhook {
    ~Unhook() {
      std::lock_guard<std::mutex> lock(health().mutex);
      health().on_lost = nullptr;
    }
  } unhook;

  try {
    Interrupts::Guard guard([&watcher] { watcher.cancel(); });
    const auto done = watcher.for_each_notification(
        [&out](const dhis2::Notification& n) {
          out.notification(n);
          return true;
        },
        timeout);
    out.completed(*done);
    return {exit_code_of(done->outcome), *done};
  } catch (const dhis2::TaskTimeoutError& e) {
    return {stopped(out, Failure{kTimedOut, "timeout", e.what()}, watcher.resume_token(), resumable), std::nullopt};
  } catch (const dhis2::TaskCancelledError&) {
    if (lost) {
      std::string error;
      {
        std::lock_guard<std::mutex> lock(health().mutex);
        error = health().last_error;
      }
      const Failure f{kNetwork, "network",
                      "no answer from the server for " + clock_text(max_outage.value_or(milliseconds(0))) + " (" + error +
                          "); the job may still run there"};
      return {stopped(out, f, watcher.resume_token(), resumable), std::nullopt};
    }
    const int signal = Interrupts::instance().signal();
    if (signal == 0) throw;
    const Failure f{128 + signal, "interrupted",
                    "interrupted: stopped following " + ref.str() + "; the job goes on on the server"};
    return {stopped(out, f, watcher.resume_token(), resumable), std::nullopt};
  }
}

// Closes the client when a signal arrives, which interrupts its request in flight.
struct CloseOnSignal {
  explicit CloseOnSignal(dhis2::Client& client) : guard([&client] { client.close(); }) {}
  Interrupts::Guard guard;
};

std::string text_of(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

int cmd_info(const Settings& s, Output& out) {
  auto client = make_client(s);
  CloseOnSignal close(client);
  connect(client);
  const auto info = client.system().info();
  const auto me = client.system().me();
  std::string username = text_of(me, "username");
  if (username.empty() && me.contains("userCredentials")) username = text_of(me["userCredentials"], "username");
  const auto& authorities = me.contains("authorities") && me["authorities"].is_array() ? me["authorities"]
                                                                                       : nlohmann::json::array();
  const bool superuser = std::find(authorities.begin(), authorities.end(), "ALL") != authorities.end();
  if (out.json()) {
    // Only these fields of /api/system/info: for a superuser it also holds the database URL and
    // user, the JVM options (which may carry keystore passwords) and the like (dhis2-wire.md).
    nlohmann::json system = nlohmann::json::object();
    for (const char* key : {"version", "revision", "buildTime", "systemName", "serverDate", "serverTimeZoneId",
                            "contextPath", "instanceBaseUrl", "calendar", "dateFormat"}) {
      if (info.is_object() && info.contains(key)) system[key] = info[key];
    }
    out.json_line({{"event", "info"},
                   {"url", client.base_url()},
                   {"version", client.raw_version()},
                   {"system", system},
                   {"user",
                    {{"username", username},
                     {"name", text_of(me, "displayName")},
                     {"superuser", superuser},
                     {"authorities", authorities.size()}}}});
    return kSuccess;
  }
  auto& o = out.out();
  o << "server:      " << client.base_url() << "\n";
  o << "version:     " << client.raw_version();
  if (const auto rev = text_of(info, "revision"); !rev.empty()) o << " (revision " << rev << ")";
  o << "\n";
  if (const auto name = text_of(info, "systemName"); !name.empty()) o << "name:        " << name << "\n";
  if (const auto date = text_of(info, "serverDate"); !date.empty()) o << "server time: " << date << "\n";
  if (const auto zone = text_of(info, "serverTimeZoneId"); !zone.empty()) o << "time zone:   " << zone << "\n";
  o << "user:        " << username;
  if (const auto name = text_of(me, "displayName"); !name.empty()) o << " (" << name << ")";
  o << (superuser ? ", superuser" : ", " + std::to_string(authorities.size()) + " authorities") << "\n" << std::flush;
  return kSuccess;
}

int cmd_watch(const Settings& s, const WatchArgs& a, Output& out) {
  if (!a.ref.empty() && !a.resume.empty()) throw CliUsageError("watch: give JOB_TYPE/UID or --resume TOKEN, not both");
  if (a.ref.empty() && a.resume.empty()) throw CliUsageError("watch: give JOB_TYPE/UID or --resume TOKEN");
  const auto ref = parse_ref(a.ref.empty() ? a.resume : a.ref);
  const auto timeout = to_ms(a.timeout, "watch --timeout");
  const auto poll = to_ms(a.poll, "--poll");
  (void)to_ms(a.max_outage, "--max-outage");
  auto client = make_client(s);
  {
    CloseOnSignal close(client);
    connect(client);
  }
  return follow(client, ref, timeout, poll, to_ms(a.max_outage, "--max-outage"), out).code;
}

int cmd_run(const Settings& s, const RunArgs& a, Output& out) {
  const auto timeout = to_ms(a.timeout, "run --timeout");
  const auto poll = to_ms(a.poll, "--poll");
  const auto max_outage = to_ms(a.max_outage, "--max-outage");
  if (a.last_years && a.what != "analytics") throw CliUsageError("--last-years applies to analytics only");
  if (a.last_years && *a.last_years < 1) throw CliUsageError("--last-years: expected a number of years >= 1");
  auto client = make_client(s);
  dhis2::TaskRef ref;
  {
    CloseOnSignal close(client);
    connect(client);
    auto jobs = client.jobs();
    if (a.what == "analytics") {
      dhis2::AnalyticsOptions o;
      o.last_years = a.last_years;
      ref = jobs.start_analytics(o);
    } else if (a.what == "resource-tables") {
      ref = jobs.start_resource_tables();
    } else if (a.what == "monitoring") {
      ref = jobs.start_monitoring();
    } else if (a.what == "data-integrity") {
      ref = jobs.start_data_integrity();
    } else {
      throw CliUsageError("run: unknown job \"" + a.what +
                          "\"; expected analytics, resource-tables, monitoring or data-integrity");
    }
  }
  out.started(ref, a.no_wait);
  if (a.no_wait) return kSuccess;
  return follow(client, ref, timeout, poll, max_outage, out).code;
}

int cmd_cancel(const Settings& s, const std::string& text, Output& out) {
  const auto ref = parse_ref(text);
  auto client = make_client(s);
  CloseOnSignal close(client);
  connect(client);
  client.jobs().cancel(ref);
  if (out.json()) {
    out.json_line({{"event", "cancel-requested"}, {"ref", ref.str()}});
  } else {
    out.out() << "asked the server to cancel " << ref.str()
              << ". DHIS2 stops a job at its next stage, which can take tens of seconds; follow it with: dhis2 watch "
              << ref.str() << "\n"
              << std::flush;
  }
  return kSuccess;
}

int cmd_revert(const Settings& s, const std::string& text, Output& out) {
  const auto ref = parse_ref(text);
  auto client = make_client(s);
  CloseOnSignal close(client);
  connect(client);
  client.jobs().revert(ref);
  if (out.json()) {
    out.json_line({{"event", "reverted"}, {"ref", ref.str()}});
  } else {
    out.out() << "reverted " << ref.str() << ": DHIS2 marked the run FAILED, and jobs of its type can run again\n"
              << std::flush;
  }
  return kSuccess;
}

namespace {

// GET an overview ({TYPE: [ProcessInfo...]}); an empty object where the server has none.
nlohmann::json overview(dhis2::Client& client, const std::string& path) {
  const auto response = client.get_response(path);
  if (response.status == 404) return nlohmann::json::object();
  if (response.status >= 400) {
    // The typed error: the same request through the decoding path.
    return client.get_raw(path);
  }
  if (response.body.empty()) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(response.body);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    throw dhis2::UnexpectedResponseError("GET /api/" + path + " did not answer JSON", response.status);
  }
}

void print_overview(std::ostream& o, const char* title, const nlohmann::json& by_type) {
  o << title << ":";
  if (by_type.empty()) {
    o << " none\n";
    return;
  }
  o << "\n";
  for (const auto& [type, processes] : by_type.items()) {
    if (!processes.is_array()) continue;
    for (const auto& p : processes) {
      o << "  " << type << "/" << text_of(p, "jobId") << "  " << text_of(p, "status");
      const auto started = text_of(p, "startedTime"), completed = text_of(p, "completedTime");
      if (!completed.empty()) {
        o << "  finished " << completed;
      } else if (!started.empty()) {
        o << "  since " << started;
      }
      if (const auto d = text_of(p, "description"); !d.empty()) o << "  " << d;
      o << "\n";
      if (p.contains("stages") && p["stages"].is_array() && !p["stages"].empty() && p["stages"].back().is_string()) {
        o << "      stages: " << p["stages"].size() << ", the last: " << p["stages"].back().get<std::string>() << "\n";
      }
      if (const auto e = text_of(p, "error"); !e.empty()) o << "      error: " << e << "\n";
      if (const auto sm = text_of(p, "summary"); !sm.empty()) o << "      " << sm << "\n";
    }
  }
}

}  // namespace

int cmd_jobs(const Settings& s, Output& out) {
  auto client = make_client(s);
  CloseOnSignal close(client);
  connect(client);
  const auto running = overview(client, "scheduling/running");
  const auto completed = overview(client, "scheduling/completed");
  if (out.json()) {
    out.json_line({{"event", "jobs"}, {"running", running}, {"completed", completed}});
    return kSuccess;
  }
  print_overview(out.out(), "running now", running);
  print_overview(out.out(), "finished last (per job type)", completed);
  out.out() << std::flush;
  return kSuccess;
}

// ---- demo ----------------------------------------------------------------------------------------

namespace {

// The emulator's analytics table update (its stages and items as DHIS2 writes them), scaled to
// take `seconds` at real speed.
dhis2::testing::JobScript demo_script(double seconds) {
  auto script = dhis2::testing::JobScript::default_for("ANALYTICS_TABLE");
  return script.scale(seconds * 1000.0 / static_cast<double>(script.duration().count()));
}

void print_stage_summary(std::ostream& o, const dhis2::TaskCompletion& c) {
  if (!c.progress || !c.progress->current_process()) return;
  o << "  stages:\n";
  for (const auto& stage : c.progress->current_process()->stages) {
    std::optional<milliseconds> d;
    if (stage.duration_ms) d = milliseconds(*stage.duration_ms);
    const auto a = stage.parsed_started_time(), b = stage.parsed_completed_time();
    if (!d && a && b) d = std::chrono::duration_cast<milliseconds>(*b - *a);
    std::string time = d ? duration_text(*d) : std::string("?");
    time.insert(0, time.size() < 8 ? 8 - time.size() : 0, ' ');
    o << "  " << time << "  " << stage.description;
    if (stage.total_items > 0) o << " (" << stage.total_items << " items)";
    o << "\n";
  }
  o << std::flush;
}

}  // namespace

int cmd_demo(const Settings& s, const DemoArgs& a, Output& out) {
  if (!std::isfinite(a.speed) || a.speed <= 0 || a.speed > 1000) {
    throw CliUsageError("demo --speed: expected a number greater than 0 and at most 1000 (1 = real time)");
  }
  dhis2::testing::FakeServerOptions o;
  o.version = a.version;
  o.speed = 0;  // stands still while the previous run is played, then runs at --speed
  std::optional<dhis2::testing::FakeServer> server;
  try {
    (void)dhis2::testing::VersionProfile::of(a.version);
  } catch (const dhis2::UsageError& e) {
    throw CliUsageError(std::string("demo --version: ") + e.what());
  }
  server.emplace(o);

  // A previous run of the same job, played at once: what the estimate of the time left reads.
  server->start_job("ANALYTICS_TABLE", demo_script(22));
  server->advance(std::chrono::minutes(2));
  server->set_default_script("ANALYTICS_TABLE", demo_script(20));

  out.err() << "demo: DHIS2 " << server->profile().version_text << " emulated at " << server->url() << ", at " << a.speed
            << "x real time; starting an analytics table update\n"
            << std::flush;

  Settings settings = s;
  settings.url = server->url();
  settings.username = "admin";
  settings.password = "district";
  settings.token.clear();
  auto client = make_client(settings);
  dhis2::TaskRef ref;
  {
    CloseOnSignal close(client);
    connect(client);
    ref = client.jobs().start_analytics();
  }
  // 2.41+ starts a job at the scheduler's next 20-second tick: skip that wait.
  for (int i = 0; i < 40; ++i) {
    const auto job = server->job(ref.uid);
    if (!job || job->job_status == "RUNNING") break;
    server->advance(std::chrono::milliseconds(500));
  }
  server->clock().set_speed(a.speed);
  out.started(ref, false);

  // The watch, then for a person the stages with their times (the job's structured progress on
  // 2.41+, its rows before).
  const auto poll = to_ms(a.poll, "--poll").value_or(milliseconds(500));
  const auto followed = follow(client, ref, std::chrono::minutes(10), poll, std::chrono::minutes(1), out, false);
  if (followed.completion && !out.json()) print_stage_summary(out.out(), *followed.completion);
  server->stop();
  return followed.code;
}

}  // namespace dhis2cli
