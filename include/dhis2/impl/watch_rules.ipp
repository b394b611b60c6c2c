#ifndef DHIS2_IMPL_WATCH_RULES_IPP
#define DHIS2_IMPL_WATCH_RULES_IPP

// Definitions of <dhis2/watch_rules.hpp>, with the rule table itself (detail::rule_table()).

#include <dhis2/watch_rules.hpp>

#include <chrono>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE bool has_task_summary(const std::string& type) {
  return type == "DATAVALUE_IMPORT" || type == "COMPLETE_DATA_SET_REGISTRATION_IMPORT" || type == "METADATA_IMPORT" ||
         type == "TRACKER_IMPORT_JOB" || type == "PREDICTOR" || type == "GEOJSON_IMPORT" ||
         type == "AGGREGATE_DATA_EXCHANGE" || type == "GML_IMPORT";
}

DHIS2CPP_INLINE bool has_several_processes(const std::string& type) { return type == "META_DATA_SYNC"; }

DHIS2CPP_INLINE bool is_integrity_type(const std::string& type) {
  return type == "DATA_INTEGRITY" || type == "DATA_INTEGRITY_DETAILS";
}

DHIS2CPP_INLINE std::optional<TaskOutcome> outcome_of_summary(const nlohmann::json& summary) {
  if (!summary.is_object()) return std::nullopt;
  const auto it = summary.find("status");
  if (it == summary.end() || !it->is_string()) return std::nullopt;
  const std::string status = it->get<std::string>();
  if (status == "ERROR") return TaskOutcome::Failed;
  if (status == "OK" || status == "SUCCESS" || status == "WARNING") return TaskOutcome::Succeeded;
  return std::nullopt;
}

DHIS2CPP_INLINE std::optional<TaskOutcome> outcome_of_message(const std::string& message) {
  const std::string marker = "with status ";
  const auto at = message.find(marker);
  if (at == std::string::npos) return std::nullopt;
  const std::string rest = message.substr(at + marker.size());
  if (rest.rfind("ERROR", 0) == 0) return TaskOutcome::Failed;
  if (rest.rfind("OK", 0) == 0 || rest.rfind("SUCCESS", 0) == 0 || rest.rfind("WARNING", 0) == 0) {
    return TaskOutcome::Succeeded;
  }
  return std::nullopt;
}

DHIS2CPP_INLINE bool says_cancelled(const std::string& message) {
  return message.find("CancellationException") != std::string::npos ||
         message.find("was cancelled") != std::string::npos || message.find("was canceled") != std::string::npos;
}

DHIS2CPP_INLINE bool JobRow::queued() const noexcept {
  return present() && job_status == "SCHEDULED" && scheduling_type == "ONCE_ASAP" && enabled;
}

DHIS2CPP_INLINE bool JobRow::ended() const noexcept {
  return present() && !running() && !queued() &&
         (last_status == "COMPLETED" || last_status == "FAILED" || last_status == "STOPPED");
}

DHIS2CPP_INLINE bool WatchFacts::asks_job_row() const noexcept {
  return copy() || (completed_row() && has_several_processes(job_type)) ||
         (end_kind == EndKind::None && (emptied || (quiet && row_check_due)));
}

DHIS2CPP_INLINE const JobRow& WatchFacts::job_row() {
  if (row.state == JobRow::State::NotRead && read_job_row) row = read_job_row();
  return row;
}

DHIS2CPP_INLINE const SummaryRead& WatchFacts::task_summary() {
  if (summary.state == SummaryRead::State::NotRead && read_summary) summary = read_summary();
  return summary;
}

DHIS2CPP_INLINE const IntegrityRead& WatchFacts::integrity_results() {
  if (integrity.state == IntegrityRead::State::NotRead && read_integrity) integrity = read_integrity();
  return integrity;
}

DHIS2CPP_INLINE const RunningRead& WatchFacts::running_list() {
  if (running.state == RunningRead::State::NotRead && read_running) running = read_running();
  return running;
}

