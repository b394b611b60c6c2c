// dhis2::Client's life cycle as a user sees it (docs/client.md, "Lifecycle" and "Authentication";
// DESIGN.md §2 and §4): base URL validation, the states Unconnected → Connecting → Connected →
// Closed, close() from another thread, the handshake (the unauthenticated probe, redirects and
// which of them are adopted, where credentials travel), the version checks, token and password
// mistakes, and the validation of ClientOptions. Every test talks to the emulator only.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using dhis2::BasicAuth;
using dhis2::Client;
using dhis2::ClientOptions;
using dhis2::RetryPolicy;
using dhis2::ServerVersion;
using dhis2::TokenAuth;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::IssuedToken;
using dhis2::testing::RecordedRequest;
using State = dhis2::Client::State;
using namespace std::chrono_literals;

const BasicAuth kAdmin{"admin", "district"};

// Short timeouts and quick retries, so that a hang or a retry costs milliseconds.
ClientOptions fast_options() {
  ClientOptions options;
  options.timeout = 5s;
  options.connect_timeout = 2s;
  RetryPolicy retry;
  retry.max_attempts = 2;
  retry.base_delay = 1ms;
  retry.max_delay = 5ms;
  retry.jitter = 0;
  options.retry = retry;
  return options;
}

FakeServerOptions emulating(const std::string& version, const std::string& reported = {}) {
  FakeServerOptions options;
  options.version = version;
  options.reported_version = reported;
  return options;
}

// The message of the E that f() throws; fails the test when it throws nothing.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("the expected exception was not thrown");
  return {};
}

bool has_credentials(const RecordedRequest& r) { return !r.header("Authorization").empty(); }

std::string describe(const std::vector<RecordedRequest>& log) {
  std::string out;
  for (const auto& r : log) {
    out += r.method + " " + r.path + " [" + (has_credentials(r) ? r.header("Authorization") : "no Authorization") + "]\n";
  }
  return out;
}

// How many sockets of this process are connected to `port` as a client (the emulator's own
// accepted sockets have `port` as their local port and are not counted).
// Counts connections, not descriptors: the transport keeps a second descriptor (a dup) of each
// socket, so that a cancel can shut it down without waiting for httplib.
int client_sockets_to(int port) {
  std::set<ino_t> sockets;
  for (const auto& s : dhis2::testing::detail::open_tcp_sockets()) {
    struct stat info {};
    if (s.peer_port == port && s.local_port != port && fstat(s.fd, &info) == 0) sockets.insert(info.st_ino);
  }
  return static_cast<int>(sockets.size());
}

using test_support::TempDir;

using test_support::eventually;

}  // namespace

// ---- base URL validation ----------------------------------------------------------------------

TEST_CASE("A base URL may be http or https with a host, an optional port and a context path") {
  struct Case {
    const char* given;
    const char* canonical;
  };
  const Case cases[] = {
      {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
      {"https://play.dhis2.org", "https://play.dhis2.org"},
      {"https://play.dhis2.org/dev", "https://play.dhis2.org/dev"},
      {"http://localhost:8080/dhis", "http://localhost:8080/dhis"},
      {"https://dhis.example.org:8443/hmis/dhis2", "https://dhis.example.org:8443/hmis/dhis2"},
      {"http://[::1]:8080/dhis", "http://[::1]:8080/dhis"},
      {"http://example.org:80", "http://example.org"},
      {"https://example.org:443/dev", "https://example.org/dev"},
      {"https://play.dhis2.org/apis", "https://play.dhis2.org/apis"},
  };
  for (const auto& c : cases) {
    INFO(c.given);
    Client client(c.given, kAdmin);
    CHECK(client.base_url() == c.canonical);
    CHECK(client.state() == State::Unconnected);
  }
}

TEST_CASE("A trailing slash or a trailing /api in the base URL names the same server") {
  struct Case {
    const char* given;
    const char* canonical;
  };
  const Case cases[] = {
      {"https://play.dhis2.org/dev/", "https://play.dhis2.org/dev"},
      {"https://play.dhis2.org/dev/api", "https://play.dhis2.org/dev"},
      {"https://play.dhis2.org/dev/api/", "https://play.dhis2.org/dev"},
      {"https://play.dhis2.org/dev//", "https://play.dhis2.org/dev"},
      {"http://example.org/", "http://example.org"},
      {"http://example.org/api", "http://example.org"},
      {"http://example.org:8080/api/", "http://example.org:8080"},
      {"https://play.dhis2.org/dev//api", "https://play.dhis2.org/dev"},  // found by fuzz_url: was ".../dev/"
      {"https://play.dhis2.org/s://api", "https://play.dhis2.org/s:"},
  };
  for (const auto& c : cases) {
    INFO(c.given);
    Client client(c.given, kAdmin);
    CHECK(client.base_url() == c.canonical);
  }
}

TEST_CASE("A base URL with another scheme or none is a UsageError") {
  const char* url = GENERATE("ftp://play.dhis2.org/dev", "file:///srv/dhis", "ws://play.dhis2.org", "play.dhis2.org/dev",
                             "play.dhis2.org:8080", "//play.dhis2.org/dev", "");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("scheme"));
  CHECK_THAT(message, Catch::Contains("http(s)://host"));  // says what is expected
}

TEST_CASE("try_parse_url answers without an exception and says why as parse_url would") {
  std::string problem;
  CHECK_FALSE(dhis2::detail::try_parse_url("ftp://play.dhis2.org", "base URL", &problem));
  CHECK(problem == message_of<dhis2::UsageError>([] { dhis2::detail::parse_url("ftp://play.dhis2.org"); }));
  CHECK_FALSE(dhis2::detail::try_parse_url("http://admin:district@play.dhis2.org", "base URL", &problem));
  CHECK_THAT(problem, Catch::Contains("credentials"));
  CHECK_THAT(problem, !Catch::Contains("district"));
  CHECK_FALSE(dhis2::detail::try_parse_url("http://"));  // no problem string asked for
  const auto url = dhis2::detail::try_parse_url("HTTPS://Play.dhis2.org/dev/api/");
  REQUIRE(url);
  CHECK(url->str() == "https://Play.dhis2.org/dev");
}

