#ifndef DHIS2_TESTING_JOB_ENGINE_HPP
#define DHIS2_TESTING_JOB_ENGINE_HPP

// The emulator's DHIS2 job machinery, without HTTP: the scheduler (jobs start at once on
// 2.38-2.40, on the 20-second grid on 2.41+), job rows, cancellation and revert, the structured
// progress (2.41+), and the notifier store with the emulated version's rules (ids, LOOP
// replacement, caps, the asynchronous write queue, the stale rule). References are to
// ../shared/docs/dhis2-wire.md. Time is the emulator's Clock: every call first catches up with
// it, running every step that fell due, in order. Every time it writes is wall-clock time in the
// server's zone. Its parts: detail::IdGenerator, detail::NotificationStore, detail::Scheduler and
// detail::StepRunner, over the detail::Job records. Thread-safe: one mutex, mutex_, guards all of
// them, so that a catch-up is atomic across the parts.

#include <dhis2/detail/config.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/testing/clock.hpp>
#include <dhis2/testing/id_generator.hpp>
#include <dhis2/testing/job_record.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/notification_store.hpp>
#include <dhis2/testing/scheduler.hpp>
#include <dhis2/testing/step_runner.hpp>
#include <dhis2/testing/time_zone.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

// How the emulated cluster keeps time (dhis2-wire.md §1.2, §5.1).
struct EngineClock {
  ServerTimeZone time_zone;  // the JVM zone every written time is in
  // How far the clock of the node that runs jobs (and writes their notifications) is off the
  // clock of the node that answers kick-offs: a cluster's skew.
  std::chrono::milliseconds job_node_offset{0};
};

class JobEngine {
 public:
  static constexpr std::size_t kMaxMessagesPerJob = detail::NotificationStore::kMaxMessagesPerJob;  // §1.4
  static constexpr std::size_t kMaxJobsPerType = detail::NotificationStore::kMaxJobsPerType;        // §1.4
  static constexpr std::chrono::hours kMaxAge = detail::NotificationStore::kMaxAge;  // §1.4 notifierMaxAgeDays
  static constexpr std::chrono::seconds kSchedulerLoop = detail::Scheduler::kLoop;   // §2.3
  static constexpr std::chrono::minutes kRescheduleStaleAfter = detail::Scheduler::kRescheduleStaleAfter;  // §3.3
  static constexpr std::chrono::hours kAdHocRowsKept{24};                                                  // §1.6

  JobEngine(VersionProfile profile, Clock& clock, std::uint64_t seed = 20240520, EngineClock time = {});

  const VersionProfile& profile() const noexcept { return profile_; }
  const ServerTimeZone& time_zone() const noexcept { return time_.time_zone; }

  // A duration as DHIS2 writes one (Commons formatDurationHMS): "H:mm:ss.SSS".
  static std::string format_duration(std::chrono::milliseconds d);

  // A time as the server writes it: wall clock in its zone, "yyyy-MM-ddTHH:mm:ss.SSS".
  std::string format_time(SysTime t) const { return time_.time_zone.format(t); }

  // ---- scripts ---------------------------------------------------------------------------

  // The next job of `job_type` started by an API call runs `script` (one use each, in order).
  void script_next(const std::string& job_type, JobScript script);
  // Every later job of `job_type` runs `script` unless script_next() queued one.
  void set_default_script(const std::string& job_type, JobScript script);

  // The script queued by script_next() for `job_type`, taken (for kick-offs that build their own
  // script around it); empty when none is queued.
  std::optional<JobScript> take_next_script(const std::string& job_type);

  // The script a saved configuration runs from its next run on.
  void set_configuration_script(const std::string& uid, JobScript script);

  // ---- starting, executing, cancelling -------------------------------------------------------

  enum class SubmitStatus { Accepted, AlreadyRunning };
  struct Submitted {
    SubmitStatus status = SubmitStatus::Accepted;
    JobInfo job;
  };

  // A kick-off: creates an ad-hoc job and starts or queues it as the version does (§2.3).
  // `guard_running` applies the "already running" rule of 2.38-2.40 (silent drop or 409).
  Submitted submit(const std::string& job_type, nlohmann::json parameters, const std::string& user_id, bool guard_running,
                   std::optional<JobScript> script = std::nullopt);

