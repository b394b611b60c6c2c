// client.system() against the emulator: which reads cost a request and which come from the cache
// (info() primed by the handshake, the TTL, invalidate(), a TTL of 0), what me(), setting() and
// default_category_combo_uid() return, and the cache under concurrency: one request per key for
// many threads at once, whose answer (or failure) they all share. docs/client.md, "System reads".
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::User;
using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kThreads = 16;

// Short timeouts, so that a hang fails the test instead of stalling it.
dhis2::ClientOptions quick_options() {
  dhis2::ClientOptions options;
  options.timeout = 10s;
  options.connect_timeout = 5s;
  return options;
}

dhis2::Client client_of(const FakeServer& server, dhis2::ClientOptions options = quick_options()) {
  return dhis2::Client(server.url(), dhis2::BasicAuth{"admin", "district"}, std::move(options));
}

std::size_t gets_to(const FakeServer& server, const std::string& pattern) {
  return server.requests_to(pattern, "GET").size();
}

// The handshake's first step probes /api/system/info without credentials; only its second step,
// and any later read, carries them.
std::size_t authenticated_gets_to(const FakeServer& server, const std::string& pattern) {
  const auto requests = server.requests_to(pattern, "GET");
  return static_cast<std::size_t>(
      std::count_if(requests.begin(), requests.end(), [](const auto& r) { return !r.header("Authorization").empty(); }));
}

// What one thread got from a read: the value, or the error it threw.
struct Outcome {
  std::optional<Json> value;
  bool api_error = false;
  int status = 0;
  std::string error;  // what() of any exception
};

// Holds each thread until all kThreads have arrived.
class Barrier {
 public:
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (++arrived_ == kThreads) all_arrived_.notify_all();
    all_arrived_.wait(lock, [this] { return arrived_ == kThreads; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  int arrived_ = 0;
};

// Runs `read` on kThreads threads released at the same moment; returns what each one got.
template <class Read>
std::vector<Outcome> read_concurrently(Read read) {
  std::promise<void> go;
  const std::shared_future<void> start = go.get_future().share();
  Barrier done;
  std::vector<Outcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&read, &done, start, &outcome = outcomes[static_cast<std::size_t>(i)]] {
      start.wait();
      // The threads may all catch one shared exception object, freed when the last handler ends.
      // Each handler waits for every thread to finish reading before it ends: this orders the
      // free after the reads in a way ThreadSanitizer sees (it cannot see the reference count in
      // the uninstrumented libstdc++, and would report a race that is not there).
      try {
        outcome.value = read();
      } catch (const dhis2::ApiError& e) {
        outcome.api_error = true;
        outcome.status = e.status();
        outcome.error = e.what();
        done.arrive_and_wait();
        return;
      } catch (const std::exception& e) {
        outcome.error = e.what();
        done.arrive_and_wait();
        return;
      }
      done.arrive_and_wait();
    });
  }
  go.set_value();
  for (auto& t : threads) t.join();
  return outcomes;
}

}  // namespace

TEST_CASE("system().info() after connect() costs no request: the handshake primed it", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  client.connect();
  const std::size_t after_handshake = server.requests().size();
  REQUIRE(authenticated_gets_to(server, "/api/system/info") == 1);

  const Json info = client.system().info();

  CHECK(info.value("version", "") == "2.42.1");
  CHECK(info.value("serverTimeZoneId", "") == "Etc/UTC");
  CHECK(authenticated_gets_to(server, "/api/system/info") == 1);
  CHECK(server.requests().size() == after_handshake);
}

TEST_CASE("system().info() on an unconnected client connects and makes only the handshake's request",
          "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  REQUIRE(client.state() == dhis2::Client::State::Unconnected);

  const Json info = client.system().info();

  CHECK(client.state() == dhis2::Client::State::Connected);
  CHECK(info.value("version", "") == "2.42.1");
  CHECK(authenticated_gets_to(server, "/api/system/info") == 1);
  // Every request was the handshake's: the unauthenticated probe and the authenticated read.
  CHECK(gets_to(server, "/api/system/info") == server.requests().size());
}

