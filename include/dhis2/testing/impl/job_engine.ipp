#ifndef DHIS2_TESTING_IMPL_JOB_ENGINE_IPP
#define DHIS2_TESTING_IMPL_JOB_ENGINE_IPP

// Definitions of <dhis2/testing/job_engine.hpp>.

#include <dhis2/testing/job_engine.hpp>

#include <algorithm>
#include <utility>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE JobEngine::JobEngine(VersionProfile profile, Clock& clock, std::uint64_t seed, EngineClock time)
    : profile_(std::move(profile)),
      clock_(clock),
      time_(std::move(time)),
      ids_(seed),
      store_(profile_, time_.time_zone, time_.job_node_offset, ids_),
      scheduler_(profile_, clock_.now()),
      runner_(profile_, store_) {}

DHIS2CPP_INLINE std::string JobEngine::format_duration(std::chrono::milliseconds d) {
  return detail::StepRunner::format_duration(d);
}

// ---- scripts ---------------------------------------------------------------------------

DHIS2CPP_INLINE void JobEngine::script_next(const std::string& job_type, JobScript script) {
  std::lock_guard<std::mutex> lock(mutex_);
  next_scripts_[job_type].push_back(std::move(script));
}

DHIS2CPP_INLINE void JobEngine::set_default_script(const std::string& job_type, JobScript script) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_scripts_[job_type] = std::move(script);
}

DHIS2CPP_INLINE std::optional<JobScript> JobEngine::take_next_script(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto next = next_scripts_.find(job_type);
  if (next == next_scripts_.end() || next->second.empty()) return std::nullopt;
  JobScript script = std::move(next->second.front());
  next->second.pop_front();
  return script;
}

DHIS2CPP_INLINE void JobEngine::set_configuration_script(const std::string& uid, JobScript script) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  if (Job* job = find_locked(uid, now)) job->script = std::move(script);
}

// ---- starting, executing, cancelling -------------------------------------------------------

DHIS2CPP_INLINE JobEngine::Submitted JobEngine::submit(const std::string& job_type, nlohmann::json parameters,
                                                       const std::string& user_id, bool guard_running,
                                                       std::optional<JobScript> script) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job job;
  job.info.uid = ids_.new_uid();
  job.info.job_type = job_type;
  job.info.name = ids_.ad_hoc_name(job_type, now, profile_.scheduler_grid);
  job.info.created = now;
  job.info.last_updated = now;
  job.info.parameters = parameters;
  job.info.user_id = user_id;
  job.in_memory = !profile_.scheduler_grid;
  job.script = script ? std::move(*script) : take_script_locked(job_type, parameters);

  if (!profile_.scheduler_grid) {
    if (guard_running && detail::Scheduler::running_of_type(live_, job_type)) {
      if (profile_.already_running == AlreadyRunning::Conflict) {
        job.info.job_status = "FAILED";
        return Submitted{SubmitStatus::AlreadyRunning, job.info};
      }
      job.info.dropped = true;  // 2.38: logged and forgotten; its feed stays [] forever
      return Submitted{SubmitStatus::Accepted, add_job_locked(std::move(job)).info};
    }
    Job& added = add_job_locked(std::move(job));
    start_locked(added, now);
    return Submitted{SubmitStatus::Accepted, added.info};
  }
  Job& added = add_job_locked(std::move(job));
  enqueue_locked(added, now);
  return Submitted{SubmitStatus::Accepted, added.info};
}

DHIS2CPP_INLINE void JobEngine::add_job_configuration(const std::string& uid, const std::string& job_type,
                                                      const std::string& name, JobScript script,
                                                      nlohmann::json parameters) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job job;
  job.info.uid = uid;
  job.info.job_type = job_type;
  job.info.name = name;
  job.info.ad_hoc = false;
  job.info.scheduling_type = "CRON";
  job.info.cron_expression = "0 0 3 ? * *";
  job.info.created = now;
  job.info.last_updated = now;
  job.info.parameters = std::move(parameters);
  job.script = std::move(script);
  add_job_locked(std::move(job));
}

