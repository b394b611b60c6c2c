#ifndef DHIS2_TESTING_IMPL_JOB_ENGINE_IPP
#define DHIS2_TESTING_IMPL_JOB_ENGINE_IPP

// Definitions of <dhis2/testing/job_engine.hpp>.

#include <dhis2/testing/job_engine.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE JobEngine::JobEngine(VersionProfile profile, Clock& clock, std::uint64_t seed, EngineClock time)
    : profile_(std::move(profile)), clock_(clock), time_(std::move(time)), random_(seed) {
  last_tick_ = floor_to_tick(clock_.now());
}

DHIS2CPP_INLINE std::string JobEngine::format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld.%03lld", static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buffer;
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
  job.info.uid = new_uid_locked();
  job.info.job_type = job_type;
  job.info.name = ad_hoc_name_locked(job_type, now);
  job.info.created = now;
  job.info.last_updated = now;
  job.info.parameters = parameters;
  job.info.user_id = user_id;
  job.in_memory = !profile_.scheduler_grid;
  job.script = script ? std::move(*script) : take_script_locked(job_type, parameters);

  if (!profile_.scheduler_grid) {
    if (guard_running && running_of_type_locked(job_type)) {
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
  if (!profile_.scheduler_grid && running_of_type_locked(job->info.job_type)) return ExecuteStatus::AlreadyRunning;
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
  for (auto& entry : jobs_) {
    Job& job = entry.second;
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
  const Feed* stored = find_feed_locked(job_type, uid);
  if (!stored || stored->rows.empty()) return {};
  std::vector<Notification> rows(stored->rows.begin(), stored->rows.end());
  if (stale_rule && profile_.stale_check && !rows.front().completed) {
    const Job* job = find_locked(uid, now);
    if (!job || job->info.job_status != "RUNNING") {
      Notification synthetic = rows.front();
      synthetic.completed = true;
      clear_job_locked(job_type, uid);
      return {synthetic};
    }
  }
  return rows;
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::overview(const std::string& job_type, bool gist) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  return overview_locked(job_type, gist);
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::all(bool gist) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& type : profile_.job_types) {
    auto jobs = overview_locked(type, gist);
    // The new notifier lists only types with data; the old map has every type (§1.1).
    if (!jobs.empty() || !profile_.new_notifier) out[type] = std::move(jobs);
  }
  return out;
}

DHIS2CPP_INLINE std::optional<nlohmann::json> JobEngine::summary(const std::string& job_type, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  const auto type = summaries_.find(job_type);
  if (type == summaries_.end()) return std::nullopt;
  const auto it = type->second.find(uid);
  if (it == type->second.end()) return std::nullopt;
  return it->second.value;
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::summaries(const std::string& job_type) {
  std::lock_guard<std::mutex> lock(mutex_);
  catch_up_locked();
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto type = summaries_.find(job_type);
  if (type == summaries_.end()) return out;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : type->second) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  for (const auto& entry : order) out[entry.second] = type->second.at(entry.second).value;
  return out;
}

DHIS2CPP_INLINE void JobEngine::clear_notifications(const std::string& job_type, const std::string& uid,
                                                    std::optional<std::size_t> max_count,
                                                    std::optional<int> max_age_days) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  if (!uid.empty()) {
    clear_job_locked(job_type, uid);
    return;
  }
  std::vector<std::string> types;
  if (job_type.empty()) {
    for (const auto& entry : feeds_) types.push_back(entry.first);
  } else {
    types.push_back(job_type);
  }
  for (const auto& type : types) {
    auto it = feeds_.find(type);
    if (it == feeds_.end()) continue;
    if (!max_count && !max_age_days) {
      std::vector<std::string> uids;
      for (const auto& f : it->second) uids.push_back(f.first);
      for (const auto& u : uids) clear_job_locked(type, u);
      continue;
    }
    auto order = jobs_by_recency_locked(it->second);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const Feed& f = it->second.at(order[i]);
      const bool too_many = max_count && i >= *max_count;
      const bool too_old = max_age_days && now - f.newest_time > std::chrono::hours(24 * *max_age_days);
      if (too_many || too_old) clear_job_locked(type, order[i]);
    }
  }
}

