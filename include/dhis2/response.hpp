#ifndef DHIS2_RESPONSE_HPP
#define DHIS2_RESPONSE_HPP

// A raw HTTP response, as Client::get_response and the other escape hatches return it: never an
// exception for an HTTP status. A plain value.

#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;

  // The first header of that name, compared case-insensitively; "" when absent.
  std::string header(const std::string& name) const {
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
  bool ok() const noexcept { return status >= 200 && status < 300; }
};

}  // namespace dhis2

#endif  // DHIS2_RESPONSE_HPP
