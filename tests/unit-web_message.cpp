// WebMessage and its reports, on JSON shaped like the server's (dhis2-wire.md §2, §4, §1.7).
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

using dhis2::ResponseKind;
using dhis2::WebMessage;
using nlohmann::json;

namespace {

// The analytics kick-off of 2.42+, with responseType set to `response_type` (or removed).
json analytics_kickoff(const char* response_type) {
  auto body = json::parse(R"j({
    "httpStatus": "OK", "httpStatusCode": 200, "status": "OK",
    "message": "Initiated ANALYTICS_TABLE (1716199872345)",
    "response": {
      "name": "ANALYTICS_TABLE (1716199872345)", "id": "vLk3hN8sQ2e",
      "created": "2024-05-20T10:11:12.345", "jobType": "ANALYTICS_TABLE", "jobStatus": "NOT_STARTED",
      "jobParameters": { "skipTableTypes": [], "skipPrograms": [], "skipResourceTables": false, "skipOutliers": false },
      "relativeNotifierEndpoint": "/api/system/tasks/ANALYTICS_TABLE/vLk3hN8sQ2e" } })j");
  if (response_type) body["response"]["responseType"] = response_type;
  return body;
}

const char* const metadata_409 = R"j({
  "httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING",
  "message": "One or more errors occurred, please see full details in import report.",
  "response": {
    "responseType": "ImportReport", "status": "ERROR",
    "stats": { "created": 1, "updated": 0, "deleted": 0, "ignored": 1, "total": 2 },
    "typeReports": [
      { "klass": "org.hisp.dhis.dataelement.DataElement",
        "stats": { "created": 1, "updated": 0, "deleted": 0, "ignored": 1, "total": 2 },
        "objectReports": [
          { "klass": "org.hisp.dhis.dataelement.DataElement", "index": 1, "uid": "fbfJHSPpUQD",
            "displayName": "ANC 1st visit",
            "errorReports": [
              { "message": "Missing required property `shortName`",
                "mainKlass": "org.hisp.dhis.dataelement.DataElement",
                "errorCode": "E4000", "errorProperty": "shortName",
                "errorProperties": ["shortName"], "args": ["shortName"], "mainId": "fbfJHSPpUQD" } ] } ] } ] } })j";

const char* const data_value_409 = R"j({
  "httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING",
  "message": "One more conflicts encountered, please check import summary.",
  "response": {
    "responseType": "ImportSummary", "status": "WARNING",
    "importOptions": { "idSchemes": {}, "dryRun": false, "async": false, "importStrategy": "CREATE_AND_UPDATE" },
    "description": "Import process completed successfully",
    "importCount": { "imported": 3, "updated": 0, "ignored": 1, "deleted": 0 },
    "conflicts": [ { "object": "209503",
                     "objects": { "period": "209503", "dataElement": "DEancVisit1", "dataSet": "NORMonthDS1" },
                     "value": "Period: `209503` is after latest open future period: 202506",
                     "errorCode": "E7641", "property": "period", "indexes": [0] } ],
    "rejectedIndexes": [0],
    "dataSetComplete": "false" } })j";

}  // namespace

TEST_CASE("A job kick-off gives its TaskRef from response.jobType and response.id") {
  // responseType: absent on <=2.41, the long name on 2.42.0-2.42.4 and 2.43.0, short on 2.42.5+.
  for (const char* response_type :
       {static_cast<const char*>(nullptr), "JobConfigurationWebMessageResponse", "JobConfiguration"}) {
    INFO((response_type ? response_type : "(no responseType)"));
    const auto m = analytics_kickoff(response_type).get<WebMessage>();
    CHECK(m.http_status == "OK");
    CHECK(m.http_status_code == 200);
    CHECK(m.status == "OK");
    CHECK(m.message == "Initiated ANALYTICS_TABLE (1716199872345)");
    CHECK(m.response_kind() == ResponseKind::JobConfiguration);
    const auto ref = m.task_ref();
    REQUIRE(ref);
    CHECK(ref->str() == "ANALYTICS_TABLE/vLk3hN8sQ2e");
  }
}

TEST_CASE("The job type comes from the response, never assumed from the endpoint") {
  auto body = analytics_kickoff(nullptr);
  body["response"]["jobType"] = "GML_IMPORT";  // e.g. GML on <=2.40 vs METADATA_IMPORT on 2.41+
  body["response"]["id"] = "Xk3bGh5sR2q";
  CHECK(body.get<WebMessage>().task_ref() == dhis2::TaskRef{"GML_IMPORT", "Xk3bGh5sR2q"});
}

