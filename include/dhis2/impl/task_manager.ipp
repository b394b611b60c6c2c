#ifndef DHIS2_IMPL_TASK_MANAGER_IPP
#define DHIS2_IMPL_TASK_MANAGER_IPP

// Definitions of <dhis2/task_manager.hpp>.
//
// Locks: ManagerCore::mutex_ (the schedule, the chains, the watches find() knows) may be held
// while a WatchRecord's mutex is taken, never the other way round; events_mutex_ is a leaf. No
// lock is held while a round, a callback or a chain's start function runs.

#include <dhis2/task_manager.hpp>

#include <dhis2/client.hpp>  // detail::live_core_of, defined with the Client
#include <dhis2/task_watcher.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace dhis2 {

DHIS2CPP_INLINE const char* to_string(WatchStatus status) noexcept {
  switch (status) {
    case WatchStatus::Queued: return "queued";
    case WatchStatus::Running: return "running";
    case WatchStatus::Succeeded: return "succeeded";
    case WatchStatus::Failed: return "failed";
    case WatchStatus::Cancelled: return "cancelled";
    case WatchStatus::TimedOut: return "timed out";
    case WatchStatus::Unknown: return "unknown";
  }
  return "unknown";
}

DHIS2CPP_INLINE bool is_final(WatchStatus status) noexcept {
  return status != WatchStatus::Queued && status != WatchStatus::Running;
}

namespace detail {

using steady = std::chrono::steady_clock;

// The manager whose polling thread this is, or null: get() and wait_for() refuse to wait there
// (a chain's start function runs on it).
DHIS2CPP_INLINE const ManagerCore*& polling_thread_of() {
  static thread_local const ManagerCore* manager = nullptr;
  return manager;
}

// One background watch: what its handles share.
struct WatchRecord : std::enable_shared_from_this<WatchRecord> {
  std::uint64_t id = 0;
  WatchCallbacks callbacks;
  std::function<void(const JobProgress&)> user_progress;  // WatchOptions::on_progress as given
  WatchOptions options;                                   // a chain's, for the watcher it creates
  std::optional<std::chrono::milliseconds> timeout;
  std::function<TaskRef()> start;                          // a chain's; empty once it ran
  std::vector<std::shared_ptr<WatchRecord>> predecessors;  // a chain's
  std::weak_ptr<ManagerCore> manager;
  std::shared_ptr<ManagerCore> owner;  // TaskWatcher::start(): the manager this watch alone runs on, until it settles
  std::shared_ptr<std::atomic<std::thread::id>> callback_thread;  // the manager's, once it runs

  mutable std::mutex mutex;
  mutable std::condition_variable settled_cv;
  // The watcher is created once (by watch(), or by the chain when it starts) and then only used
  // by the one thread that runs a round, or cancelled (thread-safe).
  std::unique_ptr<TaskWatcher> watcher;
  TaskRef ref;
  WatchStatus status = WatchStatus::Queued;  // what status() says until the result is settled
  std::optional<WatchStatus> result;         // the final status, from the moment the result is in
  std::optional<TaskCompletion> completion;
  std::exception_ptr error;
  std::exception_ptr callback_error;  // the first exception a callback threw
  std::optional<JobProgress> progress;
  // With on_notification: the resume token as of the last row whose callback started (the
  // polling thread runs ahead of the callbacks); without, the watcher's own is current.
  std::string token;
  std::optional<BackgroundWatch::clock::time_point> queued_at, started_at, finished_at;
  bool began = false;
  // Shared polling (the polling thread's own, between rounds): the job's entry in the type's
  // overview before the last full round, when the job was last checked (that round, or a job row
  // that said it runs), and the pause the last round asked for.
  std::optional<std::string> seen_signature;
  steady::time_point last_checked{};
  std::chrono::milliseconds last_pause{0};
  bool cancel_requested = false;  // stop() came while a round (or a chain's start) ran
  bool settled = false;           // the result is in and on_finished returned: waiters wake
  std::vector<std::promise<TaskCompletion>> promises;

  bool on_callback_thread() const { return callback_thread && callback_thread->load() == std::this_thread::get_id(); }
  bool on_polling_thread() const {
    const ManagerCore* current = polling_thread_of();
    return current && current == manager.lock().get();
  }
  bool has_callbacks() const {
    return callbacks.on_started || callbacks.on_notification || callbacks.on_progress || callbacks.on_finished ||
           user_progress;
  }
};

class ManagerCore : public std::enable_shared_from_this<ManagerCore> {
 public:
  ManagerCore(std::shared_ptr<ClientCore> client, TaskManagerOptions options)
      : client_(std::move(client)),
        options_(options),
        callback_thread_id_(std::make_shared<std::atomic<std::thread::id>>()) {}

  void start_threads() {
    const auto self = shared_from_this();
    for (std::size_t i = 0; i < options_.threads; ++i) workers_.emplace_back([self] { self->work(); });
  }

