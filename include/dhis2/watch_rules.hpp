#ifndef DHIS2_WATCH_RULES_HPP
#define DHIS2_WATCH_RULES_HPP

// How a wait for a DHIS2 job ends: one ordered table of rules, in the spirit of the AWS SDK
// waiters' acceptors. After every poll the watcher gathers the evidence (the feed, and when a rule
// needs them the job row, the task summary and the version's traits) and takes the first rule
// that matches; its outcome ends the wait (or says to keep waiting) and its name is
// TaskCompletion::rule. Every way a wait can end is in detail::rule_table() (defined in
// <dhis2/impl/watch_rules.ipp>), in order; docs/tasks.md shows the same table. Facts are from
// ../shared/docs/dhis2-wire.md; section numbers are cited.
//
// The deadline, the stall timeout and TaskWatcher::cancel() end a wait with an exception; they
// are checked by the watcher after the rules and listed at the end of the table.

#include <dhis2/detail/config.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_types.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

// One rule as the documentation shows it.
struct WatchRule {
  const char* name;     // e.g. "job-row-stopped": TaskCompletion::rule
  const char* when;     // the evidence it needs
  const char* outcome;  // what it decides: an outcome, "keep waiting", or the exception thrown
};

namespace detail {

// The job types whose task summary carries the outcome (§1.7).
bool has_task_summary(const std::string& type);

// Types that run several processes, each ending in a completed row (§1.5).
bool has_several_processes(const std::string& type);

bool is_integrity_type(const std::string& type);

// The outcome a summary's status means: ImportSummary SUCCESS/WARNING/ERROR, ImportReport
// OK/WARNING/ERROR, PredictionSummary SUCCESS/ERROR. Empty when it says nothing known.
std::optional<TaskOutcome> outcome_of_summary(const nlohmann::json& summary);

// "Import complete with status ERROR, ..." as written by the import jobs (§1.5).
std::optional<TaskOutcome> outcome_of_message(const std::string& message);

// <=2.40 ends a cancelled job with failedProcess(CancellationException): "Process failed:
// java.util.concurrent.CancellationException" (JobProgress#getMessage, 2.40.0; §1.5).
bool says_cancelled(const std::string& message);

// What the server is known to do; Maybe where the version is unknown (skip_version_probe).
enum class Tri { No, Yes, Maybe };

// The job row (GET /api/jobConfigurations/{uid}, §3.1, §3.3) as the watcher read it.
struct JobRow {
  enum class State {
    NotRead,      // not asked this round
    Unavailable,  // the read failed in a way that says nothing about the job (5xx, 429, network, a proxy page)
    Absent,       // 404: there is no row (<=2.40 API-started jobs; ad-hoc rows 24 h after they finished)
    Unreadable,   // 403: the row exists but this user may not read it
    Present
  };
  State state = State::NotRead;
  std::string job_status;       // SCHEDULED | RUNNING | DISABLED
  std::string last_status;      // NOT_STARTED | COMPLETED | FAILED | STOPPED
  std::string scheduling_type;  // ONCE_ASAP while queued by execute (2.41+), CRON, FIXED_DELAY
  bool enabled = true;
  std::optional<LocalTime> created, last_updated, last_executed, last_finished;

