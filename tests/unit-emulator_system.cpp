// The emulator (dhis2::testing::FakeServer) as a client observes it over HTTP: its life cycle,
// system info, /me, ping, authentication (Basic, personal access tokens, bearer tokens, the 401
// and login-redirect behaviours), authorities, API version prefixes, HTTPS, and its own usage
// errors. Each test cites the section of ../shared/docs/dhis2-wire.md it checks.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <httplib.h>  // these tests talk to the emulator over HTTP directly

namespace {

using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::IssuedToken;
using dhis2::testing::User;
using Json = nlohmann::json;

// Every version profile the emulator is tested against.
#define DHIS2_EMULATED_VERSION \
  GENERATE(as<std::string>{}, "2.38", "2.39", "2.40.7", "2.40.8", "2.41.0", "2.41.4", "2.42.1", "2.43.1")

// The upstream fixtures of ApiKeyTokenGeneratorTest (§6.2): their checksums are CRC32 over the
// secret plus the UTF-8 encoder's NUL padding.
const std::string kV1Fixture = "d2pat_e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O50174669582";
const std::string kV2Fixture = "d2p_iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa051Mei";
// The same secrets with a plain (unpadded) CRC32, as 2.38-2.40 minted V1 tokens (§6.2).
const std::string kV1PlainCrc = "d2pat_e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O51702412917";
const std::string kV2PlainCrc = "d2p_iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa1jU4oK";

const std::string kUnauthorizedBody =
    R"({"httpStatus":"Unauthorized","httpStatusCode":401,"status":"ERROR","message":"Unauthorized"})";

FakeServerOptions options_for(const std::string& version) {
  FakeServerOptions options;
  options.version = version;
  return options;
}

// A client of `server` with short timeouts, so that a hang fails the test instead of stalling it.
std::unique_ptr<httplib::Client> client_of(const std::string& origin) {
  auto client = std::make_unique<httplib::Client>(origin);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(5, 0);
  client->set_write_timeout(5, 0);
  return client;
}
std::unique_ptr<httplib::Client> client_of(const FakeServer& server) { return client_of(server.origin()); }

httplib::Headers xhr() { return {{"X-Requested-With", "XMLHttpRequest"}}; }
httplib::Headers authorization(const std::string& value) {
  return {{"Authorization", value}, {"X-Requested-With", "XMLHttpRequest"}};
}
std::string basic_credentials(const std::string& user, const std::string& password) {
  return httplib::make_basic_authentication_header(user, password).second;  // "Basic <base64>"
}
httplib::Headers basic(const std::string& user, const std::string& password) {
  return authorization(basic_credentials(user, password));
}
httplib::Headers api_token(const std::string& token) { return authorization("ApiToken " + token); }

Json json_of(const httplib::Result& result) {
  REQUIRE(result);
  INFO(result->body);
  return Json::parse(result->body);
}

void require_response(const httplib::Result& result) {
  INFO("httplib error: " << httplib::to_string(result.error()));
  REQUIRE(result);
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// The emulator's DHIS2 minor version ("2.41.4" -> 41).
int minor_of(const FakeServer& server) { return server.profile().version.minor; }

// The login page path of a version (§6.3).
std::string expected_login_path(const std::string& version) {
  const auto v = dhis2::ServerVersion::parse(version);
  if (v.minor >= 42) return "/login/";
  if (v.minor == 41) return "/dhis-web-login";
  return "/dhis-web-commons/security/login.action";
}

// A fresh directory under /tmp, removed with everything in it at scope exit.
using test_support::TempDir;

}  // namespace

// ---- life cycle (DESIGN.md §6) ------------------------------------------------------------------

// DESIGN.md §6: an in-process DHIS2 on a loopback port.
TEST_CASE("The emulator listens on 127.0.0.1 on an ephemeral port and url() reaches it") {
  FakeServer server;
  FakeServer other;
  CHECK(server.port() > 0);
  CHECK(server.port() != other.port());
  CHECK(server.origin() == "http://127.0.0.1:" + std::to_string(server.port()));
  CHECK(server.url() == server.origin());

  auto http = client_of(server.url());
  const auto res = http->Get("/api/ping");
  require_response(res);
  CHECK(res->status == 200);
}

// DESIGN.md §6: the destructor stops the server and waits for its threads.
TEST_CASE("The emulator stops in its destructor and then refuses connections") {
  auto server = std::make_unique<FakeServer>();
  const std::string origin = server->origin();
  {
    auto http = client_of(origin);
    const auto res = http->Get("/api/ping");
    require_response(res);
    CHECK(res->status == 200);
  }
  const auto start = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));

  auto http = client_of(origin);
  http->set_connection_timeout(1, 0);
  const auto res = http->Get("/api/ping");
  CHECK_FALSE(res);
}

