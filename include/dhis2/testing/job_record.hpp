#ifndef DHIS2_TESTING_JOB_RECORD_HPP
#define DHIS2_TESTING_JOB_RECORD_HPP

// A job as the emulator keeps it: the row the server shows (JobInfo, public), and inside the job
// engine the script it runs and the state of its current run (dhis2::testing::detail). References
// are to ../shared/docs/dhis2-wire.md. Plain values; the engine's parts share them under
// JobEngine::mutex_.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/progress_recorder.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

using SysTime = std::chrono::system_clock::time_point;

// A job as the server's job row (and the emulator's tests) see it.
struct JobInfo {
  std::string uid;
  std::string job_type;
  std::string name;
  bool ad_hoc = true;                                // started by an API call (ONCE_ASAP), not a saved configuration
  std::string job_status = "SCHEDULED";              // SCHEDULED | RUNNING | DISABLED
  std::string last_executed_status = "NOT_STARTED";  // NOT_STARTED | COMPLETED | FAILED | STOPPED
  // ONCE_ASAP for ad-hoc jobs, and for a saved one while /execute has it queued (2.41+, §3.1);
  // CRON otherwise.
  std::string scheduling_type = "ONCE_ASAP";
  std::string cron_expression;  // saved configurations only
  bool enabled = true;
  bool dropped = false;  // 2.38: a kick-off while one of its type ran; it never runs
  SysTime created;
  SysTime last_updated;
  std::optional<SysTime> last_executed;  // when the current or last run started
  std::optional<SysTime> last_finished;
  std::optional<SysTime> last_alive;
  std::optional<SysTime> finished_run_started;  // the start of the last run that ended (<=2.40 rows)
  nlohmann::json progress;                      // the persisted Progress (2.41+, §3.3); null before the first snapshot
  nlohmann::json parameters;
  std::string user_id;
};

namespace detail {

// A snapshot of a run's progress as the server stored it (§3.3): the recorder as it was at `at`.
// Its JSON, which JobInfo::progress shows, is made when something first reads it: a job of
// thousands of items is snapshotted every 10 s of its run, and most snapshots are never read.
struct PersistedProgress {
  SysTime at;
  ProgressRecorder tree;
  mutable std::optional<nlohmann::json> json;  // made on the first read, under the engine's lock
};

// The state of a job's current (or last) run.
struct Run {
  std::size_t next_step = 0;
  SysTime next_at;
  SysTime process_started;
  bool started_once = false;  // a StartProcess ran: later ones do not clear
  bool process_open = false;  // a process started and has not completed or failed
  bool failed = false;
  bool cancel_flag = false;                 // applied: stop at the next stage or item
  std::optional<SysTime> cancel_requested;  // 2.41+: waits for the housekeeping run
  std::optional<SysTime> died_at;
  std::optional<SysTime> finish_at;  // the steps are done; the row is committed then
  std::string finish_status;
  std::optional<SysTime> next_persist;  // 2.41+: the progress snapshot every 10 s (§3.3)
  ProgressRecorder progress;
  std::shared_ptr<const PersistedProgress> persisted;  // the last snapshot; null before the first
};

struct Job {
  JobInfo info;
  JobScript script;
  Run run;
  bool in_memory = false;  // <=2.40 API-started: no job row, ids equal the job id
  bool queued = false;
  SysTime queued_at;
  std::uint64_t order = 0;
};

// Every job the engine knows, by uid.
using Jobs = std::map<std::string, Job>;

// The jobs that are RUNNING or queued, by uid (the scheduler's whole world): a server that has
// run thousands of jobs steps the few that run without looking at the others.
using LiveJobs = std::map<std::string, Job*>;

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_JOB_RECORD_HPP