TEST_CASE("A base URL without a host is a UsageError") {
  const char* url = GENERATE("http://", "https:///dhis", "http://:8080", "http://:8080/dhis", "https://[]:443");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("host"));
}

TEST_CASE("A base URL with a port that is not 1 to 65535 is a UsageError") {
  const char* url = GENERATE("http://localhost:0", "http://localhost:70000", "http://localhost:65536",
                             "http://localhost:x", "http://localhost:80x/dhis", "http://localhost:-1",
                             "http://localhost:", "http://localhost:123456", "http://[::1]:0");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("port"));
}

TEST_CASE("A base URL with a query or a fragment is a UsageError") {
  const char* url = GENERATE("https://play.dhis2.org/dev?x=1", "https://play.dhis2.org?x=1",
                             "https://play.dhis2.org/dev#top", "https://play.dhis2.org#top",
                             "https://play.dhis2.org/dev/?", "https://play.dhis2.org/dev/api?paging=false");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("query") || Catch::Contains("fragment"));
}

TEST_CASE("A base URL containing spaces is a UsageError") {
  const char* url = GENERATE("http://play dhis2.org/dev", "https://play.dhis2.org/my dev", " https://play.dhis2.org/dev",
                             "https://play.dhis2.org/dev ", "https://play.dhis2.org ", "https://play.dhis2.org/dev\n",
                             "https://play.dhis2.org/d\tev");
  INFO("\"" << url << "\"");
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("space"));
}

TEST_CASE("Credentials in the base URL are a UsageError whose message does not repeat them") {
  const char* url = GENERATE("https://admin:Sup3rSecret@play.dhis2.org/dev", "http://admin:Sup3rSecret@127.0.0.1:8080",
                             "https://Sup3rSecret@play.dhis2.org", "https://admin:Sup3rSecret@[::1]:8443/dhis",
                             "ftp://admin:Sup3rSecret@play.dhis2.org", "admin:Sup3rSecret@play.dhis2.org/dev");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, Catch::Contains("credentials"));
  CHECK_THAT(message, !Catch::Contains("Sup3rSecret"));
  CHECK_THAT(message, !Catch::Contains(url));
}

TEST_CASE("A password holding '/', '?' or '#' in the base URL is not repeated in the error either") {
  // Such a URL does not even parse as user:password@host, but its text is still a credential.
  const char* url = GENERATE("https://admin:Sup3r/Secret@play.dhis2.org/dev", "https://admin:Sup3r?Secret@play.dhis2.org",
                             "https://admin:Sup3r#Secret@play.dhis2.org", "https://admin:Sup3r#Secret@play.dhis2.org:x");
  INFO(url);
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(url, kAdmin); });
  CHECK_THAT(message, !Catch::Contains("Sup3r"));
  CHECK_THAT(message, !Catch::Contains("Secret"));
}

// ---- states --------------------------------------------------------------------------------

TEST_CASE("A new Client is Unconnected and has made no request") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  CHECK(client.state() == State::Unconnected);
  CHECK(server.requests().empty());
  CHECK(server.connection_count() == 0);
}

TEST_CASE("connect() runs the handshake and moves the client to Connected") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.connect();
  CHECK(client.state() == State::Connected);
  CHECK(server.requests_to("/api/system/info", "GET").size() == 2);  // the probe, then with credentials
}

TEST_CASE("connect() on a connected client does nothing") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.connect();
  const auto after_first = server.requests().size();
  client.connect();
  client.connect();
  CHECK(client.state() == State::Connected);
  CHECK(server.requests().size() == after_first);
}

TEST_CASE("state() is Connecting while the handshake runs") {
  FakeServer server;
  Client* self = nullptr;
  std::vector<State> seen;
  auto options = fast_options();
  options.on_request = [&](const dhis2::RequestEvent&) { seen.push_back(self->state()); };
  Client client(server.url(), kAdmin, options);
  self = &client;
  client.connect();
  REQUIRE(!seen.empty());
  CHECK(seen.front() == State::Connecting);
  CHECK(client.state() == State::Connected);
}

TEST_CASE("A request on an unconnected client connects first") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  const auto me = client.get_raw("me");
  CHECK(me["username"] == "admin");
  CHECK(client.state() == State::Connected);

  const auto log = server.requests();
  INFO(describe(log));
  REQUIRE(log.size() == 3);
  CHECK(log[0].path == "/api/system/info");
  CHECK_FALSE(has_credentials(log[0]));
  CHECK(log[1].path == "/api/system/info");
  CHECK(log[1].header("Authorization") == "Basic [redacted]");
  CHECK(log[2].path == "/api/me");
  CHECK(log[2].header("Authorization") == "Basic [redacted]");
}

TEST_CASE("Concurrent first requests share one handshake") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  std::vector<std::future<std::string>> users;
  for (int i = 0; i < 4; ++i) {
    users.push_back(
        std::async(std::launch::async, [&client] { return client.get_raw("me")["username"].get<std::string>(); }));
  }
  for (auto& u : users) CHECK(u.get() == "admin");
  INFO(describe(server.requests()));
  CHECK(server.requests_to("/api/system/info").size() == 2);
  CHECK(server.requests_to("/api/me").size() == 4);
}

