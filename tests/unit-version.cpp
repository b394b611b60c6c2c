// The version lives only in include/dhis2/version.hpp. This test checks every other place that
// shows it: the build systems' project versions, the single headers, the changelog, the README.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#ifndef DHIS2CPP_SOURCE_DIR
#error "the build passes DHIS2CPP_SOURCE_DIR to the tests"
#endif

namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(DHIS2CPP_SOURCE_DIR) + "/" + relative, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string header_version = DHIS2CPP_VERSION_STRING;

}  // namespace

TEST_CASE("The version string matches the numeric macros") {
  CHECK(header_version == std::to_string(DHIS2CPP_VERSION_MAJOR) + "." + std::to_string(DHIS2CPP_VERSION_MINOR) + "." +
                              std::to_string(DHIS2CPP_VERSION_PATCH));
}

TEST_CASE("The build system read the version from the header") {
#if defined(DHIS2CPP_CMAKE_PROJECT_VERSION)
  CHECK(std::string(DHIS2CPP_CMAKE_PROJECT_VERSION) == header_version);
#elif defined(DHIS2CPP_MESON_PROJECT_VERSION)
  CHECK(std::string(DHIS2CPP_MESON_PROJECT_VERSION) == header_version);
#else
  FAIL("the build passes neither DHIS2CPP_CMAKE_PROJECT_VERSION nor DHIS2CPP_MESON_PROJECT_VERSION");
#endif
}

TEST_CASE("The committed single header shows the same version") {
  CHECK_THAT(read_source_file("single_include/dhis2/dhis2.hpp"),
             Catch::Contains("dhis2-cpp version " + header_version + " "));
}

TEST_CASE("The newest changelog entry is this version") {
  const auto changelog = read_source_file("CHANGELOG.md");
  std::smatch first;
  REQUIRE(std::regex_search(changelog, first, std::regex(R"(\n## (\d+\.\d+\.\d+))")));
  CHECK(first[1] == header_version);
}

TEST_CASE("Versions quoted in the README match") {
  // e.g. find_package(dhis2cpp 0.1 REQUIRED) names major.minor.
  const auto readme = read_source_file("README.md");
  const std::regex quoted(R"(find_package\(dhis2cpp (\d+)\.(\d+))");
  int seen = 0;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), quoted); it != std::sregex_iterator(); ++it) {
    ++seen;
    CHECK((*it)[1] == std::to_string(DHIS2CPP_VERSION_MAJOR));
    CHECK((*it)[2] == std::to_string(DHIS2CPP_VERSION_MINOR));
  }
  CHECK(seen > 0);
}
