#ifndef DHIS2_IMPL_RESPONSE_IPP
#define DHIS2_IMPL_RESPONSE_IPP

// Definitions of <dhis2/response.hpp>.

#include <dhis2/response.hpp>

#include <cctype>
#include <cstddef>

namespace dhis2 {

DHIS2CPP_INLINE std::string Response::header(const std::string& name) const {
  for (const auto& h : headers) {
    if (h.first.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(h.first[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return h.second;
  }
  return {};
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_RESPONSE_IPP