  std::shared_ptr<WatchRecord> new_record(WatchCallbacks callbacks, WatchOptions& options,
                                          std::optional<std::chrono::milliseconds> timeout) {
    auto w = std::make_shared<WatchRecord>();
    w->callbacks = std::move(callbacks);
    w->user_progress = std::move(options.on_progress);
    w->timeout = timeout;
    w->manager = weak_from_this();
    w->callback_thread = callback_thread_id_;
    w->queued_at = BackgroundWatch::clock::now();
    // The watcher reports progress here, on the polling thread: keep it, and hand it on.
    WatchRecord* raw = w.get();
    options.on_progress = [raw](const JobProgress& progress) {
      {
        std::lock_guard<std::mutex> lock(raw->mutex);
        raw->progress = progress;
      }
      if (!raw->callbacks.on_progress && !raw->user_progress) return;
      const auto record = raw->shared_from_this();
      if (const auto manager = record->manager.lock()) {
        manager->dispatch(record, [record, progress] {
          {
            std::lock_guard<std::mutex> lock(record->mutex);
            if (record->callback_error) return;  // a callback threw: the watch stopped
          }
          if (record->callbacks.on_progress) record->callbacks.on_progress(BackgroundWatch(record), progress);
          if (record->user_progress) record->user_progress(progress);
        });
      }
    };
    if (timeout && timeout->count() < 0) throw UsageError("TaskManager::watch: the timeout must not be negative");
    return w;
  }

  BackgroundWatch add(const TaskRef& ref, WatchCallbacks callbacks, WatchOptions options,
                      std::optional<std::chrono::milliseconds> timeout) {
    auto w = new_record(std::move(callbacks), options, timeout);
    w->ref = ref;
    w->watcher.reset(new TaskWatcher(client_, ref, std::move(options)));  // validates ref and options
    w->token = w->watcher->resume_token();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      refuse_if_stopping("watch");
      w->id = next_id_++;
      watches_.emplace(w->id, w);
      schedule_locked(w, steady::now());
    }
    work_.notify_one();
    return BackgroundWatch(w);
  }

  BackgroundWatch add_chain(const std::vector<BackgroundWatch>& predecessors, std::function<TaskRef()> start,
                            WatchCallbacks callbacks, WatchOptions options,
                            std::optional<std::chrono::milliseconds> timeout) {
    if (!start) throw UsageError("TaskManager::after: the start function is empty");
    for (const auto& p : predecessors) {
      if (!p) throw UsageError("TaskManager::after: a predecessor handle is empty");
      if (p.record_->manager.lock().get() != this) {
        throw UsageError("TaskManager::after: a predecessor belongs to another TaskManager");
      }
    }
    TaskWatcher::check_options(options);  // now, as watch() would, not when the chain starts
    auto w = new_record(std::move(callbacks), options, timeout);
    w->options = std::move(options);
    w->start = std::move(start);
    for (const auto& p : predecessors) w->predecessors.push_back(p.record_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      refuse_if_stopping("after");
      w->id = next_id_++;
      watches_.emplace(w->id, w);
      chains_.push_back(w);
    }
    advance_chains();  // the predecessors may have ended already
    return BackgroundWatch(w);
  }

