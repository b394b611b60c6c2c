#ifndef DHIS2_TESTING_TIME_ZONE_HPP
#define DHIS2_TESTING_TIME_ZONE_HPP

// The emulated server's time zone. DHIS2 writes every time (notification `time`, a job's
// `created`, `lastExecuted`, `lastFinished`, `serverDate`) as wall-clock time in its JVM's zone,
// with no offset (dhis2-wire.md §1.2, §5.1). A zone here is an offset from UTC that may change at
// given instants: enough to put a daylight-saving change (clocks back an hour) in the middle of a
// job, which is what a client must survive. A plain value.

#include <dhis2/detail/config.hpp>
#include <dhis2/local_time.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace dhis2 {
namespace testing {

struct ServerTimeZone {
  std::string id = "Etc/UTC";                               // serverTimeZoneId
  std::string display_name = "Coordinated Universal Time";  // serverTimeZoneDisplayName
  std::chrono::minutes offset{0};                           // UTC offset before the first change

  struct Change {
    std::chrono::system_clock::time_point at;  // the UTC instant the offset changes
    std::chrono::minutes offset;               // the offset from then on
  };
  std::vector<Change> changes;  // in increasing order of `at`

  static ServerTimeZone utc() { return ServerTimeZone{}; }

  // A zone with a fixed offset, e.g. fixed("Africa/Nairobi", "East Africa Time", 3h).
  static ServerTimeZone fixed(std::string zone_id, std::string name, std::chrono::minutes utc_offset);

  // From `at` on the offset is `new_offset`: change_at(t, 1h) after 2h is European clocks going
  // back at the end of summer time. Changes must be added in time order.
  ServerTimeZone& change_at(std::chrono::system_clock::time_point at, std::chrono::minutes new_offset);

  std::chrono::minutes offset_at(std::chrono::system_clock::time_point t) const;

  // The wall-clock time the server shows at the UTC instant `t`.
  LocalTime local(std::chrono::system_clock::time_point t) const;

  // As DHIS2 writes it: "yyyy-MM-ddTHH:mm:ss.SSS", no zone.
  std::string format(std::chrono::system_clock::time_point t) const { return format_local_time(local(t)); }
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/time_zone.ipp>
#endif

#endif  // DHIS2_TESTING_TIME_ZONE_HPP
