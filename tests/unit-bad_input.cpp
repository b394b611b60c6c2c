// Bad input, table by table (issue 13): every public function that takes what a user types or
// configures (base URLs, request paths, task references and resume tokens, versions, options,
// durations, personal access tokens, job options) is given wrong values. Each must throw the
// typed error the table names, whose message names what was wrong; none may crash, hang, throw
// anything else, or show the password or token it was given. docs/reliability.md lists the rows.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;

// Credentials no message may show.
const std::string kPassword = "Pa55-w0rd-nEver-shown";
const std::string kToken = *dhis2::make_pat(dhis2::PatFormat::V2, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH");

enum class Want { Usage, UnsupportedVersion };

struct Case {
  const char* input;  // what was given, as the docs list it
  Want want;          // the type of the error
  const char* names;  // a part of the message that says what was wrong
  std::function<void()> call;
};

const char* want_name(Want w) { return w == Want::Usage ? "UsageError" : "UnsupportedVersionError"; }

void check_case(const Case& c) {
  INFO(c.input);
  std::string message;
  bool right_type = false;
  try {
    c.call();
    FAIL_CHECK("nothing was thrown; expected " << want_name(c.want));
    return;
  } catch (const dhis2::UnsupportedVersionError& e) {
    message = e.what();
    right_type = c.want == Want::UnsupportedVersion;
  } catch (const dhis2::UsageError& e) {
    message = e.what();
    right_type = c.want == Want::Usage;
  } catch (const dhis2::Error& e) {
    message = std::string(typeid(e).name()) + ": " + e.what();
  } catch (const std::exception& e) {
    message = std::string("not a dhis2::Error: ") + typeid(e).name() + ": " + e.what();
  }
  INFO("message: " << message);
  CHECK(right_type);
  CHECK(message.find(c.names) != std::string::npos);
  CHECK(message.find(kPassword) == std::string::npos);
  CHECK(message.find(kToken) == std::string::npos);
}

dhis2::BasicAuth auth() { return dhis2::BasicAuth{"admin", kPassword}; }

dhis2::Client client_with(dhis2::ClientOptions options) {
  return dhis2::Client("http://127.0.0.1:9", auth(), std::move(options));  // constructing connects nowhere
}

template <class Set>
dhis2::ClientOptions client_options(Set set) {
  dhis2::ClientOptions o;
  set(o);
  return o;
}

template <class Set>
dhis2::WatchOptions watch_options(Set set) {
  dhis2::WatchOptions o;
  set(o);
  return o;
}

}  // namespace

TEST_CASE("bad base URLs are refused with what is wrong and the expected form") {
  const std::vector<std::pair<const char*, const char*>> urls = {
      {"", "it has no scheme"},
      {"play.dhis2.org/dev", "it has no scheme"},
      {"ftp://play.dhis2.org", "the scheme must be http or https"},
      {"https://", "it has no host"},
      {"https://:8080", "it has no host"},
      {"https://play.dhis2.org:0", "the port must be a number from 1 to 65535"},
      {"https://play.dhis2.org:65536", "the port must be a number from 1 to 65535"},
      {"https://play.dhis2.org:80a", "the port must be a number from 1 to 65535"},
      {"https://play.dhis2.org/dev?x=1", "a base URL has no query or fragment"},
      {"https://play.dhis2.org/dev#top", "a base URL has no query or fragment"},
      {"https://play dhis2.org", "a space or a control character"},
      {"https://play.dhis2.org/\x01", "a space or a control character"},
      {"https://[::1", "the IPv6 address has no closing ']'"},
      {"https://[::1x]:8080", "the IPv6 address holds a character other than hex digits"},
      {"http://\x9c::1]:k:080/dhis", "the host holds a character other than letters"},  // found by fuzz_url
      {"https://pl\xc3\xa4y.dhis2.org", "xn-- form"},
      {"https://play.dhis2.org\\evil.example", "the host holds a character"},
      {"https://admin:Pa55-w0rd-nEver-shown@play.dhis2.org", "it contains credentials"},
  };
  for (const auto& [url, names] : urls) {
    for (int form = 0; form < 3; ++form) {
      check_case({url, Want::Usage, names, [url = std::string(url), form] {
                    if (form == 0) dhis2::Client c(url, auth());
                    if (form == 1) dhis2::Client c(url, dhis2::TokenAuth{kToken});
                    if (form == 2) dhis2::Client c(url, dhis2::BearerAuth::fixed(kToken));
                  }});
    }
  }
}

