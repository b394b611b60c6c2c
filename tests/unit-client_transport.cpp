// dhis2::Client against the emulator, on the wire: BearerAuth (the provider before each request,
// one refresh after a 401, coalesced between threads), the RetryPolicy (bursts, Retry-After and
// its cap, retry_statuses, idempotency, connection errors, backoff, close() during a wait), the
// transport (keep-alive reuse, the pool bound, read timeouts, the size cap, a stale keep-alive
// socket), TLS verification with generated certificates, and what the request hook receives.
// The spec is docs/client.md (Authentication, Retries, Transport, Thread safety).
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::IssuedToken;
using dhis2::testing::RecordedRequest;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// Collects what the request hook receives; the hook may be called from several threads.
class HookLog {
 public:
  std::function<void(const dhis2::RequestEvent&)> hook() {
    return [this](const dhis2::RequestEvent& event) {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(event);
      threads_.push_back(std::this_thread::get_id());
    };
  }
  std::vector<dhis2::RequestEvent> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::vector<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return threads_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.clear();
    threads_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<dhis2::RequestEvent> events_;
  std::vector<std::thread::id> threads_;
};

// A fast policy for tests: 3 attempts, a few milliseconds apart, no jitter.
dhis2::RetryPolicy fast_retry() {
  dhis2::RetryPolicy policy;
  policy.max_attempts = 3;
  policy.base_delay = 2ms;
  policy.max_delay = 5ms;
  policy.backoff_factor = 2.0;
  policy.jitter = 0.0;
  return policy;
}

// Timeouts generous enough for sanitizer builds, the fast retry policy, and the hook.
dhis2::ClientOptions test_options(HookLog* log = nullptr) {
  dhis2::ClientOptions options;
  options.timeout = 5s;
  options.connect_timeout = 2s;
  options.retry = fast_retry();
  if (log) options.on_request = log->hook();
  return options;
}

dhis2::BasicAuth admin() { return dhis2::BasicAuth{"admin", "district"}; }

std::string header_of(const dhis2::RequestEvent& event, const std::string& name) {
  for (const auto& h : event.request_headers) {
    if (h.first == name) return h.second;
  }
  return {};
}

std::vector<int> attempts_of(const std::vector<dhis2::RequestEvent>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.attempt);
  return out;
}
std::vector<int> statuses_of(const std::vector<dhis2::RequestEvent>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.status);
  return out;
}
std::vector<bool> will_retry_of(const std::vector<dhis2::RequestEvent>& events) {
  std::vector<bool> out;
  for (const auto& e : events) out.push_back(e.will_retry);
  return out;
}

// A bearer token provider that hands out "stale" until it is asked to refresh, then "fresh"
// (or, with `refresh_works` false, "stale" for ever). Counts its calls; thread-safe.
struct TokenProvider {
  bool refresh_works = true;
  std::atomic<int> cached_calls{0};
  std::atomic<int> refresh_calls{0};
  std::atomic<bool> refreshed{false};

  dhis2::BearerAuth auth() {
    return dhis2::BearerAuth([this](bool refresh) {
      if (refresh) {
        ++refresh_calls;
        if (refresh_works) refreshed = true;
      } else {
        ++cached_calls;
      }
      return std::string(refreshed ? "fresh" : "stale");
    });
  }
};

FakeServerOptions bearer_server_options() {
  FakeServerOptions options;
  options.bearer_tokens = {IssuedToken{"fresh", "admin"}};
  return options;
}

// Starts `count` threads that each run `work(index)` once all of them are ready; joins them and
// returns the text of every exception they threw (Catch2 assertions stay on the test's thread).
std::vector<std::string> run_together(int count, const std::function<void(int)>& work) {
  std::mutex mutex;
  std::condition_variable cv;
  int ready = 0;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return ready == count; });
      }
      try {
        work(i);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failures.emplace_back(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  return failures;
}

// TLS failed before any HTTP request reached the emulator.
bool server_saw_no_request(const FakeServer& server) { return server.requests().empty(); }

// A fresh directory under /tmp, removed with everything in it at scope exit.
using test_support::TempDir;

// An HTTPS emulator serving certificates made for `names`.
struct TlsServer {
  TempDir dir;
  dhis2::testing::TestCertificates certs;
  std::unique_ptr<FakeServer> server;

  explicit TlsServer(const dhis2::testing::CertificateOptions& names = {}) {
    certs = dhis2::testing::make_test_certificates(dir.path, names);
    FakeServerOptions options;
    options.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
    server = std::make_unique<FakeServer>(options);
  }
  std::string url_for(const std::string& host) const { return "https://" + host + ":" + std::to_string(server->port()); }
};

}  // namespace

// ---- BearerAuth ---------------------------------------------------------------------------------