  // Stops a watch: at once when it waits in the schedule or for its predecessors, else its
  // round in flight is interrupted and ends it. `reason` null: the caller's cancel().
  void stop(const std::shared_ptr<WatchRecord>& w) {
    bool waiting = false;
    TaskWatcher* watcher = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      {
        // Under mutex_ too: a round that ends now sees it before it puts the watch back.
        std::lock_guard<std::mutex> record(w->mutex);
        w->cancel_requested = true;  // a chain whose start() runs now starts nothing more
        watcher = w->watcher.get();
      }
      const auto it = scheduled_.find(w->id);
      if (it != scheduled_.end()) {
        due_.erase(it->second);
        scheduled_.erase(it);
        waiting = true;
      }
      const auto chain = std::find(chains_.begin(), chains_.end(), w);
      if (chain != chains_.end()) {
        chains_.erase(chain);
        waiting = true;
      }
    }
    if (watcher) watcher->cancel();  // a round in flight (or its overview read) throws TaskCancelledError
    if (waiting) finish(w, WatchStatus::Cancelled, std::nullopt, cancelled_error(*w));
  }

  void cancel_all() {
    std::vector<std::shared_ptr<WatchRecord>> all;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& entry : watches_) all.push_back(entry.second);
    }
    for (const auto& w : all) stop(w);
  }

  std::optional<BackgroundWatch> find(std::uint64_t id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = watches_.find(id);
    if (it == watches_.end()) return std::nullopt;
    return BackgroundWatch(it->second);
  }

  std::vector<BackgroundWatch> active() const {
    std::vector<BackgroundWatch> out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& entry : watches_) {
      std::lock_guard<std::mutex> record(entry.second->mutex);
      if (!entry.second->settled) out.push_back(BackgroundWatch(entry.second));
    }
    return out;
  }

  // Every callback runs here, on the callback thread, in the order given.
  void dispatch(const std::shared_ptr<WatchRecord>& w, std::function<void()> event) {
    {
      std::lock_guard<std::mutex> lock(events_mutex_);
      if (events_stopping_) return;  // the manager is going: shutdown() settles the watch
      if (!callback_thread_.joinable()) {
        const auto self = shared_from_this();
        callback_thread_ = std::thread([self] { self->run_callbacks(); });
      }
      events_.emplace_back(w, std::move(event));
    }
    events_cv_.notify_one();
  }

  void shutdown() {
    std::vector<std::shared_ptr<WatchRecord>> all;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;  // once (a watch that owns its manager settles during it)
      stopping_ = true;
      due_.clear();
      scheduled_.clear();
      chains_.clear();
      for (const auto& entry : watches_) all.push_back(entry.second);
    }
    work_.notify_all();
    for (const auto& w : all) {
      TaskWatcher* watcher = nullptr;
      {
        std::lock_guard<std::mutex> lock(w->mutex);
        w->cancel_requested = true;
        watcher = w->watcher.get();
      }
      if (watcher) watcher->cancel();  // a round in flight ends within milliseconds
    }
    {
      // Callbacks not started yet are dropped now, not after the workers are joined.
      std::lock_guard<std::mutex> lock(events_mutex_);
      events_stopping_ = true;
      events_.clear();
    }
    events_cv_.notify_all();
    join_or_detach(workers_);
    std::vector<std::thread> callbacks;
    if (callback_thread_.joinable()) callbacks.push_back(std::move(callback_thread_));
    join_or_detach(callbacks);
    // Every handle is final now: a watch still out is Cancelled; one whose on_finished was dropped
    // is settled as it ended.
    for (const auto& w : all) {
      bool has_result = false;
      {
        std::lock_guard<std::mutex> lock(w->mutex);
        has_result = w->result.has_value();
      }
      if (!has_result) record_result(w, WatchStatus::Cancelled, std::nullopt, destroyed_error(*w));
      settle(w);
    }
  }

 private:
  std::string describe(const WatchRecord& w) const {
    std::lock_guard<std::mutex> lock(w.mutex);
    return w.ref.job_type.empty() ? "chained job #" + std::to_string(w.id) + " (not started)" : w.ref.str();
  }

  std::exception_ptr destroyed_error(const WatchRecord& w) const {
    return std::make_exception_ptr(TaskCancelledError(
        "the watch of " + describe(w) + " was cancelled: its TaskManager was destroyed before the job ended"));
  }

  bool stopping() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  std::exception_ptr cancelled_error(const WatchRecord& w) const {
    return std::make_exception_ptr(TaskCancelledError("the watch of " + describe(w) + " was cancelled"));
  }

  void refuse_if_stopping(const char* what) const {
    if (stopping_) throw UsageError(std::string("TaskManager::") + what + ": the TaskManager is being destroyed");
  }

  void schedule_locked(const std::shared_ptr<WatchRecord>& w, steady::time_point due) {
    scheduled_[w->id] = due_.emplace(due, w);
  }

  // Puts a watch back for its next round after `pause` (at the latest at its deadline), or at
  // once when a cancel came meanwhile: that round throws. Nothing when the manager is going.
  void reschedule(const std::shared_ptr<WatchRecord>& w, const TaskWatcher& watcher, std::chrono::milliseconds pause) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      auto due = steady::now() + pause;
      if (watcher.pace_.deadline && *watcher.pace_.deadline < due) due = *watcher.pace_.deadline;
      {
        std::lock_guard<std::mutex> record(w->mutex);
        if (w->cancel_requested) due = steady::now();
      }
      schedule_locked(w, due);
    }
    work_.notify_one();
  }

  static void join_or_detach(std::vector<std::thread>& threads) {
    for (auto& t : threads) {
      if (!t.joinable()) continue;
      // Destroyed from one of its own threads (a callback or a chain's start): that thread holds
      // the core alive and ends when it returns.
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();
      } else {
        t.join();
      }
    }
  }

  void work() {
    polling_thread_of() = this;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (due_.empty()) {
        work_.wait(lock);
        continue;
      }
      const auto next = due_.begin();
      if (next->first > steady::now()) {
        const steady::time_point due = next->first;  // a copy: the entry may go while this waits
        work_.wait_until(lock, due);
        continue;
      }
      const auto w = next->second;
      scheduled_.erase(w->id);
      due_.erase(next);
      lock.unlock();
      run_round(w);
      lock.lock();
    }
  }

  void run_round(const std::shared_ptr<WatchRecord>& w) {
    bool first = false;
    bool cancelled = false;
    std::function<TaskRef()> start;
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      if (w->result) return;
      cancelled = w->cancel_requested && !w->watcher;  // a chain stopped before it started: start nothing
      first = !w->began;
      if (first) {
        w->began = true;
        w->status = WatchStatus::Running;
        w->started_at = BackgroundWatch::clock::now();
        start = std::move(w->start);
      }
    }
    if (cancelled) {
      finish(w, WatchStatus::Cancelled, std::nullopt, stopping() ? destroyed_error(*w) : cancelled_error(*w));
      return;
    }
    try {
      if (start) {
        TaskRef ref;
        try {
          ref = start();
        } catch (...) {
          finish(w, WatchStatus::Failed, std::nullopt, std::current_exception());  // whatever it threw
          return;
        }
        auto watcher = std::unique_ptr<TaskWatcher>(new TaskWatcher(client_, ref, w->options));
        bool stopped = false;
        {
          std::lock_guard<std::mutex> lock(w->mutex);
          if (w->result) return;  // ended while start() ran (the manager is gone)
          w->ref = ref;
          w->watcher = std::move(watcher);
          w->token = w->watcher->resume_token();
          stopped = w->cancel_requested;  // stop() came while start() ran: the job runs, unwatched
        }
        if (stopped) {
          finish(w, WatchStatus::Cancelled, std::nullopt, stopping() ? destroyed_error(*w) : cancelled_error(*w));
          return;
        }
      }
      if (first && w->callbacks.on_started) {
        dispatch(w, [w] { w->callbacks.on_started(BackgroundWatch(w)); });
      }
      TaskWatcher* watcher = nullptr;
      {
        std::lock_guard<std::mutex> lock(w->mutex);
        watcher = w->watcher.get();
      }
      const TaskWatcher::Callback deliver = [this, &w, watcher](const Notification& row) {
        if (w->callbacks.on_notification) {
          // The row counts as delivered when its callback starts, as with a blocking watch.
          std::string token = watcher->resume_token();
          dispatch(w, [w, row, token] {
            {
              std::lock_guard<std::mutex> lock(w->mutex);
              if (w->callback_error) return;
              w->token = token;
            }
            w->callbacks.on_notification(BackgroundWatch(w), row);
          });
        }
        return true;
      };
      if (first) watcher->begin(w->timeout);
      std::optional<std::string> signature;
      if (!first) {
        const auto fresh_for = std::max(w->last_pause, std::chrono::milliseconds(1));
        signature = overview_signature(*watcher, fresh_for);
        const Skip skip = signature ? may_skip(*w, *watcher, *signature) : Skip::No;
        if (skip == Skip::Yes || (skip == Skip::IfRowRuns && row_says_running(*w, *watcher, fresh_for))) {
          if (skip == Skip::IfRowRuns) {
            w->last_checked = steady::now();
            std::lock_guard<std::mutex> lock(mutex_);
            const auto check = row_checks_.find(w->id);
            if (check != row_checks_.end()) check->second.second = w->last_checked + options_.full_poll_interval;
          }
          reschedule(w, *watcher, w->last_pause);
          return;
        }
      }
      TaskWatcher::Round round = watcher->round(&deliver);
      w->last_checked = steady::now();
      if (signature && watcher->traits_.ad_hoc_rows == Tri::Yes) {
        std::lock_guard<std::mutex> lock(mutex_);
        row_checks_[w->id] = {watcher->ref_.uid, w->last_checked + options_.full_poll_interval};
      }
      w->seen_signature = std::move(signature);
      w->last_pause = round.pause;
      if (round.done && !round.completion) throw std::logic_error("a background round stopped without a completion");
      if (!round.done) {
        reschedule(w, *watcher, round.pause);
        return;
      }
      const WatchStatus status = status_of(round.completion->outcome);
      finish(w, status, std::move(round.completion), nullptr);
    } catch (const TaskCancelledError&) {
      finish(w, WatchStatus::Cancelled, std::nullopt, stopping() ? destroyed_error(*w) : std::current_exception());
    } catch (const TaskTimeoutError&) {
      finish(w, WatchStatus::TimedOut, std::nullopt, std::current_exception());
    } catch (...) {
      finish(w, WatchStatus::Failed, std::nullopt, std::current_exception());
    }
  }

  // ---- shared polls ----------------------------------------------------------------------------

  // The job's entry in its type's overview (its [newest, oldest] rows as text; "" when the
  // overview does not list it). An overview younger than `fresh_for` (the watch's pause) serves;
  // else this reads it again, for every watch of the type. Empty when polls are not shared: the
  // option, a server without the gist, or an overview that could not be read (the watch then
  // polls its own feed).
  std::optional<std::string> overview_signature(const TaskWatcher& watcher, std::chrono::milliseconds fresh_for) {
    if (!options_.share_polls || !has_gist(watcher.traits_.version)) return std::nullopt;
    const std::string& type = watcher.ref_.job_type;
    const auto now = steady::now();
    std::shared_ptr<const nlohmann::json> jobs;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto it = overviews_.find(type);
      if (it != overviews_.end() && now - it->second.first < fresh_for) jobs = it->second.second;
    }
    if (!jobs) {
      try {
        // Under the due watch's own token: its cancel() (and the destructor) interrupt the read.
        auto fetched = std::make_shared<const nlohmann::json>(
            client_->request_json("GET", "system/tasks/" + type, {}, {}, Query{{"gist", "true"}}, &watcher.requests_));
        if (!fetched->is_object()) return std::nullopt;
        jobs = fetched;
      } catch (const Error&) {
        return std::nullopt;  // the watch's own round reads its feed and meets the error as a blocking watch would
      }
      std::lock_guard<std::mutex> lock(mutex_);
      overviews_[type] = {now, jobs};
    }
    const auto entry = jobs->find(watcher.ref_.uid);
    return entry == jobs->end() ? std::string() : entry->dump();
  }

  enum class Skip { No, Yes, IfRowRuns };

  // A round may be skipped when the job's overview entry is the one seen before the last full
  // round, and the watcher waits plainly: no decision pending on one more poll (swept), on the
  // job row (the feed emptied) or on the task summary, no deadline or stall timeout passed. After
  // full_poll_interval without a check, the job may have ended without a row that the overview
  // would show: on a server with job rows for API-started jobs (2.41+) the round is skipped only
  // if the row says it still runs (IfRowRuns); on older ones it is not.
  Skip may_skip(const WatchRecord& w, const TaskWatcher& watcher, const std::string& signature) const {
    if (!w.seen_signature || *w.seen_signature != signature) return Skip::No;
    {
      std::lock_guard<std::mutex> lock(w.mutex);
      if (w.cancel_requested) return Skip::No;
    }
    const auto now = steady::now();
    if (watcher.pace_.swept || w.last_pause.count() == 0) return Skip::No;
    if (watcher.pace_.summary) return Skip::No;  // reading the summary again: the overview does not show it
    // The feed emptied after rows (a DELETE, the caps, a restart that lost the notifications):
    // the overview no longer lists the job either, so it shows no change, but the watcher's
    // rules are reading the job row to learn how the job ended.
    if (watcher.emptied_) return Skip::No;
    if (watcher.pace_.deadline && now >= *watcher.pace_.deadline) return Skip::No;
    const auto& stall = watcher.options_.stall_timeout;
    if (stall && now - watcher.last_change_ >= *stall) return Skip::No;
    if (now - w.last_checked < options_.full_poll_interval) return Skip::Yes;
    return watcher.traits_.ad_hoc_rows == Tri::Yes ? Skip::IfRowRuns : Skip::No;
  }

  // Whether the job's row says it still runs, or waits for its turn (dhis2-wire.md §3.1, §3.2:
  // a cancelled or finished ad-hoc job's row leaves RUNNING at once, though no notification
  // says so). One GET /api/jobConfigurations?filter=id:in:[...] asks for this job and every
  // other watched one whose check falls due within `fresh_for` (at most kRowBatch ids, a URL
  // of about 1.3 KB), and its answers serve those checks while younger than their pause. False
  // when the row says the job ended, when there is no row, and when the read failed: the
  // watch's own round then decides, as it would without shared polls.
  bool row_says_running(const WatchRecord& w, const TaskWatcher& watcher, std::chrono::milliseconds fresh_for) {
    static constexpr std::size_t kRowBatch = 100;
    const std::string& uid = watcher.ref_.uid;
    const auto now = steady::now();
    std::vector<std::string> uids{uid};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto known = rows_.find(uid);
      if (known != rows_.end() && now - known->second.first < fresh_for) return known->second.second;
      for (const auto& check : row_checks_) {
        if (uids.size() >= kRowBatch) break;
        if (check.first == w.id || check.second.second > now + fresh_for) continue;
        if (std::find(uids.begin(), uids.end(), check.second.first) == uids.end()) uids.push_back(check.second.first);
      }
    }
    std::string ids;
    for (const auto& u : uids) ids += (ids.empty() ? "" : ",") + u;
    nlohmann::json body;
    try {
      // Under the due watch's own token, as its overview read.
      body = client_->request_json(
          "GET", "jobConfigurations", {}, {},
          Query{{"fields", "id,jobStatus,lastExecutedStatus"}, {"filter", "id:in:[" + ids + "]"}, {"paging", "false"}},
          &watcher.requests_);
    } catch (const Error&) {
      return false;
    }
    if (!body.is_object() || !body.contains("jobConfigurations") || !body["jobConfigurations"].is_array()) return false;
    std::map<std::string, bool> running;
    for (const auto& u : uids) running[u] = false;  // no row: the round decides
    for (const auto& row : body["jobConfigurations"]) {
      if (!row.is_object()) continue;
      const auto text = [&row](const char* key) {
        const auto it = row.find(key);
        return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      const auto it = running.find(text("id"));
      if (it == running.end()) continue;
      const std::string status = text("jobStatus");
      // Queued behind another job of its type: SCHEDULED and never run (a saved configuration
      // run again shows its last run's status, and gets its round).
      it->second = status == "RUNNING" || (status == "SCHEDULED" && text("lastExecutedStatus") == "NOT_STARTED");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& r : running) rows_[r.first] = {now, r.second};
    return running[uid];
  }

  // The overview's gist: the new notifier (2.40.8+, 2.41.4+, 2.42+, dhis2-wire.md §1.1).
  static bool has_gist(const std::optional<ServerVersion>& v) {
    if (!v) return false;
    if (v->major != 2) return v->major > 2;
    if (v->minor == 40) return v->patch >= 8;
    if (v->minor == 41) return v->patch >= 4;
    return v->minor >= 42;
  }

  static WatchStatus status_of(TaskOutcome outcome) {
    switch (outcome) {
      case TaskOutcome::Succeeded: return WatchStatus::Succeeded;
      case TaskOutcome::Failed: return WatchStatus::Failed;
      case TaskOutcome::Cancelled: return WatchStatus::Cancelled;
      case TaskOutcome::Unknown: break;
    }
    return WatchStatus::Unknown;
  }

  // The result is in (once; a callback's error wins over the job's outcome).
  static bool record_result(const std::shared_ptr<WatchRecord>& w, WatchStatus status,
                            std::optional<TaskCompletion> completion, std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(w->mutex);
    if (w->result) return false;
    if (w->callback_error) {
      status = WatchStatus::Failed;
      error = w->callback_error;
    }
    w->result = status;
    w->completion = std::move(completion);
    w->error = error;
    w->finished_at = BackgroundWatch::clock::now();
    return true;
  }

  void finish(const std::shared_ptr<WatchRecord>& w, WatchStatus status, std::optional<TaskCompletion> completion,
              std::exception_ptr error) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto check = row_checks_.find(w->id);
      if (check != row_checks_.end()) {
        rows_.erase(check->second.first);
        row_checks_.erase(check);
      }
    }
    if (!record_result(w, status, std::move(completion), error)) return;
    if (w->has_callbacks()) {
      // After the watch's other callbacks: on_finished, then the waiters wake.
      dispatch(w, [this, w] {
        if (w->callbacks.on_finished) {
          try {
            w->callbacks.on_finished(BackgroundWatch(w));
          } catch (...) {
            std::lock_guard<std::mutex> lock(w->mutex);
            if (!w->callback_error) w->callback_error = std::current_exception();
          }
        }
        settle(w);
      });
      return;  // without a callback thread (shutdown), shutdown() settles it
    }
    settle(w);
  }

  void settle(const std::shared_ptr<WatchRecord>& w) {
    std::vector<std::promise<TaskCompletion>> promises;
    std::optional<TaskCompletion> completion;
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      if (w->settled || !w->result) return;
      if (w->callback_error && w->error != w->callback_error) {  // on_finished threw
        w->result = WatchStatus::Failed;
        w->error = w->callback_error;
      }
      w->status = *w->result;
      w->settled = true;
      promises = std::move(w->promises);
      completion = w->completion;
      error = w->error;
    }
    std::shared_ptr<ManagerCore> owner;
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      owner = std::move(w->owner);
    }
    w->settled_cv.notify_all();
    for (auto& p : promises) {
      if (error) {
        p.set_exception(error);
      } else {
        p.set_value(*completion);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.push_back(w->id);
      while (finished_.size() > options_.keep_finished) {
        watches_.erase(finished_.front());
        finished_.pop_front();
      }
    }
    advance_chains();
    if (owner) owner->shutdown();  // TaskWatcher::start()'s manager ends with its watch (its threads detach)
  }

  // Starts the chains whose predecessors all Succeeded; cancels those with one that did not.
  void advance_chains() {
    std::vector<std::pair<std::shared_ptr<WatchRecord>, std::string>> cancelled;
    bool started = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      for (auto it = chains_.begin(); it != chains_.end();) {
        const auto& chain = *it;
        bool all_succeeded = true;
        std::string failed;
        for (const auto& p : chain->predecessors) {
          std::lock_guard<std::mutex> record(p->mutex);
          if (!p->settled) {
            all_succeeded = false;
          } else if (p->status != WatchStatus::Succeeded) {
            const std::string name = p->ref.job_type.empty() ? "chained job #" + std::to_string(p->id) : p->ref.str();
            failed = "not started: the watch of " + name + ", which it runs after, ended " + to_string(p->status);
            break;
          }
        }
        if (!failed.empty()) {
          cancelled.emplace_back(chain, failed);
          it = chains_.erase(it);
        } else if (all_succeeded) {
          schedule_locked(chain, steady::now());
          started = true;
          it = chains_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (started) work_.notify_all();
    for (auto& c : cancelled) {
      finish(c.first, WatchStatus::Cancelled, std::nullopt, std::make_exception_ptr(TaskCancelledError(c.second)));
    }
  }

  void run_callbacks() {
    callback_thread_id_->store(std::this_thread::get_id());
    std::unique_lock<std::mutex> lock(events_mutex_);
    while (true) {
      events_cv_.wait(lock, [this] { return events_stopping_ || !events_.empty(); });
      if (events_stopping_) return;
      auto event = std::move(events_.front());
      events_.pop_front();
      lock.unlock();
      try {
        event.second();
      } catch (...) {
        callback_failed(event.first, std::current_exception());
      }
      lock.lock();
    }
  }

  // A callback threw: the watch fails with that error and stops.
  void callback_failed(const std::shared_ptr<WatchRecord>& w, std::exception_ptr error) {
    bool result_in = false;
    {
      std::lock_guard<std::mutex> lock(w->mutex);
      if (w->callback_error) return;
      w->callback_error = error;
      result_in = w->result.has_value();
      if (result_in) {  // in, not settled yet: from now on (on_finished included) it failed
        w->result = WatchStatus::Failed;
        w->error = error;
      }
    }
    if (!result_in) stop(w);  // finish() then takes the callback's error
  }

  std::shared_ptr<ClientCore> client_;
  const TaskManagerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::multimap<steady::time_point, std::shared_ptr<WatchRecord>> due_;  // the next rounds
  std::map<std::uint64_t, std::multimap<steady::time_point, std::shared_ptr<WatchRecord>>::iterator> scheduled_;
  std::vector<std::shared_ptr<WatchRecord>> chains_;               // waiting for their predecessors
  std::map<std::uint64_t, std::shared_ptr<WatchRecord>> watches_;  // what find() knows
  std::deque<std::uint64_t> finished_;                             // settled ones in watches_, oldest first
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  // Each job type's latest overview and when it was read (shared polls).
  std::map<std::string, std::pair<steady::time_point, std::shared_ptr<const nlohmann::json>>> overviews_;
  // Job rows (2.41+): each shared-poll watch's job and when its row check falls due, by watch id;
  // and what the last batched read said of each job (running or queued: true) and when.
  std::map<std::uint64_t, std::pair<std::string, steady::time_point>> row_checks_;
  std::map<std::string, std::pair<steady::time_point, bool>> rows_;

  std::mutex events_mutex_;
  std::condition_variable events_cv_;
  std::deque<std::pair<std::shared_ptr<WatchRecord>, std::function<void()>>> events_;
  bool events_stopping_ = false;
  std::thread callback_thread_;
  std::shared_ptr<std::atomic<std::thread::id>> callback_thread_id_;
};

DHIS2CPP_INLINE BackgroundWatch start_single(std::shared_ptr<ClientCore> client, TaskRef ref, WatchOptions options,
                                             const WatchCallbacks& callbacks,
                                             std::optional<std::chrono::milliseconds> timeout) {
  TaskManagerOptions one;
  one.threads = 1;
  auto manager = std::make_shared<ManagerCore>(std::move(client), one);
  manager->start_threads();
  try {
    BackgroundWatch watch = manager->add(ref, callbacks, std::move(options), timeout);
    std::lock_guard<std::mutex> lock(watch.record_->mutex);
    if (!watch.record_->settled) watch.record_->owner = manager;  // released when it settles
    return watch;
  } catch (...) {
    manager->shutdown();
    throw;
  }
}

}  // namespace detail

