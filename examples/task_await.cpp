// task_await: start an analytics table update, block until it ends, and branch on how it ended.
// The one-off program a data manager runs after a large import.
//
//   DHIS2_URL=https://play.example.org/dev DHIS2_USERNAME=admin DHIS2_PASSWORD=district ./task_await [LAST_YEARS]
//
// Exit codes: 0 succeeded, 1 failed or ended in an unknown way, 3 timed out, 2 bad settings.
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
}  // namespace

int main(int argc, char** argv) {
  const std::string url = env("DHIS2_URL");
  if (url.empty()) {
    std::cerr << "set DHIS2_URL, and DHIS2_USERNAME/DHIS2_PASSWORD or DHIS2_TOKEN\n";
    return 2;
  }
  try {
    dhis2::Client client = env("DHIS2_TOKEN").empty()
                               ? dhis2::Client(url, dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")})
                               : dhis2::Client(url, dhis2::TokenAuth(env("DHIS2_TOKEN")));
    dhis2::AnalyticsOptions analytics;
    if (argc > 1) analytics.last_years = std::atoi(argv[1]);
    const dhis2::TaskRef ref = client.jobs().start_analytics(analytics);
    std::cout << "started " << ref.str() << " on DHIS2 " << client.raw_version() << "\n";

    // Analytics can run for hours on a national database: give it a generous deadline.
    const dhis2::TaskCompletion done = dhis2::TaskWatcher(client, ref).wait(std::chrono::hours(6));
    switch (done.outcome) {
      case dhis2::TaskOutcome::Succeeded: std::cout << "analytics tables updated: " << done.message() << "\n"; return 0;
      case dhis2::TaskOutcome::Failed:
        std::cout << "analytics failed: " << done.message() << " (" << done.reason << ")\n";
        return 1;
      case dhis2::TaskOutcome::Cancelled: std::cout << "analytics was cancelled\n"; return 1;
      case dhis2::TaskOutcome::Unknown:
        std::cout << "analytics ended, but the server no longer says how: " << done.reason << "\n";
        return 1;
    }
  } catch (const dhis2::TaskTimeoutError& e) {
    std::cerr << "timed out: " << e.what() << "\n";
    return 3;
  } catch (const dhis2::UsageError& e) {
    std::cerr << "usage: " << e.what() << "\n";
    return 2;
  } catch (const dhis2::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
