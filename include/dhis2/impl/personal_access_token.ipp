#ifndef DHIS2_IMPL_PERSONAL_ACCESS_TOKEN_IPP
#define DHIS2_IMPL_PERSONAL_ACCESS_TOKEN_IPP

// Definitions of <dhis2/personal_access_token.hpp>.

#include <dhis2/personal_access_token.hpp>

#include <dhis2/detail/crc32.hpp>

#include <array>
#include <cstdint>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

DHIS2CPP_INLINE std::string pat_checksum(PatFormat format, std::string_view secret) {
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

DHIS2CPP_INLINE std::optional<PatFormat> pat_format(std::string_view token) {
  // "d2pat_" is checked first: "d2p_" is not its prefix, but keep the longer one first anyway.
  if (token.substr(0, 6) == "d2pat_") return PatFormat::V1;
  if (token.substr(0, 4) == "d2p_") return PatFormat::V2;
  return std::nullopt;
}

DHIS2CPP_INLINE std::optional<std::string> pat_problem(std::string_view token) {
  const auto format = pat_format(token);
  if (!format) {
    return std::string(
        "a DHIS2 personal access token starts with \"d2p_\" (V2) or \"d2pat_\" (V1); "
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
      return std::string(
          "a personal access token holds only letters and digits after its prefix; "
          "this one has another character (a space, a quote, a newline?)");
    }
  }
  const auto secret = token.substr(layout.prefix.size(), layout.secret_length);
  const auto checksum = token.substr(layout.prefix.size() + layout.secret_length);
  if (detail::pat_checksum(*format, secret) != checksum) {
    return std::string(
        "the personal access token's checksum does not match: a character was "
        "mistyped; copy the token again");
  }
  return std::nullopt;
}

DHIS2CPP_INLINE std::optional<std::string> make_pat(PatFormat format, std::string_view secret) {
  const auto layout = detail::pat_layout(format);
  if (secret.size() != layout.secret_length) return std::nullopt;
  for (char c : secret) {
    if (!detail::is_ascii_alnum(c)) return std::nullopt;
  }
  return std::string(layout.prefix) + std::string(secret) + detail::pat_checksum(format, secret);
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_PERSONAL_ACCESS_TOKEN_IPP
