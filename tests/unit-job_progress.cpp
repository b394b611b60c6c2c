// JobProgress: GET /api/jobConfigurations/{uid}/progress as DHIS2 2.41+ writes it, and the same
// shape derived from a notification feed for servers without it.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

using nlohmann::json;

namespace {

// A 2.42 analytics run caught mid-way, in the shape of JobProgress.Progress (wire reference §3.3).
const char* const analytics_progress = R"({
  "sequence": [ {
    "status": "RUNNING", "startedTime": "2025-05-20T10:11:12.345", "duration": 64210, "complete": false,
    "description": "Analytics table update process", "jobId": "vLk3hN8sQ2e", "userId": "M5zQapPyTZI",
    "stages": [
      { "description": "Generating resource tables", "totalItems": 24, "onFailure": "SKIP_STAGE",
        "status": "SUCCESS", "startedTime": "2025-05-20T10:11:12.400", "completedTime": "2025-05-20T10:11:14.745",
        "duration": 2345, "complete": true, "summary": "Resource tables generated: 0:00:02.345", "items": [] },
      { "description": "Performing pre-create table work", "totalItems": -1, "onFailure": "FAIL",
        "status": "SUCCESS", "startedTime": "2025-05-20T10:11:14.750", "completedTime": "2025-05-20T10:11:15.000",
        "duration": 250, "complete": true, "items": [] },
      { "description": "Populating analytics tables", "totalItems": 12, "onFailure": "SKIP_ITEM_OUTLIER",
        "status": "RUNNING", "startedTime": "2025-05-20T10:11:15.010", "duration": 61545, "complete": false,
        "items": [
          { "description": "Populating table analytics_2023", "onFailure": "PARENT", "status": "SUCCESS",
            "startedTime": "2025-05-20T10:11:15.020", "completedTime": "2025-05-20T10:11:45.020",
            "duration": 30000, "complete": true },
          { "description": "Populating table analytics_2024", "onFailure": "PARENT", "status": "ERROR",
            "startedTime": "2025-05-20T10:11:45.030", "completedTime": "2025-05-20T10:11:46.000",
            "duration": 970, "complete": true, "error": "ERROR: division by zero" },
          { "description": "Populating table analytics_2025", "onFailure": "PARENT", "status": "RUNNING",
            "startedTime": "2025-05-20T10:11:46.010", "duration": 30545, "complete": false } ] } ] } ],
  "errors": {
    "fbfJHSPpUQD": { "E7131": [ { "code": "E7131", "id": "fbfJHSPpUQD", "type": "DataElement",
                                  "args": ["fbfJHSPpUQD", "2024"], "message": "Data element has no category combo" } ] },
    "cYeuwXTCPkU": { "E7130": [ { "code": "E7130", "id": "cYeuwXTCPkU", "type": "DataElement", "args": [] } ],
                     "E7131": [ { "code": "E7131", "id": "cYeuwXTCPkU", "type": "DataElement", "args": ["a"],
                                  "message": "first" },
                                { "code": "E7131", "id": "cYeuwXTCPkU", "type": "DataElement", "args": ["b"],
                                  "message": "second" } ] } }
})";

// A notification row as the feed would send it.
dhis2::Notification row(const char* level, const char* time, const char* message, bool completed = false,
                        const char* data_type = "") {
  json value = {{"level", level}, {"time", time}, {"completed", completed}, {"category", "ANALYTICS_TABLE"}};
  if (message) value["message"] = message;
  if (*data_type) value["dataType"] = data_type;
  return dhis2::Notification::from_json(value);
}

}  // namespace

