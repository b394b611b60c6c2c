// The emulator's fault injection and request log, observed as a client observes them: over HTTP,
// with httplib::Client. Every Fault kind on a route (dropped connections, proxy status pages, 429
// with Retry-After, delays, truncated and malformed JSON, HTML login pages, redirects), how rules
// match (method, '*' globs, context path, bursts, times = -1, order, clear_faults), that faults
// come before authentication, and what FakeServer::requests() records (redacted credentials,
// connection ids for keep-alive and non-keep-alive clients).
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <clocale>
#include <cstddef>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::FaultRule;
using dhis2::testing::RecordedRequest;
using Clock = std::chrono::steady_clock;

const char* const kInfo = "/api/system/info";

// What a well-behaved DHIS2 client sends: Basic admin:district and the XHR header.
httplib::Headers admin_headers() {
  return {{"Authorization", "Basic YWRtaW46ZGlzdHJpY3Q="}, {"X-Requested-With", "XMLHttpRequest"}};
}

// A client for `server` that never follows redirects, with generous timeouts unless told otherwise.
void configure(httplib::Client& client, bool keep_alive = true) {
  client.set_keep_alive(keep_alive);
  client.set_follow_location(false);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The body of a request that no fault touches, for comparing a damaged body against.
std::string clean_body(FakeServer& server, const std::string& path) {
  httplib::Client client(server.origin());
  configure(client, false);
  auto res = client.Get(path.c_str(), admin_headers());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

// A fresh directory under /tmp, removed with everything in it at scope exit.
using test_support::TempDir;

// An HTTPS emulator with fresh test certificates, and a client that trusts their CA.
struct TlsSetup {
  TempDir dir;
  dhis2::testing::TestCertificates certs = dhis2::testing::make_test_certificates(dir.path);
  FakeServer server{[this] {
    FakeServerOptions options;
    options.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
    return options;
  }()};
  httplib::Client client{server.origin()};
  TlsSetup() {
    configure(client);
    client.set_ca_cert_path(certs.ca_cert_path.c_str());
    client.enable_server_certificate_verification(true);
  }
};

// Every piece of text a record holds.
std::vector<std::string> all_text(const RecordedRequest& r) {
  std::vector<std::string> out = {r.method, r.path, r.query, r.body};
  for (const auto& h : r.headers) {
    out.push_back(h.first);
    out.push_back(h.second);
  }
  return out;
}

bool record_mentions(const RecordedRequest& r, const std::string& secret) {
  for (const auto& text : all_text(r)) {
    if (contains(text, secret)) return true;
  }
  return false;
}

// Parses "Sun, 06 Nov 1994 08:49:37 GMT"; empty when it is not in that form.
std::optional<std::time_t> parse_imf_fixdate(const std::string& text) {
  static const std::regex form(
      R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$)");
  std::smatch m;
  if (!std::regex_match(text, m, form)) return std::nullopt;
  static const std::string months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::tm tm{};
  tm.tm_mday = std::stoi(m[2]);
  tm.tm_mon = static_cast<int>(months.find(m[3].str()) / 3);
  tm.tm_year = std::stoi(m[4]) - 1900;
  tm.tm_hour = std::stoi(m[5]);
  tm.tm_min = std::stoi(m[6]);
  tm.tm_sec = std::stoi(m[7]);
  const std::time_t t = timegm(&tm);
  // The weekday must be the right one for the date.
  std::tm check{};
  gmtime_r(&t, &check);
  static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (m[1].str() != days[check.tm_wday]) return std::nullopt;
  return t;
}

}  // namespace

// ---- dropped connections ----------------------------------------------------------------------

TEST_CASE("drop_before_response: the client gets no response at all, and the next request on a new connection succeeds",
          "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::drop_before_response());
  httplib::Client client(server.origin());
  configure(client);

  const auto start = Clock::now();
  auto dropped = client.Get(kInfo, admin_headers());
  CHECK_FALSE(dropped);
  CHECK(dropped.error() != httplib::Error::Success);
  CHECK(since(start) < 2s);  // a hang-up, not a read timeout

  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(nlohmann::json::parse(next->body).at("version") == "2.42.1");

  const auto log = server.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].connection == 1);
  CHECK(log[1].connection == 2);
  CHECK(server.connection_count() == 2);
}

TEST_CASE("drop_before_response on a reused keep-alive connection: the request fails, the client reconnects",
          "[emulator][faults]") {
  FakeServer server;
  httplib::Client client(server.origin());
  configure(client);
  REQUIRE(client.Get(kInfo, admin_headers()));
  server.inject("GET", kInfo, Fault::drop_before_response());

  CHECK_FALSE(client.Get(kInfo, admin_headers()));
  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);

  const auto log = server.requests();
  REQUIRE(log.size() == 3);
  CHECK(log[0].connection == 1);
  CHECK(log[1].connection == 1);  // the drop hit the established connection
  CHECK(log[2].connection == 2);
}

