#ifndef DHIS2_TESTING_IMPL_AUTHENTICATOR_IPP
#define DHIS2_TESTING_IMPL_AUTHENTICATOR_IPP

// Definitions of <dhis2/testing/authenticator.hpp>.

#include <dhis2/testing/authenticator.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/base64.hpp>
#include <dhis2/personal_access_token.hpp>

#include <algorithm>
#include <regex>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE bool has_authority(const User& user, const std::string& authority) {
  const auto& a = user.authorities;
  return std::find(a.begin(), a.end(), "ALL") != a.end() || std::find(a.begin(), a.end(), authority) != a.end();
}

DHIS2CPP_INLINE const User* Authenticator::authenticate(const std::string& authorization, bool xml_http_request,
                                                        const std::string& login_url, Reply& failure) const {
  if (authorization.empty()) {
    if (xml_http_request) {
      failure = web_message(401, "Unauthorized");
    } else {
      failure.status = 302;
      failure.content_type = "text/html";
      failure.headers.emplace_back("Location", login_url);
    }
    return nullptr;
  }
  const auto space = authorization.find(' ');
  const std::string scheme = dhis2::detail::to_lower(authorization.substr(0, space));
  const std::string credential = space == std::string::npos ? std::string() : authorization.substr(space + 1);
  if (scheme == "basic") return authenticate_basic(credential, failure);
  if (scheme == "apitoken") return authenticate_token(credential, failure);
  if (scheme == "bearer") return authenticate_bearer(credential, failure);
  failure = web_message(401, "Unauthorized");
  return nullptr;
}

DHIS2CPP_INLINE const User* Authenticator::find_user(const std::string& name) const {
  for (const auto& user : options_.users) {
    if (user.username == name) return &user;
  }
  return nullptr;
}

DHIS2CPP_INLINE const User* Authenticator::authenticate_basic(const std::string& credential, Reply& failure) const {
  const auto decoded = dhis2::detail::base64_decode(credential);
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon != std::string::npos) {
    const std::string name = decoded->substr(0, colon), password = decoded->substr(colon + 1);
    for (const auto& user : options_.users) {
      if (user.username == name && user.password == password) {
        if (!user.disabled) return &user;
        failure = web_message(401, "Account disabled");
        return nullptr;
      }
    }
  }
  failure = web_message(401, "Unauthorized");  // no WWW-Authenticate on the API chain
  return nullptr;
}

DHIS2CPP_INLINE const User* Authenticator::authenticate_token(const std::string& token, Reply& failure) const {
  const auto fail = [&failure](int status, const char* message) -> const User* {
    failure = web_message(status, message);
    failure.headers.emplace_back("WWW-Authenticate", "ApiToken");
    return nullptr;
  };
  static const std::regex shape("^[a-z0-9-._~+/]+=*$", std::regex::icase);
  if (!std::regex_match(token, shape)) return fail(400, "Api token is malformed");
  if (profile_.checksum_checked && pat_problem(token)) return fail(400, "Checksum validation failed");
  for (const auto& issued : options_.tokens) {
    if (issued.token != token) continue;
    if (issued.expired) return fail(401, "Failed to authenticate API token, token has expired.");
    const User* user = find_user(issued.username);
    if (!user || user->disabled) return fail(401, "The API token is disabled, locked or 2FA is enabled.");
    return user;
  }
  return fail(401, "The API token does not exists");
}

DHIS2CPP_INLINE const User* Authenticator::authenticate_bearer(const std::string& token, Reply& failure) const {
  for (const auto& issued : options_.bearer_tokens) {
    if (issued.token == token && !issued.expired) {
      if (const User* user = find_user(issued.username)) return user;
    }
  }
  failure = web_message(401, "Bearer token is invalid or expired");
  failure.headers.emplace_back("WWW-Authenticate",
                               "Bearer error=\"invalid_token\", error_description=\"An error occurred while "
                               "attempting to decode the Jwt: the token is invalid or expired\"");
  return nullptr;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_AUTHENTICATOR_IPP
