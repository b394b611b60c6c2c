#ifndef DHIS2_TASK_MANAGER_HPP
#define DHIS2_TASK_MANAGER_HPP

// dhis2::TaskManager: watches many DHIS2 jobs in the background, on a bounded set of threads, for
// programs that must keep working while the jobs run. Each watch runs the rounds of a
// TaskWatcher (the same rules, the same answers as a blocking wait), and a BackgroundWatch is its
// handle: status, times, progress, the completion, cancel(). Watches of one job type share a poll
// of the type's overview where the server has its gist (TaskManagerOptions::share_polls).
//
// Threads: TaskManagerOptions::threads poll (default 2, never one per job); one more thread,
// started with the first watch that has callbacks, runs every callback, one at a time, in order
// for each watch. A slow callback delays other callbacks, never a poll. An exception thrown by a
// callback is captured into that watch's handle (status Failed, the error kept, the watch
// stopped); it never reaches a thread of the manager or stops another watch.
//
// Thread safety: every member of TaskManager and BackgroundWatch may be called from any thread,
// the callbacks included, with one rule: on the callback thread, and in a chain's start function
// (on a polling thread), get() and wait_for() of a watch whose result is not in yet throw
// UsageError (waiting there could wait for itself).

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/task_types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dhis2 {

class Client;

// Where a background watch stands. Queued: no round has run yet. Running: being watched.
// The rest are final: the job Succeeded, Failed (or the watch failed: get() rethrows the error),
// was Cancelled (on the server, or the watch was cancelled: get() rethrows TaskCancelledError),
// the watch TimedOut (get() rethrows TaskTimeoutError), or the job ended and the server no longer
// says how (Unknown, TaskOutcome::Unknown).
enum class WatchStatus { Queued, Running, Succeeded, Failed, Cancelled, TimedOut, Unknown };

// "queued", "running", "succeeded", "failed", "cancelled", "timed out", "unknown".
const char* to_string(WatchStatus status) noexcept;
bool is_final(WatchStatus status) noexcept;

class BackgroundWatch;
struct WatchCallbacks;

namespace detail {
struct WatchRecord;
class ManagerCore;
class ClientCore;
// TaskWatcher::start(): one watch on a manager of its own, which shuts down when the watch ends.
BackgroundWatch start_single(std::shared_ptr<ClientCore> client, TaskRef ref, WatchOptions options,
                             const WatchCallbacks& callbacks, std::optional<std::chrono::milliseconds> timeout);
}  // namespace detail

// A cheap, copyable handle to one background watch. Every copy shares one state, which outlives
// the TaskManager: after the manager is gone, a watch it had not finished is Cancelled.
// A default-constructed handle is empty: every member but the bool conversion throws UsageError.
class BackgroundWatch {
 public:
  using clock = std::chrono::system_clock;

  BackgroundWatch() = default;
  explicit operator bool() const noexcept { return static_cast<bool>(record_); }

  std::uint64_t id() const;  // unique within its TaskManager, from 1
  TaskRef ref() const;       // the job watched; empty for a chained job that has not started
  WatchStatus status() const;

  std::optional<clock::time_point> queued_at() const;    // when watch() or after() took it
  std::optional<clock::time_point> started_at() const;   // when its first round began
  std::optional<clock::time_point> finished_at() const;  // when its result came in

  // The latest progress: the server's structured progress on 2.41+, else what the rows say;
  // empty until the watch reports any. Never makes a request.
  std::optional<JobProgress> progress() const;

  // Where the watch stands, for a TaskManager or TaskWatcher in another process to take over
  // (TaskRef::parse(token)). With an on_notification callback a row counts as delivered when its
  // callback starts (the polling runs ahead of the callbacks): take the token inside the callback,
  // after handling the row, for exactly-once delivery across a restart. Empty for a chained job
  // that has not started.
  std::string resume_token() const;

  // Blocks until the watch is final; the completion when the job ended (whatever its outcome,
  // see TaskCompletion::ok()), or rethrows the error that ended the watch: TaskCancelledError,
  // TaskTimeoutError, the Client's errors, or the exception a callback threw.
  TaskCompletion get() const;

  // Waits up to `timeout`; true when the watch is final.
  bool wait_for(std::chrono::milliseconds timeout) const;

  // Stops watching (status Cancelled, get() throws TaskCancelledError) unless the watch is final
  // already; a request in flight is interrupted. The job on the server is untouched:
  // client.jobs().cancel(watch.ref()) asks the server to cancel it.
  void cancel() const;

  // The error that ended the watch, or null.
  std::exception_ptr error() const;

  // A future that becomes ready with get()'s answer (the completion or the error).
  std::future<TaskCompletion> to_future() const;

 private:
  friend class detail::ManagerCore;
  friend class TaskManager;
  friend BackgroundWatch detail::start_single(std::shared_ptr<detail::ClientCore>, TaskRef, WatchOptions,
                                              const WatchCallbacks&, std::optional<std::chrono::milliseconds>);
  explicit BackgroundWatch(std::shared_ptr<detail::WatchRecord> record) : record_(std::move(record)) {}
  const detail::WatchRecord& record(const char* what) const;

  std::shared_ptr<detail::WatchRecord> record_;
};

// Called on the manager's callback thread (see the top of this file), each with the watch's handle.
struct WatchCallbacks {
  std::function<void(const BackgroundWatch&)> on_started;                            // when its first round begins
  std::function<void(const BackgroundWatch&, const Notification&)> on_notification;  // each new row once, in order
  std::function<void(const BackgroundWatch&, const JobProgress&)> on_progress;       // when the progress changes
  // Once, after every other callback of the watch, when its result is in: status() and get()
  // answer at once here. The handle's waiters wake after it returns.
  std::function<void(const BackgroundWatch&)> on_finished;
};

struct TaskManagerOptions {
  std::size_t threads = 2;  // the threads that poll (at least 1)
  // Watches of one job type share a poll where the server has the overview's gist (2.40.8+,
  // 2.41.4+, 2.42+): one GET /api/system/tasks/{jobType}?gist=true shows every job's newest and
  // oldest row, and only the watches whose job changed poll their own feed. An overview serves
  // each watch of the type that falls due while it is younger than that watch's pause between
  // polls, so a change is seen as soon as the watch's own poll would have seen it.
  bool share_polls = true;
  // A watch whose job shows no change is checked at least this often, for a job that ends
  // without writing a row (cancelled on 2.41+, a server that died): on 2.41+ by its job row, read
  // in one GET /api/jobConfigurations for every watch whose check falls due (up to 100 ids a
  // request), and its own feed is polled only when the row says the job ended or has no row (or
  // the read failed); on older servers by a poll of its own feed. Such an ending is seen within it.
  std::chrono::milliseconds full_poll_interval{10000};
  // Finished watches find() still knows, the oldest forgotten first. Unfinished ones are always kept.
  std::size_t keep_finished = 1000;
};

class TaskManager {
 public:
  // The client is shared (its state, not the Client object): it may be moved or destroyed, and
  // used by other threads meanwhile. Throws UsageError for a moved-from client or threads 0.
  explicit TaskManager(Client& client, TaskManagerOptions options = {});

  // Cancels every watch that has not finished, and joins the threads: within milliseconds, also
  // while they sleep between polls or wait for a slow response (a callback that is running is
  // waited for; callbacks not run yet are dropped, on_finished too). Every handle is final after.
  ~TaskManager();

  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  // Starts watching `ref` (a ref from TaskRef::parse(resume token) resumes that watch): its first
  // round runs as soon as a thread is free. `timeout` empty: no deadline. Throws UsageError for an
  // empty ref, invalid options, or a manager being destroyed.
  BackgroundWatch watch(const TaskRef& ref, WatchCallbacks callbacks = {}, WatchOptions options = {},
                        std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Picks up watches that another manager (another process, before a restart) had running: one
  // watch per resume token (TaskRef::parse), each delivering only the rows not delivered before.
  // Throws UsageError naming the first token that does not parse, before it starts any.
  std::vector<BackgroundWatch> resume(const std::vector<std::string>& tokens, const WatchCallbacks& callbacks = {},
                                      const WatchOptions& options = {},
                                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // A job that starts only when every one of `predecessors` Succeeded: `start` runs then, on a
  // polling thread, and returns the new job's ref (e.g. [&client] { return
  // client.jobs().start_analytics(); }), which the returned watch then follows. A predecessor that
  // ends any other way cancels the chain: the watch is Cancelled, `start` never runs, and get()
  // throws TaskCancelledError naming the predecessor and how it ended. Any exception from
  // `start` fails the watch (Failed) with that error.
  BackgroundWatch after(const std::vector<BackgroundWatch>& predecessors, std::function<TaskRef()> start,
                        WatchCallbacks callbacks = {}, WatchOptions options = {},
                        std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Waits for every handle: the completions in the handles' order. Throws TaskTimeoutError naming
  // the jobs that had not finished when `timeout` passed (empty: no deadline), or the first error
  // (in the handles' order) that ended a watch, as its get() would.
  std::vector<TaskCompletion> wait_all(const std::vector<BackgroundWatch>& handles,
                                       std::optional<std::chrono::milliseconds> timeout) const;

  void cancel_all();  // cancels every watch that has not finished

  std::optional<BackgroundWatch> find(std::uint64_t id) const;
  std::vector<BackgroundWatch> active() const;  // the watches not final yet, oldest first

 private:
  std::shared_ptr<detail::ManagerCore> core_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/task_manager.ipp>
#endif

#endif  // DHIS2_TASK_MANAGER_HPP
