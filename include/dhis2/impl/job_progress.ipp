#ifndef DHIS2_IMPL_JOB_PROGRESS_IPP
#define DHIS2_IMPL_JOB_PROGRESS_IPP

// Definitions of <dhis2/job_progress.hpp>.

#include <dhis2/job_progress.hpp>

#include <dhis2/detail/ascii.hpp>

namespace dhis2 {

DHIS2CPP_INLINE const char* to_string(ProgressStatus status) noexcept {
  switch (status) {
    case ProgressStatus::Running: return "RUNNING";
    case ProgressStatus::Success: return "SUCCESS";
    case ProgressStatus::Error: return "ERROR";
    case ProgressStatus::Cancelled: return "CANCELLED";
    case ProgressStatus::Unknown: break;
  }
  return "UNKNOWN";
}

DHIS2CPP_INLINE ProgressStatus parse_progress_status(std::string_view name) noexcept {
  constexpr ProgressStatus known[] = {ProgressStatus::Running, ProgressStatus::Success, ProgressStatus::Error,
                                      ProgressStatus::Cancelled};
  for (auto status : known) {
    if (detail::iequals(name, to_string(status))) return status;
  }
  return ProgressStatus::Unknown;
}

namespace detail {

DHIS2CPP_INLINE std::vector<ProgressError> decode_progress_errors(const JsonReader& progress) {
  std::vector<ProgressError> out;
  const auto by_object = progress.object("errors");
  if (!by_object) return out;
  const auto quoted = [](const std::string& base, const std::string& key) { return base + "[\"" + key + "\"]"; };
  for (auto object = by_object->json().begin(); object != by_object->json().end(); ++object) {
    if (object->is_null()) continue;
    const JsonReader by_code(*object, quoted(by_object->path(), object.key()));
    for (auto code = by_code.json().begin(); code != by_code.json().end(); ++code) {
      if (code->is_null()) continue;
      const std::string list_path = quoted(by_code.path(), code.key());
      if (!code->is_array()) throw_wrong_type(list_path, "an array", *code);
      for (std::size_t i = 0; i < code->size(); ++i) {
        const JsonReader r((*code)[i], list_path + "[" + std::to_string(i) + "]");
        out.push_back(ProgressError{object.key(), r.string("code", code.key()), r.string("id"), r.string("type"),
                                    r.array("args", decode_string), r.string("message"), r.optional_integer("index")});
      }
    }
  }
  return out;
}

DHIS2CPP_INLINE std::string join_nonempty(std::initializer_list<std::string_view> parts, const char* separator) {
  std::string out;
  for (auto part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

DHIS2CPP_INLINE std::pair<std::int64_t, std::string> parse_loop_message(std::string_view message) {
  constexpr auto npos = std::string_view::npos;
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == npos;
  };
  const auto close = message.find(']');
  const auto inside = close == npos || message[0] != '[' ? std::string_view("?") : message.substr(1, close - 1);
  const auto slash = inside.find('/');
  const auto total = slash == npos ? std::string_view() : inside.substr(slash + 1);
  if (!digits(inside.substr(0, slash)) || (slash != npos && !digits(total))) return {-1, std::string(message)};
  auto text = message.substr(close + 1);
  if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
  std::int64_t n = slash == npos ? -1 : 0;
  for (char c : total) n = n * 10 + (c - '0');
  return {n, std::string(text)};
}

DHIS2CPP_INLINE void ProgressFromNotifications::add(const Notification& row) {
  const bool starts = processes_.empty() || row.data_type == "PARAMETERS" || after_completed_;
  after_completed_ = row.completed;
  const bool was_loop = std::exchange(last_was_loop_, row.level == NotificationLevel::Loop);
  if (starts) processes_.push_back(running<ProgressProcess>(row.message.value_or(""), row.time));
  if (row.completed) {
    const auto status = row.level == NotificationLevel::Error ? ProgressStatus::Error : ProgressStatus::Success;
    close_open_stage(status, row.time);
    finish(processes_.back(), status, row.time);
    (status == ProgressStatus::Error ? processes_.back().error : processes_.back().summary) = row.message;
  } else if (starts) {
    return;  // the row that begins a process is not also a stage
  } else if (row.level == NotificationLevel::Info) {
    close_open_stage(ProgressStatus::Success, row.time);
    processes_.back().stages.push_back(running<ProgressStage>(row.message.value_or(""), row.time));
  } else if (row.level == NotificationLevel::Loop) {
    auto loop = parse_loop_message(row.message.value_or(""));
    auto& stage = open_or_new_stage(row.time);
    if (loop.first >= 0) stage.total_items = loop.first;
    if (auto* item = open_item(stage)) finish(*item, ProgressStatus::Success, row.time);
    stage.items.push_back(running<ProgressItem>(std::move(loop.second), row.time));
  } else if (row.level == NotificationLevel::Error) {
    auto& stage = open_or_new_stage(row.time);  // an error with no stage to blame still gets one
    auto* item = was_loop ? open_item(stage) : nullptr;
    if (item) {
      finish(*item, ProgressStatus::Error, row.time);
    } else {
      close_open_stage(ProgressStatus::Error, row.time);
    }
    (item ? item->error : stage.error) = row.message;
  } else {
    last_was_loop_ = was_loop;  // DEBUG, WARN and unknown levels are commentary, not structure
  }
}

DHIS2CPP_INLINE void ProgressFromNotifications::finish(ProgressNode& n, ProgressStatus status, const std::string& time) {
  n.status = status;
  n.status_name = to_string(status);
  n.complete = true;
  n.completed_time = time;
}
DHIS2CPP_INLINE ProgressStage* ProgressFromNotifications::open_stage() {
  auto& stages = processes_.back().stages;
  return stages.empty() || stages.back().complete ? nullptr : &stages.back();
}
DHIS2CPP_INLINE ProgressItem* ProgressFromNotifications::open_item(ProgressStage& stage) {
  return stage.items.empty() || stage.items.back().complete ? nullptr : &stage.items.back();
}
DHIS2CPP_INLINE ProgressStage& ProgressFromNotifications::open_or_new_stage(const std::string& time) {
  if (auto* stage = open_stage()) return *stage;
  return processes_.back().stages.emplace_back(running<ProgressStage>("", time));
}
DHIS2CPP_INLINE void ProgressFromNotifications::close_open_stage(ProgressStatus status, const std::string& time) {
  if (auto* stage = open_stage()) {
    if (auto* item = open_item(*stage)) finish(*item, status, time);
    finish(*stage, status, time);
  }
}

}  // namespace detail

DHIS2CPP_INLINE bool operator==(const ProgressItem& a, const ProgressItem& b) {
  return detail::progress_node_fields(a) == detail::progress_node_fields(b);
}
DHIS2CPP_INLINE bool operator==(const ProgressStage& a, const ProgressStage& b) {
  return detail::progress_node_fields(a) == detail::progress_node_fields(b) &&
         std::tie(a.total_items, a.items) == std::tie(b.total_items, b.items);
}
DHIS2CPP_INLINE bool operator==(const ProgressProcess& a, const ProgressProcess& b) {
  return detail::progress_node_fields(a) == detail::progress_node_fields(b) &&
         std::tie(a.job_id, a.user_id, a.stages) == std::tie(b.job_id, b.user_id, b.stages);
}
DHIS2CPP_INLINE bool operator==(const ProgressError& a, const ProgressError& b) {
  return std::tie(a.object_id, a.code, a.id, a.type, a.args, a.message, a.index) ==
         std::tie(b.object_id, b.code, b.id, b.type, b.args, b.message, b.index);
}
DHIS2CPP_INLINE bool operator!=(const ProgressItem& a, const ProgressItem& b) { return !(a == b); }
DHIS2CPP_INLINE bool operator!=(const ProgressStage& a, const ProgressStage& b) { return !(a == b); }
DHIS2CPP_INLINE bool operator!=(const ProgressProcess& a, const ProgressProcess& b) { return !(a == b); }
DHIS2CPP_INLINE bool operator!=(const ProgressError& a, const ProgressError& b) { return !(a == b); }

DHIS2CPP_INLINE JobProgress JobProgress::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  JobProgress p;
  p.processes = r.array("sequence", detail::decode_progress_node<ProgressProcess>);
  p.errors = detail::decode_progress_errors(r);
  return p;
}

DHIS2CPP_INLINE nlohmann::json JobProgress::to_json() const {
  nlohmann::json out = {{"sequence", nlohmann::json::array()}};
  for (const auto& p : processes) out["sequence"].push_back(detail::encode_progress_node(p));
  for (const auto& e : errors) {
    nlohmann::json entry = {{"args", e.args}};
    if (!e.code.empty()) entry["code"] = e.code;
    if (!e.id.empty()) entry["id"] = e.id;
    if (!e.type.empty()) entry["type"] = e.type;
    if (!e.message.empty()) entry["message"] = e.message;
    if (e.index) entry["index"] = *e.index;
    out["errors"][e.object_id][e.code].push_back(std::move(entry));
  }
  return out;
}

DHIS2CPP_INLINE JobProgress JobProgress::from_notifications(const std::vector<Notification>& oldest_first) {
  detail::ProgressFromNotifications builder;
  for (const auto& row : oldest_first) builder.add(row);
  JobProgress p;
  p.processes = builder.take();
  p.source = ProgressSource::Notifications;
  return p;
}

DHIS2CPP_INLINE const ProgressStage* JobProgress::current_stage() const noexcept {
  const auto* p = current_process();
  return p && !p->stages.empty() ? &p->stages.back() : nullptr;
}

DHIS2CPP_INLINE std::optional<std::pair<std::int64_t, std::int64_t>> JobProgress::item_counts() const {
  const auto* stage = current_stage();
  if (!stage || stage->total_items < 0) return std::nullopt;
  std::int64_t done = 0;
  for (const auto& item : stage->items) done += item.complete ? 1 : 0;
  return std::make_pair(done, stage->total_items);
}

DHIS2CPP_INLINE std::vector<std::string> JobProgress::failures() const {
  std::vector<std::string> lines;
  const auto add = [&lines](const ProgressNode& n, std::initializer_list<std::string_view> where) {
    if (n.status != ProgressStatus::Error || !n.error || n.error->empty()) return;
    const std::string path = detail::join_nonempty(where, " > ");
    lines.push_back(path.empty() ? *n.error : path + ": " + *n.error);
  };
  for (const auto& p : processes) {
    for (const auto& s : p.stages) {
      for (const auto& i : s.items) add(i, {p.description, s.description, i.description});
      add(s, {p.description, s.description});
    }
    add(p, {p.description});
  }
  for (const auto& e : errors) {
    const std::string head = detail::join_nonempty({e.code, e.type, e.id}, " ");
    const std::string line = detail::join_nonempty({head, e.message}, ": ");
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

DHIS2CPP_INLINE void from_json(const nlohmann::json& value, JobProgress& p) { p = JobProgress::from_json(value); }
DHIS2CPP_INLINE void to_json(nlohmann::json& value, const JobProgress& p) { value = p.to_json(); }

}  // namespace dhis2

#endif  // DHIS2_IMPL_JOB_PROGRESS_IPP