// DESIGN.md §6: open keep-alive connections must not hold the stop for the keep-alive timeout.
TEST_CASE("The emulator's destructor is fast while a keep-alive client connection is still open") {
  FakeServerOptions options;
  options.keep_alive_timeout = std::chrono::seconds(30);
  auto server = std::make_unique<FakeServer>(options);
  auto http = client_of(*server);
  http->set_keep_alive(true);
  for (int i = 0; i < 2; ++i) {
    const auto res = http->Get("/api/ping");
    require_response(res);
    CHECK(res->status == 200);
  }
  CHECK(server->connection_count() == 1);  // the second request reused the connection

  const auto start = std::chrono::steady_clock::now();
  server.reset();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  INFO("destruction took " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
  CHECK(elapsed < std::chrono::seconds(1));

  http->set_connection_timeout(1, 0);
  CHECK_FALSE(http->Get("/api/ping"));  // the stale connection is gone and nothing listens
}

// DESIGN.md §6: stop() may be called before the destructor, more than once.
TEST_CASE("The emulator's stop() is idempotent") {
  FakeServer server;
  server.stop();
  server.stop();
  auto http = client_of(server);
  http->set_connection_timeout(1, 0);
  CHECK_FALSE(http->Get("/api/ping"));
}

// DESIGN.md §6 (`dhis2-emulator --port N`): a fixed port is honoured.
TEST_CASE("The emulator listens on a fixed port when one is given") {
  int port = 0;
  {
    FakeServer probe;  // finds a port that is free right now
    port = probe.port();
  }
  FakeServerOptions options;
  options.port = port;
  FakeServer server(options);
  CHECK(server.port() == port);
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(port));
  auto http = client_of(server);
  const auto res = http->Get("/api/system/ping", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(res->body == "pong");
}

// §5.1 (contextPath is scheme://host[:port]/ctx) and §4.2 (unmapped URLs give an HTML 404).
TEST_CASE("With a context path the API is under it and paths outside it are 404") {
  FakeServerOptions options;
  options.context_path = "/dhis";
  FakeServer server(options);
  CHECK(server.url() == server.origin() + "/dhis");
  auto http = client_of(server);

  const auto inside = http->Get("/dhis/api/system/info", basic("admin", "district"));
  require_response(inside);
  CHECK(inside->status == 200);
  CHECK(json_of(inside)["contextPath"] == server.url());

  const auto ping = http->Get("/dhis/api/ping");
  require_response(ping);
  CHECK(ping->status == 200);

  for (const char* outside : {"/api/system/info", "/api/ping", "/dhisx/api/system/info", "/other/api/me"}) {
    INFO(outside);
    const auto res = http->Get(outside, basic("admin", "district"));
    require_response(res);
    CHECK(res->status == 404);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
  }
}

// ---- /api/system/info (§5.1) ----------------------------------------------------------------------

// §5.1: version is the Maven project.version; revision is 7 hex characters.
TEST_CASE("System info reports the emulated version exactly, a revision and the server time zone") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(starts_with(res->get_header_value("Content-Type"), "application/json"));
  const Json info = json_of(res);
  CHECK(info["version"] == version);
  CHECK(info["version"] == server.profile().version_text);
  REQUIRE(info["revision"].is_string());
  CHECK(std::regex_match(info["revision"].get<std::string>(), std::regex("[0-9a-f]{7}")));
  CHECK(info["serverTimeZoneId"] == "Etc/UTC");
  CHECK(info["serverTimeZoneDisplayName"].is_string());
  for (const char* key :
       {"contextPath", "userAgent", "calendar", "dateFormat", "serverDate", "buildTime", "emailConfigured", "systemId",
        "systemName", "instanceBaseUrl", "isMetadataVersionEnabled", "isMetadataSyncEnabled", "databaseInfo"}) {
    INFO(key);
    CHECK(info.contains(key));
  }
  CHECK(info["databaseInfo"].contains("spatialSupport"));
}

// §5.1: SystemController#getSystemInfo sends no-store.
TEST_CASE("System info is sent with Cache-Control no-store") {
  FakeServer server;
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value_count("Cache-Control") == 1);
  CHECK(res->get_header_value("Cache-Control").find("no-store") != std::string::npos);
}

// §5.1: contextPath is absolute, built from the Host header, and omits ports 80 and 443.
TEST_CASE("System info contextPath is the absolute base URL the client addressed") {
  FakeServer server;
  auto http = client_of(server);
  const auto direct = json_of(http->Get("/api/system/info", basic("admin", "district")));
  CHECK(direct["contextPath"] == server.url());

  auto headers = basic("admin", "district");
  headers.emplace("Host", "dhis.example.org:8080");
  CHECK(json_of(http->Get("/api/system/info", headers))["contextPath"] == "http://dhis.example.org:8080");

  auto default_port = basic("admin", "district");
  default_port.emplace("Host", "dhis.example.org:80");
  CHECK(json_of(http->Get("/api/system/info", default_port))["contextPath"] == "http://dhis.example.org");
}

// §5.1: userAgent echoes the request's User-Agent.
TEST_CASE("System info userAgent echoes the client's User-Agent") {
  FakeServer server;
  auto http = client_of(server);
  auto headers = basic("admin", "district");
  headers.emplace("User-Agent", "dhis2-cpp-test/1.0");
  CHECK(json_of(http->Get("/api/system/info", headers))["userAgent"] == "dhis2-cpp-test/1.0");
}

// §5.1: serverDate in the yyyy-MM-ddTHH:mm:ss.SSS format, here from the emulated clock.
TEST_CASE("System info serverDate follows the emulated clock in yyyy-MM-ddTHH:mm:ss.SSS") {
  FakeServerOptions options;
  options.start_time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1747735872345));  // 2025-05-20T10:11:12.345Z
  FakeServer server(options);
  auto http = client_of(server);
  CHECK(json_of(http->Get("/api/system/info", basic("admin", "district")))["serverDate"] == "2025-05-20T10:11:12.345");
  server.advance(std::chrono::milliseconds(1500));
  const Json info = json_of(http->Get("/api/system/info", basic("admin", "district")));
  CHECK(info["serverDate"] == "2025-05-20T10:11:13.845");
  CHECK(std::regex_match(info["buildTime"].get<std::string>(),
                         std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})")));
}

