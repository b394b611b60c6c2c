// The error hierarchy of DESIGN.md §4: what each error says and carries.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <utility>
#include <type_traits>

#include <nlohmann/json.hpp>

TEST_CASE("Every error derives from dhis2::Error and std::runtime_error") {
  STATIC_REQUIRE(std::is_base_of<std::runtime_error, dhis2::Error>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::UsageError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::ApiError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::AuthenticationError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::TransportError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::UnexpectedResponseError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::UnexpectedResponseError, dhis2::DecodeError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::UnsupportedVersionError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::VersionPinMismatchError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::TaskTimeoutError>::value);
  STATIC_REQUIRE(std::is_base_of<dhis2::Error, dhis2::TaskCancelledError>::value);
  // A decoding error is catchable as "the server sent something unexpected".
  CHECK_THROWS_AS(dhis2::Notification::from_json(nlohmann::json(1)), dhis2::UnexpectedResponseError);
  CHECK_THROWS_AS(dhis2::TaskRef::parse("nope"), dhis2::Error);
}

TEST_CASE("ApiError carries status, DHIS2 message, error code and the parsed WebMessage") {
  const auto body = nlohmann::json::parse(R"({"httpStatus":"Not Found","httpStatusCode":404,"status":"ERROR",
    "message":"JobConfiguration with id abcdefghijk could not be found.","errorCode":"E1005"})");
  auto message = std::make_shared<const dhis2::WebMessage>(body.get<dhis2::WebMessage>());
  const dhis2::ApiError error(404, message->message, message->error_code, message);
  CHECK(error.status() == 404);
  CHECK(error.error_code() == "E1005");
  CHECK(error.dhis2_message() == "JobConfiguration with id abcdefghijk could not be found.");
  REQUIRE(error.web_message());
  CHECK(error.web_message()->status == "ERROR");
  CHECK(std::string(error.what()) ==
        "DHIS2 answered HTTP 404: JobConfiguration with id abcdefghijk could not be found. (E1005)");

  const dhis2::ApiError bare(502, "");
  CHECK(std::string(bare.what()) == "DHIS2 answered HTTP 502");
  CHECK(bare.web_message() == nullptr);
  const dhis2::ApiError copy = error;  // copies share the message
  CHECK(copy.web_message() == error.web_message());
}

TEST_CASE("ApiError keeps the response it was made from, with credential headers redacted") {
  dhis2::Response response;
  response.status = 409;
  response.headers = {{"Content-Type", "application/json"},
                      {"Set-Cookie", "JSESSIONID=0123456789ABCDEF; Path=/; HttpOnly"},
                      {"X-Request-Id", "r-1"}};
  response.body = R"({"httpStatusCode":409})";
  const dhis2::ApiError e(409, "conflict", "E5002", nullptr, "POST /api/dataValueSets", &response);
  const dhis2::ApiError copy = e;  // errors copy cheaply and keep the response
  CHECK(copy.response().status == 409);
  CHECK(copy.response().body == response.body);
  CHECK(copy.response().header("content-type") == "application/json");
  CHECK(copy.response().header("X-Request-Id") == "r-1");
  CHECK(copy.response().header("Set-Cookie") == "[redacted]");
  CHECK(std::string(copy.what()).find("0123456789ABCDEF") == std::string::npos);

  // Made without a response (from an error report inside a 200 answer, say): an empty one.
  const dhis2::ApiError bare(404, "missing");
  CHECK(bare.response().status == 0);
  CHECK(bare.response().headers.empty());
  CHECK(bare.response().body.empty());
}

TEST_CASE("TransportError says its kind, and each kind has a name") {
  const dhis2::TransportError plain("GET /api/me: something broke");
  CHECK(plain.kind() == dhis2::TransportErrorKind::Other);
  const dhis2::TransportError tls("GET /api/me: TLS", dhis2::TransportErrorKind::Tls);
  CHECK(tls.kind() == dhis2::TransportErrorKind::Tls);
  using K = dhis2::TransportErrorKind;
  const std::pair<K, const char*> names[] = {{K::Connect, "connect"},
                                             {K::Dns, "dns"},
                                             {K::Tls, "tls"},
                                             {K::Timeout, "timeout"},
                                             {K::ConnectionClosed, "connection closed"},
                                             {K::ResponseTooLarge, "response too large"},
                                             {K::Other, "other"}};
  for (const auto& n : names) CHECK(std::string(dhis2::to_string(n.first)) == n.second);
}

TEST_CASE("Errors carry their own details") {
  const dhis2::AuthenticationError auth(401, "the server rejected the user name or password");
  CHECK(auth.status() == 401);
  const dhis2::UnexpectedResponseError html("expected JSON, got text/html", 200);
  CHECK(html.status() == 200);
  const dhis2::VersionPinMismatchError pin("2.41.4", "2.42.1");
  CHECK(pin.pinned() == "2.41.4");
  CHECK(pin.actual() == "2.42.1");
  CHECK_THAT(pin.what(), Catch::Contains("pinned to DHIS2 2.41.4 but the server runs 2.42.1"));
  const dhis2::TaskTimeoutError stalled("no new notification for 5 minutes", true);
  CHECK(stalled.stalled());
  CHECK_FALSE(dhis2::TaskTimeoutError("deadline").stalled());
  const dhis2::DecodeError decode("notification.completed", "a boolean", "a string");
  CHECK(std::string(decode.what()) == "notification.completed: expected a boolean, got a string");
  CHECK(decode.status() == 0);
}

TEST_CASE("Integers decode exactly, and out-of-range or fractional numbers are refused") {
  using nlohmann::json;
  const auto big = json::parse(R"({"imported":9223372036854775807,"updated":3.0,"ignored":-1,"deleted":0})");
  const auto count = dhis2::ImportCount::from_json(big);
  CHECK(count.imported == 9223372036854775807LL);
  CHECK(count.updated == 3);
  CHECK(count.ignored == -1);
  CHECK_THROWS_MATCHES(dhis2::ImportCount::from_json(json::parse(R"({"imported":18446744073709551615})")),
                       dhis2::DecodeError,
                       Catch::Message("importCount.imported: expected an integer, got the out-of-range number "
                                      "18446744073709551615"));
  CHECK_THROWS_AS(dhis2::ImportCount::from_json(json::parse(R"({"imported":1e300})")), dhis2::DecodeError);
  CHECK_THROWS_WITH(dhis2::ImportCount::from_json(json::parse(R"({"imported":1e300})")),
                    Catch::Contains("importCount.imported: expected an integer"));
}
