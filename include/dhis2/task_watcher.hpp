#ifndef DHIS2_TASK_WATCHER_HPP
#define DHIS2_TASK_WATCHER_HPP

// dhis2::TaskWatcher: waits for one DHIS2 background job and says truthfully how it ended; and
// client.tasks(), its seed-style shortcut.
//
// It polls GET /api/system/tasks/{jobType}/{jobId} on an adaptive schedule and turns DHIS2's
// newest-first list into new notifications delivered once each, oldest first: rows are known by
// id where ids are unique and by content on 2.38-2.40.7 (every id is the job id there); replaced
// LOOP rows, rows dropped by the caps and a previous run's rows are handled. After each poll the
// rule table of watch_rules.hpp decides whether the wait is over, asking the job row, the task
// summary and the server's structured progress only when a rule needs them. See docs/tasks.md.
//
// The watch carries its own state: the kick-off time comes with the TaskRef, and where the watch
// stands is in resume_token(), so another Client, thread or process can take over.
//
// Thread safety: wait() and for_each_notification() run on the calling thread, one at a time per
// watcher. cancel(), resume_token(), position() and progress() may be called from any thread;
// cancel() makes a blocked wait throw TaskCancelledError within milliseconds when it is between
// polls (an HTTP request in flight finishes first).

#include <dhis2/client.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/task_types.hpp>
#include <dhis2/watch_rules.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

namespace detail {

// 64-bit FNV-1a, as 16 hex digits: a row's key in a resume token, whatever the row's size.
inline std::string key_hash(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace detail

class TaskWatcher {
 public:
  using Callback = std::function<bool(const Notification&)>;

  // Watches `ref`. A ref from TaskRef::parse(token) of a watcher's resume token continues after
  // the last row that watcher delivered. Throws UsageError for an empty ref or invalid options.
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
    if (options_.progress_interval.count() <= 0) throw UsageError("WatchOptions: progress_interval must be positive");
    if (ref_.position) {
      position_ = *ref_.position;
      keys_decided_ = position_.delivered > 0;
      if (position_.delivered > 0) filter_ = Filter::Off;  // rows of this run were delivered: it has begun
    }
    ref_.position.reset();
  }

  // The reference without the position (see resume_token() for where the watch stands).
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
  // completion, or an empty optional when the callback returned false to stop early. When the
  // callback runs, resume_token() already counts its row as delivered.
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

  // Where the watch stands: after the last row delivered.
  WatchPosition position() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return position_;
  }

  // A resume token for this watch: TaskWatcher(client, TaskRef::parse(token)) in any process
  // delivers only the rows not delivered before and ends as this watch would have. A row counts
  // as delivered from the moment its callback starts: take the token inside the callback, after
  // handling the row, for exactly-once delivery across processes (a token taken on another thread
  // while a callback runs already counts that row).
  std::string resume_token() const {
    TaskRef ref = ref_;
    ref.position = position();
    return ref.resume_token();
  }

  // The job's progress now: the server's structured progress on 2.41+ (read at most every
  // WatchOptions::progress_interval; a cached copy in between), else (and when the server does not
  // let this user read it) what the rows delivered so far say. Does not throw for transient
  // failures: it then returns the last progress known.
  JobProgress progress() {
    progress_asked_ = true;
    return progress_now(false);
  }

 private:
  using steady = std::chrono::steady_clock;
  // The previous-run filter: deciding, setting a list aside, about to take the next list as this
  // run's, or off.
  enum class Filter { Pending, Active, Confirm, Off };

  // ---- the loop -------------------------------------------------------------------------------

