// What a failure means to the person at the terminal and to the script that runs `dhis2`, and
// the signal thread.
#include "cli.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dhis2cli {

namespace {

Failure make(int code, const char* kind, std::string message) { return Failure{code, kind, std::move(message)}; }

Failure transport(const dhis2::TransportError& e, const std::string& url) {
  using K = dhis2::TransportErrorKind;
  switch (e.kind()) {
    case K::Tls:
      return make(kNetwork, "tls",
                  std::string(e.what()) +
                      ". If the server uses a private certificate authority, pass its certificate with --ca-cert "
                      "PATH (--insecure turns verification off, for tests only)");
    case K::Dns: return make(kNetwork, "network", e.what());
    case K::Connect:
      return make(kNetwork, "network",
                  std::string(e.what()) + ". Check that the server is up and that the URL (" + url +
                      ") has the right host and port");
    case K::Timeout:
      return make(kNetwork, "network",
                  std::string(e.what()) + ". The server is slow or unreachable; a longer --timeout may help");
    default: return make(kNetwork, "network", e.what());
  }
}

}  // namespace

Failure describe_failure(std::exception_ptr error, const std::string& url) {
  try {
    std::rethrow_exception(error);
  } catch (const CliUsageError& e) {
    return make(kUsage, "usage", e.what());
  } catch (const dhis2::TaskTimeoutError& e) {
    return make(kTimedOut, "timeout", e.what());
  } catch (const NotDhis2Error& e) {
    return make(kNotDhis2, "not-dhis2",
                std::string(e.what()) + ". Is " + url +
                    " the address of a DHIS2 server (its base URL, with the context path such as /dhis)?");
  } catch (const dhis2::TaskCancelledError& e) {
    return make(kCancelled, "cancelled", e.what());
  } catch (const dhis2::CancelledError& e) {
    return make(kCancelled, "cancelled", e.what());
  } catch (const dhis2::TransportError& e) {
    return transport(e, url);
  } catch (const dhis2::AuthenticationError& e) {
    return make(kAuth, "authentication", e.what());
  } catch (const dhis2::UnsupportedVersionError& e) {
    return make(kNotDhis2, "unsupported-version", e.what());
  } catch (const dhis2::VersionPinMismatchError& e) {
    return make(kNotDhis2, "unsupported-version", e.what());
  } catch (const dhis2::UnexpectedResponseError& e) {
    return make(kJobFailed, "unexpected-response",
                std::string(e.what()) + ". A proxy may be answering for the server, or the server changed");
  } catch (const dhis2::ApiError& e) {
    if (e.status() == 403) {
      return make(kAuth, "authorization",
                  std::string(e.what()) + ". The user lacks the authority for this; ask an administrator");
    }
    return make(kJobFailed, "api", e.what());
  } catch (const dhis2::UsageError& e) {
    return make(kUsage, "usage", e.what());
  } catch (const dhis2::Error& e) {
    return make(kJobFailed, "error", e.what());
  } catch (const std::bad_alloc&) {
    return make(kJobFailed, "error", "out of memory");
  } catch (const std::exception& e) {
    return make(kJobFailed, "error", e.what());
  }
}

// ---- signals ---------------------------------------------------------------------------------

namespace {
Interrupts* g_interrupts = nullptr;  // set once by install(); lives until the process ends
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

Interrupts& Interrupts::install() {
  if (g_interrupts) return *g_interrupts;
  const sigset_t set = stop_signals();
  if (const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    throw std::runtime_error(std::string("cannot block SIGINT/SIGTERM: ") + std::strerror(rc));
  }
  g_interrupts = new Interrupts();  // never deleted: the signal thread may use it until exit
  std::thread([] { g_interrupts->run(); }).detach();
  return *g_interrupts;
}

Interrupts& Interrupts::instance() { return install(); }

void Interrupts::run() {
  const sigset_t set = stop_signals();
  int number = 0;
  while (sigwait(&set, &number) != 0) {
  }
  {
    // Under the lock: a Guard that goes out of scope meanwhile waits, so no action outlives what
    // it stops. The actions only ask (cancel a watch, close a client) and return at once.
    std::lock_guard<std::mutex> lock(mutex_);
    signal_ = number;
    for (auto& action : actions_) action.second();
  }
  // A second signal ends the process at once, as it would without this thread.
  while (sigwait(&set, &number) != 0) {
  }
  if (cursor_hidden().load()) {
    static const char show_cursor[] = "\x1b[?25h\n";  // the live display hides it
    (void)!write(STDOUT_FILENO, show_cursor, sizeof show_cursor - 1);
  }
  std::_Exit(128 + number);
}

Interrupts::Guard::Guard(std::function<void()> action) {
  Interrupts& self = instance();
  bool run_now = false;
  {
    std::lock_guard<std::mutex> lock(self.mutex_);
    id_ = ++self.next_id_;
    self.actions_.emplace_back(id_, action);
    run_now = self.signal_ != 0;
  }
  if (run_now) action();
}

Interrupts::Guard::~Guard() {
  Interrupts& self = instance();
  std::lock_guard<std::mutex> lock(self.mutex_);
  for (auto it = self.actions_.begin(); it != self.actions_.end(); ++it) {
    if (it->first == id_) {
      self.actions_.erase(it);
      break;
    }
  }
}

std::atomic<bool>& Interrupts::cursor_hidden() {
  static std::atomic<bool> hidden{false};
  return hidden;
}

}  // namespace dhis2cli