DHIS2CPP_INLINE JobEngine::ExecuteStatus JobEngine::execute(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job* job = find_locked(uid, now);
  if (!job || job->in_memory) return ExecuteStatus::NotFound;  // <=2.40 API-started: no row (§3.1)
  if (job->info.job_status == "RUNNING" || job->queued) return ExecuteStatus::AlreadyRunning;
  // <=2.40 refuses while any job of the type runs (isRunning(jobType)): E7006.
  if (!profile_.scheduler_grid && detail::Scheduler::running_of_type(live_, job->info.job_type))
    return ExecuteStatus::AlreadyRunning;
  // A finished ONCE_ASAP (API-started) job is not run again (§3.1 "Job did already run once.").
  if (job->info.ad_hoc && job->info.last_finished) return ExecuteStatus::AlreadyRanOnce;
  job->info.enabled = true;
  if (!profile_.scheduler_grid) {
    start_locked(*job, now);
  } else {
    // tryExecuteNow: ONCE_ASAP and SCHEDULED; nothing else on the row changes.
    job->info.scheduling_type = "ONCE_ASAP";
    enqueue_locked(*job, now);
  }
  return ExecuteStatus::Started;
}

DHIS2CPP_INLINE JobEngine::CancelStatus JobEngine::cancel(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job* job = find_locked(uid, now);
  if (!job) return CancelStatus::NotFound;
  request_cancel_locked(*job, now);
  return CancelStatus::Requested;
}

DHIS2CPP_INLINE JobEngine::RevertStatus JobEngine::revert(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job* job = find_locked(uid, now);
  if (!job || job->in_memory) return RevertStatus::NotFound;
  if (job->info.job_status != "RUNNING") return RevertStatus::NotRunning;
  if (profile_.revert_needs_stale_heartbeat && job->info.last_alive &&
      now <= *job->info.last_alive + std::chrono::minutes(1)) {
    return RevertStatus::StillAlive;
  }
  finish_locked(*job, now, "FAILED");  // no longer RUNNING: none of its steps runs again
  return RevertStatus::Reverted;
}

DHIS2CPP_INLINE void JobEngine::cancel_type(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  Job* last = nullptr;
  for (const auto& entry : live_) {
    Job& job = *entry.second;
    if (job.info.job_type == job_type && job.info.job_status == "RUNNING" && !job.run.died_at &&
        (!last || job.order > last->order)) {
      last = &job;
    }
  }
  if (last) request_cancel_locked(*last, now);
}

// ---- reads -------------------------------------------------------------------------------

DHIS2CPP_INLINE std::vector<Notification> JobEngine::feed(const std::string& job_type, const std::string& uid,
                                                          bool stale_rule) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  return store_.read(job_type, uid, stale_rule, job && job->info.job_status == "RUNNING");
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::overview(const std::string& job_type, bool gist) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  return store_.overview(job_type, gist);
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::all(bool gist) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  return store_.all(gist);
}

DHIS2CPP_INLINE std::optional<nlohmann::json> JobEngine::summary(const std::string& job_type, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  return store_.summary(job_type, uid);
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::summaries(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  return store_.summaries(job_type);
}

DHIS2CPP_INLINE void JobEngine::clear_notifications(const std::string& job_type, const std::string& uid,
                                                    std::optional<std::size_t> max_count,
                                                    std::optional<int> max_age_days) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  if (!uid.empty()) {
    store_.clear_job(job_type, uid);
    return;
  }
  store_.clear(job_type, max_count, max_age_days, now);
}

DHIS2CPP_INLINE std::optional<JobInfo> JobEngine::job_row(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  if (!job || job->in_memory) return std::nullopt;
  return row_locked(*job);
}

