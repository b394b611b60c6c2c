// The emulator as a plain HTTP client sees it, for the emulator's tests: the versions under test
// and what the test (not the emulator) expects of them, a FakeServer's options, and an httplib
// client with the XHR header and Basic auth. Each helper states the dhis2-wire.md section it
// follows. Header-only, included by the unit-emulator_*.cpp files.
#ifndef DHIS2CPP_TESTS_SUPPORT_EMULATOR_HTTP_HPP
#define DHIS2CPP_TESTS_SUPPORT_EMULATOR_HTTP_HPP

#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>

namespace emulator_http {

using namespace std::chrono_literals;
using dhis2::Notification;
using dhis2::NotificationLevel;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::JobScript;
using dhis2::testing::User;
using Json = nlohmann::json;
using std::chrono::milliseconds;

// 2024-05-20T10:11:12Z, 8 s before the scheduler tick of 10:11:20 (ticks at :00, :20, :40).
const std::chrono::system_clock::time_point kStart{std::chrono::seconds(1716199872)};
const char* const kStartMillis = "1716199872000";
const char* const kStartText = "2024-05-20T10:11:12.000";

const std::vector<std::string> kAllVersions = {"2.38",   "2.39",   "2.40.7", "2.40.8", "2.41.0",
                                               "2.41.4", "2.42.1", "2.42.5", "2.43.0", "2.43.1"};

// ---- versions, as the test (not the emulator) reads them ---------------------------------------

inline std::pair<int, int> minor_patch(const std::string& version) {
  int major = 0, minor = 0, patch = 0;
  std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch);
  return {minor, patch};
}

inline bool at_least(const std::string& version, int minor, int patch = 0) {
  return minor_patch(version) >= std::make_pair(minor, patch);
}

inline std::vector<std::string> versions_from(int minor, int patch = 0) {
  std::vector<std::string> out;
  for (const auto& v : kAllVersions) {
    if (at_least(v, minor, patch)) out.push_back(v);
  }
  return out;
}

inline std::vector<std::string> versions_before(int minor, int patch = 0) {
  std::vector<std::string> out;
  for (const auto& v : kAllVersions) {
    if (!at_least(v, minor, patch)) out.push_back(v);
  }
  return out;
}

// §2.1/§4.3: absent <=2.41, the long name on 2.42.0-2.42.4 and 2.43.0, the short one after.
inline std::string expected_response_type(const std::string& version, const std::string& short_name) {
  if (!at_least(version, 42)) return "";
  const auto mp = minor_patch(version);
  const bool long_name = (mp.first == 42 && mp.second < 5) || (mp.first == 43 && mp.second < 1);
  return long_name ? short_name + "WebMessageResponse" : short_name;
}

// ---- the server and an HTTP client -------------------------------------------------------------

inline FakeServerOptions options_for(const std::string& version, const std::string& context_path = "") {
  FakeServerOptions options;
  options.version = version;
  options.start_time = kStart;
  options.context_path = context_path;
  options.users = {User{"admin", "district"}, User{"viewer", "Viewer123", {"F_VIEW_EVENT_ANALYTICS"}},
                   User{"keeper", "Keeper123", {"F_PERFORM_MAINTENANCE"}}};
  return options;
}

struct Reply {
  int status = 0;
  std::string body;
  bool has_location = false;
  std::string location;
  Json json() const { return Json::parse(body); }
};

// A client as a browser-less script would be: XHR header, Basic auth, short timeouts.
class Api {
 public:
  explicit Api(FakeServer& server, const std::string& user = "admin", const std::string& password = "district")
      : prefix_(server.options().context_path), client_(server.origin()) {
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(5, 0);
    client_.set_write_timeout(5, 0);
    client_.set_basic_auth(user.c_str(), password.c_str());
    client_.set_default_headers({{"X-Requested-With", "XMLHttpRequest"}});
  }

  Reply get(const std::string& path) { return reply_of(client_.Get((prefix_ + path).c_str())); }
  Reply post(const std::string& path, const std::string& body = "") {
    return reply_of(client_.Post((prefix_ + path).c_str(), body, "application/json"));
  }

 private:
  static Reply reply_of(const httplib::Result& result) {
    INFO("httplib error " << static_cast<int>(result.error()));
    REQUIRE(static_cast<bool>(result));
    Reply r;
    r.status = result->status;
    r.body = result->body;
    r.has_location = result->has_header("Location");
    r.location = result->get_header_value("Location");
    return r;
  }

  std::string prefix_;
  httplib::Client client_;
};

inline bool is_uid(const std::string& s) { return std::regex_match(s, std::regex("[A-Za-z][A-Za-z0-9]{10}")); }

// A 200 kick-off's body.
inline Json kick_off(Api& api, const std::string& path, const std::string& body = "") {
  const Reply r = api.post(path, body);
  INFO(path << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

inline std::string id_of(const Json& kickoff) { return kickoff.at("response").at("id").get<std::string>(); }

// GET /api/system/tasks/{type}/{id}, newest first.
inline std::vector<Notification> feed(Api& api, const std::string& type, const std::string& id) {
  const Reply r = api.get("/api/system/tasks/" + type + "/" + id);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return dhis2::notifications_from_json(r.json());
}

// The stored list of one job through the overview, which has no stale rule (§1.1, §1.6).
inline std::vector<Notification> stored_rows(Api& api, const std::string& type, const std::string& id) {
  const Reply r = api.get("/api/system/tasks/" + type + "?gist=false");
  REQUIRE(r.status == 200);
  const Json all = r.json();
  if (!all.contains(id)) return {};
  return dhis2::notifications_from_json(all.at(id));
}

inline Json job_row(Api& api, const std::string& id) {
  const Reply r = api.get("/api/jobConfigurations/" + id + "?fields=jobStatus,lastExecutedStatus,lastFinished,enabled");
  INFO(r.body);
  REQUIRE(r.status == 200);
  return r.json();
}

inline bool has_message(const std::vector<Notification>& rows, const std::string& text) {
  return std::any_of(rows.begin(), rows.end(), [&](const Notification& n) { return n.message && *n.message == text; });
}

// Moves the clock to the scheduler's next 20-second tick (§2.3).
inline void advance_to_next_tick(FakeServer& server) {
  const auto ms = std::chrono::duration_cast<milliseconds>(server.clock().now().time_since_epoch()).count();
  server.advance(milliseconds(20000 - ms % 20000));
}

// Brings the clock to where the version starts an ad-hoc job of a scheduled type: the next tick on
// 2.41+, nowhere on <=2.40 where it started with the kick-off (§2.3).
inline void let_job_start(FakeServer& server, const std::string& version) {
  if (at_least(version, 41)) advance_to_next_tick(server);
}

}  // namespace emulator_http

#endif  // DHIS2CPP_TESTS_SUPPORT_EMULATOR_HTTP_HPP
