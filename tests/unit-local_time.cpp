// LocalTime: DHIS2's zone-less "yyyy-MM-ddTHH:mm:ss.SSS" times.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono;

TEST_CASE("parse_local_time reads DHIS2's time format without inventing a zone") {
  const auto t = dhis2::parse_local_time("2025-05-20T10:12:00.456");
  REQUIRE(t);
  // 2025-05-20 is day 20228 since 1970-01-01; read as a wall clock, not shifted by any zone.
  const auto expected = milliseconds(((20228LL * 24 + 10) * 60 + 12) * 60 * 1000 + 456);
  CHECK(t->time_since_epoch() == expected);
}

TEST_CASE("parse_local_time accepts 0 to 9 fraction digits and truncates below a millisecond") {
  const auto whole = dhis2::parse_local_time("2024-02-29T23:59:59");
  REQUIRE(whole);
  CHECK(*dhis2::parse_local_time("2024-02-29T23:59:59.5") - *whole == milliseconds(500));
  CHECK(*dhis2::parse_local_time("2024-02-29T23:59:59.05") - *whole == milliseconds(50));
  CHECK(*dhis2::parse_local_time("2024-02-29T23:59:59.123456789") - *whole == milliseconds(123));
}

TEST_CASE("parse_local_time rejects other formats, zones and impossible dates") {
  for (const char* text :
       {"", "2025-05-20", "2025-05-20 10:12:00.456", "2025-05-20T10:12:00.", "2025-05-20T10:12:00.456Z",
        "2025-05-20T10:12:00.456+02:00", "2025-13-01T00:00:00.000", "2025-02-29T00:00:00.000", "2025-04-31T00:00:00.000",
        "2025-05-20T24:00:00.000", "2025-05-20T10:60:00.000", "2025-05-20T10:12:60.000", "2025-05-20T10:12:00.1234567890",
        "20x5-05-20T10:12:00.456"}) {
    INFO(text);
    CHECK_FALSE(dhis2::parse_local_time(text));
  }
}

TEST_CASE("format_local_time writes DHIS2's format and round-trips") {
  for (const char* text : {"2025-05-20T10:12:00.456", "1970-01-01T00:00:00.000", "1969-12-31T23:59:59.999",
                           "2000-02-29T12:00:00.001", "9999-12-31T23:59:59.999", "0001-01-01T00:00:00.000"}) {
    const auto t = dhis2::parse_local_time(text);
    REQUIRE(t);
    CHECK(dhis2::format_local_time(*t) == text);
  }
}

TEST_CASE("LocalTime values order and subtract like the wall clock they came from") {
  const auto start = *dhis2::parse_local_time("2025-12-31T23:59:59.900");
  const auto end = *dhis2::parse_local_time("2026-01-01T00:00:00.100");
  CHECK(start < end);
  CHECK(end - start == milliseconds(200));
}
