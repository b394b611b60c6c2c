// TaskRef: parsing "JOB_TYPE/uid", round trips, and the errors a mistyped reference gets.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <unordered_set>

TEST_CASE("TaskRef::parse splits a reference into job type and uid") {
  const auto ref = dhis2::TaskRef::parse("ANALYTICS_TABLE/BFa3jDsbtdO");
  CHECK(ref.job_type == "ANALYTICS_TABLE");
  CHECK(ref.uid == "BFa3jDsbtdO");
}

TEST_CASE("TaskRef::str round-trips through parse") {
  for (const char* text : {"ANALYTICS_TABLE/BFa3jDsbtdO", "DATAVALUE_IMPORT/a0Bc1De2Fg3",
                           "TRACKER_IMPORT_JOB/Jk3bGh5sR2q", "analytics_table/x"}) {
    const auto ref = dhis2::TaskRef::parse(text);
    CHECK(ref.str() == text);
    CHECK(dhis2::TaskRef::parse(ref.str()) == ref);
  }
  const dhis2::TaskRef built{"METADATA_IMPORT", "vLk3hN8sQ2e"};
  CHECK(built.str() == "METADATA_IMPORT/vLk3hN8sQ2e");
}

TEST_CASE("TaskRef::parse splits on the last slash") {
  // Everything before the last '/' is the job type; a '/' inside it is then rejected by name.
  CHECK_THROWS_WITH(dhis2::TaskRef::parse("A/B/c1"),
                    Catch::Contains("the job type may hold only letters, digits and '_'"));
  const auto ref = dhis2::TaskRef::parse("X_1/c1");
  CHECK(ref.job_type == "X_1");
  CHECK(ref.uid == "c1");
}

TEST_CASE("TaskRef::parse rejects malformed references with a UsageError quoting the input") {
  struct Case {
    const char* input;
    const char* reason;
  };
  const Case cases[] = {
      {"ANALYTICS_TABLE", "there is no '/'"},
      {"", "there is no '/'"},
      {"/BFa3jDsbtdO", "the job type before the '/' is empty"},
      {"ANALYTICS_TABLE/", "the job id after the '/' is empty"},
      {"/", "the job type before the '/' is empty"},
      {"ANALYTICS TABLE/BFa3jDsbtdO", "the job type may hold only letters, digits and '_'"},
      {"ANALYTICS_TABLE/BFa3jDsbtdO?x=1", "the job id may hold only letters and digits"},
      {"ANALYTICS_TABLE/BFa3jDsbtdO\n", "the job id may hold only letters and digits"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    try {
      dhis2::TaskRef::parse(c.input);
      FAIL("no exception");
    } catch (const dhis2::UsageError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Catch::Contains(std::string("\"") + c.input + "\""));
      CHECK_THAT(message, Catch::Contains(c.reason));
      CHECK_THAT(message, Catch::Contains("expected JOB_TYPE/UID"));
    }
  }
}

TEST_CASE("TaskRef is a value: equality, ordering and hashing") {
  const dhis2::TaskRef a{"ANALYTICS_TABLE", "aaaaaaaaaaa"};
  const dhis2::TaskRef b{"ANALYTICS_TABLE", "bbbbbbbbbbb"};
  CHECK(a != b);
  CHECK(a < b);
  CHECK_FALSE(b < a);
  std::unordered_set<dhis2::TaskRef> set{a, b, dhis2::TaskRef::parse("ANALYTICS_TABLE/aaaaaaaaaaa")};
  CHECK(set.size() == 2);
}