TEST_CASE("drop_mid_response: the headers arrive, the body is cut short of its Content-Length", "[emulator][faults]") {
  FakeServer server;
  const std::string full = clean_body(server, kInfo);
  server.inject("GET", kInfo, Fault::drop_mid_response());
  httplib::Client client(server.origin());
  configure(client);

  int status = 0;
  std::string content_type;
  std::size_t content_length = 0;
  std::string received;
  const auto start = Clock::now();
  auto res = client.Get(
      kInfo, admin_headers(),
      [&](const httplib::Response& r) {
        status = r.status;
        content_type = r.get_header_value("Content-Type");
        const std::string length = r.get_header_value("Content-Length");
        content_length = length.empty() ? 0 : static_cast<std::size_t>(std::stoul(length));
        return true;
      },
      [&](const char* data, std::size_t length) {
        received.append(data, length);
        return true;
      });
  CHECK(since(start) < 2s);

  // The client saw the status line and headers of the real response...
  CHECK(status == 200);
  CHECK(starts_with(content_type, "application/json"));
  CHECK(content_length == full.size());
  // ...then part of the body, and then the connection closed.
  CHECK_FALSE(received.empty());
  CHECK(received.size() < content_length);
  CHECK(starts_with(full, received));
  CHECK_FALSE(res);  // httplib reports the short read as an error

  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(next->body == full);
}

TEST_CASE("drop_before_response over HTTPS: no response, then a new TLS connection succeeds", "[emulator][faults]") {
  TlsSetup tls;
  REQUIRE(starts_with(tls.server.origin(), "https://"));
  tls.server.inject("GET", kInfo, Fault::drop_before_response());

  const auto start = Clock::now();
  CHECK_FALSE(tls.client.Get(kInfo, admin_headers()));
  CHECK(since(start) < 2s);
  auto next = tls.client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  const auto log = tls.server.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].connection != log[1].connection);
}

TEST_CASE("drop_mid_response over HTTPS: the body is cut short and the client reports an error", "[emulator][faults]") {
  TlsSetup tls;
  tls.server.inject("GET", kInfo, Fault::drop_mid_response());

  std::size_t content_length = 0;
  std::string received;
  auto res = tls.client.Get(
      kInfo, admin_headers(),
      [&](const httplib::Response& r) {
        const std::string length = r.get_header_value("Content-Length");
        content_length = length.empty() ? 0 : static_cast<std::size_t>(std::stoul(length));
        return true;
      },
      [&](const char* data, std::size_t length) {
        received.append(data, length);
        return true;
      });
  CHECK_FALSE(res);
  CHECK(content_length > 0);
  CHECK(received.size() < content_length);

  auto next = tls.client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(next->body.size() == content_length);
}

// ---- proxy status pages -----------------------------------------------------------------------

TEST_CASE("A burst of 502/503/504 proxy pages fails exactly `times` requests, then service resumes",
          "[emulator][faults]") {
  const int status = GENERATE(502, 503, 504);
  const char* reason = status == 502 ? "Bad Gateway" : status == 503 ? "Service Unavailable" : "Gateway Timeout";
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(status), 3);
  httplib::Client client(server.origin());
  configure(client);

  for (int i = 0; i < 3; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    CHECK(res->status == status);
    CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
    CHECK(contains(res->body, "<html>"));
    CHECK(contains(res->body, std::to_string(status) + " " + reason));
    CHECK_FALSE(nlohmann::json::accept(res->body));
    CHECK_FALSE(res->has_header("Retry-After"));
  }
  for (int i = 0; i < 2; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(nlohmann::json::parse(res->body).at("version") == "2.42.1");
  }
  CHECK(server.requests().size() == 5);
}

TEST_CASE("A burst is exact under concurrent requests", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(503), 10);
  std::atomic<int> failed{0}, succeeded{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      httplib::Client client(server.origin());
      configure(client);
      for (int i = 0; i < 5; ++i) {
        auto res = client.Get(kInfo, admin_headers());
        if (res && res->status == 503) {
          ++failed;
        } else if (res && res->status == 200) {
          ++succeeded;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failed == 10);
  CHECK(succeeded == 20);
  CHECK(other == 0);
}

TEST_CASE("A status page can carry Retry-After (503 from a load balancer)", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(503).with_retry_after("30"));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(res->get_header_value("Retry-After") == "30");
}

