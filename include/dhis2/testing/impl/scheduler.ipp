#ifndef DHIS2_TESTING_IMPL_SCHEDULER_IPP
#define DHIS2_TESTING_IMPL_SCHEDULER_IPP

// Definitions of <dhis2/testing/scheduler.hpp>.

#include <dhis2/testing/scheduler.hpp>

#include <algorithm>
#include <utility>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE Scheduler::Scheduler(VersionProfile profile, SysTime now)
    : profile_(std::move(profile)), last_tick_(floor_to_tick(now)) {}

DHIS2CPP_INLINE SysTime Scheduler::floor_to_tick(SysTime t) {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const auto loop = std::chrono::duration_cast<std::chrono::milliseconds>(kLoop);
  return SysTime(std::chrono::duration_cast<SysTime::duration>(since - since % loop));
}

DHIS2CPP_INLINE bool Scheduler::is_continuous(const std::string& type) const {
  if (type == "METADATA_IMPORT" || type == "TRACKER_IMPORT_JOB" || type == "DATA_INTEGRITY" ||
      type == "DATA_INTEGRITY_DETAILS") {
    return true;
  }
  return profile_.continuous_geojson && (type == "GEOJSON_IMPORT" || type == "SMS_INBOUND_PROCESSING");
}

DHIS2CPP_INLINE bool Scheduler::running_of_type(const LiveJobs& jobs, const std::string& type) {
  for (const auto& entry : jobs) {
    if (entry.second->info.job_type == type && entry.second->info.job_status == "RUNNING") return true;
  }
  return false;
}

DHIS2CPP_INLINE void Scheduler::enqueue(Job& job, SysTime now) const {
  job.queued = true;
  job.queued_at = now;
  job.info.job_status = "SCHEDULED";
}

DHIS2CPP_INLINE Job* Scheduler::next_continuous(const LiveJobs& jobs, const std::string& type) const {
  if (!is_continuous(type) || running_of_type(jobs, type)) return nullptr;
  return oldest_queued(jobs, type);
}

DHIS2CPP_INLINE std::optional<SysTime> Scheduler::next_event(const LiveJobs& jobs) const {
  std::optional<SysTime> next;
  const auto consider = [&next](SysTime t) {
    if (!next || t < *next) next = t;
  };
  bool tick_needed = false;
  for (const auto& entry : jobs) {
    const Job& job = *entry.second;
    if (job.info.job_status == "RUNNING") {
      if (job.run.died_at) {
        consider(*job.run.died_at + kRescheduleStaleAfter);
      } else if (job.run.finish_at) {
        consider(*job.run.finish_at);
      } else {
        consider(job.run.next_at);
        if (job.run.cancel_requested && !job.run.cancel_flag) tick_needed = true;
      }
      if (job.run.next_persist && !job.run.died_at) consider(*job.run.next_persist);
    }
    if (job.queued && !is_continuous(job.info.job_type)) tick_needed = true;
  }
  if (tick_needed && profile_.scheduler_grid) consider(last_tick_ + kLoop);
  return next;
}

DHIS2CPP_INLINE std::vector<Job*> Scheduler::tick(const LiveJobs& jobs, SysTime t) {
  last_tick_ = t;
  for (const auto& entry : jobs) {
    Run& run = entry.second->run;
    if (run.cancel_requested && *run.cancel_requested <= t) run.cancel_flag = true;
  }
  std::vector<std::string> types;
  for (const auto& entry : jobs) {
    const Job& job = *entry.second;
    if (job.queued && !is_continuous(job.info.job_type) &&
        std::find(types.begin(), types.end(), job.info.job_type) == types.end()) {
      types.push_back(job.info.job_type);
    }
  }
  // Types are independent: starting (even finishing) a job of one changes nothing for another.
  std::vector<Job*> start;
  for (const auto& type : types) {
    if (running_of_type(jobs, type)) continue;
    if (Job* next = oldest_queued(jobs, type)) start.push_back(next);
  }
  return start;
}

DHIS2CPP_INLINE std::vector<Job*> Scheduler::due_at(const LiveJobs& jobs, SysTime t) {
  std::vector<Job*> due;
  for (const auto& entry : jobs) {
    Job& job = *entry.second;
    if (job.info.job_status != "RUNNING") continue;
    const SysTime at = job.run.died_at     ? *job.run.died_at + kRescheduleStaleAfter
                       : job.run.finish_at ? *job.run.finish_at
                                           : job.run.next_at;
    if (at == t) due.push_back(&job);
  }
  std::sort(due.begin(), due.end(), [](const Job* a, const Job* b) { return a->order < b->order; });
  return due;
}

DHIS2CPP_INLINE void Scheduler::pass(SysTime now) {
  if (floor_to_tick(now) > last_tick_) last_tick_ = floor_to_tick(now);
}

DHIS2CPP_INLINE Job* Scheduler::oldest_queued(const LiveJobs& jobs, const std::string& type) {
  Job* oldest = nullptr;
  for (const auto& entry : jobs) {
    Job& job = *entry.second;
    if (job.queued && job.info.job_type == type && (!oldest || job.order < oldest->order)) oldest = &job;
  }
  return oldest;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_SCHEDULER_IPP
