// dhis2::Client requests as a user sees them, against the emulator: the raw and typed verbs and
// what they send (bodies, content types, headers, paths, query encoding), the escape hatches
// (get_response, send), how every kind of answer is classified (docs/client.md "Errors",
// DESIGN.md §2), and that credentials never show up in error messages or request hook events.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::RecordedRequest;
using nlohmann::json;

FakeServerOptions version(const std::string& v) {
  FakeServerOptions options;
  options.version = v;
  return options;
}

// Quick retries and short timeouts: no test waits for the real backoff.
dhis2::ClientOptions fast() {
  dhis2::ClientOptions options;
  options.retry->base_delay = 1ms;
  options.retry->max_delay = 5ms;
  options.connect_timeout = 2s;
  options.timeout = 5s;
  return options;
}

dhis2::BasicAuth admin() { return dhis2::BasicAuth{"admin", "district"}; }

// A personal access token with a valid checksum for `secret` (44 characters for V2, 32 for V1).
std::string pat(dhis2::PatFormat format, const std::string& secret) {
  const auto token = dhis2::make_pat(format, secret);
  REQUIRE(token);
  return *token;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The exception of type E that `f` throws, or empty when it throws nothing. Another type escapes
// and fails the test with its own message.
template <class E, class F>
std::optional<E> thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  return std::nullopt;
}

// Checked against RFC 4648's vectors in unit-detail_codecs.cpp.
std::string base64(const std::string& in) { return dhis2::detail::base64_encode(in); }

// Everything the request hook saw, flattened to text, for searching for secrets.
struct HookLog {
  std::vector<dhis2::RequestEvent> events;
  std::function<void(const dhis2::RequestEvent&)> hook() {
    return [this](const dhis2::RequestEvent& e) { events.push_back(e); };
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      out.push_back(e.method);
      out.push_back(e.url);
      out.push_back(e.error);
      for (const auto& h : e.request_headers) out.push_back(h.first + ": " + h.second);
    }
    return out;
  }
  std::vector<std::string> authorizations() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      for (const auto& h : e.request_headers) {
        if (h.first == "Authorization") out.push_back(h.second);
      }
    }
    return out;
  }
};

// A user type with its own from_json, as an application would write it.
struct ServerSummary {
  std::string version;
  std::string time_zone;
};
void from_json(const json& j, ServerSummary& s) {
  j.at("version").get_to(s.version);
  j.at("serverTimeZoneId").get_to(s.time_zone);
}

struct KickOff {
  std::string message;
  std::string job_id;
};
void from_json(const json& j, KickOff& k) {
  j.at("message").get_to(k.message);
  j.at("response").at("id").get_to(k.job_id);
}

// A metadata payload whose only data element lacks its required name.
const json nameless_data_element = json::parse(R"({"dataElements": [{"id": "fbfJHSPpUQD", "shortName": "ANC 1"}]})");

}  // namespace

// ---- the verbs ------------------------------------------------------------------------------------

TEST_CASE("get_raw returns a 2xx JSON body parsed") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const json me = client.get_raw("me");
  REQUIRE(me.is_object());
  CHECK(me.at("username") == "admin");
  const auto log = server.requests_to("/api/me", "GET");
  REQUIRE(log.size() == 1);
  CHECK(log[0].body.empty());
}

TEST_CASE("post_raw sends its body as JSON with Content-Type application/json") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const json payload = json::parse(
      R"({"dataElements": [{"id": "fbfJHSPpUQD", "name": "ANC 1st visit", "shortName": "ANC 1"}]})");
  const json answer = client.post_raw("metadata", payload, {{"importStrategy", "CREATE_AND_UPDATE"}});
  CHECK(answer.at("httpStatusCode") == 200);
  CHECK(answer.at("status") == "OK");
  const auto log = server.requests_to("/api/metadata", "POST");
  REQUIRE(log.size() == 1);
  CHECK(log[0].header("Content-Type") == "application/json");
  CHECK(json::parse(log[0].body) == payload);
  CHECK(log[0].query == "importStrategy=CREATE_AND_UPDATE");
}

TEST_CASE("post_raw without a body sends an empty one") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const json answer = client.post_raw("resourceTables/analytics");
  CHECK(answer.at("response").at("jobType") == "ANALYTICS_TABLE");
  const auto log = server.requests_to("/api/resourceTables/analytics", "POST");
  REQUIRE(log.size() == 1);
  CHECK(log[0].body.empty());
}

TEST_CASE("put_raw sends its body as JSON and returns the answer") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const json body = {{"comment", "nightly run"}};
  const json answer = client.put_raw("resourceTables/analytics", body, {{"lastYears", "2"}});
  CHECK(answer.at("response").at("jobType") == "ANALYTICS_TABLE");
  CHECK(answer.at("response").at("jobParameters").at("lastYears") == 2);
  const auto log = server.requests_to("/api/resourceTables/analytics", "PUT");
  REQUIRE(log.size() == 1);
  CHECK(log[0].header("Content-Type") == "application/json");
  CHECK(json::parse(log[0].body) == body);
}

