#ifndef DHIS2_DETAIL_BASE64_HPP
#define DHIS2_DETAIL_BASE64_HPP

// Base64 (RFC 4648 §4, padded: HTTP Basic credentials) and base64url (§5, unpadded: resume
// tokens, which must survive a shell and a URL unquoted).

#include <dhis2/detail/config.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace dhis2 {
namespace detail {

std::string base64_encode_with(std::string_view in, const char* alphabet, bool pad);

std::string base64_encode(std::string_view in);
std::string base64url_encode(std::string_view in);

// Decodes either alphabet, with or without padding; empty for any other character, for data
// after padding, or for a length no encoder produces.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/base64.ipp>
#endif

#endif  // DHIS2_DETAIL_BASE64_HPP