TEST_CASE("BearerAuth: the provider is asked for its cached token before each request", "[client][auth][bearer]") {
  FakeServer server(bearer_server_options());
  TokenProvider provider;
  provider.refreshed = true;  // already holds the token the server accepts
  dhis2::Client client(server.url(), provider.auth(), test_options());

  client.connect();
  client.get_raw("me");
  client.get_raw("system/info");
  client.get_raw("me");

  int bearer_requests = 0;
  for (const auto& r : server.requests()) {
    if (r.header("Authorization") == "Bearer [redacted]") ++bearer_requests;
  }
  CHECK(bearer_requests == 4);  // the handshake's /api/system/info and three requests
  CHECK(provider.cached_calls == bearer_requests);
  CHECK(provider.refresh_calls == 0);
}

TEST_CASE("BearerAuth: after a 401 the provider refreshes once and the request is retried once",
          "[client][auth][bearer]") {
  FakeServer server(bearer_server_options());
  TokenProvider provider;
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), provider.auth(), options);

  const nlohmann::json me = client.get_raw("me");

  CHECK(me.at("username") == "admin");
  CHECK(provider.refresh_calls == 1);
  CHECK(server.requests_to("/api/me", "GET").size() == 2);
  CHECK(statuses_of(log.events()) == std::vector<int>{401, 200});

  // The refreshed token is the provider's cached one from now on: no second refresh.
  client.get_raw("me");
  CHECK(provider.refresh_calls == 1);
  CHECK(server.requests_to("/api/me", "GET").size() == 3);
}

TEST_CASE("BearerAuth: a 401 after the refresh is an AuthenticationError, without a loop", "[client][auth][bearer]") {
  FakeServer server(bearer_server_options());
  TokenProvider provider;
  provider.refresh_works = false;
  auto options = test_options();
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), provider.auth(), options);

  try {
    client.get_raw("me");
    FAIL("expected an AuthenticationError");
  } catch (const dhis2::AuthenticationError& e) {
    CHECK(e.status() == 401);
    CHECK(std::string(e.what()).find("stale") == std::string::npos);  // never the token
  }
  CHECK(provider.refresh_calls == 1);
  CHECK(server.requests_to("/api/me", "GET").size() == 2);
}

TEST_CASE("BearerAuth: threads that get a 401 at the same time share one refresh", "[client][auth][bearer][threads]") {
  FakeServer server(bearer_server_options());
  TokenProvider provider;
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;
  options.pool_size = 8;
  dhis2::Client client(server.url(), provider.auth(), options);
  // Hold the eight first answers (401s for the stale token) so that every thread has sent the
  // stale token before the first refresh.
  server.inject("GET", "/api/me", Fault::delay_by(200ms), 8);

  const auto failures = run_together(8, [&](int) { client.get_raw("me"); });

  CHECK(failures.empty());
  CHECK(provider.refresh_calls == 1);
  const auto statuses = statuses_of(log.events());
  CHECK(std::count(statuses.begin(), statuses.end(), 401) == 8);
  CHECK(server.requests_to("/api/me", "GET").size() == 16);
}

TEST_CASE("BearerAuth::fixed sends the same token on every request", "[client][auth][bearer]") {
  FakeServerOptions server_options;
  server_options.bearer_tokens = {IssuedToken{"a-fixed-access-token", "admin"}};
  FakeServer server(server_options);
  dhis2::Client client(server.url(), dhis2::BearerAuth::fixed("a-fixed-access-token"), test_options());

  CHECK(client.get_raw("me").at("username") == "admin");
  CHECK(client.get_raw("me").at("username") == "admin");
  const auto requests = server.requests_to("/api/me", "GET");
  REQUIRE(requests.size() == 2);
  for (const auto& r : requests) CHECK(r.header("Authorization") == "Bearer [redacted]");
}

TEST_CASE("BearerAuth::fixed: a refused token is an AuthenticationError after one retry", "[client][auth][bearer]") {
  FakeServer server(bearer_server_options());
  auto options = test_options();
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), dhis2::BearerAuth::fixed("revoked"), options);

  CHECK_THROWS_AS(client.get_raw("me"), dhis2::AuthenticationError);
  CHECK(server.requests_to("/api/me", "GET").size() == 2);
}

TEST_CASE("BearerAuth::fixed rejects an empty token", "[client][auth][bearer]") {
  CHECK_THROWS_AS(dhis2::BearerAuth::fixed(""), dhis2::UsageError);
}

// ---- Retries ------------------------------------------------------------------------------------

TEST_CASE("Retries: a burst of two 503s on a GET succeeds on the third attempt", "[client][retry]") {
  FakeServer server;
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(503), 2);

  CHECK(client.get_raw("me").at("username") == "admin");

  CHECK(server.requests_to("/api/me", "GET").size() == 3);
  const auto events = log.events();
  CHECK(attempts_of(events) == std::vector<int>{1, 2, 3});
  CHECK(statuses_of(events) == std::vector<int>{503, 503, 200});
  CHECK(will_retry_of(events) == std::vector<bool>{true, true, false});
}

TEST_CASE("Retries: a 503 on the last of max_attempts is an ApiError", "[client][retry]") {
  FakeServer server;
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(503), 3);

  try {
    client.get_raw("me");
    FAIL("expected an ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 503);
  }
  CHECK(server.requests_to("/api/me", "GET").size() == 3);
  CHECK(will_retry_of(log.events()) == std::vector<bool>{true, true, false});
}