TEST_CASE("patch_raw sends JSON Patch (application/json-patch+json) unless told otherwise") {
  FakeServer server;  // the emulator has no PATCH routes: what matters is what was sent
  dhis2::Client client(server.url(), admin(), fast());
  const json patch = json::parse(R"([{"op": "replace", "path": "/firstName", "value": "Jane"}])");
  CHECK_THROWS_AS(client.patch_raw("me", patch), dhis2::ApiError);
  CHECK_THROWS_AS(client.patch_raw("me", json{{"firstName", "Jane"}}, {}, "application/merge-patch+json"),
                  dhis2::ApiError);
  const auto log = server.requests_to("/api/me", "PATCH");
  REQUIRE(log.size() == 2);
  CHECK(log[0].header("Content-Type") == "application/json-patch+json");
  CHECK(json::parse(log[0].body) == patch);
  CHECK(log[1].header("Content-Type") == "application/merge-patch+json");
  CHECK(json::parse(log[1].body) == json{{"firstName", "Jane"}});
}

TEST_CASE("delete_raw sends DELETE without a body") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());
  client.delete_raw("system/tasks/ANALYTICS_TABLE", {{"maxCount", "0"}});
  const auto log = server.requests_to("/api/system/tasks/ANALYTICS_TABLE", "DELETE");
  REQUIRE(log.size() == 1);
  CHECK(log[0].body.empty());
  CHECK(log[0].query == "maxCount=0");
}

TEST_CASE("post<dhis2::WebMessage> of a kick-off gives the job's task_ref") {
  FakeServer server(version("2.41.4"));
  dhis2::Client client(server.url(), admin(), fast());
  const auto message = client.post<dhis2::WebMessage>("resourceTables/analytics", nullptr, {{"lastYears", "2"}});
  CHECK(message.http_status_code == 200);
  CHECK(message.status == "OK");
  const auto ref = message.task_ref();
  REQUIRE(ref);
  CHECK(ref->job_type == "ANALYTICS_TABLE");
  const auto jobs = server.jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(ref->uid == jobs[0].uid);
}

TEST_CASE("put<dhis2::WebMessage> decodes the kick-off a PUT starts") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());
  const auto message = client.put<dhis2::WebMessage>("resourceTables");
  const auto ref = message.task_ref();
  REQUIRE(ref);
  CHECK(ref->job_type == "RESOURCE_TABLE");
}

TEST_CASE("get<T> and post<T> decode into a user type that has from_json") {
  FakeServer server(version("2.40.8"));
  dhis2::Client client(server.url(), admin(), fast());
  const auto info = client.get<ServerSummary>("system/info");
  CHECK(info.version == server.reported_version());
  CHECK(info.time_zone == "Etc/UTC");
  const auto kickoff = client.post<KickOff>("resourceTables/monitoring");
  CHECK(contains(kickoff.message, "Initiated"));
  REQUIRE(server.jobs().size() == 1);
  CHECK(kickoff.job_id == server.jobs()[0].uid);
}

TEST_CASE("A typed decode of the wrong shape into a dhis2 type throws DecodeError naming the request and field path") {
  // A system setting is whatever JSON an administrator stored: here ones shaped like a broken
  // WebMessage and a broken import summary. GET /api/systemSettings/{key} answers {key: value}.
  FakeServerOptions options;
  options.settings["httpStatusCode"] = "two hundred";
  options.settings["importCount"] = json{{"imported", "3"}};
  FakeServer server(options);
  dhis2::Client client(server.url(), admin(), fast());

  const auto top = thrown<dhis2::DecodeError>([&] { client.get<dhis2::WebMessage>("systemSettings/httpStatusCode"); });
  REQUIRE(top);
  CHECK(top->path() == "webMessage.httpStatusCode");
  CHECK(std::string(top->what()) ==
        "GET /api/systemSettings/httpStatusCode: webMessage.httpStatusCode: expected an integer, got a string");

  const auto nested = thrown<dhis2::DecodeError>([&] { client.get<dhis2::ImportSummary>("systemSettings/importCount"); });
  REQUIRE(nested);
  CHECK(nested->path() == "importSummary.importCount.imported");
  CHECK(contains(nested->what(), "GET /api/systemSettings/importCount: importSummary.importCount.imported"));

  // A feed is an array; one notification is an object.
  const std::string job = server.start_job("ANALYTICS_TABLE",
                                           dhis2::testing::JobScript().start("Analytics table update"));
  server.advance(20s);
  const auto row = thrown<dhis2::DecodeError>(
      [&] { client.get<dhis2::Notification>("system/tasks/ANALYTICS_TABLE/" + job); });
  REQUIRE(row);
  CHECK(row->path() == "notification");
  CHECK(contains(row->what(),
                 "GET /api/system/tasks/ANALYTICS_TABLE/" + job + ": notification: expected an object, got an array"));
}

TEST_CASE("A typed decode of the wrong shape into a user type throws DecodeError naming the request") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const auto e = thrown<dhis2::DecodeError>([&] { client.get<ServerSummary>("me"); });  // /me has no version
  REQUIRE(e);
  CHECK(contains(e->what(), "GET /api/me"));
  CHECK(contains(e->what(), "version"));  // nlohmann's own words: key 'version' not found
  // Also a decode error is an UnexpectedResponseError: the server's answer was not what was expected.
  CHECK_THROWS_AS(client.get<std::vector<dhis2::Notification>>("system/info"), dhis2::UnexpectedResponseError);
}

// ---- the escape hatches ----------------------------------------------------------------------

