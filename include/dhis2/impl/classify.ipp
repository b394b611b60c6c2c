#ifndef DHIS2_IMPL_CLASSIFY_IPP
#define DHIS2_IMPL_CLASSIFY_IPP

// Definitions of <dhis2/detail/classify.hpp>.

#include <dhis2/detail/classify.hpp>

#include <dhis2/web_message.hpp>

#include <algorithm>
#include <cctype>
#include <memory>

namespace dhis2 {
namespace detail {

namespace classify {

DHIS2CPP_INLINE std::string excerpt(const std::string& body) {
  std::string text = body.substr(0, 80);
  for (auto& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return "\"" + text + (body.size() > 80 ? "...\"" : "\"");
}

DHIS2CPP_INLINE std::string describe_html(const std::string& type) {
  return type.find("html") != std::string::npos ? " (a login, proxy or error page?)" : "";
}

}  // namespace classify

DHIS2CPP_INLINE std::string strip_query(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

DHIS2CPP_INLINE bool is_json_response(const Response& r) {
  return r.header("Content-Type").find("json") != std::string::npos &&
         !nlohmann::json::parse(r.body, nullptr, false).is_discarded();
}

DHIS2CPP_INLINE TransportError transport_error(const std::string& method, const std::string& url, const HttpResult& r,
                                               std::chrono::milliseconds connect_timeout,
                                               std::chrono::milliseconds read_timeout) {
  std::string message = method + " " + url + ": " + r.error;
  if (r.failure == TransportFailure::TooLarge) {
    message += "; raise ClientOptions::max_response_bytes or ask for less (paging, fields=)";
  } else if (r.failure == TransportFailure::Timeout || r.failure == TransportFailure::Read) {
    message += " (timeouts: connect " + std::to_string(connect_timeout.count()) + " ms, read " +
               std::to_string(read_timeout.count()) + " ms)";
  }
  return TransportError(message, transport_error_kind(r.failure));
}

DHIS2CPP_INLINE std::string unauthorized_hint(const Response& r, AuthScheme scheme, const std::string& dhis2_message) {
  std::string hint = "the server refused the credentials (HTTP 401";
  if (!dhis2_message.empty() && dhis2_message != "Unauthorized") hint += ": " + dhis2_message;
  hint += "). ";
  switch (scheme) {
    case AuthScheme::Basic:
      hint += "Check the user name and password, and that the account is not disabled or locked";
      break;
    case AuthScheme::Token:
      hint +=
          "Check that the personal access token exists on this server, has not expired, and that its allowed "
          "IP addresses, methods and referrers permit this request";
      break;
    case AuthScheme::Bearer:
      hint +=
          "The bearer token was refreshed once and still refused: check the token provider and the server's "
          "OAuth2/OIDC configuration";
      break;
  }
  const std::string challenge = r.header("WWW-Authenticate");
  if (!challenge.empty()) hint += " (WWW-Authenticate: " + challenge + ")";
  return hint;
}

DHIS2CPP_INLINE nlohmann::json classify_response(const Response& r, const std::string& method, const std::string& target,
                                                 AuthScheme scheme) {
  const std::string what = method + " " + strip_query(target);
  const std::string type = r.header("Content-Type");
  if (r.status >= 200 && r.status < 300) {
    if (r.body.empty() ||
        std::all_of(r.body.begin(), r.body.end(), [](unsigned char c) { return std::isspace(c) != 0; })) {
      return nullptr;
    }
    auto parsed = nlohmann::json::parse(r.body, nullptr, false);
    if (parsed.is_discarded() || type.find("html") != std::string::npos) {
      throw UnexpectedResponseError(what + ": expected JSON but got " + (type.empty() ? "a body" : type) + " (HTTP " +
                                        std::to_string(r.status) + "): " + classify::excerpt(r.body) +
                                        classify::describe_html(type),
                                    r.status);
    }
    return parsed;
  }
  if (r.status >= 300 && r.status < 400) {
    const std::string location = r.header("Location");
    if (location.find("login") != std::string::npos) {
      throw AuthenticationError(r.status, what + ": the server redirected to its login page (" + strip_query(location) +
                                              ") instead of answering: the request was not authenticated. "
                                              "Check the credentials, or whether a single sign-on proxy sits in front "
                                              "of DHIS2");
    }
    throw UnexpectedResponseError(what + ": the server redirected to " + strip_query(location) + " (HTTP " +
                                      std::to_string(r.status) +
                                      "); redirects are not followed so credentials never travel elsewhere; use the "
                                      "final URL as the base URL",
                                  r.status);
  }
  std::shared_ptr<const WebMessage> message;
  const auto parsed = nlohmann::json::parse(r.body, nullptr, false);
  if (!parsed.is_discarded() && WebMessage::looks_like(parsed)) {
    try {
      message = std::make_shared<const WebMessage>(WebMessage::from_json(parsed));
    } catch (const DecodeError&) {
      message = nullptr;
    }
  }
  if (r.status == 401) {
    throw AuthenticationError(401, what + ": " + unauthorized_hint(r, scheme, message ? message->message : ""));
  }
  std::string text = message ? message->message : "";
  if (!message && !parsed.is_discarded() && parsed.is_object() && parsed.contains("message") &&
      parsed["message"].is_string()) {
    text = parsed["message"].get<std::string>();
  }
  if (!message && parsed.is_discarded() && !r.body.empty()) {
    text = "the answer is not JSON but " + (type.empty() ? std::string("a body") : type) +
           (r.status == 404 ? " (a path this server does not have?)" : "");
  }
  if (r.status == 409 && message && message->status == "WARNING") {
    text += " [the import finished with errors: see web_message() for the report]";
  }
  throw ApiError(r.status, text, message ? message->error_code : "", message, what, &r);
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_CLASSIFY_IPP
