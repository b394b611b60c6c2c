#ifndef DHIS2_TESTING_NOTIFICATION_STORE_HPP
#define DHIS2_TESTING_NOTIFICATION_STORE_HPP

// The emulator's notifier (dhis2-wire.md §1): a feed of rows per job and type, newest first, with
// the emulated version's rules: notification ids, LOOP replacement, the new notifier's caps (500
// rows per job, the first kept; 500 jobs per type and 7 days, applied once it is idle), the old
// notifier's pool of 500 rows per type with its eviction order, the asynchronous write queue, job
// summaries, DELETE, and the stale rule of 2.41.1+. Internal to the emulator
// (dhis2::testing::detail).
//
// Not thread-safe; guarded by JobEngine::mutex_.

#include <dhis2/detail/config.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/testing/id_generator.hpp>
#include <dhis2/testing/job_record.hpp>
#include <dhis2/testing/time_zone.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

// A row waiting in the notifier's asynchronous queue (2.40.8+, 2.41.4+, 2.42+; §1.4).
struct PendingRow {
  SysTime due;
  SysTime written;  // when the job made the call: the row's time
  std::string uid;
  NotificationLevel level;
  std::optional<std::string> text;
  bool completed;
  std::optional<nlohmann::json> parameters;
};

class NotificationStore {
 public:
  static constexpr std::size_t kMaxMessagesPerJob = 500;  // §1.4
  static constexpr std::size_t kMaxJobsPerType = 500;     // §1.4
  static constexpr std::chrono::hours kMaxAge{24 * 7};    // §1.4 notifierMaxAgeDays

  // Rows are written in `zone`, at the time of the node that runs jobs: `job_node_offset` off.
  NotificationStore(VersionProfile profile, ServerTimeZone zone, std::chrono::milliseconds job_node_offset,
                    IdGenerator& ids);

  // ---- writing -----------------------------------------------------------------------------

  // A row of `job` written at `t`; with `parameters`, a PARAMETERS row carrying them (unless null).
  void store(const Job& job, SysTime t, NotificationLevel level, std::optional<std::string> text, bool completed,
             const nlohmann::json* parameters);

  // The async queue: a row stored when it falls due (the engine stores it through store()).
  void queue(PendingRow row) { pending_.push_back(std::move(row)); }
  // The earliest due time in the queue, or empty.
  std::optional<SysTime> next_queued() const;
  // The first queued row due exactly at `t`, taken out of the queue.
  std::optional<PendingRow> take_queued(SysTime t);

  void set_summary(const std::string& type, const std::string& uid, const nlohmann::json& value, SysTime t);

  // A job's rows and summary are gone (a new run, DELETE, the stale rule).
  void clear_job(const std::string& type, const std::string& uid);

  // A restart with the in-memory store: every row, summary and queued write is gone (§1.4).
  void lose_everything();

  // DELETE /api/system/tasks[/{type}] (2.40.8+, §1.1): an empty type means every type; without a
  // cap every job goes, else the jobs past `max_count` (most recent first) or older than
  // `max_age_days` at `now`.
  void clear(const std::string& type, std::optional<std::size_t> max_count, std::optional<int> max_age_days, SysTime now);

  // The new notifier's max-jobs and max-age caps (notifications and summaries) run only once no
  // notification has been written for notifierCleanAfterIdleTime: 10 min on 2.42+, 1 min on the
  // 2.40.8+/2.41.4+ backports (§1.4).
  void clean_if_idle(SysTime t);

  // ---- reading -----------------------------------------------------------------------------

  // A job's rows, newest first. With `stale_rule` (2.41.1+, §1.6), a list whose newest row is not
  // completed while the job is not running is wiped (rows and summary) and its newest row
  // returned once, marked completed.
  std::vector<Notification> read(const std::string& type, const std::string& uid, bool stale_rule, bool job_running);

  // {jobId: [rows]}; gist trims each list to [newest, oldest] on the new notifier.
  nlohmann::ordered_json overview(const std::string& type, bool gist) const;

  // {type: {jobId: [rows]}}: every type of the version on the old notifier, those with data on the new.
  nlohmann::ordered_json all(bool gist) const;

  std::optional<nlohmann::json> summary(const std::string& type, const std::string& uid) const;

  // {jobId: summary}, most recently set first.
  nlohmann::ordered_json summaries(const std::string& type) const;

 private:
  struct Feed {
    std::deque<Notification> rows;  // newest first
    SysTime newest_time;
    std::uint64_t seq = 0;
  };
  struct StoredSummary {
    nlohmann::json value;
    std::uint64_t seq = 0;
    SysTime set_at{};  // its own age timestamp (§1.4)
  };

  // <=2.40.7 and 2.41.0-2.41.3 (NotificationMap.Pool#add, §1.4): one pool of 500 rows per type.
  // When it is full, the job that made the oldest addition loses a row: its newest if that is a
  // LOOP row, else its oldest; a job left without rows is dropped.
  void shorten_pool_if_full(const std::string& type);

  static std::vector<std::string> jobs_by_recency(const std::map<std::string, Feed>& jobs);

  // The most recently set kMaxJobsPerType summaries of a type stay; with `now`, also only those
  // set within kMaxAge.
  void cap_summaries(const std::string& type, std::optional<SysTime> now);

  const Feed* find_feed(const std::string& type, const std::string& uid) const;

  VersionProfile profile_;
  ServerTimeZone zone_;
  std::chrono::milliseconds job_node_offset_;
  IdGenerator& ids_;
  std::map<std::string, std::map<std::string, Feed>> feeds_;
  std::map<std::string, std::map<std::string, StoredSummary>> summaries_;
  std::map<std::string, std::deque<std::string>> pool_order_;  // <=2.41.3: additions per type, newest first
  std::deque<PendingRow> pending_;                             // the notifier's async queue
  std::optional<SysTime> last_write_;  // when the notifier last stored a row (idle cleaning, §1.4)
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/notification_store.ipp>
#endif

#endif  // DHIS2_TESTING_NOTIFICATION_STORE_HPP
