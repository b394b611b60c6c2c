#ifndef DHIS2_RESPONSE_HPP
#define DHIS2_RESPONSE_HPP

// A raw HTTP response, as Client::get_response and the other escape hatches return it: never an
// exception for an HTTP status. A plain value.

#include <dhis2/detail/config.hpp>

#include <string>
#include <utility>
#include <vector>

namespace dhis2 {

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;

  // The first header of that name, compared case-insensitively; "" when absent.
  std::string header(const std::string& name) const;
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/response.ipp>
#endif

#endif  // DHIS2_RESPONSE_HPP