DHIS2CPP_INLINE std::vector<JobInfo> JobEngine::job_rows(const std::optional<std::vector<std::string>>& uids) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  std::vector<const Job*> rows;
  if (uids) {
    for (const auto& uid : *uids) {
      const Job* job = find_locked(uid, now);
      // An id given twice lists its row once, as the server's `id:in:[...]` does.
      if (job && !job->in_memory && std::find(rows.begin(), rows.end(), job) == rows.end()) rows.push_back(job);
    }
  } else {
    for (const auto& entry : jobs_) {
      if (!expired(entry.second, now) && !entry.second.in_memory) rows.push_back(&entry.second);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Job* a, const Job* b) { return a->order < b->order; });
  std::vector<JobInfo> out;
  out.reserve(rows.size());
  for (const Job* job : rows) out.push_back(row_locked(*job));
  return out;
}

DHIS2CPP_INLINE std::optional<JobInfo> JobEngine::job(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  if (!job) return std::nullopt;
  return row_locked(*job);
}

DHIS2CPP_INLINE std::vector<JobInfo> JobEngine::jobs() {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  std::vector<const Job*> ordered;
  for (const auto& entry : jobs_) {
    if (!expired(entry.second, now)) ordered.push_back(&entry.second);
  }
  std::sort(ordered.begin(), ordered.end(), [](const Job* a, const Job* b) { return a->order < b->order; });
  std::vector<JobInfo> out;
  for (const Job* job : ordered) out.push_back(row_locked(*job));
  return out;
}

DHIS2CPP_INLINE nlohmann::json JobEngine::live_progress(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  if (!job) return nullptr;
  return job->run.progress.to_json(now, time_.time_zone, true);
}

DHIS2CPP_INLINE std::vector<JobInfo> JobEngine::running(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  std::vector<JobInfo> out;
  for (const auto& entry : live_) {
    const JobInfo& info = entry.second->info;
    if (info.job_status == "RUNNING" && (job_type.empty() || info.job_type == job_type)) {
      out.push_back(row_locked(*entry.second));
    }
  }
  return out;
}

DHIS2CPP_INLINE std::vector<JobEngine::FinishedRun> JobEngine::last_finished_runs(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  std::map<std::string, const Job*> last;  // by type
  for (const auto& entry : jobs_) {
    const Job& job = entry.second;
    const JobInfo& info = job.info;
    if (info.job_status == "RUNNING" || !info.last_finished || expired(job, now)) continue;
    if (!job_type.empty() && info.job_type != job_type) continue;
    const Job*& found = last[info.job_type];
    if (!found || *info.last_finished > *found->info.last_finished ||
        (*info.last_finished == *found->info.last_finished && job.order > found->order)) {
      found = &job;
    }
  }
  std::vector<FinishedRun> out;
  for (const auto& entry : last) {
    const Job& job = *entry.second;
    out.push_back(FinishedRun{row_locked(job), job.run.progress.to_json(*job.info.last_finished, time_.time_zone, true)});
  }
  return out;
}

DHIS2CPP_INLINE nlohmann::json JobEngine::last_result(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  const auto it = results_.find(job_type);
  return it == results_.end() ? nlohmann::json() : it->second;
}

DHIS2CPP_INLINE void JobEngine::catch_up() {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
}

DHIS2CPP_INLINE bool JobEngine::notifies_progress(const std::string& type) {
  return detail::StepRunner::notifies_progress(type);
}

// ---- time and scheduling -------------------------------------------------------------------

DHIS2CPP_INLINE void JobEngine::enqueue_locked(Job& job, SysTime now) {
  scheduler_.enqueue(job, now);
  relist_locked(job);
  if (scheduler_.is_continuous(job.info.job_type)) start_queued_continuous_locked(job.info.job_type, now);
}

DHIS2CPP_INLINE void JobEngine::start_queued_continuous_locked(const std::string& type, SysTime now) {
  if (Job* next = scheduler_.next_continuous(live_, type)) start_locked(*next, now);
}

DHIS2CPP_INLINE void JobEngine::start_locked(Job& job, SysTime t) {
  job.queued = false;
  job.run = detail::Run{};
  job.info.job_status = "RUNNING";
  relist_locked(job);
  job.info.last_executed = t;
  job.info.last_alive = t;
  if (profile_.progress_endpoint) job.run.next_persist = t + detail::Scheduler::kProgressEvery;
  if (job.script.steps().empty()) {
    finish_locked(job, t, "COMPLETED");
    return;
  }
  job.run.next_at = t + job.script.steps().front().after;
}