TEST_CASE("A running analytics progress decodes every field of processes, stages and items") {
  const auto p = json::parse(analytics_progress).get<dhis2::JobProgress>();
  CHECK(p.source == dhis2::ProgressSource::Server);
  REQUIRE(p.processes.size() == 1);
  const auto& process = p.processes[0];
  CHECK(process.status == dhis2::ProgressStatus::Running);
  CHECK(process.status_name == "RUNNING");
  CHECK(process.description == "Analytics table update process");
  CHECK(process.started_time == "2025-05-20T10:11:12.345");
  CHECK(process.completed_time.empty());
  CHECK(process.cancelled_time.empty());
  CHECK(process.duration_ms == 64210);
  CHECK_FALSE(process.complete);
  CHECK(process.job_id == "vLk3hN8sQ2e");
  CHECK(process.user_id == "M5zQapPyTZI");
  CHECK_FALSE(process.summary);
  CHECK_FALSE(process.error);
  CHECK(process.on_failure.empty());
  REQUIRE(process.parsed_started_time());
  CHECK(dhis2::format_local_time(*process.parsed_started_time()) == "2025-05-20T10:11:12.345");
  CHECK_FALSE(process.parsed_completed_time());

  REQUIRE(process.stages.size() == 3);
  const auto& resources = process.stages[0];
  CHECK(resources.description == "Generating resource tables");
  CHECK(resources.total_items == 24);
  CHECK(resources.on_failure == "SKIP_STAGE");
  CHECK(resources.status == dhis2::ProgressStatus::Success);
  CHECK(resources.completed_time == "2025-05-20T10:11:14.745");
  CHECK(resources.duration_ms == 2345);
  CHECK(resources.complete);
  CHECK(resources.summary == std::string("Resource tables generated: 0:00:02.345"));
  CHECK(resources.items.empty());
  CHECK(*resources.parsed_completed_time() - *resources.parsed_started_time() == std::chrono::milliseconds(2345));
  CHECK(process.stages[1].total_items == -1);
  CHECK_FALSE(process.stages[1].summary);

  const auto& populating = process.stages[2];
  CHECK(populating.status == dhis2::ProgressStatus::Running);
  CHECK(populating.on_failure == "SKIP_ITEM_OUTLIER");
  REQUIRE(populating.items.size() == 3);
  CHECK(populating.items[0].description == "Populating table analytics_2023");
  CHECK(populating.items[0].on_failure == "PARENT");
  CHECK(populating.items[0].duration_ms == 30000);
  CHECK(populating.items[1].status == dhis2::ProgressStatus::Error);
  CHECK(populating.items[1].error == std::string("ERROR: division by zero"));
  CHECK(populating.items[2].status == dhis2::ProgressStatus::Running);
  CHECK_FALSE(populating.items[2].complete);

  // The errors map, flattened by object id and then code, in key order; the list keeps its order.
  REQUIRE(p.errors.size() == 4);
  CHECK(p.errors[0].object_id == "cYeuwXTCPkU");
  CHECK(p.errors[0].code == "E7130");
  CHECK(p.errors[0].args.empty());
  CHECK(p.errors[0].message.empty());
  CHECK(p.errors[1].code == "E7131");
  CHECK(p.errors[1].message == "first");
  CHECK(p.errors[2].message == "second");
  CHECK(p.errors[2].args == std::vector<std::string>{"b"});
  CHECK(p.errors[3].object_id == "fbfJHSPpUQD");
  CHECK(p.errors[3].id == "fbfJHSPpUQD");
  CHECK(p.errors[3].type == "DataElement");
  CHECK(p.errors[3].args == std::vector<std::string>{"fbfJHSPpUQD", "2024"});
  CHECK(p.errors[3].message == "Data element has no category combo");
  CHECK_FALSE(p.errors[3].index);

  CHECK_FALSE(p.empty());
  CHECK(p.current_process() == &p.processes[0]);
  CHECK(p.current_stage() == &populating);
  CHECK(p.stage_number() == 3);
  CHECK(p.stage_count() == 3);
  CHECK(p.item_counts() == std::make_pair(std::int64_t{2}, std::int64_t{12}));  // the failed item is done too
}

