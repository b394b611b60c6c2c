// Notification: rows of /api/system/tasks/{jobType}/{jobId} exactly as DHIS2 writes them.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

using nlohmann::json;

TEST_CASE("A completed analytics row decodes every field") {
  const auto row = json::parse(R"({
    "id": "a0Bc1De2Fg3", "uid": "a0Bc1De2Fg3", "level": "INFO", "category": "ANALYTICS_TABLE",
    "time": "2025-05-20T10:12:00.456", "message": "Analytics tables updated: 0:00:47.890",
    "completed": true })");
  const auto n = row.get<dhis2::Notification>();
  CHECK(n.id == "a0Bc1De2Fg3");
  CHECK(n.uid == "a0Bc1De2Fg3");
  CHECK(n.level == dhis2::NotificationLevel::Info);
  CHECK(n.level_name == "INFO");
  CHECK(n.category == "ANALYTICS_TABLE");
  CHECK(n.time == "2025-05-20T10:12:00.456");
  REQUIRE(n.message);
  CHECK(*n.message == "Analytics tables updated: 0:00:47.890");
  CHECK(n.completed);
  CHECK(n.data_type.empty());
  CHECK(n.data.is_null());
  REQUIRE(n.parsed_time());
  CHECK(dhis2::format_local_time(*n.parsed_time()) == "2025-05-20T10:12:00.456");
}

TEST_CASE("A run's first row carries dataType PARAMETERS and data of any JSON type") {
  const auto n = dhis2::Notification::from_json(json::parse(R"({
    "id": "x", "uid": "x", "level": "INFO", "category": "DATAVALUE_IMPORT",
    "time": "2025-05-20T10:11:12.345", "message": "Data value set import",
    "completed": false, "dataType": "PARAMETERS",
    "data": { "dryRun": false, "async": true, "importStrategy": "CREATE_AND_UPDATE", "idScheme": null } })"));
  CHECK(n.data_type == "PARAMETERS");
  REQUIRE(n.data.is_object());
  CHECK(n.data["importStrategy"] == "CREATE_AND_UPDATE");
  CHECK(n.data["idScheme"].is_null());  // the plain ObjectMapper keeps nulls inside data

  for (const char* data : {"[1, 2]", "\"text\"", "42", "true"}) {
    auto row = json::parse(R"({"level":"INFO","dataType":"PARAMETERS"})");
    row["data"] = json::parse(data);
    CHECK(dhis2::Notification::from_json(row).data == json::parse(data));
  }
  // dataType can come without data (a job with no parameters).
  const auto bare = dhis2::Notification::from_json(json::parse(R"({"dataType":"PARAMETERS"})"));
  CHECK(bare.data_type == "PARAMETERS");
  CHECK(bare.data.is_null());
}

TEST_CASE("Absent and null fields take defaults; a missing message is not an empty one") {
  const auto absent = dhis2::Notification::from_json(json::parse(R"({"level":"INFO","completed":true})"));
  CHECK_FALSE(absent.message);  // completedProcess(null) omits the key
  CHECK(absent.id.empty());
  CHECK(absent.time.empty());
  CHECK_FALSE(absent.parsed_time());

  const auto empty = dhis2::Notification::from_json(json::parse(R"({"level":"INFO","message":""})"));
  REQUIRE(empty.message);  // non-notifying job types send ""
  CHECK(empty.message->empty());
  CHECK_FALSE(empty.completed);

  const auto nulls = dhis2::Notification::from_json(json::parse(
      R"({"id":null,"uid":null,"level":null,"category":null,"time":null,"message":null,
          "completed":null,"dataType":null,"data":null})"));
  CHECK(nulls.id.empty());
  CHECK_FALSE(nulls.message);
  CHECK_FALSE(nulls.completed);
  CHECK(nulls.level == dhis2::NotificationLevel::Unknown);
  CHECK(json::parse("{}").get<dhis2::Notification>().level_name.empty());
}

TEST_CASE("Every known level decodes, case-insensitively; an unknown level is kept, not rejected") {
  using L = dhis2::NotificationLevel;
  const std::pair<const char*, L> known[] = {{"DEBUG", L::Debug}, {"LOOP", L::Loop},   {"INFO", L::Info},
                                             {"WARN", L::Warn},   {"ERROR", L::Error}, {"info", L::Info}};
  for (const auto& [name, level] : known) {
    CHECK(dhis2::Notification::from_json(json{{"level", name}}).level == level);
  }
  for (const char* name : {"OFF", "TRACE", "FATAL", ""}) {
    const auto n = dhis2::Notification::from_json(json{{"level", name}});
    CHECK(n.level == L::Unknown);
    CHECK(n.level_name == name);
  }
  CHECK(std::string(dhis2::to_string(L::Loop)) == "LOOP");
  CHECK(std::string(dhis2::to_string(L::Unknown)) == "UNKNOWN");
}

