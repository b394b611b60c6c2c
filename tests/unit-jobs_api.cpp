// dhis2::JobsApi against the emulator (manual clock): every start call returns the TaskRef the
// server named, sends the query DHIS2 expects, is never retried, attaches to a running job on
// 2.39-2.40 when asked, and cancel/execute use the version's endpoints (docs/tasks.md).
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;
using dhis2::testing::FakeServer;
using dhis2::testing::FakeServerOptions;
using dhis2::testing::Fault;
using dhis2::testing::JobScript;
using nlohmann::json;

const std::vector<std::string> kStartVersions = {"2.38", "2.41.4", "2.42.1"};

FakeServerOptions version(const std::string& v) {
  FakeServerOptions options;
  options.version = v;
  return options;
}

// Retries everything, POSTs included, quickly: a kick-off must still be sent once.
dhis2::ClientOptions retrying() {
  dhis2::ClientOptions options;
  options.retry = dhis2::RetryPolicy{};
  options.retry->max_attempts = 4;
  options.retry->base_delay = 1ms;
  options.retry->max_delay = 5ms;
  options.retry->retry_non_idempotent = true;
  options.connect_timeout = 2s;
  options.timeout = 5s;
  return options;
}

dhis2::Client client_for(const FakeServer& server) {
  return dhis2::Client(server.url(), dhis2::BasicAuth{"admin", "district"}, retrying());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

template <class E, class F>
std::optional<E> thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  return std::nullopt;
}

// The one POST to `path`, and the job the emulator started for `ref`.
dhis2::testing::RecordedRequest only_post(const FakeServer& server, const std::string& path) {
  const auto posts = server.requests_to(path, "POST");
  REQUIRE(posts.size() == 1);
  return posts.front();
}

dhis2::testing::JobInfo job_of(FakeServer& server, const dhis2::TaskRef& ref) {
  const auto job = server.job(ref.uid);
  REQUIRE(job);
  CHECK(job->job_type == ref.job_type);
  return *job;
}

}  // namespace

TEST_CASE("start_analytics sends the skip flags and lastYears and returns the server's ref") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      dhis2::AnalyticsOptions options;
      options.skip_resource_tables = true;
      options.skip_events = true;
      options.skip_outliers = true;
      options.last_years = 2;
      const auto ref = client.jobs().start_analytics(options);
      CHECK(ref.job_type == "ANALYTICS_TABLE");
      CHECK(ref.uid.size() == 11);
      const auto post = only_post(server, "/api/resourceTables/analytics");
      CHECK(contains(post.query, "skipResourceTables=true"));
      CHECK(contains(post.query, "skipEvents=true"));
      CHECK(contains(post.query, "skipOutliers=true"));
      CHECK(contains(post.query, "lastYears=2"));
      CHECK_FALSE(contains(post.query, "skipAggregate"));
      const auto job = job_of(server, ref);
      CHECK(job.parameters["skipResourceTables"] == true);
      CHECK(job.parameters["skipOutliers"] == true);
      CHECK(job.parameters["lastYears"] == 2);
      CHECK(job.parameters["skipTableTypes"] == json::array({"EVENT"}));
    }
  }
}

TEST_CASE("start_resource_tables returns the RESOURCE_TABLE job the server started") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto ref = client.jobs().start_resource_tables();
      CHECK(ref.job_type == "RESOURCE_TABLE");
      only_post(server, "/api/resourceTables");
      job_of(server, ref);
    }
  }
}

TEST_CASE("start_monitoring returns the MONITORING job the server started") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto ref = client.jobs().start_monitoring();
      CHECK(ref.job_type == "MONITORING");
      only_post(server, "/api/resourceTables/monitoring");
      job_of(server, ref);
    }
  }
}

TEST_CASE("start_predictions sends the dates, async=true and repeated predictor parameters") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      dhis2::PredictionOptions options;
      options.start_date = "2024-01-01";
      options.end_date = "2024-03-31";
      options.predictors = {"AbCdEfGhIj1", "AbCdEfGhIj2"};
      options.predictor_groups = {"GrOuPaBcDe1"};
      const auto ref = client.jobs().start_predictions(options);
      CHECK(ref.job_type == "PREDICTOR");
      const auto post = only_post(server, "/api/predictions");
      CHECK(contains(post.query, "startDate=2024-01-01"));
      CHECK(contains(post.query, "endDate=2024-03-31"));
      CHECK(contains(post.query, "async=true"));
      CHECK(contains(post.query, "predictor=AbCdEfGhIj1"));
      CHECK(contains(post.query, "predictor=AbCdEfGhIj2"));
      CHECK(contains(post.query, "predictorGroup=GrOuPaBcDe1"));
      const auto job = job_of(server, ref);
      CHECK(job.parameters["startDate"] == "2024-01-01");
      CHECK(job.parameters["endDate"] == "2024-03-31");
      CHECK(job.parameters["predictors"] == json::array({"AbCdEfGhIj1", "AbCdEfGhIj2"}));
      CHECK(job.parameters["predictorGroups"] == json::array({"GrOuPaBcDe1"}));
    }
  }
}

