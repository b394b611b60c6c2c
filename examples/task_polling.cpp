// task_polling: follow a DHIS2 job and render each notification as it arrives, oldest first,
// each exactly once. Start a new resource table or analytics run, or follow a job someone else
// started.
//
//   DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... ./task_polling                 # starts resource tables
//   DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... ./task_polling analytics       # starts analytics
//   DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... ./task_polling ANALYTICS_TABLE/BFa3jDsbtdO
//
// Exit codes: 0 succeeded, 1 did not, 2 bad arguments or settings, 3 timed out.
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

void render(const dhis2::Notification& n) {
  std::string level = n.level_name;
  level.resize(5, ' ');
  std::cout << n.time << "  " << level << "  " << n.message.value_or("") << (n.completed ? "  [done]" : "") << "\n";
  std::cout.flush();
}
}  // namespace

int main(int argc, char** argv) {
  if (env("DHIS2_URL").empty() || argc > 2) {
    std::cerr << "usage: DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... task_polling [analytics | JOB_TYPE/UID]\n";
    return 2;
  }
  try {
    dhis2::Client client(env("DHIS2_URL"), dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")});
    const std::string what = argc == 2 ? argv[1] : "";
    const dhis2::TaskRef ref = what.empty()          ? client.jobs().start_resource_tables()
                               : what == "analytics" ? client.jobs().start_analytics()
                                                     : dhis2::TaskRef::parse(what);
    std::cout << "following " << ref.str() << "\n";
    dhis2::TaskWatcher watcher(client, ref);
    const auto done = watcher.for_each_notification(
        [](const dhis2::Notification& n) {
          render(n);
          return true;  // keep following
        },
        std::chrono::hours(2));
    std::cout << "outcome: " << dhis2::to_string(done->outcome) << " (" << done->reason << ")\n";
    return done->ok() ? 0 : 1;
  } catch (const dhis2::TaskTimeoutError& e) {
    std::cerr << e.what() << "\n";
    return 3;
  } catch (const dhis2::UsageError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const dhis2::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
