#ifndef DHIS2_IMPL_PACING_IPP
#define DHIS2_IMPL_PACING_IPP

// Definitions of <dhis2/detail/pacing.hpp>.

#include <dhis2/detail/pacing.hpp>

#include <algorithm>

namespace dhis2 {
namespace detail {

namespace pacing {

inline std::int64_t ms_of(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline constexpr std::int64_t kQuarterHour = 15 * 60 * 1000;

}  // namespace pacing

DHIS2CPP_INLINE void ServerClock::observe(std::chrono::system_clock::time_point date,
                                          std::chrono::steady_clock::time_point sent,
                                          std::chrono::steady_clock::time_point received,
                                          std::chrono::milliseconds resolution) {
  if (received < sent) std::swap(sent, received);
  const std::int64_t server = std::chrono::duration_cast<std::chrono::milliseconds>(date.time_since_epoch()).count();
  // The server read its clock at some g in [sent, received], and it then showed
  // [date, date + resolution).
  const std::int64_t low = server - pacing::ms_of(received);
  const std::int64_t high = server + std::max<std::int64_t>(resolution.count(), 1) - pacing::ms_of(sent);
  if (low_ && high_ && low <= *high_ && high >= *low_) {
    low_ = std::max(*low_, low);
    high_ = std::min(*high_, high);
  } else {
    low_ = low;
    high_ = high;
  }
}

DHIS2CPP_INLINE std::optional<ServerClock::Reading> ServerClock::read(std::chrono::steady_clock::time_point at) const {
  if (!low_ || !high_) return std::nullopt;
  const std::int64_t offset = *low_ + (*high_ - *low_) / 2;
  Reading r;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(pacing::ms_of(at) + offset));
  r.uncertainty = std::chrono::milliseconds((*high_ - *low_ + 1) / 2);
  return r;
}

DHIS2CPP_INLINE std::optional<std::chrono::steady_clock::time_point> estimate_job_start(
    std::optional<LocalTime> first_row, std::optional<LocalTime> newest_row, const ServerClock& clock,
    std::optional<std::chrono::steady_clock::time_point> after, std::chrono::steady_clock::time_point before) {
  const auto reading = clock.read(before);
  if (first_row && reading) {
    const std::int64_t server_now =
        std::chrono::duration_cast<std::chrono::milliseconds>(reading->time.time_since_epoch()).count();
    const std::int64_t uncertainty = reading->uncertainty.count();
    // The server's wall clock less UTC is a whole number of quarter hours; what is left is the age.
    std::int64_t age = (server_now - first_row->time_since_epoch().count()) % pacing::kQuarterHour;
    if (age < 0) age += pacing::kQuarterHour;
    if (age >= pacing::kQuarterHour / 2) age -= pacing::kQuarterHour;
    // A little below zero is the clocks' uncertainty; far below, a job older than 7.5 minutes.
    if (age < -(uncertainty + 1000)) age = pacing::kQuarterHour / 2;
    age = std::max<std::int64_t>(age, 0);
    // The job is at least as old as its rows span (both times on the server's wall clock): of the
    // ages the quarter hours allow, the first that is. (Short of it by less than ten seconds is the
    // clocks' doubt, not a quarter hour.)
    std::int64_t span = 0;
    if (newest_row) span = std::max<std::int64_t>(0, (*newest_row - *first_row).count());
    if (span - age - uncertainty > 10000) {
      age += (span - age - uncertainty + pacing::kQuarterHour - 1) / pacing::kQuarterHour * pacing::kQuarterHour;
    }
    // The youngest age the clock allows: a job taken younger than it is costs a poll or two more,
    // one taken older is seen to end late.
    age = std::max(age - uncertainty, span);
    auto start = before - std::chrono::milliseconds(std::max<std::int64_t>(age, 0));
    if (after && start < *after) start = *after;
    return start;
  }
  if (after) return *after + (before - *after) / 2;
  return std::nullopt;
}

DHIS2CPP_INLINE std::chrono::milliseconds pause_for_age(std::chrono::milliseconds age, std::chrono::milliseconds first,
                                                        std::chrono::milliseconds longest) {
  using std::chrono::milliseconds;
  // The next poll age more than half a first pause away: a poll just before a point does not
  // bring another right after it.
  const milliseconds target = age + first / 2;
  milliseconds point{0};
  while (true) {
    const milliseconds step = std::min(first + point / 2, longest);
    if (step == longest) {
      // Past the ramp the pause is simply the longest: a long job's polls need no phase, and
      // watches of one type keep sharing an overview (TaskManager) whatever their jobs' ages.
      if (point <= target) return longest;
      break;
    }
    if (point > target) break;
    point += step;
  }
  return std::max(milliseconds(1), std::min(point - age, longest));
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_PACING_IPP