DHIS2CPP_INLINE std::optional<JobInfo> JobEngine::job_row(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  if (!job || job->in_memory) return std::nullopt;
  return job->info;
}

DHIS2CPP_INLINE std::optional<JobInfo> JobEngine::job(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const SysTime now = catch_up_locked();
  const Job* job = find_locked(uid, now);
  if (!job) return std::nullopt;
  return job->info;
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
  for (const Job* job : ordered) out.push_back(job->info);
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
  for (const auto& entry : jobs_) {
    const JobInfo& info = entry.second.info;
    if (info.job_status == "RUNNING" && (job_type.empty() || info.job_type == job_type)) out.push_back(info);
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
  static const char* const full[] = {
      "RESOURCE_TABLE", "SEND_SCHEDULED_MESSAGE", "ANALYTICS_TABLE", "CONTINUOUS_ANALYTICS_TABLE",
      "DATA_SET_NOTIFICATION", "MONITORING", "VALIDATION_RESULTS_NOTIFICATION", "SYSTEM_VERSION_UPDATE_CHECK",
      "DATA_SYNC", "SINGLE_EVENT_DATA_SYNC", "TRACKED_ENTITY_DATA_SYNC", "EVENT_PROGRAMS_DATA_SYNC",
      "TRACKER_PROGRAMS_DATA_SYNC", "SMS_SEND", "PREDICTOR", "DATAVALUE_IMPORT",
      "COMPLETE_DATA_SET_REGISTRATION_IMPORT", "METADATA_IMPORT", "TRACKER_IMPORT_JOB", "GEOJSON_IMPORT",
      "GML_IMPORT"};
  return std::find(std::begin(full), std::end(full), type) != std::end(full);
}

// ---- time and scheduling -------------------------------------------------------------------

DHIS2CPP_INLINE SysTime JobEngine::floor_to_tick(SysTime t) {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const auto loop = std::chrono::duration_cast<std::chrono::milliseconds>(kSchedulerLoop);
  return SysTime(std::chrono::duration_cast<SysTime::duration>(since - since % loop));
}

DHIS2CPP_INLINE bool JobEngine::is_continuous(const std::string& type) const {
  if (type == "METADATA_IMPORT" || type == "TRACKER_IMPORT_JOB" || type == "DATA_INTEGRITY" ||
      type == "DATA_INTEGRITY_DETAILS") {
    return true;
  }
  return profile_.continuous_geojson && (type == "GEOJSON_IMPORT" || type == "SMS_INBOUND_PROCESSING");
}

DHIS2CPP_INLINE bool JobEngine::running_of_type_locked(const std::string& type) const {
  for (const auto& entry : jobs_) {
    if (entry.second.info.job_type == type && entry.second.info.job_status == "RUNNING") return true;
  }
  return false;
}

DHIS2CPP_INLINE void JobEngine::enqueue_locked(Job& job, SysTime now) {
  job.queued = true;
  job.queued_at = now;
  job.info.job_status = "SCHEDULED";
  if (is_continuous(job.info.job_type)) start_queued_continuous_locked(job.info.job_type, now);
}

DHIS2CPP_INLINE void JobEngine::start_queued_continuous_locked(const std::string& type, SysTime now) {
  if (!is_continuous(type) || running_of_type_locked(type)) return;
  if (Job* next = oldest_queued_locked(type)) start_locked(*next, now);
}

DHIS2CPP_INLINE JobEngine::Job* JobEngine::oldest_queued_locked(const std::string& type) {
  Job* oldest = nullptr;
  for (auto& entry : jobs_) {
    Job& job = entry.second;
    if (job.queued && job.info.job_type == type && (!oldest || job.order < oldest->order)) oldest = &job;
  }
  return oldest;
}

DHIS2CPP_INLINE void JobEngine::start_locked(Job& job, SysTime t) {
  job.queued = false;
  job.run = Run{};
  job.info.job_status = "RUNNING";
  job.info.last_executed = t;
  job.info.last_alive = t;
  job.info.progress = nullptr;
  if (profile_.progress_endpoint) job.run.next_persist = t + kProgressEvery;
  if (job.script.steps().empty()) {
    finish_locked(job, t, "COMPLETED");
    return;
  }
  job.run.next_at = t + job.script.steps().front().after;
}

DHIS2CPP_INLINE void JobEngine::persist_progress_locked(Job& job, SysTime t) {
  if (!profile_.progress_endpoint || job.run.progress.empty()) return;
  job.info.progress = job.run.progress.to_json(t, time_.time_zone, true);
}

DHIS2CPP_INLINE std::optional<SysTime> JobEngine::next_event_locked() const {
  std::optional<SysTime> next;
  const auto consider = [&next](SysTime t) {
    if (!next || t < *next) next = t;
  };
  bool tick_needed = false;
  for (const auto& row : pending_) consider(row.due);
  for (const auto& entry : jobs_) {
    const Job& job = entry.second;
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
  if (tick_needed && profile_.scheduler_grid) consider(last_tick_ + kSchedulerLoop);
  return next;
}

DHIS2CPP_INLINE SysTime JobEngine::catch_up_locked() {
  const SysTime now = clock_.now();
  while (true) {
    const auto next = next_event_locked();
    if (!next || *next > now) break;
    clean_if_idle_locked(*next);
    process_event_locked(*next);
  }
  clean_if_idle_locked(now);
  // Ticks with nothing to do still pass; remember the last one so the next starts from it.
  if (floor_to_tick(now) > last_tick_) last_tick_ = floor_to_tick(now);
  return now;
}

DHIS2CPP_INLINE void JobEngine::process_event_locked(SysTime t) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->due != t) continue;
    const PendingRow row = std::move(*it);
    pending_.erase(it);
    if (Job* job = find_locked(row.uid, t)) {
      store_locked(*job, row.written, row.level, row.text, row.completed, row.parameters ? &*row.parameters : nullptr);
    }
    return;
  }
  if (profile_.scheduler_grid && t == last_tick_ + kSchedulerLoop) {
    run_tick_locked(t);
    return;
  }
  std::vector<Job*> due;
  for (auto& entry : jobs_) {
    Job& job = entry.second;
    if (job.info.job_status != "RUNNING") continue;
    const SysTime at = job.run.died_at    ? *job.run.died_at + kRescheduleStaleAfter
                       : job.run.finish_at ? *job.run.finish_at
                                           : job.run.next_at;
    if (at == t) due.push_back(&job);
  }
  std::sort(due.begin(), due.end(), [](const Job* a, const Job* b) { return a->order < b->order; });
  if (due.empty()) {
    for (auto& entry : jobs_) {
      Job& job = entry.second;
      if (job.info.job_status == "RUNNING" && job.run.next_persist && *job.run.next_persist == t) {
        persist_progress_locked(job, t);
        job.run.next_persist = t + kProgressEvery;
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
  run_step_locked(job, t);
}

DHIS2CPP_INLINE void JobEngine::run_tick_locked(SysTime t) {
  last_tick_ = t;
  for (auto& entry : jobs_) {
    Run& run = entry.second.run;
    if (run.cancel_requested && *run.cancel_requested <= t) run.cancel_flag = true;
  }
  std::vector<std::string> types;
  for (const auto& entry : jobs_) {
    const Job& job = entry.second;
    if (job.queued && !is_continuous(job.info.job_type) &&
        std::find(types.begin(), types.end(), job.info.job_type) == types.end()) {
      types.push_back(job.info.job_type);
    }
  }
  for (const auto& type : types) {
    if (running_of_type_locked(type)) continue;
    if (Job* next = oldest_queued_locked(type)) start_locked(*next, t);
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
    return;
  }
  if (job.info.job_status != "RUNNING") return;
  if (profile_.scheduler_grid) {
    job.run.cancel_requested = now;
  } else {
    job.run.cancel_flag = true;
  }
}

// ---- running steps -----------------------------------------------------------------------

DHIS2CPP_INLINE JobEngine::Visibility JobEngine::visibility(const std::string& type) const {
  if (notifies_progress(type)) return Visibility::Full;
  return profile_.quiet_types_emit_empty_rows ? Visibility::ErrorOnly : Visibility::None;
}

DHIS2CPP_INLINE std::optional<std::string> JobEngine::render(const Step& step, const Job& job, SysTime t) const {
  if (!step.message) return std::nullopt;
  std::string text = *step.message;
  const std::string placeholder = "{duration}";
  const auto at = text.find(placeholder);
  if (at != std::string::npos) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(t - job.run.process_started);
    text.replace(at, placeholder.size(), format_duration(elapsed));
  }
  return text;
}

DHIS2CPP_INLINE void JobEngine::run_step_locked(Job& job, SysTime t) {
  const Step& step = job.script.steps()[job.run.next_step];
  const bool boundary =
      step.kind == StepKind::StartProcess || step.kind == StepKind::Stage || step.kind == StepKind::Item;
  if (boundary && job.run.cancel_flag) {
    stop_cancelled_locked(job, t);
    return;
  }
  const Visibility vis = visibility(job.info.job_type);
  const auto emit = [&](NotificationLevel level, std::optional<std::string> text, bool completed,
                        bool with_parameters) {
    if (step.lost) return;
    if (!step.direct) {
      if (vis == Visibility::None) return;
      if (vis == Visibility::ErrorOnly && text && level != NotificationLevel::Error) text = std::string();
    }
    if (step.arrives_after.count() > 0 && profile_.new_notifier) {  // older notifiers write at once
      PendingRow row{t + step.arrives_after, t, job.info.uid, level, std::move(text), completed, std::nullopt};
      if (with_parameters) row.parameters = step.data;
      pending_.push_back(std::move(row));
      return;
    }
    store_locked(job, t, level, std::move(text), completed, with_parameters ? &step.data : nullptr);
  };
  const auto plain = [&](const std::optional<std::string>& text) { return text ? *text : std::string(); };
  const bool errors_only = vis != Visibility::Full && !step.direct;
  switch (step.kind) {
    case StepKind::StartProcess: {
      if (!job.run.started_once) {
        clear_job_locked(job.info.job_type, job.info.uid);  // a new run clears the old one (§1.5)
        job.run.started_once = true;
      }
      job.run.process_started = t;
      job.run.process_open = true;
      auto text = render(step, job, t);
      job.run.progress.start_process(t, plain(text), job.info.uid, job.info.user_id);
      if (!text || text->empty()) text = job.info.job_type + " process started";
      emit(NotificationLevel::Info, text, false, profile_.parameters_row);
      break;
    }
    case StepKind::Stage:
    case StepKind::Item:
    case StepKind::Message: {
      const auto text = render(step, job, t);
      if (step.kind == StepKind::Stage) job.run.progress.start_stage(t, plain(text));
      if (step.kind == StepKind::Item) job.run.progress.start_item(t, plain(text));
      if (!errors_only || step.level == NotificationLevel::Error) emit(step.level, text, false, false);
      break;
    }
    case StepKind::FailedStage: {
      const auto text = render(step, job, t);
      job.run.progress.fail_stage(t, plain(text));
      emit(NotificationLevel::Error, text, false, false);
      break;
    }
    case StepKind::Summary:
      set_summary_locked(job.info.job_type, job.info.uid, step.data, t);
      break;
    case StepKind::ObjectError:
      job.run.progress.add_error(step.data.value("id", ""), step.data.value("code", ""), step.data);
      break;
    case StepKind::CompleteProcess: {
      job.run.process_open = false;
      const auto text = render(step, job, t);
      job.run.progress.end_process(t, "SUCCESS", text, std::nullopt);
      emit(NotificationLevel::Info, text, true, false);
      break;
    }
    case StepKind::FailProcess: {
      job.run.process_open = false;
      job.run.failed = true;
      const auto text = render(step, job, t);
      job.run.progress.end_process(t, "ERROR", std::nullopt, text);
      emit(NotificationLevel::Error, text, true, false);
      break;
    }
    case StepKind::Abort:
      job.run.progress.end_process(t, "ERROR", std::nullopt, std::nullopt);
      finish_locked(job, t, "FAILED");
      return;
    case StepKind::Die:
      job.run.died_at = t;
      job.info.last_alive = t;
      return;
  }
  job.info.last_alive = t;
  if (++job.run.next_step < job.script.steps().size()) {
    job.run.next_at = t + job.script.steps()[job.run.next_step].after;
    return;
  }
  if (job.run.process_open && profile_.scheduler_grid) {
    // RecordingJobProgress#autoComplete (2.41+): a job that returned without completing.
    job.run.process_open = false;
    job.run.progress.end_process(t, "SUCCESS", std::string("(process completed implicitly)"), std::nullopt);
    if (vis != Visibility::None) {
      store_locked(job, t, NotificationLevel::Info,
                   vis == Visibility::Full ? std::optional<std::string>("(process completed implicitly)")
                                           : std::optional<std::string>(std::string()),
                   true, nullptr);
    }
  }
  const char* status = job.run.failed ? "FAILED" : "COMPLETED";
  if (job.script.commit_delay().count() > 0) {
    job.run.finish_at = t + job.script.commit_delay();
    job.run.finish_status = status;
    return;
  }
  finish_locked(job, t, status);
}

DHIS2CPP_INLINE void JobEngine::stop_cancelled_locked(Job& job, SysTime t) {
  job.run.progress.cancel(t);
  if (profile_.scheduler_grid) {
    finish_locked(job, t, "STOPPED");  // finishRunCancel: no row at all (§1.5)
    return;
  }
  // <=2.40: startingStage throws a CancellationException without a message, which reaches
  // failedProcess(Exception): "Process failed: " + the class name (JobProgress#getMessage, 2.40.0).
  if (visibility(job.info.job_type) != Visibility::None) {
    store_locked(job, t, NotificationLevel::Error,
                 std::string("Process failed: java.util.concurrent.CancellationException"), true, nullptr);
  }
  finish_locked(job, t, "STOPPED");
}

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

// ---- the notifier store ------------------------------------------------------------------

DHIS2CPP_INLINE void JobEngine::store_locked(Job& job, SysTime t, NotificationLevel level,
                                             std::optional<std::string> text, bool completed,
                                             const nlohmann::json* parameters) {
  // The row's time is the clock of the node that runs the job.
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>((t + time_.job_node_offset).time_since_epoch()).count();
  if (profile_.ids_from_timestamp && ms <= last_row_ms_) ms = last_row_ms_ + 1;  // unique per node (§1.2)
  last_row_ms_ = std::max(last_row_ms_, ms);
  const SysTime stamped{std::chrono::duration_cast<SysTime::duration>(std::chrono::milliseconds(ms))};

  Notification n;
  if (profile_.ids_equal_job_id && job.in_memory) {
    n.id = job.info.uid;
  } else if (profile_.ids_from_timestamp) {
    n.id = uid_from_timestamp(ms);
  } else {
    n.id = new_uid_locked();
  }
  n.uid = n.id;
  n.level = level;
  n.level_name = to_string(level);
  n.category = job.info.job_type;
  n.time = format_time(stamped);
  n.message = std::move(text);
  n.completed = completed;
  if (parameters) {
    n.data_type = "PARAMETERS";
    if (!parameters->is_null()) n.data = *parameters;
  }

  const std::string& type = job.info.job_type;
  if (!profile_.new_notifier) shorten_pool_if_full_locked(type);
  Feed& feed = feeds_[type][job.info.uid];
  const std::size_t before = feed.rows.size();
  if (!feed.rows.empty() && feed.rows.front().level == NotificationLevel::Loop) feed.rows.pop_front();
  feed.rows.push_front(std::move(n));
  feed.newest_time = stamped;
  feed.seq = ++seq_;
  last_write_ = t;
  if (profile_.new_notifier) {
    // FIFO per job, but the very first row (the parameters) is always kept (§1.4); the
    // max-jobs cap waits for the notifier to be idle (clean_if_idle_locked).
    while (feed.rows.size() > kMaxMessagesPerJob) feed.rows.erase(feed.rows.end() - 2);
  } else if (feed.rows.size() > before) {
    pool_order_[type].push_front(job.info.uid);
  }
}

DHIS2CPP_INLINE void JobEngine::shorten_pool_if_full_locked(const std::string& type) {
  auto& order = pool_order_[type];
  if (order.size() < kMaxMessagesPerJob) return;
  const std::string victim = order.back();
  order.pop_back();
  auto jobs = feeds_.find(type);
  if (jobs == feeds_.end()) return;
  auto feed = jobs->second.find(victim);
  if (feed == jobs->second.end() || feed->second.rows.empty()) return;
  auto& rows = feed->second.rows;
  if (rows.front().level == NotificationLevel::Loop) {
    rows.pop_front();
  } else {
    rows.pop_back();
  }
  if (rows.empty()) jobs->second.erase(feed);
}

DHIS2CPP_INLINE std::vector<std::string> JobEngine::jobs_by_recency_locked(
    const std::map<std::string, Feed>& jobs) const {
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : jobs) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  std::vector<std::string> out;
  for (auto& entry : order) out.push_back(std::move(entry.second));
  return out;
}

