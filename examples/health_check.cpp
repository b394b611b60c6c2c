// health_check: report whether a DHIS2 server is up, without letting an exception escape. For
// monitoring scripts and cron jobs: one line on stdout, and an exit code a supervisor can act on.
//
//   DHIS2_URL=https://play.example.org/dev DHIS2_USERNAME=admin DHIS2_PASSWORD=district ./health_check
//
// Prints e.g. "OK DHIS2 2.42.1 answered in 38 ms" or "DOWN cannot connect to ..." and exits
// 0 (up), 1 (down or failing), 2 (not usable: bad settings, credentials refused, not a DHIS2).
#include <dhis2/dhis2.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

struct Health {
  int exit_code;
  std::string line;
};

Health check(const std::string& url) {
  dhis2::ClientOptions options;
  options.timeout = std::chrono::seconds(10);
  options.connect_timeout = std::chrono::seconds(5);
  options.retry.reset();  // a health check reports what it sees, once
  try {
    dhis2::Client client = env("DHIS2_TOKEN").empty()
                               ? dhis2::Client(url, dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")},
                                               options)
                               : dhis2::Client(url, dhis2::TokenAuth(env("DHIS2_TOKEN")), options);
    const auto started = std::chrono::steady_clock::now();
    client.connect();
    const dhis2::Response ping = client.get_response("system/ping");  // never throws on a status
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (!ping.ok()) return {1, "FAILING DHIS2 " + client.raw_version() + " answered HTTP " + std::to_string(ping.status)};
    return {0, "OK DHIS2 " + client.raw_version() + " answered in " + std::to_string(ms.count()) + " ms"};
  } catch (const dhis2::TransportError& e) {
    return {1, std::string("DOWN ") + e.what()};
  } catch (const dhis2::ApiError& e) {
    return {1, std::string("FAILING ") + e.what()};
  } catch (const dhis2::Error& e) {  // usage, authentication, not DHIS2, unsupported version
    return {2, std::string("UNUSABLE ") + e.what()};
  } catch (const std::exception& e) {
    return {1, std::string("FAILING ") + e.what()};
  }
}

}  // namespace

int main() {
  const std::string url = env("DHIS2_URL");
  if (url.empty()) {
    std::cout << "UNUSABLE set DHIS2_URL (and DHIS2_USERNAME/DHIS2_PASSWORD or DHIS2_TOKEN)\n";
    return 2;
  }
  const Health health = check(url);
  std::cout << health.line << "\n";
  return health.exit_code;
}