TEST_CASE("Unknown fields are ignored, key order does not matter") {
  const auto n = dhis2::Notification::from_json(
      json::parse(R"({"completed":false,"futureField":{"x":1},"message":"[3/24] Populating table","level":"LOOP"})"));
  CHECK(n.level == dhis2::NotificationLevel::Loop);
  CHECK(*n.message == "[3/24] Populating table");
}

TEST_CASE("A row of the wrong shape names the field path and what was expected") {
  CHECK_THROWS_MATCHES(dhis2::Notification::from_json(json::parse(R"({"completed":"true"})")), dhis2::DecodeError,
                       Catch::Message("notification.completed: expected a boolean, got a string"));
  CHECK_THROWS_MATCHES(dhis2::Notification::from_json(json::parse(R"({"message":42})")), dhis2::DecodeError,
                       Catch::Message("notification.message: expected a string, got a number"));
  CHECK_THROWS_MATCHES(dhis2::Notification::from_json(json::parse(R"(["INFO"])")), dhis2::DecodeError,
                       Catch::Message("notification: expected an object, got an array"));
  try {
    dhis2::Notification::from_json(json::parse(R"({"time":1716199872345})"));
    FAIL("no exception");
  } catch (const dhis2::DecodeError& e) {
    CHECK(e.path() == "notification.time");
    CHECK(e.expected() == "a string");
    CHECK(e.actual() == "a number");
  }
}

TEST_CASE("notifications_from_json keeps the server's newest-first order and paths elements") {
  const auto feed = json::parse(R"([
    {"id":"c","level":"INFO","time":"2025-05-20T10:12:00.456","message":"Analytics tables updated: 0:00:47.890","completed":true},
    {"id":"b","level":"LOOP","time":"2025-05-20T10:11:30.000","message":"[2/2] Populating analytics tables"},
    {"id":"a","level":"INFO","time":"2025-05-20T10:11:12.345","message":"Analytics table update","dataType":"PARAMETERS","data":{}}
  ])");
  const auto rows = dhis2::notifications_from_json(feed);
  REQUIRE(rows.size() == 3);
  CHECK(rows.front().id == "c");
  CHECK(rows.back().data_type == "PARAMETERS");
  CHECK(*rows[0].parsed_time() > *rows[1].parsed_time());

  CHECK_THROWS_MATCHES(dhis2::notifications_from_json(json::parse(R"([{}, {"completed":1}])")), dhis2::DecodeError,
                       Catch::Message("notifications[1].completed: expected a boolean, got a number"));
  CHECK_THROWS_MATCHES(dhis2::notifications_from_json(json::parse(R"({"ANALYTICS_TABLE":{}})")), dhis2::DecodeError,
                       Catch::Message("notifications: expected an array, got an object"));
  CHECK(dhis2::notifications_from_json(json::array()).empty());  // an unknown job: 200 []
}

TEST_CASE("to_json writes DHIS2's field names and omits what was absent") {
  const auto original = json::parse(R"({"id":"a0Bc1De2Fg3","uid":"a0Bc1De2Fg3","level":"WARN",
      "category":"DATAVALUE_IMPORT","time":"2025-05-20T10:11:12.345","message":"Import process aborted",
      "completed":false,"dataType":"PARAMETERS","data":{"dryRun":true}})");
  CHECK(json(original.get<dhis2::Notification>()) == original);

  const auto minimal = json(dhis2::Notification::from_json(json::parse(R"({"level":"TRACE","completed":true})")));
  CHECK(minimal == json::parse(R"({"level":"TRACE","completed":true})"));
}