TEST_CASE("get_response and send never throw for 401, 404, 409 or 500 and return status, headers and body") {
  FakeServer server(version("2.40.8"));
  dhis2::Client client(server.url(), admin(), fast());

  const dhis2::Response not_found = client.get_response("jobConfigurations/abcdefghijk");
  CHECK(not_found.status == 404);
  CHECK_FALSE(not_found.ok());
  CHECK(contains(not_found.header("content-type"), "application/json"));
  CHECK(json::parse(not_found.body).at("errorCode") == "E1005");

  REQUIRE(client.send("POST", "resourceTables/analytics").status == 200);
  const dhis2::Response conflict = client.send("POST", "resourceTables/analytics");
  CHECK(conflict.status == 409);
  CHECK(json::parse(conflict.body).at("message") == "Job of type ANALYTICS_TABLE is already running");

  server.inject("GET", "/api/me", Fault::status_page(500));
  const dhis2::Response failed = client.get_response("me");
  CHECK(failed.status == 500);
  CHECK(contains(failed.header("Content-Type"), "text/html"));
  CHECK(contains(failed.body, "500 Internal Server Error"));

  dhis2::ClientOptions options = fast();
  options.skip_version_probe = true;
  dhis2::Client stranger(server.url(), dhis2::BasicAuth{"admin", "not-the-password"}, options);
  const dhis2::Response refused = stranger.get_response("me", {{"fields", "id"}});
  CHECK(refused.status == 401);
  CHECK(json::parse(refused.body).at("message") == "Unauthorized");
  CHECK(server.requests_to("/api/me").back().query == "fields=id");
}

TEST_CASE("get_response returns a 2xx body as it came, even when it is not JSON") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const dhis2::Response pong = client.get_response("system/ping");
  CHECK(pong.ok());
  CHECK(pong.body == "pong");
  CHECK(contains(pong.header("Content-Type"), "text/plain"));
}

TEST_CASE("send is an escape hatch for any method, body, content type and query") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());

  const dhis2::Response imported = client.send("POST", "metadata", R"({"dataElements":[]})", "application/json",
                                               {{"importStrategy", "CREATE"}});
  CHECK(imported.status == 200);
  const auto post = server.requests_to("/api/metadata", "POST");
  REQUIRE(post.size() == 1);
  CHECK(post[0].body == R"({"dataElements":[]})");
  CHECK(post[0].header("Content-Type") == "application/json");
  CHECK(post[0].query == "importStrategy=CREATE");

  const dhis2::Response removed = client.send("DELETE", "/api/system/tasks/ANALYTICS_TABLE");
  CHECK(removed.status == 204);
  CHECK(removed.body.empty());

  const dhis2::Response options_answer = client.send("OPTIONS", "me");
  CHECK(options_answer.status == 404);  // unmapped: the HTML 404 page, returned not thrown
  CHECK(server.requests_to("/api/me", "OPTIONS").size() == 1);

  CHECK_THROWS_AS(client.send("", "me"), dhis2::UsageError);
}

// ---- paths -------------------------------------------------------------------------------------

TEST_CASE("Paths with or without /api and a leading slash reach the same target") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  for (const char* path : {"me", "/me", "api/me", "/api/me"}) {
    INFO(path);
    CHECK(client.get_raw(path).at("username") == "admin");
  }
  const auto log = server.requests_to("/api/me", "GET");
  REQUIRE(log.size() == 4);
  for (const auto& r : log) CHECK(r.path == "/api/me");
  CHECK(server.requests_to("/api/api/*").empty());
}

TEST_CASE("With a context path every path form reaches <context>/api/...") {
  FakeServerOptions options;
  options.context_path = "/dhis";
  FakeServer server(options);
  for (const std::string& base : {server.url(), server.url() + "/", server.url() + "/api", server.url() + "/api/"}) {
    INFO(base);
    dhis2::Client client(base, admin(), fast());
    for (const char* path : {"system/info", "/system/info", "api/system/info", "/api/system/info"}) {
      INFO(path);
      CHECK(client.get_raw(path).at("version") == server.reported_version());
    }
  }
  const auto log = server.requests();
  REQUIRE_FALSE(log.empty());
  for (const auto& r : log) CHECK(r.path == "/dhis/api/system/info");
}

TEST_CASE("A full URL as a request path is a UsageError and sends nothing") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const std::string url = server.url() + "/api/me";
  CHECK_THROWS_AS(client.get_raw(url), dhis2::UsageError);
  CHECK_THROWS_AS(client.post_raw("https://example.org/api/me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.delete_raw("HTTP://example.org/api/me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.get_response(url), dhis2::UsageError);
  CHECK_THROWS_AS(client.send("GET", url), dhis2::UsageError);
  CHECK_THROWS_AS(client.get<dhis2::WebMessage>(url), dhis2::UsageError);
  CHECK(server.requests_to("/api/me").empty());
}

// ---- query encoding ---------------------------------------------------------------------------

TEST_CASE("Repeated query keys are all sent, in order") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  client.get_raw("me", {{"fields", "id"}, {"filter", "a"}, {"filter", "b"}, {"fields", "name"}});
  const auto log = server.requests_to("/api/me");
  REQUIRE(log.size() == 1);
  CHECK(log[0].query == "fields=id&filter=a&filter=b&fields=name");
}

TEST_CASE("Query parameters are appended to a query already in the path") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const json me = client.get_raw("me?fields=id", {{"paging", "false"}});
  CHECK(me == json{{"id", me.at("id")}});
  const auto log = server.requests_to("/api/me");
  REQUIRE(log.size() == 1);
  CHECK(log[0].query == "fields=id&paging=false");
}

