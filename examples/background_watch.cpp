// background_watch: start several jobs, keep working while a TaskManager watches them on its own
// threads, print their progress as it comes, and collect the results. Analytics runs only after
// the data value import succeeded (a chain).
//
//   DHIS2_URL=https://play.example.org/dev DHIS2_USERNAME=admin DHIS2_PASSWORD=district ./background_watch
//
// Exit codes: 0 every job succeeded, 1 one did not, 3 timed out, 2 bad settings.
#include <dhis2/dhis2.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::mutex out_mutex;  // the callbacks print from the manager's callback thread

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::cout << line << std::endl;
}

}  // namespace

int main() {
  const std::string url = env("DHIS2_URL");
  if (url.empty()) {
    std::cerr << "set DHIS2_URL, and DHIS2_USERNAME/DHIS2_PASSWORD or DHIS2_TOKEN\n";
    return 2;
  }
  try {
    dhis2::Client client = env("DHIS2_TOKEN").empty()
                               ? dhis2::Client(url, dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")})
                               : dhis2::Client(url, dhis2::TokenAuth(env("DHIS2_TOKEN")));

    dhis2::WatchCallbacks callbacks;
    callbacks.on_notification = [](const dhis2::BackgroundWatch& w, const dhis2::Notification& n) {
      say(w.ref().job_type + "  " + n.level_name + "  " + n.message.value_or(""));
    };
    callbacks.on_finished = [](const dhis2::BackgroundWatch& w) {
      say(w.ref().str() + " " + dhis2::to_string(w.status()));
    };

    dhis2::TaskManager manager(client);  // two polling threads, however many jobs
    std::vector<dhis2::BackgroundWatch> watches;
    watches.push_back(manager.watch(client.jobs().start_resource_tables(), callbacks));
    watches.push_back(manager.watch(client.jobs().start_monitoring(), callbacks));
    const auto import = manager.watch(
        client.jobs().import_data_values_async(nlohmann::json{{"dataValues", nlohmann::json::array()}}), callbacks);
    watches.push_back(import);
    // Analytics after the import, so that the tables include its values.
    watches.push_back(manager.after(
        {import}, [&client] { return client.jobs().start_analytics(); }, callbacks));
    say("watching " + std::to_string(watches.size()) + " jobs in the background");

    // The program's own work goes on meanwhile.
    while (!manager.active().empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    const auto completions = manager.wait_all(watches, std::chrono::hours(6));
    int failed = 0;
    for (const auto& c : completions) {
      if (!c.ok()) {
        ++failed;
        say(c.ref.str() + " did not succeed: " + c.reason);
      }
    }
    if (failed > 0) return 1;
    say("all " + std::to_string(completions.size()) + " jobs succeeded");
    return 0;
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
}
