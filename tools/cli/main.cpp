// dhis2: follow DHIS2 background jobs from a terminal or a script (DESIGN.md §5, docs/cli.md).
//
//   dhis2 [--url URL] [--username U --password P | --token T] [--ca-cert PATH] [--insecure]
//         [--timeout SECONDS] [--json] <command> [args]
//
// The command line is read with CLI11; the commands are in commands.cpp, the output in output.cpp.
#include "cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace {

using namespace dhis2cli;

constexpr const char* kFooter = R"(Environment:
  DHIS2_URL, DHIS2_USERNAME, DHIS2_PASSWORD, DHIS2_TOKEN stand in for the options left out.
  NO_COLOR (set and not empty) turns colour and the live display off, as a stdout that is not
  a terminal does.

Exit codes:
  0 success   1 the job failed (or ended unknown; or the server refused the request)
  2 usage error   3 timed out   4 network or TLS error   5 authentication or authorization
  6 cancelled   7 not a DHIS2 server, or an unsupported version
  130/143 interrupted by SIGINT/SIGTERM (the job goes on on the server)

See docs/cli.md.)";

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The secrets of `s`, never printed: every message passes through this.
std::string scrub(std::string text, const Settings& s) {
  for (const std::string* secret : {&s.password, &s.token}) {
    if (secret->size() < 3) continue;
    for (auto at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at)) {
      text.replace(at, secret->size(), "[redacted]");
    }
  }
  return text;
}

// The environment's credentials where the command line gave none: a token on the command line
// wins over a user in the environment, and the reverse.
void fill_from_environment(Settings& s) {
  if (s.url.empty()) s.url = env("DHIS2_URL");
  if (!s.token.empty() && (!s.username.empty() || !s.password.empty())) {
    throw CliUsageError("give either --username and --password, or --token, not both");
  }
  if (s.token.empty() && s.username.empty()) {
    if (!env("DHIS2_TOKEN").empty() && s.password.empty()) {
      s.token = env("DHIS2_TOKEN");
    } else {
      s.username = env("DHIS2_USERNAME");
    }
  }
  if (!s.username.empty() && s.password.empty()) s.password = env("DHIS2_PASSWORD");
  if (s.token.empty() && !s.username.empty() && s.password.empty()) {
    throw CliUsageError("--username " + s.username + " needs a password: pass --password or set DHIS2_PASSWORD");
  }
  if (s.token.empty() && s.username.empty() && !s.password.empty()) {
    throw CliUsageError("--password needs a user: pass --username or set DHIS2_USERNAME");
  }
}

