#ifndef DHIS2_TESTING_AUTHENTICATOR_HPP
#define DHIS2_TESTING_AUTHENTICATOR_HPP

// How the emulator decides who sent a request (dhis2-wire.md §6): Basic, personal access tokens
// (ApiToken, with the version's checksum rule), OAuth2 bearer tokens, and the replies when that
// fails (401 WebMessages with or without WWW-Authenticate, 400 for a malformed token, the 302 to
// the login page for a browser). Internal to the emulator (dhis2::testing::detail).
//
// Thread safety: immutable after construction; every member may be called from any thread. It
// refers to the users and tokens of the FakeServerOptions it was made with, which must outlive it.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/fake_server_options.hpp>
#include <dhis2/testing/replies.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <string>

namespace dhis2 {
namespace testing {
namespace detail {

// Whether the user holds `authority` or ALL.
bool has_authority(const User& user, const std::string& authority);

class Authenticator {
 public:
  Authenticator(const FakeServerOptions& options, const VersionProfile& profile) : options_(options), profile_(profile) {}

  // The user the Authorization header names, or nullptr with `failure` set to the reply to send.
  // Without the header: a 401 for an XMLHttpRequest, else a 302 to `login_url`.
  const User* authenticate(const std::string& authorization, bool xml_http_request, const std::string& login_url,
                           Reply& failure) const;

  const User* find_user(const std::string& name) const;

 private:
  const User* authenticate_basic(const std::string& credential, Reply& failure) const;
  const User* authenticate_token(const std::string& token, Reply& failure) const;
  const User* authenticate_bearer(const std::string& token, Reply& failure) const;

  const FakeServerOptions& options_;
  const VersionProfile& profile_;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/authenticator.ipp>
#endif

#endif  // DHIS2_TESTING_AUTHENTICATOR_HPP