TEST_CASE("notifications_until reads a feed only down to the row that stops it, decoding as the whole feed would") {
  // Rows with data of every JSON shape, nested objects and arrays, escapes, numbers of each kind.
  const std::string body = R"([
    {"id":"d","level":"LOOP","time":"2025-05-20T10:12:01.000","message":"[3/3] \"tables\" \u00e9","completed":false},
    {"id":"c","level":"INFO","time":"2025-05-20T10:12:00.456","message":"step","completed":true,
     "dataType":"PARAMETERS","data":{"a":[1,-2,3.5,{"b":[[],{}],"c":null}],"d":true,"e":"x","f":18446744073709551615}},
    {"id":"b","level":"INFO","time":"2025-05-20T10:11:30.000","data":[{"k":[1,[2,[3]]]},"s",false]},
    {"id":"a","level":"INFO","time":"2025-05-20T10:11:12.345","message":"Analytics table update"}
  ])";
  const auto whole = dhis2::notifications_from_json(json::parse(body));
  const auto stop_at = [](const std::string& id) {
    return std::function<bool(const dhis2::Notification&)>([id](const dhis2::Notification& n) { return n.id == id; });
  };

  for (std::size_t stop = 0; stop < whole.size(); ++stop) {
    const auto read = dhis2::detail::notifications_until(body, stop_at(whole[stop].id));
    REQUIRE(read);
    REQUIRE(read->size() == stop + 1);
    for (std::size_t i = 0; i <= stop; ++i) CHECK(json((*read)[i]) == json(whole[i]));
  }
  CHECK((*dhis2::detail::notifications_until(body, stop_at("c")))[1].data["f"].get<std::uint64_t>() ==
        18446744073709551615ULL);

  // Nothing stops it: the caller reads the whole body.
  CHECK_FALSE(dhis2::detail::notifications_until(body, stop_at("z")));
  CHECK_FALSE(dhis2::detail::notifications_until("[]", stop_at("a")));
  // Not a feed, or broken before the stop: nullopt, and the caller's full read says what is wrong.
  CHECK_FALSE(dhis2::detail::notifications_until(R"({"id":"a"})", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until(R"("a")", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until(R"([{"id":"b","completed":1},{"id":"a"}])", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until(R"(["a",{"id":"a"}])", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until(R"([{"id":"b"},{"id":"a)", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until("<html>", stop_at("a")));
  CHECK_FALSE(dhis2::detail::notifications_until("", stop_at("a")));
  // What follows the stop is not read: a body cut short after it still yields the rows before it.
  const auto cut = dhis2::detail::notifications_until(R"([{"id":"b"},{"id":"a"},{"id":)", stop_at("a"));
  REQUIRE(cut);
  CHECK(cut->size() == 2);
}

// The watcher's reading of 2.38-2.40.7 feeds (rows keyed by content): a body that ends with the
// last body's rows below its newest is decoded only above them, and gives the rows the whole
// body's decoding gives; anything else is left to the whole reading.
namespace {

std::string feed_row(const std::string& message, const std::string& level = "INFO", bool completed = false) {
  return R"({"uid":"jOb1234567a","level":")" + level +
         R"(","category":"ANALYTICS_TABLE","time":"2024-05-20T10:11:20.000","message":")" + message +
         R"(","completed":)" + (completed ? "true" : "false") + R"(,"id":"jOb1234567a"})";
}

std::string feed_body(const std::vector<std::string>& rows_newest_first, const char* separator = ",") {
  std::string body = "[";
  for (std::size_t i = 0; i < rows_newest_first.size(); ++i) body += (i ? separator : "") + rows_newest_first[i];
  return body + "]";
}

std::vector<std::string> messages_of(const std::vector<dhis2::Notification>& rows) {
  std::vector<std::string> out;
  for (const auto& n : rows) out.push_back(n.message.value_or("<absent>"));
  return out;
}

std::vector<dhis2::Notification> decoded(const std::string& body) {
  return dhis2::notifications_from_json(nlohmann::json::parse(body));
}

}  // namespace

TEST_CASE("second_row_offset finds where a feed's second row starts, strings and nesting aside") {
  using dhis2::detail::second_row_offset;
  const std::string first = R"({"message":"a } ] , { [ \" \\","data":{"x":[1,{"y":"}"}]}})";
  const std::string body = "[ " + first + " ,\n " + feed_row("second") + "]";
  const auto at = second_row_offset(body);
  REQUIRE(at);
  CHECK(body.substr(*at, 8) == R"({"uid":")");
  CHECK_FALSE(second_row_offset("[]"));
  CHECK_FALSE(second_row_offset("[" + feed_row("only") + "]"));  // one row: no second
  CHECK_FALSE(second_row_offset(R"(["text", {"a":1}])"));        // not a row first
  CHECK_FALSE(second_row_offset(R"({"a":1})"));
  CHECK_FALSE(second_row_offset(R"([{"message":"unterminated)"));
  CHECK_FALSE(second_row_offset(""));
}