TEST_CASE("bad client options are refused by the constructor") {
  const std::vector<Case> cases = {
      {"timeout 0", Want::Usage, "ClientOptions::timeout must be positive",
       [] { client_with(client_options([](auto& o) { o.timeout = 0ms; })); }},
      {"timeout -1 s", Want::Usage, "ClientOptions::timeout must be positive",
       [] { client_with(client_options([](auto& o) { o.timeout = -1s; })); }},
      {"connect_timeout 0", Want::Usage, "ClientOptions::connect_timeout must be positive",
       [] { client_with(client_options([](auto& o) { o.connect_timeout = 0ms; })); }},
      {"pool_size 0", Want::Usage, "ClientOptions::pool_size must be at least 1",
       [] { client_with(client_options([](auto& o) { o.pool_size = 0; })); }},
      {"max_response_bytes 0", Want::Usage, "ClientOptions::max_response_bytes must be positive",
       [] { client_with(client_options([](auto& o) { o.max_response_bytes = 0; })); }},
      {"system_cache_ttl -1 s", Want::Usage, "ClientOptions::system_cache_ttl must not be negative",
       [] { client_with(client_options([](auto& o) { o.system_cache_ttl = -1s; })); }},
      {"ca_cert_path that does not exist", Want::Usage, "ClientOptions::ca_cert_path: cannot read",
       [] { client_with(client_options([](auto& o) { o.ca_cert_path = "/nonexistent/ca.pem"; })); }},
      {"version_pin \"2.x\"", Want::Usage, "ClientOptions::version_pin",
       [] { client_with(client_options([](auto& o) { o.version_pin = "2.x"; })); }},
      {"retry max_attempts 0", Want::Usage, "max_attempts must be at least 1",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->max_attempts = 0;
         }));
       }},
      {"retry base_delay -1 ms", Want::Usage, "delays must not be negative",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->base_delay = -1ms;
         }));
       }},
      {"retry backoff_factor 0.5", Want::Usage, "backoff_factor must be at least 1",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->backoff_factor = 0.5;
         }));
       }},
      {"retry backoff_factor NaN", Want::Usage, "backoff_factor must be at least 1",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->backoff_factor = std::numeric_limits<double>::quiet_NaN();
         }));
       }},
      {"retry jitter 1", Want::Usage, "jitter must be in [0, 1)",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->jitter = 1.0;
         }));
       }},
      {"user_agent with a line break", Want::Usage, "ClientOptions::user_agent",
       [] { client_with(client_options([](auto& o) { o.user_agent = "tool/1.0\r\nX-Injected: 1"; })); }},
      {"retry_statuses with 200", Want::Usage, "retry_statuses",
       [] {
         client_with(client_options([](auto& o) {
           o.retry = dhis2::RetryPolicy{};
           o.retry->retry_statuses = {200, 503};
         }));
       }},
  };
  for (const auto& c : cases) check_case(c);
}

