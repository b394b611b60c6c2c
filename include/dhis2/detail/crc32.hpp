#ifndef DHIS2_DETAIL_CRC32_HPP
#define DHIS2_DETAIL_CRC32_HPP

// CRC-32 (IEEE 802.3, as java.util.zip.CRC32): the checksum of DHIS2 personal access tokens, and
// the integrity check of resume tokens.

#include <dhis2/detail/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dhis2 {
namespace detail {

constexpr std::array<std::uint32_t, 256> make_crc32_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// CRC-32 of `text` followed by `nul_padding` zero bytes (DHIS2's token checksum covers the UTF-8
// encoder's padded buffer; dhis2-wire.md §6.2).
std::uint32_t crc32_padded(std::string_view text, std::size_t nul_padding = 0);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/crc32.ipp>
#endif

#endif  // DHIS2_DETAIL_CRC32_HPP
