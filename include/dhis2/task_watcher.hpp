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
// cancel() makes a blocked wait throw TaskCancelledError within milliseconds, also while an
// HTTP request is in flight (it is interrupted).
//
// A TaskWatcher shares its Client's state: it stays valid when the Client is moved or destroyed
// (Client::close() makes it throw UsageError).

#include <dhis2/cancellation.hpp>
#include <dhis2/client_options.hpp>
#include <dhis2/detail/client_core.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/feed_tail.hpp>
#include <dhis2/detail/pacing.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/task_types.hpp>
#include <dhis2/watch_rules.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace dhis2 {

class BackgroundWatch;  // task_manager.hpp
struct WatchCallbacks;  // task_manager.hpp

namespace detail {

// 64-bit FNV-1a, as 16 hex digits: a row's key in a resume token, whatever the row's size.
std::string key_hash(const std::string& text);

class ManagerCore;  // task_manager.hpp: runs TaskWatcher rounds on its threads

}  // namespace detail

class TaskWatcher {
 public:
  using Callback = std::function<bool(const Notification&)>;

  // Watches `ref`. A ref from TaskRef::parse(token) of a watcher's resume token continues after
  // the last row that watcher delivered. Throws UsageError for an empty ref or invalid options.
  TaskWatcher(Client& client, TaskRef ref, WatchOptions options = {});

  // The reference without the position (see resume_token() for where the watch stands).
  const TaskRef& ref() const noexcept { return ref_; }

  // Blocks until the job ends and returns how it ended. An empty timeout waits without a
  // deadline (hours-long analytics runs). Throws TaskTimeoutError (deadline or stall),
  // TaskCancelledError (cancel()), and the Client's errors that are not transient
  // (AuthenticationError, a 4xx ApiError such as an unknown job type).
  TaskCompletion wait(std::optional<std::chrono::milliseconds> timeout);

  // As wait(), and calls `callback` with each new notification once, oldest first. Returns the
  // completion, or an empty optional when the callback returned false to stop early. When the
  // callback runs, resume_token() already counts its row as delivered.
  std::optional<TaskCompletion> for_each_notification(Callback callback,
                                                      std::optional<std::chrono::milliseconds> timeout);

  // Makes a blocked wait() or for_each_notification() throw TaskCancelledError, and every later
  // one too (a cancelled watcher stays cancelled). The job on the server is untouched: use
  // client.jobs().cancel(ref) for that.
  void cancel();

  // Where the watch stands: after the last row delivered.
  WatchPosition position() const;

  // A resume token for this watch: TaskWatcher(client, TaskRef::parse(token)) in any process
  // delivers only the rows not delivered before and ends as this watch would have. A row counts
  // as delivered from the moment its callback starts: take the token inside the callback, after
  // handling the row, for exactly-once delivery across processes (a token taken on another thread
  // while a callback runs already counts that row).
  std::string resume_token() const;

  // The job's progress now: the server's structured progress on 2.41+ (read at most every
  // WatchOptions::progress_interval; a cached copy in between), else (and when the server does not
  // let this user read it) what the rows delivered so far say. Does not throw for transient
  // failures: it then returns the last progress known.
  JobProgress progress();

