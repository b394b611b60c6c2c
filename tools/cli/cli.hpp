// The `dhis2` command's parts (docs/cli.md): the settings a command line gives, what a failure
// means to a person and to a script (its exit code), the output in its three modes, and the
// commands. main.cpp parses the command line (CLI11) and calls a command.
#ifndef DHIS2_CLI_CLI_HPP
#define DHIS2_CLI_CLI_HPP

#include <dhis2/dhis2.hpp>

#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dhis2cli {

// Exit codes (DESIGN.md §5); 128 + the signal number when SIGINT or SIGTERM interrupted a command.
enum Exit : int {
  kSuccess = 0,
  kJobFailed = 1,  // the job failed or ended unknown; also an API error the server answered
  kUsage = 2,
  kTimedOut = 3,
  kNetwork = 4,  // network or TLS
  kAuth = 5,     // authentication or authorization
  kCancelled = 6,
  kNotDhis2 = 7,  // not a DHIS2 server, or an unsupported version
};

using Seconds = std::optional<double>;

// The global options, after the environment fallbacks.
struct Settings {
  std::string url, username, password, token, ca_cert;
  bool insecure = false;
  Seconds timeout;  // the HTTP timeout of each request
  bool json = false;
};

// A failure as the command reports it: one line for a person, a kind for scripts, an exit code.
struct Failure {
  int exit_code = kJobFailed;
  std::string kind;     // "usage", "timeout", "network", "tls", "authentication", "cancelled", ...
  std::string message;  // one line: the cause and what to do
};

// What an exception thrown by a command means. `url` names the server in messages.
Failure describe_failure(std::exception_ptr error, const std::string& url);

// A usage error of the command line, reported like the others.
class CliUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The handshake got an answer that no DHIS2 server gives (an HTML page, a 404 for
// /api/system/info): the URL is not a DHIS2 server's. After the handshake, such an answer is an
// UnexpectedResponseError of its own.
class NotDhis2Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A watch that got no answer from the server for WatchArgs::max_outage: the last failure's kind.
class ServerLostError : public dhis2::TransportError {
 public:
  using dhis2::TransportError::TransportError;
};

// SIGINT and SIGTERM: blocked in every thread (install() runs before any thread starts) and taken
// by one thread, which runs the action registered now (stop a watch, close the client). No
// signal handler runs, and the process's dispositions stay as they were.
class Interrupts {
 public:
  static Interrupts& install();
  static Interrupts& instance();

  // The signal that arrived, or 0.
  int signal() const noexcept { return signal_.load(); }

  // Runs `action` when a signal arrives (at once if one already did); the guard removes it.
  class Guard {
   public:
    explicit Guard(std::function<void()> action);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::uint64_t id_;
  };

  // Whether the live display hides the cursor now: a second signal, which ends the program at
  // once, shows it again.
  static std::atomic<bool>& cursor_hidden();

 private:
  Interrupts() = default;
  void run();

  std::atomic<int> signal_{0};
  std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> actions_;
};

// ---- output --------------------------------------------------------------------------------------

enum class Mode { Live, Plain, Json };

// The time left of a run, estimated from the stage times of the previous completed run of the same
// job type (the server's structured progress, 2.41+). Empty where the stages do not line up.
struct Estimate {
  std::chrono::milliseconds left{0};
  std::size_t stage_number = 0;  // 1-based, in the previous run's stages
  std::size_t stage_count = 0;
};

// `previous`: the previous run's progress; `stage`: the current stage's description and how long
// it has run. Only a previous run that succeeded, with every stage timed, is used.
std::optional<Estimate> estimate_left(const dhis2::JobProgress& previous, std::size_t stage_index_hint,
                                      const std::string& stage, std::chrono::milliseconds in_stage);

// Server text made safe for a terminal: newlines and tabs become spaces, other control
// characters (ESC among them) '?'.
std::string printable(const std::string& text);

// How long no request has got an answer from the server, and the last failure; empty while the
// server answers.
std::optional<std::pair<std::chrono::milliseconds, std::string>> current_outage();

// "0:42", "1:02:03".
std::string clock_text(std::chrono::milliseconds d);
// "0.3 s", "12.5 s", then as clock_text.
std::string duration_text(std::chrono::milliseconds d);

// What `watch` and `run` print: the live display on a terminal, plain lines when piped, JSON lines
// with --json. Diagnostics always go to stderr.
class Output {
 public:
  Output(Mode mode, bool color, std::ostream& out, std::ostream& err);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  Mode mode() const noexcept { return mode_; }
  bool json() const noexcept { return mode_ == Mode::Json; }
  std::ostream& out() noexcept { return out_; }
  std::ostream& err() noexcept { return err_; }

  // A JSON line on stdout.
  void json_line(const nlohmann::json& line);
  // A diagnostic on stderr ("dhis2: warning: ...").
  void warn(const std::string& message);

  // A job started by `run`.
  void started(const dhis2::TaskRef& ref, bool no_wait);

  // The watch of `ref` begins; `previous` is the previous run's progress, when the server has one.
  void watching(const dhis2::TaskRef& ref, std::optional<dhis2::JobProgress> previous);
  void notification(const dhis2::Notification& n);
  void progress(const dhis2::JobProgress& p);
  void completed(const dhis2::TaskCompletion& c);
  // The live display stops; `where_it_stood`: the watch ended before the job did (an error or an
  // interrupt), so one line keeps where the job stood.
  void stop_display(bool where_it_stood = false);

  void failure(const Failure& f);

 private:
  struct Live;  // the live display's state and its redraw thread

  void plain_completed(const dhis2::TaskCompletion& c);
  std::string paint(const std::string& text, const char* sgr) const;

  Mode mode_;
  bool color_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Live> live_;
  bool started_ = false;  // started() printed the job: watching() does not name it again
};

// The outcome's exit code.
int exit_code_of(dhis2::TaskOutcome outcome) noexcept;

// The lines of a completion a person reads after the outcome: the import counts, the first
// conflicts and errors.
std::vector<std::string> completion_details(const dhis2::TaskCompletion& c, std::size_t max_rows = 5);

// ---- commands ----------------------------------------------------------------------------------

// Without an answer from the server for this long, a watch gives up (exit 4).
constexpr double kDefaultMaxOutageSeconds = 300;

struct WatchArgs {
  std::string ref;     // JOB_TYPE/UID or a resume token
  std::string resume;  // --resume TOKEN
  Seconds timeout, poll;
  Seconds max_outage = kDefaultMaxOutageSeconds;
};

struct RunArgs {
  std::string what;  // analytics | resource-tables | monitoring | data-integrity
  std::optional<int> last_years;
  bool no_wait = false;
  Seconds timeout, poll;
  Seconds max_outage = kDefaultMaxOutageSeconds;
};

struct DemoArgs {
  double speed = 1;
  std::string version = "2.42.1";
  Seconds poll;
};

int cmd_info(const Settings& s, Output& out);
int cmd_watch(const Settings& s, const WatchArgs& a, Output& out);
int cmd_run(const Settings& s, const RunArgs& a, Output& out);
int cmd_cancel(const Settings& s, const std::string& ref, Output& out);
int cmd_revert(const Settings& s, const std::string& ref, Output& out);
int cmd_jobs(const Settings& s, Output& out);
int cmd_demo(const Settings& s, const DemoArgs& a, Output& out);

// A positive number of seconds as milliseconds; CliUsageError naming `option` otherwise.
std::optional<std::chrono::milliseconds> to_ms(const Seconds& s, const char* option);

}  // namespace dhis2cli

#endif  // DHIS2_CLI_CLI_HPP