// §5.1: withoutSensitiveInfo() blanks the superuser-only fields for everyone else.
TEST_CASE("System info for a non-superuser has no sensitive fields") {
  FakeServerOptions options;
  options.users = {User{"admin", "district"}, User{"clerk", "Clerk123!", {"F_DATAVALUE_ADD"}}};
  FakeServer server(options);
  auto http = client_of(server);

  const Json admin = json_of(http->Get("/api/system/info", basic("admin", "district")));
  CHECK(admin.contains("javaVersion"));  // a superuser sees them

  const Json clerk = json_of(http->Get("/api/system/info", basic("clerk", "Clerk123!")));
  CHECK(clerk["version"] == "2.42.1");
  for (const char* key :
       {"jasperReportsVersion", "environmentVariable", "fileStoreProvider", "readOnlyMode", "nodeId", "javaVersion",
        "javaVendor", "javaOpts", "osName", "osArchitecture", "osVersion", "externalDirectory", "readReplicaCount",
        "memoryInfo", "cpuCores", "systemMonitoringUrl", "redisHostname", "clusterHostname"}) {
    INFO(key);
    CHECK_FALSE(clerk.contains(key));
  }
  for (const char* key : {"name", "user", "url", "databaseVersion"}) {
    INFO("databaseInfo." << key);
    CHECK_FALSE(clerk["databaseInfo"].contains(key));
  }
  CHECK(clerk.value("redisEnabled", false) == false);
  CHECK(clerk.value("encryption", false) == false);
}

// §5.1: sessionTimeout and capability were added in 2.43.
TEST_CASE("System info has sessionTimeout and capability from 2.43 on") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const Json info = json_of(http->Get("/api/system/info", basic("admin", "district")));
  const bool v43 = minor_of(server) >= 43;
  CHECK(info.contains("sessionTimeout") == v43);
  CHECK(info.contains("capability") == v43);
}

// §5.1: ?fields= filtering (default *).
TEST_CASE("System info honours ?fields=") {
  FakeServer server;
  auto http = client_of(server);
  const Json picked = json_of(http->Get("/api/system/info?fields=version,revision", basic("admin", "district")));
  CHECK(picked.size() == 2);
  CHECK(picked["version"] == "2.42.1");
  CHECK(picked.contains("revision"));
  const Json all = json_of(http->Get("/api/system/info?fields=*", basic("admin", "district")));
  CHECK(all.contains("serverDate"));
  CHECK(all.contains("contextPath"));
}

// §5.3: /api/system/info needs authentication.
TEST_CASE("System info needs authentication") {
  FakeServer server;
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", xhr());
  require_response(res);
  CHECK(res->status == 401);
}

// ---- /api/me (§5.2) -------------------------------------------------------------------------------

// §5.2: MeDto with `authorities` ("ALL" for a superuser).
TEST_CASE("/api/me returns the authenticated user with its authorities") {
  FakeServerOptions options;
  options.users = {User{"admin", "district"}, User{"clerk", "Clerk123!", {"F_DATAVALUE_ADD", "F_VIEW_EVENT_ANALYTICS"}}};
  FakeServer server(options);
  auto http = client_of(server);

  const Json admin = json_of(http->Get("/api/me", basic("admin", "district")));
  CHECK(admin["username"] == "admin");
  CHECK(admin["authorities"] == Json::array({"ALL"}));
  REQUIRE(admin["id"].is_string());
  CHECK(admin["id"].get<std::string>().size() == 11);

  const Json clerk = json_of(http->Get("/api/me", basic("clerk", "Clerk123!")));
  CHECK(clerk["username"] == "clerk");
  CHECK(clerk["authorities"] == Json::array({"F_DATAVALUE_ADD", "F_VIEW_EVENT_ANALYTICS"}));
  CHECK(clerk["id"] != admin["id"]);
  CHECK(clerk.contains("displayName"));
}

// §5.2: /api/me supports ?fields=.
TEST_CASE("/api/me honours ?fields=") {
  FakeServer server;
  auto http = client_of(server);
  const Json me = json_of(http->Get("/api/me?fields=authorities", basic("admin", "district")));
  CHECK(me == Json{{"authorities", Json::array({"ALL"})}});
}

// §5.3: /api/me needs authentication.
TEST_CASE("/api/me needs authentication") {
  FakeServer server;
  auto http = client_of(server);
  const auto res = http->Get("/api/me", xhr());
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->body == kUnauthorizedBody);
}

// ---- ping and loginConfig (§5.3, §5.1) ----------------------------------------------------------

// §5.3: GET /api/ping needs no auth on every version and answers 200 with an empty body.
TEST_CASE("/api/ping answers 200 with an empty body without authentication") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/ping");  // no credentials, no XHR header
  require_response(res);
  CHECK(res->status == 200);
  CHECK(res->body.empty());
}

// §5.3: GET /api/system/ping needs auth in every tag up to 2.43.1, and answers "pong".
TEST_CASE("/api/system/ping needs authentication and answers pong") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);

  const auto anonymous = http->Get("/api/system/ping", xhr());
  require_response(anonymous);
  CHECK(anonymous->status == 401);

  const auto res = http->Get("/api/system/ping", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(res->body == "pong");
  CHECK(starts_with(res->get_header_value("Content-Type"), "text/plain"));
  CHECK(res->get_header_value("Cache-Control").find("no-store") != std::string::npos);
}

