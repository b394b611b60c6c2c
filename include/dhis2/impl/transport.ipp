#ifndef DHIS2_IMPL_TRANSPORT_IPP
#define DHIS2_IMPL_TRANSPORT_IPP

// Definitions of <dhis2/detail/transport.hpp>.

#include <dhis2/detail/transport.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE TransportErrorKind transport_error_kind(TransportFailure failure) noexcept {
  switch (failure) {
    case TransportFailure::Connect: return TransportErrorKind::Connect;
    case TransportFailure::Dns: return TransportErrorKind::Dns;
    case TransportFailure::Timeout: return TransportErrorKind::Timeout;
    case TransportFailure::Tls: return TransportErrorKind::Tls;
    case TransportFailure::Read:
    case TransportFailure::Write: return TransportErrorKind::ConnectionClosed;
    case TransportFailure::TooLarge: return TransportErrorKind::ResponseTooLarge;
    case TransportFailure::None:
    case TransportFailure::Closed:
    case TransportFailure::Cancelled:
    case TransportFailure::Other: break;
  }
  return TransportErrorKind::Other;
}

DHIS2CPP_INLINE bool is_retryable(TransportFailure failure) noexcept {
  switch (failure) {
    case TransportFailure::Connect:
    case TransportFailure::Dns:
    case TransportFailure::Timeout:
    case TransportFailure::Read:
    case TransportFailure::Write: return true;
    default: return false;
  }
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_TRANSPORT_IPP