DHIS2CPP_INLINE nlohmann::ordered_json JobEngine::overview_locked(const std::string& type, bool gist) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto it = feeds_.find(type);
  if (it == feeds_.end()) return out;
  std::vector<std::string> order;
  if (profile_.new_notifier) {
    order = jobs_by_recency_locked(it->second);  // most recent job first
  } else {
    for (const auto& entry : it->second) order.push_back(entry.first);  // a hash map: no order
  }
  for (const auto& uid : order) {
    const auto& rows = it->second.at(uid).rows;
    if (rows.empty()) continue;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    if (gist && profile_.new_notifier) {
      list.push_back(nlohmann::ordered_json(rows.front().to_json()));
      if (rows.size() > 1) list.push_back(nlohmann::ordered_json(rows.back().to_json()));
    } else {
      for (const auto& row : rows) list.push_back(nlohmann::ordered_json(row.to_json()));
    }
    out[uid] = std::move(list);
  }
  return out;
}

DHIS2CPP_INLINE void JobEngine::set_summary_locked(const std::string& type, const std::string& uid,
                                                   const nlohmann::json& value, SysTime t) {
  summaries_[type][uid] = StoredSummary{value, ++seq_, t};
  if (!profile_.new_notifier) cap_summaries_locked(type, std::nullopt);  // <=2.41.3: 500 per type (§1.4)
}

