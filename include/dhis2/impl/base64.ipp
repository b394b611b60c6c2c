#ifndef DHIS2_IMPL_BASE64_IPP
#define DHIS2_IMPL_BASE64_IPP

// Definitions of <dhis2/detail/base64.hpp>.

#include <dhis2/detail/base64.hpp>

#include <cstddef>
#include <cstdint>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE std::string base64_encode_with(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::uint32_t value = 0;
  int bits = 0;
  for (unsigned char c : in) {
    value = (value << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(value >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(value << (6 - bits)) & 0x3F]);
  while (pad && out.size() % 4 != 0) out.push_back('=');
  return out;
}

DHIS2CPP_INLINE std::string base64_encode(std::string_view in) {
  return base64_encode_with(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}
DHIS2CPP_INLINE std::string base64url_encode(std::string_view in) {
  return base64_encode_with(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false);
}

DHIS2CPP_INLINE std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  std::uint32_t value = 0;
  int bits = 0;
  std::size_t symbols = 0, padding = 0;
  for (char c : in) {
    int digit;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '+' || c == '-') digit = 62;
    else if (c == '/' || c == '_') digit = 63;
    else if (c == '=') {
      ++padding;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;
    ++symbols;
    value = ((value << 6) | static_cast<std::uint32_t>(digit)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  if (symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0)) return std::nullopt;
  return out;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_BASE64_IPP