TEST_CASE("A <=2.40 kick-off with fixed job names and a RUNNING status still gives its TaskRef") {
  const auto m = json::parse(R"j({"httpStatus":"OK","httpStatusCode":200,"status":"OK",
    "message":"Initiated inMemoryAnalyticsJob",
    "response":{"name":"inMemoryAnalyticsJob","id":"uJ1WmKr8sWm","created":"2023-01-10T08:00:00.000",
                "jobType":"ANALYTICS_TABLE","jobStatus":"RUNNING",
                "relativeNotifierEndpoint":"/api/system/tasks/ANALYTICS_TABLE/uJ1WmKr8sWm"}})j")
                     .get<WebMessage>();
  CHECK(m.task_ref()->str() == "ANALYTICS_TABLE/uJ1WmKr8sWm");
}

TEST_CASE("A tracker kick-off gives a TRACKER_IMPORT_JOB TaskRef whatever its responseType") {
  for (const char* response_type : {static_cast<const char*>(nullptr), "TrackerJobWebMessageResponse", "TrackerJob"}) {
    auto body = json::parse(R"j({"httpStatus":"OK","httpStatusCode":200,"status":"OK","message":"Tracker job added",
      "response":{"id":"Jk3bGh5sR2q","location":"https://host/api/tracker/jobs/Jk3bGh5sR2q"}})j");
    if (response_type) body["response"]["responseType"] = response_type;
    const auto m = body.get<WebMessage>();
    CHECK(m.response_kind() == ResponseKind::TrackerJob);
    CHECK(m.task_ref() == dhis2::TaskRef{"TRACKER_IMPORT_JOB", "Jk3bGh5sR2q"});
  }
}

TEST_CASE("Messages that started no job have no TaskRef") {
  CHECK_FALSE(json::parse(metadata_409).get<WebMessage>().task_ref());
  CHECK_FALSE(json::parse(R"j({"httpStatus":"OK","httpStatusCode":200,"status":"OK"})j").get<WebMessage>().task_ref());
}

TEST_CASE("A metadata 409 WARNING is an import report with nested error reports") {
  const auto m = json::parse(metadata_409).get<WebMessage>();
  CHECK(m.http_status_code == 409);
  CHECK(m.status == "WARNING");  // top level WARNING even though the report says ERROR
  CHECK(m.response_kind() == ResponseKind::ImportReport);
  const auto report = m.import_report();
  REQUIRE(report);
  CHECK(report->status == "ERROR");
  CHECK(report->stats.created == 1);
  CHECK(report->stats.total == 2);
  REQUIRE(report->type_reports.size() == 1);
  const auto& object = report->type_reports[0].object_reports.at(0);
  CHECK(object.uid == "fbfJHSPpUQD");
  CHECK(object.index == 1);
  CHECK(object.display_name == "ANC 1st visit");
  const auto& error = object.error_reports.at(0);
  CHECK(error.error_code == "E4000");
  CHECK(error.error_property == "shortName");
  CHECK(error.args == std::vector<std::string>{"shortName"});
  CHECK(error.main_klass == "org.hisp.dhis.dataelement.DataElement");

  const auto count = m.import_count();
  REQUIRE(count);
  CHECK(*count == dhis2::ImportCount{1, 0, 1, 0});
  CHECK(m.conflicts().empty());  // no flat conflicts in a metadata report

  const auto rows = m.conflict_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].source == dhis2::ConflictSource::ErrorReport);
  CHECK(rows[0].type == "DataElement");
  CHECK(rows[0].object == "fbfJHSPpUQD");
  CHECK(rows[0].property == "shortName");
  CHECK(rows[0].error_code == "E4000");
  CHECK(rows[0].message == "Missing required property `shortName`");
  CHECK(rows[0].indexes == std::vector<std::int64_t>{1});
}

TEST_CASE("A data value import summary carries nested counts and flat conflicts") {
  const auto m = json::parse(data_value_409).get<WebMessage>();
  CHECK(m.response_kind() == ResponseKind::ImportSummary);
  const auto summary = m.import_summary();
  REQUIRE(summary);
  CHECK(summary->status == "WARNING");
  CHECK(summary->description == "Import process completed successfully");
  CHECK(summary->data_set_complete == "false");
  CHECK(summary->rejected_indexes == std::vector<std::int64_t>{0});
  CHECK(summary->import_options["importStrategy"] == "CREATE_AND_UPDATE");
  CHECK(m.import_count() == dhis2::ImportCount{3, 0, 1, 0});

  const auto conflicts = m.conflicts();
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].object == "209503");
  CHECK(conflicts[0].objects.at("dataElement") == "DEancVisit1");
  CHECK(conflicts[0].error_code == "E7641");
  CHECK(conflicts[0].indexes == std::vector<std::int64_t>{0});

  const auto rows = m.conflict_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].source == dhis2::ConflictSource::ImportConflict);
  CHECK(rows[0].object == "209503");
  CHECK(rows[0].property == "period");
  CHECK(rows[0].message == "Period: `209503` is after latest open future period: 202506");
}

