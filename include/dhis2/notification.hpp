#ifndef DHIS2_NOTIFICATION_HPP
#define DHIS2_NOTIFICATION_HPP

// One row of a DHIS2 job's notification feed (GET /api/system/tasks/{jobType}/{jobId}), decoded
// as the server writes it: nulls omitted, `message` sometimes absent, `time` without a zone, and
// `data` (the job parameters, on a run's first row) of any JSON type. Plain values; thread-safe
// to copy and share.

#include <dhis2/detail/json_reader.hpp>
#include <dhis2/local_time.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

// The notification levels DHIS2 stores. Unknown stands for a level this library does not know
// (a newer server's, or OFF which the server never stores); Notification::level_name keeps it.
enum class NotificationLevel { Debug, Loop, Info, Warn, Error, Unknown };

// "DEBUG", "LOOP", "INFO", "WARN", "ERROR", or "UNKNOWN".
inline const char* to_string(NotificationLevel level) noexcept {
  switch (level) {
    case NotificationLevel::Debug: return "DEBUG";
    case NotificationLevel::Loop: return "LOOP";
    case NotificationLevel::Info: return "INFO";
    case NotificationLevel::Warn: return "WARN";
    case NotificationLevel::Error: return "ERROR";
    case NotificationLevel::Unknown: break;
  }
  return "UNKNOWN";
}

// The level named by `name`, ignoring case; Unknown for any other name.
inline NotificationLevel parse_notification_level(std::string_view name) noexcept {
  constexpr NotificationLevel levels[] = {NotificationLevel::Debug, NotificationLevel::Loop,
                                          NotificationLevel::Info, NotificationLevel::Warn,
                                          NotificationLevel::Error};
  for (auto level : levels) {
    const std::string_view known = to_string(level);
    if (known.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < known.size() && same; ++i) {
      char c = name[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      same = c == known[i];
    }
    if (same) return level;
  }
  return NotificationLevel::Unknown;
}

struct Notification {
  std::string id;        // equal to uid; on 2.38-2.40.7 both equal the JOB id for every row
  std::string uid;
  NotificationLevel level = NotificationLevel::Unknown;
  std::string level_name;  // the level exactly as sent ("INFO"); "" when absent
  std::string category;    // the job type
  std::string time;        // exactly as sent: "2025-05-20T10:12:00.456", server wall clock
  std::optional<std::string> message;  // absent when the server omitted it; may be ""
  bool completed = false;
  std::string data_type;  // "PARAMETERS" on a run's first row (2.39.2+), else ""
  nlohmann::json data;    // the job parameters, any JSON type; null when absent

  // `time` as a zone-less wall-clock time; empty when absent or not in DHIS2's format.
  std::optional<LocalTime> parsed_time() const { return parse_local_time(time); }

  // Decodes one row. Absent and null fields take their defaults; a field of the wrong type
  // throws DecodeError naming it ("notification.completed: expected a boolean, got a string").
  static Notification from_json(const nlohmann::json& value,
                                const std::string& path = "notification") {
    const detail::JsonReader row(value, path);
    Notification n;
    n.id = row.string("id");
    n.uid = row.string("uid");
    n.level_name = row.string("level");
    n.level = parse_notification_level(n.level_name);
    n.category = row.string("category");
    n.time = row.string("time");
    n.message = row.optional_string("message");
    n.completed = row.boolean("completed");
    n.data_type = row.string("dataType");
    n.data = row.any("data");
    return n;
  }

  // The row in DHIS2's field names, omitting what is absent (as the server does).
  nlohmann::json to_json() const {
    nlohmann::json out = nlohmann::json::object();
    if (!id.empty()) out["id"] = id;
    if (!uid.empty()) out["uid"] = uid;
    if (!level_name.empty()) out["level"] = level_name;
    if (!category.empty()) out["category"] = category;
    if (!time.empty()) out["time"] = time;
    if (message) out["message"] = *message;
    out["completed"] = completed;
    if (!data_type.empty()) out["dataType"] = data_type;
    if (!data.is_null()) out["data"] = data;
    return out;
  }
};

// nlohmann::json integration: `json.get<dhis2::Notification>()` and `json(notification)`.
inline void from_json(const nlohmann::json& value, Notification& n) { n = Notification::from_json(value); }
inline void to_json(nlohmann::json& value, const Notification& n) { value = n.to_json(); }

// Decodes a whole feed, in the order sent. DHIS2 sends newest first: reverse for chronological.
inline std::vector<Notification> notifications_from_json(const nlohmann::json& feed,
                                                         const std::string& path = "notifications") {
  if (!feed.is_array()) detail::throw_wrong_type(path, "an array", feed);
  std::vector<Notification> rows;
  rows.reserve(feed.size());
  for (std::size_t i = 0; i < feed.size(); ++i) {
    rows.push_back(Notification::from_json(feed[i], path + "[" + std::to_string(i) + "]"));
  }
  return rows;
}

}  // namespace dhis2

#endif  // DHIS2_NOTIFICATION_HPP
