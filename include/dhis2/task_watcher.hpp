#ifndef DHIS2_TASK_WATCHER_HPP
#define DHIS2_TASK_WATCHER_HPP

// dhis2::TaskWatcher: waits for one DHIS2 background job and says truthfully how it ended; and
// client.tasks(), its seed-style shortcut.
//
// It polls GET /api/system/tasks/{jobType}/{jobId} on an adaptive schedule, turns DHIS2's
// newest-first list into new notifications delivered once each, oldest first (de-duplicated by id
// where ids are unique, by content on 2.38-2.40.7 where every id is the job id; tolerant of LOOP
// rows being replaced, of rows dropped by the 500-row cap, and of a previous run's rows), and
// decides the end: a completed row (then the task summary where the type writes one), DHIS2's
// one-shot synthetic completion for a dead job, the job row when the feed stays empty or stops
// moving (2.41+), or the deadline. See docs/tasks.md.
//
// Thread safety: wait() and for_each_notification() run on the calling thread, one at a time per
// watcher; cancel() may be called from any thread and makes them throw TaskCancelledError within
// milliseconds when they are between polls (an HTTP request in flight finishes first).

#include <dhis2/client.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/task_types.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

namespace detail {

// The job types whose task summary carries the outcome (dhis2-wire.md §1.7).
inline bool has_task_summary(const std::string& type) {
  return type == "DATAVALUE_IMPORT" || type == "COMPLETE_DATA_SET_REGISTRATION_IMPORT" || type == "METADATA_IMPORT" ||
         type == "TRACKER_IMPORT_JOB" || type == "PREDICTOR" || type == "GEOJSON_IMPORT" ||
         type == "AGGREGATE_DATA_EXCHANGE" || type == "GML_IMPORT";
}

// Types that run several processes, each ending in a completed row (§1.5).
inline bool has_several_processes(const std::string& type) { return type == "META_DATA_SYNC"; }

// The outcome a summary's status means: ImportSummary SUCCESS/WARNING/ERROR, ImportReport
// OK/WARNING/ERROR, PredictionSummary SUCCESS/ERROR. Empty when it says nothing known.
inline std::optional<TaskOutcome> outcome_of_summary(const nlohmann::json& summary) {
  if (!summary.is_object()) return std::nullopt;
  const auto it = summary.find("status");
  if (it == summary.end() || !it->is_string()) return std::nullopt;
  const std::string status = it->get<std::string>();
  if (status == "ERROR") return TaskOutcome::Failed;
  if (status == "OK" || status == "SUCCESS" || status == "WARNING") return TaskOutcome::Succeeded;
  return std::nullopt;
}

// "Import complete with status ERROR, ..." as written by the import jobs (§1.5).
inline std::optional<TaskOutcome> outcome_of_message(const std::string& message) {
  const std::string marker = "with status ";
  const auto at = message.find(marker);
  if (at == std::string::npos) return std::nullopt;
  const std::string rest = message.substr(at + marker.size());
  if (rest.rfind("ERROR", 0) == 0) return TaskOutcome::Failed;
  if (rest.rfind("OK", 0) == 0 || rest.rfind("SUCCESS", 0) == 0 || rest.rfind("WARNING", 0) == 0) {
    return TaskOutcome::Succeeded;
  }
  return std::nullopt;
}

}  // namespace detail

class TaskWatcher {
 public:
  using Callback = std::function<bool(const Notification&)>;

  TaskWatcher(Client& client, TaskRef ref, WatchOptions options = {})
      : client_(client), ref_(std::move(ref)), options_(std::move(options)) {
    if (ref_.job_type.empty() || ref_.uid.empty()) throw UsageError("TaskWatcher: the task reference is empty");
    if (options_.poll_interval.count() <= 0 || options_.initial_poll_interval.count() <= 0) {
      throw UsageError("WatchOptions: poll intervals must be positive");
    }
    if (options_.start_grace.count() < 0 || options_.summary_wait.count() < 0) {
      throw UsageError("WatchOptions: start_grace and summary_wait must not be negative");
    }
    if (options_.stall_timeout && options_.stall_timeout->count() <= 0) {
      throw UsageError("WatchOptions: stall_timeout must be positive when set");
    }
  }