  // A saved job configuration that /api/jobConfigurations/{uid}/execute can run.
  void add_job_configuration(const std::string& uid, const std::string& job_type, const std::string& name,
                             JobScript script, nlohmann::json parameters = nlohmann::json::object());

  enum class ExecuteStatus { Started, NotFound, AlreadyRunning, AlreadyRanOnce };
  // Runs a saved configuration now: at once on <=2.40, at the next scheduler tick on 2.41+,
  // later when a job of its type runs (one per type). Until the run starts its row keeps the
  // previous run's status and times, and the feed keeps the previous run's rows (§1.5, §3.1).
  ExecuteStatus execute(const std::string& uid);

  enum class CancelStatus { Requested, NotFound };
  // POST /api/jobConfigurations/{uid}/cancel (2.41+, §3.2): a queued job is reverted at once and
  // never writes a row; a running one is flagged, the flag is applied by the next housekeeping
  // run (every 20 s), and the job stops at its next stage or item, without a final row.
  CancelStatus cancel(const std::string& uid);

  enum class RevertStatus { Reverted, NotFound, NotRunning, StillAlive };
  // POST /api/jobConfigurations/{uid}/revert (2.41.1+): a job stuck in RUNNING is marked FAILED
  // and freed. 2.42+ refuses while the job was seen alive within the last minute.
  RevertStatus revert(const std::string& uid);

  // POST /api/scheduling/cancel/{type}: the last running job of that type (all versions).
  void cancel_type(const std::string& job_type);

  // ---- reads -------------------------------------------------------------------------------

  // GET /api/system/tasks/{type}/{id}: newest first. With `stale_rule` (2.41.1+, §1.6), a list
  // whose newest row is not completed while the job is not RUNNING is wiped (rows and summary)
  // and its newest row returned once, marked completed.
  std::vector<Notification> feed(const std::string& job_type, const std::string& uid, bool stale_rule);

  // GET /api/system/tasks/{type}: {jobId: [rows]}; gist trims each list to [newest, oldest].
  nlohmann::ordered_json overview(const std::string& job_type, bool gist);

  // GET /api/system/tasks: {type: {jobId: [rows]}}.
  nlohmann::ordered_json all(bool gist);

  // GET /api/system/taskSummaries/{type}/{id}: empty when there is none.
  std::optional<nlohmann::json> summary(const std::string& job_type, const std::string& uid);

  // GET /api/system/taskSummaries/{type}: {jobId: summary}, most recently set first.
  nlohmann::ordered_json summaries(const std::string& job_type);

  // DELETE /api/system/tasks[/{type}[/{id}]] (2.40.8+, §1.1). An empty type means every type.
  void clear_notifications(const std::string& job_type, const std::string& uid = {},
                           std::optional<std::size_t> max_count = std::nullopt,
                           std::optional<int> max_age_days = std::nullopt);

  // The job row, or empty when there is none: <=2.40 API-started jobs live in memory only, and
  // ad-hoc rows are deleted 24 h after they finish.
  std::optional<JobInfo> job_row(const std::string& uid);
  // The job rows GET /api/jobConfigurations lists, in the order they were created: every one, or
  // (with `uids`) those of these ids that have a row.
  std::vector<JobInfo> job_rows(const std::optional<std::vector<std::string>>& uids = std::nullopt);

  // Any job the emulator knows, in-memory ones included (for tests).
  std::optional<JobInfo> job(const std::string& uid);

  std::vector<JobInfo> jobs();

  // What GET /api/scheduling/running/{type} shows of a running job on 2.41+: its progress now.
  nlohmann::json live_progress(const std::string& uid);

  // Jobs of a type that are running now.
  std::vector<JobInfo> running(const std::string& job_type = {});

  // A run that ended, in any state (SUCCESS, ERROR, CANCELLED): its job, and the Progress it left
  // (§3.3) as of lastFinished.
  struct FinishedRun {
    JobInfo job;
    nlohmann::json progress;
  };