TEST_CASE("system().info() is cached, and re-read after invalidate()", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  client.connect();
  auto system = client.system();
  system.info();
  system.info();
  REQUIRE(authenticated_gets_to(server, "/api/system/info") == 1);

  system.invalidate();
  const Json info = system.info();
  system.info();

  CHECK(info.value("version", "") == "2.42.1");
  CHECK(authenticated_gets_to(server, "/api/system/info") == 2);
}

TEST_CASE("invalidate() during a load: the value loaded meanwhile is not cached", "[client][system][concurrency]") {
  FakeServer server;
  server.inject("GET", "/api/systemSettings/keyUiLocale", Fault::delay_by(300ms), 1);
  auto client = client_of(server);
  client.connect();

  // A load that started before invalidate() may carry a value older than the invalidation.
  auto loading = std::async(std::launch::async, [&client] { return client.system().setting("keyUiLocale"); });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (gets_to(server, "/api/systemSettings/keyUiLocale") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(gets_to(server, "/api/systemSettings/keyUiLocale") == 1);  // the load is in flight
  client.system().invalidate();
  CHECK(loading.get() == Json("en"));

  CHECK(client.system().setting("keyUiLocale") == Json("en"));
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 2);
}

TEST_CASE("system_cache_ttl = 0 turns the cache off: every read requests", "[client][system]") {
  FakeServer server;
  auto options = quick_options();
  options.system_cache_ttl = 0s;
  auto client = client_of(server, options);
  client.connect();
  auto system = client.system();

  for (int i = 0; i < 2; ++i) {
    CHECK(system.info().value("version", "") == "2.42.1");
    CHECK(system.setting("keyUiLocale") == Json("en"));
    CHECK(system.default_category_combo_uid() == "bjDvmb4bfuf");
  }

  CHECK(authenticated_gets_to(server, "/api/system/info") == 3);  // the handshake's, then two
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 2);
  CHECK(gets_to(server, "/api/categoryCombos") == 2);
}

TEST_CASE("system().me() is never cached: two calls make two requests", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  auto system = client.system();

  system.me();
  system.me();

  CHECK(gets_to(server, "/api/me") == 2);
}

TEST_CASE("system().me() returns the user's authorities", "[client][system]") {
  FakeServerOptions options;
  options.users = {User{"maria", "Secret-1", {"F_PERFORM_MAINTENANCE", "F_DATAVALUE_ADD"}}};
  FakeServer server(options);
  dhis2::Client client(server.url(), dhis2::BasicAuth{"maria", "Secret-1"}, quick_options());

  const Json me = client.system().me();

  CHECK(me.value("username", "") == "maria");
  REQUIRE(me.contains("authorities"));
  auto authorities = me["authorities"].get<std::vector<std::string>>();
  std::sort(authorities.begin(), authorities.end());
  CHECK(authorities == std::vector<std::string>{"F_DATAVALUE_ADD", "F_PERFORM_MAINTENANCE"});
}

TEST_CASE("system().setting(\"keyUiLocale\") returns the server's value", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);

  const auto locale = client.system().setting("keyUiLocale");

  REQUIRE(locale.has_value());
  CHECK(*locale == Json("en"));
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 1);
}

TEST_CASE("system().setting() of a key the server does not have returns an empty optional", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);

  const auto absent = client.system().setting("keyNoSuchSetting");

  CHECK_FALSE(absent.has_value());
  CHECK(gets_to(server, "/api/systemSettings/keyNoSuchSetting") == 1);  // the server was asked
}

TEST_CASE("system().setting(\"\") throws UsageError without a request", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  client.connect();
  const std::size_t after_handshake = server.requests().size();

  CHECK_THROWS_AS(client.system().setting(""), dhis2::UsageError);
  CHECK(server.requests().size() == after_handshake);
}

