#ifndef DHIS2_PERSONAL_ACCESS_TOKEN_HPP
#define DHIS2_PERSONAL_ACCESS_TOKEN_HPP

// The format of DHIS2 personal access tokens (PATs), checked locally so that a mistyped token
// fails with a clear message instead of a 400 from the server.
//   V1: "d2pat_" + 32 letters/digits + CRC32 as 10 decimal digits        (48 characters)
//   V2: "d2p_"   + 44 letters/digits + CRC32 as 6 base62 characters      (54 characters; 2.41+)
// DHIS2 computes the CRC32 over the UTF-8 encoder's whole backing array: the secret followed by
// floor(n * 1.1) - n NUL bytes (3 for V1, 4 for V2). A plain CRC32 does not match real tokens.
// Messages never quote the token: it is a credential.

#include <dhis2/detail/crc32.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
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

inline bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The checksum characters DHIS2 appends to `secret` in the given format.
inline std::string pat_checksum(PatFormat format, std::string_view secret) {
  const std::size_t padding = secret.size() * 11 / 10 - secret.size();  // floor(n * 1.1) - n
  std::uint32_t crc = crc32_padded(secret, padding);
  const std::size_t width = pat_layout(format).checksum_length;
  const std::uint32_t base = format == PatFormat::V1 ? 10 : 62;
  constexpr std::string_view digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0 && crc != 0; crc /= base) out[i] = digits[crc % base];
  return out;
}

}  // namespace detail

// The format of `token` judged by its prefix alone; empty when it has neither PAT prefix.
inline std::optional<PatFormat> pat_format(std::string_view token) {
  // "d2pat_" is checked first: "d2p_" is not its prefix, but keep the longer one first anyway.
  if (token.substr(0, 6) == "d2pat_") return PatFormat::V1;
  if (token.substr(0, 4) == "d2p_") return PatFormat::V2;
  return std::nullopt;
}

// What is wrong with `token` as a DHIS2 personal access token, or an empty optional when its
// prefix, length, characters and checksum are all right. Never quotes the token.
inline std::optional<std::string> pat_problem(std::string_view token) {
  const auto format = pat_format(token);
  if (!format) {
    return std::string("a DHIS2 personal access token starts with \"d2p_\" (V2) or \"d2pat_\" (V1); "
                       "copy the whole token as DHIS2 showed it when it was created");
  }
  const auto layout = detail::pat_layout(*format);
  const std::size_t expected = layout.prefix.size() + layout.secret_length + layout.checksum_length;
  const char* name = *format == PatFormat::V1 ? "V1" : "V2";
  if (token.size() != expected) {
    return std::string("a ") + name + " personal access token has " + std::to_string(expected) +
           " characters, this one has " + std::to_string(token.size()) +
           "; it was probably truncated or has extra characters (spaces, a newline)";
  }
  for (char c : token.substr(layout.prefix.size())) {
    if (!detail::is_ascii_alnum(c)) {
      return std::string("a personal access token holds only letters and digits after its prefix; "
                         "this one has another character (a space, a quote, a newline?)");
    }
  }
  const auto secret = token.substr(layout.prefix.size(), layout.secret_length);
  const auto checksum = token.substr(layout.prefix.size() + layout.secret_length);
  if (detail::pat_checksum(*format, secret) != checksum) {
    return std::string("the personal access token's checksum does not match: a character was "
                       "mistyped; copy the token again");
  }
  return std::nullopt;
}

// A token with the given secret and the checksum DHIS2 computes. The secret must be 32 (V1) or 44
// (V2) letters and digits; returns an empty optional otherwise. For tests and the emulator: real
// tokens are minted by the server from a secure random source.
inline std::optional<std::string> make_pat(PatFormat format, std::string_view secret) {
  const auto layout = detail::pat_layout(format);
  if (secret.size() != layout.secret_length) return std::nullopt;
  for (char c : secret) {
    if (!detail::is_ascii_alnum(c)) return std::nullopt;
  }
  return std::string(layout.prefix) + std::string(secret) + detail::pat_checksum(format, secret);
}

}  // namespace dhis2

#endif  // DHIS2_PERSONAL_ACCESS_TOKEN_HPP