// §5.1: GET /api/loginConfig (2.41+, permitAll) returns apiVersion; before 2.41 it does not exist
// and everything under /api needs authentication.
TEST_CASE("/api/loginConfig answers apiVersion without authentication from 2.41 on") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/loginConfig", xhr());
  require_response(res);
  if (minor_of(server) >= 41) {
    CHECK(res->status == 200);
    CHECK(json_of(res)["apiVersion"] == version);
  } else {
    CHECK(res->status == 401);
  }
}

// ---- Basic authentication and the anonymous answers (§6.1, §6.3) -------------------------------

// §6.1: HTTP Basic.
TEST_CASE("Basic authentication with good credentials is accepted") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/me", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(json_of(res)["username"] == "admin");
}

// §6.1: HTTP Basic credentials of any length; the password may contain ':' (RFC 7617).
TEST_CASE("Basic authentication accepts long credentials and a password containing a colon") {
  const std::string name = "a.very.long.user.name.for.the.emulator.basic.auth.decoder";
  const std::string password = "Pa:ss:word-" + std::string(90, 'x') + "/+=!";
  FakeServerOptions options;
  options.users = {User{"admin", "district"}, User{name, password}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", basic(name, password));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(json_of(res)["username"] == name);
  const auto wrong = http->Get("/api/me", basic(name, password + "y"));
  require_response(wrong);
  CHECK(wrong->status == 401);
}

// §6.3: wrong Basic credentials give 401 JSON with no WWW-Authenticate header.
TEST_CASE("Basic authentication with bad credentials gives 401 JSON without WWW-Authenticate") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  for (const auto& headers : {basic("admin", "wrong"), basic("nobody", "district")}) {
    const auto res = http->Get("/api/system/info", headers);
    require_response(res);
    CHECK(res->status == 401);
    CHECK(res->body == kUnauthorizedBody);
    CHECK(starts_with(res->get_header_value("Content-Type"), "application/json"));
    CHECK_FALSE(res->has_header("WWW-Authenticate"));
  }
  // Without the XHR header too: credentials were sent, so there is no login redirect.
  httplib::Headers no_xhr = {{"Authorization", basic_credentials("admin", "wrong")}};
  const auto res = http->Get("/api/system/info", no_xhr);
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->body == kUnauthorizedBody);
}

// §6.3: the message is "Account disabled" for a disabled account.
TEST_CASE("Basic authentication of a disabled user gives 401 Account disabled") {
  FakeServerOptions options;
  User disabled{"gone", "Gone123!"};
  disabled.disabled = true;
  options.users = {User{"admin", "district"}, disabled};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", basic("gone", "Gone123!"));
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->body ==
        R"({"httpStatus":"Unauthorized","httpStatusCode":401,"status":"ERROR","message":"Account disabled"})");
  CHECK_FALSE(res->has_header("WWW-Authenticate"));
}

// §6.3: no credentials with X-Requested-With: XMLHttpRequest gives 401 JSON.
TEST_CASE("An anonymous XMLHttpRequest gets 401 JSON") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", xhr());
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->body == kUnauthorizedBody);
  CHECK_FALSE(res->has_header("WWW-Authenticate"));
  CHECK_FALSE(res->has_header("Location"));
}

// §6.3: no credentials and no XHR header gives 302 to the version's login page; following it
// gives a 200 HTML page.
TEST_CASE("An anonymous browser request is redirected to the version's login page") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info");
  require_response(res);
  CHECK(res->status == 302);
  const std::string location = res->get_header_value("Location");
  CHECK(location == server.origin() + expected_login_path(version));
  CHECK(location.find("login") != std::string::npos);

  REQUIRE(starts_with(location, server.origin()));
  const auto page = http->Get(location.substr(server.origin().size()).c_str());
  require_response(page);
  CHECK(page->status == 200);
  CHECK(starts_with(page->get_header_value("Content-Type"), "text/html"));
  CHECK(page->body.find("<html") != std::string::npos);
}

// §6.3 with §5.1: the login redirect is absolute and keeps the context path.
TEST_CASE("The login redirect includes the context path") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.context_path = "/dhis";
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/dhis/api/me");
  require_response(res);
  CHECK(res->status == 302);
  const std::string location = res->get_header_value("Location");
  CHECK(location == server.origin() + "/dhis" + expected_login_path(version));

  REQUIRE(starts_with(location, server.origin()));
  const auto page = http->Get(location.substr(server.origin().size()).c_str());
  require_response(page);
  CHECK(page->status == 200);
  CHECK(starts_with(page->get_header_value("Content-Type"), "text/html"));
}

// ---- personal access tokens (§6.1, §6.2) --------------------------------------------------------

// §6.2: the upstream V1 fixture has a NUL-padded CRC32 checksum; every version accepts it.
TEST_CASE("A configured V1 personal access token is accepted") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.users = {User{"admin", "district"}, User{"robot", "Robot123!", {"F_PERFORM_MAINTENANCE"}}};
  options.tokens = {IssuedToken{kV1Fixture, "robot"}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", api_token(kV1Fixture));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(json_of(res)["username"] == "robot");
}