TEST_CASE("Retries: Retry-After in seconds is honoured but capped at max_delay", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry->base_delay = 1ms;
  options.retry->max_delay = 20ms;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::too_many_requests(1s), 1);

  const auto start = Clock::now();
  client.get_raw("me");
  const auto elapsed = since(start);

  const auto events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].status == 429);
  CHECK(events[0].will_retry);
  CHECK(events[0].retry_delay <= 20ms);
  CHECK(events[0].retry_delay == 20ms);  // Retry-After, capped; not the 1 ms computed delay
  CHECK(elapsed >= 18ms);
  CHECK(elapsed < 600ms);  // not the second the header asked for
}

TEST_CASE("Retries: Retry-After as an HTTP date is honoured but capped at max_delay", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry->base_delay = 1ms;
  options.retry->max_delay = 20ms;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  log.clear();
  // An HTTP date has whole seconds: 3 s ahead is at least 2 s ahead once truncated.
  server.inject("GET", "/api/me", Fault::too_many_requests_until(std::chrono::system_clock::now() + 3s), 1);

  const auto start = Clock::now();
  client.get_raw("me");
  const auto elapsed = since(start);

  const auto events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].status == 429);
  CHECK(events[0].retry_delay == 20ms);
  CHECK(elapsed >= 18ms);
  CHECK(elapsed < 600ms);
}

TEST_CASE("Retries: a Retry-After shorter than the computed delay replaces it", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry->base_delay = 5ms;
  options.retry->max_delay = 50ms;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(503).with_retry_after("0"), 1);

  client.get_raw("me");

  const auto events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].will_retry);
  CHECK(events[0].retry_delay == 0ms);
}

TEST_CASE("Retries: a status outside retry_statuses is not retried", "[client][retry]") {
  FakeServer server;
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(500), 1);

  try {
    client.get_raw("me");
    FAIL("expected an ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 500);
  }
  CHECK(server.requests_to("/api/me", "GET").size() == 1);
  CHECK(will_retry_of(log.events()) == std::vector<bool>{false});
}

TEST_CASE("Retries: a status added to retry_statuses is retried", "[client][retry]") {
  FakeServer server;
  auto options = test_options();
  options.retry->retry_statuses = {500};
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  server.inject("GET", "/api/me", Fault::status_page(500), 1);

  CHECK(client.get_raw("me").at("username") == "admin");
  CHECK(server.requests_to("/api/me", "GET").size() == 2);
}

TEST_CASE("Retries: a POST is not retried after a 503", "[client][retry]") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), test_options());
  client.connect();
  server.inject("POST", "/api/resourceTables/analytics", Fault::status_page(503), 1);

  try {
    client.post_raw("resourceTables/analytics");
    FAIL("expected an ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 503);
  }
  CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 1);
  CHECK(server.jobs().empty());  // the proxy's 503 never reached the server: no job
}

TEST_CASE("Retries: retry_non_idempotent lets a POST be retried", "[client][retry]") {
  FakeServer server;
  auto options = test_options();
  options.retry->retry_non_idempotent = true;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  server.inject("POST", "/api/resourceTables/analytics", Fault::status_page(503), 1);

  const auto kickoff = client.post<dhis2::WebMessage>("resourceTables/analytics");

  CHECK(kickoff.task_ref().has_value());
  CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 2);
  CHECK(server.jobs().size() == 1);
}

TEST_CASE("Retries: a PATCH is not retried after a 503", "[client][retry]") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), test_options());
  client.connect();
  server.inject("PATCH", "/api/dataElements/*", Fault::status_page(503), 1);

  try {
    client.patch_raw("dataElements/fbfJHSPpUQD", nlohmann::json::array());
    FAIL("expected an ApiError");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 503);
  }
  CHECK(server.requests_to("/api/dataElements/*", "PATCH").size() == 1);
}

TEST_CASE("Retries: dropped connections on a GET are retried", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;  // the GET opens the connection: no stale-socket retry
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::drop_before_response(), 2);

  CHECK(client.get_raw("me").at("username") == "admin");

  CHECK(server.requests_to("/api/me", "GET").size() == 3);
  const auto events = log.events();
  CHECK(attempts_of(events) == std::vector<int>{1, 2, 3});
  CHECK(statuses_of(events) == std::vector<int>{0, 0, 200});
  CHECK(will_retry_of(events) == std::vector<bool>{true, true, false});
}

TEST_CASE("Retries: a dropped connection on a POST is not retried", "[client][retry]") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), test_options());
  client.connect();  // the POST then goes out on a reused keep-alive connection
  server.inject("POST", "/api/resourceTables/analytics", Fault::drop_before_response(), 1);

  CHECK_THROWS_AS(client.post_raw("resourceTables/analytics"), dhis2::TransportError);
  CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 1);
  CHECK(server.jobs().empty());
}