// ---- TaskWatcher::start() ------------------------------------------------------------------------
// Defined here rather than in task_watcher.ipp, so that a file that uses only the blocking watcher
// does not compile the manager (a caller of start() includes task_manager.hpp for its result).

DHIS2CPP_INLINE BackgroundWatch TaskWatcher::start(const WatchCallbacks& callbacks,
                                                   std::optional<std::chrono::milliseconds> timeout) {
  TaskRef ref = ref_;
  ref.position = position();
  return detail::start_single(core_, std::move(ref), options_, callbacks, timeout);
}

DHIS2CPP_INLINE BackgroundWatch TaskWatcher::start() { return start(WatchCallbacks{}); }

// ---- BackgroundWatch ----------------------------------------------------------------------------

DHIS2CPP_INLINE const detail::WatchRecord& BackgroundWatch::record(const char* what) const {
  if (!record_) throw UsageError(std::string("BackgroundWatch::") + what + ": the handle is empty");
  return *record_;
}

DHIS2CPP_INLINE std::uint64_t BackgroundWatch::id() const { return record("id").id; }

DHIS2CPP_INLINE TaskRef BackgroundWatch::ref() const {
  const auto& r = record("ref");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.ref;
}

DHIS2CPP_INLINE WatchStatus BackgroundWatch::status() const {
  const auto& r = record("status");
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.settled && r.result && r.on_callback_thread()) return *r.result;  // in on_finished
  return r.status;
}

