#ifndef DHIS2_IMPL_SYSTEM_API_IPP
#define DHIS2_IMPL_SYSTEM_API_IPP

// Definitions of <dhis2/system_api.hpp>.

#include <dhis2/system_api.hpp>

#include <dhis2/client.hpp>  // detail::core_of, defined with the Client

#include <dhis2/errors.hpp>

namespace dhis2 {

DHIS2CPP_INLINE SystemApi::SystemApi(Client& client) : core_(detail::live_core_of(client, "SystemApi")) {}

DHIS2CPP_INLINE nlohmann::json SystemApi::cached(const std::string& key, const std::function<nlohmann::json()>& load) {
  if (core_->state() == ClientState::Closed) throw UsageError("the client is closed; create a new dhis2::Client");
  return core_->system_cache().get(key, core_->options().system_cache_ttl, load);
}

DHIS2CPP_INLINE nlohmann::json SystemApi::info() {
  core_->ensure_connected();  // the handshake primes the cache
  return cached("info", [this] { return core_->get_json("system/info"); });
}

DHIS2CPP_INLINE nlohmann::json SystemApi::me() { return core_->get_json("me"); }

DHIS2CPP_INLINE std::optional<nlohmann::json> SystemApi::setting(const std::string& key) {
  if (key.empty()) throw UsageError("SystemApi::setting: the key is empty");
  const auto answer = cached("setting:" + key, [this, &key] { return core_->get_json("systemSettings/" + key); });
  // {"<key>": value}, value null when absent (SystemSettingController).
  if (!answer.is_object()) return std::nullopt;
  const auto it = answer.find(key);
  if (it == answer.end() || it->is_null()) return std::nullopt;
  return *it;
}

DHIS2CPP_INLINE std::string SystemApi::default_category_combo_uid() {
  const auto answer = cached("default_category_combo", [this] {
    return core_->get_json("categoryCombos", {{"filter", "name:eq:default"}, {"fields", "id"}, {"paging", "false"}});
  });
  const auto list = answer.is_object() ? answer.find("categoryCombos") : answer.end();
  if (!answer.is_object() || list == answer.end() || !list->is_array() || list->empty() || !(*list)[0].contains("id")) {
    throw UnexpectedResponseError("GET /api/categoryCombos: the server lists no \"default\" category combination");
  }
  return (*list)[0]["id"].get<std::string>();
}

DHIS2CPP_INLINE void SystemApi::invalidate() { core_->system_cache().clear(); }

}  // namespace dhis2

#endif  // DHIS2_IMPL_SYSTEM_API_IPP
