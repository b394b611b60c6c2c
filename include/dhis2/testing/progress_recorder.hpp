#ifndef DHIS2_TESTING_PROGRESS_RECORDER_HPP
#define DHIS2_TESTING_PROGRESS_RECORDER_HPP

// What DHIS2 2.41+ records of a running job besides its notifications: processes, stages and
// work items with their status and times, and object errors (RecordingJobProgress; served by
// GET /api/jobConfigurations/{uid}/progress, dhis2-wire.md §3.3). The job engine feeds it the
// same calls that produce notifications and snapshots it into the job row at most every 10 s and
// at the end. Not thread-safe: the engine's lock guards it.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/time_zone.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

class ProgressRecorder {
 public:
  using SysTime = std::chrono::system_clock::time_point;

  void reset() { *this = ProgressRecorder(); }

  void start_process(SysTime t, const std::string& description, const std::string& job_id, const std::string& user_id);

  void start_stage(SysTime t, const std::string& description);

  // A work item written as "[i/n] text": item i of n of the open stage.
  void start_item(SysTime t, const std::string& text);

  // failedStage / failedWorkItem: the open item (when the stage has one) or the stage fails.
  void fail_stage(SysTime t, const std::string& error);

  // completedProcess / failedProcess: SUCCESS with a summary, or ERROR with an error.
  void end_process(SysTime t, const std::string& status, std::optional<std::string> summary,
                   std::optional<std::string> error);

  // finishRunCancel: every open node is CANCELLED.
  void cancel(SysTime t);

  // An error on an object (addError: an import's rejected data element, say).
  void add_error(const std::string& object_id, const std::string& code, const nlohmann::json& error);

  // The Progress JSON as DHIS2 serialises it at `now`: durations of open nodes are live, times
  // are wall-clock in the server's zone, nulls omitted.
  nlohmann::json to_json(SysTime now, const ServerTimeZone& zone, bool with_errors) const;

  bool empty() const noexcept { return processes_.empty(); }

 private:
  struct Node {
    std::string description;
    std::string status = "RUNNING";
    SysTime started{};
    std::optional<SysTime> completed_at;
    std::optional<SysTime> cancelled_at;
    bool completed = false;
    std::optional<std::string> summary;
    std::optional<std::string> error;
    std::string on_failure;
    std::int64_t total_items = -1;
    std::string job_id, user_id;
    std::vector<Node> children;  // a process's stages, a stage's items
  };

  Node& open_process(SysTime t);
  static void finish(Node& n, SysTime t, const std::string& status);
  static void cancel_node(Node& n, SysTime t);
  static void close_open(std::vector<Node>& nodes, SysTime t, const std::string& status);
  static nlohmann::json node_json(const Node& n, SysTime now, const ServerTimeZone& zone, int depth);

  std::vector<Node> processes_;
  nlohmann::json errors_ = nlohmann::json::object();  // {objectId: {code: [error...]}}
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/progress_recorder.ipp>
#endif

#endif  // DHIS2_TESTING_PROGRESS_RECORDER_HPP