  bool present() const noexcept { return state == State::Present; }
  bool running() const noexcept { return present() && job_status == "RUNNING"; }
  // Waiting to run: an ad-hoc job before its scheduler tick, or a saved one that /execute queued
  // (2.41+ tryExecuteNow: SCHEDULED and ONCE_ASAP; a cancelled one is disabled or back to CRON).
  bool queued() const noexcept;
  bool ended() const noexcept;
};

// The task summary as the watcher read it.
struct SummaryRead {
  enum class State { NotRead, Unavailable, Empty, Present };
  State state = State::NotRead;
  nlohmann::json value;
};

// Results of a <=2.40 data integrity run, read from /api/dataIntegrity/summary or /details.
struct IntegrityRead {
  enum class State { NotRead, Unavailable, None, ThisRun };
  State state = State::NotRead;
  nlohmann::json value;
};

// Whether /api/scheduling/running/{type} lists the job (its running processes carry jobId).
struct RunningRead {
  enum class State { NotRead, Unavailable, Listed, NotListed };
  State state = State::NotRead;
};

enum class EndKind {
  None,           // no completed row of this run yet
  Completed,      // a completed row (several, for META_DATA_SYNC: the newest)
  StaleCopy,      // a delivered row came back marked completed: DHIS2's stale-job copy (§1.6)
  MaybeStaleCopy  // a lone completed row on a server that may have the stale rule (2.41.1+)
};

// Everything the rules look at, for one round. The lazy reads run at most once per round, and
// only when a rule that matched so far needs them.
struct WatchFacts {
  // The job and the server.
  std::string job_type;
  std::optional<LocalTime> kickoff;
  bool fetch_summary = true;
  Tri stale_rule = Tri::Maybe;   // §1.6: 2.41.1+
  Tri ad_hoc_rows = Tri::Maybe;  // §3.1: API-started jobs have job rows on 2.41+
  // The feed.
  std::optional<Notification> end_row;  // the newest completed row of this run, or the stale copy
  EndKind end_kind = EndKind::None;
  bool rows_seen = false;      // rows of this run were delivered (now or before a resume)
  bool quiet = false;          // the feed brought nothing new for start_grace
  bool row_check_due = false;  // the job row was not asked for start_grace (the quiet check's pace)
  bool emptied = false;        // the feed answered [] after rows of this run were seen
  bool seen_running = false;   // the job row was seen RUNNING for this run
  // The lazy reads.
  std::function<JobRow()> read_job_row;
  std::function<SummaryRead()> read_summary;
  std::function<IntegrityRead()> read_integrity;
  std::function<RunningRead()> read_running;
  JobRow row;
  SummaryRead summary;
  IntegrityRead integrity;
  RunningRead running;

  bool copy() const noexcept { return end_kind == EndKind::StaleCopy || end_kind == EndKind::MaybeStaleCopy; }
  bool completed_row() const noexcept { return end_kind == EndKind::Completed; }
  // The rounds in which the job row is asked (§7, "Recommended wait algorithm"): to confirm a
  // possible stale copy, to see a several-process run end, when the feed emptied after rows,
  // and when the feed has been quiet for start_grace.
  bool asks_job_row() const noexcept;

  const JobRow& job_row();
  const SummaryRead& task_summary();
  const IntegrityRead& integrity_results();
  const RunningRead& running_list();

  // Whether the row's last end is this run's (§3.1 class 1: a re-executed saved job keeps its
  // previous run's COMPLETED and lastFinished until it runs again). Without a kick-off time the
  // row's latest end is the run watched.
  bool row_end_is_this_run(const JobRow& r) const;

  // "COMPLETED", "FAILED" or "STOPPED" when the job row was asked this round and says this run
  // ended so; empty otherwise.
  std::string run_end();

  // A completed run whose outcome lives in a task summary the watcher is to read.
  bool summary_decides();
};

// What a rule decides: an outcome, or to keep waiting.
struct Verdict {
  bool keep_waiting = false;
  TaskOutcome outcome = TaskOutcome::Unknown;
  std::string reason;
  nlohmann::json summary;
};

Verdict keep_waiting(std::string reason);
Verdict decided(TaskOutcome outcome, std::string reason, nlohmann::json summary = nullptr);

struct RuleLogic {
  WatchRule rule;
  std::optional<Verdict> (*match)(WatchFacts&);
};

std::string message_of(const WatchFacts& f);
std::string summary_status(const nlohmann::json& summary);

// The rules, in order. The first that matches decides.
const std::vector<RuleLogic>& rule_table();

// The first rule that matches, and its verdict.
std::optional<std::pair<const WatchRule*, Verdict>> decide(WatchFacts& facts);

}  // namespace detail

// The rule table as documentation: every rule in order, then the three ways a wait ends with an
// exception. docs/tasks.md shows the same list.
const std::vector<WatchRule>& watch_rules();

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/watch_rules.ipp>
#endif

#endif  // DHIS2_WATCH_RULES_HPP
