#ifndef DHIS2_TESTING_JOB_SCRIPT_HPP
#define DHIS2_TESTING_JOB_SCRIPT_HPP

// A job's timeline for the emulator: the JobProgress calls a DHIS2 job makes (dhis2-wire.md §1.5),
// each after a delay, plus what happens to the job itself (it ends, aborts, dies). The emulator
// turns the calls into notifications by the rules of the emulated version: the notifier level of
// the job type, LOOP replacement, caps, ids, the stale rule. A plain value.
//
//   auto script = JobScript()
//       .start("Analytics table update")
//       .stage("Populating analytics tables", 2s)
//       .items("Populating analytics table analytics_2024", 12, 500ms)
//       .complete("Analytics tables updated: {duration}", 1s);
//
// "{duration}" in a message becomes the time since the process started, as H:mm:ss.SSS.

#include <dhis2/detail/config.hpp>
#include <dhis2/notification.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

enum class StepKind {
  StartProcess,     // startingProcess: INFO; the run's first one clears old rows and the summary
  Stage,            // startingStage: INFO; a cancellation point
  Item,             // a work item: LOOP "[i/n] text"; a cancellation point
  Message,          // a direct notifier call at the given level
  FailedStage,      // failedStage / failedWorkItem: ERROR, completed:false
  Summary,          // the task summary is stored (synchronously)
  ObjectError,      // addError: an error on one object, kept in the job's progress (2.41+)
  CompleteProcess,  // completedProcess: INFO, completed:true
  FailProcess,      // failedProcess: ERROR, completed:true
  Abort,            // the run ends FAILED without a notification (FAIL policy after a failed stage)
  Die               // the node dies: no more rows; the job row stays RUNNING until DHIS2 marks it FAILED
};

struct Step {
  StepKind kind = StepKind::Message;
  std::chrono::milliseconds after{0};  // delay since the previous step
  NotificationLevel level = NotificationLevel::Info;
  std::optional<std::string> message;          // absent: the row has no "message" key
  nlohmann::json data;                         // StartProcess: the parameters; Summary: the summary
  bool direct = false;                         // written by a direct notifier call: ignores the type's level
  bool lost = false;                           // written to the async queue and lost (never stored)
  std::chrono::milliseconds arrives_after{0};  // stored this long after the call (the async queue)
};

class JobScript {
 public:
  JobScript() = default;

