#ifndef DHIS2_IMPL_URL_IPP
#define DHIS2_IMPL_URL_IPP

// Definitions of <dhis2/detail/url.hpp>.

#include <dhis2/detail/url.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/errors.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE std::string Url::origin() const {
  return scheme + "://" + host + (default_port() ? "" : ":" + std::to_string(port));
}

DHIS2CPP_INLINE bool Url::same_origin(const Url& other) const {
  return scheme == other.scheme && port == other.port && detail::to_lower(host) == detail::to_lower(other.host);
}

DHIS2CPP_INLINE std::optional<Url> try_parse_url(const std::string& text, const char* what, std::string* problem) {
  const auto fail = [&](const std::string& why) -> std::optional<Url> {
    if (problem != nullptr) {
      *problem = std::string("invalid ") + what + " \"" + text + "\": " + why +
                 "; expected http(s)://host[:port][/context], e.g. https://play.dhis2.org/dev";
    }
    return std::nullopt;
  };
  const auto credentials = [&]() -> std::optional<Url> {
    if (problem != nullptr) {
      *problem = std::string("invalid ") + what +
                 ": it contains credentials (user@host); pass them as BasicAuth or TokenAuth instead";
    }
    return std::nullopt;
  };
  // Any '@' is refused as credentials before anything quotes the text: a password holding '/',
  // '?' or '#' does not even parse as user:password@host, yet it must not be echoed either.
  if (text.find('@') != std::string::npos) {
    return credentials();
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
      return fail("it contains a space or a control character (percent-encode a space in a path as %20)");
    }
  }
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return fail("it has no scheme");
  url.scheme = detail::to_lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return fail("the scheme must be http or https");
  std::string rest = text.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string::npos) {
    return credentials();
  }
  if (path.find_first_of("?#") != std::string::npos) return fail("a base URL has no query or fragment");
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return fail("the IPv6 address has no closing ']'");
    url.host = authority.substr(0, close + 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty() || url.host == "[]") return fail("it has no host");
  // A host name of letters, digits, '-', '.', '_' and '~' (an internationalized one in its
  // ASCII "xn--" form), or an IPv6 address of hex digits, ':' and '.' in brackets. Anything else
  // would reach the connection as something else than what was typed.
  const bool bracketed = url.host.front() == '[';
  for (std::size_t i = bracketed ? 1 : 0; i < url.host.size() - (bracketed ? 1 : 0); ++i) {
    const char c = url.host[i];
    const bool ok = bracketed
                        ? (std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')
                        : (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') &&
                              static_cast<unsigned char>(c) < 0x80;
    if (!ok) {
      return fail(bracketed ? "the IPv6 address holds a character other than hex digits, ':' and '.'"
                            : "the host holds a character other than letters, digits, '-', '.', '_' and '~' (write an "
                              "internationalized name in its xn-- form)");
    }
  }
  if (!port_text.empty() || (authority.size() && authority.back() == ':')) {
    if (port_text.empty() || port_text.size() > 5) return fail("the port must be a number from 1 to 65535");
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail("the port must be a number from 1 to 65535");
    }
    url.port = std::stoi(port_text);
    if (url.port < 1 || url.port > 65535) return fail("the port must be a number from 1 to 65535");
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  // A base URL that already ends in /api is the same server: the client adds /api itself.
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, "/api") == 0) path.resize(path.size() - 4);
  // And what stood before it ends in no slash either ("/dhis//api" is "/dhis", not "/dhis/").
  while (!path.empty() && path.back() == '/') path.pop_back();
  url.path = path;
  return url;
}

DHIS2CPP_INLINE Url parse_url(const std::string& text, const char* what) {
  std::string problem;
  auto url = try_parse_url(text, what, &problem);
  if (!url) throw UsageError(problem);
  return *url;
}

DHIS2CPP_INLINE std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

DHIS2CPP_INLINE std::string encode_query(const Query& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    if (!out.empty()) out += '&';
    out += percent_encode(key);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

DHIS2CPP_INLINE std::string api_target(const std::string& context_path, std::string path, const Query& query) {
  // Any "scheme://" prefix, in any case ("HTTPS://host/..." is a URL too, RFC 3986 §3.1).
  const auto scheme_end = path.find("://");
  const auto not_scheme = [](unsigned char c) { return !std::isalnum(c) && c != '+' && c != '-' && c != '.'; };
  if (scheme_end != std::string::npos && scheme_end > 0 && std::isalpha(static_cast<unsigned char>(path[0])) &&
      std::none_of(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(scheme_end), not_scheme)) {
    // Quote only the scheme: the rest of a URL may carry credentials.
    throw UsageError("a request path is relative to the base URL (e.g. \"system/info\"), not a URL (it starts with \"" +
                     path.substr(0, scheme_end) + "://\")");
  }
  // cpp-httplib percent-encodes a space, CR and LF in the target; it would send a tab raw and
  // stop at a NUL. None belongs in a path: a line break is most likely one read with the path.
  if (has_control_character(path)) {
    throw UsageError(
        "a request path contains a line break or another control character; percent-encode it, or "
        "pass query parameters as a Query, which encodes them");
  }
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  if (path == "api" || path.rfind("api/", 0) == 0 || path.rfind("api?", 0) == 0) path.erase(0, 3);
  if (!path.empty() && path.front() != '/' && path.front() != '?') path.insert(path.begin(), '/');
  std::string target = context_path + "/api" + path;
  if (!query.empty()) target += (target.find('?') == std::string::npos ? "?" : "&") + encode_query(query);
  return target;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_URL_IPP
