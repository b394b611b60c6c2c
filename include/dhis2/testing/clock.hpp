#ifndef DHIS2_TESTING_CLOCK_HPP
#define DHIS2_TESTING_CLOCK_HPP

// The emulator's clock. Emulated DHIS2 time either stands still until a test advances it
// (speed 0, the default for tests), or runs at `speed` times real time (1 = real time; the demo
// uses that; 60 makes a 20-minute analytics run take 20 seconds). Thread-safe.

#include <dhis2/errors.hpp>

#include <chrono>
#include <cmath>
#include <mutex>
#include <string>

namespace dhis2 {
namespace testing {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // A manual clock starting at `start`.
  explicit Clock(time_point start) : anchor_emulated_(start), anchor_real_(std::chrono::steady_clock::now()) {}

  // The emulated now.
  time_point now() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_locked();
  }

  // Moves emulated time forward; throws UsageError for a negative step.
  void advance(std::chrono::milliseconds by) {
    if (by.count() < 0) throw UsageError("Clock::advance: the step must not be negative");
    std::lock_guard<std::mutex> lock(mutex_);
    rebase_locked();
    anchor_emulated_ += by;
  }

  // 0 stops the clock (manual mode); 1 runs at real time; N runs N times faster. Throws
  // UsageError for a negative or non-finite speed.
  void set_speed(double speed) {
    if (!(speed >= 0) || !std::isfinite(speed)) {
      throw UsageError("Clock::set_speed: the speed must be a finite number >= 0 (0 = manual, 1 = real time)");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    rebase_locked();
    speed_ = speed;
  }

  double speed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return speed_;
  }

  // How much real time passes while `emulated` passes; max() when the clock stands still.
  std::chrono::steady_clock::duration real_duration_of(std::chrono::milliseconds emulated) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (speed_ <= 0) return std::chrono::steady_clock::duration::max();
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(static_cast<double>(emulated.count()) / speed_));
  }

 private:
  time_point now_locked() const {
    if (speed_ <= 0) return anchor_emulated_;
    const auto real = std::chrono::steady_clock::now() - anchor_real_;
    const auto scaled = std::chrono::duration<double, std::nano>(real) * speed_;
    return anchor_emulated_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(scaled);
  }
  // Folds the time elapsed at the current speed into the anchor.
  void rebase_locked() {
    anchor_emulated_ = now_locked();
    anchor_real_ = std::chrono::steady_clock::now();
  }

  mutable std::mutex mutex_;
  time_point anchor_emulated_;
  std::chrono::steady_clock::time_point anchor_real_;
  double speed_ = 0;
};

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_CLOCK_HPP
