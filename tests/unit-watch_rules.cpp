// The rule table that decides how a wait ends (include/dhis2/impl/watch_rules.ipp) and the table in
// docs/tasks.md describe the same rules in the same order; the rules' own tests are in
// unit-task_watcher_runs.cpp and unit-task_watcher_outcomes.cpp.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

TEST_CASE("every watch rule has a unique name, its evidence and its outcome") {
  std::set<std::string> names;
  for (const auto& rule : dhis2::watch_rules()) {
    INFO(rule.name);
    CHECK(names.insert(rule.name).second);
    CHECK(std::string(rule.when).size() > 10);
    CHECK_FALSE(std::string(rule.outcome).empty());
  }
  CHECK(names.count("deadline") == 1);
  CHECK(names.count("cancelled") == 1);
}

TEST_CASE("docs/tasks.md lists the watch rules in the order the watcher applies them") {
  std::ifstream file(std::string(DHIS2CPP_SOURCE_DIR) + "/docs/tasks.md");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  const std::regex row(R"(\n\| (\d+) \| `([a-z-]+)` \|)");
  std::vector<std::string> documented;
  for (std::sregex_iterator it(doc.begin(), doc.end(), row), end; it != end; ++it) {
    CHECK(std::stoul((*it)[1]) == documented.size() + 1);
    documented.push_back((*it)[2]);
  }
  std::vector<std::string> in_code;
  for (const auto& rule : dhis2::watch_rules()) in_code.push_back(rule.name);
  CHECK(documented == in_code);
}
