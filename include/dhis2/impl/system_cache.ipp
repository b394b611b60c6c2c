#ifndef DHIS2_IMPL_SYSTEM_CACHE_IPP
#define DHIS2_IMPL_SYSTEM_CACHE_IPP

// Definitions of <dhis2/detail/system_cache.hpp>.

#include <dhis2/detail/system_cache.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE nlohmann::json SystemCache::get(const std::string& key, std::chrono::seconds ttl,
                                                const std::function<nlohmann::json()>& load) {
  if (ttl.count() == 0) return load();
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (const auto pending = it->second.loading) {
      // Another thread is loading this key: share its answer, or its error (one request).
      loaded_.wait(lock, [&pending] { return pending->done; });
      if (pending->error) std::rethrow_exception(pending->error);
      return pending->value;
    }
    if (std::chrono::steady_clock::now() < it->second.expires) return it->second.value;
    entries_.erase(it);
  }
  const auto pending = std::make_shared<Load>();
  entries_[key].loading = pending;
  lock.unlock();
  nlohmann::json value;
  std::exception_ptr error;
  try {
    value = load();
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  pending->done = true;
  pending->value = value;
  pending->error = error;
  it = entries_.find(key);
  if (it != entries_.end() && it->second.loading == pending) {  // else clear() forgot it meanwhile
    if (error) {
      entries_.erase(it);  // a failure is not cached
    } else {
      it->second.value = value;
      it->second.expires = std::chrono::steady_clock::now() + ttl;
      it->second.loading.reset();
    }
  }
  loaded_.notify_all();
  lock.unlock();
  if (error) std::rethrow_exception(error);
  return value;
}

DHIS2CPP_INLINE void SystemCache::put(const std::string& key, nlohmann::json value, std::chrono::seconds ttl) {
  if (ttl.count() == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto& entry = entries_[key];
  entry.value = std::move(value);
  entry.loading.reset();
  entry.expires = std::chrono::steady_clock::now() + ttl;
}

DHIS2CPP_INLINE void SystemCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_SYSTEM_CACHE_IPP
