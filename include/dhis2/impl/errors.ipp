#ifndef DHIS2_IMPL_ERRORS_IPP
#define DHIS2_IMPL_ERRORS_IPP

// Definitions of <dhis2/errors.hpp>.

#include <dhis2/errors.hpp>

namespace dhis2 {

DHIS2CPP_INLINE DecodeError::DecodeError(std::string path, std::string expected, std::string actual,
                                         const std::string& request)
    : UnexpectedResponseError((request.empty() ? std::string() : request + ": ") + path + ": expected " + expected +
                              ", got " + actual),
      path_(std::move(path)),
      expected_(std::move(expected)),
      actual_(std::move(actual)) {}

DHIS2CPP_INLINE ApiError::ApiError(int status, std::string dhis2_message, std::string error_code,
                                   std::shared_ptr<const WebMessage> web_message, const std::string& request)
    : Error((request.empty() ? std::string() : request + ": ") + describe(status, dhis2_message, error_code)),
      status_(status),
      dhis2_message_(std::move(dhis2_message)),
      error_code_(std::move(error_code)),
      web_message_(std::move(web_message)) {}

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
