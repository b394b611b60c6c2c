#ifndef DHIS2_SYSTEM_API_HPP
#define DHIS2_SYSTEM_API_HPP

// client.system(): reads about the server. info(), setting() and default_category_combo_uid()
// are cached for ClientOptions::system_cache_ttl (0 disables the cache); info() is primed by the
// handshake, so its first call costs no request. me() is never cached. When many threads read
// the same uncached key at once, one request is made and all of them get its answer, or its
// error; a failure is not cached.
// Thread-safe; a SystemApi is a cheap handle that must not outlive its Client.

#include <dhis2/client.hpp>
#include <dhis2/detail/config.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {

class SystemApi {
 public:
  explicit SystemApi(Client& client) : client_(client) {}

  // /api/system/info.
  nlohmann::json info();

  // /api/me: the user the credentials belong to, with their authorities. Never cached.
  nlohmann::json me() { return client_.get_raw("me"); }

  // A system setting's value (e.g. "keyUiLocale"), or an empty optional when the server has no
  // such setting (or keeps it confidential).
  std::optional<nlohmann::json> setting(const std::string& key);

  // The uid of the "default" category combination, used by data values without disaggregation.
  std::string default_category_combo_uid();

  // Forgets every cached value; the next reads go to the server.
  void invalidate();

 private:
  template <class Load>
  nlohmann::json cached(const std::string& key, Load load) {
    const auto ttl = client_.options().system_cache_ttl;
    if (ttl.count() == 0) return load();
    std::unique_lock<std::mutex> lock(client_.cache_mutex_);
    auto it = client_.cache_.find(key);
    if (it != client_.cache_.end()) {
      if (const auto pending = it->second.loading) {
        // Another thread is loading this key: share its answer, or its error (one request).
        client_.cache_cv_.wait(lock, [&pending] { return pending->done; });
        if (pending->error) std::rethrow_exception(pending->error);
        return pending->value;
      }
      if (std::chrono::steady_clock::now() < it->second.expires) return it->second.value;
      client_.cache_.erase(it);
    }
    const auto pending = std::make_shared<Client::CacheLoad>();
    client_.cache_[key].loading = pending;
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
    it = client_.cache_.find(key);
    if (it != client_.cache_.end() && it->second.loading == pending) {  // else invalidate() forgot it meanwhile
      if (error) {
        client_.cache_.erase(it);  // a failure is not cached
      } else {
        it->second.value = value;
        it->second.expires = std::chrono::steady_clock::now() + ttl;
        it->second.loading.reset();
      }
    }
    client_.cache_cv_.notify_all();
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return value;
  }

  Client& client_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/system_api.ipp>
#endif

#endif  // DHIS2_SYSTEM_API_HPP
