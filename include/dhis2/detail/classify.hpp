#ifndef DHIS2_DETAIL_CLASSIFY_HPP
#define DHIS2_DETAIL_CLASSIFY_HPP

// Turning an answer into JSON or a typed error (DESIGN.md §2): 2xx JSON is parsed, an empty 2xx
// is null, a 2xx that is not JSON is UnexpectedResponseError; a redirect to a login page and 401
// are AuthenticationError with a hint for the auth scheme in use; other statuses are ApiError
// with DHIS2's WebMessage. And the TransportError of a failure without an answer. Pure functions.

#include <dhis2/detail/config.hpp>
#include <dhis2/detail/credentials.hpp>
#include <dhis2/detail/transport.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/response.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace detail {

// The JSON of a response to `method` `target` (target without the origin), or the typed error.
nlohmann::json classify_response(const Response& response, const std::string& method, const std::string& target,
                                 AuthScheme scheme);

// What to check after a 401, for the auth scheme in use (and the server's WWW-Authenticate).
std::string unauthorized_hint(const Response& response, AuthScheme scheme, const std::string& dhis2_message);

// The error of a request that got no answer; `url` is the full URL without credentials. The
// timeouts are the ones the request ran with (named when it timed out).
TransportError transport_error(const std::string& method, const std::string& url, const HttpResult& result,
                               std::chrono::milliseconds connect_timeout, std::chrono::milliseconds read_timeout);

// The URL or target without its query and fragment (messages never show query values).
std::string strip_query(const std::string& url);

// Whether the body is JSON and says so.
bool is_json_response(const Response& response);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/classify.ipp>
#endif

#endif  // DHIS2_DETAIL_CLASSIFY_HPP
