#ifndef DHIS2_IMPL_ERRORS_IPP
#define DHIS2_IMPL_ERRORS_IPP

// Definitions of <dhis2/errors.hpp>.

#include <dhis2/errors.hpp>

#include <dhis2/detail/ascii.hpp>

namespace dhis2 {

DHIS2CPP_INLINE DecodeError::DecodeError(std::string path, std::string expected, std::string actual,
                                         const std::string& request)
    : UnexpectedResponseError((request.empty() ? std::string() : request + ": ") + path + ": expected " + expected +
                              ", got " + actual),
      path_(std::move(path)),
      expected_(std::move(expected)),
      actual_(std::move(actual)) {}

DHIS2CPP_INLINE const char* to_string(TransportErrorKind kind) noexcept {
  switch (kind) {
    case TransportErrorKind::Connect: return "connect";
    case TransportErrorKind::Dns: return "dns";
    case TransportErrorKind::Tls: return "tls";
    case TransportErrorKind::Timeout: return "timeout";
    case TransportErrorKind::ConnectionClosed: return "connection closed";
    case TransportErrorKind::ResponseTooLarge: return "response too large";
    case TransportErrorKind::Other: break;
  }
  return "other";
}

DHIS2CPP_INLINE ApiError::ApiError(int status, std::string dhis2_message, std::string error_code,
                                   std::shared_ptr<const WebMessage> web_message, const std::string& request,
                                   const Response* response)
    : Error((request.empty() ? std::string() : request + ": ") + describe(status, dhis2_message, error_code)),
      status_(status),
      dhis2_message_(std::move(dhis2_message)),
      error_code_(std::move(error_code)),
      web_message_(std::move(web_message)) {
  auto kept = std::make_shared<Response>();
  if (response != nullptr) {
    *kept = *response;
    for (auto& h : kept->headers) h.second = detail::redacted_header_value(h.first, h.second);
  } else {
    kept->status = 0;
  }
  response_ = std::move(kept);
}

DHIS2CPP_INLINE std::string ApiError::describe(int status, const std::string& message, const std::string& code) {
  std::string text = "DHIS2 answered HTTP " + std::to_string(status);
  if (!message.empty()) text += ": " + message;
  if (!code.empty()) text += " (" + code + ")";
  return text;
}

DHIS2CPP_INLINE VersionPinMismatchError::VersionPinMismatchError(std::string pinned, std::string actual)
    : Error("the client is pinned to DHIS2 " + pinned + " but the server runs " + actual +
            "; update the pin or allow a mismatch in ClientOptions"),
      pinned_(std::move(pinned)),
      actual_(std::move(actual)) {}

}  // namespace dhis2

#endif  // DHIS2_IMPL_ERRORS_IPP
