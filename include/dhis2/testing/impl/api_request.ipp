#ifndef DHIS2_TESTING_IMPL_API_REQUEST_IPP
#define DHIS2_TESTING_IMPL_API_REQUEST_IPP

// Definitions of <dhis2/testing/api_request.hpp>.

#include <dhis2/testing/api_request.hpp>

#include <dhis2/detail/ascii.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE bool ApiRequest::has_param(const std::string& name) const { return param_count(name) > 0; }

DHIS2CPP_INLINE std::string ApiRequest::param(const std::string& name, std::size_t index) const {
  for (const auto& p : params) {
    if (p.first != name) continue;
    if (index == 0) return p.second;
    --index;
  }
  return {};
}

DHIS2CPP_INLINE std::size_t ApiRequest::param_count(const std::string& name) const {
  std::size_t n = 0;
  for (const auto& p : params) n += p.first == name ? 1 : 0;
  return n;
}

DHIS2CPP_INLINE std::string ApiRequest::header(const std::string& name) const {
  for (const auto& h : headers) {
    if (dhis2::detail::iequals(h.first, name)) return h.second;
  }
  return {};
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_API_REQUEST_IPP