TEST_CASE("Inline ImportCount, ObjectReport, TypeReport and ErrorReports responses are recognised") {
  const auto counts = json::parse(R"j({"httpStatus":"OK","httpStatusCode":200,"status":"OK",
    "response":{"responseType":"ImportCountWebMessageResponse","imported":0,"updated":1,"ignored":0,"deleted":0}})j")
                          .get<WebMessage>();
  CHECK(counts.response_kind() == ResponseKind::ImportCount);
  CHECK(counts.import_count() == dhis2::ImportCount{0, 1, 0, 0});

  const auto created = json::parse(R"j({"httpStatus":"Created","httpStatusCode":201,"status":"OK",
    "response":{"responseType":"ObjectReport","klass":"org.hisp.dhis.dataelement.DataElement",
                "uid":"fbfJHSPpUQD","errorReports":[]}})j")
                           .get<WebMessage>();
  CHECK(created.response_kind() == ResponseKind::ObjectReport);
  CHECK(created.created_uid() == std::string("fbfJHSPpUQD"));
  CHECK(created.object_report()->klass == "org.hisp.dhis.dataelement.DataElement");
  CHECK(created.conflict_rows().empty());

  const auto type = json::parse(R"j({"httpStatus":"OK","httpStatusCode":200,"status":"OK",
    "response":{"klass":"org.hisp.dhis.user.User","stats":{"created":0,"updated":2,"deleted":0,"ignored":0,"total":2},
                "objectReports":[]}})j")
                        .get<WebMessage>();
  CHECK(type.response_kind() == ResponseKind::TypeReport);
  CHECK(type.type_report()->stats.updated == 2);
  CHECK(type.import_count() == dhis2::ImportCount{0, 2, 0, 0});

  const auto errors = json::parse(R"j({"httpStatus":"Bad Request","httpStatusCode":400,"status":"ERROR",
    "message":"Invalid request","errorCode":"E1003",
    "response":{"responseType":"ErrorReports","errorReports":[
      {"message":"Property `name` is required","mainKlass":"org.hisp.dhis.option.OptionSet",
       "errorCode":"E4000","errorProperty":"name","args":["name", 3]}]}})j")
                          .get<WebMessage>();
  CHECK(errors.error_code == "E1003");
  CHECK(errors.response_kind() == ResponseKind::ErrorReports);
  const auto rows = errors.conflict_rows();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].type == "OptionSet");
  CHECK(rows[0].property == "name");
  CHECK(rows[0].indexes.empty());
}

TEST_CASE("created_uid reads response.uid, else response.id") {
  CHECK(json::parse(R"j({"httpStatusCode":200,"response":{"id":"abcdefghijk"}})j").get<WebMessage>().created_uid() ==
        std::string("abcdefghijk"));
  CHECK_FALSE(json::parse(R"j({"httpStatusCode":200})j").get<WebMessage>().created_uid());
  CHECK_FALSE(json::parse(R"j({"httpStatusCode":200,"response":{"uid":""}})j").get<WebMessage>().created_uid());
}

TEST_CASE("Tracker import reports list their validation errors as conflict rows") {
  const auto report = json::parse(R"j({ "status": "ERROR",
    "validationReport": { "errorReports": [
        { "message": "Event date is required", "errorCode": "E1031", "trackerType": "EVENT", "uid": "ZwwuwNp6gVd", "args": [] } ],
      "warningReports": [] },
    "stats": { "created": 0, "updated": 0, "deleted": 0, "ignored": 1, "total": 1 },
    "bundleReport": { "typeReportMap": {} } })j");
  CHECK(dhis2::classify_report(report) == ResponseKind::TrackerImportReport);
  const auto rows = dhis2::conflict_rows(report);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].source == dhis2::ConflictSource::TrackerError);
  CHECK(rows[0].type == "EVENT");
  CHECK(rows[0].object == "ZwwuwNp6gVd");
  CHECK(rows[0].error_code == "E1031");
}

