#ifndef DHIS2_TESTING_IMPL_STEP_RUNNER_IPP
#define DHIS2_TESTING_IMPL_STEP_RUNNER_IPP

// Definitions of <dhis2/testing/step_runner.hpp>.

#include <dhis2/testing/step_runner.hpp>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <utility>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE StepRunner::StepRunner(VersionProfile profile, NotificationStore& store)
    : profile_(std::move(profile)), store_(store) {}

DHIS2CPP_INLINE std::string StepRunner::format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld.%03lld", static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buffer;
}

DHIS2CPP_INLINE bool StepRunner::notifies_progress(const std::string& type) {
  static const char* const full[] = {"RESOURCE_TABLE",
                                     "SEND_SCHEDULED_MESSAGE",
                                     "ANALYTICS_TABLE",
                                     "CONTINUOUS_ANALYTICS_TABLE",
                                     "DATA_SET_NOTIFICATION",
                                     "MONITORING",
                                     "VALIDATION_RESULTS_NOTIFICATION",
                                     "SYSTEM_VERSION_UPDATE_CHECK",
                                     "DATA_SYNC",
                                     "SINGLE_EVENT_DATA_SYNC",
                                     "TRACKED_ENTITY_DATA_SYNC",
                                     "EVENT_PROGRAMS_DATA_SYNC",
                                     "TRACKER_PROGRAMS_DATA_SYNC",
                                     "SMS_SEND",
                                     "PREDICTOR",
                                     "DATAVALUE_IMPORT",
                                     "COMPLETE_DATA_SET_REGISTRATION_IMPORT",
                                     "METADATA_IMPORT",
                                     "TRACKER_IMPORT_JOB",
                                     "GEOJSON_IMPORT",
                                     "GML_IMPORT"};
  return std::find(std::begin(full), std::end(full), type) != std::end(full);
}

DHIS2CPP_INLINE StepRunner::Visibility StepRunner::visibility(const std::string& type) const {
  if (notifies_progress(type)) return Visibility::Full;
  return profile_.quiet_types_emit_empty_rows ? Visibility::ErrorOnly : Visibility::None;
}

DHIS2CPP_INLINE std::optional<std::string> StepRunner::render(const Step& step, const Job& job, SysTime t) {
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

DHIS2CPP_INLINE const char* StepRunner::run_step(Job& job, SysTime t) {
  const Step& step = job.script.steps()[job.run.next_step];
  const bool boundary = step.kind == StepKind::StartProcess || step.kind == StepKind::Stage ||
                        step.kind == StepKind::Item;
  if (boundary && job.run.cancel_flag) {
    return stop_cancelled(job, t);
  }
  const Visibility vis = visibility(job.info.job_type);
  const auto emit = [&](NotificationLevel level, std::optional<std::string> text, bool completed, bool with_parameters) {
    if (step.lost) return;
    if (!step.direct) {
      if (vis == Visibility::None) return;
      if (vis == Visibility::ErrorOnly && text && level != NotificationLevel::Error) text = std::string();
    }
    if (step.arrives_after.count() > 0 && profile_.new_notifier) {  // older notifiers write at once
      PendingRow row{t + step.arrives_after, t, job.info.uid, level, std::move(text), completed, std::nullopt};
      if (with_parameters) row.parameters = step.data;
      store_.queue(std::move(row));
      return;
    }
    store_.store(job, t, level, std::move(text), completed, with_parameters ? &step.data : nullptr);
  };
  const auto plain = [&](const std::optional<std::string>& text) { return text ? *text : std::string(); };
  const bool errors_only = vis != Visibility::Full && !step.direct;
  switch (step.kind) {
    case StepKind::StartProcess: {
      if (!job.run.started_once) {
        store_.clear_job(job.info.job_type, job.info.uid);  // a new run clears the old one (§1.5)
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
    case StepKind::Summary: store_.set_summary(job.info.job_type, job.info.uid, step.data, t); break;
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
    case StepKind::Abort: job.run.progress.end_process(t, "ERROR", std::nullopt, std::nullopt); return "FAILED";
    case StepKind::Die:
      job.run.died_at = t;
      job.info.last_alive = t;
      return nullptr;
  }
  job.info.last_alive = t;
  if (++job.run.next_step < job.script.steps().size()) {
    job.run.next_at = t + job.script.steps()[job.run.next_step].after;
    return nullptr;
  }
  if (job.run.process_open && profile_.scheduler_grid) {
    // RecordingJobProgress#autoComplete (2.41+): a job that returned without completing.
    job.run.process_open = false;
    job.run.progress.end_process(t, "SUCCESS", std::string("(process completed implicitly)"), std::nullopt);
    if (vis != Visibility::None) {
      store_.store(job, t, NotificationLevel::Info,
                   vis == Visibility::Full ? std::optional<std::string>("(process completed implicitly)")
                                           : std::optional<std::string>(std::string()),
                   true, nullptr);
    }
  }
  const char* status = job.run.failed ? "FAILED" : "COMPLETED";
  if (job.script.commit_delay().count() > 0) {
    job.run.finish_at = t + job.script.commit_delay();
    job.run.finish_status = status;
    return nullptr;
  }
  return status;
}

DHIS2CPP_INLINE const char* StepRunner::stop_cancelled(Job& job, SysTime t) {
  job.run.progress.cancel(t);
  if (profile_.scheduler_grid) {
    return "STOPPED";  // finishRunCancel: no row at all (§1.5)
  }
  // <=2.40: startingStage throws a CancellationException without a message, which reaches
  // failedProcess(Exception): "Process failed: " + the class name (JobProgress#getMessage, 2.40.0).
  if (visibility(job.info.job_type) != Visibility::None) {
    store_.store(job, t, NotificationLevel::Error,
                 std::string("Process failed: java.util.concurrent.CancellationException"), true, nullptr);
  }
  return "STOPPED";
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_STEP_RUNNER_IPP