TEST_CASE("system().default_category_combo_uid() returns the server's uid", "[client][system]") {
  FakeServerOptions options;
  options.default_category_combo = "Xr12mI7VPn3";
  FakeServer server(options);
  auto client = client_of(server);

  CHECK(client.system().default_category_combo_uid() == "Xr12mI7VPn3");
}

TEST_CASE("system().default_category_combo_uid() is cached", "[client][system]") {
  FakeServer server;
  auto client = client_of(server);
  auto system = client.system();

  const std::string first = system.default_category_combo_uid();
  const std::string second = client.system().default_category_combo_uid();  // another handle, same cache

  CHECK(first == "bjDvmb4bfuf");
  CHECK(second == first);
  CHECK(gets_to(server, "/api/categoryCombos") == 1);
}

TEST_CASE("concurrent first reads of one key make one request, and every thread gets its answer",
          "[client][system][concurrency]") {
  FakeServer server;
  // Slow answers keep the first load in flight while the other threads arrive.
  server.inject("GET", "/api/systemSettings/keyUiLocale", Fault::delay_by(100ms), -1);
  auto client = client_of(server);
  client.connect();

  const auto outcomes = read_concurrently([&client] { return client.system().setting("keyUiLocale"); });

  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 1);
  for (const auto& outcome : outcomes) {
    INFO(outcome.error);
    REQUIRE(outcome.value.has_value());
    CHECK(*outcome.value == Json("en"));
  }
}

TEST_CASE("a failed load throws ApiError and is not cached: the next read requests again", "[client][system]") {
  FakeServer server;
  server.inject("GET", "/api/systemSettings/keyUiLocale", Fault::status_page(500), 1);
  auto options = quick_options();
  options.retry.reset();
  auto client = client_of(server, options);
  auto system = client.system();

  try {
    system.setting("keyUiLocale");
    FAIL("setting() returned despite the 500");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 500);
  }
  const auto locale = system.setting("keyUiLocale");

  CHECK(locale == Json("en"));
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 2);
}

TEST_CASE("concurrent first reads whose load fails make one request, and every thread gets the ApiError",
          "[client][system][concurrency]") {
  FakeServer server;
  server.inject("GET", "/api/systemSettings/keyUiLocale", Fault::status_page(500), 1);
  auto options = quick_options();
  options.retry.reset();
  // The proxy's 500 is immediate: holding the loading thread in the hook keeps the load in flight
  // while the other threads arrive, as delay_by() does for a successful answer.
  options.on_request = [](const dhis2::RequestEvent& event) {
    if (event.url.find("/systemSettings/") != std::string::npos) std::this_thread::sleep_for(100ms);
  };
  auto client = client_of(server, options);
  client.connect();

  const auto outcomes = read_concurrently([&client] { return client.system().setting("keyUiLocale"); });

  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 1);
  for (const auto& outcome : outcomes) {
    INFO(outcome.error);
    CHECK_FALSE(outcome.value.has_value());
    CHECK(outcome.api_error);
    CHECK(outcome.status == 500);
  }
  // Not cached: the next read asks again, and the server now answers.
  CHECK(client.system().setting("keyUiLocale") == Json("en"));
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 2);
}

TEST_CASE("a cached value expires after system_cache_ttl", "[client][system]") {
  FakeServer server;
  auto options = quick_options();
  options.system_cache_ttl = 1s;  // the smallest TTL there is; the cache runs on steady_clock
  auto client = client_of(server, options);
  client.connect();
  auto system = client.system();

  const auto loaded = std::chrono::steady_clock::now();
  REQUIRE(system.setting("keyUiLocale") == Json("en"));
  REQUIRE(system.setting("keyUiLocale") == Json("en"));
  if (std::chrono::steady_clock::now() - loaded < 1s) {  // else this machine stalled past the TTL
    CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 1);
  }

  std::this_thread::sleep_for(1100ms);
  CHECK(system.setting("keyUiLocale") == Json("en"));
  CHECK(gets_to(server, "/api/systemSettings/keyUiLocale") == 2);
}