TEST_CASE("A failed handshake leaves the client Unconnected and the next connect() tries again") {
  FakeServer server;
  auto options = fast_options();
  options.retry = std::nullopt;
  Client client(server.url(), kAdmin, options);
  server.inject("GET", "/api/system/info", Fault::status_page(502), 2);  // the probe and the handshake
  const std::string message = message_of<dhis2::ApiError>([&] { client.connect(); });
  CHECK_THAT(message, Catch::Contains("502"));
  CHECK(client.state() == State::Unconnected);

  client.connect();
  CHECK(client.state() == State::Connected);
  CHECK(client.raw_version() == "2.42.1");
}

TEST_CASE("close() moves the client to Closed and may be called again") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.connect();
  client.close();
  CHECK(client.state() == State::Closed);
  client.close();
  client.close();
  CHECK(client.state() == State::Closed);

  Client never_connected(server.url(), kAdmin, fast_options());
  never_connected.close();
  never_connected.close();
  CHECK(never_connected.state() == State::Closed);
}

TEST_CASE("close() closes the client's connections") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.get_raw("me");
  CHECK(client_sockets_to(server.port()) == 1);  // one keep-alive connection stays open
  client.close();
  CHECK(client_sockets_to(server.port()) == 0);
}

TEST_CASE("The destructor closes the client's connections") {
  FakeServer server;
  {
    Client client(server.url(), kAdmin, fast_options());
    client.get_raw("me");
    REQUIRE(client_sockets_to(server.port()) == 1);
  }
  CHECK(client_sockets_to(server.port()) == 0);
  { Client unconnected(server.url(), kAdmin, fast_options()); }
  CHECK(server.requests_to("/api/me").size() == 1);
}

