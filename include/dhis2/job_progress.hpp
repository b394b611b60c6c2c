#ifndef DHIS2_JOB_PROGRESS_HPP
#define DHIS2_JOB_PROGRESS_HPP

// The structured progress of a DHIS2 job run (GET /api/jobConfigurations/{uid}/progress, 2.41+):
// processes, their stages and the stages' work items, each with its own status, plus import errors
// by object. The server stores it at most every 10 s; for servers without it, from_notifications
// derives the same shape from the notification feed. Plain values; thread-safe to copy and share.

#include <dhis2/detail/config.hpp>
#include <dhis2/detail/json_reader.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/notification.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

// The statuses DHIS2 gives a process, stage or item. Unknown stands for a status this library does
// not know (a newer server's); ProgressNode::status_name keeps it.
enum class ProgressStatus { Running, Success, Error, Cancelled, Unknown };

// "RUNNING", "SUCCESS", "ERROR", "CANCELLED", or "UNKNOWN".
const char* to_string(ProgressStatus status) noexcept;

// The status named by `name`, ignoring case; Unknown for any other name.
ProgressStatus parse_progress_status(std::string_view name) noexcept;

// What processes, stages and items share. Strings are as sent and "" when absent.
struct ProgressNode {
  std::string description;
  ProgressStatus status = ProgressStatus::Unknown;
  std::string status_name;                                   // "RUNNING" as sent; "" when absent
  std::string started_time, completed_time, cancelled_time;  // "2025-05-20T10:11:12.345", server wall clock
  std::optional<std::int64_t> duration_ms;                   // live (now - start) while the node runs
  bool complete = false;
  std::optional<std::string> summary, error;
  std::string on_failure;  // stages and items: PARENT, FAIL, SKIP_STAGE, SKIP_ITEM, SKIP_ITEM_OUTLIER

  // The times as zone-less wall-clock times; empty when absent or not in DHIS2's format.
  std::optional<LocalTime> parsed_started_time() const { return parse_local_time(started_time); }
  std::optional<LocalTime> parsed_completed_time() const { return parse_local_time(completed_time); }
};

struct ProgressItem : ProgressNode {};

struct ProgressStage : ProgressNode {
  std::int64_t total_items = -1;  // -1 when unknown, 0 when the stage has no items
  std::vector<ProgressItem> items;
};

struct ProgressProcess : ProgressNode {
  std::string job_id, user_id;
  std::vector<ProgressStage> stages;
};

// One entry of the "errors" map: an import error about one object.
struct ProgressError {
  std::string object_id;  // the map key: the object's uid, or ""
  std::string code;       // "E4000"
  std::string id, type;   // the object and its type ("DataElement")
  std::vector<std::string> args;
  std::string message;                // "" when the server did not render it
  std::optional<std::int64_t> index;  // row of the object in the import payload, when known
};

enum class ProgressSource { Server, Notifications };

