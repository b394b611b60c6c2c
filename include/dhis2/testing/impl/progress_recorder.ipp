#ifndef DHIS2_TESTING_IMPL_PROGRESS_RECORDER_IPP
#define DHIS2_TESTING_IMPL_PROGRESS_RECORDER_IPP

// Definitions of <dhis2/testing/progress_recorder.hpp>.

#include <dhis2/testing/progress_recorder.hpp>

#include <utility>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE void ProgressRecorder::start_process(SysTime t, const std::string& description, const std::string& job_id,
                                                     const std::string& user_id) {
  end_process(t, "SUCCESS", std::nullopt, std::nullopt);  // a new process closes an open one
  Node p;
  p.description = description;
  p.started = t;
  p.job_id = job_id;
  p.user_id = user_id;
  processes_.push_back(std::move(p));
}

DHIS2CPP_INLINE void ProgressRecorder::start_stage(SysTime t, const std::string& description) {
  Node& p = open_process(t);
  close_open(p.children, t, "SUCCESS");
  Node s;
  s.description = description;
  s.started = t;
  s.on_failure = "PARENT";
  p.children.push_back(std::move(s));
}

DHIS2CPP_INLINE void ProgressRecorder::start_item(SysTime t, const std::string& text) {
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

DHIS2CPP_INLINE void ProgressRecorder::fail_stage(SysTime t, const std::string& error) {
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

DHIS2CPP_INLINE void ProgressRecorder::end_process(SysTime t, const std::string& status,
                                                   std::optional<std::string> summary, std::optional<std::string> error) {
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

DHIS2CPP_INLINE void ProgressRecorder::cancel(SysTime t) {
  if (processes_.empty() || processes_.back().completed) return;
  Node& p = processes_.back();
  for (auto& stage : p.children) {
    close_open(stage.children, t, "CANCELLED");
    if (!stage.completed) cancel_node(stage, t);
  }
  cancel_node(p, t);
}

DHIS2CPP_INLINE void ProgressRecorder::add_error(const std::string& object_id, const std::string& code,
                                                 const nlohmann::json& error) {
  errors_[object_id][code].push_back(error);
}

DHIS2CPP_INLINE nlohmann::json ProgressRecorder::to_json(SysTime now, const ServerTimeZone& zone,
                                                         bool with_errors) const {
  nlohmann::json sequence = nlohmann::json::array();
  for (const auto& p : processes_) sequence.push_back(node_json(p, now, zone, 0));
  nlohmann::json out = {{"sequence", sequence}};
  if (with_errors && !errors_.empty()) out["errors"] = errors_;
  return out;
}

DHIS2CPP_INLINE ProgressRecorder::Node& ProgressRecorder::open_process(SysTime t) {
  if (processes_.empty() || processes_.back().completed) start_process(t, "", "", "");
  return processes_.back();
}

DHIS2CPP_INLINE void ProgressRecorder::finish(Node& n, SysTime t, const std::string& status) {
  n.status = status;
  n.completed = true;
  n.completed_at = t;
}

DHIS2CPP_INLINE void ProgressRecorder::cancel_node(Node& n, SysTime t) {
  n.status = "CANCELLED";
  n.completed = true;
  n.cancelled_at = t;
}

DHIS2CPP_INLINE void ProgressRecorder::close_open(std::vector<Node>& nodes, SysTime t, const std::string& status) {
  if (!nodes.empty() && !nodes.back().completed) finish(nodes.back(), t, status);
}

DHIS2CPP_INLINE nlohmann::json ProgressRecorder::node_json(const Node& n, SysTime now, const ServerTimeZone& zone,
                                                           int depth) {
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

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_PROGRESS_RECORDER_IPP