// §6.2: V2 tokens (the default since 2.41), with the upstream fixture.
TEST_CASE("A configured V2 personal access token is accepted from 2.41 on") {
  const std::string version = GENERATE(as<std::string>{}, "2.41.0", "2.41.4", "2.42.1", "2.43.1");
  FakeServerOptions options = options_for(version);
  options.users = {User{"admin", "district"}, User{"robot", "Robot123!", {"F_PERFORM_MAINTENANCE"}}};
  options.tokens = {IssuedToken{kV2Fixture, "robot"}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", api_token(kV2Fixture));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(json_of(http->Get("/api/me", api_token(kV2Fixture)))["username"] == "robot");
}

// §6.1: the ApiToken scheme name is matched case-insensitively.
TEST_CASE("The ApiToken scheme name is case-insensitive") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  const std::string token = *dhis2::make_pat(dhis2::PatFormat::V1, "abcdefghijklmnopqrstuvwxyz012345");
  options.tokens = {IssuedToken{token, "admin"}};
  FakeServer server(options);
  auto http = client_of(server);
  for (const char* scheme : {"ApiToken", "apitoken", "APITOKEN", "apiToken"}) {
    INFO(scheme);
    const auto res = http->Get("/api/me", authorization(std::string(scheme) + " " + token));
    require_response(res);
    CHECK(res->status == 200);
  }
}

// §6.2: make_pat mints tokens with the checksum the server computes; 2.41+ accepts them.
TEST_CASE("Personal access tokens minted with make_pat are accepted") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  const std::string v1 = *dhis2::make_pat(dhis2::PatFormat::V1, "Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXc");
  const std::string v2 = *dhis2::make_pat(dhis2::PatFormat::V2, "Q1w2E3r4T5y6U7i8O9p0AsDfGhJkLzXcVbNm1234abcd");
  options.tokens = {IssuedToken{v1, "admin"}, IssuedToken{v2, "admin"}};
  FakeServer server(options);
  auto http = client_of(server);
  for (const auto& token : {v1, v2}) {
    const auto res = http->Get("/api/system/ping", api_token(token));
    require_response(res);
    CHECK(res->status == 200);
    CHECK(res->body == "pong");
  }
}

// §6.2: 2.41+ validates the checksum (400 "Checksum validation failed", WWW-Authenticate:
// ApiToken); 2.38-2.40 never validated it, so an unknown token with a bad checksum is only unknown.
TEST_CASE("A personal access token with a bad checksum is rejected by version") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  std::string flipped = kV2Fixture;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  for (const auto& token : {kV1PlainCrc, kV2PlainCrc, flipped, std::string("abcdef0123")}) {
    INFO(token);
    const auto res = http->Get("/api/system/info", api_token(token));
    require_response(res);
    CHECK(res->get_header_value("WWW-Authenticate") == "ApiToken");
    const Json body = json_of(res);
    if (minor_of(server) >= 41) {
      CHECK(res->status == 400);
      CHECK(body["httpStatusCode"] == 400);
      CHECK(body["httpStatus"] == "Bad Request");
      CHECK(body["status"] == "ERROR");
      CHECK(body["message"] == "Checksum validation failed");
    } else {
      CHECK(res->status == 401);
      CHECK(body["httpStatusCode"] == 401);
      CHECK(body["message"] == "The API token does not exists");
    }
  }
}

// §6.2: 2.38-2.40 minted V1 tokens with a plain CRC32 and never validated it; 2.41+ rejects them.
TEST_CASE("A V1 token with a plain CRC32 works up to 2.40 and fails the checksum from 2.41 on") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.tokens = {IssuedToken{kV1PlainCrc, "admin"}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", api_token(kV1PlainCrc));
  require_response(res);
  if (minor_of(server) >= 41) {
    CHECK(res->status == 400);
    CHECK(json_of(res)["message"] == "Checksum validation failed");
  } else {
    CHECK(res->status == 200);
    CHECK(json_of(res)["username"] == "admin");
  }
}

// §6.2: an unknown (well-formed, right checksum) token gives 401 "The API token does not exists".
TEST_CASE("An unknown well-formed personal access token gives 401") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.tokens = {IssuedToken{kV1Fixture, "admin"}};
  FakeServer server(options);
  auto http = client_of(server);
  const std::string unknown = *dhis2::make_pat(dhis2::PatFormat::V1, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
  const auto res = http->Get("/api/system/info", api_token(unknown));
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->get_header_value("WWW-Authenticate") == "ApiToken");
  CHECK(
      res->body ==
      R"({"httpStatus":"Unauthorized","httpStatusCode":401,"status":"ERROR","message":"The API token does not exists"})");
}

// §6.2: an expired token gives 401 "Failed to authenticate API token, token has expired."
TEST_CASE("An expired personal access token gives 401") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  const std::string token = *dhis2::make_pat(dhis2::PatFormat::V1, "ExpiredExpiredExpiredExpired1234");
  options.tokens = {IssuedToken{token, "admin", true}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/system/info", api_token(token));
  require_response(res);
  CHECK(res->status == 401);
  CHECK(res->get_header_value("WWW-Authenticate") == "ApiToken");
  CHECK(json_of(res)["message"] == "Failed to authenticate API token, token has expired.");
}

