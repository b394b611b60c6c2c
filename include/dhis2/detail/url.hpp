#ifndef DHIS2_DETAIL_URL_HPP
#define DHIS2_DETAIL_URL_HPP

// Base URLs, API paths and query strings.

#include <dhis2/detail/config.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dhis2 {

// Query parameters in order; a key may repeat ("fields", "filter", ...). Values are encoded.
using Query = std::vector<std::pair<std::string, std::string>>;

namespace detail {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // "play.dhis2.org", "127.0.0.1", "[::1]"
  int port = 0;        // always set: 80/443 when the URL had none
  std::string path;    // the context path, "" or "/dhis" (no trailing slash)

  bool default_port() const { return (scheme == "http" && port == 80) || (scheme == "https" && port == 443); }
  // "https://host" or "http://host:8080": what a connection is made to.
  std::string origin() const;
  std::string str() const { return origin() + path; }
  bool same_origin(const Url& other) const;
};

// Parses an absolute http(s) URL; `what` names it in errors. Credentials in the URL are refused
// without being echoed.
Url parse_url(const std::string& text, const char* what = "base URL");
// The same without an exception: empty when `text` is not such a URL, and then `problem` (when
// given) says why, as parse_url's UsageError would.
std::optional<Url> try_parse_url(const std::string& text, const char* what = "base URL", std::string* problem = nullptr);

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

// "a=1&b=x%20y" (no leading '?'), keys and values percent-encoded (UTF-8 bytes as %XX).
std::string encode_query(const Query& query);

// The request target for an API path given with or without "/api" and a leading slash:
// "system/info", "/system/info", "api/system/info" and "/api/system/info" all give
// "<context>/api/system/info". A path with a query string keeps it.
std::string api_target(const std::string& context_path, std::string path, const Query& query = {});

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/url.ipp>
#endif

#endif  // DHIS2_DETAIL_URL_HPP
