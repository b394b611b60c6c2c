#ifndef DHIS2_TESTING_IMPL_TIME_ZONE_IPP
#define DHIS2_TESTING_IMPL_TIME_ZONE_IPP

// Definitions of <dhis2/testing/time_zone.hpp>.

#include <dhis2/testing/time_zone.hpp>

#include <dhis2/errors.hpp>

#include <utility>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE ServerTimeZone ServerTimeZone::fixed(std::string zone_id, std::string name,
                                                     std::chrono::minutes utc_offset) {
  ServerTimeZone z;
  z.id = std::move(zone_id);
  z.display_name = std::move(name);
  z.offset = utc_offset;
  return z;
}

DHIS2CPP_INLINE ServerTimeZone& ServerTimeZone::change_at(std::chrono::system_clock::time_point at,
                                                          std::chrono::minutes new_offset) {
  if (!changes.empty() && at <= changes.back().at) {
    throw UsageError("ServerTimeZone::change_at: add changes in increasing time order");
  }
  changes.push_back(Change{at, new_offset});
  return *this;
}

DHIS2CPP_INLINE std::chrono::minutes ServerTimeZone::offset_at(std::chrono::system_clock::time_point t) const {
  std::chrono::minutes current = offset;
  for (const auto& c : changes) {
    if (t < c.at) break;
    current = c.offset;
  }
  return current;
}

DHIS2CPP_INLINE LocalTime ServerTimeZone::local(std::chrono::system_clock::time_point t) const {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch() + offset_at(t));
  return LocalTime(ms);
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_TIME_ZONE_IPP