DHIS2CPP_INLINE void JobEngine::cap_summaries_locked(const std::string& type, std::optional<SysTime> now) {
  auto it = summaries_.find(type);
  if (it == summaries_.end()) return;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : it->second) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const bool too_old = now && *now - it->second.at(order[i].second).set_at > kMaxAge;
    if (i >= kMaxJobsPerType || too_old) it->second.erase(order[i].second);
  }
}

DHIS2CPP_INLINE void JobEngine::clean_if_idle_locked(SysTime t) {
  if (!profile_.new_notifier || !last_write_) return;
  const std::chrono::milliseconds idle = profile_.version >= ServerVersion{2, 42, 0, 0, true}
                                             ? std::chrono::milliseconds(std::chrono::minutes(10))
                                             : std::chrono::milliseconds(std::chrono::minutes(1));
  if (t - *last_write_ < idle) return;
  for (auto& type : feeds_) {
    const auto order = jobs_by_recency_locked(type.second);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const bool too_old = t - type.second.at(order[i]).newest_time > kMaxAge;
      if (i >= kMaxJobsPerType || too_old) clear_job_locked(type.first, order[i]);
    }
  }
  for (const auto& type : summaries_) cap_summaries_locked(type.first, t);
}

DHIS2CPP_INLINE void JobEngine::clear_job_locked(const std::string& type, const std::string& uid) {
  if (auto it = feeds_.find(type); it != feeds_.end()) it->second.erase(uid);
  if (auto it = summaries_.find(type); it != summaries_.end()) it->second.erase(uid);
  if (auto it = pool_order_.find(type); it != pool_order_.end()) {
    it->second.erase(std::remove(it->second.begin(), it->second.end(), uid), it->second.end());
  }
}