TEST_CASE("Query values encode ':' and ',' and the server reads them back") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  // The emulator finds the default category combo only for the decoded filter "name:eq:default".
  const json combos = client.get_raw("categoryCombos", {{"fields", "id,name"}, {"filter", "name:eq:default"}});
  REQUIRE(combos.at("categoryCombos").size() == 1);
  CHECK(combos.at("categoryCombos")[0].at("id") == server.options().default_category_combo);
  const auto log = server.requests_to("/api/categoryCombos");
  REQUIRE(log.size() == 1);
  CHECK(log[0].query == "fields=id%2Cname&filter=name%3Aeq%3Adefault");
}

TEST_CASE("Query keys and values encode spaces as %20, UTF-8 as %XX bytes, and '&' and '=' inside values") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());
  const std::string region = "S\xC3\xB8r-Tr\xC3\xB8ndelag";  // "Sør-Trøndelag" in UTF-8
  const std::string odd = "a&b=c, d:e/f?g#h+i%";
  // Prediction kick-offs echo their parameters in response.jobParameters.
  const json answer = client.post_raw("predictions", nullptr,
                                      {{"async", "true"},
                                       {"startDate", region},
                                       {"endDate", odd},
                                       {"predictor", "p 1"},
                                       {"predictor", "p:2"},
                                       {"predictor", "p,3"},
                                       {"odd key=", "x"}});
  const json parameters = answer.at("response").at("jobParameters");
  CHECK(parameters.at("startDate") == region);
  CHECK(parameters.at("endDate") == odd);
  CHECK(parameters.at("predictors") == json::array({"p 1", "p:2", "p,3"}));

  const auto log = server.requests_to("/api/predictions", "POST");
  REQUIRE(log.size() == 1);
  CHECK(log[0].query ==
        "async=true&startDate=S%C3%B8r-Tr%C3%B8ndelag&endDate=a%26b%3Dc%2C%20d%3Ae%2Ff%3Fg%23h%2Bi%25"
        "&predictor=p%201&predictor=p%3A2&predictor=p%2C3&odd%20key%3D=x");
}

// ---- headers --------------------------------------------------------------------------------------

TEST_CASE("Every request carries X-Requested-With, Accept and the dhis2-cpp User-Agent") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());
  const std::string agent = std::string("dhis2-cpp/") + DHIS2CPP_VERSION_STRING;
  CHECK(client.get_raw("system/info").at("userAgent") == agent);
  client.post_raw("resourceTables/analytics");
  client.put_raw("resourceTables");
  CHECK_THROWS_AS(client.patch_raw("me", json::array()), dhis2::ApiError);
  client.delete_raw("system/tasks/ANALYTICS_TABLE");
  client.get_response("me");
  client.send("OPTIONS", "me");

  const auto log = server.requests();
  REQUIRE(log.size() >= 9);  // the handshake's two and the seven above
  for (const RecordedRequest& r : log) {
    INFO(r.method << " " << r.path);
    CHECK(r.header("X-Requested-With") == "XMLHttpRequest");
    CHECK(r.header("Accept") == "application/json");
    CHECK(r.header("User-Agent") == agent);
  }
}

TEST_CASE("options.user_agent replaces the default User-Agent on every request") {
  FakeServer server;
  dhis2::ClientOptions options = fast();
  options.user_agent = "district-sync/3.1 (ops@example.org)";
  dhis2::Client client(server.url(), admin(), options);
  CHECK(client.get_raw("system/info").at("userAgent") == options.user_agent);
  client.post_raw("resourceTables/analytics");
  for (const RecordedRequest& r : server.requests()) {
    INFO(r.method << " " << r.path);
    CHECK(r.header("User-Agent") == options.user_agent);
    CHECK(r.header("X-Requested-With") == "XMLHttpRequest");
  }
}

// ---- classification: 2xx --------------------------------------------------------------------

TEST_CASE("A 2xx with an empty body is null: DELETE of a job type's notifications (204 on 2.42)") {
  FakeServer server(version("2.42.1"));
  dhis2::Client client(server.url(), admin(), fast());
  server.start_job("ANALYTICS_TABLE", dhis2::testing::JobScript().start("Analytics table update"));
  server.advance(20s);
  CHECK(client.send("DELETE", "system/tasks/ANALYTICS_TABLE").status == 204);
  const json answer = client.delete_raw("system/tasks/ANALYTICS_TABLE");
  CHECK(answer.is_null());
}

TEST_CASE("A 2xx with an empty body is null: a task summary that does not exist") {
  FakeServer server(version("2.41.4"));
  dhis2::Client client(server.url(), admin(), fast());
  const dhis2::Response raw = client.get_response("system/taskSummaries/ANALYTICS_TABLE/abcdefghijk");
  REQUIRE(raw.status == 200);
  REQUIRE(raw.body.empty());
  CHECK(client.get_raw("system/taskSummaries/ANALYTICS_TABLE/abcdefghijk").is_null());
}