TEST_CASE("Task summaries of every job type are recognised by shape") {
  CHECK(dhis2::classify_report(json::parse(R"j({"responseType":"PredictionSummary","status":"SUCCESS",
    "description":"...","predictors":3,"inserted":120,"updated":4,"deleted":0,"unchanged":10})j")) ==
        ResponseKind::PredictionSummary);
  const auto summaries = json::parse(R"j({"responseType":"ImportSummaries","status":"WARNING","imported":2,
    "updated":0,"deleted":0,"ignored":1,"total":3,"importSummaries":[
      {"status":"SUCCESS","importCount":{"imported":2,"updated":0,"ignored":0,"deleted":0},"conflicts":[]},
      {"status":"WARNING","importCount":{"imported":0,"updated":0,"ignored":1,"deleted":0},
       "conflicts":[{"object":"x","value":"Data element not found","errorCode":"E7610"}]}]})j");
  CHECK(dhis2::classify_report(summaries) == ResponseKind::ImportSummaries);
  const auto m = WebMessage::from_json(json{{"httpStatusCode", 200}, {"response", summaries}});
  CHECK(m.import_count() == dhis2::ImportCount{2, 0, 1, 0});
  REQUIRE(m.conflicts().size() == 1);
  CHECK(m.conflict_rows().at(0).error_code == "E7610");
  // A DATAVALUE_IMPORT summary written after an exception has only status and description.
  CHECK(dhis2::classify_report(json::parse(R"j({"status":"ERROR","description":"Process failed: boom"})j")) ==
        ResponseKind::ImportSummary);
  CHECK(dhis2::classify_report(json()) == ResponseKind::None);
  CHECK(dhis2::classify_report(json::parse(R"j({"something":"else"})j")) == ResponseKind::Unknown);
  CHECK(dhis2::classify_report(json::parse("[1]")) == ResponseKind::Unknown);
}

TEST_CASE("responseType does not decide the variant") {
  // A lying responseType must not matter: the fields say it is a job kick-off.
  auto body = analytics_kickoff("ImportReport");
  CHECK(body.get<WebMessage>().response_kind() == ResponseKind::JobConfiguration);
}

TEST_CASE("WebMessage errors fields and decoding errors name their paths") {
  const auto not_found = json::parse(R"j({"httpStatus":"Not Found","httpStatusCode":404,"status":"ERROR",
    "message":"JobConfiguration with id abcdefghijk could not be found.","errorCode":"E1005"})j")
                             .get<WebMessage>();
  CHECK(not_found.error_code == "E1005");
  CHECK(not_found.response.is_null());
  CHECK(not_found.response_kind() == ResponseKind::None);

  CHECK_THROWS_MATCHES(json::parse(R"j({"httpStatusCode":"200"})j").get<WebMessage>(), dhis2::DecodeError,
                       Catch::Message("webMessage.httpStatusCode: expected an integer, got a string"));
  CHECK_THROWS_MATCHES(json::parse(R"j({"httpStatusCode":200.5})j").get<WebMessage>(), dhis2::DecodeError,
                       Catch::Message("webMessage.httpStatusCode: expected an integer, got the number 200.5"));
  auto bad = json::parse(metadata_409);
  bad["response"]["typeReports"][0]["objectReports"][0]["errorReports"][0]["errorCode"] = 4000;
  const auto m = bad.get<WebMessage>();  // the envelope itself decodes
  CHECK_THROWS_MATCHES(m.conflict_rows(), dhis2::DecodeError,
                       Catch::Message("webMessage.response.typeReports[0].objectReports[0].errorReports[0]"
                                      ".errorCode: expected a string, got a number"));
  bad = json::parse(data_value_409);
  bad["response"]["importCount"]["imported"] = "3";
  CHECK_THROWS_MATCHES(bad.get<WebMessage>().import_count(), dhis2::DecodeError,
                       Catch::Message("webMessage.response.importCount.imported: expected an integer, got a string"));
  CHECK_THROWS_MATCHES(WebMessage::from_json(json::parse("\"<html>\"")), dhis2::DecodeError,
                       Catch::Message("webMessage: expected an object, got a string"));
}

TEST_CASE("WebMessage::looks_like tells an envelope from other JSON") {
  CHECK(WebMessage::looks_like(json::parse(R"j({"httpStatusCode":401,"message":"Unauthorized"})j")));
  CHECK(WebMessage::looks_like(json::parse(R"j({"httpStatus":"OK","status":"OK"})j")));
  CHECK_FALSE(WebMessage::looks_like(json::parse(R"j({"message":"Bad credentials"})j")));
  CHECK_FALSE(WebMessage::looks_like(json::array()));
}
