// The `dhis2` command's pure parts: the estimate of the time left, the lines after the outcome,
// the time texts and what each error means to a person and a script.
#include "cli.hpp"

#include <catch2/catch.hpp>

using namespace dhis2cli;
using std::chrono::milliseconds;

namespace {

dhis2::JobProgress previous_run(const char* status, std::initializer_list<std::pair<const char*, int>> stages) {
  dhis2::JobProgress p;
  dhis2::ProgressProcess process;
  process.status = dhis2::parse_progress_status(status);
  for (const auto& [description, ms] : stages) {
    dhis2::ProgressStage s;
    s.description = description;
    s.complete = true;
    s.status = dhis2::ProgressStatus::Success;
    if (ms >= 0) s.duration_ms = ms;
    process.stages.push_back(s);
  }
  p.processes.push_back(process);
  return p;
}

}  // namespace

TEST_CASE("the estimate adds what is left of this stage to the previous run's later stages") {
  const auto prev = previous_run("SUCCESS", {{"Validating", 1000}, {"Populating", 10000}, {"Indexing", 4000}});
  const auto e = estimate_left(prev, 1, "Populating", milliseconds(3000));
  REQUIRE(e);
  CHECK(e->left == milliseconds(7000 + 4000));
  CHECK(e->stage_number == 2);
  CHECK(e->stage_count == 3);

  // A stage that runs longer than last time leaves the later stages, never a negative time.
  CHECK(estimate_left(prev, 1, "Populating", milliseconds(60000))->left == milliseconds(4000));
  // The hint is wrong: the stage is found by its description.
  CHECK(estimate_left(prev, 0, "Indexing", milliseconds(0))->stage_number == 3);
}

TEST_CASE("no estimate rather than a guess") {
  // A stage the previous run did not have.
  CHECK_FALSE(estimate_left(previous_run("SUCCESS", {{"A", 1000}}), 0, "B", milliseconds(0)));
  // A previous run that failed or was cancelled ran shorter than a whole run.
  CHECK_FALSE(estimate_left(previous_run("ERROR", {{"A", 1000}}), 0, "A", milliseconds(0)));
  CHECK_FALSE(estimate_left(previous_run("CANCELLED", {{"A", 1000}}), 0, "A", milliseconds(0)));
  // A stage without a time.
  CHECK_FALSE(estimate_left(previous_run("SUCCESS", {{"A", 1000}, {"B", -1}}), 0, "A", milliseconds(0)));
  // No previous run, no stage yet.
  CHECK_FALSE(estimate_left(dhis2::JobProgress{}, 0, "A", milliseconds(0)));
  CHECK_FALSE(estimate_left(previous_run("SUCCESS", {{"A", 1000}}), 0, "", milliseconds(0)));
}

TEST_CASE("the lines after the outcome: an import's counts, its first conflicts, the errors") {
  dhis2::TaskCompletion c;
  c.summary = nlohmann::json::parse(R"({"responseType":"ImportSummary","status":"WARNING",
    "importCount":{"imported":10,"updated":2,"ignored":7,"deleted":0},
    "conflicts":[{"object":"fbfJHSPpUQD","value":"Data element not found","errorCode":"E7610"},
                 {"object":"cYeuwXTCPkU","value":"Period not valid"},
                 {"object":"a","value":"3"},{"object":"b","value":"4"},{"object":"c","value":"5"},
                 {"object":"d","value":"6"},{"object":"e","value":"7"}]})");
  c.errors = {"Import > Checking: bad"};
  const auto lines = completion_details(c, 5);
  REQUIRE(lines.size() == 1 + 5 + 1 + 1);
  CHECK(lines[0] == "counts: 10 imported, 2 updated, 0 deleted, 7 ignored");
  CHECK(lines[1].find("fbfJHSPpUQD") != std::string::npos);
  CHECK(lines[1].find("Data element not found") != std::string::npos);
  CHECK(lines[6] == "... and 2 more conflicts");
  CHECK(lines[7] == "error: Import > Checking: bad");

  dhis2::TaskCompletion metadata;
  metadata.summary = {{"status", "OK"}, {"stats", {{"created", 5}, {"updated", 0}, {"deleted", 0}, {"ignored", 1}}}};
  CHECK(completion_details(metadata).at(0) == "counts: 5 created, 0 updated, 0 deleted, 1 ignored");
  CHECK(completion_details(dhis2::TaskCompletion{}).empty());
}

