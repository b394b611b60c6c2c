#ifndef DHIS2_TESTING_IMPL_NOTIFICATION_STORE_IPP
#define DHIS2_TESTING_IMPL_NOTIFICATION_STORE_IPP

// Definitions of <dhis2/testing/notification_store.hpp>.

#include <dhis2/testing/notification_store.hpp>

#include <algorithm>
#include <utility>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE NotificationStore::NotificationStore(VersionProfile profile, ServerTimeZone zone,
                                                     std::chrono::milliseconds job_node_offset, IdGenerator& ids)
    : profile_(std::move(profile)), zone_(std::move(zone)), job_node_offset_(job_node_offset), ids_(ids) {}

// ---- writing -------------------------------------------------------------------------------

DHIS2CPP_INLINE void NotificationStore::store(const Job& job, SysTime t, NotificationLevel level,
                                              std::optional<std::string> text, bool completed,
                                              const nlohmann::json* parameters) {
  // The row's time is the clock of the node that runs the job.
  const auto ms = ids_.row_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>((t + job_node_offset_).time_since_epoch()).count(),
      profile_.ids_from_timestamp);
  const SysTime stamped{std::chrono::duration_cast<SysTime::duration>(std::chrono::milliseconds(ms))};

  Notification n;
  if (profile_.ids_equal_job_id && job.in_memory) {
    n.id = job.info.uid;
  } else if (profile_.ids_from_timestamp) {
    n.id = IdGenerator::uid_from_timestamp(ms);
  } else {
    n.id = ids_.new_uid();
  }
  n.uid = n.id;
  n.level = level;
  n.level_name = to_string(level);
  n.category = job.info.job_type;
  n.time = zone_.format(stamped);
  n.message = std::move(text);
  n.completed = completed;
  if (parameters) {
    n.data_type = "PARAMETERS";
    if (!parameters->is_null()) n.data = *parameters;
  }

  const std::string& type = job.info.job_type;
  if (!profile_.new_notifier) shorten_pool_if_full(type);
  Feed& feed = feeds_[type][job.info.uid];
  const std::size_t before = feed.rows.size();
  if (!feed.rows.empty() && feed.rows.front().level == NotificationLevel::Loop) feed.rows.pop_front();
  feed.rows.push_front(std::move(n));
  feed.newest_time = stamped;
  feed.seq = ids_.next_sequence();
  last_write_ = t;
  if (profile_.new_notifier) {
    // FIFO per job, but the very first row (the parameters) is always kept (§1.4); the
    // max-jobs cap waits for the notifier to be idle (clean_if_idle).
    while (feed.rows.size() > kMaxMessagesPerJob) feed.rows.erase(feed.rows.end() - 2);
  } else if (feed.rows.size() > before) {
    pool_order_[type].push_front(job.info.uid);
  }
}

DHIS2CPP_INLINE std::optional<SysTime> NotificationStore::next_queued() const {
  std::optional<SysTime> next;
  for (const auto& row : pending_) {
    if (!next || row.due < *next) next = row.due;
  }
  return next;
}

DHIS2CPP_INLINE std::optional<PendingRow> NotificationStore::take_queued(SysTime t) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->due != t) continue;
    PendingRow row = std::move(*it);
    pending_.erase(it);
    return row;
  }
  return std::nullopt;
}

DHIS2CPP_INLINE void NotificationStore::set_summary(const std::string& type, const std::string& uid,
                                                    const nlohmann::json& value, SysTime t) {
  summaries_[type][uid] = StoredSummary{value, ids_.next_sequence(), t};
  if (!profile_.new_notifier) cap_summaries(type, std::nullopt);  // <=2.41.3: 500 per type (§1.4)
}

DHIS2CPP_INLINE void NotificationStore::clear_job(const std::string& type, const std::string& uid) {
  if (auto it = feeds_.find(type); it != feeds_.end()) it->second.erase(uid);
  if (auto it = summaries_.find(type); it != summaries_.end()) it->second.erase(uid);
  if (auto it = pool_order_.find(type); it != pool_order_.end()) {
    it->second.erase(std::remove(it->second.begin(), it->second.end(), uid), it->second.end());
  }
}

DHIS2CPP_INLINE void NotificationStore::lose_everything() {
  feeds_.clear();
  summaries_.clear();
  pool_order_.clear();
  pending_.clear();
  last_write_.reset();
}

DHIS2CPP_INLINE void NotificationStore::clear(const std::string& type, std::optional<std::size_t> max_count,
                                              std::optional<int> max_age_days, SysTime now) {
  std::vector<std::string> types;
  if (type.empty()) {
    for (const auto& entry : feeds_) types.push_back(entry.first);
  } else {
    types.push_back(type);
  }
  for (const auto& t : types) {
    auto it = feeds_.find(t);
    if (it == feeds_.end()) continue;
    if (!max_count && !max_age_days) {
      std::vector<std::string> uids;
      for (const auto& f : it->second) uids.push_back(f.first);
      for (const auto& u : uids) clear_job(t, u);
      continue;
    }
    auto order = jobs_by_recency(it->second);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const Feed& f = it->second.at(order[i]);
      const bool too_many = max_count && i >= *max_count;
      const bool too_old = max_age_days && now - f.newest_time > std::chrono::hours(24 * *max_age_days);
      if (too_many || too_old) clear_job(t, order[i]);
    }
  }
}