TEST_CASE("After close() every request throws UsageError and nothing is sent") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  const bool connect_first = GENERATE(true, false);
  if (connect_first) client.connect();
  client.close();
  const auto sent = server.requests().size();

  CHECK_THROWS_AS(client.get_raw("me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.post_raw("resourceTables/analytics"), dhis2::UsageError);
  CHECK_THROWS_AS(client.put_raw("systemSettings/keyUiLocale", "fr"), dhis2::UsageError);
  CHECK_THROWS_AS(client.delete_raw("system/tasks"), dhis2::UsageError);
  CHECK_THROWS_AS(client.get_response("me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.send("GET", "me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.get<dhis2::WebMessage>("me"), dhis2::UsageError);
  CHECK_THROWS_AS(client.system().me(), dhis2::UsageError);
  CHECK_THAT(message_of<dhis2::UsageError>([&] { client.get_raw("me"); }), Catch::Contains("closed"));
  CHECK(server.requests().size() == sent);
  CHECK(client.state() == State::Closed);
}

TEST_CASE("connect() after close() throws UsageError") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  const bool connect_first = GENERATE(true, false);
  if (connect_first) client.connect();
  client.close();
  const auto sent = server.requests().size();
  CHECK_THAT(message_of<dhis2::UsageError>([&] { client.connect(); }), Catch::Contains("closed"));
  CHECK(client.state() == State::Closed);
  CHECK(server.requests().size() == sent);
}

TEST_CASE("close() from another thread wakes a request that waits to retry, which throws UsageError") {
  FakeServer server;
  auto options = fast_options();
  RetryPolicy slow;
  slow.max_attempts = 5;
  slow.base_delay = 60s;
  slow.max_delay = 60s;
  slow.jitter = 0;
  options.retry = slow;
  std::promise<void> waiting;
  std::atomic<bool> signalled{false};
  options.on_request = [&](const dhis2::RequestEvent& e) {
    if (e.will_retry && !signalled.exchange(true)) waiting.set_value();
  };
  Client client(server.url(), kAdmin, options);
  client.connect();
  server.inject("GET", "/api/me", Fault::status_page(503), 5);

  auto outcome = std::async(std::launch::async, [&client]() -> std::string {
    try {
      client.get_raw("me");
      return "returned";
    } catch (const dhis2::UsageError&) {
      return "UsageError";
    } catch (const std::exception& e) {
      return std::string("another error: ") + e.what();
    }
  });
  REQUIRE(waiting.get_future().wait_for(5s) == std::future_status::ready);  // it now sleeps for 60 s
  const auto closed_at = std::chrono::steady_clock::now();
  client.close();
  REQUIRE(outcome.wait_for(2s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - closed_at < 1s);
  CHECK(outcome.get() == "UsageError");
  CHECK(server.requests_to("/api/me").size() == 1);
  CHECK(client.state() == State::Closed);
}

TEST_CASE("close() from another thread while connect() waits to retry the handshake makes connect() throw UsageError") {
  FakeServer server;
  auto options = fast_options();
  RetryPolicy slow;
  slow.max_attempts = 5;
  slow.base_delay = 60s;
  slow.max_delay = 60s;
  slow.jitter = 0;
  options.retry = slow;
  std::promise<void> waiting;
  std::atomic<bool> signalled{false};
  options.on_request = [&](const dhis2::RequestEvent& e) {
    if (e.will_retry && !signalled.exchange(true)) waiting.set_value();
  };
  Client client(server.url(), kAdmin, options);
  server.inject("GET", "/api/system/info", Fault::status_page(503), 5);

  auto outcome = std::async(std::launch::async, [&client]() -> std::string {
    try {
      client.connect();
      return "connected";
    } catch (const dhis2::UsageError&) {
      return "UsageError";
    } catch (const std::exception& e) {
      return std::string("another error: ") + e.what();
    }
  });
  REQUIRE(waiting.get_future().wait_for(5s) == std::future_status::ready);
  const auto closed_at = std::chrono::steady_clock::now();
  client.close();
  REQUIRE(outcome.wait_for(2s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - closed_at < 1s);
  CHECK(outcome.get() == "UsageError");
  CHECK(client.state() == State::Closed);
  CHECK_THROWS_AS(client.connect(), dhis2::UsageError);
}

TEST_CASE("close() while the handshake runs leaves the client Closed and connect() throws UsageError") {
  FakeServer server;
  Client* self = nullptr;
  auto options = fast_options();
  options.on_request = [&](const dhis2::RequestEvent&) { self->close(); };  // during the handshake
  Client client(server.url(), kAdmin, options);
  self = &client;
  CHECK_THAT(message_of<dhis2::UsageError>([&] { client.connect(); }), Catch::Contains("closed"));
  CHECK(client.state() == State::Closed);
  CHECK_THROWS_AS(client.get_raw("me"), dhis2::UsageError);
  CHECK(server.requests_to("/api/me").empty());
}

TEST_CASE("close() from another thread fails a request in flight promptly") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.connect();
  server.inject("GET", "/api/me", Fault::delay_by(3s));

  auto outcome = std::async(std::launch::async, [&client]() -> std::string {
    try {
      client.get_raw("me");
      return "returned";
    } catch (const dhis2::UsageError&) {
      return "UsageError";
    } catch (const std::exception& e) {
      return std::string("another error: ") + e.what();
    }
  });
  REQUIRE(eventually([&] { return server.requests_to("/api/me").size() == 1; }));
  std::this_thread::sleep_for(20ms);  // let the client block reading the answer
  const auto closed_at = std::chrono::steady_clock::now();
  client.close();
  REQUIRE(outcome.wait_for(2s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - closed_at < 1s);
  CHECK(outcome.get() == "UsageError");
  CHECK(server.requests_to("/api/me").size() == 1);  // not retried on a new connection
}

// ---- cancelling a call that connects -------------------------------------------------------------

// What a call on another thread ended with: "returned", the name of the error type, or the
// message of an unexpected one.
template <class F>
std::future<std::string> outcome_of(F call) {
  return std::async(std::launch::async, [call]() -> std::string {
    try {
      call();
      return "returned";
    } catch (const dhis2::CancelledError&) {
      return "CancelledError";
    } catch (const dhis2::UsageError&) {
      return "UsageError";
    } catch (const dhis2::TransportError& e) {
      return std::string("TransportError(") + dhis2::to_string(e.kind()) + ")";
    } catch (const std::exception& e) {
      return std::string("another error: ") + e.what();
    }
  });
}

TEST_CASE("The cancellation token of the call that connects interrupts the handshake's request in flight") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  server.inject("GET", "/api/system/info", Fault::delay_by(5s));  // the unauthenticated probe
  dhis2::RequestOptions options;
  options.cancellation = dhis2::CancellationToken();
  auto outcome = outcome_of([&client, options] { client.get_raw("me", {}, options); });
  REQUIRE(eventually([&] { return server.requests_to("/api/system/info").size() == 1; }));
  std::this_thread::sleep_for(20ms);  // let the client block reading the answer
  const auto cancelled_at = std::chrono::steady_clock::now();
  options.cancellation->cancel();
  REQUIRE(outcome.wait_for(3s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - cancelled_at < 1s);  // not the 5 s the server takes
  CHECK(outcome.get() == "CancelledError");
  CHECK(server.requests_to("/api/me").empty());
  CHECK(server.requests_to("/api/system/info").size() == 1);  // not retried
  // The handshake did not happen: the client is Unconnected, and the next call connects.
  CHECK(client.state() == State::Unconnected);
  CHECK(client.get_raw("me")["username"] == "admin");
  CHECK(client.state() == State::Connected);
}

TEST_CASE("A call waiting for another thread's handshake ends with CancelledError when its token is cancelled") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  server.inject("GET", "/api/system/info", Fault::delay_by(1500ms));  // the probe
  auto connecting = outcome_of([&client] { client.connect(); });
  REQUIRE(eventually([&] { return client.state() == State::Connecting; }));
  dhis2::RequestOptions options;
  options.cancellation = dhis2::CancellationToken();
  auto waiting = outcome_of([&client, options] { client.get_raw("me", {}, options); });
  std::this_thread::sleep_for(50ms);  // let it wait for the handshake
  CHECK(waiting.wait_for(0s) == std::future_status::timeout);
  const auto cancelled_at = std::chrono::steady_clock::now();
  options.cancellation->cancel();
  REQUIRE(waiting.wait_for(3s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - cancelled_at < 1s);
  CHECK(waiting.get() == "CancelledError");
  // The other thread's handshake goes on and connects the client.
  REQUIRE(connecting.wait_for(10s) == std::future_status::ready);
  CHECK(connecting.get() == "returned");
  CHECK(client.state() == State::Connected);
  CHECK(server.requests_to("/api/me").empty());
}

TEST_CASE("close() wakes a call waiting for another thread's handshake, which throws UsageError") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  server.inject("GET", "/api/system/info", Fault::delay_by(5s));
  auto connecting = outcome_of([&client] { client.connect(); });
  REQUIRE(eventually([&] { return server.requests_to("/api/system/info").size() == 1; }));
  auto waiting = outcome_of([&client] { client.get_raw("me"); });
  std::this_thread::sleep_for(50ms);
  const auto closed_at = std::chrono::steady_clock::now();
  client.close();
  REQUIRE(waiting.wait_for(3s) == std::future_status::ready);
  REQUIRE(connecting.wait_for(3s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - closed_at < 1s);
  CHECK(waiting.get() == "UsageError");
  CHECK(connecting.get() == "UsageError");
  CHECK(client.state() == State::Closed);
}

TEST_CASE("A call's own timeout applies to the handshake it runs") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());  // 5 s by default
  server.inject("GET", "/api/system/info", Fault::delay_by(3s));
  dhis2::RequestOptions options;
  options.timeout = 200ms;
  RetryPolicy once;
  once.max_attempts = 1;
  options.retry = once;
  const auto started = std::chrono::steady_clock::now();
  auto outcome = outcome_of([&client, options] { client.get_raw("me", {}, options); });
  REQUIRE(outcome.wait_for(5s) == std::future_status::ready);
  CHECK(outcome.get() == "TransportError(timeout)");
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(client.state() == State::Unconnected);
}

TEST_CASE("connect(RequestOptions) runs the handshake under those options") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  dhis2::RequestOptions cancelled;
  cancelled.cancellation = dhis2::CancellationToken();
  cancelled.cancellation->cancel();
  CHECK_THROWS_AS(client.connect(cancelled), dhis2::CancelledError);
  CHECK(server.requests().empty());
  CHECK(client.state() == State::Unconnected);
  client.connect(dhis2::RequestOptions{});
  CHECK(client.state() == State::Connected);
}