DHIS2CPP_INLINE std::optional<BackgroundWatch::clock::time_point> BackgroundWatch::queued_at() const {
  const auto& r = record("queued_at");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.queued_at;
}

DHIS2CPP_INLINE std::optional<BackgroundWatch::clock::time_point> BackgroundWatch::started_at() const {
  const auto& r = record("started_at");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.started_at;
}

DHIS2CPP_INLINE std::optional<BackgroundWatch::clock::time_point> BackgroundWatch::finished_at() const {
  const auto& r = record("finished_at");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.finished_at;
}

DHIS2CPP_INLINE std::optional<JobProgress> BackgroundWatch::progress() const {
  const auto& r = record("progress");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.progress;
}

DHIS2CPP_INLINE std::string BackgroundWatch::resume_token() const {
  const auto& r = record("resume_token");
  TaskWatcher* watcher = nullptr;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.callbacks.on_notification || !r.watcher) return r.token;
    watcher = r.watcher.get();
  }
  return watcher->resume_token();
}

DHIS2CPP_INLINE bool BackgroundWatch::wait_for(std::chrono::milliseconds timeout) const {
  const auto& r = record("wait_for");
  std::unique_lock<std::mutex> lock(r.mutex);
  if (r.settled) return true;
  if (r.on_polling_thread()) {
    throw UsageError(
        "BackgroundWatch::wait_for: called on a polling thread of its TaskManager (a chain's start "
        "function?), it could wait for that thread itself");
  }
  if (r.on_callback_thread()) {
    if (r.result) return true;
    throw UsageError(
        "BackgroundWatch::wait_for: called from a TaskManager callback, it would wait for the "
        "thread that runs the callbacks; look at the watch in its on_finished instead");
  }
  return r.settled_cv.wait_for(lock, timeout, [&r] { return r.settled; });
}