TEST_CASE("A 2xx HTML page is an UnexpectedResponseError naming the content type and showing the first bytes") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  server.inject("GET", "/api/me", Fault::html_page(), -1);
  const auto e = thrown<dhis2::UnexpectedResponseError>([&] { client.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->status() == 200);
  CHECK(contains(e->what(), "GET /api/me"));
  CHECK(contains(e->what(), "text/html"));
  CHECK(contains(e->what(), "<!DOCTYPE html><html><head><title>DHIS 2 | Login"));
  // Never read as an empty object by a typed call either.
  CHECK_THROWS_AS(client.get<dhis2::WebMessage>("me"), dhis2::UnexpectedResponseError);
  CHECK_THROWS_AS(client.get<ServerSummary>("me"), dhis2::UnexpectedResponseError);

  server.inject("POST", "/api/resourceTables/analytics", Fault::html_page(201));
  const auto post = thrown<dhis2::UnexpectedResponseError>([&] { client.post_raw("resourceTables/analytics"); });
  REQUIRE(post);
  CHECK(post->status() == 201);
}

TEST_CASE("A 2xx plain-text answer where JSON was expected is an UnexpectedResponseError") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const auto e = thrown<dhis2::UnexpectedResponseError>([&] { client.get_raw("system/ping"); });
  REQUIRE(e);
  CHECK(contains(e->what(), "text/plain"));
  CHECK(contains(e->what(), "pong"));
}

TEST_CASE("Malformed JSON in a 2xx is an UnexpectedResponseError") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  server.inject("GET", "/api/me", Fault::malformed_json());
  const auto e = thrown<dhis2::UnexpectedResponseError>([&] { client.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->status() == 200);
  CHECK(contains(e->what(), "GET /api/me"));
  CHECK(contains(e->what(), "application/json"));
  CHECK(contains(e->what(), "\"status\": OK,,"));
}

TEST_CASE("Truncated JSON in a 2xx is an UnexpectedResponseError") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  client.connect();  // the handshake reads /api/system/info too
  server.inject("GET", "/api/system/info", Fault::truncated_json());
  const auto e = thrown<dhis2::UnexpectedResponseError>([&] { client.get_raw("system/info"); });
  REQUIRE(e);
  CHECK(e->status() == 200);
  CHECK(contains(e->what(), "GET /api/system/info"));
  CHECK(contains(e->what(), "{\"contextPath\":"));
}

// ---- classification: 3xx --------------------------------------------------------------------

TEST_CASE("A redirect to the login page is an AuthenticationError, and is not followed") {
  FakeServer server(version("2.41.4"));
  dhis2::Client client(server.url(), admin(), fast());
  server.inject("GET", "/api/me", Fault::redirect(server.url() + "/dhis-web-login/", 302));
  const auto absolute = thrown<dhis2::AuthenticationError>([&] { client.get_raw("me"); });
  REQUIRE(absolute);
  CHECK(absolute->status() == 302);
  CHECK(contains(absolute->what(), "GET /api/me"));
  CHECK(contains(absolute->what(), "login"));

  server.inject("POST", "/api/resourceTables/analytics", Fault::redirect("/login/", 303));
  const auto relative = thrown<dhis2::AuthenticationError>([&] { client.post_raw("resourceTables/analytics"); });
  REQUIRE(relative);
  CHECK(relative->status() == 303);
  CHECK(server.requests_to("/dhis-web-login*").empty());
  CHECK(server.requests_to("/login*").empty());
  CHECK(server.jobs().empty());
}

TEST_CASE("A redirect to another origin is an UnexpectedResponseError and is not followed") {
  FakeServer server;
  FakeServer elsewhere;
  dhis2::Client client(server.url(), admin(), fast());
  server.inject("GET", "/api/me", Fault::redirect(elsewhere.url() + "/api/me", 301));
  const auto get = thrown<dhis2::UnexpectedResponseError>([&] { client.get_raw("me"); });
  REQUIRE(get);
  CHECK(get->status() == 301);
  CHECK(contains(get->what(), elsewhere.url() + "/api/me"));
  CHECK(contains(get->what(), "not followed"));

  server.inject("POST", "/api/resourceTables/analytics",
                Fault::redirect(elsewhere.url() + "/api/resourceTables/analytics", 307));
  const auto post = thrown<dhis2::UnexpectedResponseError>([&] { client.post_raw("resourceTables/analytics"); });
  REQUIRE(post);
  CHECK(post->status() == 307);

  CHECK(elsewhere.requests().empty());  // the credentials never travelled there
}

// ---- classification: 401 -------------------------------------------------------------------

TEST_CASE("A 401 with BasicAuth is an AuthenticationError that says to check the user name and password") {
  FakeServer server;
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "wrong-password"}, fast());
  const auto e = thrown<dhis2::AuthenticationError>([&] { client.get_raw("me"); });  // the handshake already fails
  REQUIRE(e);
  CHECK(e->status() == 401);
  CHECK(contains(e->what(), "GET /api/system/info"));
  CHECK(contains(e->what(), "user name and password"));
  CHECK_FALSE(contains(e->what(), "WWW-Authenticate"));  // DHIS2 sends none for Basic

  dhis2::ClientOptions options = fast();
  options.skip_version_probe = true;
  dhis2::Client unprobed(server.url(), dhis2::BasicAuth{"admin", "wrong-password"}, options);
  const auto direct = thrown<dhis2::AuthenticationError>([&] { unprobed.get_raw("me"); });
  REQUIRE(direct);
  CHECK(contains(direct->what(), "GET /api/me"));
}

TEST_CASE("A 401 for a disabled account says so") {
  FakeServerOptions options;
  options.users.push_back(dhis2::testing::User{"former", "staff-pass"});
  options.users.back().disabled = true;
  FakeServer server(options);
  dhis2::Client client(server.url(), dhis2::BasicAuth{"former", "staff-pass"}, fast());
  const auto e = thrown<dhis2::AuthenticationError>([&] { client.connect(); });
  REQUIRE(e);
  CHECK(contains(e->what(), "Account disabled"));
}

