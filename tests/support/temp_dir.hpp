#ifndef DHIS2CPP_TESTS_SUPPORT_TEMP_DIR_HPP
#define DHIS2CPP_TESTS_SUPPORT_TEMP_DIR_HPP

// A fresh directory under /tmp for one test, removed with everything in it when the test ends.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace test_support {

struct TempDir {
  std::string path;

  TempDir() {
    char pattern[] = "/tmp/dhis2-cpp-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace test_support

#endif  // DHIS2CPP_TESTS_SUPPORT_TEMP_DIR_HPP