TEST_CASE("Retries: retry = std::nullopt never retries", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry = std::nullopt;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(503), 1);

  CHECK_THROWS_AS(client.get_raw("me"), dhis2::ApiError);
  CHECK(server.requests_to("/api/me", "GET").size() == 1);
  CHECK(will_retry_of(log.events()) == std::vector<bool>{false});
}

TEST_CASE("Retries: the backoff grows from one attempt to the next", "[client][retry]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry->base_delay = 2ms;
  options.retry->max_delay = 50ms;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::status_page(503), 2);

  client.get_raw("me");

  const auto events = log.events();
  REQUIRE(events.size() == 3);
  CHECK(events[1].retry_delay > events[0].retry_delay);
  CHECK(events[0].retry_delay == 2ms);  // base_delay
  CHECK(events[1].retry_delay == 4ms);  // base_delay * backoff_factor
}

TEST_CASE("Retries: close() from another thread interrupts a wait between attempts", "[client][retry][threads]") {
  FakeServer server;
  auto options = test_options();
  options.retry->max_delay = 10s;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();
  server.inject("GET", "/api/me", Fault::too_many_requests(5s), 1);

  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    client.close();
  });
  const auto start = Clock::now();
  CHECK_THROWS_AS(client.get_raw("me"), dhis2::UsageError);
  const auto elapsed = since(start);
  closer.join();
  CHECK(elapsed < 2s);
  CHECK(server.requests_to("/api/me", "GET").size() == 1);
}

// ---- Transport ----------------------------------------------------------------------------------

TEST_CASE("Transport: sequential requests reuse one TCP connection", "[client][transport]") {
  FakeServer server;
  auto options = test_options();
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), admin(), options);
  const int before = server.connection_count();

  for (int i = 0; i < 100; ++i) client.get_raw("me");

  CHECK(server.connection_count() == before + 1);
  const auto requests = server.requests_to("/api/me", "GET");
  REQUIRE(requests.size() == 100);
  std::set<int> ids;
  for (const auto& r : requests) ids.insert(r.connection);
  CHECK(ids.size() == 1);
}

TEST_CASE("Transport: a Client shared by 8 threads opens at most pool_size connections", "[client][transport][threads]") {
  FakeServer server;
  auto options = test_options();
  options.skip_version_probe = true;
  options.pool_size = 4;
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::delay_by(5ms), -1);  // keeps requests overlapping
  const int before = server.connection_count();
  std::atomic<int> succeeded{0};

  const auto failures = run_together(8, [&](int) {
    for (int i = 0; i < 10; ++i) {
      if (client.get_raw("me").at("username") == "admin") ++succeeded;
    }
  });

  CHECK(failures.empty());
  CHECK(succeeded == 80);
  CHECK(server.connection_count() - before <= 4);
  std::set<int> ids;
  for (const auto& r : server.requests_to("/api/me", "GET")) ids.insert(r.connection);
  CHECK(ids.size() <= 4);
}

TEST_CASE("Transport: a read timeout is a TransportError that states the timeout", "[client][transport]") {
  FakeServer server;
  {
    // The emulator's first answers are slow under sanitizers: warm it up, so that only the
    // injected delay exceeds the 50 ms timeout.
    dhis2::Client warm_up(server.url(), admin(), test_options());
    warm_up.get_raw("me");
  }
  auto options = test_options();
  options.timeout = 50ms;
  options.retry = std::nullopt;
  dhis2::Client client(server.url(), admin(), options);
  client.connect();  // as in real use, the GET goes out on a reused keep-alive connection
  server.clear_requests();
  server.inject("GET", "/api/me", Fault::delay_by(300ms), 1);

  const auto start = Clock::now();
  try {
    client.get_raw("me");
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("timed out"));
    CHECK_THAT(message, Catch::Contains("50 ms"));
    CHECK(e.kind() == dhis2::TransportErrorKind::Timeout);
  }
  CHECK(since(start) < 200ms);
  // A timed-out GET is not sent again: that is no stale keep-alive socket, and retries are off.
  CHECK(server.requests_to("/api/me", "GET").size() == 1);
}

TEST_CASE("Transport: a response over max_response_bytes is a TransportError that says how to raise the cap",
          "[client][transport]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;  // the handshake would read /api/system/info itself
  options.max_response_bytes = 200;
  dhis2::Client client(server.url(), admin(), options);

  try {
    client.get_raw("system/info");
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("200-byte cap"));
    CHECK_THAT(message, Catch::Contains("max_response_bytes"));
    CHECK(e.kind() == dhis2::TransportErrorKind::ResponseTooLarge);
  }
  CHECK(server.requests_to("/api/system/info", "GET").size() == 1);  // a cap is no reason to retry
  CHECK(will_retry_of(log.events()) == std::vector<bool>{false});
}

