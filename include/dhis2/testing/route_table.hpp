#ifndef DHIS2_TESTING_ROUTE_TABLE_HPP
#define DHIS2_TESTING_ROUTE_TABLE_HPP

// The emulator's router: an ordered list of (methods, path pattern, handler). A pattern names the
// segments after /api, "jobConfigurations/{uid}/execute": a {name} segment matches any one
// segment and is handed to the handler under that name, every other segment matches itself. The
// first route that matches the method and the whole path answers. Internal to the emulator
// (dhis2::testing::detail).
//
// Thread safety: built once, then only read; find() may be called from any thread.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/replies.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace testing {
namespace detail {

// The values of a pattern's {name} segments, by name.
using PathParams = std::map<std::string, std::string>;

class PathPattern {
 public:
  explicit PathPattern(const std::string& pattern);

  // Whether `segments` match, every one; fills `params` with the {name} segments when they do.
  bool match(const std::vector<std::string>& segments, PathParams& params) const;

  const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;
  std::vector<std::string> segments_;
};

// Splits at `separator`, dropping empty parts ("/a//b/" gives {"a", "b"}).
std::vector<std::string> split_path(const std::string& text, char separator = '/');

// `Call` is what a handler gets: the request, who sent it, and (the caller puts them there) the
// PathParams find() filled.
template <typename Call>
class RouteTable {
 public:
  using Handler = std::function<Reply(const Call&)>;

  struct Route {
    std::vector<std::string> methods;
    PathPattern pattern;
    Handler handler;
  };

  // Adds a route after the others. `enabled` false leaves it out (a route the version lacks).
  RouteTable& add(std::vector<std::string> methods, const std::string& pattern, Handler handler, bool enabled = true) {
    if (enabled) routes_.push_back(Route{std::move(methods), PathPattern(pattern), std::move(handler)});
    return *this;
  }

  // The first route for `method` whose pattern matches `segments`, with its PathParams; nullptr
  // when none matches.
  const Route* find(const std::string& method, const std::vector<std::string>& segments, PathParams& params) const {
    for (const Route& route : routes_) {
      if (std::find(route.methods.begin(), route.methods.end(), method) == route.methods.end()) continue;
      params.clear();
      if (route.pattern.match(segments, params)) return &route;
    }
    return nullptr;
  }

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/route_table.ipp>
#endif

#endif  // DHIS2_TESTING_ROUTE_TABLE_HPP