// §6.2: a token of a disabled user gives 401 "The API token is disabled, locked or 2FA is enabled."
TEST_CASE("A personal access token of a disabled user gives 401") {
  FakeServerOptions options;
  User disabled{"gone", "Gone123!"};
  disabled.disabled = true;
  options.users = {User{"admin", "district"}, disabled};
  options.tokens = {IssuedToken{kV2Fixture, "gone"}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", api_token(kV2Fixture));
  require_response(res);
  CHECK(res->status == 401);
  CHECK(json_of(res)["message"] == "The API token is disabled, locked or 2FA is enabled.");
}

// §6.1/§6.2: a header that does not match ^ApiToken [a-z0-9-._~+/]+=*$ gives 400 "Api token is malformed".
TEST_CASE("A malformed ApiToken header gives 400 Api token is malformed") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.tokens = {IssuedToken{kV1Fixture, "admin"}};
  FakeServer server(options);
  auto http = client_of(server);
  for (const auto& header :
       {"ApiToken " + kV1Fixture + " extra", std::string("ApiToken d2pat_abc!def"), std::string("ApiToken")}) {
    INFO(header);
    const auto res = http->Get("/api/system/info", authorization(header));
    require_response(res);
    CHECK(res->status == 400);
    CHECK(res->get_header_value("WWW-Authenticate") == "ApiToken");
    CHECK(res->body ==
          R"({"httpStatus":"Bad Request","httpStatusCode":400,"status":"ERROR","message":"Api token is malformed"})");
  }
}

// ---- bearer tokens (§6.1, §6.3) -------------------------------------------------------------------

// §6.1: Authorization: Bearer <jwt> for a configured OAuth2/OIDC token.
TEST_CASE("A configured bearer token is accepted") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.users = {User{"admin", "district"}, User{"oidc", "Oidc123!", {"F_DATAVALUE_ADD"}}};
  options.bearer_tokens = {IssuedToken{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvaWRjIn0.c2lnbmF0dXJl", "oidc"}};
  FakeServer server(options);
  auto http = client_of(server);
  const auto res = http->Get("/api/me", authorization("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvaWRjIn0.c2lnbmF0dXJl"));
  require_response(res);
  CHECK(res->status == 200);
  CHECK(json_of(res)["username"] == "oidc");
}

// §6.3: an invalid bearer JWT gives 401 + WWW-Authenticate: Bearer error="invalid_token" + a WebMessage.
TEST_CASE("An invalid or expired bearer token gives 401 with WWW-Authenticate Bearer invalid_token") {
  FakeServerOptions options;
  options.bearer_tokens = {IssuedToken{"good.jwt.token", "admin"}, IssuedToken{"old.jwt.token", "admin", true}};
  FakeServer server(options);
  auto http = client_of(server);
  for (const char* token : {"not.a.token", "old.jwt.token"}) {
    INFO(token);
    const auto res = http->Get("/api/me", authorization(std::string("Bearer ") + token));
    require_response(res);
    CHECK(res->status == 401);
    CHECK(starts_with(res->get_header_value("WWW-Authenticate"), "Bearer error=\"invalid_token\""));
    const Json body = json_of(res);
    CHECK(body["httpStatusCode"] == 401);
    CHECK(body["httpStatus"] == "Unauthorized");
    CHECK(body["status"] == "ERROR");
  }
}

// ---- authorities (§4.2) ---------------------------------------------------------------------------

// §4.2: AccessDeniedException gives 403 "Access is denied, requires one Authority from [F_…]".
TEST_CASE("A user without the authority gets 403 from an analytics kick-off, one with it gets 200") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServerOptions options = options_for(version);
  options.users = {User{"admin", "district"}, User{"clerk", "Clerk123!", {"F_DATAVALUE_ADD"}},
                   User{"maint", "Maint123!", {"F_PERFORM_MAINTENANCE"}}};
  FakeServer server(options);
  auto http = client_of(server);

  const auto denied = http->Post("/api/resourceTables/analytics", basic("clerk", "Clerk123!"), "", "application/json");
  require_response(denied);
  CHECK(denied->status == 403);
  CHECK(denied->body == R"({"httpStatus":"Forbidden","httpStatusCode":403,"status":"ERROR",)"
                        R"("message":"Access is denied, requires one Authority from [F_PERFORM_MAINTENANCE]"})");
  CHECK(server.jobs().empty());

  const auto allowed = http->Post("/api/resourceTables/analytics", basic("maint", "Maint123!"), "", "application/json");
  require_response(allowed);
  CHECK(allowed->status == 200);
  CHECK(json_of(allowed)["httpStatusCode"] == 200);
}

// ---- API version prefixes (§6.4, §2.5) ----------------------------------------------------------

// §6.4: /api/<n>/ is accepted for n = 28 .. current (2.43: 28-43); other numbers give 404.
TEST_CASE("API version prefixes from 28 to the current version are accepted, others are 404") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  const int current = minor_of(server);
  const auto status_of = [&](int n) {
    const auto res = http->Get(("/api/" + std::to_string(n) + "/system/info").c_str(), basic("admin", "district"));
    REQUIRE(res);
    return res->status;
  };
  CHECK(status_of(28) == 200);
  CHECK(status_of(current) == 200);
  CHECK(status_of(27) == 404);
  CHECK(status_of(current + 1) == 404);
  CHECK(status_of(41) == (current >= 41 ? 200 : 404));
  const auto info = json_of(
      http->Get(("/api/" + std::to_string(current) + "/system/info").c_str(), basic("admin", "district")));
  CHECK(info["version"] == version);
}