TEST_CASE("time texts") {
  CHECK(clock_text(milliseconds(0)) == "0:00");
  CHECK(clock_text(milliseconds(59999)) == "0:59");
  CHECK(clock_text(milliseconds(3723000)) == "1:02:03");
  CHECK(clock_text(milliseconds(-5)) == "0:00");
  CHECK(duration_text(milliseconds(300)) == "0.3 s");
  CHECK(duration_text(milliseconds(12500)) == "12.5 s");
  CHECK(duration_text(milliseconds(61000)) == "1:01");
}

TEST_CASE("each error has its exit code and kind, and a message that says what to do") {
  const auto of = [](auto error) { return describe_failure(std::make_exception_ptr(error), "https://x.example"); };
  const auto tls = of(dhis2::TransportError("certificate verify failed", dhis2::TransportErrorKind::Tls));
  CHECK(tls.exit_code == kNetwork);
  CHECK(tls.kind == "tls");
  CHECK(tls.message.find("--ca-cert") != std::string::npos);
  const auto dns = of(dhis2::TransportError("no such host", dhis2::TransportErrorKind::Dns));
  CHECK(dns.exit_code == kNetwork);
  CHECK(dns.kind == "network");
  CHECK(of(dhis2::TransportError("refused", dhis2::TransportErrorKind::Connect)).message.find("https://x.example") !=
        std::string::npos);
  CHECK(of(dhis2::AuthenticationError(401, "wrong password")).exit_code == kAuth);
  CHECK(of(dhis2::ApiError(403, "no access")).exit_code == kAuth);
  CHECK(of(dhis2::ApiError(409, "Job is not running")).exit_code == kJobFailed);
  CHECK(of(dhis2::UnsupportedVersionError("2.30", "2.30 is not supported")).exit_code == kNotDhis2);
  // Not DHIS2 when the handshake got it; after the handshake, an unexpected answer of its own.
  CHECK(of(NotDhis2Error("an HTML page")).exit_code == kNotDhis2);
  CHECK(of(NotDhis2Error("an HTML page")).kind == "not-dhis2");
  CHECK(of(dhis2::UnexpectedResponseError("an HTML page")).exit_code == kJobFailed);
  CHECK(of(dhis2::UnexpectedResponseError("an HTML page")).kind == "unexpected-response");
  CHECK(of(dhis2::TaskTimeoutError("no end within 1 s")).exit_code == kTimedOut);
  CHECK(of(dhis2::TaskCancelledError("cancelled")).exit_code == kCancelled);
  CHECK(of(dhis2::UsageError("bad ref")).exit_code == kUsage);
  CHECK(of(CliUsageError("--poll: bad")).kind == "usage");
  CHECK(exit_code_of(dhis2::TaskOutcome::Succeeded) == kSuccess);
  CHECK(exit_code_of(dhis2::TaskOutcome::Failed) == kJobFailed);
  CHECK(exit_code_of(dhis2::TaskOutcome::Unknown) == kJobFailed);
  CHECK(exit_code_of(dhis2::TaskOutcome::Cancelled) == kCancelled);
}

TEST_CASE("server text reaches the terminal without control characters") {
  CHECK(printable("ERROR: relation \"x\" does not exist\n  Position: 15") ==
        "ERROR: relation \"x\" does not exist   Position: 15");
  CHECK(printable("a\tb\rc") == "a b c");
  CHECK(printable("\x1b]0;owned\x07title\x1b[2J") == "?]0;owned?title?[2J");
  CHECK(printable("caf\xc3\xa9 \xe4\xb8\xad") == "caf\xc3\xa9 \xe4\xb8\xad");  // UTF-8 stays
  CHECK(printable("del\x7f") == "del?");
}
