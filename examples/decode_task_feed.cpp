// decode_task_feed: print a DHIS2 job's notification feed as a timeline.
//
// Feed it what GET /api/system/tasks/{jobType}/{jobId} returned (saved from a browser, curl, or
// a support ticket):
//     decode_task_feed feed.json
//     curl -s -u admin:district https://dhis2.example.org/api/system/tasks/ANALYTICS_TABLE/<id> | decode_task_feed
// It prints the rows oldest first, says whether the job reported completion, and explains why a
// completed row alone does not tell whether the job succeeded.
#include <dhis2/dhis2.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::string describe(const dhis2::Notification& n) {
  std::string line = n.time.empty() ? std::string(23, ' ') : n.time;
  std::string level = n.level_name.empty() ? "-" : n.level_name;
  level.resize(6, ' ');
  line += "  " + level + " ";
  line += n.message ? (n.message->empty() ? "(empty message)" : *n.message) : "(no message)";
  if (n.completed) line += "  [completed]";
  if (n.data_type == "PARAMETERS") line += "  [parameters: " + n.data.dump() + "]";
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::cerr << "usage: decode_task_feed [FEED.json]   (reads standard input without a file)\n";
    return 2;
  }
  nlohmann::json feed;
  try {
    if (argc == 2) {
      std::ifstream file(argv[1]);
      if (!file) {
        std::cerr << "error: cannot open " << argv[1] << "\n";
        return 2;
      }
      feed = nlohmann::json::parse(file);
    } else {
      feed = nlohmann::json::parse(std::cin);
    }
  } catch (const nlohmann::json::parse_error& e) {
    std::cerr << "error: the input is not JSON (" << e.what() << ")\n";
    return 1;
  }

  std::vector<dhis2::Notification> rows;
  try {
    rows = dhis2::notifications_from_json(feed);
  } catch (const dhis2::DecodeError& e) {
    std::cerr << "error: not a DHIS2 notification feed: " << e.what() << "\n";
    return 1;
  }
  if (rows.empty()) {
    std::cout << "no notifications: the job has not started yet, is unknown to this server, or its\n"
                 "notifications were cleared (DHIS2 answers [] in all three cases)\n";
    return 0;
  }

  // DHIS2 sends newest first; print oldest first.
  std::cout << rows.front().category << ", " << rows.size() << " notification(s), oldest first:\n";
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) std::cout << "  " << describe(*it) << "\n";

  const auto& newest = rows.front();
  if (!newest.completed) {
    std::cout << "the job has not reported completion yet\n";
  } else {
    std::cout << "the job reported completion at level " << newest.level_name
              << "; DHIS2's final level is not the outcome (a data value import with errors still\n"
                 "ends at INFO): read /api/system/taskSummaries/"
              << newest.category << "/<job id> to know\n";
  }
  return 0;
}
