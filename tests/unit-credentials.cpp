// The credential scan (issue 13): a run with a known password, personal access token and bearer
// token through the paths that produce text a user may print or keep: every error message (and
// the response an ApiError keeps), every request-hook event, resume tokens (decoded too), the
// outcome of a watch, and the request log of the emulator and of another origin the server
// redirects to. None may hold a credential, in the clear or as the Basic header encodes it.
// (The CLI's outputs get the same scan in tools/cli/test_cli.py.)

#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
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
using dhis2::testing::IssuedToken;
using dhis2::testing::JobScript;
using dhis2::testing::RecordedRequest;
using dhis2::testing::User;

const std::string kUser = "field-worker";
const std::string kPassword = "Hq7-wZ!pass-93kT";
const std::string kWrongPassword = "Wrong-Zk4-pass";
const std::string kToken = *dhis2::make_pat(dhis2::PatFormat::V2, "Qm3rTy7uIo0pAs2dFg5hJk8lZx1cVb4nMq6wEr9tYu2i");
const std::string kUnknownToken = *dhis2::make_pat(dhis2::PatFormat::V2, "Zz9yXx8wVv7uTt6sRr5qPp4oNn3mLl2kJj1iHh0gFf9e");
const std::string kBearer = "oidc-access-Kp2Wm9Xq4Zr7";
const std::string kStaleBearer = "oidc-stale-Lr8Tn3Vy6";

// Every form a credential could leak in: as given, and as the Basic header carries it.
std::vector<std::string> secrets() {
  return {kPassword,
          kWrongPassword,
          kToken,
          kUnknownToken,
          kBearer,
          kStaleBearer,
          dhis2::detail::base64_encode(kUser + ":" + kPassword),
          dhis2::detail::base64_encode(kUser + ":" + kWrongPassword)};
}

// Every text gathered, with where it came from.
class Evidence {
 public:
  void add(const std::string& where, const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    texts_.emplace_back(where, text);
  }
  void add_error(const std::string& where, const std::exception& e) {
    add(where + ": what()", e.what());
    if (const auto* api = dynamic_cast<const dhis2::ApiError*>(&e)) {
      const auto& r = api->response();
      add(where + ": response body", r.body);
      for (const auto& h : r.headers) add(where + ": response header", h.first + ": " + h.second);
    }
  }
  // Runs `call`, which must throw; keeps what it threw.
  void expect_error(const std::string& where, const std::function<void()>& call) {
    try {
      call();
    } catch (const std::exception& e) {
      add_error(where, e);
      ++errors_;
      return;
    }
    FAIL(where << ": no error");
  }
  void add_token(const std::string& where, const std::string& token) {
    add(where, token);
    // A resume token is "d2w1.", base64url JSON, '.' and a checksum: decode the JSON, so that an
    // encoded secret is found too.
    const auto dot = token.find('.');
    const auto begin = dot == std::string::npos ? 0 : dot + 1;
    const auto end = token.find('.', begin);
    std::string b64 = token.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    for (char& c : b64) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    while (b64.size() % 4 != 0) b64 += '=';
    const auto decoded = dhis2::detail::base64_decode(b64);
    CHECK(decoded);
    add(where + " (decoded)", decoded.value_or(""));
  }
  void add_log(const std::string& where, const std::vector<RecordedRequest>& log) {
    for (const auto& r : log) {
      add(where, r.method + " " + r.path + "?" + r.query);
      add(where + ": body", r.body);
      for (const auto& h : r.headers) add(where + ": header", h.first + ": " + h.second);
    }
  }
  std::function<void(const dhis2::RequestEvent&)> hook() {
    return [this](const dhis2::RequestEvent& e) {
      ++events_;
      add("hook", e.method + " " + e.url + " " + e.error);
      for (const auto& h : e.request_headers) add("hook: header", h.first + ": " + h.second);
    };
  }

  // The places a secret was found, "" when none.
  std::string leaks() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string found;
    for (const auto& t : texts_) {
      for (const auto& s : secrets()) {
        if (t.second.find(s) != std::string::npos) found += t.first + ": " + t.second + "\n";
      }
    }
    return found;
  }
  std::size_t texts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return texts_.size();
  }
  int errors() const { return errors_; }
  int events() const { return events_; }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> texts_;
  int errors_ = 0;
  std::atomic<int> events_{0};
};

FakeServerOptions server_options() {
  FakeServerOptions o;
  o.speed = 50;  // the clock runs by itself: 2.41+ start jobs at a 20 s tick, here 0.4 s
  o.users = {User{kUser, kPassword}};
  o.tokens = {IssuedToken{kToken, kUser}};
  o.bearer_tokens = {IssuedToken{kBearer, kUser}};
  return o;
}