namespace detail {

inline auto progress_node_fields(const ProgressNode& n) {
  return std::tie(n.description, n.status, n.status_name, n.started_time, n.completed_time, n.cancelled_time,
                  n.duration_ms, n.complete, n.summary, n.error, n.on_failure);
}

// One decoder for the three node kinds: they share ProgressNode's fields and differ by a few.
template <class Node>
Node decode_progress_node(const nlohmann::json& value, const std::string& path) {
  const JsonReader r(value, path);
  Node n;
  n.description = r.string("description");
  n.status_name = r.string("status");
  n.status = parse_progress_status(n.status_name);
  n.started_time = r.string("startedTime");
  n.completed_time = r.string("completedTime");
  n.cancelled_time = r.string("cancelledTime");
  n.duration_ms = r.optional_integer("duration");
  n.complete = r.boolean("complete");
  n.summary = r.optional_string("summary");
  n.error = r.optional_string("error");
  n.on_failure = r.string("onFailure");
  if constexpr (std::is_same_v<Node, ProgressStage>) {
    n.total_items = r.integer("totalItems", -1);
    n.items = r.array("items", decode_progress_node<ProgressItem>);
  } else if constexpr (std::is_same_v<Node, ProgressProcess>) {
    n.job_id = r.string("jobId");
    n.user_id = r.string("userId");
    n.stages = r.array("stages", decode_progress_node<ProgressStage>);
  }
  return n;
}

// status_name is written as sent; a node built in code with only `status` set writes that.
template <class Node>
nlohmann::json encode_progress_node(const Node& n) {
  nlohmann::json out = {{"complete", n.complete}};
  if (!n.description.empty()) out["description"] = n.description;
  if (!n.status_name.empty() || n.status != ProgressStatus::Unknown) {
    out["status"] = n.status_name.empty() ? std::string(to_string(n.status)) : n.status_name;
  }
  if (!n.started_time.empty()) out["startedTime"] = n.started_time;
  if (!n.completed_time.empty()) out["completedTime"] = n.completed_time;
  if (!n.cancelled_time.empty()) out["cancelledTime"] = n.cancelled_time;
  if (n.duration_ms) out["duration"] = *n.duration_ms;
  if (n.summary) out["summary"] = *n.summary;
  if (n.error) out["error"] = *n.error;
  if (!n.on_failure.empty()) out["onFailure"] = n.on_failure;
  if constexpr (std::is_same_v<Node, ProgressStage>) {
    out["totalItems"] = n.total_items;  // DHIS2 always sends it, -1 when unknown
    out["items"] = nlohmann::json::array();
    for (const auto& item : n.items) out["items"].push_back(encode_progress_node(item));
  } else if constexpr (std::is_same_v<Node, ProgressProcess>) {
    if (!n.job_id.empty()) out["jobId"] = n.job_id;
    if (!n.user_id.empty()) out["userId"] = n.user_id;
    out["stages"] = nlohmann::json::array();
    for (const auto& stage : n.stages) out["stages"].push_back(encode_progress_node(stage));
  }
  return out;
}

// {"<object>": {"<code>": [error...]}} flattened in key order; a null level counts as absent. Map
// keys are data, not field names, so paths quote them: progress.errors["Abc"]["E4000"][0].code.
std::vector<ProgressError> decode_progress_errors(const JsonReader& progress);

std::string join_nonempty(std::initializer_list<std::string_view> parts, const char* separator);

// "[i/n] text" gives (n, "text"); "[i] text" (total unknown) gives (-1, "text"); else (-1, message).
std::pair<std::int64_t, std::string> parse_loop_message(std::string_view message);

// Replays a feed, oldest row first, into processes (the rules are at JobProgress::from_notifications).
class ProgressFromNotifications {
 public:
  void add(const Notification& row);

  std::vector<ProgressProcess> take() { return std::move(processes_); }

 private:
  template <class Node>
  static Node running(std::string description, const std::string& time) {
    Node n;
    n.description = std::move(description);
    n.started_time = time;
    n.status = ProgressStatus::Running;
    n.status_name = to_string(n.status);
    return n;
  }
  static void finish(ProgressNode& n, ProgressStatus status, const std::string& time);
  ProgressStage* open_stage();
  static ProgressItem* open_item(ProgressStage& stage);
  ProgressStage& open_or_new_stage(const std::string& time);
  // Ends the open stage, and its open item, with `status`.
  void close_open_stage(ProgressStatus status, const std::string& time);

  std::vector<ProgressProcess> processes_;
  bool after_completed_ = false;
  bool last_was_loop_ = false;
};

}  // namespace detail

