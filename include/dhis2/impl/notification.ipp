#ifndef DHIS2_IMPL_NOTIFICATION_IPP
#define DHIS2_IMPL_NOTIFICATION_IPP

// Definitions of <dhis2/notification.hpp>.

#include <dhis2/notification.hpp>

#include <dhis2/detail/json_reader.hpp>

#include <cstddef>
#include <utility>

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

namespace detail {

// nlohmann's SAX events, built into one JSON value per element of the top-level array; each
// element is decoded as it closes, and the reader stops where the caller's `stop` says.
class FeedRowReader {
 public:
  using json = nlohmann::json;

  FeedRowReader(const std::function<bool(const Notification&)>& stop, const std::string& path)
      : stop_(stop), path_(path) {}

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(json::number_integer_t v) { return put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return put(v); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(v); }
  bool string(json::string_t& v) { return put(std::move(v)); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) {
    if (!in_feed_ && !seen_feed_) {
      in_feed_ = seen_feed_ = true;  // the feed itself
      return true;
    }
    return open(json::array());
  }
  bool end_array() {
    if (open_.empty()) {
      in_feed_ = false;  // the feed ended, and no row stopped the reader
      return true;
    }
    return close();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  bool stopped() const { return stopped_; }
  std::vector<Notification>& rows() { return rows_; }

 private:
  // A value: the next row, or a part of the row being read.
  template <typename V>
  bool put(V&& value) {
    if (open_.empty()) {
      if (!in_feed_) return false;  // the body is not an array
      row_ = json(std::forward<V>(value));
      return row_done();
    }
    json& parent = *open_.back();
    if (parent.is_object()) {
      parent[key_] = json(std::forward<V>(value));
    } else {
      parent.push_back(json(std::forward<V>(value)));
    }
    return true;
  }
  bool open(json empty) {
    if (open_.empty()) {
      if (!in_feed_) return false;
      row_ = std::move(empty);
      open_.push_back(&row_);
      return true;
    }
    json& parent = *open_.back();
    if (parent.is_object()) {
      json& child = parent[key_];
      child = std::move(empty);
      open_.push_back(&child);  // a map node: stays where it is while its siblings come
    } else {
      parent.push_back(std::move(empty));
      open_.push_back(&parent.back());  // the last element, written before the array grows again
    }
    return true;
  }
  bool close() {
    open_.pop_back();
    return open_.empty() ? row_done() : true;
  }
  bool row_done() {
    try {
      rows_.push_back(Notification::from_json(row_, path_ + "[" + std::to_string(rows_.size()) + "]"));
    } catch (const DecodeError&) {
      return false;  // the caller reads the whole body, and reports this row
    }
    if (stop_(rows_.back())) {
      stopped_ = true;
      return false;
    }
    return true;
  }

  const std::function<bool(const Notification&)>& stop_;
  const std::string& path_;
  std::vector<json*> open_;  // the row being read, and its open parts inside it
  json row_;
  std::string key_;
  std::vector<Notification> rows_;
  bool in_feed_ = false;
  bool seen_feed_ = false;
  bool stopped_ = false;
};

DHIS2CPP_INLINE std::optional<std::vector<Notification>> notifications_until(
    const std::string& body, const std::function<bool(const Notification&)>& stop, const std::string& path) {
  FeedRowReader reader(stop, path);
  nlohmann::json::sax_parse(body, &reader);
  if (!reader.stopped()) return std::nullopt;
  return std::move(reader.rows());
}

}  // namespace detail

}  // namespace dhis2

#endif  // DHIS2_IMPL_NOTIFICATION_IPP