// The one test that sleeps for real (~1.2 s): the emulator closes an idle keep-alive socket after
// its keep_alive_timeout of 1 s, and that cannot be simulated faster. HTTP and HTTPS share the sleep.
TEST_CASE("Transport: a keep-alive socket the server closed while idle is replaced silently",
          "[client][transport][slow]") {
  FakeServerOptions plain_options;
  plain_options.keep_alive_timeout = 1s;
  FakeServer plain(plain_options);

  TempDir dir;
  const auto certs = dhis2::testing::make_test_certificates(dir.path);
  FakeServerOptions tls_options;
  tls_options.keep_alive_timeout = 1s;
  tls_options.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
  FakeServer secure(tls_options);

  HookLog plain_log, secure_log;
  dhis2::Client plain_client(plain.url(), admin(), test_options(&plain_log));
  auto secure_client_options = test_options(&secure_log);
  secure_client_options.ca_cert_path = certs.ca_cert_path;
  dhis2::Client secure_client("https://localhost:" + std::to_string(secure.port()), admin(), secure_client_options);
  plain_client.connect();
  secure_client.connect();
  const int plain_before = plain.connection_count();
  const int secure_before = secure.connection_count();
  plain_log.clear();
  secure_log.clear();

  std::this_thread::sleep_for(1200ms);

  CHECK(plain_client.get_raw("me").at("username") == "admin");
  CHECK(secure_client.get_raw("me").at("username") == "admin");
  for (const HookLog* log : {&plain_log, &secure_log}) {
    const auto events = log->events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].attempt == 1);
    CHECK(events[0].status == 200);
    CHECK(events[0].error.empty());
    CHECK_FALSE(events[0].will_retry);
  }
  // The server really closed the idle sockets: the GETs came on new connections.
  CHECK(plain.connection_count() == plain_before + 1);
  CHECK(secure.connection_count() == secure_before + 1);
}

// ---- compression ------------------------------------------------------------------------------

namespace {

FakeServerOptions behind_gzip_proxy() {
  FakeServerOptions options;
  options.compress = true;  // as nginx with `gzip on` in front of DHIS2
  return options;
}

}  // namespace

TEST_CASE("Compression: every request asks for gzip and br; compression = false asks for none",
          "[client][transport][compression]") {
  FakeServer server;
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.get_raw("me");
  client.post_raw("resourceTables/analytics");
  for (const RecordedRequest& r : server.requests()) {
    INFO(r.method << " " << r.path);
    CHECK(r.header("Accept-Encoding") == "gzip, br");  // what Debian's httplib decodes
  }
  for (const auto& e : log.events()) CHECK(header_of(e, "Accept-Encoding") == "gzip, br");

  server.clear_requests();
  log.clear();
  auto options = test_options(&log);
  options.compression = false;
  dhis2::Client plain(server.url(), admin(), options);
  plain.get_raw("me");
  REQUIRE_FALSE(server.requests().empty());
  for (const RecordedRequest& r : server.requests()) CHECK(r.header("Accept-Encoding").empty());
  for (const auto& e : log.events()) CHECK(header_of(e, "Accept-Encoding").empty());
}

TEST_CASE("Compression: behind a gzip proxy a body arrives in fewer bytes and reads as the plain one",
          "[client][transport][compression]") {
  FakeServer server(behind_gzip_proxy());
  dhis2::Client client(server.url(), admin(), test_options());
  auto plain_options = test_options();
  plain_options.compression = false;
  dhis2::Client plain(server.url(), admin(), plain_options);
  client.connect();  // the handshakes read system/info too
  plain.connect();
  server.clear_requests();

  const dhis2::Response compressed = client.get_response("system/info");
  const dhis2::Response identity = plain.get_response("system/info");
  CHECK(compressed.status == 200);
  CHECK(compressed.body == identity.body);  // decoded before anyone sees it
  // The server's headers stay as it sent them.
  CHECK(compressed.header("Content-Encoding") == "gzip");
  CHECK(identity.header("Content-Encoding").empty());

  const auto log = server.requests_to("/api/system/info");
  REQUIRE(log.size() == 2);
  CHECK(log[0].response_compressed);
  CHECK_FALSE(log[1].response_compressed);
  CHECK(log[1].response_bytes == identity.body.size());
  CHECK(log[0].response_bytes < identity.body.size());
}

TEST_CASE("Compression: max_response_bytes caps the decoded body, not the bytes on the wire",
          "[client][transport][compression]") {
  FakeServer server(behind_gzip_proxy());
  std::size_t wire = 0;
  std::size_t decoded = 0;
  {
    auto options = test_options();
    options.skip_version_probe = true;
    dhis2::Client measure(server.url(), admin(), options);
    decoded = measure.get_response("system/info").body.size();
    wire = server.requests_to("/api/system/info").back().response_bytes;
  }
  REQUIRE(wire + 16 < decoded);  // room for a cap between the two

  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;
  options.max_response_bytes = wire + 8;  // the compressed body fits, the decoded one does not
  dhis2::Client client(server.url(), admin(), options);
  try {
    client.get_raw("system/info");
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    CHECK(e.kind() == dhis2::TransportErrorKind::ResponseTooLarge);
    CHECK_THAT(std::string(e.what()), Catch::Contains(std::to_string(wire + 8) + "-byte cap"));
  }
  CHECK(will_retry_of(log.events()) == std::vector<bool>{false});
}

