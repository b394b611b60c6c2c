#ifndef DHIS2_PERSONAL_ACCESS_TOKEN_HPP
#define DHIS2_PERSONAL_ACCESS_TOKEN_HPP

// The format of DHIS2 personal access tokens (PATs), checked locally so that a mistyped token
// fails with a clear message instead of a 400 from the server.
//   V1: "d2pat_" + 32 letters/digits + CRC32 as 10 decimal digits        (48 characters)
//   V2: "d2p_"   + 44 letters/digits + CRC32 as 6 base62 characters      (54 characters; 2.41+)
// DHIS2 computes the CRC32 over the UTF-8 encoder's whole backing array: the secret followed by
// floor(n * 1.1) - n NUL bytes (3 for V1, 4 for V2). A plain CRC32 does not match real tokens.
// Messages never quote the token: it is a credential.

#include <dhis2/detail/config.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dhis2 {

enum class PatFormat { V1, V2 };

namespace detail {

struct PatLayout {
  std::string_view prefix;
  std::size_t secret_length;
  std::size_t checksum_length;
};

constexpr PatLayout pat_layout(PatFormat format) {
  return format == PatFormat::V1 ? PatLayout{"d2pat_", 32, 10} : PatLayout{"d2p_", 44, 6};
}

bool is_ascii_alnum(char c);

// The checksum characters DHIS2 appends to `secret` in the given format.
std::string pat_checksum(PatFormat format, std::string_view secret);

}  // namespace detail

// The format of `token` judged by its prefix alone; empty when it has neither PAT prefix.
std::optional<PatFormat> pat_format(std::string_view token);

// What is wrong with `token` as a DHIS2 personal access token, or an empty optional when its
// prefix, length, characters and checksum are all right. Never quotes the token.
std::optional<std::string> pat_problem(std::string_view token);

// A token with the given secret and the checksum DHIS2 computes. The secret must be 32 (V1) or 44
// (V2) letters and digits; returns an empty optional otherwise. For tests and the emulator: real
// tokens are minted by the server from a secure random source.
std::optional<std::string> make_pat(PatFormat format, std::string_view secret);

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/personal_access_token.ipp>
#endif

#endif  // DHIS2_PERSONAL_ACCESS_TOKEN_HPP