// §6.4: 2.43 strips /api/28..43/ only; /api/44/ is not rewritten.
TEST_CASE("On 2.43 the API version prefix /api/44/ is 404") {
  FakeServer server(options_for("2.43.1"));
  auto http = client_of(server);
  const auto v43 = http->Get("/api/43/me", basic("admin", "district"));
  require_response(v43);
  CHECK(v43->status == 200);
  const auto v44 = http->Get("/api/44/me", basic("admin", "district"));
  require_response(v44);
  CHECK(v44->status == 404);
  CHECK(starts_with(v44->get_header_value("Content-Type"), "text/html"));
}

// ---- unmapped URLs (§4.2) -------------------------------------------------------------------------

// §4.2: unmapped URLs return an HTML 404 page, not JSON.
TEST_CASE("An unknown API path gives an HTML 404 page") {
  const std::string version = DHIS2_EMULATED_VERSION;
  FakeServer server(options_for(version));
  auto http = client_of(server);
  for (const char* path : {"/api/noSuchThing", "/api/system/infox", "/api/analytics/rawData", "/nothing/here"}) {
    INFO(path);
    const auto res = http->Get(path, basic("admin", "district"));
    require_response(res);
    CHECK(res->status == 404);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
    CHECK(res->body.find("<html") != std::string::npos);
  }
}

// ---- HTTPS (DESIGN.md §6) -------------------------------------------------------------------------

// DESIGN.md §6: HTTPS with a given certificate; §5.1: contextPath has the https scheme.
TEST_CASE("Over HTTPS a client trusting the test CA gets system info") {
  TempDir tmp;
  const auto certs = dhis2::testing::make_test_certificates(tmp.path);
  FakeServerOptions options;
  options.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
  FakeServer server(options);
  CHECK(server.url() == "https://127.0.0.1:" + std::to_string(server.port()));

  const std::string origin = "https://localhost:" + std::to_string(server.port());
  auto http = client_of(origin);
  http->set_ca_cert_path(certs.ca_cert_path.c_str());
  http->enable_server_certificate_verification(true);
  const auto res = http->Get("/api/system/info", basic("admin", "district"));
  require_response(res);
  CHECK(res->status == 200);
  const Json info = json_of(res);
  CHECK(info["version"] == "2.42.1");
  CHECK(info["contextPath"] == origin);
}

// DESIGN.md §6: the test certificate is trusted only through its CA.
TEST_CASE("Over HTTPS a client without the test CA fails certificate verification") {
  TempDir tmp;
  const auto certs = dhis2::testing::make_test_certificates(tmp.path);
  FakeServerOptions options;
  options.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
  FakeServer server(options);

  auto http = client_of("https://localhost:" + std::to_string(server.port()));
  http->enable_server_certificate_verification(true);  // the system CA store only
  const auto res = http->Get("/api/system/info", basic("admin", "district"));
  CHECK_FALSE(res);
  CHECK(res.error() == httplib::Error::SSLServerVerification);
}

// ---- usage errors of the emulator's own API (DESIGN.md §4: invalid arguments throw UsageError) ---

// version_profile.hpp: 2.38 to 2.43 are emulated; anything else says which are.
TEST_CASE("An unknown version throws UsageError listing the emulated versions") {
  for (const char* version : {"2.37.1", "garbage", "2.44.0", ""}) {
    INFO(version);
    CHECK_THROWS_AS(FakeServer(options_for(version)), dhis2::UsageError);
    CHECK_THROWS_WITH(FakeServer(options_for(version)),
                      Catch::Matchers::Contains("2.38") && Catch::Matchers::Contains("2.43") &&
                          Catch::Matchers::Contains("2.41.4") &&
                          Catch::Matchers::Contains(std::string("\"") + version + "\""));
  }
}

// fake_server.hpp: a context path starts with '/' and does not end with one.
TEST_CASE("A context path without a leading slash throws UsageError") {
  for (const char* path : {"dhis", "/dhis/", "/"}) {
    INFO(path);
    FakeServerOptions options;
    options.context_path = path;
    CHECK_THROWS_AS(FakeServer(options), dhis2::UsageError);
    CHECK_THROWS_WITH(FakeServer(options),
                      Catch::Matchers::Contains("context_path") && Catch::Matchers::Contains("/dhis"));
  }
}

// fake_server.hpp: someone must be able to log in.
TEST_CASE("An emulator without users throws UsageError") {
  FakeServerOptions options;
  options.users.clear();
  CHECK_THROWS_AS(FakeServer(options), dhis2::UsageError);
  CHECK_THROWS_WITH(FakeServer(options), Catch::Matchers::Contains("users"));
}

// fake_server.hpp: a port is 0 (any) or 1 to 65535.
TEST_CASE("An out-of-range port throws UsageError") {
  for (int port : {-1, 65536}) {
    FakeServerOptions options;
    options.port = port;
    CHECK_THROWS_AS(FakeServer(options), dhis2::UsageError);
  }
}

// ---- compression (FakeServerOptions::compress) -----------------------------------------------
// The wire reference names no compression by DHIS2 itself: like the 429s of §7, it comes from a
// proxy in front of it. nginx with `gzip on` gzips a JSON body of at least 20 bytes when the
// request accepts gzip.