TEST_CASE("429 Too Many Requests with Retry-After in seconds", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::too_many_requests(std::chrono::seconds(120)));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 429);
  CHECK(res->get_header_value("Retry-After") == "120");
  CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
  CHECK(contains(res->body, "429 Too Many Requests"));

  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK_FALSE(next->has_header("Retry-After"));
}

TEST_CASE("429 Too Many Requests with Retry-After as an HTTP date (IMF-fixdate)", "[emulator][faults]") {
  FakeServer server;
  const auto when = std::chrono::system_clock::now() + std::chrono::seconds(90);
  server.inject("GET", kInfo, Fault::too_many_requests_until(when));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 429);
  const std::string value = res->get_header_value("Retry-After");
  INFO("Retry-After: " << value);
  const auto parsed = parse_imf_fixdate(value);
  REQUIRE(parsed);
  CHECK(*parsed == std::chrono::system_clock::to_time_t(when));
}

TEST_CASE("Fault::http_date formats the RFC 9110 example date exactly", "[emulator][faults]") {
  const auto when = std::chrono::system_clock::from_time_t(784111777);
  CHECK(Fault::http_date(when) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(Fault::http_date(std::chrono::system_clock::from_time_t(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(Fault::http_date(std::chrono::system_clock::from_time_t(951782400)) == "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST_CASE("Fault::http_date does not depend on the C locale", "[emulator][faults]") {
  // Only meaningful where a non-English locale is installed (or found through LOCPATH).
  const char* const candidates[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
  const std::string previous = std::setlocale(LC_TIME, nullptr);
  const char* switched = nullptr;
  for (const char* name : candidates) {
    if ((switched = std::setlocale(LC_TIME, name)) != nullptr) break;
  }
  if (switched == nullptr) {
    WARN("no de_DE or fr_FR locale installed: skipped");
    return;
  }
  const std::string locale = switched;
  const std::string formatted = Fault::http_date(std::chrono::system_clock::from_time_t(784111777));
  std::setlocale(LC_TIME, previous.c_str());
  INFO("LC_TIME " << locale);
  CHECK(formatted == "Sun, 06 Nov 1994 08:49:37 GMT");
}

// ---- delays -----------------------------------------------------------------------------------

TEST_CASE("delay_by delivers the real response after the delay", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::delay_by(200ms));
  httplib::Client client(server.origin());
  configure(client);

  const auto start = Clock::now();
  auto res = client.Get(kInfo, admin_headers());
  const auto elapsed = since(start);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(nlohmann::json::parse(res->body).at("version") == "2.42.1");
  CHECK(elapsed >= 200ms);

  const auto again = Clock::now();
  REQUIRE(client.Get(kInfo, admin_headers()));
  CHECK(since(again) < 200ms);  // the delay was a burst of one
}

TEST_CASE("delay_by longer than the client's read timeout: the client times out", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::delay_by(300ms));
  httplib::Client client(server.origin());
  configure(client);
  client.set_read_timeout(0, 100 * 1000);

  const auto start = Clock::now();
  auto res = client.Get(kInfo, admin_headers());
  const auto elapsed = since(start);
  CHECK_FALSE(res);
  CHECK(res.error() == httplib::Error::Read);
  CHECK(elapsed >= 90ms);
  CHECK(elapsed < 300ms);  // gave up before the server answered

  client.set_read_timeout(5, 0);
  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("Destroying the server while a response is delayed is prompt, and the client sees an error",
          "[emulator][faults]") {
  auto server = std::make_unique<FakeServer>();
  // The delay is never waited out: the server goes away first.
  server->inject("GET", kInfo, Fault::delay_by(20s));
  const std::string origin = server->origin();

  std::atomic<bool> done{false};
  bool got_response = true;
  std::thread requester([&] {
    httplib::Client client(origin);
    configure(client);
    client.set_read_timeout(30, 0);
    got_response = static_cast<bool>(client.Get(kInfo, admin_headers()));
    done = true;
  });
  const auto wait_start = Clock::now();
  while (server->requests().empty() && since(wait_start) < 5s) std::this_thread::sleep_for(5ms);
  REQUIRE(server->requests().size() == 1);

  const auto start = Clock::now();
  server.reset();
  CHECK(since(start) < 3s);
  while (!done && since(start) < 10s) std::this_thread::sleep_for(5ms);
  CHECK(done);
  requester.join();
  CHECK(since(start) < 5s);
  CHECK_FALSE(got_response);
}

// ---- damaged and unexpected bodies -------------------------------------------------------------

TEST_CASE("truncated_json: a complete HTTP response whose body is a prefix of the real JSON", "[emulator][faults]") {
  FakeServer server;
  const std::string full = clean_body(server, kInfo);
  server.inject("GET", kInfo, Fault::truncated_json());
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);  // valid HTTP: no transport error
  CHECK(res->status == 200);
  CHECK(starts_with(res->get_header_value("Content-Type"), "application/json"));
  CHECK(res->get_header_value("Content-Length") == std::to_string(res->body.size()));
  CHECK_FALSE(res->body.empty());
  CHECK(res->body.size() < full.size());
  CHECK(starts_with(full, res->body));
  CHECK_FALSE(nlohmann::json::accept(res->body));
  CHECK_THROWS_AS(nlohmann::json::parse(res->body), nlohmann::json::parse_error);

  // The connection survives: the next request on it gets the whole body.
  auto next = client.Get(kInfo, admin_headers());
  REQUIRE(next);
  CHECK(next->body == full);
  CHECK(server.connection_count() == 2);  // clean_body's connection and this client's one
}

TEST_CASE("malformed_json: 200 with a JSON content type and a body that does not parse", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::malformed_json());
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(starts_with(res->get_header_value("Content-Type"), "application/json"));
  CHECK_FALSE(res->body.empty());
  CHECK_FALSE(nlohmann::json::accept(res->body));
}

TEST_CASE("html_page: 200 text/html with a login page instead of JSON", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::html_page());
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
  CHECK(contains(res->body, "<html>"));
  CHECK(contains(res->body, "<form"));
  CHECK(contains(res->body, "password"));
  CHECK_FALSE(nlohmann::json::accept(res->body));
}

TEST_CASE("html_page with a status sends the page with that status", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::html_page(401));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 401);
  CHECK(starts_with(res->get_header_value("Content-Type"), "text/html"));
  CHECK(contains(res->body, "<form"));
}

