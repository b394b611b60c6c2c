#ifndef DHIS2_TESTING_API_REQUEST_HPP
#define DHIS2_TESTING_API_REQUEST_HPP

// A request as the emulator's routes see it: method, path, query parameters, headers and body,
// copied out of the HTTP server's request so that no route depends on the HTTP library. Internal
// to the emulator (dhis2::testing::detail). A plain value.

#include <dhis2/detail/config.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace testing {
namespace detail {

struct ApiRequest {
  std::string method;
  std::string path;                                          // as received, context path included, without the query
  std::vector<std::pair<std::string, std::string>> params;   // decoded, in the order received
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;

  bool has_param(const std::string& name) const;
  // The `index`-th value of the parameter `name`, or "".
  std::string param(const std::string& name, std::size_t index = 0) const;
  std::size_t param_count(const std::string& name) const;
  // The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/api_request.ipp>
#endif

#endif  // DHIS2_TESTING_API_REQUEST_HPP
