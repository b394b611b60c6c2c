// The parts a Client is made of, each alone (docs/architecture.md "The client"): the retry
// policy and Retry-After, credentials and the bearer refresh, the classification of answers, the
// request pipeline over a scripted transport, and cancellation. Then what they give a user of the
// Client against the emulator: per-call options, a cancel or close() that reaches a request in
// flight, a movable Client whose handles cannot dangle, and a version query that never throws.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::CancellationToken;
using dhis2::RequestOptions;
using dhis2::Response;
using dhis2::RetryPolicy;
using dhis2::detail::AuthScheme;
using dhis2::detail::Backoff;
using dhis2::detail::Call;
using dhis2::detail::HttpRequest;
using dhis2::detail::HttpResult;
using dhis2::detail::RequestPipeline;
using dhis2::detail::TransportFailure;
using dhis2::testing::FakeServer;
using dhis2::testing::Fault;
using std::chrono::milliseconds;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

HttpResult answer(int status, std::string body = "{}", std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResult r;
  r.response.status = status;
  r.response.body = std::move(body);
  r.response.headers = std::move(headers);
  if (r.response.headers.empty()) r.response.headers.emplace_back("Content-Type", "application/json");
  return r;
}

HttpResult failure(TransportFailure kind) {
  HttpResult r;
  r.failure = kind;
  r.error = "scripted failure";
  return r;
}

RetryPolicy policy(int attempts, milliseconds base = 100ms, double factor = 2.0, double jitter = 0.0) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay = base;
  p.max_delay = 1000ms;
  p.backoff_factor = factor;
  p.jitter = jitter;
  return p;
}

// A transport that answers from a script and records what it was asked.
class ScriptedTransport final : public dhis2::detail::Transport {
 public:
  explicit ScriptedTransport(std::deque<HttpResult> script) : script_(std::move(script)) {}
  HttpResult send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    if (script_.empty()) return answer(200);
    HttpResult next = script_.front();
    script_.pop_front();
    return next;
  }
  void close() override {}
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  std::deque<HttpResult> script_;
  std::vector<HttpRequest> requests_;
};

std::string header(const HttpRequest& request, const std::string& name) {
  for (const auto& h : request.headers) {
    if (h.first == name) return h.second;
  }
  return {};
}

Call get_call(const std::string& target = "/api/me") {
  Call call;
  call.method = "GET";
  call.target = target;
  call.url = "http://dhis2.example" + target;
  return call;
}

dhis2::ClientOptions pipeline_options(std::optional<RetryPolicy> retry,
                                      std::vector<dhis2::RequestEvent>* events = nullptr) {
  dhis2::ClientOptions options;
  options.retry = std::move(retry);
  options.user_agent = "test-agent";
  if (events) options.on_request = [events](const dhis2::RequestEvent& e) { events->push_back(e); };
  return options;
}

const dhis2::BasicAuth kAdmin{"admin", "district"};

dhis2::ClientOptions fast() {
  dhis2::ClientOptions options;
  options.connect_timeout = 2s;
  options.timeout = 10s;
  options.retry->base_delay = 1ms;
  options.retry->max_delay = 5ms;
  return options;
}

using test_support::eventually;

}  // namespace

// ---- the retry policy -----------------------------------------------------------------------------

TEST_CASE("Retry-After: delta-seconds and HTTP dates (RFC 9110 §10.2.3)", "[parts][retry]") {
  using dhis2::detail::parse_retry_after;
  const auto now = std::chrono::system_clock::from_time_t(784111767);  // Sun, 06 Nov 1994 08:49:27 GMT
  CHECK(parse_retry_after("120", now) == milliseconds(120000));
  CHECK(parse_retry_after("0", now) == milliseconds(0));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == milliseconds(10000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:17 GMT", now) == milliseconds(0));  // in the past
  // Over 292 years before now: the difference of the two nanosecond times overflowed (UBSan,
  // found by fuzz_retry_after).
  CHECK(parse_retry_after("Mon, 01 Mar 1700 00:00:00 GMT", now) == milliseconds(0));
  CHECK(parse_retry_after("9999999999", now) == milliseconds::max());  // absurdly long: capped later
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now));  // the obsolete RFC 850 form
}