TEST_CASE("redirect: 302 with a Location on another origin, which the client is free not to follow",
          "[emulator][faults]") {
  FakeServer server;
  const std::string sso = "https://sso.example.org/auth/realms/dhis2/login?service=x";
  server.inject("GET", kInfo, Fault::redirect(sso));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 302);
  CHECK(res->get_header_value("Location") == sso);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("redirect with another 3xx status sends that status", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::redirect("https://other.example.org/dhis/api/system/info", 307));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 307);
  CHECK(res->get_header_value("Location") == "https://other.example.org/dhis/api/system/info");
}

TEST_CASE("Fault factories reject values that make no sense with UsageError", "[emulator][faults]") {
  CHECK_THROWS_AS(Fault::status_page(200), dhis2::UsageError);
  CHECK_THROWS_AS(Fault::status_page(302), dhis2::UsageError);
  CHECK_THROWS_AS(Fault::status_page(600), dhis2::UsageError);
  CHECK_THROWS_AS(Fault::redirect("https://x.example.org/", 200), dhis2::UsageError);
  CHECK_THROWS_AS(Fault::redirect("https://x.example.org/", 404), dhis2::UsageError);
  CHECK_THROWS_AS(Fault::delay_by(-1ms), dhis2::UsageError);
  CHECK_NOTHROW(Fault::status_page(429));
  CHECK_NOTHROW(Fault::delay_by(0ms));
}

// ---- how rules match --------------------------------------------------------------------------

TEST_CASE("times = -1: the fault hits every request until clear_faults()", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(503), -1);
  httplib::Client client(server.origin());
  configure(client);

  for (int i = 0; i < 25; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    CHECK(res->status == 503);
  }
  server.clear_faults();
  auto res = client.Get(kInfo, admin_headers());
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("clear_faults() removes the rest of a burst and keeps the request log", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(502), 5);
  httplib::Client client(server.origin());
  configure(client);

  auto first = client.Get(kInfo, admin_headers());
  REQUIRE(first);
  CHECK(first->status == 502);
  server.clear_faults();
  auto second = client.Get(kInfo, admin_headers());
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("A method filter limits the fault to that method", "[emulator][faults]") {
  FakeServer server;
  server.inject("POST", "/api/*", Fault::status_page(503), -1);
  httplib::Client client(server.origin());
  configure(client);

  auto get = client.Get(kInfo, admin_headers());
  REQUIRE(get);
  CHECK(get->status == 200);
  auto post = client.Post("/api/resourceTables/analytics", admin_headers(), "", "application/json");
  REQUIRE(post);
  CHECK(post->status == 503);
  auto get_again = client.Get("/api/me", admin_headers());
  REQUIRE(get_again);
  CHECK(get_again->status == 200);
}

