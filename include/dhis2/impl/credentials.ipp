#ifndef DHIS2_IMPL_CREDENTIALS_IPP
#define DHIS2_IMPL_CREDENTIALS_IPP

// Definitions of <dhis2/detail/credentials.hpp>.

#include <dhis2/detail/credentials.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/base64.hpp>
#include <dhis2/errors.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE Credentials::Credentials(Auth auth) : auth_(std::move(auth)) {
  if (const auto* basic = std::get_if<BasicAuth>(&auth_)) {
    // RFC 7617: the user-id cannot hold ':', and neither part a control character. Neither is
    // ever quoted here.
    if (basic->username.empty()) throw UsageError("BasicAuth: the username is empty");
    if (basic->username.find(':') != std::string::npos) {
      throw UsageError("BasicAuth: the username contains ':', which Basic authentication cannot send");
    }
    if (has_control_character(basic->username) || has_control_character(basic->password)) {
      throw UsageError(
          "BasicAuth: the username or the password contains a line break or another control "
          "character (read from a file with its newline?)");
    }
  }
}

DHIS2CPP_INLINE std::string Credentials::checked_bearer(std::string token) {
  if (token.empty()) throw UsageError("BearerAuth: the token provider returned an empty token");
  if (has_control_character(token)) {
    throw UsageError(
        "BearerAuth: the token provider returned a token with a line break or another control "
        "character");
  }
  return token;
}

DHIS2CPP_INLINE Credentials::Header Credentials::current() {
  if (const auto* basic = std::get_if<BasicAuth>(&auth_)) {
    return {"Basic " + base64_encode(basic->username + ":" + basic->password), 0};
  }
  if (const auto* token = std::get_if<TokenAuth>(&auth_)) return {"ApiToken " + token->token(), 0};
  std::uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation = generation_;
  }
  // Read before asking: a refresh that lands meanwhile makes a 401 of this token refresh nothing
  // twice (refreshed() sees the newer generation).
  return {"Bearer " + checked_bearer(std::get<BearerAuth>(auth_).provider()(false)), generation};
}

DHIS2CPP_INLINE Credentials::Header Credentials::refreshed(std::uint64_t generation) {
  std::lock_guard<std::mutex> refresh(refresh_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (generation_ != generation) return {"Bearer " + bearer_token_, generation_};
  }
  std::string token = checked_bearer(std::get<BearerAuth>(auth_).provider()(true));
  std::lock_guard<std::mutex> lock(mutex_);
  bearer_token_ = std::move(token);
  ++generation_;
  return {"Bearer " + bearer_token_, generation_};
}

DHIS2CPP_INLINE AuthScheme Credentials::scheme() const noexcept {
  if (std::holds_alternative<BasicAuth>(auth_)) return AuthScheme::Basic;
  if (std::holds_alternative<TokenAuth>(auth_)) return AuthScheme::Token;
  return AuthScheme::Bearer;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_CREDENTIALS_IPP