TEST_CASE("HTTP dates: IMF-fixdate both ways, anything else refused", "[parts][pacing]") {
  using dhis2::detail::format_http_date;
  using dhis2::detail::parse_http_date;
  const auto rfc_example = std::chrono::system_clock::from_time_t(784111777);  // RFC 9110 §5.6.7
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == rfc_example);
  CHECK(format_http_date(rfc_example) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(rfc_example + 999ms) == "Sun, 06 Nov 1994 08:49:37 GMT");  // to the second
  CHECK(format_http_date(std::chrono::system_clock::from_time_t(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(std::chrono::system_clock::from_time_t(951782400)) == "Tue, 29 Feb 2000 00:00:00 GMT");
  for (const std::int64_t t : {0LL, 951782400LL, 1735689599LL, 1764720000LL, 4102444800LL}) {
    const auto when = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(t));
    INFO(t);
    CHECK(parse_http_date(format_http_date(when)) == when);
  }
  CHECK_FALSE(parse_http_date(""));
  CHECK_FALSE(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"));   // 6 November 1994 was a Sunday
  CHECK_FALSE(parse_http_date("Sun, 31 Nov 1994 08:49:37 GMT"));   // no such day
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 24:49:37 GMT"));   // no such hour
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));   // only GMT
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT "));  // trailing bytes
  CHECK_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850
  CHECK_FALSE(parse_http_date("Sun Nov  6 08:49:37 1994"));        // asctime
  CHECK_FALSE(parse_http_date("Sun, 06 Nvm 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"));  // a real date, past what system_clock holds
  CHECK(parse_http_date("Thu, 31 Dec 2099 23:59:59 GMT"));
}

TEST_CASE("ServerClock: Date headers narrow the server's time to about the round trip", "[parts][pacing]") {
  using dhis2::detail::ServerClock;
  using steady = std::chrono::steady_clock;
  // The server's clock is 1,000,000.4 s (UTC) at steady t0. Answers take 10 ms; the server
  // reads its clock 5 ms after the request leaves.
  const steady::time_point t0{std::chrono::hours(100)};
  const auto server_at = [&](steady::time_point t) {
    return std::chrono::system_clock::time_point(1000000400ms + std::chrono::duration_cast<milliseconds>(t - t0));
  };
  const auto answer = [&](ServerClock& clock, steady::time_point sent) {
    const auto date = std::chrono::floor<std::chrono::seconds>(server_at(sent + 5ms));
    clock.observe(date, sent, sent + 10ms);
  };
  ServerClock clock;
  CHECK_FALSE(clock.read(t0));
  answer(clock, t0);
  auto reading = clock.read(t0);
  REQUIRE(reading);
  CHECK(reading->uncertainty >= 500ms);  // one answer: anywhere in its second
  CHECK(std::chrono::abs(reading->time - server_at(t0)) <= reading->uncertainty);
  // Answers at other fractions of a second narrow it.
  for (const auto later : {1350ms, 2700ms, 4050ms, 5900ms, 7222ms, 8575ms}) answer(clock, t0 + later);
  reading = clock.read(t0 + 10s);
  REQUIRE(reading);
  CHECK(reading->uncertainty <= 100ms);
  CHECK(std::chrono::abs(reading->time - server_at(t0 + 10s)) <= reading->uncertainty);
  // The server's clock is set back an hour: the next answer contradicts the others and wins.
  const auto set_back = std::chrono::floor<std::chrono::seconds>(server_at(t0 + 20s) - 1h);
  clock.observe(set_back, t0 + 20s, t0 + 20s + 10ms);
  reading = clock.read(t0 + 20s);
  REQUIRE(reading);
  CHECK(std::chrono::abs(reading->time - (server_at(t0 + 20s) - 1h)) <= 1s);
}

TEST_CASE("The handshake reads the server's time to the millisecond, in UTC, whatever its zone", "[parts][pacing]") {
  const auto zone = GENERATE(as<std::chrono::minutes>{}, 0min, 330min, -300min);
  dhis2::testing::FakeServerOptions options;
  options.start_time = std::chrono::system_clock::from_time_t(1747735920) + 456ms;  // 10:12:00.456Z
  options.time_zone = dhis2::testing::ServerTimeZone::fixed("Test/Zone", "Test zone", zone);
  dhis2::testing::FakeServer server(options);  // its clock stands still
  dhis2::Client client(server.url(), dhis2::BasicAuth{"admin", "district"});
  const auto core = dhis2::detail::core_of(client);
  CHECK_FALSE(core->server_time_sample());  // never connects
  client.connect();
  const auto sample = core->server_time_sample();
  REQUIRE(sample);
  CHECK(sample->utc == options.start_time);
  CHECK(sample->sent <= sample->received);
  // The watcher's clock, seeded from it, knows the server's time to the round trip.
  dhis2::detail::ServerClock clock;
  clock.observe(sample->utc, sample->sent, sample->received, 1ms);
  const auto reading = clock.read(sample->received);
  REQUIRE(reading);
  CHECK(reading->uncertainty <= (sample->received - sample->sent) / 2 + 2ms);
}

