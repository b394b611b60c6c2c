#ifndef DHIS2_TESTING_ID_GENERATOR_HPP
#define DHIS2_TESTING_ID_GENERATOR_HPP

// What the job engine makes up: seeded 11-character uids (job and notification ids), the ids
// 2.42+ derives from a notification's timestamp, unique row and job-name times, and the one
// sequence number that orders jobs, feeds and summaries. References are to
// ../shared/docs/dhis2-wire.md. Internal to the emulator (dhis2::testing::detail).
//
// Not thread-safe; guarded by JobEngine::mutex_.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace dhis2 {
namespace testing {
namespace detail {

class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed) : random_(seed) {}

  // An 11-character DHIS2 uid: a letter, then letters and digits. The same for a given seed.
  std::string new_uid();

  // 2.42+ derives a notification's id from its (unique) timestamp (§1.2): "n" and 10 base-62 digits.
  static std::string uid_from_timestamp(std::int64_t ms);

  // A row's time in epoch milliseconds. With `unique` (2.42+, §1.2) it is later than every row time
  // handed out before; either way it is remembered.
  std::int64_t row_ms(std::int64_t ms, bool unique);

  // The name of an API-started job: "<TYPE> (<epoch millis>)", unique as 2.42's nowUnique() makes
  // it, with `unique_timestamp` (2.41+, §2.1); the in-memory job's fixed name otherwise.
  std::string ad_hoc_name(const std::string& type, std::chrono::system_clock::time_point now, bool unique_timestamp);

  // 1, 2, 3, ...: orders jobs by creation, feeds by their last row, summaries by when they were set.
  std::uint64_t next_sequence() noexcept { return ++seq_; }

 private:
  std::mt19937_64 random_;
  std::int64_t last_row_ms_ = 0;
  std::int64_t last_name_ms_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/id_generator.ipp>
#endif

#endif  // DHIS2_TESTING_ID_GENERATOR_HPP