TEST_CASE("A 401 with TokenAuth is an AuthenticationError about the token, with WWW-Authenticate") {
  const std::string known = pat(dhis2::PatFormat::V2, "iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa");
  const std::string unknown = pat(dhis2::PatFormat::V2, "Zz9ZZ9zzZ9zz9ZZzz9ZZ9zZZ99zzzZZ9ZzZZ9Zz9zZZZ");
  FakeServerOptions options = version("2.42.1");
  options.tokens.push_back(dhis2::testing::IssuedToken{known, "admin", true});
  FakeServer server(options);

  dhis2::Client stranger(server.url(), dhis2::TokenAuth(unknown), fast());
  const auto e = thrown<dhis2::AuthenticationError>([&] { stranger.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->status() == 401);
  CHECK(contains(e->what(), "The API token does not exists"));
  CHECK(contains(e->what(), "personal access token exists"));
  CHECK(contains(e->what(), "expired"));
  CHECK(contains(e->what(), "IP addresses, methods and referrers"));
  CHECK(contains(e->what(), "WWW-Authenticate: ApiToken"));

  dhis2::Client expired(server.url(), dhis2::TokenAuth(known), fast());
  const auto old = thrown<dhis2::AuthenticationError>([&] { expired.get_raw("me"); });
  REQUIRE(old);
  CHECK(contains(old->what(), "token has expired"));
}

TEST_CASE("A 401 with BearerAuth is an AuthenticationError that includes the Bearer challenge") {
  FakeServer server;
  int refreshes = 0;
  dhis2::Client client(server.url(), dhis2::BearerAuth([&refreshes](bool refresh) {
                         if (refresh) ++refreshes;
                         return std::string("eyJhbGciOiJub25lIn0.stale.token");
                       }),
                       fast());
  const auto e = thrown<dhis2::AuthenticationError>([&] { client.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->status() == 401);
  CHECK(refreshes == 1);
  CHECK(contains(e->what(), "WWW-Authenticate: Bearer error=\"invalid_token\""));
  CHECK(contains(e->what(), "refreshed once"));
}

// ---- classification: other 4xx and 5xx -------------------------------------------------------

TEST_CASE("A 404 WebMessage is an ApiError with status, error code, DHIS2 message and the WebMessage") {
  FakeServer server(version("2.41.4"));
  dhis2::Client client(server.url(), admin(), fast());
  const auto e = thrown<dhis2::ApiError>([&] { client.get_raw("jobConfigurations/abcdefghijk"); });
  REQUIRE(e);
  CHECK(e->status() == 404);
  CHECK(e->error_code() == "E1005");
  CHECK(e->dhis2_message() == "JobConfiguration with id abcdefghijk could not be found.");
  REQUIRE(e->web_message() != nullptr);
  CHECK(e->web_message()->http_status_code == 404);
  CHECK(e->web_message()->status == "ERROR");
  CHECK(contains(e->what(), "GET /api/jobConfigurations/abcdefghijk"));
  CHECK(contains(e->what(), "404"));
  CHECK(contains(e->what(), "could not be found"));
  // The response itself is kept: status, headers and body.
  CHECK(e->response().status == 404);
  CHECK(contains(e->response().header("Content-Type"), "application/json"));
  CHECK(contains(e->response().body, "E1005"));
  // The typed call fails the same way, before any decoding.
  CHECK_THROWS_AS(client.get<dhis2::WebMessage>("jobConfigurations/abcdefghijk"), dhis2::ApiError);
}

TEST_CASE("An HTML 404 for a path the server does not have is an ApiError saying the answer was not JSON") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), fast());
  const auto e = thrown<dhis2::ApiError>([&] { client.get_raw("analytics/rawData"); });
  REQUIRE(e);
  CHECK(e->status() == 404);
  CHECK(e->web_message() == nullptr);
  CHECK(e->error_code().empty());
  CHECK(contains(e->what(), "GET /api/analytics/rawData"));
  CHECK(contains(e->what(), "not JSON"));
  CHECK(contains(e->what(), "text/html"));
}

TEST_CASE("A 5xx proxy page is an ApiError with its status") {
  FakeServer server;
  dhis2::ClientOptions options = fast();
  options.retry = std::nullopt;
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::status_page(502));
  const auto e = thrown<dhis2::ApiError>([&] { client.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->status() == 502);
  CHECK(e->web_message() == nullptr);
  CHECK(contains(e->what(), "not JSON"));
  CHECK(e->response().status == 502);
  CHECK(contains(e->response().header("Content-Type"), "text/html"));
  CHECK_FALSE(e->response().body.empty());
}

TEST_CASE("A 403 for a user without F_PERFORM_MAINTENANCE is an ApiError, and no job starts") {
  FakeServerOptions options;
  options.users.push_back(dhis2::testing::User{"clerk", "clerk-pass", {"F_DATAVALUE_ADD"}});
  FakeServer server(options);
  dhis2::Client client(server.url(), dhis2::BasicAuth{"clerk", "clerk-pass"}, fast());
  const auto e = thrown<dhis2::ApiError>([&] { client.post_raw("resourceTables/analytics"); });
  REQUIRE(e);
  CHECK(e->status() == 403);
  CHECK(e->dhis2_message() == "Access is denied, requires one Authority from [F_PERFORM_MAINTENANCE]");
  REQUIRE(e->web_message() != nullptr);
  CHECK(e->web_message()->http_status == "Forbidden");
  CHECK(contains(e->what(), "POST /api/resourceTables/analytics"));
  CHECK(server.jobs().empty());
}

