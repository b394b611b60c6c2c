// dhis2-emulator: the dhis2-cpp DHIS2 emulator (dhis2::testing::FakeServer) as a standalone server,
// for trying the `dhis2` command or any other DHIS2 client by hand, and for benchmarks.
//
//   dhis2-emulator [--port N] [--host H] [--version 2.42.1] [--tls CERT KEY] [--speed X]
//                  [--user NAME:PASSWORD]... [--token PAT]... [--context-path /dhis]
//                  [--reported-version TEXT] [--fail JOB_TYPE]... [--compress]
//
// Defaults: 127.0.0.1:8080 (--port 0 picks a free port), DHIS2 2.42.1, the clock at real time
// (--speed 60 runs a minute of DHIS2 time per second; 0 stops it), one superuser admin:district.
// --user replaces that user (repeat it for more users; all are superusers); --token adds a
// personal access token for the first user, checked like DHIS2 checks one (dhis2::pat_problem).
// Without --token one V2 token is minted, the same on every run, and printed.
//
// On startup it prints, and flushes, lines of "key: value" on stdout:
//   dhis2-emulator: DHIS2 2.42.1 emulator ready
//   url: http://127.0.0.1:8080
//   version: 2.42.1
//   speed: 1
//   user: admin:district
//   token: d2p_... (user admin)
//   Stop with Ctrl-C (SIGINT) or SIGTERM.
// then serves until SIGINT or SIGTERM (waited for with sigwait(); no signal handler runs).
//
// Exit status: 0 after SIGINT/SIGTERM or --help; 1 when it cannot start (port taken, unreadable
// certificate); 2 for a usage error (unknown option, bad value, unknown version), with a message
// and the usage on stderr.
#include <dhis2/testing.hpp>

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char* kUsage =
    "Usage: dhis2-emulator [options]\n"
    "Serves an emulated DHIS2 Web API until SIGINT (Ctrl-C) or SIGTERM.\n"
    "\n"
    "Options:\n"
    "  --port N              port to listen on (default 8080; 0 picks a free port)\n"
    "  --host H              address to listen on (default 127.0.0.1)\n"
    "  --version V           DHIS2 version to emulate, 2.38 to 2.43 (default 2.42.1)\n"
    "  --tls CERT KEY        serve HTTPS with this PEM certificate and private key\n"
    "  --speed X             emulated clock speed: 1 real time (default), 60 one minute per\n"
    "                        second, 0 stands still\n"
    "  --user NAME:PASSWORD  a superuser for Basic auth; repeatable (default admin:district)\n"
    "  --token PAT           a personal access token for the first user; repeatable\n"
    "                        (default: one V2 token is minted and printed)\n"
    "  --context-path PATH   serve the API under PATH, e.g. /dhis (default: none)\n"
    "  --reported-version T  report version T in /api/system/info while behaving as\n"
    "                        --version (try a client against 2.37, say)\n"
    "  --fail JOB_TYPE       jobs of JOB_TYPE (e.g. ANALYTICS_TABLE) fail at their first\n"
    "                        stage with an ERROR row; repeatable\n"
    "  --compress            gzip JSON answers for clients that accept gzip, as nginx in\n"
    "                        front of DHIS2 does (DHIS2 alone never compresses)\n"
    "  -h, --help            print this help and exit\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM, 1 cannot start, 2 usage error.\n";

// The secret of the token minted when no --token is given: fixed, so the printed token stays the
// same from run to run (scripts may keep it). Never use it outside the emulator.
constexpr const char* kMintedSecret = "EmulatorTokenForDhis2CppDoNotUseInProduction";

struct Settings {
  dhis2::testing::FakeServerOptions options;
  std::vector<std::string> failing_types;  // --fail
  bool help = false;
};

std::optional<int> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const int port = std::atoi(text.c_str());
  if (port > 65535) return std::nullopt;
  return port;
}