DHIS2CPP_INLINE const JobEngine::Feed* JobEngine::find_feed_locked(const std::string& type,
                                                                   const std::string& uid) const {
  const auto it = feeds_.find(type);
  if (it == feeds_.end()) return nullptr;
  const auto job = it->second.find(uid);
  return job == it->second.end() ? nullptr : &job->second;
}

// ---- jobs and ids --------------------------------------------------------------------------

DHIS2CPP_INLINE bool JobEngine::expired(const Job& job, SysTime now) {
  return job.info.ad_hoc && !job.in_memory && job.info.last_finished &&
         now - *job.info.last_finished >= kAdHocRowsKept;
}

DHIS2CPP_INLINE JobEngine::Job* JobEngine::find_locked(const std::string& uid, SysTime now) {
  const auto it = jobs_.find(uid);
  if (it == jobs_.end() || expired(it->second, now)) return nullptr;
  return &it->second;
}

DHIS2CPP_INLINE JobEngine::Job& JobEngine::add_job_locked(Job job) {
  job.order = ++seq_;
  const std::string uid = job.info.uid;
  return jobs_[uid] = std::move(job);
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

DHIS2CPP_INLINE std::string JobEngine::ad_hoc_name_locked(const std::string& type, SysTime now) {
  if (profile_.scheduler_grid) {
    // "<TYPE> (<epoch millis>)", made unique as 2.42's nowUnique() does (§2.1).
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    if (ms <= last_name_ms_) ms = last_name_ms_ + 1;
    last_name_ms_ = ms;
    return type + " (" + std::to_string(ms) + ")";
  }
  static const std::map<std::string, std::string> names = {
      {"ANALYTICS_TABLE", "inMemoryAnalyticsJob"}, {"RESOURCE_TABLE", "inMemoryResourceTableJob"},
      {"MONITORING", "inMemoryMonitoringJob"},     {"PREDICTOR", "inMemoryPrediction"},
      {"DATAVALUE_IMPORT", "dataValueImport"},     {"METADATA_IMPORT", "metadataImport"},
      {"TRACKER_IMPORT_JOB", "trackerImport"},     {"DATA_INTEGRITY", "inMemoryDataIntegrityJob"}};
  const auto it = names.find(type);
  return it != names.end() ? it->second : "inMemory" + type;
}

DHIS2CPP_INLINE std::string JobEngine::new_uid_locked() {
  static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  static constexpr char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uniform_int_distribution<int> letter(0, 51);
  std::uniform_int_distribution<int> any(0, 61);
  std::string uid(1, letters[letter(random_)]);
  for (int i = 0; i < 10; ++i) uid += alnum[any(random_)];
  return uid;
}

DHIS2CPP_INLINE std::string JobEngine::uid_from_timestamp(std::int64_t ms) {
  static constexpr char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string digits;
  auto value = static_cast<std::uint64_t>(ms);
  for (int i = 0; i < 10; ++i, value /= 62) digits.insert(digits.begin(), alnum[value % 62]);
  return "n" + digits;
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_JOB_ENGINE_IPP