DHIS2CPP_INLINE void JobEngine::persist_progress_locked(Job& job, SysTime t) {
  if (!profile_.progress_endpoint || job.run.progress.empty()) return;
  job.run.persisted = std::make_shared<const detail::PersistedProgress>(
      detail::PersistedProgress{t, job.run.progress, std::nullopt});
}

DHIS2CPP_INLINE JobInfo JobEngine::row_locked(const Job& job) const {
  JobInfo row = job.info;
  if (const auto& persisted = job.run.persisted) {
    if (!persisted->json) persisted->json = persisted->tree.to_json(persisted->at, time_.time_zone, true);
    row.progress = *persisted->json;
  }
  return row;
}

DHIS2CPP_INLINE std::optional<SysTime> JobEngine::next_event_locked() const {
  std::optional<SysTime> next = scheduler_.next_event(live_);
  const auto queued = store_.next_queued();
  if (queued && (!next || *queued < *next)) next = queued;
  return next;
}

DHIS2CPP_INLINE SysTime JobEngine::catch_up_locked() {
  const SysTime now = clock_.now();
  while (true) {
    const auto next = next_event_locked();
    if (!next || *next > now) break;
    store_.clean_if_idle(*next);
    process_event_locked(*next, now);
  }
  store_.clean_if_idle(now);
  scheduler_.pass(now);
  return now;
}

DHIS2CPP_INLINE void JobEngine::process_event_locked(SysTime t, SysTime horizon) {
  if (auto row = store_.take_queued(t)) {
    if (Job* job = find_locked(row->uid, t)) {
      store_.store(*job, row->written, row->level, row->text, row->completed,
                   row->parameters ? &*row->parameters : nullptr);
    }
    return;
  }
  if (scheduler_.is_tick(t)) {
    for (Job* job : scheduler_.tick(live_, t)) start_locked(*job, t);
    return;
  }
  const std::vector<Job*> due = detail::Scheduler::due_at(live_, t);
  if (due.empty()) {
    for (const auto& entry : live_) {
      Job& job = *entry.second;
      if (job.info.job_status == "RUNNING" && job.run.next_persist && *job.run.next_persist == t) {
        // Nothing reads the stored progress while the lock is held, so a snapshot that a later one
        // of the same catch-up replaces (the next one, or the final one when the job ends first)
        // is never seen: only the last one before `horizon` is built. A clock advanced by hours
        // over a job of thousands of items would otherwise write the whole tree every 10 s. A job
        // whose script still holds a Die step may stop persisting before then: it keeps them all.
        const SysTime next_persist = t + detail::Scheduler::kProgressEvery;
        const auto& steps = job.script.steps();
        const bool may_die = std::any_of(
            steps.begin() + static_cast<std::ptrdiff_t>(std::min(job.run.next_step, steps.size())), steps.end(),
            [](const Step& step) { return step.kind == StepKind::Die; });
        if (next_persist > horizon || may_die) persist_progress_locked(job, t);
        job.run.next_persist = next_persist;
        return;
      }
    }
    return;
  }
  Job& job = *due.front();
  if (job.run.died_at) {
    // rescheduleStaleJobs: no heartbeat for 10 minutes marks the job FAILED (§3.3).
    finish_locked(job, t, "FAILED");
    return;
  }
  if (job.run.finish_at) {
    finish_locked(job, t, job.run.finish_status.c_str());
    return;
  }
  if (const char* status = runner_.run_step(job, t)) finish_locked(job, t, status);
}

DHIS2CPP_INLINE void JobEngine::restart() {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  store_.lose_everything();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = it->second;
    if (job.in_memory) {
      live_.erase(it->first);
      it = jobs_.erase(it);
      continue;
    }
    if (job.info.job_status == "RUNNING" && !job.run.died_at) {
      // As JobScript::die: the heartbeat stops at the crash; a run whose steps were done but
      // whose row was not committed yet dies too.
      job.run.died_at = now;
      job.run.finish_at.reset();
      job.run.next_persist.reset();
      job.info.last_alive = now;
    }
    ++it;
  }
}