std::optional<double> parse_speed(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

// Reads the command line; throws dhis2::UsageError with a message for the user.
Settings parse(int argc, char** argv) {
  Settings s;
  s.options.port = 8080;
  s.options.speed = 1;
  std::vector<dhis2::testing::User> users;
  std::vector<std::string> tokens;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (flag.rfind("--", 0) == 0) {
      const auto eq = flag.find('=');
      if (eq != std::string::npos) {
        inline_value = flag.substr(eq + 1);
        flag.erase(eq);
      }
    }
    // The next value of `flag`, from "--flag=value" or the following argument.
    const auto value = [&]() -> std::string {
      if (inline_value) {
        std::string v = *inline_value;
        inline_value.reset();
        return v;
      }
      if (i + 1 >= args.size()) throw dhis2::UsageError(flag + " needs a value");
      return args[++i];
    };

    if (flag == "-h" || flag == "--help") {
      s.help = true;
      return s;
    } else if (flag == "--port") {
      const std::string text = value();
      const auto port = parse_port(text);
      if (!port) throw dhis2::UsageError("--port: \"" + text + "\" is not a port number (0 to 65535)");
      s.options.port = *port;
    } else if (flag == "--host") {
      s.options.host = value();
      if (s.options.host.empty()) throw dhis2::UsageError("--host: the address must not be empty");
    } else if (flag == "--version") {
      s.options.version = value();
      try {
        (void)dhis2::testing::VersionProfile::of(s.options.version);
      } catch (const dhis2::UsageError& e) {
        throw dhis2::UsageError(std::string("--version: ") + e.what());
      }
    } else if (flag == "--tls") {
      if (inline_value) throw dhis2::UsageError("--tls takes two values: --tls CERT KEY");
      if (i + 2 >= args.size()) throw dhis2::UsageError("--tls needs two values: --tls CERT KEY");
      s.options.tls = dhis2::testing::TlsFiles{args[i + 1], args[i + 2]};
      i += 2;
    } else if (flag == "--speed") {
      const std::string text = value();
      const auto speed = parse_speed(text);
      if (!speed) throw dhis2::UsageError("--speed: \"" + text + "\" is not a number >= 0 (1 = real time)");
      s.options.speed = *speed;
    } else if (flag == "--user") {
      const std::string text = value();
      const auto colon = text.find(':');
      if (colon == std::string::npos) throw dhis2::UsageError("--user: expected NAME:PASSWORD, without a ':' in NAME");
      if (colon == 0) throw dhis2::UsageError("--user: the user name before ':' must not be empty");
      users.emplace_back(text.substr(0, colon), text.substr(colon + 1));
    } else if (flag == "--token") {
      const std::string token = value();
      if (const auto problem = dhis2::pat_problem(token)) throw dhis2::UsageError("--token: " + *problem);
      tokens.push_back(token);
    } else if (flag == "--compress") {
      if (inline_value) throw dhis2::UsageError("--compress takes no value");
      s.options.compress = true;
    } else if (flag == "--reported-version") {
      s.options.reported_version = value();
      if (s.options.reported_version.empty())
        throw dhis2::UsageError("--reported-version: the version must not be empty");
    } else if (flag == "--fail") {
      const std::string type = value();
      if (type.empty() || type.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != std::string::npos) {
        throw dhis2::UsageError("--fail: \"" + type + "\" is not a job type like ANALYTICS_TABLE");
      }
      s.failing_types.push_back(type);
    } else if (flag == "--context-path") {
      const std::string path = value();
      if (!path.empty() &&
          (path.front() != '/' || path.back() == '/' || path.find_first_of(" ?#") != std::string::npos)) {
        throw dhis2::UsageError("--context-path: \"" + path +
                                "\" is not a context path like /dhis (a leading '/', no trailing '/')");
      }
      s.options.context_path = path;
    } else {
      throw dhis2::UsageError("unknown option \"" + args[i] + "\"");
    }
    if (inline_value) throw dhis2::UsageError(flag + " takes one value");
  }

  if (!users.empty()) s.options.users = users;
  if (tokens.empty()) tokens.push_back(*dhis2::make_pat(dhis2::PatFormat::V2, kMintedSecret));
  for (const auto& token : tokens) s.options.tokens.emplace_back(token, s.options.users.front().username);
  return s;
}

std::string format_speed(double speed) {
  std::ostringstream out;
  out << speed;
  return out.str();
}

int usage_error(const std::string& message) {
  std::cerr << "dhis2-emulator: " << message << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    settings = parse(argc, argv);
  } catch (const dhis2::UsageError& e) {
    return usage_error(e.what());
  }
  if (settings.help) {
    std::cout << kUsage << std::flush;
    return 0;
  }

  // Block SIGINT and SIGTERM before the server starts its threads, so that every thread inherits
  // the mask and the signals stay pending until sigwait() below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (const int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); rc != 0) {
    std::cerr << "dhis2-emulator: cannot block SIGINT/SIGTERM: " << std::strerror(rc) << "\n";
    return 1;
  }

  const auto& o = settings.options;
  std::optional<dhis2::testing::FakeServer> server;
  try {
    server.emplace(o);
  } catch (const dhis2::UsageError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::cerr << "dhis2-emulator: cannot start: " << e.what() << "\n";
    return 1;
  }

  for (const auto& type : settings.failing_types) {
    dhis2::testing::JobScript script;
    script.start("Job of type " + type)
        .stage("Preparing", std::chrono::milliseconds(500))
        .fail("Job failed: the emulator was told to fail " + type + " jobs (--fail)", std::chrono::milliseconds(1000));
    server->set_default_script(type, script);
  }

  std::cout << "dhis2-emulator: DHIS2 " << server->profile().version_text << " emulator ready\n"
            << "url: " << server->url() << "\n"
            << "version: " << server->profile().version_text << "\n"
            << "speed: " << format_speed(o.speed) << "\n";
  for (const auto& user : o.users) std::cout << "user: " << user.username << ":" << user.password << "\n";
  for (const auto& token : o.tokens) std::cout << "token: " << token.token << " (user " << token.username << ")\n";
  std::cout << "Stop with Ctrl-C (SIGINT) or SIGTERM." << std::endl;

  int signal_number = 0;
  while (true) {
    const int rc = sigwait(&stop_signals, &signal_number);
    if (rc == 0) break;
    if (rc != EINTR) {
      std::cerr << "dhis2-emulator: sigwait failed: " << std::strerror(rc) << "\n";
      server->stop();
      return 1;
    }
  }
  server->stop();
  std::cout << "dhis2-emulator: stopped (" << (signal_number == SIGINT ? "SIGINT" : "SIGTERM") << ")" << std::endl;
  return 0;
}
