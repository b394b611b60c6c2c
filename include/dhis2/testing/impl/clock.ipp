#ifndef DHIS2_TESTING_IMPL_CLOCK_IPP
#define DHIS2_TESTING_IMPL_CLOCK_IPP

// Definitions of <dhis2/testing/clock.hpp>.

#include <dhis2/testing/clock.hpp>

#include <dhis2/errors.hpp>

#include <cmath>
#include <string>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE Clock::Clock(time_point start)
    : anchor_emulated_(start), anchor_real_(std::chrono::steady_clock::now()) {}

DHIS2CPP_INLINE Clock::time_point Clock::now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return now_locked();
}

DHIS2CPP_INLINE void Clock::advance(std::chrono::milliseconds by) {
  if (by.count() < 0) throw UsageError("Clock::advance: the step must not be negative");
  std::lock_guard<std::mutex> lock(mutex_);
  rebase_locked();
  anchor_emulated_ += by;
}

DHIS2CPP_INLINE void Clock::set_speed(double speed) {
  if (!(speed >= 0) || !std::isfinite(speed)) {
    throw UsageError("Clock::set_speed: the speed must be a finite number >= 0 (0 = manual, 1 = real time)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  rebase_locked();
  speed_ = speed;
}

DHIS2CPP_INLINE double Clock::speed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return speed_;
}

DHIS2CPP_INLINE std::chrono::steady_clock::duration Clock::real_duration_of(std::chrono::milliseconds emulated) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (speed_ <= 0) return std::chrono::steady_clock::duration::max();
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double, std::milli>(static_cast<double>(emulated.count()) / speed_));
}

DHIS2CPP_INLINE Clock::time_point Clock::now_locked() const {
  if (speed_ <= 0) return anchor_emulated_;
  const auto real = std::chrono::steady_clock::now() - anchor_real_;
  const auto scaled = std::chrono::duration<double, std::nano>(real) * speed_;
  return anchor_emulated_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(scaled);
}

DHIS2CPP_INLINE void Clock::rebase_locked() {
  anchor_emulated_ = now_locked();
  anchor_real_ = std::chrono::steady_clock::now();
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_CLOCK_IPP