TEST_CASE("A failed import lists its failures, innermost first, then the object errors") {
  const auto p = dhis2::JobProgress::from_json(json::parse(R"({
    "sequence": [ {
      "status": "ERROR", "complete": true, "description": "Metadata import",
      "startedTime": "2025-05-20T10:00:00.000", "completedTime": "2025-05-20T10:00:03.000", "duration": 3000,
      "error": "Import complete with status ERROR, 0 created, 0 updated, 0 deleted, 2 ignored",
      "stages": [
        { "description": "Preheat", "status": "SUCCESS", "complete": true, "totalItems": -1, "items": [] },
        { "description": "Validating objects", "status": "ERROR", "complete": true, "totalItems": 2,
          "error": "2 objects failed validation", "onFailure": "SKIP_ITEM",
          "items": [ { "description": "DataElement", "status": "ERROR", "complete": true, "error": "E4000 missing name" },
                     { "description": "", "status": "ERROR", "complete": true, "error": "unnamed item failed" },
                     { "description": "Indicator", "status": "ERROR", "complete": true } ] },
        { "description": "Cleanup", "status": "CANCELLED", "complete": true, "error": "not an error status" } ] } ],
    "errors": { "": { "E4000": [ { "code": "E4000", "id": "", "type": "DataElement", "args": ["name"],
                                    "message": "Missing required property `name`" } ] },
                "Abc123def45": { "E5002": [ { "code": "E5002", "id": "Abc123def45", "type": "Indicator", "args": [] } ] } }
  })"));
  CHECK(p.failures() ==
        std::vector<std::string>{
            "Metadata import > Validating objects > DataElement: E4000 missing name",
            "Metadata import > Validating objects: unnamed item failed",
            "Metadata import > Validating objects: 2 objects failed validation",
            "Metadata import: Import complete with status ERROR, 0 created, 0 updated, 0 deleted, 2 ignored",
            "E4000 DataElement: Missing required property `name`",
            "E5002 Indicator Abc123def45",
        });
  CHECK(p.errors[0].object_id.empty());
  CHECK_FALSE(p.item_counts());  // the current stage (Cleanup) has no total
  CHECK(dhis2::JobProgress().failures().empty());
}

TEST_CASE("Absent and null fields take defaults; an unknown status is kept and reads Unknown") {
  const auto bare = dhis2::JobProgress::from_json(json::parse(R"({"sequence":[{"stages":[{}]}]})"));
  const auto& stage = bare.processes.at(0).stages.at(0);
  CHECK(stage.total_items == -1);
  CHECK(stage.status == dhis2::ProgressStatus::Unknown);
  CHECK(stage.status_name.empty());
  CHECK_FALSE(stage.duration_ms);
  CHECK_FALSE(stage.complete);
  CHECK(stage.items.empty());
  CHECK(bare.errors.empty());
  CHECK_FALSE(bare.item_counts());

  const auto nulls = dhis2::JobProgress::from_json(json::parse(R"({"sequence":[{
      "status":null,"startedTime":null,"completedTime":null,"cancelledTime":null,"duration":null,"complete":null,
      "description":null,"jobId":null,"userId":null,"summary":null,"error":null,"stages":null}],"errors":null})"));
  const auto& process = nulls.processes.at(0);
  CHECK(process.description.empty());
  CHECK(process.job_id.empty());
  CHECK_FALSE(process.summary);
  CHECK_FALSE(process.error);
  CHECK_FALSE(process.duration_ms);
  CHECK(process.stages.empty());
  CHECK(nulls.current_stage() == nullptr);
  CHECK(nulls.stage_number() == 0);
  CHECK(nulls.stage_count() == 0);

  const auto empty = dhis2::JobProgress::from_json(json::object());
  CHECK(empty.empty());
  CHECK(empty.current_process() == nullptr);
  CHECK(empty.current_stage() == nullptr);
  CHECK_FALSE(empty.item_counts());

  const auto odd = dhis2::JobProgress::from_json(
      json::parse(R"({"sequence":[{"status":"PAUSED"},{"status":"success"}]})"));
  CHECK(odd.processes[0].status == dhis2::ProgressStatus::Unknown);
  CHECK(odd.processes[0].status_name == "PAUSED");
  CHECK(odd.processes[1].status == dhis2::ProgressStatus::Success);  // names are read ignoring case
  CHECK(odd.processes[1].status_name == "success");
}