TEST_CASE("start_data_integrity runs the summary with the given checks") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      dhis2::DataIntegrityOptions options;
      options.checks = {"orgunits_orphaned", "categories_no_options"};
      const auto ref = client.jobs().start_data_integrity(options);
      CHECK(ref.job_type == "DATA_INTEGRITY");
      const auto post = only_post(server, "/api/dataIntegrity/summary");
      CHECK(contains(post.query, "checks=orgunits_orphaned%2Ccategories_no_options"));
      const auto job = job_of(server, ref);
      CHECK(job.parameters["checks"] == json::array({"orgunits_orphaned", "categories_no_options"}));
      CHECK(job.parameters["type"] == "SUMMARY");
    }
  }
}

TEST_CASE("start_data_integrity with details runs DATA_INTEGRITY_DETAILS") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      dhis2::DataIntegrityOptions options;
      options.checks = {"orgunits_orphaned"};
      options.details = true;
      const auto ref = client.jobs().start_data_integrity(options);
      CHECK(ref.job_type == "DATA_INTEGRITY_DETAILS");
      const auto post = only_post(server, "/api/dataIntegrity/details");
      CHECK(contains(post.query, "checks=orgunits_orphaned"));
      const auto job = job_of(server, ref);
      CHECK(job.parameters["checks"] == json::array({"orgunits_orphaned"}));
      CHECK(job.parameters["type"] == "DETAILS");
    }
  }
}

TEST_CASE("import_metadata_async posts the payload with async=true and returns the import job") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const json payload = {{"dataElements", json::array({{{"name", "ANC visits"}, {"shortName", "ANC"}}})}};
      const auto ref = client.jobs().import_metadata_async(payload, {{"importStrategy", "CREATE"}});
      CHECK(ref.job_type == "METADATA_IMPORT");
      const auto post = only_post(server, "/api/metadata");
      CHECK(contains(post.query, "async=true"));
      CHECK(contains(post.query, "importStrategy=CREATE"));
      CHECK(json::parse(post.body) == payload);
      CHECK(contains(post.header("Content-Type"), "application/json"));
      job_of(server, ref);
    }
  }
}

TEST_CASE("import_data_values_async posts a JSON data value set") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const json payload = {
          {"dataValues",
           json::array(
               {{{"dataElement", "fbfJHSPpUQD"}, {"period", "202401"}, {"orgUnit", "DiszpKrYNg8"}, {"value", "5"}}})}};
      const auto ref = client.jobs().import_data_values_async(payload);
      CHECK(ref.job_type == "DATAVALUE_IMPORT");
      const auto post = only_post(server, "/api/dataValueSets");
      CHECK(contains(post.query, "async=true"));
      CHECK(json::parse(post.body) == payload);
      CHECK(contains(post.header("Content-Type"), "application/json"));
      job_of(server, ref);
    }
  }
}

TEST_CASE("import_data_values_async posts a CSV string with its content type") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const std::string csv = "dataelement,period,orgunit,value\nfbfJHSPpUQD,202401,DiszpKrYNg8,5\n";
      const auto ref = client.jobs().import_data_values_async(csv, "application/csv");
      CHECK(ref.job_type == "DATAVALUE_IMPORT");
      const auto post = only_post(server, "/api/dataValueSets");
      CHECK(contains(post.query, "async=true"));
      CHECK(post.body == csv);
      CHECK(contains(post.header("Content-Type"), "application/csv"));
      job_of(server, ref);
    }
  }
}

TEST_CASE("import_tracker_async returns a TRACKER_IMPORT_JOB ref from the tracker envelope") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const json payload = {{"trackedEntities", json::array()}};
      const auto ref = client.jobs().import_tracker_async(payload);
      CHECK(ref.job_type == "TRACKER_IMPORT_JOB");
      CHECK_FALSE(ref.uid.empty());
      const auto post = only_post(server, "/api/tracker");
      CHECK(contains(post.query, "async=true"));
      CHECK(json::parse(post.body) == payload);
      job_of(server, ref);
    }
  }
}

TEST_CASE("a kick-off answered by a 503 proxy page is not retried, even with retry_non_idempotent") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      client.connect();
      server.inject("POST", "/api/resourceTables/analytics", Fault::status_page(503), 3);
      const auto e = thrown<dhis2::ApiError>([&] { client.jobs().start_analytics(); });
      REQUIRE(e);
      CHECK(e->status() == 503);
      CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 1);
      CHECK(server.jobs().empty());
    }
  }
}

TEST_CASE("a kick-off whose connection drops is not retried and throws TransportError") {
  for (const auto& v : kStartVersions) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      client.connect();
      server.inject("POST", "/api/resourceTables", Fault::drop_before_response(), 3);
      CHECK_THROWS_AS(client.jobs().start_resource_tables(), dhis2::TransportError);
      CHECK(server.requests_to("/api/resourceTables", "POST").size() == 1);
      CHECK(server.jobs().empty());
    }
  }
}

