#ifndef DHIS2_ERRORS_HPP
#define DHIS2_ERRORS_HPP

// The error hierarchy. Every error the library throws derives from dhis2::Error, itself a
// std::runtime_error, so `catch (const dhis2::Error&)` catches them all. Messages never carry
// credentials. All types are copyable and safe to pass between threads.

#include <dhis2/detail/config.hpp>
#include <dhis2/response.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace dhis2 {

struct WebMessage;  // web_message.hpp; ApiError only holds it by pointer

// Base of every error this library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The caller passed something invalid (a malformed URL, task reference, option...). The message
// quotes the input and says what was expected. Fix the call; retrying will not help.
class UsageError : public Error {
 public:
  using Error::Error;
};

// What kind of failure a TransportError is, so that a caller can branch without reading messages.
enum class TransportErrorKind {
  Connect,           // the connection was refused, or the host is unreachable
  Dns,               // the host name does not resolve
  Tls,               // the TLS handshake or the certificate verification failed
  Timeout,           // connecting, sending or reading took longer than the configured timeout
  ConnectionClosed,  // the connection broke before a whole response arrived
  ResponseTooLarge,  // the response is larger than ClientOptions::max_response_bytes
  Other,             // anything else the HTTP library reports
};

// "connect", "dns", "tls", "timeout", "connection closed", "response too large", "other".
const char* to_string(TransportErrorKind kind) noexcept;

// The request never produced an HTTP response: connection refused, DNS, timeout, TLS, a dropped
// connection, or a response larger than the configured cap. kind() says which.
class TransportError : public Error {
 public:
  explicit TransportError(const std::string& message, TransportErrorKind kind = TransportErrorKind::Other)
      : Error(message), kind_(kind) {}
  TransportErrorKind kind() const noexcept { return kind_; }

 private:
  TransportErrorKind kind_;
};

// The server refused the credentials: a 401, or a redirect to a login page. The message says what
// to check (user and password, the token's expiry, ...).
class AuthenticationError : public Error {
 public:
  AuthenticationError(int status, const std::string& message) : Error(message), status_(status) {}
  // 401, or the 3xx status of a redirect to a login page.
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// The server answered, but not with what a DHIS2 server sends: an HTML page where JSON was
// expected (an SSO or proxy page), malformed JSON, or JSON of the wrong shape (see DecodeError).
class UnexpectedResponseError : public Error {
 public:
  explicit UnexpectedResponseError(const std::string& message, int status = 0) : Error(message), status_(status) {}
  // The HTTP status of the response, or 0 when the error did not come from a response.
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// JSON of the wrong shape. The message names the field path and what was expected, e.g.
// "notification.completed: expected a boolean, got a string".
class DecodeError : public UnexpectedResponseError {
 public:
  // `request` ("GET /api/x"), when given, prefixes the message; path() stays the field path.
  DecodeError(std::string path, std::string expected, std::string actual, const std::string& request = {});
  const std::string& path() const noexcept { return path_; }
  const std::string& expected() const noexcept { return expected_; }
  const std::string& actual() const noexcept { return actual_; }

 private:
  std::string path_;
  std::string expected_;
  std::string actual_;
};

// An HTTP error status (4xx or 5xx other than authentication) answered by the server. Carries the
// status, DHIS2's message and error code (e.g. "E1005"), and the parsed WebMessage when the body
// was one. A 409 with status WARNING is an import with errors: read web_message() for the report.
class ApiError : public Error {
 public:
  // `request` ("GET /api/x") prefixes the message when given; `response`, when given, is kept
  // for response() (its Set-Cookie and other credential headers redacted).
  ApiError(int status, std::string dhis2_message, std::string error_code = {},
           std::shared_ptr<const WebMessage> web_message = nullptr, const std::string& request = {},
           const Response* response = nullptr);

  int status() const noexcept { return status_; }
  // DHIS2's own message ("JobConfiguration with id X could not be found."), or "" when absent.
  const std::string& dhis2_message() const noexcept { return dhis2_message_; }
  // DHIS2's error code ("E1005"), or "" when absent.
  const std::string& error_code() const noexcept { return error_code_; }
  // The parsed WebMessage, or nullptr when the body was not one.
  const WebMessage* web_message() const noexcept { return web_message_.get(); }
  // The response as received (status, headers, body), with the values of credential headers
  // (Set-Cookie, ...) replaced by "[redacted]". Status 0 and nothing else when the error was
  // not made from a response.
  const Response& response() const noexcept { return *response_; }

 private:
  static std::string describe(int status, const std::string& message, const std::string& code);

  int status_;
  std::string dhis2_message_;
  std::string error_code_;
  std::shared_ptr<const WebMessage> web_message_;
  std::shared_ptr<const Response> response_;  // shared: copies of the error stay cheap
};

// The server runs a DHIS2 version outside the supported range, or reported a version string that
// is not a DHIS2 version at all.
class UnsupportedVersionError : public Error {
 public:
  UnsupportedVersionError(std::string version, const std::string& message)
      : Error(message), version_(std::move(version)) {}
  // The version string as the server (or caller) gave it.
  const std::string& version() const noexcept { return version_; }

 private:
  std::string version_;
};

// The client was pinned to one DHIS2 version and the server runs another.
class VersionPinMismatchError : public Error {
 public:
  VersionPinMismatchError(std::string pinned, std::string actual);
  const std::string& pinned() const noexcept { return pinned_; }
  const std::string& actual() const noexcept { return actual_; }

 private:
  std::string pinned_;
  std::string actual_;
};

// A wait for a DHIS2 background job reached its deadline, or (stalled() == true) saw no new
// notification for the stall timeout. The job itself may still be running on the server.
class TaskTimeoutError : public Error {
 public:
  explicit TaskTimeoutError(const std::string& message, bool stalled = false) : Error(message), stalled_(stalled) {}
  bool stalled() const noexcept { return stalled_; }

 private:
  bool stalled_;
};

// The caller cancelled the call: a CancellationToken of RequestOptions. Nothing more is sent;
// a request that had already reached the server may still take effect there.
class CancelledError : public Error {
 public:
  using Error::Error;
};

// A wait was cancelled by the caller (TaskWatcher::cancel()). The job on the server is untouched.
class TaskCancelledError : public CancelledError {
 public:
  using CancelledError::CancelledError;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/errors.ipp>
#endif

#endif  // DHIS2_ERRORS_HPP
