#ifndef DHIS2_AUTH_HPP
#define DHIS2_AUTH_HPP

// How a Client authenticates: HTTP Basic, a DHIS2 personal access token, or an OAuth2/OIDC
// bearer token from a provider. Plain values; the provider of BearerAuth must be thread-safe when
// the Client is shared between threads. Credentials never appear in messages or request hooks.

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/personal_access_token.hpp>  // TokenAuth is checked with pat_problem()

#include <functional>
#include <string>

namespace dhis2 {

// HTTP Basic authentication with a DHIS2 user name and password.
struct BasicAuth {
  std::string username;
  std::string password;
};

// A DHIS2 personal access token, sent as "Authorization: ApiToken <token>". The constructor checks
// the token's format and checksum (V1 "d2pat_..." or V2 "d2p_...") and throws UsageError saying
// what is wrong, so a mistyped token fails here instead of as a 400 from the server.
class TokenAuth {
 public:
  explicit TokenAuth(std::string token);
  const std::string& token() const noexcept { return token_; }

 private:
  std::string token_;
};

// An OAuth2/OIDC access token from a provider, sent as "Authorization: Bearer <token>".
// The provider is called with refresh = false before each request (return a cached token), and
// with refresh = true once after a 401, for a fresh token; the request is then retried once.
// Concurrent refreshes after one 401 are coalesced into a single call.
class BearerAuth {
 public:
  using Provider = std::function<std::string(bool refresh)>;

  explicit BearerAuth(Provider provider);
  // A fixed token (no refresh possible).
  static BearerAuth fixed(std::string token);
  const Provider& provider() const noexcept { return provider_; }

 private:
  Provider provider_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/auth.ipp>
#endif

#endif  // DHIS2_AUTH_HPP
