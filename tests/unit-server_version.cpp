// ServerVersion: the versions /api/system/info reports, compared and keyed.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

TEST_CASE("ServerVersion parses release, hotfix and snapshot versions") {
  const auto v = dhis2::ServerVersion::parse("2.42.1");
  CHECK(v.major == 2);
  CHECK(v.minor == 42);
  CHECK(v.patch == 1);
  CHECK(v.hotfix == 0);
  CHECK_FALSE(v.snapshot);

  const auto hotfix = dhis2::ServerVersion::parse("2.41.4.1");
  CHECK(hotfix.patch == 4);
  CHECK(hotfix.hotfix == 1);

  const auto snap = dhis2::ServerVersion::parse("2.43-SNAPSHOT");
  CHECK(snap.minor == 43);
  CHECK(snap.patch == 0);
  CHECK(snap.snapshot);

  const auto two_digit_patch = dhis2::ServerVersion::parse("2.40.12");
  CHECK(two_digit_patch.patch == 12);

  CHECK(dhis2::ServerVersion::parse(" 2.39 ").minor == 39);
  CHECK(dhis2::ServerVersion::parse("2.42.5-SNAPSHOT").snapshot);
}

TEST_CASE("ServerVersion gives the API key and canonical text") {
  CHECK(dhis2::ServerVersion::parse("2.42.1").key() == "v42");
  CHECK(dhis2::ServerVersion::parse("2.38").key() == "v38");
  CHECK(dhis2::ServerVersion::parse("2.43-SNAPSHOT").key() == "v43");
  CHECK(dhis2::ServerVersion::parse("2.41.4.1").str() == "2.41.4.1");
  CHECK(dhis2::ServerVersion::parse("2.40").str() == "2.40.0");
  CHECK(dhis2::ServerVersion::parse("2.43-SNAPSHOT").str() == "2.43.0-SNAPSHOT");
}

TEST_CASE("ServerVersion compares numerically, a snapshot before its release") {
  using V = dhis2::ServerVersion;
  CHECK(V::parse("2.40.12") > V::parse("2.40.8"));  // numeric, not lexicographic
  CHECK(V::parse("2.41.4.1") > V::parse("2.41.4"));
  CHECK(V::parse("2.41.1") >= V::parse("2.41.1"));
  CHECK(V::parse("2.41.0") < V::parse("2.41.1"));
  CHECK(V::parse("2.43-SNAPSHOT") < V::parse("2.43.0"));
  CHECK(V::parse("2.43-SNAPSHOT") > V::parse("2.42.5"));
  CHECK(V::parse("2.42") == V::parse("2.42.0"));
  CHECK(V::parse("2.42.1") != V::parse("2.42.1-SNAPSHOT"));
  CHECK(V::parse("2.38") <= V::parse("2.39"));
}

TEST_CASE("ServerVersion rejects garbage with UnsupportedVersionError naming the text") {
  for (const char* text : {"", "2", "2.", "2.x", "abc", "test", "123", "2.42.1.1.1", "2.42.1-rc1", "v2.42", "2..1",
                           "2.42.", "2.42-SNAPSHOT-SNAPSHOT", "-SNAPSHOT", "2.4200000000"}) {
    INFO(text);
    CHECK_FALSE(dhis2::ServerVersion::try_parse(text));
    try {
      dhis2::ServerVersion::parse(text);
      FAIL("no exception");
    } catch (const dhis2::UnsupportedVersionError& e) {
      CHECK(e.version() == text);
      CHECK_THAT(e.what(), Catch::Contains("is not a DHIS2 version"));
      CHECK_THAT(e.what(), Catch::Contains("e.g. 2.42.1"));
    }
  }
}