TEST_CASE("A 409 ERROR from a second analytics kick-off on 2.39 and 2.40 is an ApiError with the WebMessage") {
  for (const char* v : {"2.39", "2.40.8"}) {
    INFO(v);
    FakeServer server(version(v));
    dhis2::Client client(server.url(), admin(), fast());
    const auto first = client.post<dhis2::WebMessage>("resourceTables/analytics");
    REQUIRE(first.task_ref());
    const auto e = thrown<dhis2::ApiError>([&] { client.post_raw("resourceTables/analytics"); });
    REQUIRE(e);
    CHECK(e->status() == 409);
    CHECK(e->dhis2_message() == "Job of type ANALYTICS_TABLE is already running");
    REQUIRE(e->web_message() != nullptr);
    CHECK(e->web_message()->status == "ERROR");
    CHECK(e->web_message()->response.at("jobType") == "ANALYTICS_TABLE");
    CHECK_FALSE(contains(e->what(), "import finished with errors"));
  }
}

TEST_CASE("A 409 WARNING from a metadata import with errors is an ApiError carrying the import report") {
  FakeServer server(version("2.41.4"));
  dhis2::Client client(server.url(), admin(), fast());
  const auto e = thrown<dhis2::ApiError>([&] { client.post_raw("metadata", nameless_data_element); });
  REQUIRE(e);
  CHECK(e->status() == 409);
  CHECK(contains(e->dhis2_message(), "One or more errors occurred"));
  CHECK(contains(e->what(), "web_message()"));
  REQUIRE(e->web_message() != nullptr);
  const dhis2::WebMessage& m = *e->web_message();
  CHECK(m.status == "WARNING");
  const auto report = m.import_report();
  REQUIRE(report);
  CHECK(report->status == "ERROR");  // WARNING on top, ERROR inside (dhis2-wire.md §4.2)
  CHECK(report->stats.created == 0);
  CHECK(report->stats.ignored == 1);
  const auto rows = m.conflict_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].error_code == "E4000");
  CHECK(rows[0].type == "DataElement");
  CHECK(rows[0].object == "fbfJHSPpUQD");
  CHECK(rows[0].property == "name");
}

// ---- classification: no response -------------------------------------------------------------

TEST_CASE("A refused connection is a TransportError") {
  int port = 0;
  {
    FakeServer gone;
    port = gone.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  dhis2::ClientOptions options = fast();
  dhis2::Client client(url, admin(), options);
  const auto handshake = thrown<dhis2::TransportError>([&] { client.get_raw("me"); });
  REQUIRE(handshake);
  CHECK(contains(handshake->what(), url));

  options.skip_version_probe = true;
  options.retry = std::nullopt;
  dhis2::Client unprobed(url, admin(), options);
  const auto request = thrown<dhis2::TransportError>([&] { unprobed.get_raw("me"); });
  REQUIRE(request);
  CHECK(contains(request->what(), "GET " + url + "/api/me"));
  CHECK(contains(request->what(), "cannot connect"));
  CHECK(request->kind() == dhis2::TransportErrorKind::Connect);
  CHECK(handshake->kind() == dhis2::TransportErrorKind::Connect);
}

TEST_CASE("A host name that does not resolve is a TransportError of kind Dns that names it") {
  dhis2::ClientOptions options = fast();
  options.skip_version_probe = true;
  options.retry = std::nullopt;
  // RFC 6761: names under .invalid never resolve.
  dhis2::Client client("http://dhis2-cpp-test.invalid", admin(), options);
  const auto e = thrown<dhis2::TransportError>([&] { client.get_raw("me"); });
  REQUIRE(e);
  CHECK(e->kind() == dhis2::TransportErrorKind::Dns);
  CHECK(contains(e->what(), "dhis2-cpp-test.invalid does not resolve"));
  CHECK(std::string(dhis2::to_string(e->kind())) == "dns");
}

TEST_CASE("A POST whose connection drops before the response is a TransportError and is not retried") {
  FakeServer server(version("2.42.1"));
  HookLog hook;
  dhis2::ClientOptions options = fast();  // retries on, but a POST is not idempotent
  options.on_request = hook.hook();
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  server.inject("POST", "/api/resourceTables/analytics", Fault::drop_before_response(), -1);
  hook.events.clear();
  const auto e = thrown<dhis2::TransportError>([&] { client.post_raw("resourceTables/analytics"); });
  REQUIRE(e);
  CHECK(contains(e->what(), "POST " + server.url() + "/api/resourceTables/analytics"));
  CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 1);
  REQUIRE(hook.events.size() == 1);
  CHECK(hook.events[0].status == 0);
  CHECK_FALSE(hook.events[0].error.empty());
  CHECK_FALSE(hook.events[0].will_retry);
  CHECK(server.jobs().empty());
}

// ---- credentials -------------------------------------------------------------------------------