DHIS2CPP_INLINE void NotificationStore::clean_if_idle(SysTime t) {
  if (!profile_.new_notifier || !last_write_) return;
  const std::chrono::milliseconds idle = profile_.version >= ServerVersion{2, 42, 0, 0, true}
                                             ? std::chrono::milliseconds(std::chrono::minutes(10))
                                             : std::chrono::milliseconds(std::chrono::minutes(1));
  if (t - *last_write_ < idle) return;
  for (auto& type : feeds_) {
    const auto order = jobs_by_recency(type.second);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const bool too_old = t - type.second.at(order[i]).newest_time > kMaxAge;
      if (i >= kMaxJobsPerType || too_old) clear_job(type.first, order[i]);
    }
  }
  for (const auto& type : summaries_) cap_summaries(type.first, t);
}

// ---- reading -------------------------------------------------------------------------------

DHIS2CPP_INLINE std::vector<Notification> NotificationStore::read(const std::string& type, const std::string& uid,
                                                                  bool stale_rule, bool job_running) {
  const Feed* stored = find_feed(type, uid);
  if (!stored || stored->rows.empty()) return {};
  std::vector<Notification> rows(stored->rows.begin(), stored->rows.end());
  if (stale_rule && profile_.stale_check && !rows.front().completed && !job_running) {
    Notification synthetic = rows.front();
    synthetic.completed = true;
    clear_job(type, uid);
    return {synthetic};
  }
  return rows;
}

DHIS2CPP_INLINE nlohmann::ordered_json NotificationStore::overview(const std::string& type, bool gist) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto it = feeds_.find(type);
  if (it == feeds_.end()) return out;
  std::vector<std::string> order;
  if (profile_.new_notifier) {
    order = jobs_by_recency(it->second);  // most recent job first
  } else {
    for (const auto& entry : it->second) order.push_back(entry.first);  // a hash map: no order
  }
  for (const auto& uid : order) {
    const auto& rows = it->second.at(uid).rows;
    if (rows.empty()) continue;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    if (gist && profile_.new_notifier) {
      list.push_back(nlohmann::ordered_json(rows.front().to_json()));
      if (rows.size() > 1) list.push_back(nlohmann::ordered_json(rows.back().to_json()));
    } else {
      for (const auto& row : rows) list.push_back(nlohmann::ordered_json(row.to_json()));
    }
    out[uid] = std::move(list);
  }
  return out;
}

DHIS2CPP_INLINE nlohmann::ordered_json NotificationStore::all(bool gist) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& type : profile_.job_types) {
    auto jobs = overview(type, gist);
    // The new notifier lists only types with data; the old map has every type (§1.1).
    if (!jobs.empty() || !profile_.new_notifier) out[type] = std::move(jobs);
  }
  return out;
}

DHIS2CPP_INLINE std::optional<nlohmann::json> NotificationStore::summary(const std::string& type,
                                                                         const std::string& uid) const {
  const auto of_type = summaries_.find(type);
  if (of_type == summaries_.end()) return std::nullopt;
  const auto it = of_type->second.find(uid);
  if (it == of_type->second.end()) return std::nullopt;
  return it->second.value;
}

DHIS2CPP_INLINE nlohmann::ordered_json NotificationStore::summaries(const std::string& type) const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto of_type = summaries_.find(type);
  if (of_type == summaries_.end()) return out;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : of_type->second) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  for (const auto& entry : order) out[entry.second] = of_type->second.at(entry.second).value;
  return out;
}

// ---- helpers -------------------------------------------------------------------------------

DHIS2CPP_INLINE void NotificationStore::shorten_pool_if_full(const std::string& type) {
  auto& order = pool_order_[type];
  if (order.size() < kMaxMessagesPerJob) return;
  const std::string victim = order.back();
  order.pop_back();
  auto jobs = feeds_.find(type);
  if (jobs == feeds_.end()) return;
  auto feed = jobs->second.find(victim);
  if (feed == jobs->second.end() || feed->second.rows.empty()) return;
  auto& rows = feed->second.rows;
  if (rows.front().level == NotificationLevel::Loop) {
    rows.pop_front();
  } else {
    rows.pop_back();
  }
  if (rows.empty()) jobs->second.erase(feed);
}

DHIS2CPP_INLINE std::vector<std::string> NotificationStore::jobs_by_recency(const std::map<std::string, Feed>& jobs) {
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : jobs) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  std::vector<std::string> out;
  for (auto& entry : order) out.push_back(std::move(entry.second));
  return out;
}

DHIS2CPP_INLINE void NotificationStore::cap_summaries(const std::string& type, std::optional<SysTime> now) {
  auto it = summaries_.find(type);
  if (it == summaries_.end()) return;
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& entry : it->second) order.emplace_back(entry.second.seq, entry.first);
  std::sort(order.rbegin(), order.rend());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const bool too_old = now && *now - it->second.at(order[i].second).set_at > kMaxAge;
    if (i >= kMaxJobsPerType || too_old) it->second.erase(order[i].second);
  }
}

DHIS2CPP_INLINE const NotificationStore::Feed* NotificationStore::find_feed(const std::string& type,
                                                                            const std::string& uid) const {
  const auto it = feeds_.find(type);
  if (it == feeds_.end()) return nullptr;
  const auto job = it->second.find(uid);
  return job == it->second.end() ? nullptr : &job->second;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_NOTIFICATION_STORE_IPP
