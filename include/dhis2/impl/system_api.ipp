#ifndef DHIS2_IMPL_SYSTEM_API_IPP
#define DHIS2_IMPL_SYSTEM_API_IPP

// Definitions of <dhis2/system_api.hpp>, and of Client::system() and Client::prime_system_info()
// (declared in <dhis2/client.hpp>).

#include <dhis2/system_api.hpp>

#include <dhis2/errors.hpp>

namespace dhis2 {

DHIS2CPP_INLINE nlohmann::json SystemApi::info() {
  client_.ensure_connected();  // the handshake primes the cache
  return cached("info", [this] { return client_.get_raw("system/info"); });
}

DHIS2CPP_INLINE std::optional<nlohmann::json> SystemApi::setting(const std::string& key) {
  if (key.empty()) throw UsageError("SystemApi::setting: the key is empty");
  const auto answer = cached("setting:" + key, [this, &key] { return client_.get_raw("systemSettings/" + key); });
  // {"<key>": value}, value null when absent (SystemSettingController).
  if (!answer.is_object()) return std::nullopt;
  const auto it = answer.find(key);
  if (it == answer.end() || it->is_null()) return std::nullopt;
  return *it;
}

DHIS2CPP_INLINE std::string SystemApi::default_category_combo_uid() {
  const auto answer = cached("default_category_combo", [this] {
    return client_.get_raw("categoryCombos", {{"filter", "name:eq:default"}, {"fields", "id"}, {"paging", "false"}});
  });
  const auto list = answer.is_object() ? answer.find("categoryCombos") : answer.end();
  if (!answer.is_object() || list == answer.end() || !list->is_array() || list->empty() || !(*list)[0].contains("id")) {
    throw UnexpectedResponseError("GET /api/categoryCombos: the server lists no \"default\" category combination");
  }
  return (*list)[0]["id"].get<std::string>();
}

DHIS2CPP_INLINE void SystemApi::invalidate() {
  std::lock_guard<std::mutex> lock(client_.cache_mutex_);
  client_.cache_.clear();
}

// Members of Client (<dhis2/client.hpp>), defined here where SystemApi is complete.
DHIS2CPP_INLINE SystemApi Client::system() { return SystemApi(*this); }

DHIS2CPP_INLINE void Client::prime_system_info(const nlohmann::json& info) {
  if (options_.system_cache_ttl.count() == 0) return;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  auto& entry = cache_["info"];
  entry.value = info;
  entry.loading.reset();
  entry.expires = std::chrono::steady_clock::now() + options_.system_cache_ttl;
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_SYSTEM_API_IPP