DHIS2CPP_INLINE TaskCompletion BackgroundWatch::get() const {
  const auto& r = record("get");
  std::unique_lock<std::mutex> lock(r.mutex);
  if (!r.settled && r.on_polling_thread()) {
    throw UsageError(
        "BackgroundWatch::get: called on a polling thread of its TaskManager (a chain's start "
        "function?) before the watch ended, it could wait for that thread itself");
  }
  if (r.on_callback_thread() && !r.settled) {
    if (!r.result) {
      throw UsageError(
          "BackgroundWatch::get: called from a TaskManager callback before the watch's result is "
          "in, it would wait for the thread that runs the callbacks; use on_finished");
    }
  } else {
    r.settled_cv.wait(lock, [&r] { return r.settled; });
  }
  if (r.error) std::rethrow_exception(r.error);
  return *r.completion;
}

DHIS2CPP_INLINE void BackgroundWatch::cancel() const {
  const auto& r = record("cancel");
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.result) return;
  }
  if (const auto manager = r.manager.lock()) manager->stop(record_);
}

DHIS2CPP_INLINE std::exception_ptr BackgroundWatch::error() const {
  const auto& r = record("error");
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.settled ? r.error : nullptr;
}

DHIS2CPP_INLINE std::future<TaskCompletion> BackgroundWatch::to_future() const {
  record("to_future");
  std::promise<TaskCompletion> promise;
  auto future = promise.get_future();
  std::unique_lock<std::mutex> lock(record_->mutex);
  if (!record_->settled) {
    record_->promises.push_back(std::move(promise));
    return future;
  }
  const auto error = record_->error;
  const auto completion = record_->completion;
  lock.unlock();
  if (error) {
    promise.set_exception(error);
  } else {
    promise.set_value(*completion);
  }
  return future;
}

