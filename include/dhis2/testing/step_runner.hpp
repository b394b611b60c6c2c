#ifndef DHIS2_TESTING_STEP_RUNNER_HPP
#define DHIS2_TESTING_STEP_RUNNER_HPP

// Runs a JobScript's steps (dhis2-wire.md §1.5, §3.2, §3.3): each step becomes the notifications
// the emulated version writes (through the NotificationStore: at once or via its async queue,
// full, errors only or nothing by the type's notifier level), the structured progress, summaries,
// a cancel at the next stage or item, a die or an abort. It never finishes a run itself: it says
// with which status the engine finishes it. Internal to the emulator (dhis2::testing::detail).
//
// Not thread-safe; guarded by JobEngine::mutex_.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/job_record.hpp>
#include <dhis2/testing/notification_store.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace dhis2 {
namespace testing {
namespace detail {

class StepRunner {
 public:
  StepRunner(VersionProfile profile, NotificationStore& store);

  // Runs the job's next step at `t`. Returns the status its run ends with now ("COMPLETED",
  // "FAILED", "STOPPED"), or null while it goes on (or commits its row later, run.finish_at).
  const char* run_step(Job& job, SysTime t);

  // A duration as DHIS2 writes one (Commons formatDurationHMS): "H:mm:ss.SSS".
  static std::string format_duration(std::chrono::milliseconds d);

  // Whether `type` writes its progress to the notifier (§1.5 isUsingNotifications).
  static bool notifies_progress(const std::string& type);

 private:
  enum class Visibility { Full, ErrorOnly, None };
  Visibility visibility(const std::string& type) const;

  // The step's message with {duration} filled in, the time since the process started.
  static std::optional<std::string> render(const Step& step, const Job& job, SysTime t);

  // A flagged job reaches a stage or item boundary: its progress is cancelled and, <=2.40, a
  // failure row written. Returns the status the run ends with.
  const char* stop_cancelled(Job& job, SysTime t);

  VersionProfile profile_;
  NotificationStore& store_;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/step_runner.ipp>
#endif

#endif  // DHIS2_TESTING_STEP_RUNNER_HPP
