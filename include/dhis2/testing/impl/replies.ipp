#ifndef DHIS2_TESTING_IMPL_REPLIES_IPP
#define DHIS2_TESTING_IMPL_REPLIES_IPP

// Definitions of <dhis2/testing/replies.hpp>.

#include <dhis2/testing/replies.hpp>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

DHIS2CPP_INLINE Reply json_reply(int status, const nlohmann::json& body) {
  return Reply{status, body.dump(), "application/json;charset=UTF-8", {}};
}

DHIS2CPP_INLINE Reply ordered_json_reply(int status, const nlohmann::ordered_json& body) {
  return Reply{status, body.dump(), "application/json;charset=UTF-8", {}};
}

DHIS2CPP_INLINE Reply text_reply(std::string text) {
  return Reply{200, std::move(text), "text/plain;charset=UTF-8", {{"Cache-Control", "no-store"}}};
}

DHIS2CPP_INLINE Reply empty_reply(int status) { return Reply{status, "", "", {}}; }

DHIS2CPP_INLINE Reply no_store(Reply reply) {
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

DHIS2CPP_INLINE nlohmann::ordered_json envelope(int status, const char* web_status, const std::string& message) {
  return nlohmann::ordered_json{
      {"httpStatus", reason(status)}, {"httpStatusCode", status}, {"status", web_status}, {"message", message}};
}

DHIS2CPP_INLINE Reply web_message(int status, const std::string& message, const std::string& error_code) {
  nlohmann::ordered_json body = envelope(status, status < 400 ? "OK" : "ERROR", message);
  if (!error_code.empty()) body["errorCode"] = error_code;
  Reply reply = ordered_json_reply(status, body);
  if (status >= 400) reply.headers.emplace_back("Cache-Control", "no-cache, private");
  return reply;
}

DHIS2CPP_INLINE Reply forbidden(const std::string& authority) {
  return web_message(403, "Access is denied, requires one Authority from [" + authority + "]");
}

DHIS2CPP_INLINE Reply bad_uid(const VersionProfile& profile, const std::string& uid, const char* parameter) {
  const std::string rule = "UID must be an alphanumeric string of 11 characters starting with a letter, but was: " + uid;
  if (profile.version.minor == 40) return web_message(400, rule);
  return web_message(400, "Value '" + uid + "' is not valid for path parameter " + parameter + ". " + rule);
}

DHIS2CPP_INLINE Reply not_found_page() {
  return Reply{404,
               "<!doctype html><html lang=\"en\"><head><title>HTTP Status 404 – Not Found</title></head>"
               "<body><h1>HTTP Status 404 – Not Found</h1></body></html>",
               "text/html;charset=utf-8",
               {}};
}

DHIS2CPP_INLINE std::string login_page_html() {
  return "<!DOCTYPE html><html><head><title>DHIS 2 | Login</title></head><body><form id=\"loginForm\" "
         "method=\"post\" action=\"login\"><input id=\"j_username\" name=\"j_username\"/>"
         "<input id=\"j_password\" name=\"j_password\" type=\"password\"/></form></body></html>";
}

DHIS2CPP_INLINE Reply fault_reply(const Fault& fault) {
  Reply r;
  switch (fault.kind) {
    case Fault::Kind::Status:
      r.status = fault.status;
      r.content_type = "text/html";
      r.body = "<html><head><title>" + std::to_string(fault.status) + " " + reason(fault.status) +
               "</title></head><body><center><h1>" + std::to_string(fault.status) + " " + reason(fault.status) +
               "</h1></center><hr><center>nginx</center></body></html>\n";
      break;
    case Fault::Kind::MalformedJson: r.body = "{\"httpStatus\": \"OK\", \"httpStatusCode\": 200, \"status\": OK,,"; break;
    case Fault::Kind::HtmlPage:
      r.status = fault.status;
      r.content_type = "text/html;charset=UTF-8";
      r.body = login_page_html();
      break;
    case Fault::Kind::Redirect:
      r.status = fault.status;
      r.content_type = "text/html";
      r.headers.emplace_back("Location", fault.location);
      break;
    default: break;
  }
  return r;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_REPLIES_IPP
