// TaskRef: parsing "JOB_TYPE/uid", round trips, and the errors a mistyped reference gets.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
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

// ---- kick-off times and resume tokens ---------------------------------------------------------

namespace {

dhis2::TaskRef with_everything() {
  dhis2::TaskRef ref{"ANALYTICS_TABLE", "BFa3jDsbtdO"};
  ref.kickoff = dhis2::parse_local_time("2025-05-20T10:11:12.345");
  dhis2::WatchPosition p;
  p.anchor = "0123456789abcdef";
  p.anchor_time = "2025-05-20T10:12:00.456";
  p.anchor_completed = true;
  p.loop = "fedcba9876543210";
  p.content_keys = true;
  p.delivered = 42;
  p.stale_copy = true;
  ref.position = p;
  return ref;
}

std::string usage_error_of(const std::string& text) {
  try {
    dhis2::TaskRef::parse(text);
  } catch (const dhis2::UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("A resume token round-trips the reference, the kick-off time and the position") {
  const auto ref = with_everything();
  const std::string token = ref.resume_token();
  CHECK(token.rfind("d2w1.", 0) == 0);
  for (char c : token) CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'));
  const auto back = dhis2::TaskRef::parse(token);
  CHECK(back == ref);
  CHECK(back.job_type == "ANALYTICS_TABLE");
  CHECK(back.uid == "BFa3jDsbtdO");
  REQUIRE(back.kickoff);
  CHECK(dhis2::format_local_time(*back.kickoff) == "2025-05-20T10:11:12.345");
  REQUIRE(back.position);
  CHECK(*back.position == *ref.position);
  CHECK(back.resume_token() == token);  // the same string again: stable, printable, comparable
}

TEST_CASE("A bare reference's token has neither kick-off time nor position") {
  const auto back = dhis2::TaskRef::parse(dhis2::TaskRef::parse("DATAVALUE_IMPORT/a0Bc1De2Fg3").resume_token());
  CHECK(back.str() == "DATAVALUE_IMPORT/a0Bc1De2Fg3");
  CHECK_FALSE(back.kickoff);
  CHECK_FALSE(back.position);
  // str() and parse(str()) keep only the reference.
  CHECK_FALSE(dhis2::TaskRef::parse(with_everything().str()).kickoff);
}

TEST_CASE("A truncated, edited or damaged resume token is a UsageError that says so, never another job") {
  const std::string token = with_everything().resume_token();
  const std::string body = token.substr(5, token.rfind('.') - 5);
  SECTION("truncated anywhere") {
    for (std::size_t cut : {token.size() - 1, token.size() - 8, token.size() - 9, token.size() / 2, std::size_t(6)}) {
      INFO("cut at " << cut);
      const std::string message = usage_error_of(token.substr(0, cut));
      CHECK_THAT(message, Catch::Contains("invalid resume token"));
      CHECK((message.find("truncated") != std::string::npos || message.find("checksum") != std::string::npos));
    }
  }
  SECTION("one character edited, anywhere") {
    for (std::size_t at = 5; at < token.size(); at += 7) {
      std::string edited = token;
      if (edited[at] == '.') continue;
      edited[at] = edited[at] == 'A' ? 'B' : 'A';
      INFO("edited at " << at);
      CHECK_THAT(usage_error_of(edited), Catch::Contains("checksum does not match"));
    }
  }
  SECTION("a valid checksum over content that is not a token") {
    const auto sign = [](const std::string& content) {
      const std::string signed_part = "d2w1." + dhis2::detail::base64url_encode(content);
      char hex[9];
      std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(dhis2::detail::crc32_padded(signed_part)));
      return signed_part + "." + hex;
    };
    CHECK_THAT(usage_error_of(sign("[1,2]")), Catch::Contains("not a JSON object"));
    CHECK_THAT(usage_error_of(sign(R"({"u":"BFa3jDsbtdO"})")), Catch::Contains("lacks the field \"t\""));
    CHECK_THAT(usage_error_of(sign(R"({"t":"ANALYTICS TABLE","u":"BFa3jDsbtdO"})")),
               Catch::Contains("the job type may hold only letters"));
    CHECK_THAT(usage_error_of(sign(R"({"t":"ANALYTICS_TABLE","u":"BFa3jDsbtdO","k":"yesterday"})")),
               Catch::Contains("kick-off time is not a DHIS2 time"));
    CHECK_THAT(usage_error_of(sign(R"({"t":"ANALYTICS_TABLE","u":"BFa3jDsbtdO","p":{"a":"x"}})")),
               Catch::Contains("no row count"));
    CHECK_THAT(usage_error_of(sign(R"({"t":"ANALYTICS_TABLE","u":"BFa3jDsbtdO","p":{"n":1,"ac":"yes"}})")),
               Catch::Contains("\"ac\" is not a boolean"));
    CHECK_THAT(usage_error_of("d2w1.!!!!." + std::string("00000000")), Catch::Contains("checksum"));
  }
  SECTION("a message quotes only the token's start, which holds no secret") {
    const std::string message = usage_error_of(token.substr(0, token.size() - 1));
    CHECK(message.find(body) == std::string::npos);
    CHECK_THAT(message, Catch::Contains(token.substr(0, 20)));
  }
}

TEST_CASE("TaskRef{type, uid} still works as an aggregate, and equality ignores what else a ref carries") {
  const dhis2::TaskRef bare{"ANALYTICS_TABLE", "BFa3jDsbtdO"};
  CHECK_FALSE(bare.kickoff);
  CHECK_FALSE(bare.position);
  CHECK(bare == with_everything());
  CHECK(std::hash<dhis2::TaskRef>{}(bare) == std::hash<dhis2::TaskRef>{}(with_everything()));
}