TEST_CASE("An empty method matches every method", "[emulator][faults]") {
  FakeServer server;
  server.inject("", "/api/*", Fault::status_page(502), -1);
  httplib::Client client(server.origin());
  configure(client);

  auto get = client.Get(kInfo, admin_headers());
  REQUIRE(get);
  CHECK(get->status == 502);
  auto post = client.Post("/api/resourceTables/analytics", admin_headers(), "", "application/json");
  REQUIRE(post);
  CHECK(post->status == 502);
  auto del = client.Delete("/api/system/tasks", admin_headers());
  REQUIRE(del);
  CHECK(del->status == 502);
}

TEST_CASE("A '*' in the path pattern matches any run of characters, '/' included; the rest must match exactly",
          "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", "/api/system/tasks/*", Fault::status_page(502), -1);
  httplib::Client client(server.origin());
  configure(client);
  const auto status_of = [&](const char* path) {
    auto res = client.Get(path, admin_headers());
    REQUIRE(res);
    return res->status;
  };

  CHECK(status_of("/api/system/tasks/ANALYTICS_TABLE") == 502);
  CHECK(status_of("/api/system/tasks/ANALYTICS_TABLE/xK9aB3cD4eF") == 502);
  CHECK(status_of("/api/system/tasks/ANALYTICS_TABLE/xK9aB3cD4eF?gist=false") == 502);
  CHECK(status_of("/api/system/tasks") == 200);  // no '/' after tasks: the pattern does not match
  CHECK(status_of("/api/system/taskSummaries/ANALYTICS_TABLE") == 200);
  CHECK(status_of(kInfo) == 200);
}

TEST_CASE("A pattern without '*' matches the whole path, not a prefix, and ignores the query", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", "/api/system", Fault::status_page(502), -1);
  server.inject("GET", "/api/me", Fault::status_page(503), -1);
  httplib::Client client(server.origin());
  configure(client);

  auto info = client.Get(kInfo, admin_headers());
  REQUIRE(info);
  CHECK(info->status == 200);
  auto me = client.Get("/api/me?fields=id,name", admin_headers());
  REQUIRE(me);
  CHECK(me->status == 503);
}

TEST_CASE("Patterns match the path after the context path", "[emulator][faults]") {
  FakeServerOptions options;
  options.context_path = "/dhis";
  FakeServer server(options);
  server.inject("GET", kInfo, Fault::status_page(504));
  httplib::Client client(server.origin());
  configure(client);

  auto res = client.Get("/dhis/api/system/info", admin_headers());
  REQUIRE(res);
  CHECK(res->status == 504);
  auto next = client.Get("/dhis/api/system/info", admin_headers());
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(nlohmann::json::parse(next->body).at("contextPath") == server.url());
}

TEST_CASE("Rules apply in the order injected; an exhausted burst gives way to the next rule", "[emulator][faults]") {
  FakeServer server;
  server.inject(FaultRule{"GET", kInfo, Fault::status_page(502), 1});
  server.inject(FaultRule{"GET", "/api/*", Fault::status_page(503), 2});
  httplib::Client client(server.origin());
  configure(client);

  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    statuses.push_back(res->status);
  }
  CHECK(statuses == std::vector<int>{502, 503, 503, 200});
}

TEST_CASE("Faults apply before authentication: a proxy page reaches a client without credentials", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::status_page(502), 2);
  httplib::Client client(server.origin());
  configure(client);

  // No credentials and no XHR header: DHIS2 itself would answer 302 to the login page.
  auto anonymous = client.Get(kInfo);
  REQUIRE(anonymous);
  CHECK(anonymous->status == 502);
  CHECK(contains(anonymous->body, "502 Bad Gateway"));
  CHECK_FALSE(anonymous->has_header("Location"));
  // Wrong credentials: DHIS2 would answer 401.
  auto wrong = client.Get(kInfo, {{"Authorization", "Basic YWRtaW46d3Jvbmc="}, {"X-Requested-With", "XMLHttpRequest"}});
  REQUIRE(wrong);
  CHECK(wrong->status == 502);
  // Once the burst is over, authentication applies again.
  auto after = client.Get(kInfo);
  REQUIRE(after);
  CHECK(after->status == 302);
}