DHIS2CPP_INLINE bool WatchFacts::row_end_is_this_run(const JobRow& r) const {
  if (!r.ended()) return false;
  if (!kickoff) return true;
  if (r.created && *r.created >= *kickoff) return true;  // the job was created by this kick-off: one run only
  if (r.last_finished) {
    // execute() sets the kick-off to the previous run's lastFinished + 1 ms: any other end is
    // a later one, even when a clock change makes it look older.
    if (*r.last_finished >= *kickoff || *r.last_finished != *kickoff - std::chrono::milliseconds(1)) return true;
  } else if (r.last_executed) {
    if (*r.last_executed >= *kickoff) return true;  // <=2.40 rows have no lastFinished
  } else {
    return true;  // never finished a run before: this is its first end
  }
  // Cancelled before it started: tryCancel stamps lastUpdated and sets STOPPED (§3.2).
  if (r.last_status == "STOPPED" && r.last_updated && *r.last_updated >= *kickoff) return true;
  // Seen running for this run: its end is this run's, whatever a clock change did to the times.
  return seen_running || rows_seen;
}

DHIS2CPP_INLINE std::string WatchFacts::run_end() {
  if (!asks_job_row()) return {};
  const JobRow& r = job_row();
  return row_end_is_this_run(r) ? r.last_status : std::string();
}

DHIS2CPP_INLINE bool WatchFacts::summary_decides() {
  return fetch_summary && has_task_summary(job_type) && (completed_row() || run_end() == "COMPLETED");
}

DHIS2CPP_INLINE Verdict keep_waiting(std::string reason) {
  return Verdict{true, TaskOutcome::Unknown, std::move(reason), nullptr};
}

DHIS2CPP_INLINE Verdict decided(TaskOutcome outcome, std::string reason, nlohmann::json summary) {
  return Verdict{false, outcome, std::move(reason), std::move(summary)};
}

DHIS2CPP_INLINE std::string message_of(const WatchFacts& f) {
  return f.end_row && f.end_row->message ? *f.end_row->message : std::string();
}

DHIS2CPP_INLINE std::string summary_status(const nlohmann::json& summary) {
  return summary.value("status", std::string());
}

