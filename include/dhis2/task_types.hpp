#ifndef DHIS2_TASK_TYPES_HPP
#define DHIS2_TASK_TYPES_HPP

// The values a wait for a DHIS2 background job works with: how to watch (WatchOptions) and what
// the wait found (TaskCompletion, whose outcome tells the truth rather than repeating the level of
// the last row). Plain values; thread-safe to copy and share.

#include <dhis2/detail/config.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_ref.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

enum class TaskOutcome {
  Succeeded,  // the job completed, and its summary (where the type has one) says so
  Failed,     // the job failed, crashed, or its summary reports an error
  Cancelled,  // the job was cancelled and stopped
  Unknown     // the job ended but the server no longer says how (e.g. DHIS2's stale-job rule)
};

const char* to_string(TaskOutcome outcome) noexcept;

struct WatchOptions {
  // The first poll comes at once; then the job is polled at fixed ages from its start, each
  // pause initial_poll_interval plus half its age, up to poll_interval (docs/tasks.md), so a
  // short job is seen to end soon and a long one costs about as many requests as steady polling.
  std::chrono::milliseconds poll_interval{2000};
  std::chrono::milliseconds initial_poll_interval{250};
  // How long an empty feed (or a feed without progress) is normal before the job row is asked
  // whether the job is over. On 2.41+ a job waits for the 20-second scheduler tick, longer when
  // another job of its type runs.
  std::chrono::milliseconds start_grace{60000};
  // When set, no new notification for this long ends the wait with TaskTimeoutError (stalled).
  std::optional<std::chrono::milliseconds> stall_timeout;
  // Read /api/system/taskSummaries after the last row, for the job types that write one.
  bool fetch_summary = true;
  // How long to wait for a summary that is written just after the last row (data value imports):
  // it is read again after 100 ms, 200 ms, ... up to 1 s apart. A background watch gives its
  // thread back between the reads.
  std::chrono::milliseconds summary_wait{5000};
  // Called on the waiting thread when the job's progress changed: the server's structured
  // progress on 2.41+ (read at most every progress_interval, and only when this is set), what the
  // rows say on older servers. An exception it throws ends the wait and is rethrown.
  std::function<void(const JobProgress&)> on_progress;
  // DHIS2 stores a running job's progress about every 10 s (dhis2-wire.md §3.3): reading it more
  // often only costs requests.
  std::chrono::milliseconds progress_interval{10000};
};

struct TaskCompletion {
  TaskRef ref;
  std::vector<Notification> notifications;  // every row seen, oldest first
  std::optional<Notification> terminal;     // the row that ended the wait, if a row did
  TaskOutcome outcome = TaskOutcome::Unknown;
  nlohmann::json summary;  // the task summary; null when none
  std::string rule;        // the rule that decided (watch_rules()), e.g. "job-row-stopped"
  std::string reason;      // how the outcome was decided, in words; ends with the rule's name
  // The job's progress at the end: the server's (2.41+) when the job did not succeed or progress
  // was asked for during the wait, else what the rows say. Empty when neither has anything.
  std::optional<JobProgress> progress;
  std::vector<std::string> errors;  // the stage, item and object errors the progress records

  bool ok() const noexcept { return outcome == TaskOutcome::Succeeded; }
  // The terminal row's level and message; Unknown and "" without one.
  NotificationLevel level() const noexcept { return terminal ? terminal->level : NotificationLevel::Unknown; }
  std::string message() const { return terminal && terminal->message ? *terminal->message : std::string(); }
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/task_types.ipp>
#endif

#endif  // DHIS2_TASK_TYPES_HPP