TEST_CASE("glob_match edge cases", "[emulator][faults]") {
  using dhis2::testing::glob_match;
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "/"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "/api/system/tasks/A/b"));
  CHECK(glob_match("**", "abc"));
  CHECK(glob_match("/api/*", "/api/"));
  CHECK_FALSE(glob_match("/api/*", "/api"));
  CHECK(glob_match("/api/*/info", "/api/system/info"));
  CHECK(glob_match("/api/*/info", "/api/a/b/info"));
  CHECK_FALSE(glob_match("/api/*/info", "/api/system/info/x"));
  CHECK(glob_match("*info", "/api/system/info"));
  CHECK(glob_match("a*b*c", "aXbYc"));
  CHECK(glob_match("a*b*c", "abc"));
  CHECK_FALSE(glob_match("a*b*c", "acb"));
  CHECK(glob_match("*ab", "aab"));  // backtracking after a false start
  CHECK(glob_match("*aab", "aaab"));
  CHECK(glob_match("a*", "a"));
  CHECK_FALSE(glob_match("abc", "ab"));
  CHECK_FALSE(glob_match("ab", "abc"));
  CHECK_FALSE(glob_match("/API/me", "/api/me"));  // case-sensitive
  CHECK(glob_match("/api/?x", "/api/?x"));        // '?' and '[' are plain characters
  CHECK_FALSE(glob_match("/api/?x", "/api/ax"));
  CHECK(glob_match("/a[1]", "/a[1]"));
  CHECK_FALSE(glob_match("/a[1]", "/a1"));
}

// ---- the request log ----------------------------------------------------------------------------

TEST_CASE("requests() records method, path with the context path, raw query, body and headers", "[emulator][faults]") {
  FakeServerOptions options;
  options.context_path = "/dhis";
  FakeServer server(options);
  httplib::Client client(server.origin());
  configure(client);

  client.set_url_encode(false);  // send the target exactly as written
  auto headers = admin_headers();
  headers.emplace("X-Trace", "abc-123");
  REQUIRE(client.Get("/dhis/api/system/info?fields=version,revision&filter=name:like:a%20b", headers));
  const std::string body = R"({"dataValues":[{"dataElement":"f7n9E0hX8qk","value":"5"}]})";
  REQUIRE(client.Post("/dhis/api/dataValueSets?async=true", headers, body, "application/json"));

  const auto log = server.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].method == "GET");
  CHECK(log[0].path == "/dhis/api/system/info");
  CHECK(log[0].query == "fields=version,revision&filter=name:like:a%20b");
  CHECK(log[0].body.empty());
  CHECK(log[0].header("x-trace") == "abc-123");
  CHECK(log[0].header("X-REQUESTED-WITH") == "XMLHttpRequest");
  CHECK(log[0].header("No-Such-Header").empty());
  CHECK(log[1].method == "POST");
  CHECK(log[1].path == "/dhis/api/dataValueSets");
  CHECK(log[1].query == "async=true");
  CHECK(log[1].body == body);
  CHECK(starts_with(log[1].header("Content-Type"), "application/json"));
}

TEST_CASE("requests_to() filters by a pattern after the context path and by method", "[emulator][faults]") {
  FakeServerOptions options;
  options.context_path = "/dhis";
  FakeServer server(options);
  httplib::Client client(server.origin());
  configure(client);

  REQUIRE(client.Get("/dhis/api/system/info", admin_headers()));
  REQUIRE(client.Get("/dhis/api/system/tasks/ANALYTICS_TABLE", admin_headers()));
  REQUIRE(client.Post("/dhis/api/resourceTables/analytics", admin_headers(), "", "application/json"));
  REQUIRE(client.Get("/dhis/api/me", admin_headers()));

  CHECK(server.requests_to("/api/system/*").size() == 2);
  CHECK(server.requests_to("/api/*").size() == 4);
  CHECK(server.requests_to("/api/*", "POST").size() == 1);
  CHECK(server.requests_to("/api/*", "GET").size() == 3);
  CHECK(server.requests_to("/dhis/api/*").empty());
  const auto me = server.requests_to("/api/me", "GET");
  REQUIRE(me.size() == 1);
  CHECK(me[0].path == "/dhis/api/me");

  server.clear_requests();
  CHECK(server.requests().empty());
  CHECK(server.requests_to("/api/*").empty());
}

TEST_CASE("Requests that a fault hit are recorded too", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::drop_before_response());
  server.inject("GET", "/api/me", Fault::status_page(502));
  httplib::Client client(server.origin());
  configure(client);

  CHECK_FALSE(client.Get(kInfo, admin_headers()));
  REQUIRE(client.Get("/api/me", admin_headers()));
  CHECK(server.requests_to(kInfo).size() == 1);
  CHECK(server.requests_to("/api/me").size() == 1);
}

