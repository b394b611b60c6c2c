#ifndef DHIS2_TESTING_PROGRESS_RECORDER_HPP
#define DHIS2_TESTING_PROGRESS_RECORDER_HPP

// What DHIS2 2.41+ records of a running job besides its notifications: processes, stages and
// work items with their status and times, and object errors (RecordingJobProgress; served by
// GET /api/jobConfigurations/{uid}/progress, dhis2-wire.md §3.3). The job engine feeds it the
// same calls that produce notifications and snapshots it into the job row at most every 10 s and
// at the end. Not thread-safe: the engine's lock guards it.

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

  void start_process(SysTime t, const std::string& description, const std::string& job_id, const std::string& user_id) {
    end_process(t, "SUCCESS", std::nullopt, std::nullopt);  // a new process closes an open one
    Node p;
    p.description = description;
    p.started = t;
    p.job_id = job_id;
    p.user_id = user_id;
    processes_.push_back(std::move(p));
  }

  void start_stage(SysTime t, const std::string& description) {
    Node& p = open_process(t);
    close_open(p.children, t, "SUCCESS");
    Node s;
    s.description = description;
    s.started = t;
    s.on_failure = "PARENT";
    p.children.push_back(std::move(s));
  }

  // A work item written as "[i/n] text": item i of n of the open stage.
  void start_item(SysTime t, const std::string& text) {
    Node& p = open_process(t);
    if (p.children.empty() || p.children.back().completed) start_stage(t, "");
    Node& stage = p.children.back();
    std::string description = text;
    const auto close = text.find("] ");
    const auto slash = text.find('/');
    if (!text.empty() && text.front() == '[' && close != std::string::npos && slash != std::string::npos && slash < close) {
      try {
        stage.total_items = std::stoll(text.substr(slash + 1, close - slash - 1));
      } catch (...) {
      }
      description = text.substr(close + 2);
    }
    close_open(stage.children, t, "SUCCESS");
    Node item;
    item.description = description;
    item.started = t;
    item.on_failure = "PARENT";
    stage.children.push_back(std::move(item));
  }

  // failedStage / failedWorkItem: the open item (when the stage has one) or the stage fails.
  void fail_stage(SysTime t, const std::string& error) {
    Node& p = open_process(t);
    if (p.children.empty()) start_stage(t, "");
    Node& stage = p.children.back();
    if (!stage.children.empty() && !stage.children.back().completed) {
      finish(stage.children.back(), t, "ERROR");
      stage.children.back().error = error;
    }
    finish(stage, t, "ERROR");
    stage.error = error;
  }

  // completedProcess / failedProcess: SUCCESS with a summary, or ERROR with an error.
  void end_process(SysTime t, const std::string& status, std::optional<std::string> summary,
                   std::optional<std::string> error) {
    if (processes_.empty() || processes_.back().completed) return;
    Node& p = processes_.back();
    for (auto& stage : p.children) {
      close_open(stage.children, t, status);
      if (!stage.completed) finish(stage, t, status);
    }
    finish(p, t, status);
    p.summary = std::move(summary);
    p.error = std::move(error);
  }

  // finishRunCancel: every open node is CANCELLED.
  void cancel(SysTime t) {
    if (processes_.empty() || processes_.back().completed) return;
    Node& p = processes_.back();
    for (auto& stage : p.children) {
      close_open(stage.children, t, "CANCELLED");
      if (!stage.completed) cancel_node(stage, t);
    }
    cancel_node(p, t);
  }

  // An error on an object (addError: an import's rejected data element, say).
  void add_error(const std::string& object_id, const std::string& code, const nlohmann::json& error) {
    errors_[object_id][code].push_back(error);
  }

  // The Progress JSON as DHIS2 serialises it at `now`: durations of open nodes are live, times
  // are wall-clock in the server's zone, nulls omitted.
  nlohmann::json to_json(SysTime now, const ServerTimeZone& zone, bool with_errors) const {
    nlohmann::json sequence = nlohmann::json::array();
    for (const auto& p : processes_) sequence.push_back(node_json(p, now, zone, 0));
    nlohmann::json out = {{"sequence", sequence}};
    if (with_errors && !errors_.empty()) out["errors"] = errors_;
    return out;
  }

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

  Node& open_process(SysTime t) {
    if (processes_.empty() || processes_.back().completed) start_process(t, "", "", "");
    return processes_.back();
  }
  static void finish(Node& n, SysTime t, const std::string& status) {
    n.status = status;
    n.completed = true;
    n.completed_at = t;
  }
  static void cancel_node(Node& n, SysTime t) {
    n.status = "CANCELLED";
    n.completed = true;
    n.cancelled_at = t;
  }
  static void close_open(std::vector<Node>& nodes, SysTime t, const std::string& status) {
    if (!nodes.empty() && !nodes.back().completed) finish(nodes.back(), t, status);
  }

  static nlohmann::json node_json(const Node& n, SysTime now, const ServerTimeZone& zone, int depth) {
    nlohmann::json j = nlohmann::json::object();
    j["status"] = n.status;
    j["startedTime"] = zone.format(n.started);
    if (n.completed_at) j["completedTime"] = zone.format(*n.completed_at);
    if (n.cancelled_at) j["cancelledTime"] = zone.format(*n.cancelled_at);
    const SysTime end = n.completed_at ? *n.completed_at : n.cancelled_at ? *n.cancelled_at : now;
    j["duration"] = std::chrono::duration_cast<std::chrono::milliseconds>(end - n.started).count();
    j["complete"] = n.completed;
    j["description"] = n.description;
    if (n.summary) j["summary"] = *n.summary;
    if (n.error) j["error"] = *n.error;
    if (depth == 0) {
      if (!n.job_id.empty()) j["jobId"] = n.job_id;
      if (!n.user_id.empty()) j["userId"] = n.user_id;
    } else {
      j["onFailure"] = n.on_failure;
    }
    if (depth == 1) j["totalItems"] = n.total_items;
    if (depth < 2) {
      nlohmann::json children = nlohmann::json::array();
      for (const auto& c : n.children) children.push_back(node_json(c, now, zone, depth + 1));
      j[depth == 0 ? "stages" : "items"] = children;
    }
    return j;
  }

  std::vector<Node> processes_;
  nlohmann::json errors_ = nlohmann::json::object();  // {objectId: {code: [error...]}}
};

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_PROGRESS_RECORDER_HPP