TEST_CASE("Every status has a name and parses back, ignoring case") {
  using S = dhis2::ProgressStatus;
  for (auto status : {S::Running, S::Success, S::Error, S::Cancelled}) {
    CHECK(dhis2::parse_progress_status(dhis2::to_string(status)) == status);
  }
  CHECK(std::string(dhis2::to_string(S::Cancelled)) == "CANCELLED");
  CHECK(std::string(dhis2::to_string(S::Unknown)) == "UNKNOWN");
  CHECK(dhis2::parse_progress_status("Cancelled") == S::Cancelled);
  CHECK(dhis2::parse_progress_status("UNKNOWN") == S::Unknown);
  CHECK(dhis2::parse_progress_status("") == S::Unknown);
  CHECK(dhis2::parse_progress_status("RUNNING ") == S::Unknown);
}

TEST_CASE("Progress of the wrong shape names the field path and what was expected") {
  const auto fails_with = [](const char* body, const char* message) {
    CHECK_THROWS_MATCHES(dhis2::JobProgress::from_json(json::parse(body)), dhis2::DecodeError, Catch::Message(message));
  };
  fails_with(R"({"sequence":[{},{"stages":[{},{"totalItems":"12"}]}]})",
             "progress.sequence[1].stages[1].totalItems: expected an integer, got a string");
  fails_with(R"({"sequence":[{"stages":[{"items":[{"complete":"true"}]}]}]})",
             "progress.sequence[0].stages[0].items[0].complete: expected a boolean, got a string");
  fails_with(R"({"sequence":[{"duration":1.5}]})",
             "progress.sequence[0].duration: expected an integer, got the number 1.5");
  fails_with(R"({"sequence":[{"startedTime":1716199872345}]})",
             "progress.sequence[0].startedTime: expected a string, got a number");
  fails_with(R"({"sequence":{}})", "progress.sequence: expected an array, got an object");
  fails_with(R"({"sequence":[null]})", "progress.sequence[0]: expected an object, got null");
  fails_with(R"([])", "progress: expected an object, got an array");
  fails_with(R"({"errors":[]})", "progress.errors: expected an object, got an array");
  fails_with(R"({"errors":{"Abc":[]}})", R"(progress.errors["Abc"]: expected an object, got an array)");
  fails_with(R"({"errors":{"":{"E4000":{}}}})", R"(progress.errors[""]["E4000"]: expected an array, got an object)");
  fails_with(R"({"errors":{"Abc":{"E4000":[{"args":["x",1]}]}}})",
             R"(progress.errors["Abc"]["E4000"][0].args[1]: expected a string, got a number)");
  try {
    dhis2::JobProgress::from_json(json::parse(R"({"sequence":[{"jobId":7}]})"), "body");
    FAIL("no exception");
  } catch (const dhis2::DecodeError& e) {
    CHECK(e.path() == "body.sequence[0].jobId");
    CHECK(e.expected() == "a string");
  }
}

TEST_CASE("to_json writes DHIS2's field names, round-trips, and leaves absent fields out") {
  const auto original = json::parse(analytics_progress);
  const auto p = original.get<dhis2::JobProgress>();
  CHECK(dhis2::JobProgress::from_json(p.to_json()) == p);
  CHECK(json(p) == original);  // the body is already in to_json's form

  const auto sparse = json::parse(R"({"sequence":[{"status":"RUNNING","complete":false,"stages":[
      {"totalItems":-1,"complete":false,"items":[{"complete":false,"description":"x"}]}]}]})");
  const auto written = dhis2::JobProgress::from_json(sparse).to_json();
  CHECK(written == sparse);
  CHECK_FALSE(written.contains("errors"));
  for (const char* key : {"summary", "error", "duration", "completedTime", "cancelledTime", "jobId", "onFailure"}) {
    CHECK_FALSE(written["sequence"][0].contains(key));
  }

  // A value built in code with only `status` set still says it; a changed value is not equal.
  dhis2::JobProgress built;
  built.processes.emplace_back().status = dhis2::ProgressStatus::Cancelled;
  CHECK(built.to_json()["sequence"][0]["status"] == "CANCELLED");
  auto changed = p;
  changed.processes[0].stages[2].items[2].complete = true;
  CHECK(changed != p);
  changed = p;
  changed.source = dhis2::ProgressSource::Notifications;
  CHECK(changed != p);
}

