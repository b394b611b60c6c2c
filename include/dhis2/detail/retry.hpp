#ifndef DHIS2_DETAIL_RETRY_HPP
#define DHIS2_DETAIL_RETRY_HPP

// The retry policy applied: whether an attempt's result is tried again and after how long
// (exponential backoff with jitter, or the server's Retry-After). Pure decisions, no waiting:
// the pipeline sleeps. Thread-safe.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/http_date.hpp>  // Retry-After in its HTTP-date form
#include <dhis2/detail/transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace dhis2 {
namespace detail {

// Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), relative to `now`; empty
// when absent or invalid. A date in the past is a wait of 0.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                           std::chrono::system_clock::time_point now);

// Throws UsageError naming the field when a policy cannot work (`where` prefixes the message).
void validate_retry_policy(const RetryPolicy& policy, const char* where = "RetryPolicy");

class Backoff {
 public:
  // `seed` 0 seeds from the system's entropy; a fixed seed makes the jitter reproducible.
  explicit Backoff(std::uint64_t seed = 0);

  // The wait before attempt `attempt + 1` after `result` (of attempt `attempt`, counted from 1),
  // or empty when this result is final: not retryable, or the attempts are used up.
  std::optional<std::chrono::milliseconds> delay(const RetryPolicy& policy, const HttpResult& result, int attempt);

  // The backoff alone: base_delay * backoff_factor^(attempt-1), capped, varied by +-jitter.
  std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt);

 private:
  double next_unit();  // uniform in [0, 1)

  std::atomic<std::uint64_t> state_;
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/retry.ipp>
#endif

#endif  // DHIS2_DETAIL_RETRY_HPP