namespace {

struct RawAnswer {
  int status = 0;
  std::string encoding;  // Content-Encoding
  std::string vary;
  std::string body;  // as it came over the wire
};

RawAnswer raw_get(const FakeServer& server, const std::string& path, const std::string& accept_encoding) {
  auto client = client_of(server);
  client->set_decompress(false);  // see the bytes the emulator sent
  client->set_basic_auth("admin", "district");
  httplib::Headers headers;
  if (!accept_encoding.empty()) headers.emplace("Accept-Encoding", accept_encoding);
  const auto res = client->Get(path, headers);
  REQUIRE(res);
  return {res->status, res->get_header_value("Content-Encoding"), res->get_header_value("Vary"), res->body};
}

std::string decoded_get(const FakeServer& server, const std::string& path) {
  auto client = client_of(server);  // decompresses
  client->set_basic_auth("admin", "district");
  const auto res = client->Get(path, {{"Accept-Encoding", "gzip"}});
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

FakeServerOptions compressing() {
  FakeServerOptions options;
  options.compress = true;
  return options;
}

}  // namespace

TEST_CASE("compress: a request that accepts gzip gets a gzip body that decodes to the plain one") {
  FakeServer server(compressing());
  const RawAnswer plain = raw_get(server, "/api/system/info", "");
  const RawAnswer gzip = raw_get(server, "/api/system/info", "gzip, deflate");
  CHECK(plain.encoding.empty());
  CHECK(gzip.status == 200);
  CHECK(gzip.encoding == "gzip");
  CHECK(gzip.vary == "Accept-Encoding");
  REQUIRE(gzip.body.size() >= 2);
  CHECK(static_cast<unsigned char>(gzip.body[0]) == 0x1f);  // the gzip magic number (RFC 1952)
  CHECK(static_cast<unsigned char>(gzip.body[1]) == 0x8b);
  CHECK(gzip.body.size() < plain.body.size());
  const Json decoded = Json::parse(decoded_get(server, "/api/system/info"));
  const Json original = Json::parse(plain.body);
  CHECK(decoded.at("version") == original.at("version"));
  CHECK(decoded.at("contextPath") == original.at("contextPath"));
}

TEST_CASE("compress: what Accept-Encoding says decides, as nginx reads it") {
  FakeServer server(compressing());
  struct Case {
    const char* accept;
    bool gzipped;
  };
  for (const Case c : {Case{"gzip", true}, Case{"GZIP", true}, Case{"br, gzip;q=0.5", true}, Case{"x-gzip", true},
                       Case{"*", true}, Case{"identity", false}, Case{"br", false}, Case{"gzip;q=0", false},
                       Case{"gzip; q=0.000", false}, Case{"deflate", false}}) {
    INFO(c.accept);
    const RawAnswer answer = raw_get(server, "/api/me", c.accept);
    CHECK(answer.status == 200);
    CHECK((answer.encoding == "gzip") == c.gzipped);
  }
}

TEST_CASE("compress: a body under 20 bytes goes out as it is (nginx's gzip_min_length)") {
  FakeServer server(compressing());
  const RawAnswer pong = raw_get(server, "/api/system/ping", "gzip");
  CHECK(pong.encoding.empty());
  CHECK(pong.body == "pong");
}

TEST_CASE("Without compress the emulator never compresses, as DHIS2 does not, whatever the request accepts") {
  FakeServer server;  // compress = false
  // text/plain and JSON alike: httplib's server would gzip a text/plain body on its own.
  for (const char* path : {"/api/system/info", "/api/system/ping", "/api/me"}) {
    for (const char* accept : {"gzip", "br", "gzip, deflate, br"}) {
      INFO(path << " with Accept-Encoding: " << accept);
      const RawAnswer answer = raw_get(server, path, accept);
      CHECK(answer.status == 200);
      CHECK(answer.encoding.empty());
    }
  }
  CHECK(raw_get(server, "/api/system/ping", "gzip").body == "pong");
}

TEST_CASE("The request log records each response's bytes as sent, compressed or not") {
  FakeServer server(compressing());
  const RawAnswer plain = raw_get(server, "/api/system/info", "");
  const RawAnswer gzip = raw_get(server, "/api/system/info", "gzip");
  const auto log = server.requests_to("/api/system/info");
  REQUIRE(log.size() == 2);
  CHECK(log[0].response_bytes == plain.body.size());
  CHECK_FALSE(log[0].response_compressed);
  CHECK(log[1].response_bytes == gzip.body.size());
  CHECK(log[1].response_compressed);
}

// ---- Date ------------------------------------------------------------------------------------
// Tomcat dates every answer (RFC 9110 §6.6.1), and so does nginx in front of it; the watcher reads
// the server's time from it (detail/pacing.hpp). The emulator dates by its own clock.

TEST_CASE("Every answer carries a Date header on the emulated clock, whatever its status") {
  FakeServerOptions options;
  options.start_time = std::chrono::system_clock::from_time_t(1747735920);  // 2025-05-20T10:12:00Z
  FakeServer server(options);
  auto client = client_of(server);
  client->set_basic_auth("admin", "district");
  const auto info = client->Get("/api/system/info", xhr());
  REQUIRE(info);
  CHECK(info->status == 200);
  CHECK(info->get_header_value("Date") == "Tue, 20 May 2025 10:12:00 GMT");
  server.advance(std::chrono::milliseconds(90500));
  const auto missing = client->Get("/api/no/such/thing", xhr());
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->get_header_value("Date") == "Tue, 20 May 2025 10:13:30 GMT");
  auto anonymous = client_of(server);
  const auto refused = anonymous->Get("/api/system/info", xhr());
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(refused->get_header_value("Date") == "Tue, 20 May 2025 10:13:30 GMT");
}