TEST_CASE("Compression: a gzip body cut off mid-response fails that attempt, and a GET is tried again",
          "[client][transport][compression]") {
  FakeServer server(behind_gzip_proxy());
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;  // the GET opens the connection: no stale-socket retry
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::drop_mid_response(), 1);

  CHECK(client.get_raw("me").at("username") == "admin");
  const auto events = log.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].status == 0);
  CHECK_FALSE(events[0].error.empty());
  CHECK(events[0].will_retry);
  CHECK(events[1].status == 200);
  const auto sent = server.requests_to("/api/me");
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].response_compressed);  // the first answer really was a cut-off gzip stream
}

// ---- TLS ----------------------------------------------------------------------------------------

TEST_CASE("TLS: a server certificate from a private CA is accepted with ca_cert_path", "[client][tls]") {
  TlsServer tls;
  auto options = test_options();
  options.ca_cert_path = tls.certs.ca_cert_path;
  dhis2::Client client(tls.url_for("localhost"), admin(), options);

  client.connect();
  CHECK(client.raw_version() == tls.server->reported_version());
  CHECK(client.get_raw("me").at("username") == "admin");
}

TEST_CASE("TLS: without the private CA, verification fails with a TransportError naming ca_cert_path", "[client][tls]") {
  TlsServer tls;
  auto options = test_options();
  options.retry = std::nullopt;
  dhis2::Client client(tls.url_for("localhost"), admin(), options);

  try {
    client.connect();
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("TLS verification"));
    CHECK_THAT(message, Catch::Contains("ca_cert_path"));
    CHECK(e.kind() == dhis2::TransportErrorKind::Tls);
  }
  CHECK(server_saw_no_request(*tls.server));
}

TEST_CASE("TLS: a certificate that does not name the host is rejected", "[client][tls]") {
  dhis2::testing::CertificateOptions names;
  names.dns_names = {"localhost"};
  names.ip_addresses = {};
  TlsServer tls(names);
  auto options = test_options();
  options.retry = std::nullopt;
  options.ca_cert_path = tls.certs.ca_cert_path;
  dhis2::Client client(tls.url_for("127.0.0.1"), admin(), options);

  try {
    client.connect();
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("TLS verification"));
    CHECK_THAT(message, Catch::Contains("127.0.0.1"));
    CHECK_THAT(message, Catch::Contains("does not name"));
    CHECK(e.kind() == dhis2::TransportErrorKind::Tls);
  }
  CHECK(server_saw_no_request(*tls.server));
}

namespace {

// What a plain httplib::Client, with verification on and the CA trusted, makes of a server:
// whether httplib 0.11.4's own host name check lets it through.
bool plain_httplib_accepts(const TlsServer& tls, const std::string& host, std::string ca_cert_path = {}) {
  httplib::Client plain(tls.url_for(host));
  plain.enable_server_certificate_verification(true);
  plain.set_ca_cert_path(ca_cert_path.empty() ? tls.certs.ca_cert_path : ca_cert_path);
  plain.set_connection_timeout(5, 0);
  plain.set_read_timeout(5, 0);
  const auto result = plain.Get("/api/ping");
  return static_cast<bool>(result);
}

// The TransportError a connect() to `host` ends in; fails the test when there is none.
std::string tls_failure(const TlsServer& tls, const std::string& host, const std::string& ca_cert_path) {
  auto options = test_options();
  options.retry = std::nullopt;
  options.ca_cert_path = ca_cert_path;
  dhis2::Client client(tls.url_for(host), admin(), options);
  try {
    client.connect();
  } catch (const dhis2::TransportError& e) {
    CHECK(e.kind() == dhis2::TransportErrorKind::Tls);
    return e.what();
  }
  FAIL("connect() to " << host << " succeeded");
  return {};
}

}  // namespace

TEST_CASE("TLS: certificates that httplib's own host check accepts are refused by OpenSSL's", "[client][tls]") {
  dhis2::testing::CertificateOptions names;
  std::string host = "localhost";
  SECTION("a wildcard as the only label") {
    names.dns_names = {"*"};
    names.ip_addresses = {};
  }
  SECTION("a partial wildcard") {
    names.dns_names = {"localhost*"};
    names.ip_addresses = {};
  }
  SECTION("a subjectAltName for another host, and the host as the common name") {
    names.dns_names = {"elsewhere.example"};
    names.ip_addresses = {};
    names.common_name = "localhost";
  }
  SECTION("no subjectAltName, the host as the common name") {
    names.subject_alt_name = false;
    names.dns_names = {};
    names.ip_addresses = {};
    names.common_name = "localhost";
  }
  SECTION("an IP address host named only by the common name") {
    names.dns_names = {"localhost"};
    names.ip_addresses = {};
    names.common_name = "127.0.0.1";
    host = "127.0.0.1";
  }
  TlsServer tls(names);
  INFO("host " << host);
  const std::string message = tls_failure(tls, host, tls.certs.ca_cert_path);
  CHECK_THAT(message, Catch::Contains("TLS verification of https://" + host));
  CHECK_THAT(message, Catch::Contains("does not name " + host));
  CHECK_THAT(message, Catch::Contains("mismatch"));  // OpenSSL's verdict, not httplib's
  CHECK_THAT(message, Catch::Contains("subjectAltName"));
  CHECK(server_saw_no_request(*tls.server));  // refused in the handshake: no credentials went out

  CHECK(plain_httplib_accepts(tls, host));  // the lax check would have let the request through
}

