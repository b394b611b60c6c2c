// test_support::sigpipe_is_default, this_thread_blocks_sigpipe: what the SIGPIPE tests check of the
// process and of the calling thread. Header-only.
#ifndef DHIS2CPP_TESTS_SUPPORT_SIGPIPE_HPP
#define DHIS2CPP_TESTS_SUPPORT_SIGPIPE_HPP

#include <pthread.h>
#include <signal.h>

namespace test_support {

// The process's disposition of SIGPIPE is the default action (terminate).
inline bool sigpipe_is_default() {
  struct sigaction current {};
  return sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL;
}

// The calling thread blocks SIGPIPE.
inline bool this_thread_blocks_sigpipe() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

}  // namespace test_support

#endif  // DHIS2CPP_TESTS_SUPPORT_SIGPIPE_HPP