  // startingProcess(description): the first row, INFO, carrying the parameters (2.39.2+). An empty
  // description becomes "<JOB_TYPE> process started", as in DHIS2.
  JobScript& start(std::string description = {}, nlohmann::json parameters = nlohmann::json::object(),
                   std::chrono::milliseconds after = std::chrono::milliseconds(0));
  // startingStage(description): an INFO row.
  JobScript& stage(std::string description, std::chrono::milliseconds after) {
    return add(make(StepKind::Stage, after, NotificationLevel::Info, std::move(description)));
  }
  // `count` work items, `each` apart: LOOP rows "[1/count] text" ... "[count/count] text".
  JobScript& items(const std::string& text, int count, std::chrono::milliseconds each);
  // A row at any level. Like every progress row it obeys the job type's notifier level (a
  // non-notifying type keeps only ERROR rows); add .direct() for a direct notifier call.
  JobScript& message(NotificationLevel level, std::string text, std::chrono::milliseconds after);
  // failedStage / failedWorkItem: an ERROR row that does not end the process.
  JobScript& failed_stage(std::string text, std::chrono::milliseconds after) {
    return add(make(StepKind::FailedStage, after, NotificationLevel::Error, std::move(text)));
  }
  // Stores the task summary (GET /api/system/taskSummaries/{type}/{id}).
  JobScript& summary(nlohmann::json summary, std::chrono::milliseconds after = std::chrono::milliseconds(0));
  // addError: an error on one object (an import's rejected data element), recorded in the
  // job's structured progress (GET /api/jobConfigurations/{uid}/progress, 2.41+); no row.
  JobScript& object_error(const std::string& code, const std::string& object_id, const std::string& type,
                          std::vector<std::string> args, const std::string& message,
                          std::chrono::milliseconds after = std::chrono::milliseconds(0));
  // completedProcess(message): INFO, completed:true. An empty optional omits "message" (a null
  // summary). The run ends COMPLETED after its last step, unless something failed.
  JobScript& complete(std::optional<std::string> text, std::chrono::milliseconds after) {
    return add(make(StepKind::CompleteProcess, after, NotificationLevel::Info, std::move(text)));
  }
  // failedProcess(message): ERROR, completed:true; the run ends FAILED.
  JobScript& fail(std::string text, std::chrono::milliseconds after) {
    return add(make(StepKind::FailProcess, after, NotificationLevel::Error, std::move(text)));
  }
  // The job threw: ERROR, completed:true, "Process failed: <message>"; the run ends FAILED.
  JobScript& crash(const std::string& exception_message, std::chrono::milliseconds after) {
    return fail("Process failed: " + exception_message, after);
  }
  // The run ends FAILED with no final row (a stage failed under the FAIL policy).
  JobScript& abort(std::chrono::milliseconds after) {
    return add(make(StepKind::Abort, after, NotificationLevel::Error, std::nullopt));
  }
  // The node running the job dies: no further rows, the job row stays RUNNING with a stale
  // heartbeat until DHIS2 marks it FAILED (10 minutes later).
  JobScript& die(std::chrono::milliseconds after) {
    return add(make(StepKind::Die, after, NotificationLevel::Error, std::nullopt));
  }
  // The last row added is lost in the notifier's async queue: it is never stored, but the job
  // goes on as if it had been (a dropped final notification).
  JobScript& lose_last_row();
  // The last row added waits `delay` in the notifier's async queue (2.40.8+, 2.41.4+, 2.42+;
  // dhis2-wire.md §1.4) before it is stored; the job goes on meanwhile, so a final row can land
  // after the job row already says the job is over (§1.6 point 4). Older notifiers write at once.
  JobScript& arrives_after(std::chrono::milliseconds delay);
  // The job row is committed `delay` after the last step: a read right after the last row still
  // says RUNNING (META_DATA_SYNC writes its last completed row before the run ends).
  JobScript& commit_row_after(std::chrono::milliseconds delay);
  // The last row added is written by a direct notifier call, shown whatever the type's level.
  JobScript& direct();
  // A result served by the job type's own result endpoint (data integrity summary or details).
  JobScript& result(nlohmann::json value);
  // Every delay so far (between steps, in the async queue, before the commit) times `factor`:
  // default_for(type).scale(0.5) runs a realistic timeline twice as fast. UsageError for a factor
  // that is not a finite number > 0.
  JobScript& scale(double factor);

  const std::vector<Step>& steps() const noexcept { return steps_; }
  std::chrono::milliseconds commit_delay() const noexcept { return commit_delay_; }
  const nlohmann::json& result() const noexcept { return result_; }
  std::chrono::milliseconds duration() const;

  // A realistic default timeline for a job type (messages as DHIS2 writes them), ending in success.
  static JobScript default_for(const std::string& job_type, const nlohmann::json& parameters = nlohmann::json::object());

 private:
  static Step make(StepKind kind, std::chrono::milliseconds after, NotificationLevel level,
                   std::optional<std::string> text);
  JobScript& add(Step step);

  std::vector<Step> steps_;
  nlohmann::json result_;
  std::chrono::milliseconds commit_delay_{0};
};

namespace detail {

nlohmann::json default_import_summary(const char* status, int imported, int updated, int deleted, int ignored);
nlohmann::json default_metadata_report(int created);
nlohmann::json default_tracker_report(int created);

}  // namespace detail

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/job_script.ipp>
#endif

#endif  // DHIS2_TESTING_JOB_SCRIPT_HPP
