#ifndef DHIS2_TESTING_CLOCK_HPP
#define DHIS2_TESTING_CLOCK_HPP

// The emulator's clock. Emulated DHIS2 time either stands still until a test advances it
// (speed 0, the default for tests), or runs at `speed` times real time (1 = real time; the demo
// uses that; 60 makes a 20-minute analytics run take 20 seconds). Thread-safe.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <mutex>

namespace dhis2 {
namespace testing {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;

  // A manual clock starting at `start`.
  explicit Clock(time_point start);

  // The emulated now.
  time_point now() const;

  // Moves emulated time forward; throws UsageError for a negative step.
  void advance(std::chrono::milliseconds by);

  // 0 stops the clock (manual mode); 1 runs at real time; N runs N times faster. Throws
  // UsageError for a negative or non-finite speed.
  void set_speed(double speed);

  double speed() const;

  // How much real time passes while `emulated` passes; max() when the clock stands still.
  std::chrono::steady_clock::duration real_duration_of(std::chrono::milliseconds emulated) const;

 private:
  time_point now_locked() const;
  // Folds the time elapsed at the current speed into the anchor.
  void rebase_locked();

  mutable std::mutex mutex_;
  time_point anchor_emulated_;
  std::chrono::steady_clock::time_point anchor_real_;
  double speed_ = 0;
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/clock.ipp>
#endif

#endif  // DHIS2_TESTING_CLOCK_HPP