dhis2::ClientOptions client_options(Evidence& evidence) {
  dhis2::ClientOptions o;
  o.retry->base_delay = 1ms;
  o.retry->max_delay = 2ms;
  o.timeout = 2s;
  o.connect_timeout = 2s;
  o.on_request = evidence.hook();
  return o;
}

// The three kinds of authentication: a client with the credential the server accepts, and one
// with a credential it refuses.
using MakeClient = std::function<dhis2::Client(const std::string& url, dhis2::ClientOptions options)>;
struct AuthCase {
  const char* name;
  MakeClient good;
  MakeClient bad;
};

std::vector<AuthCase> auth_cases() {
  return {
      {"Basic",
       [](const std::string& url, dhis2::ClientOptions o) {
         return dhis2::Client(url, dhis2::BasicAuth{kUser, kPassword}, std::move(o));
       },
       [](const std::string& url, dhis2::ClientOptions o) {
         return dhis2::Client(url, dhis2::BasicAuth{kUser, kWrongPassword}, std::move(o));
       }},
      {"personal access token",
       [](const std::string& url, dhis2::ClientOptions o) {
         return dhis2::Client(url, dhis2::TokenAuth(kToken), std::move(o));
       },
       [](const std::string& url, dhis2::ClientOptions o) {
         return dhis2::Client(url, dhis2::TokenAuth(kUnknownToken), std::move(o));
       }},
      {"bearer, refreshed from a stale token",
       [](const std::string& url, dhis2::ClientOptions o) {
         auto refreshed = std::make_shared<std::atomic<bool>>(false);
         dhis2::BearerAuth auth([refreshed](bool refresh) {
           if (refresh) *refreshed = true;
           return *refreshed ? kBearer : kStaleBearer;
         });
         return dhis2::Client(url, std::move(auth), std::move(o));
       },
       [](const std::string& url, dhis2::ClientOptions o) {
         return dhis2::Client(url, dhis2::BearerAuth::fixed(kStaleBearer), std::move(o));
       }},
  };
}

using test_support::TempDir;

}  // namespace