TEST_CASE("bad credentials are refused before anything is sent") {
  const std::vector<Case> cases = {
      {"TokenAuth \"\"", Want::Usage, "TokenAuth", [] { dhis2::TokenAuth a{""}; }},
      {"TokenAuth without the d2p_ prefix", Want::Usage, "TokenAuth",
       [] { dhis2::TokenAuth a{"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"}; }},
      {"TokenAuth with a wrong checksum", Want::Usage, "TokenAuth",
       [] {
         std::string wrong = kToken;
         wrong.back() = wrong.back() == '0' ? '1' : '0';
         dhis2::TokenAuth a{wrong};
       }},
      {"TokenAuth with a trailing newline", Want::Usage, "TokenAuth", [] { dhis2::TokenAuth a{kToken + "\n"}; }},
      {"BasicAuth with an empty username", Want::Usage, "BasicAuth",
       [] {
         dhis2::Client c("http://127.0.0.1:9", dhis2::BasicAuth{"", kPassword});
       }},
      {"BasicAuth with a colon in the username", Want::Usage, "BasicAuth",
       [] {
         dhis2::Client c("http://127.0.0.1:9", dhis2::BasicAuth{"ad:min", kPassword});
       }},
      {"BasicAuth with a line break in the password", Want::Usage, "BasicAuth",
       [] {
         dhis2::Client c("http://127.0.0.1:9", dhis2::BasicAuth{"admin", kPassword + "\n"});
       }},
      {"BearerAuth::fixed(\"\")", Want::Usage, "BearerAuth::fixed: the token is empty",
       [] { dhis2::BearerAuth::fixed(""); }},
      {"BearerAuth::fixed with a trailing newline", Want::Usage, "BearerAuth::fixed: the token contains a line break",
       [] { dhis2::BearerAuth::fixed(kToken + "\n"); }},
      {"BearerAuth with an empty provider", Want::Usage, "BearerAuth: the token provider is empty",
       [] { dhis2::BearerAuth a{dhis2::BearerAuth::Provider{}}; }},
  };
  for (const auto& c : cases) check_case(c);
}

TEST_CASE("bad task references and resume tokens are refused with what is wrong") {
  const std::vector<std::pair<const char*, const char*>> refs = {
      {"", "invalid task reference"},
      {"ANALYTICS_TABLE", "invalid task reference"},
      {"ANALYTICS_TABLE/", "invalid task reference"},
      {"/BFa3jDsbtdO", "invalid task reference"},
      {"analytics table/BFa3jDsbtdO", "invalid task reference"},
      {"d2w1.", "invalid resume token"},
      {"d2w1.!!!not-base64!!!", "invalid resume token"},
      {"d2w1.eyJ0eXBlIjoiQU5BTFlUSUNTX1RBQkxFIn0", "invalid resume token"},  // {"type":"ANALYTICS_TABLE"}: no uid
  };
  for (const auto& [text, names] : refs) {
    check_case({text, Want::Usage, names, [t = std::string(text)] { dhis2::TaskRef::parse(t); }});
  }
}

TEST_CASE("bad server versions are refused with the expected form") {
  for (const char* text : {"", "2", "2.x", "two.forty", "2.40.", ".40.1", "2.40.1.2.3", "2.40.1-beta"}) {
    check_case({text, Want::UnsupportedVersion, "is not a DHIS2 version",
                [t = std::string(text)] { dhis2::ServerVersion::parse(t); }});
    CHECK_FALSE(dhis2::ServerVersion::try_parse(text));
  }
}

