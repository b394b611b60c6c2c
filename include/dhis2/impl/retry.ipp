#ifndef DHIS2_IMPL_RETRY_IPP
#define DHIS2_IMPL_RETRY_IPP

// Definitions of <dhis2/detail/retry.hpp>.

#include <dhis2/detail/http_date.hpp>
#include <dhis2/detail/retry.hpp>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value,
                                                                           std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (value.size() > 9) return std::chrono::milliseconds::max();
    return std::chrono::milliseconds(std::stoll(value) * 1000);
  }
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  // In milliseconds before subtracting: two system_clock times (nanoseconds on libstdc++) more
  // than 292 years apart overflow their difference (found by fuzz_retry_after: a date in 1730).
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto wait = duration_cast<milliseconds>(when->time_since_epoch()) -
                    duration_cast<milliseconds>(now.time_since_epoch());
  return std::max(wait, std::chrono::milliseconds(0));
}

DHIS2CPP_INLINE void validate_retry_policy(const RetryPolicy& r, const char* where) {
  const std::string w = where;
  if (r.max_attempts < 1) throw UsageError(w + "::max_attempts must be at least 1");
  if (r.base_delay.count() < 0 || r.max_delay.count() < 0) throw UsageError(w + " delays must not be negative");
  if (!(r.backoff_factor >= 1.0)) throw UsageError(w + "::backoff_factor must be at least 1");
  if (!(r.jitter >= 0.0 && r.jitter < 1.0)) throw UsageError(w + "::jitter must be in [0, 1)");
  for (const int status : r.retry_statuses) {
    if (status < 400 || status > 599) {
      throw UsageError(w + "::retry_statuses holds " + std::to_string(status) +
                       "; only error statuses (400-599) can be retried");
    }
  }
}

DHIS2CPP_INLINE Backoff::Backoff(std::uint64_t seed) : state_(seed) {
  if (seed == 0) {
    std::random_device entropy;
    state_ = (static_cast<std::uint64_t>(entropy()) << 32) ^ entropy();
  }
}

DHIS2CPP_INLINE double Backoff::next_unit() {
  // splitmix64 over an atomic counter: lock-free, and plenty for spreading retries apart.
  std::uint64_t z = state_.fetch_add(0x9E3779B97F4A7C15ull) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

DHIS2CPP_INLINE std::chrono::milliseconds Backoff::backoff(const RetryPolicy& policy, int attempt) {
  const double cap = static_cast<double>(policy.max_delay.count());
  double base = static_cast<double>(policy.base_delay.count());
  for (int i = 1; i < attempt && base < cap; ++i) base *= policy.backoff_factor;
  base = std::min(base, cap);
  const double jittered = base * (1.0 - policy.jitter + 2.0 * policy.jitter * next_unit());
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(jittered, cap)));
}

DHIS2CPP_INLINE std::optional<std::chrono::milliseconds> Backoff::delay(const RetryPolicy& policy,
                                                                        const HttpResult& result, int attempt) {
  if (attempt >= policy.max_attempts) return std::nullopt;
  if (result.failure != TransportFailure::None) {
    if (!is_retryable(result.failure) || !policy.retry_connection_errors) return std::nullopt;
    return backoff(policy, attempt);
  }
  const auto& statuses = policy.retry_statuses;
  if (std::find(statuses.begin(), statuses.end(), result.response.status) == statuses.end()) return std::nullopt;
  if (const auto after = parse_retry_after(result.response.header("Retry-After"), std::chrono::system_clock::now())) {
    return std::min(*after, policy.max_delay);
  }
  return backoff(policy, attempt);
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_RETRY_IPP