// ---- the handshake ---------------------------------------------------------------------------

TEST_CASE("base_url() is the canonical URL after connect()") {
  FakeServerOptions with_context;
  with_context.context_path = "/dhis";
  FakeServer server(with_context);
  const std::string suffix = GENERATE("", "/", "/api", "/api/");
  INFO(server.url() + suffix);
  Client client(server.url() + suffix, kAdmin, fast_options());
  client.connect();
  CHECK(client.base_url() == server.url());
  CHECK(client.get_raw("me")["username"] == "admin");
  CHECK(server.requests().back().path == "/dhis/api/me");
}

TEST_CASE("The handshake probes /api/system/info without credentials, then reads it with them") {
  FakeServer server;
  Client client(server.url(), kAdmin, fast_options());
  client.connect();
  const auto log = server.requests();
  INFO(describe(log));
  REQUIRE(log.size() == 2);
  CHECK(log[0].method == "GET");
  CHECK(log[0].path == "/api/system/info");
  CHECK_FALSE(has_credentials(log[0]));
  CHECK(log[1].method == "GET");
  CHECK(log[1].path == "/api/system/info");
  CHECK(log[1].header("Authorization") == "Basic [redacted]");
}

TEST_CASE("The probe follows a same-origin redirect to a moved context path and adopts it") {
  FakeServerOptions with_context;
  with_context.context_path = "/dhis";
  FakeServer server(with_context);
  // The client was given the old root; the server answers it with a redirect to /dhis.
  const bool relative = GENERATE(true, false);
  const std::string location = relative ? std::string("/dhis/api/system/info") : server.url() + "/api/system/info";
  INFO("Location: " << location);
  server.inject("GET", "/api/system/info", Fault::redirect(location, 301), 1);
  Client client(server.origin(), kAdmin, fast_options());
  client.connect();
  CHECK(client.base_url() == server.url());

  const auto log = server.requests();
  INFO(describe(log));
  REQUIRE(log.size() == 3);
  CHECK(log[0].path == "/api/system/info");  // the old root, redirected
  CHECK_FALSE(has_credentials(log[0]));
  CHECK(log[1].path == "/dhis/api/system/info");  // the probe follows without credentials
  CHECK_FALSE(has_credentials(log[1]));
  CHECK(log[2].path == "/dhis/api/system/info");
  CHECK(has_credentials(log[2]));

  CHECK(client.get_raw("me")["username"] == "admin");
  CHECK(server.requests().back().path == "/dhis/api/me");
}

TEST_CASE("A redirect to another host is not adopted: the credentials never reach it") {
  FakeServer old_home;
  FakeServer new_home;  // another port of the same address: another origin, as another host is
  const std::string target = "http://localhost:" + std::to_string(new_home.port());
  SECTION("a redirect to a host name") {
    old_home.inject("GET", "/api/system/info", Fault::redirect(target + "/api/system/info", 301), -1);
  }
  SECTION("a redirect to another port of the same host") {
    old_home.inject("GET", "/api/system/info", Fault::redirect(new_home.url() + "/api/system/info", 301), -1);
  }
  Client client(old_home.url(), kAdmin, fast_options());
  const std::string message = message_of<dhis2::UnexpectedResponseError>([&] { client.connect(); });
  CHECK_THAT(message, Catch::Contains("redirected to") && Catch::Contains("use the final URL as the base URL"));
  CHECK(client.base_url() == old_home.url());
  CHECK(client.state() == State::Unconnected);

  const auto new_log = new_home.requests();
  INFO("new home:\n" << describe(new_log));
  CHECK(new_log.empty());  // not even probed: nothing there could be adopted

  // Given the final URL, the client works there.
  Client moved(new_home.url(), kAdmin, fast_options());
  CHECK(moved.get_raw("me")["username"] == "admin");
}

TEST_CASE("A redirect from http to https is adopted") {
  TempDir dir;
  const auto certs = dhis2::testing::make_test_certificates(dir.path);
  FakeServerOptions secure;
  secure.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
  FakeServer https_server(secure);
  FakeServer http_server;
  http_server.inject("GET", "*", Fault::redirect(https_server.url() + "/api/system/info", 301), -1);
  auto options = fast_options();
  options.ca_cert_path = certs.ca_cert_path;
  Client client(http_server.url(), kAdmin, options);
  client.connect();
  CHECK(client.base_url() == https_server.url());
  CHECK(client.base_url().rfind("https://", 0) == 0);
  CHECK(client.get_raw("me")["username"] == "admin");
  for (const auto& r : http_server.requests()) CHECK_FALSE(has_credentials(r));
}