TEST_CASE("The job's start: from its first row on the server's clock, any zone", "[parts][pacing]") {
  using dhis2::LocalTime;
  using dhis2::detail::estimate_job_start;
  using dhis2::detail::ServerClock;
  using steady = std::chrono::steady_clock;
  const steady::time_point t0{std::chrono::hours(100)};
  // A server at 2025-05-20T10:12:00Z at t0, known to 10 ms.
  const auto utc = std::chrono::system_clock::from_time_t(1747735920);
  ServerClock clock;
  for (int i = 0; i < 20; ++i) {
    const auto sent = t0 + milliseconds(i * 1050);
    const auto date = std::chrono::floor<std::chrono::seconds>(utc + milliseconds(i * 1050) + 5ms);
    clock.observe(date, sent, sent + 10ms);
  }
  const auto answered = t0 + 19950ms + 10ms;  // the last answer: the server's clock read 10:12:19.955
  const auto row_at = [&](std::chrono::minutes zone, milliseconds before_answer) {
    const auto local = utc + 19955ms + zone - before_answer;
    return LocalTime(std::chrono::duration_cast<milliseconds>(local.time_since_epoch()));
  };
  for (const auto zone : {0min, 60min, -300min, 330min, 345min, 780min}) {  // UTC, CET, EST, India, Nepal, +13
    INFO("zone " << zone.count() << " min");
    const auto start = estimate_job_start(row_at(zone, 1500ms), std::nullopt, clock, std::nullopt, answered);
    REQUIRE(start);
    CHECK(std::chrono::abs(*start - (answered - 1500ms)) <= 50ms);
  }
  // Never before the last poll that found nothing, never after the answer that found it.
  const auto bounded = estimate_job_start(row_at(0min, 1500ms), std::nullopt, clock, answered - 400ms, answered);
  REQUIRE(bounded);
  CHECK(*bounded == answered - 400ms);
  const auto future_row = estimate_job_start(row_at(0min, -300ms), std::nullopt, clock, std::nullopt, answered);
  REQUIRE(future_row);
  CHECK(*future_row == answered);
  // Rows that span half an hour: the job is as old as that, not the 1.5 s its first row's time
  // says modulo the quarter hours; rows that span a minute of a job 30 minutes old: at least 15.
  const auto long_job = estimate_job_start(row_at(0min, 30min + 1500ms), row_at(0min, 1s), clock, std::nullopt, answered);
  REQUIRE(long_job);
  CHECK(std::chrono::abs((answered - *long_job) - (30min + 1500ms)) <= 50ms);
  const auto quiet_job = estimate_job_start(row_at(0min, 30min + 1500ms), row_at(0min, 29min), clock, std::nullopt,
                                            answered);
  REQUIRE(quiet_job);
  CHECK(answered - *quiet_job >= 15min);
  const auto young_job = estimate_job_start(row_at(0min, 1500ms), row_at(0min, 200ms), clock, std::nullopt, answered);
  REQUIRE(young_job);
  CHECK(std::chrono::abs(*young_job - (answered - 1500ms)) <= 50ms);
  // A job older than 7.5 minutes reads as old (the pause is then the longest).
  const auto old = estimate_job_start(row_at(0min, 10min), std::nullopt, clock, std::nullopt, answered);
  REQUIRE(old);
  CHECK(answered - *old >= 7min);
  // One answer leaves a second of doubt: the job is then taken as young as that allows, never older.
  for (const auto phase : {0ms, 300ms, 700ms, 999ms}) {
    INFO("the server's clock read " << phase.count() << " ms into its second");
    ServerClock one;
    const auto sent = t0 + 5s;
    one.observe(std::chrono::floor<std::chrono::seconds>(utc + 5s + phase), sent, sent);
    const auto true_start = sent - 800ms;
    const auto row = LocalTime(std::chrono::duration_cast<milliseconds>((utc + 5s + phase - 800ms).time_since_epoch()));
    const auto start = estimate_job_start(row, std::nullopt, one, std::nullopt, sent);
    REQUIRE(start);
    CHECK(*start >= true_start);
    CHECK(*start - true_start <= 1001ms);
  }
  // Without a clock: the middle of the polls' bounds, or nothing.
  CHECK(estimate_job_start(row_at(0min, 1s), std::nullopt, ServerClock{}, answered - 2s, answered) == answered - 1s);
  CHECK_FALSE(estimate_job_start(row_at(0min, 1s), std::nullopt, ServerClock{}, std::nullopt, answered));
  CHECK_FALSE(estimate_job_start(std::nullopt, std::nullopt, ServerClock{}, std::nullopt, answered));
}