// ---- TaskManager --------------------------------------------------------------------------------

DHIS2CPP_INLINE TaskManager::TaskManager(Client& client, TaskManagerOptions options) {
  if (options.threads == 0) throw UsageError("TaskManagerOptions::threads must be at least 1");
  if (options.full_poll_interval.count() <= 0) {
    throw UsageError("TaskManagerOptions::full_poll_interval must be positive");
  }
  core_ = std::make_shared<detail::ManagerCore>(detail::live_core_of(client, "TaskManager"), options);
  core_->start_threads();
}

DHIS2CPP_INLINE TaskManager::~TaskManager() { core_->shutdown(); }

DHIS2CPP_INLINE BackgroundWatch TaskManager::watch(const TaskRef& ref, WatchCallbacks callbacks, WatchOptions options,
                                                   std::optional<std::chrono::milliseconds> timeout) {
  return core_->add(ref, std::move(callbacks), std::move(options), timeout);
}

DHIS2CPP_INLINE std::vector<BackgroundWatch> TaskManager::resume(const std::vector<std::string>& tokens,
                                                                 const WatchCallbacks& callbacks,
                                                                 const WatchOptions& options,
                                                                 std::optional<std::chrono::milliseconds> timeout) {
  std::vector<TaskRef> refs;
  refs.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    try {
      refs.push_back(TaskRef::parse(tokens[i]));
    } catch (const UsageError& e) {
      throw UsageError("TaskManager::resume: token " + std::to_string(i + 1) + " of " + std::to_string(tokens.size()) +
                       ": " + e.what());
    }
  }
  std::vector<BackgroundWatch> watches;
  watches.reserve(refs.size());
  for (const auto& ref : refs) watches.push_back(watch(ref, callbacks, options, timeout));
  return watches;
}

