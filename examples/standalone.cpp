// standalone: the smallest useful dhis2-cpp program. It connects to a DHIS2 server, prints its
// version and the user the credentials belong to, and lists the server's settings of interest.
//
//   DHIS2_URL=https://play.example.org/dev DHIS2_USERNAME=admin DHIS2_PASSWORD=district ./standalone
//   DHIS2_URL=... DHIS2_TOKEN=d2p_... ./standalone
//
// Exit codes: 0 done, 1 the server refused or failed, 2 missing settings.
#include <dhis2/dhis2.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {
std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}
}  // namespace

int main() {
  const std::string url = env("DHIS2_URL");
  if (url.empty() || (env("DHIS2_TOKEN").empty() && env("DHIS2_USERNAME").empty())) {
    std::cerr << "set DHIS2_URL and either DHIS2_TOKEN or DHIS2_USERNAME and DHIS2_PASSWORD\n";
    return 2;
  }
  try {
    dhis2::ClientOptions options;
    options.timeout = std::chrono::seconds(20);
    auto client = env("DHIS2_TOKEN").empty()
                      ? dhis2::Client(url, dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")}, options)
                      : dhis2::Client(url, dhis2::TokenAuth(env("DHIS2_TOKEN")), options);
    client.connect();
    std::cout << "DHIS2 " << client.raw_version() << " at " << client.base_url() << "\n";

    const auto me = client.system().me();
    std::cout << "logged in as " << me.value("username", "?") << " (" << me.value("displayName", "") << ")";
    const auto& authorities = me["authorities"];
    const bool superuser = authorities.is_array() &&
                           std::find(authorities.begin(), authorities.end(), "ALL") != authorities.end();
    std::cout << (superuser ? ", superuser" : "") << "\n";

    const auto locale = client.system().setting("keyUiLocale");
    std::cout << "interface language: " << (locale ? locale->get<std::string>() : std::string("(server default)"))
              << "\n";
    std::cout << "default category combo: " << client.system().default_category_combo_uid() << "\n";
    return 0;
  } catch (const dhis2::UsageError& e) {
    std::cerr << "usage: " << e.what() << "\n";
    return 2;
  } catch (const dhis2::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