  const TaskRef& ref() const noexcept { return ref_; }

  // Blocks until the job ends and returns how it ended. An empty timeout waits without a
  // deadline (hours-long analytics runs). Throws TaskTimeoutError (deadline or stall),
  // TaskCancelledError (cancel()), and the Client's errors that are not transient
  // (AuthenticationError, a 4xx ApiError such as an unknown job type).
  TaskCompletion wait(std::optional<std::chrono::milliseconds> timeout) {
    auto result = run(nullptr, timeout);
    return std::move(*result);
  }

  // As wait(), and calls `callback` with each new notification once, oldest first. Returns the
  // completion, or an empty optional when the callback returned false to stop early.
  std::optional<TaskCompletion> for_each_notification(Callback callback,
                                                      std::optional<std::chrono::milliseconds> timeout) {
    if (!callback) throw UsageError("TaskWatcher::for_each_notification: the callback is empty");
    return run(&callback, timeout);
  }

  // Makes a blocked wait() or for_each_notification() throw TaskCancelledError, and every later
  // one too (a cancelled watcher stays cancelled). The job on the server is untouched: use
  // client.jobs().cancel(ref) for that.
  void cancel() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  using steady = std::chrono::steady_clock;

  struct JobRow {
    bool found = false;
    std::string job_status;
    std::string last_status;
    bool over() const {
      return found && job_status != "RUNNING" &&
             (last_status == "COMPLETED" || last_status == "FAILED" || last_status == "STOPPED");
    }
  };

  struct Run {
    std::vector<Notification> delivered;   // oldest first
    std::set<std::string> keys;            // keys of delivered rows
    std::map<std::string, bool> completed_by_id;
    steady::time_point started;
    steady::time_point last_progress;      // the last new row (or the start)
    steady::time_point last_row_check;     // the last time the job row was asked
    std::optional<steady::time_point> deadline;
    std::optional<LocalTime> not_before;   // rows older than this are a previous run's
    bool content_keys = false;             // ids cannot tell rows apart on this server
  };