bool operator==(const ProgressItem& a, const ProgressItem& b);
bool operator==(const ProgressStage& a, const ProgressStage& b);
bool operator==(const ProgressProcess& a, const ProgressProcess& b);
bool operator==(const ProgressError& a, const ProgressError& b);
bool operator!=(const ProgressItem& a, const ProgressItem& b);
bool operator!=(const ProgressStage& a, const ProgressStage& b);
bool operator!=(const ProgressProcess& a, const ProgressProcess& b);
bool operator!=(const ProgressError& a, const ProgressError& b);

struct JobProgress {
  std::vector<ProgressProcess> processes;  // "sequence", oldest first
  std::vector<ProgressError> errors;       // the "errors" map flattened: object id, then code, in key order
  ProgressSource source = ProgressSource::Server;

  // Decodes the body of /progress. Absent and null fields take their defaults; a field of the wrong
  // type throws DecodeError naming it ("progress.sequence[0].complete: expected a boolean, got a string").
  static JobProgress from_json(const nlohmann::json& value, const std::string& path = "progress");

  // DHIS2's field names, omitting what is absent; `source` is not written. from_json(to_json())
  // gives back decoded progress (errors come back grouped by object id and code).
  nlohmann::json to_json() const;

  // Progress derived from one job's notifications, oldest first, for servers without /progress
  // (<= 2.40, or when it is not readable). Never throws on odd input except std::bad_alloc. Rules:
  // - A process begins at the first row, at a PARAMETERS row and at any row after a completed row;
  //   that row's message (or "") is its description.
  // - A completed row ends the process, its open stage and item: Error with error = message when the
  //   row is ERROR, else Success with summary = message (absent when the row has none).
  // - Any other INFO row starts a stage (DHIS2 also writes stage summaries as INFO: those become
  //   stages too); the open stage, and its open item, end as Success.
  // - A LOOP row "[i/n] text" starts item "text" in the open stage (or a new unnamed one), sets
  //   total_items = n and ends the open item as Success; "[i] text" and other text leave the total.
  // - A non-completed ERROR row fails the open item when the row before was LOOP, else the open
  //   stage (or a new unnamed one): status Error, error = message.
  // - DEBUG and WARN rows are ignored. Times are the rows' times; duration_ms stays empty.
  // DHIS2 numbers items from 0 and may write a LOOP row when an item ends too, so counts are a guide.
  static JobProgress from_notifications(const std::vector<Notification>& oldest_first);

  bool empty() const noexcept { return processes.empty(); }
  // The last process, or nullptr.
  const ProgressProcess* current_process() const noexcept { return empty() ? nullptr : &processes.back(); }
  // The last stage of the last process, or nullptr.
  const ProgressStage* current_stage() const noexcept;
  // 1-based position of current_stage() in its process; 0 without one.
  std::size_t stage_number() const noexcept { return current_stage() ? current_process()->stages.size() : 0; }
  // The stages of the current process known so far (DHIS2 does not announce stages ahead).
  std::size_t stage_count() const noexcept { return empty() ? 0 : processes.back().stages.size(); }

  // (done, total) of the current stage when its total is known; done counts complete items.
  std::optional<std::pair<std::int64_t, std::int64_t>> item_counts() const;

  // One line per recorded failure, oldest first: each node with status Error and an error text as
  // "<process> > <stage> > <item>: <error>" (items before their stage, stages before their process),
  // then each entry of `errors` as "<code> <type> <id>: <message>". Empty parts are left out.
  std::vector<std::string> failures() const;

  // Same content and the same source.
  friend bool operator==(const JobProgress& a, const JobProgress& b) {
    return a.processes == b.processes && a.errors == b.errors && a.source == b.source;
  }
  friend bool operator!=(const JobProgress& a, const JobProgress& b) { return !(a == b); }
};

// nlohmann::json integration: `json.get<dhis2::JobProgress>()` and `json(progress)`.
void from_json(const nlohmann::json& value, JobProgress& p);
void to_json(nlohmann::json& value, const JobProgress& p);

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/job_progress.ipp>
#endif

#endif  // DHIS2_JOB_PROGRESS_HPP
