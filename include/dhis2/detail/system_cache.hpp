#ifndef DHIS2_DETAIL_SYSTEM_CACHE_HPP
#define DHIS2_DETAIL_SYSTEM_CACHE_HPP

// The storage behind client.system(): key -> JSON value with an expiry. When many threads ask
// for the same missing key at once, one of them loads it and the others share its value or its
// error; a failure is not cached. Thread-safe; the load runs without the lock.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace detail {

class SystemCache {
 public:
  // The cached value of `key`, or `load()`'s (kept for `ttl`). A ttl of 0 always loads.
  nlohmann::json get(const std::string& key, std::chrono::seconds ttl, const std::function<nlohmann::json()>& load);

  // Stores a value read elsewhere (the handshake's /api/system/info).
  void put(const std::string& key, nlohmann::json value, std::chrono::seconds ttl);

  // Forgets every value; loads in flight finish for their callers but are not kept.
  void clear();

 private:
  struct Load {  // a load in flight, shared by the threads that wait for it
    bool done = false;
    nlohmann::json value;
    std::exception_ptr error;
  };
  struct Entry {
    nlohmann::json value;
    std::chrono::steady_clock::time_point expires;
    std::shared_ptr<Load> loading;  // set while a thread loads this key
  };
  std::mutex mutex_;
  std::condition_variable loaded_;
  std::map<std::string, Entry> entries_;
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/system_cache.ipp>
#endif

#endif  // DHIS2_DETAIL_SYSTEM_CACHE_HPP