TEST_CASE("A cross-origin redirect to a single sign-on page is not adopted") {
  FakeServer server;
  TempDir dir;
  const auto certs = dhis2::testing::make_test_certificates(dir.path);
  FakeServerOptions secure;
  secure.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
  FakeServer sso(secure);
  sso.inject("", "*", Fault::html_page(), -1);
  std::size_t probes = 0;
  SECTION("on another host: never even asked") {
    server.inject("GET", "/api/system/info",
                  Fault::redirect("https://localhost:" + std::to_string(sso.port()) + "/api/system/info"), 1);
  }
  SECTION("on the same host over https: asked once without credentials, and not adopted") {
    server.inject("GET", "/api/system/info", Fault::redirect(sso.url() + "/api/system/info"), 1);
    probes = 1;
  }
  auto options = fast_options();
  options.ca_cert_path = certs.ca_cert_path;
  Client client(server.url(), kAdmin, options);
  client.connect();
  CHECK(client.base_url() == server.url());
  CHECK(client.get_raw("me")["username"] == "admin");

  const auto sso_log = sso.requests();
  INFO("sso:\n" << describe(sso_log));
  CHECK(sso_log.size() == probes);  // looked at, never used
  for (const auto& r : sso_log) CHECK_FALSE(has_credentials(r));
}

TEST_CASE("A server that always redirects to another origin fails the handshake without sending it credentials") {
  FakeServer server;
  FakeServer sso;
  sso.inject("", "*", Fault::html_page(), -1);
  server.inject("GET", "*", Fault::redirect(sso.url() + "/api/system/info"), -1);
  Client client(server.url(), kAdmin, fast_options());
  const std::string message = message_of<dhis2::UnexpectedResponseError>([&] { client.connect(); });
  CHECK_THAT(message, Catch::Contains("redirect"));
  CHECK(client.state() == State::Unconnected);
  CHECK(client.base_url() == server.url());
  INFO("sso:\n" << describe(sso.requests()));
  for (const auto& r : sso.requests()) CHECK_FALSE(has_credentials(r));
}

// ---- versions --------------------------------------------------------------------------------

TEST_CASE("raw_version(), server_version() and version_key() report the server's version") {
  struct Case {
    const char* emulated;
    const char* reported;
    const char* raw;
    ServerVersion parsed;
    const char* key;
  };
  const Case cases[] = {
      {"2.38", "", "2.38", ServerVersion{2, 38, 0, 0, false}, "v38"},
      {"2.39", "", "2.39", ServerVersion{2, 39, 0, 0, false}, "v39"},
      {"2.40.7", "", "2.40.7", ServerVersion{2, 40, 7, 0, false}, "v40"},
      {"2.41.0", "", "2.41.0", ServerVersion{2, 41, 0, 0, false}, "v41"},
      {"2.41.4", "2.41.4.1", "2.41.4.1", ServerVersion{2, 41, 4, 1, false}, "v41"},
      {"2.42.1", "", "2.42.1", ServerVersion{2, 42, 1, 0, false}, "v42"},
      {"2.43.1", "", "2.43.1", ServerVersion{2, 43, 1, 0, false}, "v43"},
      {"2.43.1", "2.43-SNAPSHOT", "2.43-SNAPSHOT", ServerVersion{2, 43, 0, 0, true}, "v43"},
      {"2.38", "2.38.0-SNAPSHOT", "2.38.0-SNAPSHOT", ServerVersion{2, 38, 0, 0, true}, "v38"},
  };
  for (const auto& c : cases) {
    INFO(c.emulated << " reporting \"" << c.reported << "\"");
    FakeServer server(emulating(c.emulated, c.reported));
    Client client(server.url(), kAdmin, fast_options());
    client.connect();
    CHECK(client.raw_version() == c.raw);
    CHECK(client.server_version() == c.parsed);
    CHECK(client.version_key() == c.key);
  }
}

TEST_CASE("The version accessors connect an unconnected client") {
  FakeServer server(emulating("2.41.4"));
  Client client(server.url(), kAdmin, fast_options());
  CHECK(client.version_key() == "v41");
  CHECK(client.state() == State::Connected);
  CHECK(client.raw_version() == "2.41.4");
  CHECK(server.requests_to("/api/system/info").size() == 2);
}

TEST_CASE("A server outside 2.38 - 2.43 throws UnsupportedVersionError at connect") {
  const char* reported = GENERATE("2.37.1", "2.37", "2.44.0", "2.44-SNAPSHOT", "2.45.1", "3.0");
  INFO(reported);
  FakeServer server(emulating("2.42.1", reported));
  Client client(server.url(), kAdmin, fast_options());
  try {
    client.connect();
    FAIL("connect() accepted DHIS2 " << reported);
  } catch (const dhis2::UnsupportedVersionError& e) {
    CHECK(e.version() == reported);
    CHECK_THAT(e.what(), Catch::Contains(reported));
    CHECK_THAT(e.what(), Catch::Contains("allow_unsupported_version"));
  }
  CHECK(client.state() == State::Unconnected);
  CHECK_THROWS_AS(client.get_raw("me"), dhis2::UnsupportedVersionError);  // tries again, fails again
  CHECK(server.requests_to("/api/me").empty());
}

TEST_CASE("allow_unsupported_version accepts 2.37 and 2.44") {
  struct Case {
    const char* reported;
    const char* key;
  };
  const Case cases[] = {{"2.37.1", "v37"}, {"2.44.0", "v44"}, {"2.44-SNAPSHOT", "v44"}};
  for (const auto& c : cases) {
    INFO(c.reported);
    FakeServer server(emulating("2.42.1", c.reported));
    auto options = fast_options();
    options.allow_unsupported_version = true;
    Client client(server.url(), kAdmin, options);
    client.connect();
    CHECK(client.state() == State::Connected);
    CHECK(client.raw_version() == c.reported);
    CHECK(client.version_key() == c.key);
    CHECK(client.get_raw("me")["username"] == "admin");
  }
}