TEST_CASE("An analytics notification feed derives one successful process with stages and item counts") {
  std::vector<dhis2::Notification> feed = {
      row("INFO", "2025-05-20T10:11:12.345", "Analytics table update", false, "PARAMETERS"),
      row("INFO", "2025-05-20T10:11:12.400", "Generating resource tables"),
      row("DEBUG", "2025-05-20T10:11:13.000", "Resource table SQL: ..."),
      row("INFO", "2025-05-20T10:11:15.010", "Populating analytics tables"),
      row("LOOP", "2025-05-20T10:11:15.020", "[1/12] Populating table analytics_2023"),
      row("LOOP", "2025-05-20T10:11:45.030", "[2/12] Populating table analytics_2024"),
      row("WARN", "2025-05-20T10:11:46.000", "Slow query"),
      row("LOOP", "2025-05-20T10:11:46.010", "[3/12] Populating table analytics_2025"),
  };
  SECTION("while it runs, the open nodes are Running") {
    const auto p = dhis2::JobProgress::from_notifications(feed);
    CHECK(p.source == dhis2::ProgressSource::Notifications);
    REQUIRE(p.processes.size() == 1);
    CHECK(p.processes[0].status == dhis2::ProgressStatus::Running);
    CHECK(p.processes[0].status_name == "RUNNING");
    CHECK(p.processes[0].description == "Analytics table update");
    CHECK(p.processes[0].started_time == "2025-05-20T10:11:12.345");
    CHECK_FALSE(p.processes[0].complete);
    REQUIRE(p.stage_count() == 2);
    const auto& resources = p.processes[0].stages[0];
    CHECK(resources.status == dhis2::ProgressStatus::Success);
    CHECK(resources.complete);
    CHECK(resources.completed_time == "2025-05-20T10:11:15.010");
    CHECK(p.current_stage()->description == "Populating analytics tables");
    CHECK(p.current_stage()->status == dhis2::ProgressStatus::Running);
    CHECK(p.stage_number() == 2);
    REQUIRE(p.current_stage()->items.size() == 3);
    CHECK(p.current_stage()->items[0].description == "Populating table analytics_2023");
    CHECK(p.current_stage()->items[0].completed_time == "2025-05-20T10:11:45.030");
    CHECK(p.current_stage()->items[2].status == dhis2::ProgressStatus::Running);
    CHECK(p.item_counts() == std::make_pair(std::int64_t{2}, std::int64_t{12}));
    CHECK_FALSE(p.processes[0].duration_ms);
    CHECK(p.failures().empty());
  }
  SECTION("the completed row ends the process, its stage and item as Success") {
    feed.push_back(row("INFO", "2025-05-20T10:12:00.456", "Analytics tables updated: 0:00:48.111", true));
    const auto p = dhis2::JobProgress::from_notifications(feed);
    REQUIRE(p.processes.size() == 1);
    const auto& process = p.processes[0];
    CHECK(process.status == dhis2::ProgressStatus::Success);
    CHECK(process.complete);
    CHECK(process.completed_time == "2025-05-20T10:12:00.456");
    CHECK(process.summary == std::string("Analytics tables updated: 0:00:48.111"));
    CHECK_FALSE(process.error);
    CHECK(p.current_stage()->status == dhis2::ProgressStatus::Success);
    CHECK(p.current_stage()->items.back().status_name == "SUCCESS");
    CHECK(p.item_counts() == std::make_pair(std::int64_t{3}, std::int64_t{12}));
    // Derived progress serialises like the server's.
    CHECK(dhis2::JobProgress::from_json(p.to_json()).processes == p.processes);
  }
}