Mode pick_mode(bool json) {
  if (json) return Mode::Json;
  const std::string term = env("TERM");
  if (!isatty(STDOUT_FILENO) || !env("NO_COLOR").empty() || term == "dumb") return Mode::Plain;
  return Mode::Live;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Interrupts::install();  // before any thread starts, so that every thread blocks the signals
  } catch (const std::exception& e) {
    std::cerr << "dhis2: " << e.what() << "\n";
    return kJobFailed;
  }

  Settings settings;
  WatchArgs watch;
  RunArgs run;
  DemoArgs demo;
  std::string cancel_ref, revert_ref;

  CLI::App app{
      "Follow DHIS2 background jobs (analytics, imports, ...): start them, watch them to their end, "
      "cancel them.",
      "dhis2"};
  app.footer(kFooter);
  app.require_subcommand(1, 1);
  app.fallthrough();
  app.option_defaults()->always_capture_default(false);
  app.add_option("--url", settings.url, "the DHIS2 server, e.g. https://play.dhis2.org/40 (env DHIS2_URL)");
  app.add_option("--username,-u", settings.username, "user for Basic authentication (env DHIS2_USERNAME)");
  app.add_option("--password,-p", settings.password, "that user's password (env DHIS2_PASSWORD)");
  app.add_option("--token", settings.token, "a personal access token, d2p_... or d2pat_... (env DHIS2_TOKEN)");
  app.add_option("--ca-cert", settings.ca_cert,
                 "a PEM file of the certificate authority the server's certificate is from")
      ->check(CLI::ExistingFile);
  app.add_flag("--insecure", settings.insecure, "do not verify the server's TLS certificate (tests only)");
  app.add_option("--timeout", settings.timeout, "seconds to wait for each HTTP response (default 30)");
  app.add_flag("--json", settings.json, "print one JSON object per line on stdout, and nothing else");

  auto* info = app.add_subcommand("info", "server version and system info, and who you are on it");

  auto* w = app.add_subcommand("watch", "follow a job to its end");
  w->add_option("ref", watch.ref, "JOB_TYPE/UID (e.g. ANALYTICS_TABLE/BFa3jDsbtdO) or a resume token");
  w->add_option("--resume", watch.resume, "resume a watch from a token (printed by run --no-wait)");
  w->add_option("--timeout", watch.timeout, "give up after this many seconds (default: wait to the end)");
  w->add_option("--poll", watch.poll, "the longest pause between polls, in seconds (default 2)");
  w->add_option("--max-outage", watch.max_outage,
                "give up after this many seconds without an answer from the server (default 300)");

  auto* r = app.add_subcommand("run", "start a job and follow it to its end");
  r->add_option("job", run.what, "analytics, resource-tables, monitoring or data-integrity")
      ->required()
      ->check(CLI::IsMember({"analytics", "resource-tables", "monitoring", "data-integrity"}));
  r->add_option("--last-years", run.last_years, "analytics: only the last N years of data");
  r->add_flag("--no-wait", run.no_wait, "print the job's resume token and return at once");
  r->add_option("--timeout", run.timeout, "give up waiting after this many seconds (default: wait to the end)");
  r->add_option("--poll", run.poll, "the longest pause between polls, in seconds (default 2)");
  r->add_option("--max-outage", run.max_outage,
                "give up after this many seconds without an answer from the server (default 300)");

  auto* c = app.add_subcommand("cancel", "ask the server to cancel a job");
  c->add_option("ref", cancel_ref, "JOB_TYPE/UID")->required();
  auto* v = app.add_subcommand("revert", "free a job stuck in RUNNING (DHIS2 2.41.1+)");
  v->add_option("ref", revert_ref, "JOB_TYPE/UID")->required();
  auto* j = app.add_subcommand("jobs", "what runs now and what finished last, per job type");

  auto* d = app.add_subcommand("demo", "start the built-in DHIS2 emulator and follow an analytics run on it");
  d->add_option("--speed", demo.speed, "the emulator's clock: 1 real time (default, about 20 s), 10 ten times faster");
  d->add_option("--version", demo.version, "the DHIS2 version to emulate, 2.38 to 2.43 (default 2.42.1)");
  d->add_option("--poll", demo.poll, "the longest pause between polls, in seconds (default 0.5)");

  const bool json_requested = [&] {
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--json") == 0) return true;
    }
    return false;
  }();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string message = scrub(e.what(), settings);
    if (json_requested) {
      std::cout << nlohmann::json{{"event", "error"}, {"kind", "usage"}, {"message", message}}.dump(
                       -1, ' ', false, nlohmann::json::error_handler_t::replace)
                << std::endl;
    }
    std::cerr << "dhis2: " << message << " (dhis2 --help lists the commands and options)\n";
    return kUsage;
  }

  Output out(pick_mode(settings.json), true, std::cout, std::cerr);
  try {
    if (!d->parsed()) fill_from_environment(settings);
    if (settings.insecure) out.warn("--insecure: the server's TLS certificate is not verified; use it for tests only");
    if (info->parsed()) return cmd_info(settings, out);
    if (w->parsed()) return cmd_watch(settings, watch, out);
    if (r->parsed()) return cmd_run(settings, run, out);
    if (c->parsed()) return cmd_cancel(settings, cancel_ref, out);
    if (v->parsed()) return cmd_revert(settings, revert_ref, out);
    if (j->parsed()) return cmd_jobs(settings, out);
    if (d->parsed()) return cmd_demo(settings, demo, out);
    throw CliUsageError("no command given");
  } catch (...) {
    Failure f = describe_failure(std::current_exception(), settings.url);
    if (const int signal = Interrupts::instance().signal(); signal != 0) {
      f = Failure{128 + signal, "interrupted",
                  "interrupted; a job it started goes on on the server (dhis2 jobs lists what runs)"};
    }
    f.message = scrub(f.message, settings);
    out.failure(f);
    return f.exit_code;
  }
}
