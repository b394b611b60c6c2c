#ifndef DHIS2_TESTING_SCHEDULER_HPP
#define DHIS2_TESTING_SCHEDULER_HPP

// When the job engine's jobs run (dhis2-wire.md §2.3, §3.2, §3.3): the queue (a job's `queued`
// flag, oldest first), the 20-second scheduler/housekeeping loop of 2.41+ (jobs start at once on
// 2.38-2.40), the continuous job types that start at once one at a time per type, and the next
// moment anything happens. It decides which job starts or steps; the engine does it. Internal to
// the emulator (dhis2::testing::detail). It sees only the live jobs (LiveJobs: RUNNING or queued).
//
// Not thread-safe; guarded by JobEngine::mutex_.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/job_record.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dhis2 {
namespace testing {
namespace detail {

class Scheduler {
 public:
  static constexpr std::chrono::seconds kLoop{20};                  // §2.3
  static constexpr std::chrono::minutes kRescheduleStaleAfter{10};  // §3.3
  static constexpr std::chrono::seconds kProgressEvery{10};         // §3.3: the `alive` observer

  // The loop's last tick is the one at or before `now`.
  Scheduler(VersionProfile profile, SysTime now);

  static SysTime floor_to_tick(SysTime t);

  // Types that do not wait for the loop (§2.3).
  bool is_continuous(const std::string& type) const;

  static bool running_of_type(const LiveJobs& jobs, const std::string& type);

  // The job is queued (SCHEDULED) from `now`; a continuous type's may start at once
  // (next_continuous).
  void enqueue(Job& job, SysTime now) const;

  // The queued job of a continuous `type` to start now (none runs), or null.
  Job* next_continuous(const LiveJobs& jobs, const std::string& type) const;

  // The next moment something happens besides a queued notification row, or empty.
  std::optional<SysTime> next_event(const LiveJobs& jobs) const;

  // Whether `t` is the loop's next tick (2.41+).
  bool is_tick(SysTime t) const { return profile_.scheduler_grid && t == last_tick_ + kLoop; }

  // One scheduler/housekeeping loop at `t` (§2.3, §3.2): applies the cancellations requested by
  // then and returns the jobs to start, the oldest queued one of each type with none running.
  std::vector<Job*> tick(const LiveJobs& jobs, SysTime t);

  // The running jobs whose next thing (a step, the commit of the row, the stale-job check) is due
  // at `t`, oldest first.
  static std::vector<Job*> due_at(const LiveJobs& jobs, SysTime t);

  // Ticks with nothing to do still pass: the next tick starts from the last one by `now`.
  void pass(SysTime now);

 private:
  static Job* oldest_queued(const LiveJobs& jobs, const std::string& type);

  VersionProfile profile_;
  SysTime last_tick_;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/scheduler.ipp>
#endif

#endif  // DHIS2_TESTING_SCHEDULER_HPP
