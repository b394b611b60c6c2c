#ifndef DHIS2_NOTIFICATION_HPP
#define DHIS2_NOTIFICATION_HPP

// One row of a DHIS2 job's notification feed (GET /api/system/tasks/{jobType}/{jobId}), decoded
// as the server writes it: nulls omitted, `message` sometimes absent, `time` without a zone, and
// `data` (the job parameters, on a run's first row) of any JSON type. Plain values; thread-safe
// to copy and share.

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>  // DecodeError, thrown by the decoders
#include <dhis2/local_time.hpp>

#include <functional>
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
const char* to_string(NotificationLevel level) noexcept;

// The level named by `name`, ignoring case; Unknown for any other name.
NotificationLevel parse_notification_level(std::string_view name) noexcept;

struct Notification {
  std::string id;  // equal to uid; on 2.38-2.40.7 both equal the JOB id for every row
  std::string uid;
  NotificationLevel level = NotificationLevel::Unknown;
  std::string level_name;              // the level exactly as sent ("INFO"); "" when absent
  std::string category;                // the job type
  std::string time;                    // exactly as sent: "2025-05-20T10:12:00.456", server wall clock
  std::optional<std::string> message;  // absent when the server omitted it; may be ""
  bool completed = false;
  std::string data_type;  // "PARAMETERS" on a run's first row (2.39.2+), else ""
  nlohmann::json data;    // the job parameters, any JSON type; null when absent

  // `time` as a zone-less wall-clock time; empty when absent or not in DHIS2's format.
  std::optional<LocalTime> parsed_time() const { return parse_local_time(time); }

  // Decodes one row. Absent and null fields take their defaults; a field of the wrong type
  // throws DecodeError naming it ("notification.completed: expected a boolean, got a string").
  static Notification from_json(const nlohmann::json& value, const std::string& path = "notification");

  // The row in DHIS2's field names, omitting what is absent (as the server does).
  nlohmann::json to_json() const;
};

// nlohmann::json integration: `json.get<dhis2::Notification>()` and `json(notification)`.
void from_json(const nlohmann::json& value, Notification& n);
void to_json(nlohmann::json& value, const Notification& n);

// Decodes a whole feed, in the order sent. DHIS2 sends newest first: reverse for chronological.
std::vector<Notification> notifications_from_json(const nlohmann::json& feed, const std::string& path = "notifications");

namespace detail {

// Reads a feed body (a JSON array of rows) row by row, in the order sent, and stops after the
// first row for which `stop` returns true, without reading the rest of the body. Returns the rows
// read, through that row; nullopt when no row stopped it, or the body up to there is not an array
// of well-formed rows: the caller then reads the whole body, which reports what is wrong. (The
// watcher reads a newest-first feed only down to the newest row it has delivered.)
std::optional<std::vector<Notification>> notifications_until(const std::string& body,
                                                             const std::function<bool(const Notification&)>& stop,
                                                             const std::string& path = "notifications");

}  // namespace detail

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/notification.ipp>
#endif

#endif  // DHIS2_NOTIFICATION_HPP
