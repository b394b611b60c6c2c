// analytics_now: the one-off program. Start an analytics table update, wait for it, say how it ended.
#include <dhis2/dhis2.hpp>

#include <cstdlib>
#include <iostream>

int main() {
  const auto env = [](const char* name) { return std::string(std::getenv(name) ? std::getenv(name) : ""); };
  try {
    dhis2::Client client(env("DHIS2_URL"), dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")});
    const dhis2::TaskRef ref = client.jobs().start_analytics();
    std::cout << "started " << ref.str() << " on DHIS2 " << client.raw_version() << std::endl;
    const dhis2::TaskCompletion done = dhis2::TaskWatcher(client, ref).wait(std::chrono::hours(6));
    std::cout << dhis2::to_string(done.outcome) << ": " << done.message() << " (" << done.reason << ")\n";
    return done.ok() ? 0 : 1;
  } catch (const dhis2::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
