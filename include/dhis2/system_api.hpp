#ifndef DHIS2_SYSTEM_API_HPP
#define DHIS2_SYSTEM_API_HPP

// client.system(): reads about the server. info(), setting() and default_category_combo_uid()
// are cached for ClientOptions::system_cache_ttl (0 disables the cache); info() is primed by the
// handshake, so its first call costs no request. me() is never cached. When many threads read
// the same uncached key at once, one request is made and all of them get its answer, or its
// error; a failure is not cached.
// Thread-safe; a SystemApi is a cheap handle that must not outlive its Client.

#include <dhis2/client.hpp>

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
  nlohmann::json info() {
    client_.ensure_connected();  // the handshake primes the cache
    return cached("info", [this] { return client_.get_raw("system/info"); });
  }

  // /api/me: the user the credentials belong to, with their authorities. Never cached.
  nlohmann::json me() { return client_.get_raw("me"); }

  // A system setting's value (e.g. "keyUiLocale"), or an empty optional when the server has no
  // such setting (or keeps it confidential).
  std::optional<nlohmann::json> setting(const std::string& key) {
    if (key.empty()) throw UsageError("SystemApi::setting: the key is empty");
    const auto answer = cached("setting:" + key, [this, &key] { return client_.get_raw("systemSettings/" + key); });
    // {"<key>": value}, value null when absent (SystemSettingController).
    if (!answer.is_object()) return std::nullopt;
    const auto it = answer.find(key);
    if (it == answer.end() || it->is_null()) return std::nullopt;
    return *it;
  }

  // The uid of the "default" category combination, used by data values without disaggregation.
  std::string default_category_combo_uid() {
    const auto answer = cached("default_category_combo", [this] {
      return client_.get_raw("categoryCombos", {{"filter", "name:eq:default"}, {"fields", "id"}, {"paging", "false"}});
    });
    const auto list = answer.is_object() ? answer.find("categoryCombos") : answer.end();
    if (!answer.is_object() || list == answer.end() || !list->is_array() || list->empty() || !(*list)[0].contains("id")) {
      throw UnexpectedResponseError("GET /api/categoryCombos: the server lists no \"default\" category combination");
    }
    return (*list)[0]["id"].get<std::string>();
  }

  // Forgets every cached value; the next reads go to the server.
  void invalidate() {
    std::lock_guard<std::mutex> lock(client_.cache_mutex_);
    client_.cache_.clear();
  }

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

inline SystemApi Client::system() { return SystemApi(*this); }

inline void Client::prime_system_info(const nlohmann::json& info) {
  if (options_.system_cache_ttl.count() == 0) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto& entry = cache_["info"];
  entry.value = info;
  entry.loading.reset();
  entry.expires = std::chrono::steady_clock::now() + options_.system_cache_ttl;
}

}  // namespace dhis2

#endif  // DHIS2_SYSTEM_API_HPP