TEST_CASE("Basic credentials never appear in error messages or hook events, which see Basic [redacted]") {
  const std::string password = "Corr3ct-Horse-Battery";
  FakeServerOptions server_options;
  server_options.users = {dhis2::testing::User{"ops", password}};
  FakeServer server(server_options);
  FakeServer elsewhere;
  HookLog hook;
  dhis2::ClientOptions options = fast();
  options.on_request = hook.hook();
  std::vector<std::string> messages;
  const auto record = [&messages](const std::function<void()>& call) {
    try {
      call();
    } catch (const dhis2::Error& e) {
      messages.push_back(e.what());
    }
  };

  dhis2::Client client(server.url(), dhis2::BasicAuth{"ops", password}, options);
  server.inject("GET", "/api/me", Fault::html_page());
  record([&] { client.get_raw("me"); });
  server.inject("GET", "/api/me", Fault::redirect(elsewhere.url() + "/api/me"));
  record([&] { client.get_raw("me"); });
  server.inject("GET", "/api/me", Fault::redirect(server.url() + "/login/"));
  record([&] { client.get_raw("me"); });
  server.inject("GET", "/api/me", Fault::malformed_json());
  record([&] { client.get_raw("me"); });
  record([&] { client.get_raw("jobConfigurations/abcdefghijk"); });
  record([&] { client.get_raw("noSuchResource"); });
  record([&] { client.get<ServerSummary>("me"); });
  server.inject("POST", "/api/resourceTables", Fault::drop_before_response());
  record([&] { client.post_raw("resourceTables"); });
  dhis2::Client wrong(server.url(), dhis2::BasicAuth{"ops", password + "x"}, options);
  record([&] { wrong.get_raw("me"); });
  REQUIRE(messages.size() == 9);

  const std::vector<std::string> secrets = {password, base64("ops:" + password), base64("ops:" + password + "x")};
  auto texts = hook.texts();
  texts.insert(texts.end(), messages.begin(), messages.end());
  for (const auto& text : texts) {
    for (const auto& secret : secrets) {
      INFO(text);
      CHECK_FALSE(contains(text, secret));
    }
  }
  const auto authorizations = hook.authorizations();
  REQUIRE_FALSE(authorizations.empty());
  for (const auto& a : authorizations) CHECK(a == "Basic [redacted]");
  CHECK(elsewhere.requests().empty());
}

TEST_CASE("A personal access token never appears in error messages or hook events, which see ApiToken [redacted]") {
  const std::string token = pat(dhis2::PatFormat::V2, "iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa");
  const std::string other = pat(dhis2::PatFormat::V1, "e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O5");
  FakeServerOptions server_options;
  server_options.tokens.push_back(dhis2::testing::IssuedToken{token, "admin"});
  FakeServer server(server_options);
  HookLog hook;
  dhis2::ClientOptions options = fast();
  options.on_request = hook.hook();
  std::vector<std::string> messages;

  dhis2::Client client(server.url(), dhis2::TokenAuth(token), options);
  CHECK(client.get_raw("me").at("username") == "admin");
  try {
    client.get_raw("jobConfigurations/abcdefghijk");
  } catch (const dhis2::Error& e) {
    messages.push_back(e.what());
  }
  dhis2::Client stranger(server.url(), dhis2::TokenAuth(other), options);
  try {
    stranger.get_raw("me");
  } catch (const dhis2::Error& e) {
    messages.push_back(e.what());
  }
  REQUIRE(messages.size() == 2);

  auto texts = hook.texts();
  texts.insert(texts.end(), messages.begin(), messages.end());
  for (const auto& text : texts) {
    INFO(text);
    CHECK_FALSE(contains(text, token));
    CHECK_FALSE(contains(text, other));
    CHECK_FALSE(contains(text, token.substr(4, 20)));
  }
  const auto authorizations = hook.authorizations();
  REQUIRE_FALSE(authorizations.empty());
  for (const auto& a : authorizations) CHECK(a == "ApiToken [redacted]");
}

TEST_CASE("A bearer token never appears in error messages or hook events, which see Bearer [redacted]") {
  const std::string good = "eyJhbGciOiJSUzI1NiJ9.good-access-token.c2lnbmF0dXJl";
  const std::string bad = "eyJhbGciOiJSUzI1NiJ9.revoked-access-token.c2lnbmF0dXJl";
  FakeServerOptions server_options;
  server_options.bearer_tokens.push_back(dhis2::testing::IssuedToken{good, "admin"});
  FakeServer server(server_options);
  HookLog hook;
  dhis2::ClientOptions options = fast();
  options.on_request = hook.hook();
  std::vector<std::string> messages;

  dhis2::Client client(server.url(), dhis2::BearerAuth::fixed(good), options);
  try {
    client.get_raw("noSuchResource");
  } catch (const dhis2::Error& e) {
    messages.push_back(e.what());
  }
  dhis2::Client revoked(server.url(), dhis2::BearerAuth::fixed(bad), options);
  try {
    revoked.get_raw("me");
  } catch (const dhis2::Error& e) {
    messages.push_back(e.what());
  }
  REQUIRE(messages.size() == 2);

  auto texts = hook.texts();
  texts.insert(texts.end(), messages.begin(), messages.end());
  for (const auto& text : texts) {
    INFO(text);
    CHECK_FALSE(contains(text, good));
    CHECK_FALSE(contains(text, bad));
    CHECK_FALSE(contains(text, "access-token"));
  }
  const auto authorizations = hook.authorizations();
  REQUIRE_FALSE(authorizations.empty());
  for (const auto& a : authorizations) CHECK(a == "Bearer [redacted]");
}