DHIS2CPP_INLINE BackgroundWatch TaskManager::after(const std::vector<BackgroundWatch>& predecessors,
                                                   std::function<TaskRef()> start, WatchCallbacks callbacks,
                                                   WatchOptions options,
                                                   std::optional<std::chrono::milliseconds> timeout) {
  return core_->add_chain(predecessors, std::move(start), std::move(callbacks), std::move(options), timeout);
}

DHIS2CPP_INLINE std::vector<TaskCompletion> TaskManager::wait_all(
    const std::vector<BackgroundWatch>& handles, std::optional<std::chrono::milliseconds> timeout) const {
  if (timeout && timeout->count() < 0) throw UsageError("TaskManager::wait_all: the timeout must not be negative");
  for (const auto& h : handles) {
    if (!h) throw UsageError("TaskManager::wait_all: a handle is empty");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds(0));
  for (const auto& h : handles) {
    if (!timeout) {
      while (!h.wait_for(std::chrono::hours(24))) {
      }
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!h.wait_for(std::max(left, std::chrono::milliseconds(0)))) break;
  }
  std::vector<std::string> unfinished;
  for (const auto& h : handles) {
    if (is_final(h.status())) continue;
    const TaskRef ref = h.ref();
    unfinished.push_back((ref.job_type.empty() ? "chained #" + std::to_string(h.id()) : ref.str()) + " (" +
                         to_string(h.status()) + ")");
  }
  if (!unfinished.empty()) {
    std::string names;
    for (const auto& u : unfinished) names += (names.empty() ? "" : ", ") + u;
    throw TaskTimeoutError(std::to_string(unfinished.size()) + " of " + std::to_string(handles.size()) +
                           " watches had not finished within " + std::to_string(timeout ? timeout->count() : 0) +
                           " ms: " + names);
  }
  std::vector<TaskCompletion> completions;
  completions.reserve(handles.size());
  for (const auto& h : handles) completions.push_back(h.get());
  return completions;
}

DHIS2CPP_INLINE void TaskManager::cancel_all() { core_->cancel_all(); }

DHIS2CPP_INLINE std::optional<BackgroundWatch> TaskManager::find(std::uint64_t id) const { return core_->find(id); }

DHIS2CPP_INLINE std::vector<BackgroundWatch> TaskManager::active() const { return core_->active(); }

}  // namespace dhis2

#endif  // DHIS2_IMPL_TASK_MANAGER_IPP