  // What GET /api/scheduling/completed[/{type}] shows (§3.1): for each job type (or `job_type`
  // only), the run that finished last (the latest lastFinished) among the jobs not RUNNING now,
  // ordered by type. Ad-hoc rows deleted 24 h after they finished are gone.
  std::vector<FinishedRun> last_finished_runs(const std::string& job_type = {});

  // The result the last finished job of a type left for its type's result endpoint (data
  // integrity), or null.
  nlohmann::json last_result(const std::string& job_type);

  // Runs everything that fell due by the clock's now.
  void catch_up();

  // The server restarts (FakeServer::take_down): what lives in memory is lost, what the database
  // holds stays. Every notification, summary and queued write goes (§1.4: nothing survives a
  // restart with the in-memory store); <=2.40 API-started jobs, which have no job row, are
  // forgotten; every other running job dies with the process: no more rows, its row stays RUNNING
  // with its last heartbeat until rescheduleStaleJobs marks it FAILED 10 minutes later (§3.3,
  // inferred for a restart). Queued rows (2.41+) stay queued and run once the scheduler ticks.
  void restart();

  // Whether `type` writes its progress to the notifier (§1.5 isUsingNotifications).
  static bool notifies_progress(const std::string& type);

 private:
  using Job = detail::Job;

  // tryStart: RUNNING, lastExecuted and lastAlive now, the previous progress cleared (§3.3).
  void start_locked(Job& job, SysTime t);

  // Queues the job; a continuous type's starts at once when none of its type runs.
  void enqueue_locked(Job& job, SysTime now);

  // Continuous types start at once, one at a time per type.
  void start_queued_continuous_locked(const std::string& type, SysTime now);

  void persist_progress_locked(Job& job, SysTime t);
  // The job's row as a reader sees it: its info, with the last progress snapshot's JSON.
  JobInfo row_locked(const Job& job) const;

  // The next moment something happens, or empty when nothing is pending.
  std::optional<SysTime> next_event_locked() const;

  SysTime catch_up_locked();

  // Does one thing that falls due at `t`: a queued row is stored, a run's row is committed, the
  // scheduler ticks, a job runs its next step or gets a progress snapshot. `horizon` is the time
  // the catch-up runs to.
  void process_event_locked(SysTime t, SysTime horizon);

  void request_cancel_locked(Job& job, SysTime now);

  // tryFinish (2.41+): the status, lastFinished now, lastAlive cleared, the scheduling type back
  // to CRON for a saved job; an ad-hoc job is DISABLED. <=2.40 (whenRunIsDone) sets SCHEDULED and
  // lastExecuted; a cancel is FAILED before 2.38.3/2.39.2 (§3.1).
  void finish_locked(Job& job, SysTime t, const char* status);

  // Data integrity results carry the time their check ran: finishedTime, and startTime from
  // 2.39.4 (DataIntegritySummary/Details).
  nlohmann::json stamped_result(nlohmann::json result, std::optional<SysTime> started, SysTime finished) const;

  static bool expired(const Job& job, SysTime now);

  Job* find_locked(const std::string& uid, SysTime now);

  Job& add_job_locked(Job job);

  // Puts the job in live_ when it is RUNNING or queued, and takes it out otherwise: called after
  // every change of either.
  void relist_locked(Job& job);

  JobScript take_script_locked(const std::string& type, const nlohmann::json& parameters);

  VersionProfile profile_;
  Clock& clock_;
  EngineClock time_;
  std::mutex mutex_;  // guards everything below, the parts included
  detail::IdGenerator ids_;
  detail::NotificationStore store_;
  detail::Scheduler scheduler_;
  detail::StepRunner runner_;
  detail::Jobs jobs_;
  detail::LiveJobs live_;  // the jobs of jobs_ that are RUNNING or queued
  std::map<std::string, std::deque<JobScript>> next_scripts_;
  std::map<std::string, JobScript> default_scripts_;
  std::map<std::string, nlohmann::json> results_;
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/job_engine.ipp>
#endif

#endif  // DHIS2_TESTING_JOB_ENGINE_HPP