TEST_CASE("a body that grew at its head is decoded above the known tail, with the whole body's rows") {
  const std::string old_body = feed_body({feed_row("three"), feed_row("two"), feed_row("one")});
  auto tail = dhis2::detail::feed_tail(old_body, decoded(old_body));
  REQUIRE(tail);
  CHECK(messages_of(tail->rows) == std::vector<std::string>{"two", "one"});

  SECTION("new rows above the old newest") {
    const std::string body = feed_body(
        {feed_row("five"), feed_row("four"), feed_row("three"), feed_row("two"), feed_row("one")});
    const auto rows = dhis2::detail::rows_through_tail(body, *tail, "feed");
    REQUIRE(rows);
    CHECK(messages_of(*rows) == messages_of(decoded(body)));
    CHECK(messages_of(tail->rows) == std::vector<std::string>{"four", "three", "two", "one"});  // the new body's own
    // And again from there.
    const std::string next = feed_body(
        {feed_row("six"), feed_row("five"), feed_row("four"), feed_row("three"), feed_row("two"), feed_row("one")});
    const auto again = dhis2::detail::rows_through_tail(next, *tail, "feed");
    REQUIRE(again);
    CHECK(messages_of(*again) == messages_of(decoded(next)));
  }
  SECTION("the old newest replaced, as a LOOP row is by the next row") {
    const std::string body = feed_body({feed_row("four"), feed_row("two"), feed_row("one")});
    const auto rows = dhis2::detail::rows_through_tail(body, *tail, "feed");
    REQUIRE(rows);
    CHECK(messages_of(*rows) == std::vector<std::string>{"four", "two", "one"});
  }
  SECTION("rows equal in every field are each kept, as the whole body has them") {
    const std::string body = feed_body({feed_row("two"), feed_row("three"), feed_row("two"), feed_row("one")});
    const auto rows = dhis2::detail::rows_through_tail(body, *tail, "feed");
    REQUIRE(rows);
    CHECK(messages_of(*rows) == std::vector<std::string>{"two", "three", "two", "one"});
  }
  SECTION("whitespace around the separators, as a pretty-printing proxy writes it") {
    const std::string spaced = feed_body({feed_row("three"), feed_row("two"), feed_row("one")}, " ,\n  ");
    auto spaced_tail = dhis2::detail::feed_tail(spaced, decoded(spaced));
    REQUIRE(spaced_tail);
    const std::string body = feed_body({feed_row("four"), feed_row("three"), feed_row("two"), feed_row("one")}, " ,\n  ");
    const auto rows = dhis2::detail::rows_through_tail(body, *spaced_tail, "feed");
    REQUIRE(rows);
    CHECK(messages_of(*rows) == messages_of(decoded(body)));
  }
}

TEST_CASE("a body whose old rows changed, or that does not end in them at a row, is left to the whole reading") {
  const std::string old_body = feed_body({feed_row("three"), feed_row("two"), feed_row("one")});
  auto tail = dhis2::detail::feed_tail(old_body, decoded(old_body));
  REQUIRE(tail);
  const auto before = messages_of(tail->rows);
  std::vector<std::string> rejected = {
      feed_body({feed_row("four"), feed_row("three"), feed_row("two")}),  // the cap evicted the oldest
      feed_body({feed_row("four"), feed_row("three"), feed_row("two", "WARN"), feed_row("one")}),  // an old row changed
      feed_body({feed_row("two"), feed_row("one")}),  // the body is the tail itself
      "[" + feed_row("four") + "," + feed_row("two").substr(0, 20) + "," + feed_row("two") + "," + feed_row("one") +
          "]",                                                   // a broken head
      "<html>" + feed_body({feed_row("two"), feed_row("one")}),  // not a separator before the tail
      R"([{"message":"x)" + std::string(",") + feed_row("two") + "," + feed_row("one") + "]",  // the tail inside a string
  };
  for (const auto& body : rejected) {
    INFO(body);
    CHECK_FALSE(dhis2::detail::rows_through_tail(body, *tail, "feed"));
    CHECK(messages_of(tail->rows) == before);  // unchanged
  }
  CHECK_FALSE(dhis2::detail::feed_tail(feed_body({feed_row("one")}), decoded(feed_body({feed_row("one")}))));
}