DHIS2CPP_INLINE void JobEngine::request_cancel_locked(Job& job, SysTime now) {
  if (job.queued) {
    // tryCancel, a SCHEDULED ONCE_ASAP job that never started (§3.2): reverted, never writes a
    // row. An ad-hoc job is disabled (its status stays SCHEDULED); a saved one gets its CRON back.
    job.queued = false;
    if (job.info.ad_hoc) {
      job.info.enabled = false;
    } else {
      job.info.scheduling_type = "CRON";
    }
    job.info.last_executed_status = "STOPPED";
    job.info.last_updated = now;
    relist_locked(job);
    return;
  }
  if (job.info.job_status != "RUNNING") return;
  if (profile_.scheduler_grid) {
    job.run.cancel_requested = now;
  } else {
    job.run.cancel_flag = true;
  }
}

// ---- finishing ---------------------------------------------------------------------------

DHIS2CPP_INLINE void JobEngine::finish_locked(Job& job, SysTime t, const char* status) {
  std::string final_status = status;
  if (final_status == "STOPPED" && !profile_.stopped_status) final_status = "FAILED";
  job.run.finish_at.reset();
  job.run.next_persist.reset();
  job.info.last_executed_status = final_status;
  job.info.last_finished = t;
  job.info.last_updated = t;
  job.info.finished_run_started = job.info.last_executed;
  job.info.last_alive.reset();
  if (!job.info.cron_expression.empty()) job.info.scheduling_type = "CRON";
  if (job.info.ad_hoc) {
    job.info.job_status = "DISABLED";
    job.info.enabled = false;
  } else {
    job.info.job_status = "SCHEDULED";
  }
  relist_locked(job);
  persist_progress_locked(job, t);
  if (!job.script.result().is_null() && final_status == "COMPLETED") {
    results_[job.info.job_type] = stamped_result(job.script.result(), job.info.last_executed, t);
  }
  start_queued_continuous_locked(job.info.job_type, t);
}

DHIS2CPP_INLINE nlohmann::json JobEngine::stamped_result(nlohmann::json result, std::optional<SysTime> started,
                                                         SysTime finished) const {
  if (!result.is_object()) return result;
  for (auto& entry : result.items()) {
    if (!entry.value().is_object()) continue;
    entry.value()["finishedTime"] = format_time(finished);
    if (profile_.integrity_start_time && started) entry.value()["startTime"] = format_time(*started);
  }
  return result;
}

// ---- jobs ------------------------------------------------------------------------------

DHIS2CPP_INLINE bool JobEngine::expired(const Job& job, SysTime now) {
  return job.info.ad_hoc && !job.in_memory && job.info.last_finished && now - *job.info.last_finished >= kAdHocRowsKept;
}

DHIS2CPP_INLINE JobEngine::Job* JobEngine::find_locked(const std::string& uid, SysTime now) {
  const auto it = jobs_.find(uid);
  if (it == jobs_.end() || expired(it->second, now)) return nullptr;
  return &it->second;
}

DHIS2CPP_INLINE JobEngine::Job& JobEngine::add_job_locked(Job job) {
  job.order = ids_.next_sequence();
  const std::string uid = job.info.uid;
  Job& added = jobs_[uid] = std::move(job);
  relist_locked(added);
  return added;
}

DHIS2CPP_INLINE void JobEngine::relist_locked(Job& job) {
  if (job.info.job_status == "RUNNING" || job.queued) {
    live_[job.info.uid] = &job;
  } else {
    live_.erase(job.info.uid);
  }
}

DHIS2CPP_INLINE JobScript JobEngine::take_script_locked(const std::string& type, const nlohmann::json& parameters) {
  auto next = next_scripts_.find(type);
  if (next != next_scripts_.end() && !next->second.empty()) {
    JobScript script = std::move(next->second.front());
    next->second.pop_front();
    return script;
  }
  const auto fallback = default_scripts_.find(type);
  if (fallback != default_scripts_.end()) return fallback->second;
  return JobScript::default_for(type, parameters);
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_JOB_ENGINE_IPP