  // The same watch in the background, from where this one stands: a TaskManager of one thread
  // (and a callback thread for `callbacks`) that ends with the watch. Returns at once; see
  // task_manager.hpp for the handle and the callbacks (include it to call these: they are
  // defined with the manager). This watcher is not used by it. Cancel the watch, or wait for it,
  // before the program ends.
  BackgroundWatch start(const WatchCallbacks& callbacks, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  BackgroundWatch start();

 private:
  using steady = std::chrono::steady_clock;
  // The previous-run filter: deciding, setting a list aside, about to take the next list as this
  // run's, or off.
  enum class Filter { Pending, Active, Confirm, Off };

  // ---- the loop -------------------------------------------------------------------------------

  // wait() and for_each_notification(): begin(), then round() after round(), sleeping the pause
  // each asks for. A TaskManager runs the same rounds on its threads, with its own pauses.
  std::optional<TaskCompletion> run(const Callback* callback, std::optional<std::chrono::milliseconds> timeout);

  // Starts a wait: the deadline, the first pause, and what the server's version says (this may
  // connect the client, and throws as wait() does).
  void begin(std::optional<std::chrono::milliseconds> timeout);

  // One round: a poll, the new rows delivered to `callback` (if any), and the rules' decision.
  // done with a completion when the job ended; done without one when the callback returned
  // false; otherwise the pause before the next round. Throws as wait() does.
  struct Round {
    bool done = false;
    std::optional<TaskCompletion> completion;
    std::chrono::milliseconds pause{0};
  };
  Round round(const Callback* callback);
  Round round_once(const Callback* callback);     // round() without dropping tail_ when it throws
  Round summary_round();                          // a round that reads only the task summary (Pace::summary)
  Round decide_round(detail::WatchFacts& facts);  // the rules on a round's facts, and what comes next

  struct Decided {
    const WatchRule* rule;
    detail::Verdict verdict;
    detail::SummaryRead summary;
  };

  // Where a wait stands between rounds.
  struct Pace {
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<steady::time_point> deadline;
    steady::time_point begun{};  // when this wait began
    // When the last poll that found no row of this run was sent, while the job's start is unknown.
    std::optional<steady::time_point> empty_sent;
    std::optional<Decided> swept;  // a decision taken on the job row's word, waiting for one more poll
    // The run ended and its task summary is not in yet (a data value import writes it just after
    // its last row): the next rounds read only the summary, until it is in or `until` passes, and
    // decide again on the facts of the round that found the end.
    struct SummaryWait {
      steady::time_point until;
      std::chrono::milliseconds pause;  // before the next read: 100 ms, doubling up to 1 s
      detail::WatchFacts facts;
    };
    std::optional<SummaryWait> summary;
  };
  // The pause before the next poll (detail/pacing.hpp): by the job's age once it is known to have
  // started; before that by the wait's, or the longest pause where the job waits for the 2.41+
  // scheduler's tick (a poll between ticks cannot see it start).
  std::chrono::milliseconds next_pause(steady::time_point now) const;
  // Whether the job, not yet started, waits for the 20-second scheduler tick (§2.3): 2.41+, and
  // not a type that starts at once.
  bool waits_for_tick() const;

  // What the server is known to do, from its version; Maybe where the version is unknown.
  struct Traits {
    std::optional<ServerVersion> version;
    detail::Tri unique_ids = detail::Tri::Maybe;   // §1.2: 2.40.8+
    detail::Tri stale_rule = detail::Tri::Maybe;   // §1.6: 2.41.1+
    detail::Tri ad_hoc_rows = detail::Tri::Maybe;  // §3.1: 2.41+
    detail::Tri progress = detail::Tri::Maybe;     // §3.3: 2.41+
  };
  Traits traits();

  // Hooks the rules' lazy reads (job row, summary, integrity results, running list) to this watcher.
  void bind_reads(detail::WatchFacts& f);
  detail::WatchFacts round_facts();
  void fill_feed_facts(detail::WatchFacts& f);

  // Remembers what a successful job-row read showed: that this run was seen running, and when
  // the row was last asked (the quiet check asks again start_grace later).
  void note_job_row(const detail::JobRow& row);

  // ---- the feed --------------------------------------------------------------------------------

  // The feed, newest first; empty optional after a transient failure (retried at the next poll),
  // and when the body is byte for byte the one the last poll absorbed in full (settled_): that
  // poll's rows were all delivered, and the same body would bring nothing new, so most polls of a
  // long job cost no parse at all.
  std::optional<std::vector<Notification>> poll_feed();
  // poll_feed() without its handling of the failures a next poll may get past.
  std::optional<std::vector<Notification>> read_feed();
  // Notes a failed read of the feed (for a timeout's message) and answers as poll_feed() does.
  std::optional<std::vector<Notification>> failed_read(const Error& e);
  // "; the last N reads of the feed failed, the latest: ..." when the last read failed, else "".
  std::string feed_trouble() const;

  // The feed read only down to the anchor (the newest non-LOOP row delivered), where rows are
  // known by unique ids and the list is this run's: the rows after it in the body are delivered
  // already, and absorb() makes of [newer rows..., anchor] what it makes of the whole list (it
  // looks for the newest copy of the anchor, and takes what is newer). A poll with a new row then
  // decodes that row and the anchor, not the whole list. nullopt when this does not apply or the
  // anchor is not in the body (a cap evicted it): poll_feed() then reads the whole body.
  std::optional<std::vector<Notification>> down_to_anchor(const Response& response);

  // Where rows are known by content (2.38-2.40.7), a row's key counts the equal rows below it, so
  // the whole list is needed, but the rows below the last body's newest come back unchanged: when
  // the body ends with their bytes, only the rows above them are decoded, and the list is the same
  // as the whole body's decoding. nullopt when this does not apply: poll_feed() reads the body.
  std::optional<std::vector<Notification>> through_known_tail(const Response& response);
  // After a whole body was read: keeps its tail for through_known_tail() where rows are known by
  // content (and nothing elsewhere).
  void remember_tail(const std::string& body, const std::vector<Notification>& newest_first);

  // Decides once, from the version or (when it is unknown) from the rows, how rows are known: by
  // id, or by content where every id is the job id (2.38-2.40.7, §1.2).
  void decide_keys(const std::vector<Notification>& oldest_first);

  // Every row's key, oldest first. Content keys leave out `completed`, so that DHIS2's stale copy
  // of a row (the same row marked completed) is recognised, and count equal rows in order.
  std::vector<std::string> keys_of(const std::vector<Notification>& oldest_first, bool content) const;

  // The rows of this run: the previous-run filter. A saved job that runs again keeps its previous
  // run's list (ending in a completed row) until the new run starts and clears it (§1.5). The job
  // row decides, once, whether the first list seen is this run's: a job created by the kick-off
  // has had no earlier run; a queued one has not started. A list set aside stays aside until its
  // newest row changes (the new run wrote), or a later look at the job row says the run began or
  // ended; an empty answer (the stale rule's wipe, another cluster node) changes nothing. Row
  // times are not compared with the kick-off: clocks move and cluster nodes disagree (class 5).
  std::vector<Notification> this_run(std::vector<Notification> rows, detail::WatchFacts& facts);

  // Mine: the job row says so by identity (no earlier run). MineIfStill: the job row, read after
  // the feed, says this run began or ended, so the list is its own if the next poll (which comes
  // after that read) still shows it, or shows the new run's.
  enum class Judged { Mine, MineIfStill, Previous, Undecided };
  // Whether a list whose newest row is `newest` is this run's, by the job row.
  Judged judge(const detail::JobRow& row, const Notification& newest);

  struct Fresh {  // a row to deliver, its key, and whether it came alone (a possible stale copy)
    Notification row;
    std::string key;
    bool lone = false;
  };

  // Takes one poll's rows (newest first) and returns the new ones, oldest first. Notes the end
  // row (a completed row, DHIS2's stale copy, or a lone completed row that may be one) and
  // whether the feed emptied after rows were seen.
  std::vector<Fresh> absorb(std::vector<Notification> newest_first, detail::WatchFacts& facts);

  // Delivers one row: the position moves past it, and the end row follows it, before the
  // callback sees it (a callback that throws leaves the watch where that row left it).
  void record(const Fresh& fresh);

  // ---- reads besides the feed ----------------------------------------------------------------

  detail::JobRow read_job_row();

  // The task summary, read once (a round that finds it empty or unreadable reads it again at
  // the next, up to summary_wait: summary_retry()).
  detail::SummaryRead read_summary();
  // After a round's decision: the pause before the round that reads the summary again, when this
  // one read it and did not find it, and summary_wait (or the deadline) has not passed since the
  // round that first missed it. Keeps `facts` for that round.
  std::optional<std::chrono::milliseconds> summary_retry(detail::WatchFacts& facts);

  // <=2.40 data integrity results; only the checks that finished at or after the kick-off count
  // (the endpoint keeps an earlier run's results, class 8).
  detail::IntegrityRead read_integrity();

  // Whether the server lists the job among its type's running ones (<=2.40: an array of processes
  // with jobId; 2.41+: a Progress object whose processes carry jobId, or an empty body).
  detail::RunningRead read_running();

  // ---- progress --------------------------------------------------------------------------------

  // The server's progress (2.41+), or nullopt when it has none for us: no such endpoint, no access,
  // nothing recorded yet, or a transient failure.
  std::optional<JobProgress> read_server_progress();

  JobProgress derived_progress() const;

  // The server's latest progress (read at most every progress_interval unless `fresh`); empty
  // where the server has none for us.
  // Another thread reading it meanwhile gets the cached copy: nobody waits on a request.
  std::optional<JobProgress> server_progress_now(bool fresh);

  std::optional<JobProgress> cached_progress_locked() const;

  // The server's progress where it has one, else what the rows say.
  JobProgress progress_now(bool fresh);

  void report_derived_progress();

  // Servers with structured progress report only that one (not the rows' too, which would make
  // the callback flip between two views of the job).
  void report_server_progress();

  // ---- the end -------------------------------------------------------------------------------

  TaskCompletion finish(const WatchRule& rule, detail::Verdict verdict, const detail::SummaryRead& summary);

  // ---- time, cancellation, messages ----------------------------------------------------------

  friend class TasksApi;
  friend class detail::ManagerCore;
  TaskWatcher(std::shared_ptr<detail::ClientCore> core, TaskRef ref, WatchOptions options);

  // UsageError naming the first option out of range.
  static void check_options(const WatchOptions& options);

  // GET through the client, interrupted by cancel() (TaskCancelledError).
  nlohmann::json get(const std::string& path, const Query& query = {});

  void sleep(std::chrono::milliseconds d);
  void throw_if_cancelled();
  std::string last_seen() const;
  static std::string human(std::chrono::milliseconds d);
  std::string describe_deadline(std::chrono::milliseconds timeout) const;
  std::string describe_stall() const;

  std::shared_ptr<detail::ClientCore> core_;
  TaskRef ref_;
  WatchOptions options_;
  CancellationToken cancel_token_;  // cancel() cancels it: a request in flight stops
  RequestOptions requests_;         // every request of this watch: with cancel_token_

  // Guarded by mutex_ (read by resume_token(), position() and progress() from other threads).
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  WatchPosition position_;
  std::vector<Notification> delivered_this_wait_;  // oldest first

  // The waiting thread's own state.
  Pace pace_;
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
  // The body of the last poll whose rows were all delivered with the previous-run filter off; empty
  // while a poll is being absorbed, after a callback stopped or threw, and at each begin().
  std::optional<detail::BodyDigest> settled_;
  std::optional<detail::BodyDigest> polled_;  // the body poll_feed() just returned, when it was a 200
  // Where rows are keyed by content (2.38-2.40.7): the last feed body's rows below its newest, so
  // that a poll decodes only the rows above them (detail::rows_through_tail).
  std::optional<detail::FeedTail> tail_;
  // The reads of the feed that failed in a row since the last one that succeeded, and the
  // latest one's error (reset at each begin()).
  int feed_failures_ = 0;
  std::string feed_failure_;
  // The server's clock, from the feed answers' Date headers; when the last poll was sent and
  // answered; what says when this run of the job started (kept across waits): its first row's
  // time, and the polls before and at its first sight. The start is estimated again at every
  // pause, as later answers narrow the clock.
  detail::ServerClock server_clock_;
  steady::time_point poll_sent_{}, poll_received_{};
  struct JobSighting {
    std::optional<LocalTime> first_row, newest_row;
    std::optional<steady::time_point> after;  // the last poll that found no row was sent
    steady::time_point before{};              // the poll that found the first row was answered
  };
  std::optional<JobSighting> job_seen_;
  bool resumed_ = false;       // from a resume token that had delivered rows
  bool clock_seeded_ = false;  // server_clock_ has the handshake's sample (when there was one)
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
// shares its Client's state.
class TasksApi {
 public:
  explicit TasksApi(Client& client);

  // Waits for the job to end, polling every `poll_interval` at the most, for up to `timeout`
  // (empty: no deadline). See TaskWatcher::wait for what it throws.
  TaskCompletion await_completion(const TaskRef& ref,
                                  std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(600),
                                  std::chrono::milliseconds poll_interval = std::chrono::seconds(2));

 private:
  friend class Client;
  explicit TasksApi(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/task_watcher.ipp>
#endif

#endif  // DHIS2_TASK_WATCHER_HPP
