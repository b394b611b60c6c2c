// task_resume: follow a DHIS2 job as a service that may be restarted must: after each notification
// it saves the watch's resume token to a state file; started again (by systemd, cron, a person),
// it carries on where the last run stopped, printing no notification twice, and ends with the
// outcome an uninterrupted watch would have had. The token holds no credential.
//
//   DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... ./task_resume STATE_FILE [analytics | JOB_TYPE/UID]
//
// Without a state file it starts analytics (or follows JOB_TYPE/UID); with one it resumes. The
// state file is removed when the job has ended. Prints "<time>  <LEVEL>  <message>" per
// notification, then "outcome: <outcome> (<reason>)".
// Exit codes: 0 succeeded, 1 did not, 2 bad arguments or settings, 3 timed out.
#include <dhis2/dhis2.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  return token;
}

// Written to a temporary file and renamed over the state file: a crash leaves the old or the new
// token, never half of one.
void save(const std::string& path, const std::string& token) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << token << "\n";
  }
  std::rename(temporary.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (env("DHIS2_URL").empty() || argc < 2 || argc > 3) {
    std::cerr << "usage: DHIS2_URL=... DHIS2_USERNAME=... DHIS2_PASSWORD=... task_resume STATE_FILE [analytics | "
                 "JOB_TYPE/UID]\n";
    return 2;
  }
  const std::string state = argv[1];
  try {
    dhis2::Client client(env("DHIS2_URL"), dhis2::BasicAuth{env("DHIS2_USERNAME"), env("DHIS2_PASSWORD")});
    const std::string saved = read_file(state);
    dhis2::TaskRef ref;
    if (!saved.empty()) {
      ref = dhis2::TaskRef::parse(saved);
      std::cout << "resuming " << ref.str() << " after " << (ref.position ? ref.position->delivered : 0)
                << " notification(s)\n";
    } else {
      const std::string what = argc == 3 ? argv[2] : "analytics";
      ref = what == "analytics" ? client.jobs().start_analytics() : dhis2::TaskRef::parse(what);
      save(state, ref.resume_token());
      std::cout << "following " << ref.str() << "\n";
    }
    std::cout.flush();

    dhis2::TaskWatcher watcher(client, ref);
    const auto done = watcher.for_each_notification(
        [&](const dhis2::Notification& n) {
          std::cout << n.time << "  " << n.level_name << "  " << n.message.value_or("") << "\n";
          std::cout.flush();
          save(state, watcher.resume_token());  // this row is delivered: never print it again
          return true;
        },
        std::chrono::hours(6));
    std::remove(state.c_str());
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