TEST_CASE("A META_DATA_SYNC feed with three completed rows derives three processes") {
  // Types outside the notifying list write "" messages and no stages (wire reference §1.5).
  const std::vector<dhis2::Notification> feed = {
      row("INFO", "2025-05-20T02:00:00.000", "", false, "PARAMETERS"),
      row("INFO", "2025-05-20T02:00:01.000", "", true),
      row("INFO", "2025-05-20T02:00:02.000", ""),
      row("INFO", "2025-05-20T02:00:03.000", nullptr, true),
      row("INFO", "2025-05-20T02:00:04.000", "Metadata sync", false, "PARAMETERS"),
      row("ERROR", "2025-05-20T02:00:05.000", "Process failed: connection refused", true),
  };
  const auto p = dhis2::JobProgress::from_notifications(feed);
  REQUIRE(p.processes.size() == 3);
  for (const auto& process : p.processes) {
    CHECK(process.complete);
    CHECK(process.stages.empty());
  }
  CHECK(p.processes[0].status == dhis2::ProgressStatus::Success);
  CHECK(p.processes[0].summary == std::string());
  CHECK(p.processes[1].started_time == "2025-05-20T02:00:02.000");
  CHECK_FALSE(p.processes[1].summary);  // the row had no message
  CHECK(p.processes[2].description == "Metadata sync");
  CHECK(p.stage_count() == 0);
  CHECK(p.stage_number() == 0);
  CHECK(p.processes[2].status == dhis2::ProgressStatus::Error);
  CHECK(p.failures() == std::vector<std::string>{"Metadata sync: Process failed: connection refused"});
}

TEST_CASE("An ERROR completed row fails the process and its open stage and item") {
  const auto p = dhis2::JobProgress::from_notifications({
      row("INFO", "2025-05-20T10:00:00.000", "Tracker import", false, "PARAMETERS"),
      row("INFO", "2025-05-20T10:00:01.000", "Validating"),
      row("LOOP", "2025-05-20T10:00:02.000", "[0/2] Enrollment"),
      row("ERROR", "2025-05-20T10:00:03.000", "Import complete with status ERROR, 0 created", true),
  });
  const auto& process = p.processes.at(0);
  CHECK(process.status == dhis2::ProgressStatus::Error);
  CHECK(process.error == std::string("Import complete with status ERROR, 0 created"));
  CHECK_FALSE(process.summary);
  CHECK(p.current_stage()->status == dhis2::ProgressStatus::Error);
  CHECK(p.current_stage()->items.at(0).status == dhis2::ProgressStatus::Error);
  CHECK(p.current_stage()->items.at(0).complete);
  CHECK(p.failures() == std::vector<std::string>{"Tracker import: Import complete with status ERROR, 0 created"});
}