  std::optional<TaskCompletion> run(const Callback* callback, std::optional<std::chrono::milliseconds> timeout) {
    if (timeout && timeout->count() < 0) throw UsageError("TaskWatcher: the timeout must not be negative");
    const auto started = steady::now();
    const std::optional<steady::time_point> deadline =
        timeout ? std::optional<steady::time_point>(started + *timeout) : std::nullopt;
    last_change_ = last_row_check_ = started;
    const Traits known = traits();
    {
      std::lock_guard<std::mutex> reading(progress_mutex_);  // progress() reads traits_ from other threads
      traits_ = known;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      delivered_this_wait_.clear();
    }

    auto interval = options_.initial_poll_interval;
    std::optional<Decided> swept;  // a decision taken on the job row's word, waiting for one more poll
    while (true) {
      throw_if_cancelled();
      detail::WatchFacts facts = round_facts();
      row_check_due_ = steady::now() - last_row_check_ >= options_.start_grace;
      if (auto rows = poll_feed()) {
        const std::vector<Fresh> fresh = absorb(std::move(*rows), facts);
        for (const auto& row : fresh) {
          record(row);
          if (callback && !(*callback)(row.row)) return std::nullopt;
        }
        if (!fresh.empty()) {
          last_change_ = steady::now();
          report_derived_progress();
        }
      }
      fill_feed_facts(facts);
      auto decision = detail::decide(facts);
      note_job_row(facts.row);
      const bool final = decision && !decision->second.keep_waiting;
      if (swept) {
        // The poll after a decision on the job row's word: a row it brought may decide instead.
        if (final) return finish(*decision->first, std::move(decision->second), facts.summary);
        return finish(*swept->rule, std::move(swept->verdict), swept->summary);
      }
      if (final) {
        // The job row was read after the feed, and the job may have written rows in between:
        // poll once more at once, so that every row it kept is delivered.
        if (facts.row.state != detail::JobRow::State::NotRead) {
          swept = Decided{decision->first, std::move(decision->second), facts.summary};
          continue;
        }
        return finish(*decision->first, std::move(decision->second), facts.summary);
      }
      report_server_progress();
      const auto now = steady::now();
      if (options_.stall_timeout && now - last_change_ >= *options_.stall_timeout) {
        throw TaskTimeoutError(describe_stall(), true);
      }
      if (deadline && now >= *deadline) throw TaskTimeoutError(describe_deadline(*timeout), false);
      auto pause = interval;
      if (deadline) pause = std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now));
      sleep(std::max(pause, std::chrono::milliseconds(0)));
      interval = std::min(options_.poll_interval, interval + std::max(interval / 2, std::chrono::milliseconds(1)));
    }
  }

  struct Decided {
    const WatchRule* rule;
    detail::Verdict verdict;
    detail::SummaryRead summary;
  };

  // What the server is known to do, from its version; Maybe where the version is unknown.
  struct Traits {
    std::optional<ServerVersion> version;
    detail::Tri unique_ids = detail::Tri::Maybe;  // §1.2: 2.40.8+
    detail::Tri stale_rule = detail::Tri::Maybe;  // §1.6: 2.41.1+
    detail::Tri ad_hoc_rows = detail::Tri::Maybe;  // §3.1: 2.41+
    detail::Tri progress = detail::Tri::Maybe;    // §3.3: 2.41+
  };
  Traits traits() {
    Traits t;
    t.version = client_.known_version();
    if (!t.version) return t;
    const auto at_least = [&t](int minor, int patch) {
      return *t.version >= ServerVersion{2, minor, patch, 0, true} ? detail::Tri::Yes : detail::Tri::No;
    };
    t.unique_ids = at_least(40, 8);
    t.stale_rule = at_least(41, 1);
    t.ad_hoc_rows = at_least(41, 0);
    t.progress = at_least(41, 0);
    return t;
  }

  detail::WatchFacts round_facts() {
    detail::WatchFacts f;
    f.job_type = ref_.job_type;
    f.kickoff = ref_.kickoff;
    f.fetch_summary = options_.fetch_summary;
    f.stale_rule = traits_.stale_rule;
    f.ad_hoc_rows = traits_.ad_hoc_rows;
    f.read_job_row = [this] { return read_job_row(); };
    f.read_summary = [this] { return read_summary(); };
    f.read_integrity = [this] { return read_integrity(); };
    f.read_running = [this] { return read_running(); };
    return f;
  }

  void fill_feed_facts(detail::WatchFacts& f) {
    const auto now = steady::now();
    f.end_row = end_row_;
    f.end_kind = end_kind_;
    f.rows_seen = position().delivered > 0;
    f.emptied = emptied_;
    f.seen_running = seen_running_;
    f.quiet = now - last_change_ >= options_.start_grace;
    f.row_check_due = row_check_due_;
  }

  // Remembers what a successful job-row read showed: that this run was seen running, and when
  // the row was last asked (the quiet check asks again start_grace later).
  void note_job_row(const detail::JobRow& row) {
    if (row.state == detail::JobRow::State::NotRead || row.state == detail::JobRow::State::Unavailable) return;
    last_row_check_ = steady::now();
    if (row.running() && (!ref_.kickoff || !row.last_executed || *row.last_executed >= *ref_.kickoff)) {
      seen_running_ = true;
    }
  }

  // ---- the feed --------------------------------------------------------------------------------

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
    } catch (const UnexpectedResponseError&) {
      return std::nullopt;  // a proxy's page, or a body of another shape, instead of the feed
    }
  }

  // Decides once, from the version or (when it is unknown) from the rows, how rows are known: by
  // id, or by content where every id is the job id (2.38-2.40.7, §1.2).
  void decide_keys(const std::vector<Notification>& oldest_first) {
    if (keys_decided_ || oldest_first.empty()) return;
    const bool all_job_id = std::all_of(oldest_first.begin(), oldest_first.end(),
                                        [this](const Notification& n) { return n.id.empty() || n.id == ref_.uid; });
    // A row id equal to the job id is the 2.38-2.40.7 signature: later ids never are.
    const bool any_job_id = std::any_of(oldest_first.begin(), oldest_first.end(),
                                        [this](const Notification& n) { return n.id == ref_.uid; });
    bool content = all_job_id && (oldest_first.size() > 1 || traits_.unique_ids != detail::Tri::Yes);
    if (traits_.unique_ids == detail::Tri::No) content = true;
    if (content && any_job_id && traits_.unique_ids == detail::Tri::Maybe) {
      // Every id is the job id: 2.38-2.40.7, which have neither unique ids nor the stale rule.
      std::lock_guard<std::mutex> reading(progress_mutex_);
      traits_.unique_ids = traits_.stale_rule = traits_.progress = detail::Tri::No;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    position_.content_keys = content;
    keys_decided_ = true;
  }

  // Every row's key, oldest first. Content keys leave out `completed`, so that DHIS2's stale copy
  // of a row (the same row marked completed) is recognised, and count equal rows in order.
  std::vector<std::string> keys_of(const std::vector<Notification>& oldest_first, bool content) const {
    std::vector<std::string> keys;
    keys.reserve(oldest_first.size());
    std::map<std::string, int> occurrences;
    for (const auto& n : oldest_first) {
      if (!content) {
        keys.push_back(detail::key_hash("id|" + n.id));
        continue;
      }
      const std::string base = n.time + '|' + n.level_name + '|' + (n.message ? "m" + *n.message : std::string("-"));
      keys.push_back(detail::key_hash(base + '#' + std::to_string(occurrences[base]++)));
    }
    return keys;
  }

  // The rows of this run: the previous-run filter. A saved job that runs again keeps its previous
  // run's list (ending in a completed row) until the new run starts and clears it (§1.5). The job
  // row decides, once, whether the first list seen is this run's: a job created by the kick-off
  // has had no earlier run; a queued one has not started. A list set aside stays aside until its
  // newest row changes (the new run wrote), or a later look at the job row says the run began or
  // ended; an empty answer (the stale rule's wipe, another cluster node) changes nothing. Row
  // times are not compared with the kick-off: clocks move and cluster nodes disagree (class 5).
  std::vector<Notification> this_run(std::vector<Notification> rows, detail::WatchFacts& facts) {
    if (filter_ == Filter::Off || rows.empty()) return rows;
    if (filter_ == Filter::Confirm) {
      filter_ = Filter::Off;  // polled after the job row said the run began or ended: this run's
      return rows;
    }
    const Notification& newest = rows.back();
    const std::string marker = newest.id + '|' + newest.time + '|' + newest.level_name + '|' +
                               newest.message.value_or("") + (newest.completed ? "|1" : "|0");
    if (filter_ == Filter::Active) {
      if (marker != previous_marker_) {
        filter_ = Filter::Off;  // the new run wrote: this list is its own
        return rows;
      }
      if (row_check_due_ && judge(facts.job_row(), newest) != Judged::Previous) filter_ = Filter::Confirm;
      return {};
    }
    if (!ref_.kickoff && !newest.completed) {
      filter_ = Filter::Off;  // a bare reference to a job that is running
      return rows;
    }
    previous_marker_ = marker;
    switch (judge(facts.job_row(), newest)) {
      case Judged::Undecided: return {};  // ask again at the next poll
      case Judged::Mine: filter_ = Filter::Off; return rows;
      case Judged::MineIfStill: filter_ = Filter::Confirm; return {};
      case Judged::Previous: filter_ = Filter::Active; return {};
    }
    return {};
  }

  // Mine: the job row says so by identity (no earlier run). MineIfStill: the job row, read after
  // the feed, says this run began or ended, so the list is its own if the next poll (which comes
  // after that read) still shows it, or shows the new run's.
  enum class Judged { Mine, MineIfStill, Previous, Undecided };
  // Whether a list whose newest row is `newest` is this run's, by the job row.
  Judged judge(const detail::JobRow& row, const Notification& newest) {
    note_job_row(row);
    switch (row.state) {
      case detail::JobRow::State::NotRead:
      case detail::JobRow::State::Unavailable:
        return Judged::Undecided;
      case detail::JobRow::State::Absent:
      case detail::JobRow::State::Unreadable:
        return Judged::Mine;  // no saved configuration: the id is not reused (or nothing to tell)
      case detail::JobRow::State::Present:
        break;
    }
    if (ref_.kickoff && row.created && *row.created >= *ref_.kickoff) return Judged::Mine;  // its only run
    if (row.queued()) return Judged::Previous;  // waiting to run: the list is the last run's
    if (row.running()) {
      if (!newest.completed) return Judged::MineIfStill;
      // A finished list while the job runs is the last run's, unless it is newer than this run's
      // start (2.41+ rows; <=2.40 rows, without lastFinished, show the previous run's lastExecuted).
      const auto t = newest.parsed_time();
      const bool started_before = row.last_finished && row.last_executed && t && *t >= *row.last_executed;
      return started_before ? Judged::MineIfStill : Judged::Previous;
    }
    if (!ref_.kickoff) return Judged::Mine;  // a bare reference: the job's latest run
    detail::WatchFacts probe;
    probe.kickoff = ref_.kickoff;
    probe.seen_running = seen_running_;
    return probe.row_end_is_this_run(row) ? Judged::MineIfStill : Judged::Previous;
  }

  struct Fresh {  // a row to deliver, its key, and whether it came alone (a possible stale copy)
    Notification row;
    std::string key;
    bool lone = false;
  };

  // Takes one poll's rows (newest first) and returns the new ones, oldest first. Notes the end
  // row (a completed row, DHIS2's stale copy, or a lone completed row that may be one) and
  // whether the feed emptied after rows were seen.
  std::vector<Fresh> absorb(std::vector<Notification> newest_first, detail::WatchFacts& facts) {
    std::vector<Notification> rows = this_run(std::vector<Notification>(newest_first.rbegin(), newest_first.rend()), facts);
    const WatchPosition pos = position();
    emptied_ = newest_first.empty() && pos.delivered > 0;
    if (rows.empty()) return {};
    decide_keys(rows);
    const bool content = position().content_keys;
    const std::vector<std::string> keys = keys_of(rows, content);

    // Everything after the newest row already delivered is new: after the anchor (the newest
    // non-LOOP row delivered) where it is still listed. When a cap evicted it, every row this
    // watcher has not delivered is new; a watcher resumed in a new process, which does not know
    // the earlier rows, takes those from the anchor's time on.
    std::size_t start = 0;
    std::optional<std::size_t> anchor;
    bool by_time = false;
    if (!pos.anchor.empty()) {
      for (std::size_t i = keys.size(); i-- > 0;) {
        if (keys[i] == pos.anchor) {
          anchor = i;
          break;
        }
      }
      if (anchor) start = *anchor + 1;
      by_time = !anchor && delivered_keys_.empty();
    }
    const auto after = by_time ? parse_local_time(pos.anchor_time) : std::nullopt;
    std::vector<Fresh> fresh;
    bool copy = false;
    if (anchor && rows[*anchor].completed && !pos.anchor_completed) copy = true;
    for (std::size_t i = start; i < rows.size(); ++i) {
      if (keys[i] == pos.loop || keys[i] == pos.anchor) {
        // A delivered row back, marked completed: DHIS2's stale copy (§1.6).
        if (rows[i].completed && (keys[i] == pos.loop || !pos.anchor_completed)) copy = true;
        continue;
      }
      if (delivered_keys_.count(keys[i]) != 0) continue;
      if (after) {
        const auto t = rows[i].parsed_time();
        if (t && *t < *after) continue;
      }
      fresh.push_back(Fresh{rows[i], keys[i], false});
    }
    if (copy && fresh.empty()) {
      end_row_ = rows.back();
      end_kind_ = detail::EndKind::StaleCopy;
      std::lock_guard<std::mutex> lock(mutex_);
      position_.stale_copy = true;
      return fresh;
    }
    if (fresh.empty() && anchor && *anchor + 1 == rows.size() && rows.back().completed && !end_row_) {
      // Resumed after the last row: the end is where the earlier watch stood.
      end_row_ = rows.back();
      end_kind_ = pos.stale_copy ? detail::EndKind::StaleCopy : detail::EndKind::Completed;
    }
    if (rows.size() == 1 && fresh.size() == 1 && traits_.stale_rule != detail::Tri::No) fresh.front().lone = true;
    return fresh;
  }

  // Delivers one row: the position moves past it, and the end row follows it, before the
  // callback sees it (a callback that throws leaves the watch where that row left it).
  void record(const Fresh& fresh) {
    const Notification& n = fresh.row;
    if (n.completed) {
      end_row_ = n;
      end_kind_ = fresh.lone ? detail::EndKind::MaybeStaleCopy : detail::EndKind::Completed;
    } else {
      end_row_.reset();
      end_kind_ = detail::EndKind::None;
    }
    delivered_keys_.insert(fresh.key);
    std::lock_guard<std::mutex> lock(mutex_);
    if (n.level == NotificationLevel::Loop) {
      position_.loop = fresh.key;
    } else {
      position_.anchor = fresh.key;
      position_.anchor_time = n.time;
      position_.anchor_completed = n.completed;
      position_.loop.clear();
    }
    position_.stale_copy = false;
    ++position_.delivered;
    delivered_this_wait_.push_back(n);
  }

  // ---- reads besides the feed ----------------------------------------------------------------

  detail::JobRow read_job_row() {
    using State = detail::JobRow::State;
    detail::JobRow row;
    try {
      const auto body =
          client_.get_raw("jobConfigurations/" + ref_.uid,
                          {{"fields", "jobStatus,lastExecutedStatus,lastExecuted,lastFinished,lastUpdated,created,"
                                      "schedulingType,enabled"}});
      if (!body.is_object()) {
        row.state = State::Unavailable;
        return row;
      }
      const auto text = [&body](const char* key) {
        const auto it = body.find(key);
        return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      const auto time = [&text](const char* key) { return parse_local_time(text(key)); };
      row.state = State::Present;
      row.job_status = text("jobStatus");
      row.last_status = text("lastExecutedStatus");
      row.scheduling_type = text("schedulingType");
      row.enabled = !body.contains("enabled") || !body["enabled"].is_boolean() || body["enabled"].get<bool>();
      row.created = time("created");
      row.last_updated = time("lastUpdated");
      row.last_executed = time("lastExecuted");
      row.last_finished = time("lastFinished");
    } catch (const ApiError& e) {
      // Only a 404 says the row is gone; a proxy's 408, 5xx or 429 says nothing about the job.
      row.state = e.status() == 404 ? State::Absent : e.status() == 403 ? State::Unreadable : State::Unavailable;
    } catch (const TransportError&) {
      row.state = State::Unavailable;
    } catch (const UnexpectedResponseError&) {
      row.state = State::Unavailable;  // a proxy's page
    }
    return row;
  }

  // The summary, waiting up to summary_wait while the body is empty or the read fails (a data
  // value import writes it just after its last row).
  detail::SummaryRead read_summary() {
    using State = detail::SummaryRead::State;
    const auto until = steady::now() + options_.summary_wait;
    auto pause = std::chrono::milliseconds(100);
    detail::SummaryRead read;
    while (true) {
      try {
        const auto body = client_.get_raw("system/taskSummaries/" + ref_.job_type + "/" + ref_.uid);
        if (!body.is_null()) return detail::SummaryRead{State::Present, body};
        read.state = State::Empty;
      } catch (const TransportError&) {
        read.state = State::Unavailable;
      } catch (const UnexpectedResponseError&) {
        read.state = State::Unavailable;
      } catch (const ApiError& e) {
        if (e.status() >= 500 || e.status() == 429) {
          read.state = State::Unavailable;
        } else if (e.status() == 404) {
          read.state = State::Empty;
        } else {
          throw;
        }
      }
      if (steady::now() >= until) return read;
      sleep(std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now())));
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
  }

  // <=2.40 data integrity results; only the checks that finished at or after the kick-off count
  // (the endpoint keeps an earlier run's results, class 8).
  detail::IntegrityRead read_integrity() {
    using State = detail::IntegrityRead::State;
    const bool details = ref_.job_type == "DATA_INTEGRITY_DETAILS";
    nlohmann::json body;
    try {
      body = client_.get_raw(details ? "dataIntegrity/details" : "dataIntegrity/summary", {{"timeout", "0"}});
    } catch (const ApiError&) {
      return detail::IntegrityRead{State::Unavailable, nullptr};
    } catch (const TransportError&) {
      return detail::IntegrityRead{State::Unavailable, nullptr};
    } catch (const UnexpectedResponseError&) {
      return detail::IntegrityRead{State::Unavailable, nullptr};
    }
    if (!body.is_object()) return detail::IntegrityRead{State::None, nullptr};
    nlohmann::json mine = nlohmann::json::object();
    for (const auto& item : body.items()) {
      const auto& check = item.value();
      const auto finished = check.is_object() && check.contains("finishedTime") && check["finishedTime"].is_string()
                                ? parse_local_time(check["finishedTime"].get<std::string>())
                                : std::nullopt;
      if (!ref_.kickoff || (finished && *finished >= *ref_.kickoff)) mine[item.key()] = check;
    }
    return detail::IntegrityRead{mine.empty() ? State::None : State::ThisRun, mine};
  }

  // Whether the server lists the job among its type's running ones (<=2.40: an array of processes
  // with jobId; 2.41+: a Progress object whose processes carry jobId, or an empty body).
  detail::RunningRead read_running() {
    using State = detail::RunningRead::State;
    nlohmann::json body;
    try {
      body = client_.get_raw("scheduling/running/" + ref_.job_type);
    } catch (const ApiError&) {
      return detail::RunningRead{State::Unavailable};
    } catch (const TransportError&) {
      return detail::RunningRead{State::Unavailable};
    } catch (const UnexpectedResponseError&) {
      return detail::RunningRead{State::Unavailable};
    }
    const nlohmann::json* processes = &body;
    if (body.is_object() && body.contains("sequence")) processes = &body["sequence"];
    if (!processes->is_array()) return detail::RunningRead{body.is_null() ? State::NotListed : State::Unavailable};
    for (const auto& p : *processes) {
      if (p.is_object() && p.value("jobId", std::string()) == ref_.uid) return detail::RunningRead{State::Listed};
    }
    return detail::RunningRead{State::NotListed};
  }

  // ---- progress --------------------------------------------------------------------------------

  // The server's progress (2.41+), or nullopt when it has none for us: no such endpoint, no access,
  // nothing recorded yet, or a transient failure.
  std::optional<JobProgress> read_server_progress() {
    try {
      const auto body = client_.get_raw("jobConfigurations/" + ref_.uid + "/progress");
      if (!body.is_object()) return std::nullopt;  // 200 with an empty body: nothing recorded yet
      return JobProgress::from_json(body, "progress");
    } catch (const ApiError& e) {
      if (e.status() == 403 || e.status() == 404 || e.status() == 400) progress_refused_ = true;
    } catch (const TransportError&) {
    } catch (const UnexpectedResponseError&) {  // a proxy's page, or a body of the wrong shape
    }
    return std::nullopt;
  }

  JobProgress derived_progress() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return JobProgress::from_notifications(delivered_this_wait_);
  }

  // The server's latest progress (read at most every progress_interval unless `fresh`); empty
  // where the server has none for us.
  // Another thread reading it meanwhile gets the cached copy: nobody waits on a request.
  std::optional<JobProgress> server_progress_now(bool fresh) {
    detail::Tri supported;
    {
      std::lock_guard<std::mutex> lock(progress_mutex_);
      const auto now = steady::now();
      const bool due = fresh || !progress_read_at_ || now - *progress_read_at_ >= options_.progress_interval;
      supported = traits_.progress;
      if (!due || progress_reading_ || supported == detail::Tri::No || progress_refused_) return cached_progress_locked();
      progress_reading_ = true;
      progress_read_at_ = now;
    }
    std::optional<JobProgress> read;
    try {
      read = read_server_progress();
    } catch (...) {
      std::lock_guard<std::mutex> lock(progress_mutex_);
      progress_reading_ = false;
      throw;
    }
    std::lock_guard<std::mutex> lock(progress_mutex_);
    progress_reading_ = false;
    if (read) server_progress_ = std::move(read);
    return cached_progress_locked();
  }

  std::optional<JobProgress> cached_progress_locked() const {
    if (server_progress_ && !server_progress_->empty()) return server_progress_;
    return std::nullopt;
  }

  // The server's progress where it has one, else what the rows say.
  JobProgress progress_now(bool fresh) {
    if (auto server = server_progress_now(fresh)) return std::move(*server);
    return derived_progress();
  }

  void report_derived_progress() {
    if (!options_.on_progress || (traits_.progress == detail::Tri::Yes && !progress_refused_)) return;
    JobProgress now = derived_progress();
    if (last_reported_ && *last_reported_ == now) return;
    last_reported_ = now;
    options_.on_progress(now);
  }

  // Servers with structured progress report only that one (not the rows' too, which would make
  // the callback flip between two views of the job).
  void report_server_progress() {
    if (!options_.on_progress || traits_.progress == detail::Tri::No || progress_refused_) return;
    auto now = server_progress_now(false);
    if (!now || (last_reported_ && *last_reported_ == *now)) return;
    last_reported_ = *now;
    options_.on_progress(*now);
  }

  // ---- the end -------------------------------------------------------------------------------

  TaskCompletion finish(const WatchRule& rule, detail::Verdict verdict, const detail::SummaryRead& summary) {
    TaskCompletion c;
    c.ref = ref_;
    c.notifications = delivered_this_wait_;
    if (end_row_) {
      c.terminal = end_row_;
    } else if (!delivered_this_wait_.empty()) {
      c.terminal = delivered_this_wait_.back();
    }
    c.outcome = verdict.outcome;
    c.rule = rule.name;
    c.reason = verdict.reason + " (rule " + rule.name + ")";
    c.summary = verdict.summary.is_null() && summary.state == detail::SummaryRead::State::Present
                    ? summary.value
                    : std::move(verdict.summary);
    // The stage and item errors of a job that did not succeed, where the server keeps them.
    const bool asked_for_progress = options_.on_progress || progress_asked_;
    JobProgress progress = verdict.outcome != TaskOutcome::Succeeded || asked_for_progress ? progress_now(true)
                                                                                            : derived_progress();
    if (!progress.empty()) {
      c.errors = progress.failures();
      c.progress = std::move(progress);
    }
    return c;
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

  std::string last_seen() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (delivered_this_wait_.empty()) return "no notification yet";
    const auto& n = delivered_this_wait_.back();
    return "last notification " + n.time + " " + n.level_name + " \"" + (n.message ? *n.message : "") + "\"";
  }

  static std::string human(std::chrono::milliseconds d) {
    const auto s = d.count() / 1000;
    if (s >= 3600) return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
    if (s >= 60) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    if (s >= 1) return std::to_string(s) + " s";
    return std::to_string(d.count()) + " ms";
  }

  std::string describe_deadline(std::chrono::milliseconds timeout) const {
    return "the job " + ref_.str() + " did not finish within " + human(timeout) + " (" + last_seen() +
           "); it may still be running on the server";
  }

  std::string describe_stall() const {
    return "the job " + ref_.str() + " stalled: no new notification for " + human(*options_.stall_timeout) + " (" +
           last_seen() + ")";
  }

  Client& client_;
  TaskRef ref_;
  WatchOptions options_;

  // Guarded by mutex_ (read by resume_token(), position() and progress() from other threads).
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  WatchPosition position_;
  std::vector<Notification> delivered_this_wait_;  // oldest first

  // The waiting thread's own state.
  Traits traits_;
  bool keys_decided_ = false;
  Filter filter_ = Filter::Pending;
  std::string previous_marker_;
  std::unordered_set<std::string> delivered_keys_;  // keys of every row this watcher delivered
  bool row_check_due_ = false;                      // this round may ask the job row for the quiet check
  std::optional<Notification> end_row_;
  detail::EndKind end_kind_ = detail::EndKind::None;
  bool emptied_ = false;
  bool seen_running_ = false;
  steady::time_point last_change_{};
  steady::time_point last_row_check_{};

  // Progress, guarded by progress_mutex_ (taken before mutex_, never after, and never held
  // across a request).
  std::mutex progress_mutex_;
  std::optional<steady::time_point> progress_read_at_;
  std::optional<JobProgress> server_progress_;
  bool progress_reading_ = false;
  std::atomic<bool> progress_refused_{false};  // no endpoint, or no access: stop asking
  std::atomic<bool> progress_asked_{false};    // progress() was called
  std::optional<JobProgress> last_reported_;   // the waiting thread's
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