TEST_CASE("The request log redacts Authorization to its scheme and Cookie entirely", "[emulator][faults]") {
  const std::string token = *dhis2::make_pat(dhis2::PatFormat::V2, "abcdefghijABCDEFGHIJ0123456789klmnopqrstKLMN");
  FakeServerOptions options;
  options.tokens = {dhis2::testing::IssuedToken{token, "admin"}};
  options.bearer_tokens = {dhis2::testing::IssuedToken{"eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWp3dA.c2ln", "admin"}};
  FakeServer server(options);
  httplib::Client client(server.origin());
  configure(client);

  auto basic = client.Get("/api/me", admin_headers());
  REQUIRE(basic);
  CHECK(basic->status == 200);
  auto pat = client.Get("/api/me", {{"Authorization", "ApiToken " + token}, {"X-Requested-With", "XMLHttpRequest"}});
  REQUIRE(pat);
  CHECK(pat->status == 200);
  auto bearer = client.Get("/api/me", {{"authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWp3dA.c2ln"},
                                       {"X-Requested-With", "XMLHttpRequest"}});
  REQUIRE(bearer);
  CHECK(bearer->status == 200);
  auto cookie = client.Get("/api/me", {{"Cookie", "JSESSIONID=0F1E2D3C4B5A69788796A5B4C3D2E1F0; SESSION=s3cr3t"},
                                       {"X-Requested-With", "XMLHttpRequest"}});
  REQUIRE(cookie);
  auto odd = client.Get("/api/me", {{"Authorization", "d2p_no_scheme_at_all"}, {"X-Requested-With", "XMLHttpRequest"}});
  REQUIRE(odd);

  const auto log = server.requests();
  REQUIRE(log.size() == 5);
  CHECK(log[0].header("Authorization") == "Basic [redacted]");
  CHECK(log[1].header("Authorization") == "ApiToken [redacted]");
  CHECK(log[2].header("Authorization") == "Bearer [redacted]");
  CHECK(log[3].header("Cookie") == "[redacted]");
  CHECK(log[4].header("Authorization") == "[redacted]");

  const std::vector<std::string> secrets = {"YWRtaW46ZGlzdHJpY3Q",
                                            "district",
                                            token,
                                            "abcdefghijABCDEFGHIJ0123456789klmnopqrstKLMN",
                                            "eyJhbGciOiJSUzI1NiJ9",
                                            "c2VjcmV0LWp3dA",
                                            "0F1E2D3C4B5A",
                                            "JSESSIONID",
                                            "s3cr3t",
                                            "no_scheme_at_all"};
  for (const auto& record : log) {
    for (const auto& secret : secrets) {
      INFO("request " << record.method << " " << record.path << ", secret " << secret);
      CHECK_FALSE(record_mentions(record, secret));
    }
  }
}

TEST_CASE("A keep-alive client making 100 sequential requests uses one connection", "[emulator][faults]") {
  FakeServer server;
  httplib::Client client(server.origin());
  configure(client, true);

  for (int i = 0; i < 100; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
  CHECK(server.connection_count() == 1);
  const auto log = server.requests();
  REQUIRE(log.size() == 100);
  for (const auto& record : log) CHECK(record.connection == 1);
}

TEST_CASE("A client with keep-alive off opens a new connection per request", "[emulator][faults]") {
  FakeServer server;
  httplib::Client client(server.origin());
  configure(client, false);

  for (int i = 0; i < 10; ++i) {
    auto res = client.Get(kInfo, admin_headers());
    REQUIRE(res);
    REQUIRE(res->status == 200);
  }
  CHECK(server.connection_count() == 10);
  const auto log = server.requests();
  REQUIRE(log.size() == 10);
  for (std::size_t i = 0; i < log.size(); ++i) CHECK(log[i].connection == static_cast<int>(i) + 1);
}

TEST_CASE("Two keep-alive clients get two connection ids", "[emulator][faults]") {
  FakeServer server;
  httplib::Client first(server.origin());
  httplib::Client second(server.origin());
  configure(first, true);
  configure(second, true);

  for (int i = 0; i < 3; ++i) {
    REQUIRE(first.Get(kInfo, admin_headers()));
    REQUIRE(second.Get("/api/me", admin_headers()));
  }
  CHECK(server.connection_count() == 2);
  for (const auto& r : server.requests_to(kInfo)) CHECK(r.connection == 1);
  for (const auto& r : server.requests_to("/api/me")) CHECK(r.connection == 2);
}

// ---- a restart -------------------------------------------------------------------------------

namespace {

nlohmann::json get_json(httplib::Client& client, const std::string& path) {
  auto res = client.Get(path.c_str(), admin_headers());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return nlohmann::json::parse(res->body);
}

dhis2::testing::JobScript three_stages() {
  return dhis2::testing::JobScript()
      .start("Resource table update")
      .stage("Organisation units", 1s)
      .stage("Categories", 1s)
      .stage("Periods", 1h)
      .complete("Resource tables generated", 1s);
}

}  // namespace

TEST_CASE("take_down(): the port refuses connections; bring_up(): the same port answers again", "[emulator][faults]") {
  FakeServer server;
  httplib::Client client(server.origin());
  configure(client);
  REQUIRE(client.Get(kInfo, admin_headers()));
  server.take_down();
  CHECK(server.is_down());
  auto refused = client.Get(kInfo, admin_headers());
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == httplib::Error::Connection);
  server.take_down();  // idempotent
  server.bring_up();
  CHECK_FALSE(server.is_down());
  auto back = client.Get(kInfo, admin_headers());
  REQUIRE(back);
  CHECK(back->status == 200);
  // The connection open before the restart was closed by it: a new one served the last request.
  CHECK(server.requests().back().connection > server.requests().front().connection);
  server.bring_up();  // idempotent
  CHECK(client.Get(kInfo, admin_headers()));
}

