#ifndef DHIS2_TESTING_IMPL_ROUTE_TABLE_IPP
#define DHIS2_TESTING_IMPL_ROUTE_TABLE_IPP

// Definitions of <dhis2/testing/route_table.hpp>.

#include <dhis2/testing/route_table.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE PathPattern::PathPattern(const std::string& pattern) : text_(pattern), segments_(split_path(pattern)) {}

DHIS2CPP_INLINE bool PathPattern::match(const std::vector<std::string>& segments, PathParams& params) const {
  if (segments.size() != segments_.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = segments_[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      params[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

DHIS2CPP_INLINE std::vector<std::string> split_path(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto next = text.find(separator, start);
    const std::string part = text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    if (!part.empty()) parts.push_back(part);
    if (next == std::string::npos) break;
    start = next + 1;
  }
  return parts;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_ROUTE_TABLE_IPP
