#ifndef DHIS2_IMPL_CLIENT_IPP
#define DHIS2_IMPL_CLIENT_IPP

// Definitions of <dhis2/client.hpp>.

#include <dhis2/client.hpp>

namespace dhis2 {

DHIS2CPP_INLINE Client::Client(std::string base_url, BasicAuth auth, ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(std::move(base_url), std::move(auth), std::move(options))) {}

DHIS2CPP_INLINE Client::Client(std::string base_url, TokenAuth auth, ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(std::move(base_url), std::move(auth), std::move(options))) {}

DHIS2CPP_INLINE Client::Client(std::string base_url, BearerAuth auth, ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(std::move(base_url), std::move(auth), std::move(options))) {}

DHIS2CPP_INLINE std::shared_ptr<detail::ClientCore> Client::core(const char* what) const {
  if (!core_) throw UsageError(std::string("Client::") + what + ": this Client was moved from; use the one it moved to");
  return core_;
}

DHIS2CPP_INLINE SystemApi Client::system() { return SystemApi(core("system")); }
DHIS2CPP_INLINE JobsApi Client::jobs() { return JobsApi(core("jobs")); }
DHIS2CPP_INLINE TasksApi Client::tasks() { return TasksApi(core("tasks")); }

namespace detail {

DHIS2CPP_INLINE std::shared_ptr<ClientCore> core_of(const Client& client) { return client.core_; }

DHIS2CPP_INLINE std::shared_ptr<ClientCore> live_core_of(const Client& client, const char* what) {
  auto core = core_of(client);
  if (!core) throw UsageError(std::string(what) + ": the Client was moved from; pass the one it moved to");
  return core;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_CLIENT_IPP