TEST_CASE("bad watch options, durations and job options are refused when used") {
  FakeServer server;
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"});
  const dhis2::TaskRef ref{"ANALYTICS_TABLE", "BFa3jDsbtdO"};
  const std::vector<Case> cases = {
      {"an empty task reference", Want::Usage, "the task reference is empty",
       [&] { dhis2::TaskWatcher w(client, dhis2::TaskRef{}); }},
      {"poll_interval 0", Want::Usage, "poll intervals must be positive",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.poll_interval = 0ms; })); }},
      {"initial_poll_interval -1 ms", Want::Usage, "poll intervals must be positive",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.initial_poll_interval = -1ms; })); }},
      {"start_grace -1 s", Want::Usage, "start_grace and summary_wait must not be negative",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.start_grace = -1s; })); }},
      {"summary_wait -1 s", Want::Usage, "start_grace and summary_wait must not be negative",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.summary_wait = -1s; })); }},
      {"stall_timeout 0", Want::Usage, "stall_timeout must be positive when set",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.stall_timeout = 0ms; })); }},
      {"progress_interval 0", Want::Usage, "progress_interval must be positive",
       [&] { dhis2::TaskWatcher w(client, ref, watch_options([](auto& o) { o.progress_interval = 0ms; })); }},
      {"wait(-1 s)", Want::Usage, "the timeout must not be negative", [&] { dhis2::TaskWatcher(client, ref).wait(-1s); }},
      {"for_each_notification with an empty callback", Want::Usage, "the callback is empty",
       [&] { dhis2::TaskWatcher(client, ref).for_each_notification({}, 1s); }},
      {"a request path that is a URL", Want::Usage, "a request path is relative to the base URL",
       [&] { client.get_raw("https://evil.example/api/me"); }},
      {"a request path that is a URL in upper case", Want::Usage, "a request path is relative to the base URL",
       [&] { client.get_raw("HTTPS://evil.example/api/me"); }},
      {"a request path with a line break", Want::Usage, "request path contains a line break or another control",
       [&] { client.get_raw("system/info\nX-Injected: 1"); }},
      {"a request path with a tab", Want::Usage, "request path contains a line break or another control",
       [&] { client.get_raw("system/info\tx"); }},
      {"a request path with a NUL", Want::Usage, "request path contains a line break or another control",
       [&] { client.get_raw(std::string("system/info\0/../me", 19)); }},
      {"a bearer token provider that returns a line break", Want::Usage, "token with a line break",
       [&] {
         dhis2::Client bearer(server.url(), dhis2::BearerAuth([](bool) { return kToken + "\r\nX-Injected: 1"; }));
         bearer.get_raw("system/info");
       }},
      {"TaskManagerOptions full_poll_interval 0", Want::Usage, "full_poll_interval must be positive",
       [&] {
         dhis2::TaskManagerOptions o;
         o.full_poll_interval = 0ms;
         dhis2::TaskManager m(client, o);
       }},
      {"RequestOptions timeout 0", Want::Usage, "RequestOptions::timeout must be positive",
       [&] {
         dhis2::RequestOptions o;
         o.timeout = 0ms;
         client.get_raw("system/info", {}, o);
       }},
      {"AnalyticsOptions last_years 0", Want::Usage, "AnalyticsOptions::last_years must be at least 1",
       [&] {
         dhis2::AnalyticsOptions o;
         o.last_years = 0;
         client.jobs().start_analytics(o);
       }},
      {"PredictionOptions without dates", Want::Usage, "start_date and end_date are required",
       [&] { client.jobs().start_predictions(dhis2::PredictionOptions{}); }},
      {"SystemApi::setting(\"\")", Want::Usage, "the key is empty", [&] { client.system().setting(""); }},
      {"TaskManagerOptions threads 0", Want::Usage, "threads must be at least 1",
       [&] {
         dhis2::TaskManagerOptions o;
         o.threads = 0;
         dhis2::TaskManager m(client, o);
       }},
      {"TaskManager::watch with a timeout of -1 s", Want::Usage, "the timeout must not be negative",
       [&] {
         dhis2::TaskManager m(client);
         m.watch(ref, {}, {}, -1s);
       }},
      {"TaskManager::resume with a bad token", Want::Usage, "token 1 of 1",
       [&] {
         dhis2::TaskManager m(client);
         m.resume({"d2w1.garbage"});
       }},
      {"TaskManager::wait_all with a timeout of -1 s", Want::Usage, "the timeout must not be negative",
       [&] {
         dhis2::TaskManager m(client);
         m.wait_all({}, -1s);
       }},
  };
  for (const auto& c : cases) check_case(c);
}

// What cpp-httplib encodes is no error: a space in a path goes out as %20.
TEST_CASE("a request path with a space is sent percent-encoded") {
  FakeServer server;
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"});
  CHECK_NOTHROW(client.get_raw("system/info?unused=a b"));
  const auto log = server.requests();
  REQUIRE_FALSE(log.empty());
  CHECK(log.back().query == "unused=a%20b");
}
