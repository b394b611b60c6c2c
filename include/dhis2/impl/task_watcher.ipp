#ifndef DHIS2_IMPL_TASK_WATCHER_IPP
#define DHIS2_IMPL_TASK_WATCHER_IPP

// Definitions of <dhis2/task_watcher.hpp>.

#include <dhis2/task_watcher.hpp>

#include <dhis2/client.hpp>  // detail::core_of, defined with the Client
#include <dhis2/detail/feed_tail.hpp>
#include <dhis2/detail/http_date.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

namespace dhis2 {

namespace detail {

DHIS2CPP_INLINE std::string key_hash(const std::string& text) {
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

DHIS2CPP_INLINE TaskWatcher::TaskWatcher(Client& client, TaskRef ref, WatchOptions options)
    : TaskWatcher(detail::live_core_of(client, "TaskWatcher"), std::move(ref), std::move(options)) {}

DHIS2CPP_INLINE TaskWatcher::TaskWatcher(std::shared_ptr<detail::ClientCore> core, TaskRef ref, WatchOptions options)
    : core_(std::move(core)), ref_(std::move(ref)), options_(std::move(options)) {
  requests_.cancellation = cancel_token_;
  if (ref_.job_type.empty() || ref_.uid.empty()) throw UsageError("TaskWatcher: the task reference is empty");
  check_options(options_);
  if (ref_.position) {
    position_ = *ref_.position;
    keys_decided_ = position_.delivered > 0;
    if (position_.delivered > 0) filter_ = Filter::Off;  // rows of this run were delivered: it has begun
    resumed_ = position_.delivered > 0;
  }
  ref_.position.reset();
}

DHIS2CPP_INLINE void TaskWatcher::check_options(const WatchOptions& options) {
  if (options.poll_interval.count() <= 0 || options.initial_poll_interval.count() <= 0) {
    throw UsageError("WatchOptions: poll intervals must be positive");
  }
  if (options.start_grace.count() < 0 || options.summary_wait.count() < 0) {
    throw UsageError("WatchOptions: start_grace and summary_wait must not be negative");
  }
  if (options.stall_timeout && options.stall_timeout->count() <= 0) {
    throw UsageError("WatchOptions: stall_timeout must be positive when set");
  }
  if (options.progress_interval.count() <= 0) throw UsageError("WatchOptions: progress_interval must be positive");
}

DHIS2CPP_INLINE TaskCompletion TaskWatcher::wait(std::optional<std::chrono::milliseconds> timeout) {
  auto result = run(nullptr, timeout);
  return std::move(*result);
}

DHIS2CPP_INLINE std::optional<TaskCompletion> TaskWatcher::for_each_notification(
    Callback callback, std::optional<std::chrono::milliseconds> timeout) {
  if (!callback) throw UsageError("TaskWatcher::for_each_notification: the callback is empty");
  return run(&callback, timeout);
}

DHIS2CPP_INLINE void TaskWatcher::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
  cancel_token_.cancel();  // interrupts a request in flight
}

DHIS2CPP_INLINE nlohmann::json TaskWatcher::get(const std::string& path, const Query& query) {
  try {
    return core_->request_json("GET", path, {}, {}, query, &requests_);
  } catch (const CancelledError&) {
    throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
  }
}

DHIS2CPP_INLINE WatchPosition TaskWatcher::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return position_;
}

DHIS2CPP_INLINE std::string TaskWatcher::resume_token() const {
  TaskRef ref = ref_;
  ref.position = position();
  return ref.resume_token();
}

// TaskWatcher::start() is defined with the TaskManager, in task_manager.ipp.

DHIS2CPP_INLINE JobProgress TaskWatcher::progress() {
  progress_asked_ = true;
  return progress_now(false);
}

DHIS2CPP_INLINE std::optional<TaskCompletion> TaskWatcher::run(const Callback* callback,
                                                               std::optional<std::chrono::milliseconds> timeout) {
  begin(timeout);
  while (true) {
    Round r = round(callback);
    if (r.done) return std::move(r.completion);
    sleep(r.pause);
  }
}

DHIS2CPP_INLINE void TaskWatcher::begin(std::optional<std::chrono::milliseconds> timeout) {
  if (timeout && timeout->count() < 0) throw UsageError("TaskWatcher: the timeout must not be negative");
  const auto started = steady::now();
  pace_ = Pace{};
  feed_failures_ = 0;
  feed_failure_.clear();
  pace_.timeout = timeout;
  if (timeout) pace_.deadline = started + *timeout;
  pace_.begun = started;
  last_change_ = last_row_check_ = started;
  const Traits known = traits();
  if (!clock_seeded_) {
    // After traits(), which connects: the handshake read serverDate, the server's time to the
    // millisecond, before any Date header.
    if (const auto sample = core_->server_time_sample()) {
      server_clock_.observe(sample->utc, sample->sent, sample->received, std::chrono::milliseconds(1));
    }
    clock_seeded_ = true;
  }
  {
    std::lock_guard<std::mutex> reading(progress_mutex_);  // progress() reads traits_ from other threads
    traits_ = known;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    delivered_this_wait_.clear();
  }
  settled_.reset();
}

DHIS2CPP_INLINE TaskWatcher::Round TaskWatcher::round(const Callback* callback) {
  try {
    return round_once(callback);
  } catch (...) {
    tail_.reset();  // the wait ends with this error (finish() drops it on the other endings)
    throw;
  }
}

DHIS2CPP_INLINE TaskWatcher::Round TaskWatcher::round_once(const Callback* callback) {
  Round done;
  done.done = true;
  throw_if_cancelled();
  if (pace_.summary) return summary_round();
  detail::WatchFacts facts = round_facts();
  row_check_due_ = steady::now() - last_row_check_ >= options_.start_grace;
  if (auto rows = poll_feed()) {
    if (rows->empty() && !job_seen_) pace_.empty_sent = poll_sent_;
    const std::vector<Fresh> fresh = absorb(std::move(*rows), facts);
    if (!fresh.empty() && !job_seen_ && !resumed_) {
      // The first rows of this run: the oldest is the job's first. (A resumed watch delivers only
      // what it had not, so its first row is not the job's: it goes by the wait's age.)
      job_seen_ = JobSighting{fresh.front().row.parsed_time(), fresh.back().row.parsed_time(), pace_.empty_sent,
                              poll_received_};
    }
    for (const auto& row : fresh) {
      record(row);
      if (callback && !(*callback)(row.row)) return done;  // stopped early: no completion
    }
    if (!fresh.empty()) {
      last_change_ = steady::now();
      report_derived_progress();
    }
    // Every row of this body is delivered: the same body again brings nothing new. (Not while
    // the filter still weighs the list: the job row may yet make it this run's.)
    if (filter_ == Filter::Off) settled_ = polled_;
  }
  fill_feed_facts(facts);
  return decide_round(facts);
}

DHIS2CPP_INLINE TaskWatcher::Round TaskWatcher::summary_round() {
  // The feed brought the run's end; only the summary is read again (the reads hooked to the
  // facts are this round's, should the watcher have moved since).
  detail::WatchFacts facts = std::move(pace_.summary->facts);
  bind_reads(facts);
  facts.summary = detail::SummaryRead{};
  return decide_round(facts);
}

DHIS2CPP_INLINE TaskWatcher::Round TaskWatcher::decide_round(detail::WatchFacts& facts) {
  Round done;
  done.done = true;
  auto decision = detail::decide(facts);
  if (const auto pause = summary_retry(facts)) {
    Round again;
    again.pause = *pause;
    return again;
  }
  note_job_row(facts.row);
  const bool final = decision && !decision->second.keep_waiting;
  if (pace_.swept) {
    // The poll after a decision on the job row's word: a row it brought may decide instead.
    auto swept = std::move(*pace_.swept);
    pace_.swept.reset();
    done.completion = final ? finish(*decision->first, std::move(decision->second), facts.summary)
                            : finish(*swept.rule, std::move(swept.verdict), swept.summary);
    return done;
  }
  if (final) {
    // The job row was read after the feed, and the job may have written rows in between:
    // poll once more at once, so that every row it kept is delivered.
    if (facts.row.state != detail::JobRow::State::NotRead) {
      pace_.swept = Decided{decision->first, std::move(decision->second), facts.summary};
      return Round{};  // the next round at once
    }
    done.completion = finish(*decision->first, std::move(decision->second), facts.summary);
    return done;
  }
  report_server_progress();
  const auto now = steady::now();
  if (options_.stall_timeout && now - last_change_ >= *options_.stall_timeout) {
    throw TaskTimeoutError(describe_stall(), true);
  }
  if (pace_.deadline && now >= *pace_.deadline) throw TaskTimeoutError(describe_deadline(*pace_.timeout), false);
  auto pause = next_pause(now);
  if (pace_.deadline) {
    pause = std::min(pause, std::chrono::duration_cast<std::chrono::milliseconds>(*pace_.deadline - now));
  }
  Round next;
  next.pause = std::max(pause, std::chrono::milliseconds(0));
  return next;
}

DHIS2CPP_INLINE std::chrono::milliseconds TaskWatcher::next_pause(steady::time_point now) const {
  if (!job_seen_ && waits_for_tick()) return options_.poll_interval;
  auto started = pace_.begun;
  if (job_seen_) {
    started = detail::estimate_job_start(job_seen_->first_row, job_seen_->newest_row, server_clock_, job_seen_->after,
                                         job_seen_->before)
                  .value_or(pace_.begun);
  }
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
  return detail::pause_for_age(age, options_.initial_poll_interval, options_.poll_interval);
}

DHIS2CPP_INLINE bool TaskWatcher::waits_for_tick() const {
  if (traits_.ad_hoc_rows != detail::Tri::Yes) return false;
  // JobType#isUsingContinuousExecution: these start at once, one at a time per type.
  static constexpr const char* kContinuous[] = {"METADATA_IMPORT",        "TRACKER_IMPORT_JOB",     "DATA_INTEGRITY",
                                                "DATA_INTEGRITY_DETAILS", "SMS_INBOUND_PROCESSING", "GEOJSON_IMPORT"};
  for (const char* type : kContinuous) {
    if (ref_.job_type == type) return false;
  }
  return true;
}

DHIS2CPP_INLINE TaskWatcher::Traits TaskWatcher::traits() {
  Traits t;
  try {
    core_->ensure_connected(&requests_);  // cancel() interrupts the handshake too
  } catch (const CancelledError&) {
    throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
  }
  t.version = core_->known_version();
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

DHIS2CPP_INLINE detail::WatchFacts TaskWatcher::round_facts() {
  detail::WatchFacts f;
  f.job_type = ref_.job_type;
  f.kickoff = ref_.kickoff;
  f.fetch_summary = options_.fetch_summary;
  f.stale_rule = traits_.stale_rule;
  f.ad_hoc_rows = traits_.ad_hoc_rows;
  bind_reads(f);
  return f;
}

DHIS2CPP_INLINE void TaskWatcher::bind_reads(detail::WatchFacts& f) {
  f.read_job_row = [this] { return read_job_row(); };
  f.read_summary = [this] { return read_summary(); };
  f.read_integrity = [this] { return read_integrity(); };
  f.read_running = [this] { return read_running(); };
}

DHIS2CPP_INLINE void TaskWatcher::fill_feed_facts(detail::WatchFacts& f) {
  const auto now = steady::now();
  f.end_row = end_row_;
  f.end_kind = end_kind_;
  f.rows_seen = position().delivered > 0;
  f.emptied = emptied_;
  f.seen_running = seen_running_;
  f.quiet = now - last_change_ >= options_.start_grace;
  f.row_check_due = row_check_due_;
}

DHIS2CPP_INLINE void TaskWatcher::note_job_row(const detail::JobRow& row) {
  if (row.state == detail::JobRow::State::NotRead || row.state == detail::JobRow::State::Unavailable) return;
  last_row_check_ = steady::now();
  if (row.running() && (!ref_.kickoff || !row.last_executed || *row.last_executed >= *ref_.kickoff)) {
    seen_running_ = true;
  }
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> TaskWatcher::poll_feed() {
  try {
    auto rows = read_feed();
    feed_failures_ = 0;
    return rows;
  } catch (const TransportError& e) {
    return failed_read(e);
  } catch (const ApiError& e) {
    if (e.status() >= 500 || e.status() == 429) return failed_read(e);
    throw;
  } catch (const UnexpectedResponseError& e) {
    return failed_read(e);  // a proxy's page, or a body of another shape, instead of the feed
  }
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> TaskWatcher::failed_read(const Error& e) {
  ++feed_failures_;
  feed_failure_ = e.what();
  return std::nullopt;
}

DHIS2CPP_INLINE std::string TaskWatcher::feed_trouble() const {
  if (feed_failures_ == 0) return {};
  return feed_failures_ == 1
             ? "; the last read of the feed failed: " + feed_failure_
             : "; the last " + std::to_string(feed_failures_) + " reads of the feed failed, the latest: " + feed_failure_;
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> TaskWatcher::read_feed() {
  const std::string path = "system/tasks/" + ref_.job_type + "/" + ref_.uid;
  Response response;
  poll_sent_ = steady::now();
  try {
    response = core_->send("GET", path, {}, {}, {}, &requests_);
  } catch (const CancelledError&) {
    throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
  }
  poll_received_ = steady::now();
  if (const auto date = detail::parse_http_date(response.header("Date"))) {
    server_clock_.observe(*date, poll_sent_, poll_received_);
  }
  polled_.reset();
  if (response.status == 200) {
    const detail::BodyDigest digest = detail::body_digest(response.body);
    if (settled_ && *settled_ == digest && filter_ == Filter::Off) return std::nullopt;  // nothing new
    polled_ = digest;
    if (auto newer = down_to_anchor(response)) {
      settled_.reset();
      return newer;
    }
    if (auto rows = through_known_tail(response)) {
      settled_.reset();
      return rows;
    }
  }
  settled_.reset();
  const auto body = core_->interpret(response, "GET", path);
  if (body.is_null()) return std::vector<Notification>{};
  auto rows = notifications_from_json(body, "tasks/" + ref_.job_type + "/" + ref_.uid);
  remember_tail(response.body, rows);
  return rows;
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> TaskWatcher::down_to_anchor(const Response& response) {
  if (filter_ != Filter::Off || !keys_decided_) return std::nullopt;
  std::string anchor;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (position_.content_keys || position_.anchor.empty()) return std::nullopt;
    anchor = position_.anchor;
  }
  if (response.header("Content-Type").find("html") != std::string::npos) return std::nullopt;  // interpret() says
  const std::function<bool(const Notification&)> at_anchor = [&anchor](const Notification& n) {
    return detail::key_hash("id|" + n.id) == anchor;
  };
  return detail::notifications_until(response.body, at_anchor, "tasks/" + ref_.job_type + "/" + ref_.uid);
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> TaskWatcher::through_known_tail(const Response& response) {
  if (!tail_) return std::nullopt;
  if (response.header("Content-Type").find("html") != std::string::npos) return std::nullopt;  // interpret() says
  return detail::rows_through_tail(response.body, *tail_, "tasks/" + ref_.job_type + "/" + ref_.uid);
}

DHIS2CPP_INLINE void TaskWatcher::remember_tail(const std::string& body, const std::vector<Notification>& newest_first) {
  tail_.reset();
  if (!keys_decided_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!position_.content_keys) return;
  }
  tail_ = detail::feed_tail(body, newest_first);
}

DHIS2CPP_INLINE void TaskWatcher::decide_keys(const std::vector<Notification>& oldest_first) {
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

DHIS2CPP_INLINE std::vector<std::string> TaskWatcher::keys_of(const std::vector<Notification>& oldest_first,
                                                              bool content) const {
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

DHIS2CPP_INLINE std::vector<Notification> TaskWatcher::this_run(std::vector<Notification> rows,
                                                                detail::WatchFacts& facts) {
  if (filter_ == Filter::Off || rows.empty()) return rows;
  if (filter_ == Filter::Confirm) {
    filter_ = Filter::Off;  // polled after the job row said the run began or ended: this run's
    return rows;
  }
  const Notification& newest = rows.back();
  const std::string marker = newest.id + '|' + newest.time + '|' + newest.level_name + '|' + newest.message.value_or("") +
                             (newest.completed ? "|1" : "|0");
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

DHIS2CPP_INLINE TaskWatcher::Judged TaskWatcher::judge(const detail::JobRow& row, const Notification& newest) {
  note_job_row(row);
  switch (row.state) {
    case detail::JobRow::State::NotRead:
    case detail::JobRow::State::Unavailable: return Judged::Undecided;
    case detail::JobRow::State::Absent:
    case detail::JobRow::State::Unreadable:
      return Judged::Mine;  // no saved configuration: the id is not reused (or nothing to tell)
    case detail::JobRow::State::Present: break;
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

DHIS2CPP_INLINE std::vector<TaskWatcher::Fresh> TaskWatcher::absorb(std::vector<Notification> newest_first,
                                                                    detail::WatchFacts& facts) {
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

DHIS2CPP_INLINE void TaskWatcher::record(const Fresh& fresh) {
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

DHIS2CPP_INLINE detail::JobRow TaskWatcher::read_job_row() {
  using State = detail::JobRow::State;
  detail::JobRow row;
  try {
    const auto body = get("jobConfigurations/" + ref_.uid,
                          {{"fields",
                            "jobStatus,lastExecutedStatus,lastExecuted,lastFinished,lastUpdated,created,"
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

DHIS2CPP_INLINE detail::SummaryRead TaskWatcher::read_summary() {
  using State = detail::SummaryRead::State;
  try {
    auto body = get("system/taskSummaries/" + ref_.job_type + "/" + ref_.uid);
    if (!body.is_null()) return detail::SummaryRead{State::Present, std::move(body)};
    return detail::SummaryRead{State::Empty, nullptr};
  } catch (const TransportError&) {
    return detail::SummaryRead{State::Unavailable, nullptr};
  } catch (const UnexpectedResponseError&) {
    return detail::SummaryRead{State::Unavailable, nullptr};
  } catch (const ApiError& e) {
    if (e.status() >= 500 || e.status() == 429) return detail::SummaryRead{State::Unavailable, nullptr};
    if (e.status() == 404) return detail::SummaryRead{State::Empty, nullptr};
    throw;
  }
}

DHIS2CPP_INLINE std::optional<std::chrono::milliseconds> TaskWatcher::summary_retry(detail::WatchFacts& facts) {
  using State = detail::SummaryRead::State;
  if (facts.summary.state != State::Empty && facts.summary.state != State::Unavailable) {
    pace_.summary.reset();  // not read this round, or in
    return std::nullopt;
  }
  const auto now = steady::now();
  if (!pace_.summary) {
    auto until = now + options_.summary_wait;
    if (pace_.deadline) until = std::min(until, *pace_.deadline);
    pace_.summary = Pace::SummaryWait{until, std::chrono::milliseconds(100), {}};
  }
  auto& wait = *pace_.summary;
  if (now >= wait.until) {
    pace_.summary.reset();  // decide without it
    return std::nullopt;
  }
  const auto pause = std::min(wait.pause, std::chrono::duration_cast<std::chrono::milliseconds>(wait.until - now));
  wait.pause = std::min(wait.pause * 2, std::chrono::milliseconds(1000));
  wait.facts = std::move(facts);
  return std::max(pause, std::chrono::milliseconds(1));
}

DHIS2CPP_INLINE detail::IntegrityRead TaskWatcher::read_integrity() {
  using State = detail::IntegrityRead::State;
  const bool details = ref_.job_type == "DATA_INTEGRITY_DETAILS";
  nlohmann::json body;
  try {
    body = get(details ? "dataIntegrity/details" : "dataIntegrity/summary", {{"timeout", "0"}});
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

DHIS2CPP_INLINE detail::RunningRead TaskWatcher::read_running() {
  using State = detail::RunningRead::State;
  nlohmann::json body;
  try {
    body = get("scheduling/running/" + ref_.job_type);
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

DHIS2CPP_INLINE std::optional<JobProgress> TaskWatcher::read_server_progress() {
  try {
    const auto body = get("jobConfigurations/" + ref_.uid + "/progress");
    if (!body.is_object()) return std::nullopt;  // 200 with an empty body: nothing recorded yet
    return JobProgress::from_json(body, "progress");
  } catch (const TaskCancelledError&) {  // progress() keeps its last answer; a wait throws at its next check
  } catch (const ApiError& e) {
    if (e.status() == 403 || e.status() == 404 || e.status() == 400) progress_refused_ = true;
  } catch (const TransportError&) {
  } catch (const UnexpectedResponseError&) {  // a proxy's page, or a body of the wrong shape
  }
  return std::nullopt;
}

DHIS2CPP_INLINE JobProgress TaskWatcher::derived_progress() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return JobProgress::from_notifications(delivered_this_wait_);
}

DHIS2CPP_INLINE std::optional<JobProgress> TaskWatcher::server_progress_now(bool fresh) {
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

DHIS2CPP_INLINE std::optional<JobProgress> TaskWatcher::cached_progress_locked() const {
  if (server_progress_ && !server_progress_->empty()) return server_progress_;
  return std::nullopt;
}

DHIS2CPP_INLINE JobProgress TaskWatcher::progress_now(bool fresh) {
  if (auto server = server_progress_now(fresh)) return std::move(*server);
  return derived_progress();
}

DHIS2CPP_INLINE void TaskWatcher::report_derived_progress() {
  if (!options_.on_progress || (traits_.progress == detail::Tri::Yes && !progress_refused_)) return;
  JobProgress now = derived_progress();
  if (last_reported_ && *last_reported_ == now) return;
  last_reported_ = now;
  options_.on_progress(now);
}

DHIS2CPP_INLINE void TaskWatcher::report_server_progress() {
  if (!options_.on_progress || traits_.progress == detail::Tri::No || progress_refused_) return;
  auto now = server_progress_now(false);
  if (!now || (last_reported_ && *last_reported_ == *now)) return;
  last_reported_ = *now;
  options_.on_progress(*now);
}

DHIS2CPP_INLINE TaskCompletion TaskWatcher::finish(const WatchRule& rule, detail::Verdict verdict,
                                                   const detail::SummaryRead& summary) {
  tail_.reset();  // the last body's rows: the watch is over, and they are about the feed's size
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

DHIS2CPP_INLINE void TaskWatcher::sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, d, [this] { return cancelled_; });
  if (cancelled_) throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
}

DHIS2CPP_INLINE void TaskWatcher::throw_if_cancelled() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) throw TaskCancelledError("the wait for " + ref_.str() + " was cancelled");
}

DHIS2CPP_INLINE std::string TaskWatcher::last_seen() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (delivered_this_wait_.empty()) return "no notification yet";
  const auto& n = delivered_this_wait_.back();
  return "last notification " + n.time + " " + n.level_name + " \"" + (n.message ? *n.message : "") + "\"";
}

DHIS2CPP_INLINE std::string TaskWatcher::human(std::chrono::milliseconds d) {
  const auto s = d.count() / 1000;
  if (s >= 3600) return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
  if (s >= 60) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  if (s >= 1) return std::to_string(s) + " s";
  return std::to_string(d.count()) + " ms";
}

DHIS2CPP_INLINE std::string TaskWatcher::describe_deadline(std::chrono::milliseconds timeout) const {
  return "the job " + ref_.str() + " did not finish within " + human(timeout) + " (" + last_seen() +
         "); it may still be running on the server" + feed_trouble();
}

DHIS2CPP_INLINE std::string TaskWatcher::describe_stall() const {
  return "the job " + ref_.str() + " stalled: no new notification for " + human(*options_.stall_timeout) + " (" +
         last_seen() + ")" + feed_trouble();
}

DHIS2CPP_INLINE TaskCompletion TasksApi::await_completion(const TaskRef& ref,
                                                          std::optional<std::chrono::milliseconds> timeout,
                                                          std::chrono::milliseconds poll_interval) {
  WatchOptions options;
  options.poll_interval = poll_interval;
  options.initial_poll_interval = std::min(options.initial_poll_interval, poll_interval);
  return TaskWatcher(core_, ref, options).wait(timeout);
}

DHIS2CPP_INLINE TasksApi::TasksApi(Client& client) : core_(detail::live_core_of(client, "TasksApi")) {}

}  // namespace dhis2

#endif  // DHIS2_IMPL_TASK_WATCHER_IPP