  std::optional<TaskCompletion> run(const Callback* callback, std::optional<std::chrono::milliseconds> timeout) {
    if (timeout && timeout->count() < 0) throw UsageError("TaskWatcher: the timeout must not be negative");
    Run r;
    r.started = r.last_progress = r.last_row_check = steady::now();
    if (timeout) r.deadline = r.started + *timeout;
    r.not_before = options_.not_before ? options_.not_before : client_.kickoff_time(ref_);
    const auto version = known_version();
    r.content_keys = !version || *version < ServerVersion{2, 40, 8, 0, true};

    auto interval = options_.initial_poll_interval;
    while (true) {
      throw_if_cancelled();
      if (auto rows = poll_feed()) {
        std::vector<Notification> fresh;
        const auto synthetic = absorb(r, std::move(*rows), fresh);
        for (const auto& n : fresh) {
          if (callback && !(*callback)(n)) return std::nullopt;
        }
        if (synthetic) return finish_synthetic(r, *synthetic);
        for (const auto& n : fresh) {
          if (!n.completed) continue;
          if (detail::has_several_processes(ref_.job_type) && !job_row_says_over(r)) continue;
          return finish_completed(r, n);
        }
        if (!fresh.empty()) r.last_progress = steady::now();
      }
      if (auto done = check_job_row_if_quiet(r)) return done;
      const auto now = steady::now();
      if (options_.stall_timeout && now - r.last_progress >= *options_.stall_timeout) {
        throw TaskTimeoutError(describe_stall(r), true);
      }
      if (r.deadline && now >= *r.deadline) throw TaskTimeoutError(describe_deadline(r, *timeout), false);
      auto pause = interval;
      if (r.deadline) pause = std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(*r.deadline - now));
      sleep(std::max(pause, std::chrono::milliseconds(0)));
      interval = std::min(options_.poll_interval, interval + interval / 2);
    }
  }

  // ---- polling -------------------------------------------------------------------------------

  // The feed, newest first; empty optional after a transient failure (retried at the next poll).
  std::optional<std::vector<Notification>> poll_feed() {
    try {
      const auto body = client_.get_raw("system/tasks/" + ref_.job_type + "/" + ref_.uid);
      if (body.is_null()) return std::vector<Notification>{};
      return notifications_from_json(body, "tasks/" + ref_.job_type + "/" + ref_.uid);
    } catch (const TransportError&) {
      return std::nullopt;
    } catch (const ApiError& e) {
      if (e.status() >= 500 || e.status() == 429) return std::nullopt;
      throw;
    } catch (const DecodeError&) {
      throw;
    } catch (const UnexpectedResponseError&) {
      return std::nullopt;  // a proxy's page instead of the feed
    }
  }

  std::string key_of(const Notification& n, std::map<std::string, int>& occurrences, bool content) const {
    if (!content) return n.id;
    std::string key = n.time + '|' + n.level_name + '|' + (n.message ? *n.message : "\x01") + '|' + (n.completed ? "1" : "0");
    const int index = occurrences[key]++;
    return key + '#' + std::to_string(index);
  }

  // Takes one poll's rows, puts the new ones in `fresh` (oldest first) and records them. Returns
  // the synthetic completion row when the stale rule answered instead of the job.
  std::optional<Notification> absorb(Run& r, std::vector<Notification> newest_first, std::vector<Notification>& fresh) {
    std::vector<Notification> rows(newest_first.rbegin(), newest_first.rend());
    if (r.not_before) {
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [&r](const Notification& n) {
                                  const auto t = n.parsed_time();
                                  return t && *t < *r.not_before;
                                }),
                 rows.end());
    }
    if (rows.empty()) return std::nullopt;
    // Every id equal to the job id: 2.38-2.40.7 in-memory jobs, whatever the version said.
    if (!r.content_keys && std::all_of(rows.begin(), rows.end(), [this](const Notification& n) { return n.id == ref_.uid; })) {
      r.content_keys = true;
    }
    const Notification& newest = rows.back();
    if (!r.content_keys && newest.completed) {
      // The stale rule copies the last real row and marks it completed (§1.6): a row we saw
      // before as not completed comes back completed.
      const auto seen = r.completed_by_id.find(newest.id);
      if (seen != r.completed_by_id.end() && !seen->second) return newest;
      // A lone completed row is one too: a real run writes its starting row first. Seen on the
      // first poll when the job ended (without its final row) before the wait began.
      if (rows.size() == 1 && r.delivered.size() != 1) return newest;
    }
    std::map<std::string, int> occurrences;
    for (const auto& n : rows) {
      const std::string key = key_of(n, occurrences, r.content_keys);
      if (!r.keys.insert(key).second) continue;
      r.completed_by_id[n.id] = n.completed;
      r.delivered.push_back(n);
      fresh.push_back(n);
    }
    return std::nullopt;
  }

  // ---- deciding the end ----------------------------------------------------------------------

  TaskCompletion completion(const Run& r, std::optional<Notification> terminal, TaskOutcome outcome, std::string reason,
                            nlohmann::json summary = nullptr) const {
    TaskCompletion c;
    c.ref = ref_;
    c.notifications = r.delivered;
    c.terminal = std::move(terminal);
    c.outcome = outcome;
    c.reason = std::move(reason);
    c.summary = std::move(summary);
    return c;
  }

  TaskCompletion finish_completed(const Run& r, const Notification& row) {
    nlohmann::json summary;
    if (options_.fetch_summary && detail::has_task_summary(ref_.job_type)) summary = read_summary();
    const std::string message = row.message ? *row.message : "";
    if (const auto by_summary = detail::outcome_of_summary(summary)) {
      return completion(r, row, *by_summary,
                        std::string("the task summary's status is ") + summary["status"].get<std::string>(), summary);
    }
    if (const auto by_message = detail::outcome_of_message(message)) {
      return completion(r, row, *by_message, "the final notification says \"" + message + "\"", summary);
    }
    if (row.level == NotificationLevel::Error) {
      if (client_.cancel_requested(ref_)) {
        return completion(r, row, TaskOutcome::Cancelled, "the job ended with an error after a cancel request", summary);
      }
      return completion(r, row, TaskOutcome::Failed, "the job ended with an ERROR notification", summary);
    }
    return completion(r, row, TaskOutcome::Succeeded, "the job reported completion", summary);
  }

  TaskCompletion finish_synthetic(const Run& r, const Notification& row) {
    const JobRow job = read_job_row();
    if (job.found && job.last_status == "STOPPED") {
      return completion(r, row, TaskOutcome::Cancelled, "the job was cancelled (its job row says STOPPED)");
    }
    if (job.found && job.last_status == "FAILED") {
      return completion(r, row, TaskOutcome::Failed, "the job stopped without a final notification and its job row says FAILED");
    }
    return completion(r, row, TaskOutcome::Unknown,
                      "the job stopped without a final notification: DHIS2 answered with a copy of its last row "
                      "(the stale-job rule), so how it ended is not known");
  }

  // When the feed is empty, or has not moved, for start_grace: ask the job row (2.41+) whether
  // the job is over. Before 2.41 API-started jobs have no row: only non-notifying data integrity
  // jobs can be confirmed, through their result endpoint.
  std::optional<TaskCompletion> check_job_row_if_quiet(Run& r) {
    const auto now = steady::now();
    const bool quiet = now - r.last_progress >= options_.start_grace && now - r.last_row_check >= options_.start_grace;
    if (!quiet) return std::nullopt;
    if (!r.delivered.empty() && r.delivered.back().completed) return std::nullopt;
    r.last_row_check = now;
    const auto version = known_version();
    if (version && *version >= ServerVersion{2, 41, 0, 0, true}) {
      const JobRow job = read_job_row();
      if (!job.found) {
        if (r.delivered.empty()) {
          return completion(r, std::nullopt, TaskOutcome::Unknown,
                            "the server has no notifications and no job row for this job (unknown id, or deleted)");
        }
        return std::nullopt;
      }
      if (!job.over()) return std::nullopt;
      const std::optional<Notification> last =
          r.delivered.empty() ? std::nullopt : std::optional<Notification>(r.delivered.back());
      if (job.last_status == "STOPPED") return completion(r, last, TaskOutcome::Cancelled, "the job row says STOPPED");
      if (job.last_status == "FAILED") return completion(r, last, TaskOutcome::Failed, "the job row says FAILED");
      nlohmann::json summary;
      if (options_.fetch_summary && detail::has_task_summary(ref_.job_type)) summary = read_summary();
      if (const auto by_summary = detail::outcome_of_summary(summary)) {
        return completion(r, last, *by_summary, "the job row says COMPLETED and the task summary's status is " +
                                                    summary["status"].get<std::string>(), summary);
      }
      return completion(r, last, TaskOutcome::Succeeded,
                        r.delivered.empty() ? "the job row says COMPLETED (this job type writes no notifications here)"
                                            : "the job row says COMPLETED (its final notification was lost)",
                        summary);
    }
    if (r.delivered.empty() && (ref_.job_type == "DATA_INTEGRITY" || ref_.job_type == "DATA_INTEGRITY_DETAILS")) {
      if (auto results = read_integrity_results(); results.is_object() && !results.empty()) {
        return completion(r, std::nullopt, TaskOutcome::Succeeded, "the data integrity results are available", results);
      }
    }
    return std::nullopt;
  }

  bool job_row_says_over(Run& r) {
    const auto version = known_version();
    if (!version || *version < ServerVersion{2, 41, 0, 0, true}) return false;
    r.last_row_check = steady::now();
    return read_job_row().over();
  }

  // ---- reads besides the feed ----------------------------------------------------------------

  JobRow read_job_row() {
    JobRow row;
    try {
      const auto body = client_.get_raw("jobConfigurations/" + ref_.uid,
                                        {{"fields", "jobStatus,lastExecutedStatus,lastFinished"}});
      if (!body.is_object()) return row;
      row.found = true;
      row.job_status = body.value("jobStatus", "");
      row.last_status = body.value("lastExecutedStatus", "");
    } catch (const ApiError& e) {
      if (e.status() != 404 && e.status() < 500) throw;
    } catch (const TransportError&) {
    } catch (const UnexpectedResponseError&) {
    }
    return row;
  }

  // The summary, waiting up to summary_wait while the body is empty (a data value import
  // writes it just after its last row).
  nlohmann::json read_summary() {
    const auto until = steady::now() + options_.summary_wait;
    auto pause = std::chrono::milliseconds(100);
    while (true) {
      try {
        const auto body = client_.get_raw("system/taskSummaries/" + ref_.job_type + "/" + ref_.uid);
        if (!body.is_null()) return body;
      } catch (const TransportError&) {
      } catch (const UnexpectedResponseError&) {
      } catch (const ApiError& e) {
        if (e.status() < 500 && e.status() != 429) throw;
      }
      if (steady::now() >= until) return nullptr;
      sleep(std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now())));
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
  }

  nlohmann::json read_integrity_results() {
    const bool details = ref_.job_type == "DATA_INTEGRITY_DETAILS";
    try {
      return client_.get_raw(details ? "dataIntegrity/details" : "dataIntegrity/summary", {{"timeout", "0"}});
    } catch (const Error&) {
      return nullptr;
    }
  }

  std::optional<ServerVersion> known_version() {
    try {
      return client_.server_version();
    } catch (const UsageError&) {
      return std::nullopt;  // skip_version_probe: behave as for an unknown version
    }
  }

  // ---- time, cancellation, messages ----------------------------------------------------------

  void sleep(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, d, [this] { return cancelled_; });
    if (cancelled_) throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
  }

  void throw_if_cancelled() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_) throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
  }

  std::string last_seen(const Run& r) const {
    if (r.delivered.empty()) return "no notification yet";
    const auto& n = r.delivered.back();
    return "last notification " + n.time + " " + n.level_name + " \"" + (n.message ? *n.message : "") + "\"";
  }

  static std::string human(std::chrono::milliseconds d) {
    const auto s = d.count() / 1000;
    if (s >= 3600) return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
    if (s >= 60) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    if (s >= 1) return std::to_string(s) + " s";
    return std::to_string(d.count()) + " ms";
  }

  std::string describe_deadline(const Run& r, std::chrono::milliseconds timeout) const {
    return "the job " + ref_.str() + " did not finish within " + human(timeout) + " (" + last_seen(r) +
           "); it may still be running on the server";
  }

  std::string describe_stall(const Run& r) const {
    return "the job " + ref_.str() + " stalled: no new notification for " + human(*options_.stall_timeout) + " (" +
           last_seen(r) + ")";
  }

  Client& client_;
  TaskRef ref_;
  WatchOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
};

// client.tasks(): the seed-style shortcut for waiting on a job. Thread-safe; a cheap handle that
// must not outlive its Client.
class TasksApi {
 public:
  explicit TasksApi(Client& client) : client_(client) {}

  // Waits for the job to end, polling every `poll_interval` at the most, for up to `timeout`
  // (empty: no deadline). See TaskWatcher::wait for what it throws.
  TaskCompletion await_completion(const TaskRef& ref,
                                  std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(600),
                                  std::chrono::milliseconds poll_interval = std::chrono::seconds(2)) {
    WatchOptions options;
    options.poll_interval = poll_interval;
    options.initial_poll_interval = std::min(options.initial_poll_interval, poll_interval);
    return TaskWatcher(client_, ref, options).wait(timeout);
  }

 private:
  Client& client_;
};

inline TasksApi Client::tasks() { return TasksApi(*this); }

}  // namespace dhis2

#endif  // DHIS2_TASK_WATCHER_HPP
