#ifndef DHIS2_IMPL_RESPONSE_IPP
#define DHIS2_IMPL_RESPONSE_IPP

// Definitions of <dhis2/response.hpp>.

#include <dhis2/response.hpp>

#include <dhis2/detail/ascii.hpp>

namespace dhis2 {

DHIS2CPP_INLINE std::string Response::header(const std::string& name) const {
  for (const auto& h : headers) {
    if (detail::iequals(h.first, name)) return h.second;
  }
  return {};
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_RESPONSE_IPP