// The rules, in order. The first that matches decides.
DHIS2CPP_INLINE const std::vector<RuleLogic>& rule_table() {
  using O = TaskOutcome;
  static const std::vector<RuleLogic> rules = {
      {{"job-row-stopped", "the job row, asked this round, says this run ended STOPPED (§3.2)", "Cancelled"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (f.run_end() != "STOPPED") return std::nullopt;
         return decided(O::Cancelled, f.rows_seen
                                          ? "the job row says STOPPED: the job was cancelled"
                                          : "the job row says STOPPED: the job was cancelled before it wrote anything");
       }},
      {{"job-row-failed",
        "the job row says this run ended FAILED: the job failed, its node died (§3.3), or it was reverted", "Failed"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (f.run_end() != "FAILED") return std::nullopt;
         return decided(O::Failed, "the job row says FAILED");
       }},
      {{"stale-copy-unconfirmed",
        "the end row may be DHIS2's one-shot copy of a dead job's last row (§1.6), and the job row does not say yet how "
        "this run ended (still RUNNING, not readable now, or an earlier run's)",
        "keep waiting; ask the job row again at the next poll"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.copy()) return std::nullopt;
         const JobRow& r = f.job_row();
         if (r.state == JobRow::State::Absent || r.state == JobRow::State::Unreadable || f.run_end() == "COMPLETED") {
           return std::nullopt;
         }
         return keep_waiting("a completed row that may be DHIS2's stale copy, not yet confirmed by the job row");
       }},
      {{"stale-copy-no-job-row",
        "the end row may be the stale copy and the server has no job row (404) or refuses it (403)", "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.copy() || f.job_row().present()) return std::nullopt;
         return decided(O::Unknown,
                        "the job stopped without a final notification: DHIS2 answered with a copy of its last row "
                        "(the stale-job rule) and has no job row to say how it ended");
       }},
      {{"several-processes",
        "a completed row of a type that runs several processes (META_DATA_SYNC), while the job row does not say the run "
        "is over (it is committed after the last row)",
        "keep waiting; ask the job row again at the next poll"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.completed_row() || !has_several_processes(f.job_type)) return std::nullopt;
         if (!f.run_end().empty()) return std::nullopt;
         const JobRow& r = f.job_row();
         const bool no_row = r.state == JobRow::State::Absent || r.state == JobRow::State::Unreadable;
         if (no_row && f.quiet) return std::nullopt;  // nothing to ask: the last completed row, once quiet
         return keep_waiting("a completed row of one of several processes; the run is not over yet");
       }},
      {{"summary-status",
        "the run completed (a completed row, or the job row says COMPLETED), the type writes a task summary (§1.7) and "
        "the summary says SUCCESS, OK, WARNING or ERROR",
        "from the summary: ERROR is Failed, the others Succeeded"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.summary_decides()) return std::nullopt;
         const SummaryRead& s = f.task_summary();
         if (s.state != SummaryRead::State::Present) return std::nullopt;
         const auto outcome = outcome_of_summary(s.value);
         if (!outcome) return std::nullopt;
         return decided(*outcome, "the task summary's status is " + summary_status(s.value), s.value);
       }},
      {{"final-message-status", "a completed row whose message says \"... with status ERROR|OK|SUCCESS|WARNING ...\"",
        "from the message"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.completed_row()) return std::nullopt;
         const auto outcome = outcome_of_message(message_of(f));
         if (!outcome) return std::nullopt;
         return decided(*outcome, "the final notification says \"" + message_of(f) + "\"", f.summary.value);
       }},
      {{"summary-unreadable", "the summary decides but could not be read (5xx, 429, network, a proxy page)",
        "keep waiting; read it again at the next poll"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.summary_decides() || f.task_summary().state != SummaryRead::State::Unavailable) return std::nullopt;
         return keep_waiting("the task summary could not be read");
       }},
      {{"summary-missing",
        "the summary decides and the server has none (wiped by the stale rule, kept by another cluster node, or never "
        "written)",
        "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.summary_decides()) return std::nullopt;
         return decided(O::Unknown,
                        "the job ended, but its task summary, which says how an import ended, is not on the "
                        "server (wiped, on another cluster node, or never written)");
       }},
      {{"cancel-message",
        "a completed ERROR row saying the job was cancelled (<=2.40: \"Process failed: "
        "java.util.concurrent.CancellationException\")",
        "Cancelled"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.completed_row() || f.end_row->level != NotificationLevel::Error || !says_cancelled(message_of(f))) {
           return std::nullopt;
         }
         return decided(O::Cancelled, "the final notification says the job was cancelled");
       }},
      {{"error-row", "a completed ERROR row", "Failed"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.completed_row() || f.end_row->level != NotificationLevel::Error) return std::nullopt;
         return decided(O::Failed, "the job ended with an ERROR notification");
       }},
      {{"job-row-completed",
        "the job row says this run ended COMPLETED, for a type without a summary (the final row was lost, DHIS2 answered "
        "with its stale copy, the type writes no rows here, or another node ran it)",
        "Succeeded"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (f.run_end() != "COMPLETED") return std::nullopt;
         const char* why = f.completed_row() ? "the job row says COMPLETED after the last completed row"
                           : f.copy()        ? "the job row says COMPLETED (DHIS2 answered with a copy of the last row)"
                           : f.rows_seen     ? "the job row says COMPLETED (its final notification was lost)"
                                             : "the job row says COMPLETED (the feed has no rows for it here)";
         return decided(O::Succeeded, why);
       }},
      {{"completed-row", "a completed row of any other kind", "Succeeded"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.completed_row()) return std::nullopt;
         return decided(O::Succeeded, "the job reported completion");
       }},
      {{"integrity-results",
        "a data integrity job with no rows and no job row (<=2.40 writes neither), whose results at "
        "/api/dataIntegrity/summary or /details are this run's (finishedTime at or after the kick-off)",
        "Succeeded"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!is_integrity_type(f.job_type) || f.rows_seen || !f.quiet || !f.asks_job_row()) return std::nullopt;
         const JobRow& r = f.job_row();
         if (r.state != JobRow::State::Absent && r.state != JobRow::State::Unreadable) return std::nullopt;
         const IntegrityRead& results = f.integrity_results();
         if (results.state != IntegrityRead::State::ThisRun) return std::nullopt;
         return decided(O::Succeeded, "the data integrity results of this run are available", results.value);
       }},
      {{"no-such-job", "on 2.41+, the feed stayed empty for start_grace and the server has no job row (404)", "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (f.rows_seen || !f.quiet || !f.asks_job_row() || f.ad_hoc_rows != Tri::Yes ||
             f.job_row().state != JobRow::State::Absent) {
           return std::nullopt;
         }
         return decided(O::Unknown,
                        "the server has no notifications and no job row for this job (unknown id, or deleted)");
       }},
      {{"feed-and-row-gone",
        "rows of this run were seen, the feed has been empty for start_grace and the server has no job row (404): the "
        "notifications were deleted (DELETE /api/system/tasks, the caps) and there is no row to ask",
        "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.rows_seen || !f.emptied || !f.quiet || f.job_row().state != JobRow::State::Absent) return std::nullopt;
         return decided(O::Unknown,
                        "the job's notifications are gone and it has no job row, so how it ended is not known");
       }},
      {{"summary-without-final-row",
        "rows of this run were seen, the feed has been quiet for start_grace without a final row (the async queue "
        "dropped it, on a server without the stale rule or a job row), and the type's task summary says how it ended",
        "from the summary"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.rows_seen || !f.quiet || !f.asks_job_row() || f.end_kind != EndKind::None || !f.fetch_summary ||
             !has_task_summary(f.job_type)) {
           return std::nullopt;
         }
         const SummaryRead& s = f.task_summary();
         const auto outcome = s.state == SummaryRead::State::Present ? outcome_of_summary(s.value) : std::nullopt;
         if (!outcome) return std::nullopt;
         return decided(*outcome, "no final notification, but the task summary's status is " + summary_status(s.value),
                        s.value);
       }},
      {{"not-running",
        "the feed has been quiet for start_grace without a final row, the server keeps no job row for the job (<=2.40 "
        "API-started jobs) and /api/scheduling/running/{type} does not list it (it ended, crashed, or was dropped)",
        "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.quiet || !f.asks_job_row() || f.end_kind != EndKind::None || f.ad_hoc_rows == Tri::Yes)
           return std::nullopt;
         if (f.job_row().state != JobRow::State::Absent || f.running_list().state != RunningRead::State::NotListed) {
           return std::nullopt;
         }
         return decided(O::Unknown, f.rows_seen ? "the job stopped writing rows without a final one and is no longer "
                                                  "running; the server keeps nothing else that says how it ended"
                                                : "the job wrote no rows and is not running; the server keeps nothing "
                                                  "that says how it ended (or whether it ran)");
       }},
      {{"not-run",
        "the feed is quiet and the job row says the job is idle (neither queued nor running) and has not run since the "
        "kick-off",
        "Unknown"},
       [](WatchFacts& f) -> std::optional<Verdict> {
         if (!f.quiet || !f.asks_job_row() || !f.kickoff || f.rows_seen || f.seen_running) return std::nullopt;
         const JobRow& r = f.job_row();
         if (!r.present() || r.running() || r.queued() || f.row_end_is_this_run(r)) return std::nullopt;
         return decided(O::Unknown,
                        "the job row says the job is idle and has not run since it was started (reverted or "
                        "cancelled before it ran?)");
       }},
  };
  return rules;
}

// The first rule that matches, and its verdict.
DHIS2CPP_INLINE std::optional<std::pair<const WatchRule*, Verdict>> decide(WatchFacts& facts) {
  for (const auto& logic : rule_table()) {
    if (auto verdict = logic.match(facts)) return std::make_pair(&logic.rule, std::move(*verdict));
  }
  return std::nullopt;
}

}  // namespace detail

DHIS2CPP_INLINE const std::vector<WatchRule>& watch_rules() {
  static const std::vector<WatchRule> rules = [] {
    std::vector<WatchRule> out;
    for (const auto& logic : detail::rule_table()) out.push_back(logic.rule);
    out.push_back({"deadline", "the timeout given to wait() or for_each_notification() passed", "TaskTimeoutError"});
    out.push_back({"stall", "WatchOptions::stall_timeout passed with no new row", "TaskTimeoutError (stalled())"});
    out.push_back({"cancelled", "TaskWatcher::cancel() was called", "TaskCancelledError"});
    return out;
  }();
  return rules;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_WATCH_RULES_IPP