TEST_CASE("Polls come at fixed ages from the job's start, whenever the watch began", "[parts][pacing]") {
  using dhis2::detail::pause_for_age;
  // Watched from its start: six polls in its first five seconds, then every 2 s.
  std::vector<milliseconds> ages{0ms};
  while (ages.back() < 10s) ages.push_back(ages.back() + pause_for_age(ages.back(), 250ms, 2000ms));
  const std::vector<milliseconds> points{0ms, 250ms, 625ms, 1187ms, 2030ms, 3295ms, 5192ms, 7192ms, 9192ms, 11192ms};
  CHECK(ages == points);
  // First seen at 1.5 s or 4.4 s: the next poll is the next of those ages.
  CHECK(pause_for_age(1500ms, 250ms, 2000ms) == 530ms);
  CHECK(pause_for_age(4400ms, 250ms, 2000ms) == 792ms);
  CHECK(pause_for_age(7000ms, 250ms, 2000ms) == 2000ms);  // past the ramp: every 2 s
  // Just before an age (less than half a first pause): the one after it, never more than 2 s.
  CHECK(pause_for_age(1150ms, 250ms, 2000ms) == 880ms);
  CHECK(pause_for_age(7150ms, 250ms, 2000ms) == 2000ms);
  CHECK(pause_for_age(0ms, 250ms, 2000ms) == 250ms);
  // An old job: at most the longest pause, however old.
  for (const auto age : {60s, 3600s, 86400s}) {
    const auto pause = pause_for_age(age, 250ms, 2000ms);
    CHECK(pause > 125ms);
    CHECK(pause <= 2000ms);
  }
  // A first pause longer than the longest: the longest.
  CHECK(pause_for_age(0ms, 5s, 2s) == 2s);
}

TEST_CASE("Backoff: exponential, capped, jittered within bounds", "[parts][retry]") {
  Backoff backoff(42);
  const auto p = policy(10, 100ms, 2.0, 0.0);
  CHECK(backoff.backoff(p, 1) == 100ms);
  CHECK(backoff.backoff(p, 2) == 200ms);
  CHECK(backoff.backoff(p, 3) == 400ms);
  CHECK(backoff.backoff(p, 5) == 1000ms);  // 1600 capped at max_delay
  CHECK(backoff.backoff(p, 60) == 1000ms);

  const auto jittered = policy(10, 100ms, 2.0, 0.25);
  bool varied = false;
  std::optional<milliseconds> first;
  for (int i = 0; i < 200; ++i) {
    const auto d = backoff.backoff(jittered, 2);
    CHECK(d >= 150ms);
    CHECK(d <= 250ms);
    if (first && d != *first) varied = true;
    first = d;
  }
  CHECK(varied);
}

TEST_CASE("Backoff: what is retried, and when it stops", "[parts][retry]") {
  Backoff backoff(7);
  const auto p = policy(3);
  CHECK(backoff.delay(p, answer(503), 1) == 100ms);
  CHECK(backoff.delay(p, answer(503), 2) == 200ms);
  CHECK_FALSE(backoff.delay(p, answer(503), 3));  // the attempts are used up
  CHECK_FALSE(backoff.delay(p, answer(500), 1));  // not a retried status
  CHECK_FALSE(backoff.delay(p, answer(200), 1));
  CHECK_FALSE(backoff.delay(p, answer(404), 1));
  CHECK(backoff.delay(p, answer(429, "", {{"Retry-After", "0"}}), 1) == 0ms);
  CHECK(backoff.delay(p, answer(429, "", {{"Retry-After", "3600"}}), 1) == 1000ms);  // capped at max_delay
  CHECK(backoff.delay(p, failure(TransportFailure::Connect), 1) == 100ms);
  CHECK(backoff.delay(p, failure(TransportFailure::Timeout), 1) == 100ms);
  CHECK_FALSE(backoff.delay(p, failure(TransportFailure::Tls), 1));  // retrying will not help
  CHECK_FALSE(backoff.delay(p, failure(TransportFailure::TooLarge), 1));
  auto no_connection_retries = p;
  no_connection_retries.retry_connection_errors = false;
  CHECK_FALSE(backoff.delay(no_connection_retries, failure(TransportFailure::Connect), 1));
}

