#ifndef DHIS2_IMPL_CRC32_IPP
#define DHIS2_IMPL_CRC32_IPP

// Definitions of <dhis2/detail/crc32.hpp>.

#include <dhis2/detail/crc32.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE std::uint32_t crc32_padded(std::string_view text, std::size_t nul_padding) {
  static constexpr auto table = make_crc32_table();
  std::uint32_t crc = 0xFFFFFFFFU;
  for (unsigned char byte : text) crc = table[(crc ^ byte) & 0xFFU] ^ (crc >> 8);
  for (std::size_t i = 0; i < nul_padding; ++i) crc = table[crc & 0xFFU] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFU;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_CRC32_IPP
