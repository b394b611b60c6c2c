#ifndef DHIS2_SYSTEM_API_HPP
#define DHIS2_SYSTEM_API_HPP

// client.system(): reads about the server. info(), setting() and default_category_combo_uid()
// are cached for ClientOptions::system_cache_ttl (0 disables the cache); info() is primed by the
// handshake, so its first call costs no request. me() is never cached. When many threads read
// the same uncached key at once, one request is made and all of them get its answer, or its
// error; a failure is not cached.
// Thread-safe; a SystemApi is a cheap handle that shares its Client's state (it stays valid when
// the Client is moved or destroyed).

#include <dhis2/detail/client_core.hpp>
#include <dhis2/detail/config.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {

class SystemApi {
 public:
  explicit SystemApi(Client& client);

  // /api/system/info.
  nlohmann::json info();

  // /api/me: the user the credentials belong to, with their authorities. Never cached.
  nlohmann::json me();

  // A system setting's value (e.g. "keyUiLocale"), or an empty optional when the server has no
  // such setting (or keeps it confidential).
  std::optional<nlohmann::json> setting(const std::string& key);

  // The uid of the "default" category combination, used by data values without disaggregation.
  std::string default_category_combo_uid();

  // Forgets every cached value; the next reads go to the server.
  void invalidate();

 private:
  friend class Client;
  explicit SystemApi(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  nlohmann::json cached(const std::string& key, const std::function<nlohmann::json()>& load);

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/system_api.ipp>
#endif

#endif  // DHIS2_SYSTEM_API_HPP