TEST_CASE("attach_if_running returns the running analytics job on 2.39 and 2.40") {
  for (const auto& v : {std::string("2.39"), std::string("2.40.7")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto first = client.jobs().start_analytics();
      server.advance(1s);
      dhis2::AnalyticsOptions options;
      options.attach_if_running = true;
      const auto second = client.jobs().start_analytics(options);
      CHECK(second == first);
      CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 2);
      CHECK(server.requests_to("/api/scheduling/running/ANALYTICS_TABLE", "GET").size() == 1);
    }
  }
}

TEST_CASE("a second analytics run without attach_if_running throws ApiError 409 on 2.39 and 2.40") {
  for (const auto& v : {std::string("2.39"), std::string("2.40.7")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      client.jobs().start_analytics();
      server.advance(1s);
      const auto e = thrown<dhis2::ApiError>([&] { client.jobs().start_analytics(); });
      REQUIRE(e);
      CHECK(e->status() == 409);
      CHECK(contains(e->dhis2_message(), "already running"));
      CHECK(server.requests_to("/api/resourceTables/analytics", "POST").size() == 2);
    }
  }
}

TEST_CASE("last_years below 1 is a UsageError and sends nothing") {
  FakeServer server;
  auto client = client_for(server);
  dhis2::AnalyticsOptions options;
  options.last_years = 0;
  CHECK_THROWS_AS(client.jobs().start_analytics(options), dhis2::UsageError);
  CHECK(server.requests_to("/api/resourceTables/analytics").empty());
}

TEST_CASE("predictions without start and end dates are a UsageError and send nothing") {
  FakeServer server;
  auto client = client_for(server);
  dhis2::PredictionOptions options;
  options.start_date = "2024-01-01";
  CHECK_THROWS_AS(client.jobs().start_predictions(options), dhis2::UsageError);
  CHECK_THROWS_AS(client.jobs().start_predictions(dhis2::PredictionOptions{}), dhis2::UsageError);
  CHECK(server.requests_to("/api/predictions").empty());
}

TEST_CASE("cancel posts /api/jobConfigurations/{uid}/cancel on 2.41+") {
  for (const auto& v : {std::string("2.41.4"), std::string("2.42.1")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto ref = client.jobs().start_analytics();
      client.jobs().cancel(ref);
      CHECK(server.requests_to("/api/jobConfigurations/" + ref.uid + "/cancel", "POST").size() == 1);
      CHECK(server.requests_to("/api/scheduling/cancel/*").empty());
    }
  }
}

TEST_CASE("cancel posts /api/scheduling/cancel/{type} on 2.40 and earlier") {
  for (const auto& v : {std::string("2.38"), std::string("2.40.7")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto ref = client.jobs().start_analytics();
      server.advance(1s);
      client.jobs().cancel(ref);
      CHECK(server.requests_to("/api/scheduling/cancel/ANALYTICS_TABLE", "POST").size() == 1);
      CHECK(server.requests_to("/api/jobConfigurations/*").empty());
    }
  }
}

TEST_CASE("execute runs a saved job configuration and returns its type and uid") {
  for (const auto& v : {std::string("2.38"), std::string("2.40.7"), std::string("2.41.4"), std::string("2.42.1")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      server.add_job_configuration("SaVeDjOb001", "RESOURCE_TABLE",
                                   JobScript().start("Generating resource tables").complete("done", 1s));
      auto client = client_for(server);
      const auto ref = client.jobs().execute("SaVeDjOb001");
      CHECK(ref.job_type == "RESOURCE_TABLE");
      CHECK(ref.uid == "SaVeDjOb001");
      CHECK(server.requests_to("/api/jobConfigurations/SaVeDjOb001/execute", "POST").size() == 1);
    }
  }
}

TEST_CASE("execute of an unknown uid is ApiError 404 on 2.41+") {
  for (const auto& v : {std::string("2.41.4"), std::string("2.42.1")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto e = thrown<dhis2::ApiError>([&] { client.jobs().execute("NoSuchJob01"); });
      REQUIRE(e);
      CHECK(e->status() == 404);
    }
  }
}

TEST_CASE("execute of an unknown uid is ApiError E7006 on 2.40 and earlier") {
  for (const auto& v : {std::string("2.38"), std::string("2.40.7")}) {
    DYNAMIC_SECTION("version " << v) {
      FakeServer server(version(v));
      auto client = client_for(server);
      const auto e = thrown<dhis2::ApiError>([&] { client.jobs().execute("NoSuchJob01"); });
      REQUIRE(e);
      CHECK(e->error_code() == "E7006");
      CHECK(server.requests_to("/api/jobConfigurations/NoSuchJob01/execute", "POST").size() == 1);
    }
  }
}
