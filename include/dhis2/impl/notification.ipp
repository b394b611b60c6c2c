#ifndef DHIS2_IMPL_NOTIFICATION_IPP
#define DHIS2_IMPL_NOTIFICATION_IPP

// Definitions of <dhis2/notification.hpp>.

#include <dhis2/notification.hpp>

#include <dhis2/detail/json_reader.hpp>

#include <cstddef>

namespace dhis2 {

DHIS2CPP_INLINE const char* to_string(NotificationLevel level) noexcept {
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

DHIS2CPP_INLINE NotificationLevel parse_notification_level(std::string_view name) noexcept {
  constexpr NotificationLevel levels[] = {NotificationLevel::Debug, NotificationLevel::Loop, NotificationLevel::Info,
                                          NotificationLevel::Warn, NotificationLevel::Error};
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

DHIS2CPP_INLINE Notification Notification::from_json(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE nlohmann::json Notification::to_json() const {
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

DHIS2CPP_INLINE void from_json(const nlohmann::json& value, Notification& n) { n = Notification::from_json(value); }
DHIS2CPP_INLINE void to_json(nlohmann::json& value, const Notification& n) { value = n.to_json(); }

DHIS2CPP_INLINE std::vector<Notification> notifications_from_json(const nlohmann::json& feed, const std::string& path) {
  if (!feed.is_array()) detail::throw_wrong_type(path, "an array", feed);
  std::vector<Notification> rows;
  rows.reserve(feed.size());
  for (std::size_t i = 0; i < feed.size(); ++i) {
    rows.push_back(Notification::from_json(feed[i], path + "[" + std::to_string(i) + "]"));
  }
  return rows;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_NOTIFICATION_IPP