TEST_CASE("No credential shows in errors, hook events, resume tokens, outcomes or request logs", "[credentials]") {
  for (const auto& auth : auth_cases()) {
    INFO(auth.name);
    Evidence evidence;
    FakeServer server(server_options());
    FakeServer elsewhere(server_options());  // another origin the server redirects to
    server.script_next("ANALYTICS_TABLE",
                       JobScript().start("Analytics").stage("Tables", 5s).complete("Analytics tables updated", 5s));
    server.script_next("RESOURCE_TABLE", JobScript().start("Resource tables").fail("Resource tables failed", 5s));

    dhis2::Client client = auth.good(server.url(), client_options(evidence));
    client.connect();
    evidence.add("system info", client.system().info().dump());
    evidence.add("me", client.system().me().dump());

    // Each fault the emulator can put in front of a request, once.
    const std::vector<std::pair<std::string, Fault>> faults = {
        {"500", Fault::status_page(500)},
        {"502 after retries", Fault::status_page(502)},
        {"a drop before the response", Fault::drop_before_response()},
        {"a drop mid-response", Fault::drop_mid_response()},
        {"truncated JSON", Fault::truncated_json()},
        {"malformed JSON", Fault::malformed_json()},
        {"an HTML page", Fault::html_page()},
        {"a login redirect", Fault::redirect(server.url() + "/dhis-web-login/")},
        {"a redirect to another origin", Fault::redirect(elsewhere.url() + "/api/me")},
        {"a response slower than the timeout", Fault::delay_by(400ms)},
    };
    for (const auto& fault : faults) {
      server.inject("GET", "/api/me", fault.second, -1);
      dhis2::RequestOptions once;
      once.timeout = 200ms;
      once.retry = dhis2::RetryPolicy{};
      once.retry->max_attempts = 2;
      once.retry->base_delay = 1ms;
      once.retry->max_delay = 1ms;
      evidence.expect_error(fault.first, [&] { client.get_raw("me", {}, once); });
      server.clear_faults();
    }
    evidence.expect_error("404", [&] { client.get_raw("noSuchResource/abc"); });
    evidence.expect_error("409 on a POST", [&] {
      client.post_raw("metadata", nlohmann::json::parse(R"({"dataElements": [{"id": "deAbc123456"}]})"));
    });

    // The wrong credential: refused, and not repeated in the refusal.
    dhis2::Client refused = auth.bad(server.url(), client_options(evidence));
    evidence.expect_error("wrong credentials", [&] { refused.connect(); });

    // A server that sends the handshake elsewhere, and one that does not answer.
    FakeServer redirecting(server_options());
    redirecting.inject("GET", "*", Fault::redirect(elsewhere.url() + "/api/system/info", 301), -1);
    dhis2::Client sent_away = auth.good(redirecting.url(), client_options(evidence));
    evidence.expect_error("a handshake redirected to another origin", [&] { sent_away.connect(); });
    dhis2::Client nowhere = auth.good("http://127.0.0.1:9", client_options(evidence));
    evidence.expect_error("a refused connection", [&] { nowhere.connect(); });

    // TLS refused: a certificate for another name.
    TempDir dir;
    dhis2::testing::CertificateOptions names;
    names.dns_names = {"elsewhere.example"};
    names.ip_addresses = {};
    const auto certs = dhis2::testing::make_test_certificates(dir.path, names);
    FakeServerOptions secure = server_options();
    secure.tls = dhis2::testing::TlsFiles{certs.cert_path, certs.key_path};
    FakeServer tls_server(secure);
    auto tls_options = client_options(evidence);
    tls_options.ca_cert_path = certs.ca_cert_path;
    dhis2::Client tls_client = auth.good("https://localhost:" + std::to_string(tls_server.port()), tls_options);
    evidence.expect_error("a certificate for another name", [&] { tls_client.connect(); });

    // Watches, blocking and in the background, with their resume tokens.
    const auto ref = client.jobs().start_analytics();
    evidence.add_token("TaskRef::resume_token", ref.resume_token());
    dhis2::WatchOptions quick;
    quick.initial_poll_interval = 1ms;
    quick.poll_interval = 20ms;
    dhis2::TaskWatcher watcher(client, ref, quick);
    const auto completion = watcher.for_each_notification(
        [&](const dhis2::Notification& n) {
          evidence.add_token("TaskWatcher::resume_token", watcher.resume_token());
          evidence.add("notification", n.message.value_or(""));
          return true;
        },
        10s);
    REQUIRE(completion);
    CHECK(completion->ok());
    evidence.add("completion", completion->reason + " " + completion->message() + " " + completion->summary.dump());
    evidence.add_token("TaskWatcher::resume_token at the end", watcher.resume_token());

    dhis2::TaskManager manager(client);
    const auto failing = manager.watch(client.jobs().start_resource_tables(), {}, quick, 10s);
    evidence.add_token("BackgroundWatch::resume_token", failing.resume_token());
    const auto failed = failing.get();
    CHECK(failed.outcome == dhis2::TaskOutcome::Failed);
    evidence.add("failed completion", failed.reason + " " + failed.message());
    for (const auto& e : failed.errors) evidence.add("failed completion: error", e);
    evidence.expect_error("a resume token of an unknown job", [&] {
      dhis2::TaskWatcher(client, dhis2::TaskRef::parse("ANALYTICS_TABLE/Ab1Cd2Ef3Gh"), quick).wait(0ms);
    });

    // The request logs: the emulator's own (credentials redacted), and the other origin's, which
    // must have received no credential at all.
    evidence.add_log("emulator log", server.requests());
    evidence.add_log("redirecting emulator log", redirecting.requests());
    evidence.add_log("TLS emulator log", tls_server.requests());
    const auto foreign = elsewhere.requests();
    evidence.add_log("other origin's log", foreign);
    for (const auto& r : foreign) {
      INFO(r.method << " " << r.path);
      CHECK(r.header("Authorization").empty());
      CHECK(r.header("Cookie").empty());
    }

    CHECK(evidence.errors() == static_cast<int>(faults.size()) + 7);
    CHECK(evidence.events() > 50);  // the watches add a number of polls that varies
    CHECK(evidence.texts() > 1000);
    CHECK(evidence.leaks().empty());
  }
}

TEST_CASE("The credential scan finds a credential where one is", "[credentials]") {
  // The scan itself: text that holds a credential, in each of its forms, is reported.
  for (const auto& secret : secrets()) {
    Evidence evidence;
    evidence.add("a message", "before " + secret + " after");
    CHECK_FALSE(evidence.leaks().empty());
  }
  Evidence encoded;
  encoded.add_token("a token", "d2w1." + dhis2::detail::base64url_encode("{\"p\":\"" + kPassword + "\"}"));
  CHECK_FALSE(encoded.leaks().empty());
}