TEST_CASE(
    "A restart loses every notification and summary; a running job dies and is marked FAILED 10 minutes later "
    "(2.42)",
    "[emulator][faults]") {
  FakeServerOptions options;
  options.version = "2.42.1";
  FakeServer server(options);
  const std::string running = server.start_job("RESOURCE_TABLE", three_stages());
  const std::string done = server.start_job(
      "DATA_INTEGRITY", dhis2::testing::JobScript().start("Data integrity checks").complete("Done", 1s));
  server.advance(23s);  // past the scheduler's tick: both started, the integrity check ended
  httplib::Client client(server.origin());
  configure(client);
  const std::string feed = "/api/system/tasks/RESOURCE_TABLE/" + running;
  REQUIRE(get_json(client, feed).size() == 3);
  REQUIRE(server.job(done)->last_executed_status == "COMPLETED");

  server.restart();
  CHECK(get_json(client, feed) == nlohmann::json::array());
  CHECK(get_json(client, "/api/system/tasks/DATA_INTEGRITY/" + done) == nlohmann::json::array());
  CHECK(get_json(client, "/api/system/tasks/RESOURCE_TABLE") == nlohmann::json::object());
  // The job rows are in the database: the finished one as it was, the running one still RUNNING
  // with the heartbeat it had when the server went down, no further rows.
  const auto row = get_json(client, "/api/jobConfigurations/" + running);
  CHECK(row.at("jobStatus") == "RUNNING");
  CHECK(server.job(done)->last_executed_status == "COMPLETED");
  server.advance(9min);
  CHECK(get_json(client, feed) == nlohmann::json::array());
  CHECK(server.job(running)->job_status == "RUNNING");
  server.advance(61s);
  CHECK(server.job(running)->last_executed_status == "FAILED");
  CHECK(get_json(client, feed) == nlohmann::json::array());
}

TEST_CASE("A restart forgets the API-started jobs of 2.40, which live in memory only", "[emulator][faults]") {
  FakeServerOptions options;
  options.version = "2.40.8";
  FakeServer server(options);
  const std::string uid = server.start_job("RESOURCE_TABLE", three_stages());
  server.advance(3s);
  httplib::Client client(server.origin());
  configure(client);
  REQUIRE(get_json(client, "/api/system/tasks/RESOURCE_TABLE/" + uid).size() == 3);
  REQUIRE(server.job(uid));
  server.restart();
  CHECK(get_json(client, "/api/system/tasks/RESOURCE_TABLE/" + uid) == nlohmann::json::array());
  CHECK_FALSE(server.job(uid));
  server.advance(2h);  // the forgotten job writes nothing more
  CHECK(get_json(client, "/api/system/tasks/RESOURCE_TABLE/" + uid) == nlohmann::json::array());
}

TEST_CASE("take_down() waits for the requests in flight; a delayed answer is never sent", "[emulator][faults]") {
  FakeServer server;
  server.inject("GET", kInfo, Fault::delay_by(20s));
  const std::string origin = server.origin();
  bool got_response = true;
  std::thread requester([&] {
    httplib::Client client(origin);
    configure(client);
    client.set_read_timeout(30, 0);
    got_response = static_cast<bool>(client.Get(kInfo, admin_headers()));
  });
  const auto wait_start = Clock::now();
  while (server.requests().empty() && since(wait_start) < 5s) std::this_thread::sleep_for(5ms);
  REQUIRE(server.requests().size() == 1);
  const auto start = Clock::now();
  server.take_down();
  requester.join();
  CHECK(since(start) < 10s);  // not the 20 s delay
  CHECK_FALSE(got_response);
  server.bring_up();
  httplib::Client client(origin);
  configure(client);
  CHECK(client.Get("/api/me", admin_headers()));
}
