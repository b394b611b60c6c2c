#ifndef DHIS2_DETAIL_CREDENTIALS_HPP
#define DHIS2_DETAIL_CREDENTIALS_HPP

// The Authorization header of a Client's requests, from its auth value, and the bearer refresh
// after a 401: the threads that saw a 401 with the same token share one refresh. Thread-safe.
// Lock order: refresh_mutex_, then mutex_; the user's provider is never called under mutex_.

#include <dhis2/auth.hpp>
#include <dhis2/detail/config.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <variant>

namespace dhis2 {
namespace detail {

enum class AuthScheme { Basic, Token, Bearer };

class Credentials {
 public:
  using Auth = std::variant<BasicAuth, TokenAuth, BearerAuth>;

  explicit Credentials(Auth auth);

  struct Header {
    std::string value;             // "Basic ...", "ApiToken ...", "Bearer ..."
    std::uint64_t generation = 0;  // of the bearer token; 0 for the others
  };

  // The header for the next request (a bearer provider is asked with refresh = false).
  Header current();

  // After a 401 answered to a header of `generation`: a fresh bearer token, asked for once for
  // every thread that saw that generation refused.
  Header refreshed(std::uint64_t generation);

  AuthScheme scheme() const noexcept;
  bool refreshable() const noexcept { return scheme() == AuthScheme::Bearer; }

 private:
  // The provider's token, refused (UsageError) when it is empty or holds a control character.
  static std::string checked_bearer(std::string token);
  Auth auth_;
  std::mutex refresh_mutex_;  // one refresh at a time
  std::mutex mutex_;          // guards the two below
  std::string bearer_token_;  // the last refreshed token
  std::uint64_t generation_ = 0;
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/credentials.ipp>
#endif

#endif  // DHIS2_DETAIL_CREDENTIALS_HPP