TEST_CASE("A version that is not a DHIS2 version throws UnsupportedVersionError") {
  const char* reported = GENERATE("test", "2", "2.x", "v2.42.1", "2.42.1.0.0");
  const bool allow = GENERATE(false, true);
  INFO(reported << (allow ? " with allow_unsupported_version" : ""));
  FakeServer server(emulating("2.42.1", reported));
  auto options = fast_options();
  options.allow_unsupported_version = allow;
  Client client(server.url(), kAdmin, options);
  try {
    client.connect();
    FAIL("connect() accepted the version \"" << reported << "\"");
  } catch (const dhis2::UnsupportedVersionError& e) {
    CHECK(e.version() == reported);
    CHECK_THAT(e.what(), Catch::Contains(reported));
  }
  CHECK(client.state() == State::Unconnected);
}

TEST_CASE("version_pin \"2.41\" accepts any 2.41 release and rejects another minor release") {
  auto options = fast_options();
  options.version_pin = "2.41";
  for (const char* version : {"2.41.0", "2.41.4"}) {
    INFO(version);
    FakeServer server(emulating(version));
    Client client(server.url(), kAdmin, options);
    client.connect();
    CHECK(client.raw_version() == version);
  }
  FakeServer other(emulating("2.42.1"));
  Client client(other.url(), kAdmin, options);
  try {
    client.connect();
    FAIL("a client pinned to 2.41 accepted 2.42.1");
  } catch (const dhis2::VersionPinMismatchError& e) {
    CHECK(e.pinned() == "2.41");
    CHECK(e.actual() == "2.42.1");
  }
  CHECK(client.state() == State::Unconnected);
}

TEST_CASE("version_pin \"2.41.4\" rejects 2.41.0 with VersionPinMismatchError unless allow_version_mismatch") {
  FakeServer server(emulating("2.41.0"));
  auto options = fast_options();
  options.version_pin = "2.41.4";
  {
    Client client(server.url(), kAdmin, options);
    try {
      client.connect();
      FAIL("a client pinned to 2.41.4 accepted 2.41.0");
    } catch (const dhis2::VersionPinMismatchError& e) {
      CHECK(e.pinned() == "2.41.4");
      CHECK(e.actual() == "2.41.0");
      CHECK_THAT(e.what(), Catch::Contains("2.41.4") && Catch::Contains("2.41.0"));
    }
    CHECK(client.state() == State::Unconnected);
  }
  options.allow_version_mismatch = true;
  Client tolerant(server.url(), kAdmin, options);
  tolerant.connect();
  CHECK(tolerant.raw_version() == "2.41.0");

  FakeServer exact(emulating("2.41.4"));
  options.allow_version_mismatch = false;
  Client pinned(exact.url(), kAdmin, options);
  pinned.connect();
  CHECK(pinned.raw_version() == "2.41.4");
}

TEST_CASE("An unparseable version_pin is a UsageError at construction") {
  const char* pin = GENERATE("2.x", "latest", "2", "v2.41", "2.41.", "2..41");
  INFO(pin);
  FakeServer server;
  auto options = fast_options();
  options.version_pin = pin;
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(server.url(), kAdmin, options); });
  CHECK_THAT(message, Catch::Contains("version_pin"));
  CHECK(server.requests().empty());
}

TEST_CASE("skip_version_probe connects without a request; the version accessors throw UsageError") {
  FakeServerOptions with_context;
  with_context.context_path = "/dhis";
  FakeServer server(with_context);
  auto options = fast_options();
  options.skip_version_probe = true;
  Client client(server.url() + "/api/", kAdmin, options);
  client.connect();
  CHECK(client.state() == State::Connected);
  CHECK(server.requests().empty());
  CHECK(client.base_url() == server.url());

  CHECK_THAT(message_of<dhis2::UsageError>([&] { client.raw_version(); }), Catch::Contains("skip_version_probe"));
  CHECK_THROWS_AS(client.server_version(), dhis2::UsageError);
  CHECK_THROWS_AS(client.version_key(), dhis2::UsageError);

  CHECK(client.get_raw("me")["username"] == "admin");
  const auto log = server.requests();
  REQUIRE(log.size() == 1);
  CHECK(log[0].path == "/dhis/api/me");
  CHECK(log[0].header("Authorization") == "Basic [redacted]");
}

TEST_CASE("A server whose /api/system/info is not JSON is not a DHIS2 server: UnexpectedResponseError") {
  FakeServer server;
  const int kind = GENERATE(0, 1);
  server.inject("GET", "/api/system/info", kind == 0 ? Fault::html_page() : Fault::malformed_json(), -1);
  Client client(server.url(), kAdmin, fast_options());
  const std::string message = message_of<dhis2::UnexpectedResponseError>([&] { client.connect(); });
  CHECK_THAT(message, Catch::Contains("/api/system/info"));
  CHECK(client.state() == State::Unconnected);
}

// ---- authentication mistakes -------------------------------------------------------------------

TEST_CASE("A mistyped personal access token is a UsageError at construction that names the problem") {
  const std::string secret = "iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa";
  const std::string good = *dhis2::make_pat(dhis2::PatFormat::V2, secret);
  std::string flipped = good;
  flipped[10] = flipped[10] == 'x' ? 'y' : 'x';  // one mistyped character in the secret
  struct Case {
    std::string token;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {flipped, "checksum"},        {good.substr(0, good.size() - 1), "characters"},  // truncated
      {good + "\n", "characters"},                                                    // copied with the newline
      {good.substr(4), "d2p_"},                                                       // no prefix
      {"ApiToken " + good, "d2p_"},
  };
  FakeServer server;
  for (const auto& c : cases) {
    INFO(c.problem);
    const std::string message = message_of<dhis2::UsageError>(
        [&] { Client client(server.url(), TokenAuth(c.token), fast_options()); });
    CHECK_THAT(message, Catch::Contains(c.problem));
    CHECK_THAT(message, !Catch::Contains(secret.substr(0, 12)));
    CHECK_THAT(message, !Catch::Contains(secret.substr(20, 12)));
  }
  CHECK(server.requests().empty());
}

