#ifndef DHIS2_TESTING_FAKE_SERVER_OPTIONS_HPP
#define DHIS2_TESTING_FAKE_SERVER_OPTIONS_HPP

// What a FakeServer is made with (docs/emulator.md "Options"): the emulated version, where it
// listens, TLS, its users and tokens, the clock, the seed, the server's time zone, and which node
// of a cluster answers the notifier's reads. Plain values.

#include <dhis2/detail/config.hpp>
#include <dhis2/testing/time_zone.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace testing {

struct User {
  User() = default;
  User(std::string name, std::string pass, std::vector<std::string> granted = {"ALL"})
      : username(std::move(name)), password(std::move(pass)), authorities(std::move(granted)) {}

  std::string username;
  std::string password;
  std::vector<std::string> authorities = {"ALL"};  // "ALL" makes a superuser
  std::string id;                                  // generated when empty
  std::string first_name = "John";
  std::string surname = "Traore";
  bool disabled = false;
};

// A personal access token (or, in FakeServerOptions::bearer_tokens, an OAuth2 access token)
// and the user it authenticates.
struct IssuedToken {
  IssuedToken() = default;
  IssuedToken(std::string value, std::string user, bool is_expired = false)
      : token(std::move(value)), username(std::move(user)), expired(is_expired) {}

  std::string token;
  std::string username;
  bool expired = false;
};

struct TlsFiles {
  std::string cert_path;
  std::string key_path;
};

struct FakeServerOptions {
  std::string version = "2.42.1";  // any of 2.38 to 2.43, e.g. 2.40.7, 2.41.4, 2.43.1
  // What /api/system/info and /api/loginConfig report, when it should differ from `version`
  // (to test a client against 2.37, 2.44, "2.43-SNAPSHOT" or garbage). The behaviour stays `version`'s.
  std::string reported_version;
  std::string host = "127.0.0.1";
  int port = 0;                 // 0: an ephemeral port
  std::string context_path;     // "" or e.g. "/dhis": the API is then at /dhis/api
  std::optional<TlsFiles> tls;  // HTTPS with this certificate and key
  std::vector<User> users = {User{"admin", "district"}};
  std::vector<IssuedToken> tokens;         // personal access tokens
  std::vector<IssuedToken> bearer_tokens;  // OAuth2/OIDC access tokens (Authorization: Bearer)
  double speed = 0;                        // the clock: 0 stands still until advanced, 1 real time, N faster
  std::optional<std::chrono::system_clock::time_point> start_time;  // default: now, to the second
  // System settings served at /api/systemSettings/{key}; an absent key reads as null.
  std::map<std::string, nlohmann::json> settings = {{"keyUiLocale", "en"}, {"applicationTitle", "DHIS 2"}};
  std::string default_category_combo = "bjDvmb4bfuf";  // the uid of the "default" category combo
  std::chrono::seconds keep_alive_timeout{5};
  std::uint64_t seed = 20240520;  // job and notification ids are reproducible for a seed
  // The server's zone: every time it writes is wall-clock time there (serverTimeZoneId). Give it
  // changes to put a daylight-saving change in the middle of a job.
  ServerTimeZone time_zone = ServerTimeZone::utc();
  // How far the clock of the node that runs jobs (and writes their notifications) is off the
  // node that answers kick-offs: cluster skew (a job's rows can then be older than its `created`).
  std::chrono::milliseconds job_node_clock_offset{0};
  // Answer as DHIS2 behind nginx with `gzip on` (and JSON in gzip_types) does: a body of at
  // least 20 bytes goes out gzip-encoded (Content-Encoding: gzip, Vary: Accept-Encoding) when the
  // request's Accept-Encoding accepts gzip. Off, as DHIS2 itself (Tomcat/Jetty) answers: never
  // compressed, whatever the request asks.
  bool compress = false;
};

// Which node of a cluster answers the notifier's reads (tasks, task summaries, tracker job
// feeds). Without Redis every node keeps its own notifications, so a node that did not run the
// job answers [] and empty summaries while the job rows (in the database) are shared (§1.4).
enum class NotifierNode {
  Same,        // the node that runs the jobs (a single server, or a cluster with Redis)
  Other,       // a node that runs none of them
  Alternating  // a load balancer sending each read to the other node than the last one
};

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_FAKE_SERVER_OPTIONS_HPP