TEST_CASE("TLS: host names match the certificate in any case", "[client][tls]") {
  TlsServer tls;
  auto options = test_options();
  options.ca_cert_path = tls.certs.ca_cert_path;
  dhis2::Client client(tls.url_for("LocalHost"), admin(), options);
  CHECK(client.get_raw("me").at("username") == "admin");
  CHECK_FALSE(plain_httplib_accepts(tls, "LocalHost"));  // httplib's own check is case-sensitive
}

TEST_CASE("TLS: an expired certificate is refused with a message that says so", "[client][tls]") {
  dhis2::testing::CertificateOptions names;
  names.expired = true;
  TlsServer tls(names);
  const std::string message = tls_failure(tls, "localhost", tls.certs.ca_cert_path);
  CHECK_THAT(message, Catch::Contains("certificate has expired"));
  CHECK_THAT(message, Catch::Contains("renew") && Catch::Contains("clock"));
  CHECK_THAT(message, !Catch::Contains("ca_cert_path"));  // no CA to add would help
  CHECK(server_saw_no_request(*tls.server));
  CHECK_FALSE(plain_httplib_accepts(tls, "localhost"));
}

TEST_CASE("TLS: a certificate from a CA other than ca_cert_path's is refused, naming the file", "[client][tls]") {
  TlsServer tls;
  TempDir other_dir;
  const auto other = dhis2::testing::make_test_certificates(other_dir.path);
  const std::string message = tls_failure(tls, "localhost", other.ca_cert_path);
  CHECK_THAT(message, Catch::Contains("no trusted CA signed the certificate"));
  CHECK_THAT(message, Catch::Contains("trusted: " + other.ca_cert_path));
  CHECK_THAT(message, Catch::Contains("ClientOptions::ca_cert_path"));
  CHECK(server_saw_no_request(*tls.server));
  CHECK_FALSE(plain_httplib_accepts(tls, "localhost", other.ca_cert_path));
}