TEST_CASE("A valid personal access token configured on the server authenticates") {
  const std::string token = *dhis2::make_pat(dhis2::PatFormat::V2, "Qw3rTy8uIoPaSdFgHjKlZxCvBnM1234567890abcdEFG");
  FakeServerOptions options = emulating("2.41.4");
  options.tokens = {IssuedToken{token, "admin"}};
  FakeServer server(options);
  Client client(server.url(), TokenAuth(token), fast_options());
  client.connect();
  CHECK(client.version_key() == "v41");
  CHECK(client.get_raw("me")["username"] == "admin");
  const auto log = server.requests();
  INFO(describe(log));
  REQUIRE(log.size() == 3);
  CHECK_FALSE(has_credentials(log[0]));
  CHECK(log[1].header("Authorization") == "ApiToken [redacted]");
  CHECK(log[2].header("Authorization") == "ApiToken [redacted]");
}

TEST_CASE("A valid but unknown personal access token throws AuthenticationError at connect") {
  const std::string token = *dhis2::make_pat(dhis2::PatFormat::V2, "Qw3rTy8uIoPaSdFgHjKlZxCvBnM1234567890abcdEFG");
  FakeServer server(emulating("2.41.4"));
  Client client(server.url(), TokenAuth(token), fast_options());
  try {
    client.connect();
    FAIL("an unknown token was accepted");
  } catch (const dhis2::AuthenticationError& e) {
    CHECK(e.status() == 401);
    CHECK_THAT(e.what(), Catch::Contains("token"));
    CHECK_THAT(e.what(), Catch::Contains("expired"));
    CHECK_THAT(e.what(), !Catch::Contains("Qw3rTy8uIoPa"));
  }
  CHECK(client.state() == State::Unconnected);
}

TEST_CASE("A wrong password throws AuthenticationError at connect that says what to check and hides the password") {
  FakeServer server;
  const std::string password = "n0t-The-Passw0rd";
  Client client(server.url(), BasicAuth{"admin", password}, fast_options());  // constructing sends nothing
  CHECK(server.requests().empty());
  try {
    client.connect();
    FAIL("a wrong password was accepted");
  } catch (const dhis2::AuthenticationError& e) {
    CHECK(e.status() == 401);
    CHECK_THAT(e.what(), Catch::Contains("user name and password"));
    CHECK_THAT(e.what(), !Catch::Contains(password));
  }
  CHECK(client.state() == State::Unconnected);
  CHECK(server.requests_to("/api/system/info").size() == 2);
}

// ---- ClientOptions validation ------------------------------------------------------------------

TEST_CASE("Invalid ClientOptions are a UsageError at construction that names the option") {
  FakeServer server;
  ClientOptions options = fast_options();
  std::string option;
  SECTION("zero timeout") {
    options.timeout = 0ms;
    option = "timeout";
  }
  SECTION("negative timeout") {
    options.timeout = -5ms;
    option = "timeout";
  }
  SECTION("zero connect_timeout") {
    options.connect_timeout = 0ms;
    option = "connect_timeout";
  }
  SECTION("pool_size 0") {
    options.pool_size = 0;
    option = "pool_size";
  }
  SECTION("negative system cache TTL") {
    options.system_cache_ttl = std::chrono::seconds(-1);
    option = "system_cache_ttl";
  }
  SECTION("zero max_response_bytes") {
    options.max_response_bytes = 0;
    option = "max_response_bytes";
  }
  const std::string message = message_of<dhis2::UsageError>([&] { Client client(server.url(), kAdmin, options); });
  CHECK_THAT(message, Catch::Contains(option));
  CHECK(server.requests().empty());
}

TEST_CASE("An invalid RetryPolicy is a UsageError at construction that names the field") {
  ClientOptions options = fast_options();
  std::string field;
  SECTION("max_attempts 0") {
    options.retry->max_attempts = 0;
    field = "max_attempts";
  }
  SECTION("max_attempts -1") {
    options.retry->max_attempts = -1;
    field = "max_attempts";
  }
  SECTION("jitter 1.5") {
    options.retry->jitter = 1.5;
    field = "jitter";
  }
  SECTION("negative jitter") {
    options.retry->jitter = -0.1;
    field = "jitter";
  }
  SECTION("backoff_factor below 1") {
    options.retry->backoff_factor = 0.5;
    field = "backoff_factor";
  }
  SECTION("negative base_delay") {
    options.retry->base_delay = -1ms;
    field = "delay";
  }
  const std::string message = message_of<dhis2::UsageError>(
      [&] { Client client("http://127.0.0.1:8080", kAdmin, options); });
  CHECK_THAT(message, Catch::Contains(field));
}

TEST_CASE("An unreadable ca_cert_path is a UsageError at construction") {
  TempDir dir;
  ClientOptions options = fast_options();
  SECTION("a file that does not exist") { options.ca_cert_path = dir.path + "/no-such-ca.pem"; }
  SECTION("a directory") { options.ca_cert_path = dir.path; }
  const std::string message = message_of<dhis2::UsageError>(
      [&] { Client client("https://127.0.0.1:8443", kAdmin, options); });
  CHECK_THAT(message, Catch::Contains("ca_cert_path"));
  CHECK_THAT(message, Catch::Contains(options.ca_cert_path));
}
