// test_support::eventually: polls a condition briefly until it holds, for tests that wait for
// another thread. Header-only.
#ifndef DHIS2CPP_TESTS_SUPPORT_EVENTUALLY_HPP
#define DHIS2CPP_TESTS_SUPPORT_EVENTUALLY_HPP

#include <chrono>
#include <thread>

namespace test_support {

// Calls `done()` every 2 ms until it returns true (true), or until `limit` passed (false).
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace test_support

#endif  // DHIS2CPP_TESTS_SUPPORT_EVENTUALLY_HPP
