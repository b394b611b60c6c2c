#ifndef DHIS2_TESTING_REPLIES_HPP
#define DHIS2_TESTING_REPLIES_HPP

// The emulator's replies before they reach the wire: a status, a body, a content type and
// headers, and the builders every route shares (JSON bodies, DHIS2 WebMessages, the 403 of a
// missing authority, the 400 of a malformed uid, Tomcat's 404 page, a proxy's fault pages).
// Internal to the emulator (dhis2::testing::detail). Plain functions of their arguments: safe
// from any thread.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/faults.hpp>
#include <dhis2/testing/version_profile.hpp>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json;charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

// The reason phrase DHIS2 writes in a WebMessage's httpStatus ("Not Found").
const char* reason(int status);

Reply json_reply(int status, const nlohmann::json& body);
// The same, keeping the order of the body's keys as the server writes them.
Reply ordered_json_reply(int status, const nlohmann::ordered_json& body);
// text/plain with Cache-Control: no-store (SystemController).
Reply text_reply(std::string text);
// An empty body with this status and no content type (204s, and 200s without a body).
Reply empty_reply(int status);

// SystemController answers every GET with Cache-Control: no-store (§1).
Reply no_store(Reply reply);

// {"httpStatus", "httpStatusCode", "status", "message"}: the start of every WebMessage.
nlohmann::ordered_json envelope(int status, const char* web_status, const std::string& message);
// A WebMessage; a 4xx or 5xx also gets Cache-Control: no-cache, private.
Reply web_message(int status, const std::string& message, const std::string& error_code = {});
// 403 "Access is denied, requires one Authority from [<authority>]".
Reply forbidden(const std::string& authority);
// The 400 a version sends for a malformed uid in path parameter `parameter`.
Reply bad_uid(const VersionProfile& profile, const std::string& uid, const char* parameter);

// What an unmapped URL gets: Tomcat's HTML 404 page.
Reply not_found_page();
// The login page of the web app (and of an SSO proxy, for the HtmlPage fault).
std::string login_page_html();

// What a fault sends instead of the real response (Status, MalformedJson, HtmlPage, Redirect);
// the default Reply for the kinds that change the real response instead.
Reply fault_reply(const Fault& fault);

// ?fields= on the top level (§5.1, §5.2): absent, "*" or ":all" keep everything; "a,b[c,d]"
// keeps a and b (b whole: nested selections are not narrowed).
template <typename J>
J pick_fields(const J& body, const std::string& fields) {
  if (fields.empty()) return body;
  std::vector<std::string> names(1);
  int depth = 0;
  for (char c : fields) {
    if (c == '[' || c == '(') ++depth;
    if (c == ']' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      names.emplace_back();
    } else if (depth == 0 && c != ']' && c != ')') {
      names.back().push_back(c);
    }
  }
  J picked = J::object();
  for (const auto& name : names) {
    if (name == "*" || name == ":all") return body;
    if (body.contains(name)) picked[name] = body[name];
  }
  return picked;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/replies.ipp>
#endif

#endif  // DHIS2_TESTING_REPLIES_HPP