namespace {

// Sets an environment variable for the scope, then puts back what was there.
struct ScopedEnv {
  ScopedEnv(const char* name_, const char* value) : name(name_) {
    if (const char* old = std::getenv(name)) saved = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (saved) {
      ::setenv(name, saved->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  const char* name;
  std::optional<std::string> saved;
};

}  // namespace

TEST_CASE("TLS: a CA the system store lacks is refused, saying how to trust it; SSL_CERT_FILE does", "[client][tls]") {
  TlsServer tls;
  ScopedEnv no_dir("SSL_CERT_DIR", nullptr);
  {
    ScopedEnv no_file("SSL_CERT_FILE", nullptr);
    const std::string message = tls_failure(tls, "localhost", "");
    CHECK_THAT(message, Catch::Contains("no trusted CA signed the certificate (trusted: the system store)"));
    CHECK_THAT(message,
               Catch::Contains("ClientOptions::ca_cert_path") && Catch::Contains("SSL_CERT_FILE environment variable"));
    CHECK(server_saw_no_request(*tls.server));
  }
  TempDir other_dir;
  const auto other = dhis2::testing::make_test_certificates(other_dir.path);
  {
    // Another CA in the variable: the refusal names the file that was used.
    ScopedEnv file("SSL_CERT_FILE", other.ca_cert_path.c_str());
    const std::string message = tls_failure(tls, "localhost", "");
    CHECK_THAT(message, Catch::Contains("(trusted: the system store, SSL_CERT_FILE=" + other.ca_cert_path + ")"));
  }
  {
    // The advice works: the server's CA in the variable, nothing in the options.
    ScopedEnv file("SSL_CERT_FILE", tls.certs.ca_cert_path.c_str());
    auto options = test_options();
    dhis2::Client client(tls.url_for("localhost"), admin(), options);
    CHECK(client.get_raw("me").at("username") == "admin");
  }
}

TEST_CASE("TLS: verify_tls = false accepts the certificate without the CA", "[client][tls]") {
  TlsServer tls;
  auto options = test_options();
  options.verify_tls = false;
  dhis2::Client client(tls.url_for("localhost"), admin(), options);

  CHECK(client.get_raw("me").at("username") == "admin");
}

// ---- the request hook ---------------------------------------------------------------------------

TEST_CASE("Request hook: Authorization is redacted in every event", "[client][hook]") {
  const std::string pat = *dhis2::make_pat(dhis2::PatFormat::V2, "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3r");
  FakeServerOptions server_options;
  server_options.tokens = {IssuedToken{pat, "admin"}};
  server_options.bearer_tokens = {IssuedToken{"fresh", "admin"}};
  FakeServer server(server_options);
  HookLog log;
  server.inject("GET", "/api/me", Fault::status_page(503), 1);  // a retry's events too

  std::string expected;
  std::vector<std::string> secrets;
  SECTION("Basic") {
    dhis2::Client client(server.url(), admin(), test_options(&log));
    client.get_raw("me");
    expected = "Basic [redacted]";
    secrets = {"district", "YWRtaW46ZGlzdHJpY3Q="};
  }
  SECTION("ApiToken") {
    dhis2::Client client(server.url(), dhis2::TokenAuth(pat), test_options(&log));
    client.get_raw("me");
    expected = "ApiToken [redacted]";
    secrets = {pat};
  }
  SECTION("Bearer, across a refresh") {
    TokenProvider provider;
    dhis2::Client client(server.url(), provider.auth(), test_options(&log));
    client.get_raw("me");
    expected = "Bearer [redacted]";
    secrets = {"stale", "fresh"};
  }

  const auto events = log.events();
  REQUIRE(events.size() >= 4);  // the probe, the handshake, the 503 and its retry
  // The probe that finds the canonical URL goes without credentials; every other request has them.
  CHECK(events.front().url.find("/api/system/info") != std::string::npos);
  CHECK(header_of(events.front(), "Authorization").empty());
  for (std::size_t i = 1; i < events.size(); ++i) CHECK(header_of(events[i], "Authorization") == expected);
  for (const auto& event : events) {
    for (const auto& h : event.request_headers) {
      for (const auto& secret : secrets) CHECK(h.second.find(secret) == std::string::npos);
    }
    for (const auto& secret : secrets) CHECK(event.url.find(secret) == std::string::npos);
  }
}

TEST_CASE("Request hook: the URL is the full request URL without credentials", "[client][hook]") {
  FakeServerOptions server_options;
  server_options.context_path = "/dhis";
  FakeServer server(server_options);
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.connect();
  log.clear();

  client.get_raw("me", {{"fields", "id,username"}});

  const auto events = log.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].method == "GET");
  CHECK(events[0].url == server.origin() + "/dhis/api/me?fields=id%2Cusername");
  CHECK(events[0].url.find('@') == std::string::npos);
  CHECK(events[0].url.find("district") == std::string::npos);
}

TEST_CASE("Request hook: an answered attempt has its status and elapsed time", "[client][hook]") {
  FakeServer server;
  HookLog log;
  dhis2::Client client(server.url(), admin(), test_options(&log));
  client.connect();
  log.clear();
  server.inject("GET", "/api/me", Fault::delay_by(40ms), 1);

  client.get_raw("me");

  const auto events = log.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].attempt == 1);
  CHECK(events[0].status == 200);
  CHECK(events[0].error.empty());
  CHECK(events[0].elapsed >= 35ms);
  CHECK(events[0].elapsed < 2s);
  CHECK_FALSE(events[0].will_retry);
  CHECK(events[0].retry_delay == 0ms);
}

TEST_CASE("Request hook: a transport failure has status 0 and the error text", "[client][hook]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.retry = std::nullopt;
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::drop_before_response(), 1);

  std::string thrown;
  try {
    client.get_raw("me");
    FAIL("expected a TransportError");
  } catch (const dhis2::TransportError& e) {
    thrown = e.what();
    CHECK(e.kind() == dhis2::TransportErrorKind::ConnectionClosed);
  }

  const auto events = log.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].status == 0);
  CHECK_FALSE(events[0].error.empty());
  CHECK_THAT(thrown, Catch::Contains(events[0].error));
}

TEST_CASE("Request hook: called for every attempt on the calling thread", "[client][hook][threads]") {
  FakeServer server;
  HookLog log;
  auto options = test_options(&log);
  options.skip_version_probe = true;
  dhis2::Client client(server.url(), admin(), options);
  server.inject("GET", "/api/me", Fault::status_page(502), 1);

  std::thread::id caller;
  std::thread worker([&] {
    caller = std::this_thread::get_id();
    client.get_raw("me");
  });
  worker.join();

  const auto threads = log.threads();
  REQUIRE(threads.size() == 2);
  CHECK(threads[0] == caller);
  CHECK(threads[1] == caller);
}

// ---- Thread safety ------------------------------------------------------------------------------

TEST_CASE("Thread safety: close() from another thread fails a request in flight promptly", "[client][threads]") {
  FakeServer server;
  dhis2::Client client(server.url(), admin(), test_options());
  client.connect();
  server.inject("GET", "/api/me", Fault::delay_by(3s), 1);

  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    client.close();
  });
  const auto start = Clock::now();
  CHECK_THROWS_AS(client.get_raw("me"), dhis2::UsageError);
  const auto elapsed = since(start);
  closer.join();
  CHECK(elapsed < 1500ms);
  CHECK(server.requests_to("/api/me", "GET").size() == 1);  // failed, not sent again
}
