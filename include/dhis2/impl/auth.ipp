#ifndef DHIS2_IMPL_AUTH_IPP
#define DHIS2_IMPL_AUTH_IPP

// Definitions of <dhis2/auth.hpp>.

#include <dhis2/auth.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/personal_access_token.hpp>

#include <memory>
#include <utility>

namespace dhis2 {

DHIS2CPP_INLINE TokenAuth::TokenAuth(std::string token) : token_(std::move(token)) {
  if (const auto problem = pat_problem(token_)) throw UsageError("TokenAuth: " + *problem);
}

DHIS2CPP_INLINE BearerAuth::BearerAuth(Provider provider) : provider_(std::move(provider)) {
  if (!provider_) throw UsageError("BearerAuth: the token provider is empty");
}

DHIS2CPP_INLINE BearerAuth BearerAuth::fixed(std::string token) {
  if (token.empty()) throw UsageError("BearerAuth::fixed: the token is empty");
  if (detail::has_control_character(token)) {
    throw UsageError("BearerAuth::fixed: the token contains a line break or another control character");
  }
  return BearerAuth([token = std::move(token)](bool) { return token; });
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_AUTH_IPP