TEST_CASE("A failed stage or item row marks that node, and the run goes on") {
  const auto p = dhis2::JobProgress::from_notifications({
      row("INFO", "2025-05-20T10:00:00.000", "Predictor run", false, "PARAMETERS"),
      row("INFO", "2025-05-20T10:00:01.000", "Running predictors"),
      row("LOOP", "2025-05-20T10:00:02.000", "[1/3] Predictor ANC"),
      row("ERROR", "2025-05-20T10:00:03.000", "Predictor ANC failed"),
      row("LOOP", "2025-05-20T10:00:04.000", "[2/3] Predictor BCG"),
      row("DEBUG", "2025-05-20T10:00:04.500", "SQL"),
      row("ERROR", "2025-05-20T10:00:05.000", "Predictor BCG failed"),
      row("ERROR", "2025-05-20T10:00:06.000", "Too many predictors failed"),
      row("ERROR", "2025-05-20T10:00:07.000", "Cleanup failed"),
  });
  const auto& stages = p.processes.at(0).stages;
  REQUIRE(stages.size() == 2);
  const auto& items = stages[0].items;
  REQUIRE(items.size() == 2);
  CHECK(items[0].status == dhis2::ProgressStatus::Error);
  CHECK(items[0].error == std::string("Predictor ANC failed"));
  CHECK(items[0].completed_time == "2025-05-20T10:00:03.000");
  CHECK(items[1].error == std::string("Predictor BCG failed"));  // the DEBUG row between does not count
  // An ERROR row after another ERROR blames the stage; one with no open stage gets an unnamed one.
  CHECK(stages[0].status == dhis2::ProgressStatus::Error);
  CHECK(stages[0].error == std::string("Too many predictors failed"));
  CHECK(stages[0].complete);
  CHECK(stages[1].description.empty());
  CHECK(stages[1].status == dhis2::ProgressStatus::Error);
  CHECK(p.processes[0].status == dhis2::ProgressStatus::Running);
  CHECK(p.failures() == std::vector<std::string>{
                            "Predictor run > Running predictors > Predictor ANC: Predictor ANC failed",
                            "Predictor run > Running predictors > Predictor BCG: Predictor BCG failed",
                            "Predictor run > Running predictors: Too many predictors failed",
                            "Predictor run: Cleanup failed",
                        });

  const auto stage_failure = dhis2::JobProgress::from_notifications({
      row("INFO", "2025-05-20T10:00:00.000", "Data sync", false, "PARAMETERS"),
      row("INFO", "2025-05-20T10:00:01.000", "Pushing data values"),
      row("ERROR", "2025-05-20T10:00:02.000", "Remote server unavailable"),
  });
  const auto& stage = stage_failure.processes.at(0).stages.at(0);
  CHECK(stage.status == dhis2::ProgressStatus::Error);
  CHECK(stage.complete);
  CHECK(stage.error == std::string("Remote server unavailable"));
  CHECK(stage_failure.failures() ==
        std::vector<std::string>{"Data sync > Pushing data values: Remote server unavailable"});
}

TEST_CASE("Odd feeds derive what they can and never throw") {
  CHECK(dhis2::JobProgress::from_notifications({}).empty());
  CHECK(dhis2::JobProgress::from_notifications({}).source == dhis2::ProgressSource::Notifications);

  // Rows without messages, levels or times; LOOP text not in "[i/n] " form.
  const std::vector<dhis2::Notification> odd = {
      dhis2::Notification{},
      row("LOOP", "", nullptr),
      row("LOOP", "not a time", "[7] item without a total"),
      row("LOOP", "", "[x/3] bracketed"),
      row("LOOP", "", "[99999999999999999999/3] too big"),
      row("LOOP", "", "[1/"),
      row("ERROR", "", nullptr),
      row("TRACE", "", "unknown level"),
      row("INFO", "", nullptr),
      row("ERROR", "", nullptr, true),
      row("LOOP", "", "[2/5] after the end"),
  };
  dhis2::JobProgress p;
  REQUIRE_NOTHROW(p = dhis2::JobProgress::from_notifications(odd));
  REQUIRE(p.processes.size() == 2);
  const auto& first = p.processes[0];
  CHECK(first.description.empty());
  CHECK(first.status == dhis2::ProgressStatus::Error);
  CHECK_FALSE(first.error);
  REQUIRE(first.stages.size() == 2);
  const auto& items = first.stages[0].items;
  REQUIRE(items.size() == 5);
  CHECK(first.stages[0].description.empty());
  CHECK(first.stages[0].total_items == -1);
  CHECK(items[0].description.empty());
  CHECK(items[1].description == "item without a total");
  CHECK(items[2].description == "[x/3] bracketed");
  CHECK(items[3].description == "[99999999999999999999/3] too big");
  CHECK(items[4].status == dhis2::ProgressStatus::Error);
  CHECK_FALSE(first.parsed_started_time());
  // A row after the completed one starts a new process, even without PARAMETERS.
  CHECK(p.processes[1].description == "[2/5] after the end");
  CHECK(p.processes[1].stages.empty());
  CHECK(p.failures().empty());  // errors without text are not lines
}