TEST_CASE("A retry policy that cannot work is refused with the field's name", "[parts][retry]") {
  using dhis2::detail::validate_retry_policy;
  auto p = policy(0);
  CHECK_THROWS_WITH(validate_retry_policy(p, "RequestOptions::retry"),
                    Catch::Contains("RequestOptions::retry::max_attempts"));
  p = policy(2, 100ms, 0.5);
  CHECK_THROWS_WITH(validate_retry_policy(p), Catch::Contains("backoff_factor"));
  p = policy(2, 100ms, 2.0, 1.0);
  CHECK_THROWS_WITH(validate_retry_policy(p), Catch::Contains("jitter"));
  p = policy(2, -1ms);
  CHECK_THROWS_AS(validate_retry_policy(p), dhis2::UsageError);
}

// ---- credentials ----------------------------------------------------------------------------------

TEST_CASE("Credentials: the Authorization header of each scheme", "[parts][credentials]") {
  // RFC 7617 §2's example.
  dhis2::detail::Credentials basic(dhis2::BasicAuth{"Aladdin", "open sesame"});
  CHECK(basic.current().value == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(basic.scheme() == AuthScheme::Basic);
  CHECK_FALSE(basic.refreshable());

  const std::string pat = *dhis2::make_pat(dhis2::PatFormat::V2, "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3r");
  dhis2::detail::Credentials token{dhis2::TokenAuth(pat)};
  CHECK(token.current().value == "ApiToken " + pat);

  dhis2::detail::Credentials bearer(dhis2::BearerAuth::fixed("abc"));
  CHECK(bearer.current().value == "Bearer abc");
  CHECK(bearer.refreshable());
}

TEST_CASE("Credentials: threads refused with one bearer token share one refresh", "[parts][credentials]") {
  std::atomic<int> refreshes{0};
  dhis2::detail::Credentials credentials(dhis2::BearerAuth([&refreshes](bool refresh) {
    if (!refresh) return std::string("stale");
    ++refreshes;
    std::this_thread::sleep_for(20ms);  // a slow identity provider: the others arrive meanwhile
    return std::string("fresh");
  }));
  const auto seen = credentials.current();
  CHECK(seen.value == "Bearer stale");
  std::vector<std::future<std::string>> threads;
  for (int i = 0; i < 4; ++i) {
    threads.push_back(std::async(std::launch::async, [&] { return credentials.refreshed(seen.generation).value; }));
  }
  for (auto& t : threads) CHECK(t.get() == "Bearer fresh");
  CHECK(refreshes == 1);
  // A 401 to the fresh token refreshes again.
  credentials.refreshed(seen.generation + 1);
  CHECK(refreshes == 2);
}

// ---- classification -------------------------------------------------------------------------------

TEST_CASE("Classification: each kind of answer becomes JSON or its typed error", "[parts][classify]") {
  using dhis2::detail::classify_response;
  CHECK(classify_response(answer(200, R"({"a":1})").response, "GET", "/api/x", AuthScheme::Basic)["a"] == 1);
  CHECK(classify_response(answer(204, "").response, "GET", "/api/x", AuthScheme::Basic).is_null());
  CHECK_THROWS_AS(classify_response(answer(200, "<html>login</html>", {{"Content-Type", "text/html"}}).response, "GET",
                                    "/api/x", AuthScheme::Basic),
                  dhis2::UnexpectedResponseError);
  try {
    classify_response(answer(302, "", {{"Location", "https://sso.example/login?next=x"}}).response, "GET", "/api/x?k=v",
                      AuthScheme::Basic);
    FAIL("no error");
  } catch (const dhis2::AuthenticationError& e) {
    CHECK(e.status() == 302);
    CHECK(contains(e.what(), "login page"));
    CHECK_FALSE(contains(e.what(), "k=v"));  // no query values in messages
  }
  try {
    classify_response(
        answer(401, R"({"httpStatus":"Unauthorized","httpStatusCode":401,"status":"ERROR","message":"Unauthorized"})")
            .response,
        "GET", "/api/me", AuthScheme::Token);
    FAIL("no error");
  } catch (const dhis2::AuthenticationError& e) {
    CHECK(contains(e.what(), "personal access token"));
  }
  try {
    classify_response(
        answer(409,
               R"({"httpStatus":"Conflict","httpStatusCode":409,"status":"ERROR","message":"Busy","errorCode":"E7010"})")
            .response,
        "POST", "/api/resourceTables/analytics", AuthScheme::Basic);
    FAIL("no error");
  } catch (const dhis2::ApiError& e) {
    CHECK(e.status() == 409);
    CHECK(e.error_code() == "E7010");
    REQUIRE(e.web_message() != nullptr);
    CHECK(e.web_message()->message == "Busy");
    CHECK(e.response().status == 409);
  }
}

// ---- the pipeline ---------------------------------------------------------------------------------

TEST_CASE("Pipeline: a retried status, every attempt reported with credentials redacted", "[parts][pipeline]") {
  std::vector<dhis2::RequestEvent> events;
  RequestPipeline pipeline(pipeline_options(policy(3, 1ms), &events), kAdmin, 1);
  ScriptedTransport transport({answer(503), answer(200, R"({"ok":true})")});
  const Response r = pipeline.run(transport, get_call());
  CHECK(r.status == 200);
  const auto sent = transport.requests();
  REQUIRE(sent.size() == 2);
  CHECK(header(sent[0], "Authorization") == "Basic YWRtaW46ZGlzdHJpY3Q=");
  CHECK(header(sent[0], "X-Requested-With") == "XMLHttpRequest");
  CHECK(header(sent[0], "User-Agent") == "test-agent");
  REQUIRE(events.size() == 2);
  CHECK(events[0].will_retry);
  CHECK(events[0].status == 503);
  CHECK_FALSE(events[1].will_retry);
  CHECK(events[1].attempt == 2);
  for (const auto& e : events) {
    for (const auto& h : e.request_headers) CHECK_FALSE(contains(h.second, "YWRtaW46ZGlzdHJpY3Q="));
  }
}

TEST_CASE("Pipeline: a POST, and a call that may not be retried, get one attempt", "[parts][pipeline]") {
  RequestPipeline pipeline(pipeline_options(policy(3, 1ms)), kAdmin, 1);
  ScriptedTransport transport({answer(503), answer(503)});
  Call post = get_call();
  post.method = "POST";
  post.idempotent = false;
  CHECK(pipeline.run(transport, post).status == 503);
  Call kick_off = get_call();
  kick_off.retry_allowed = false;
  CHECK(pipeline.run(transport, kick_off).status == 503);
  CHECK(transport.requests().size() == 2);
}

TEST_CASE("Pipeline: a failure without an answer is a TransportError of its kind", "[parts][pipeline]") {
  RequestPipeline pipeline(pipeline_options(policy(2, 1ms)), kAdmin, 1);
  ScriptedTransport transport({failure(TransportFailure::Connect), failure(TransportFailure::Connect)});
  try {
    pipeline.run(transport, get_call());
    FAIL("no error");
  } catch (const dhis2::TransportError& e) {
    CHECK(e.kind() == dhis2::TransportErrorKind::Connect);
    CHECK(contains(e.what(), "GET http://dhis2.example/api/me"));
  }
  CHECK(transport.requests().size() == 2);
}

TEST_CASE("Pipeline: a 401 to a bearer token refreshes it once, outside the retry budget", "[parts][pipeline]") {
  int refreshes = 0;
  RequestPipeline pipeline(pipeline_options(policy(1)), dhis2::BearerAuth([&refreshes](bool refresh) {
                             if (refresh) ++refreshes;
                             return std::string(refresh ? "fresh" : "stale");
                           }),
                           1);
  ScriptedTransport transport({answer(401), answer(200)});
  CHECK(pipeline.run(transport, get_call()).status == 200);
  const auto sent = transport.requests();
  REQUIRE(sent.size() == 2);
  CHECK(header(sent[0], "Authorization") == "Bearer stale");
  CHECK(header(sent[1], "Authorization") == "Bearer fresh");
  CHECK(refreshes == 1);

  ScriptedTransport refused({answer(401), answer(401)});
  CHECK(pipeline.run(refused, get_call()).status == 401);  // refreshed once, then the 401 stands
  CHECK(refused.requests().size() == 2);
}

TEST_CASE("Pipeline: the probe carries no credentials", "[parts][pipeline]") {
  RequestPipeline pipeline(pipeline_options(std::nullopt), kAdmin, 1);
  ScriptedTransport transport({answer(200)});
  Call probe = get_call("/api/system/info");
  probe.authenticate = false;
  pipeline.run(transport, probe);
  CHECK(header(transport.requests().at(0), "Authorization").empty());
}

TEST_CASE("Pipeline: per-call options override the client's", "[parts][pipeline]") {
  RequestPipeline pipeline(pipeline_options(policy(3, 1ms)), kAdmin, 1);
  ScriptedTransport transport({answer(503), answer(503), answer(503)});
  RequestOptions once;
  once.retry = policy(1);
  once.timeout = 250ms;
  Call call = get_call();
  call.options = &once;
  CHECK(pipeline.run(transport, call).status == 503);
  const auto sent = transport.requests();
  REQUIRE(sent.size() == 1);
  REQUIRE(sent[0].timeout);
  CHECK(*sent[0].timeout == 250ms);

  RequestOptions bad;
  bad.timeout = 0ms;
  call.options = &bad;
  CHECK_THROWS_WITH(pipeline.run(transport, call), Catch::Contains("RequestOptions::timeout"));
  bad.timeout.reset();
  bad.retry = policy(0);
  CHECK_THROWS_WITH(pipeline.run(transport, call), Catch::Contains("RequestOptions::retry::max_attempts"));
}

TEST_CASE("Pipeline: a cancel wakes a call that sleeps before its retry", "[parts][pipeline][cancel]") {
  RequestPipeline pipeline(pipeline_options(policy(3, 60s)), kAdmin, 1);
  ScriptedTransport transport({answer(503), answer(200)});
  RequestOptions options;
  options.cancellation = CancellationToken();
  Call call = get_call();
  call.options = &options;
  auto waiting = std::async(std::launch::async, [&] { return pipeline.run(transport, call); });
  std::this_thread::sleep_for(50ms);
  options.cancellation->cancel();
  REQUIRE(waiting.wait_for(5s) == std::future_status::ready);  // not the 60 s backoff
  CHECK_THROWS_AS(waiting.get(), dhis2::CancelledError);
  CHECK(transport.requests().size() == 1);

  // A cancelled token stops the next call before it sends anything.
  CHECK_THROWS_AS(pipeline.run(transport, call), dhis2::CancelledError);
  CHECK(transport.requests().size() == 1);
}

TEST_CASE("Pipeline: close() wakes a sleeping call with UsageError", "[parts][pipeline][cancel]") {
  RequestPipeline pipeline(pipeline_options(policy(3, 60s)), kAdmin, 1);
  ScriptedTransport transport({answer(503)});
  auto waiting = std::async(std::launch::async, [&] { return pipeline.run(transport, get_call()); });
  std::this_thread::sleep_for(50ms);
  pipeline.close();
  REQUIRE(waiting.wait_for(5s) == std::future_status::ready);
  CHECK_THROWS_AS(waiting.get(), dhis2::UsageError);
  CHECK_THROWS_AS(pipeline.run(transport, get_call()), dhis2::UsageError);
}

// ---- cancellation tokens --------------------------------------------------------------------------

TEST_CASE("CancellationToken: copies share one state; callbacks run once", "[parts][cancel]") {
  CancellationToken token;
  const CancellationToken copy = token;
  int calls = 0;
  {
    const auto registration = copy.on_cancel([&calls] { ++calls; });
    CHECK_FALSE(copy.cancelled());
    token.cancel();
    token.cancel();
    CHECK(copy.cancelled());
    CHECK(calls == 1);
  }
  // Registered after the cancel: runs at once.
  const auto late = copy.on_cancel([&calls] { ++calls; });
  CHECK(calls == 2);
  // A registration that ended never runs.
  CancellationToken other;
  {
    const auto gone = other.on_cancel([&calls] { ++calls; });
  }
  other.cancel();
  CHECK(calls == 2);
}

// ---- the Client, against the emulator ------------------------------------------------------------

TEST_CASE("A cancel reaches a request in flight", "[parts][cancel][client]") {
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  client.connect();
  server.inject("GET", "/api/me", Fault::delay_by(8s));
  RequestOptions options;
  options.cancellation = CancellationToken();
  auto call = std::async(std::launch::async, [&] { return client.get_raw("me", {}, options); });
  REQUIRE(eventually([&] { return server.requests_to("/api/me").size() == 1; }, 5s));
  options.cancellation->cancel();
  REQUIRE(call.wait_for(4s) == std::future_status::ready);  // not the 8 s the server takes
  CHECK_THROWS_AS(call.get(), dhis2::CancelledError);
  CHECK(server.requests_to("/api/me").size() == 1);  // cancelled, not retried
  server.clear_faults();
  CHECK(client.get_raw("me").at("username") == "admin");  // the client goes on
}

TEST_CASE("close() interrupts a request in flight", "[parts][cancel][client]") {
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  client.connect();
  server.inject("GET", "/api/me", Fault::delay_by(8s));
  auto call = std::async(std::launch::async, [&] { return client.get_raw("me"); });
  REQUIRE(eventually([&] { return server.requests_to("/api/me").size() == 1; }, 5s));
  client.close();
  REQUIRE(call.wait_for(4s) == std::future_status::ready);
  CHECK_THROWS_AS(call.get(), dhis2::UsageError);
}

TEST_CASE("TaskWatcher::cancel() interrupts a poll in flight", "[parts][cancel][client]") {
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  const dhis2::TaskRef ref = client.jobs().start_analytics();
  server.inject("GET", "/api/system/tasks/*", Fault::delay_by(8s), -1);
  dhis2::TaskWatcher watcher(client, ref);
  auto wait = std::async(std::launch::async, [&] { return watcher.wait(30s); });
  REQUIRE(
      eventually([&] { return !server.requests_to("/api/system/tasks/" + ref.job_type + "/" + ref.uid).empty(); }, 5s));
  std::this_thread::sleep_for(20ms);  // the poll waits for its answer now
  watcher.cancel();
  REQUIRE(wait.wait_for(4s) == std::future_status::ready);
  CHECK_THROWS_AS(wait.get(), dhis2::TaskCancelledError);
}

TEST_CASE("A per-call timeout ends a slow request as a timeout", "[parts][client]") {
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  client.connect();
  server.inject("GET", "/api/me", Fault::delay_by(3s));
  RequestOptions options;
  options.timeout = 200ms;
  options.retry = policy(1);
  try {
    client.get_raw("me", {}, options);
    FAIL("no error");
  } catch (const dhis2::TransportError& e) {
    CHECK(e.kind() == dhis2::TransportErrorKind::Timeout);
    CHECK(contains(e.what(), "read 200 ms"));
  }
}

TEST_CASE("A Client moves; its handles share its state and cannot dangle", "[parts][client]") {
  FakeServer server;
  dhis2::Client first(server.url(), kAdmin, fast());
  first.connect();
  dhis2::Client second(std::move(first));
  CHECK(second.get_raw("me").at("username") == "admin");
  CHECK(first.state() == dhis2::Client::State::Closed);  // NOLINT(bugprone-use-after-move): the contract
  CHECK_THROWS_WITH(first.get_raw("me"), Catch::Contains("moved from"));
  CHECK_FALSE(first.known_version());

  std::optional<dhis2::SystemApi> system;
  std::optional<dhis2::JobsApi> jobs;
  {
    dhis2::Client scoped(server.url(), kAdmin, fast());
    system.emplace(scoped.system());
    jobs.emplace(scoped.jobs());
  }  // the Client is gone; its handles keep the state alive
  CHECK(system->me().at("username") == "admin");
  const dhis2::TaskRef ref = jobs->start_analytics();
  CHECK_FALSE(ref.uid.empty());

  dhis2::Client assigned(server.url(), kAdmin, fast());
  assigned = std::move(second);
  CHECK(assigned.get_raw("me").at("username") == "admin");
}

TEST_CASE("close() reaches the handles a Client gave out", "[parts][client]") {
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  auto system = client.system();
  CHECK(system.info().contains("version"));  // cached now
  client.close();
  CHECK_THROWS_AS(system.me(), dhis2::UsageError);
  CHECK_THROWS_AS(system.info(), dhis2::UsageError);  // a cached value is no way around close()
}

TEST_CASE("known_version() never connects and never throws", "[parts][client]") {
  static_assert(noexcept(std::declval<const dhis2::Client&>().known_version()), "known_version() is noexcept");
  FakeServer server;
  dhis2::Client client(server.url(), kAdmin, fast());
  CHECK_FALSE(client.known_version());
  CHECK(server.requests().empty());
  client.connect();
  REQUIRE(client.known_version());
  CHECK(client.known_version()->key() == "v42");
  client.close();
  REQUIRE(client.known_version());  // what the handshake read stays known
  CHECK(client.known_version()->key() == "v42");

  auto options = fast();
  options.skip_version_probe = true;
  dhis2::Client unprobed(server.url(), kAdmin, options);
  unprobed.connect();
  CHECK_FALSE(unprobed.known_version());
}

TEST_CASE("A request hook that calls its own client during the handshake gets a UsageError", "[parts][client]") {
  FakeServer server;
  auto options = fast();
  dhis2::Client* self = nullptr;
  std::atomic<bool> refused{false};
  options.on_request = [&self, &refused](const dhis2::RequestEvent&) {
    if (!self || refused) return;
    try {
      self->get_raw("me");
    } catch (const dhis2::UsageError& e) {
      refused = contains(e.what(), "handshake");
    }
  };
  dhis2::Client client(server.url(), kAdmin, options);
  self = &client;
  client.connect();  // no deadlock
  CHECK(refused);
  CHECK(client.state() == dhis2::Client::State::Connected);
}
