#ifndef DHIS2_TESTING_IMPL_JOB_SCRIPT_IPP
#define DHIS2_TESTING_IMPL_JOB_SCRIPT_IPP

// Definitions of <dhis2/testing/job_script.hpp>.

#include <dhis2/testing/job_script.hpp>

#include <dhis2/errors.hpp>

#include <cstdint>
#include <utility>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE JobScript& JobScript::start(std::string description, nlohmann::json parameters,
                                            std::chrono::milliseconds after) {
  Step s = make(StepKind::StartProcess, after, NotificationLevel::Info, std::move(description));
  s.data = std::move(parameters);
  return add(std::move(s));
}

DHIS2CPP_INLINE JobScript& JobScript::items(const std::string& text, int count, std::chrono::milliseconds each) {
  if (count < 0) throw UsageError("JobScript::items: the count must not be negative");
  for (int i = 1; i <= count; ++i) {
    add(make(StepKind::Item, each, NotificationLevel::Loop,
             "[" + std::to_string(i) + "/" + std::to_string(count) + "] " + text));
  }
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::message(NotificationLevel level, std::string text,
                                              std::chrono::milliseconds after) {
  if (level == NotificationLevel::Unknown) throw UsageError("JobScript::message: choose a known level");
  return add(make(StepKind::Message, after, level, std::move(text)));
}

DHIS2CPP_INLINE JobScript& JobScript::summary(nlohmann::json summary, std::chrono::milliseconds after) {
  Step s = make(StepKind::Summary, after, NotificationLevel::Info, std::nullopt);
  s.data = std::move(summary);
  return add(std::move(s));
}

DHIS2CPP_INLINE JobScript& JobScript::object_error(const std::string& code, const std::string& object_id,
                                                   const std::string& type, std::vector<std::string> args,
                                                   const std::string& message, std::chrono::milliseconds after) {
  Step s = make(StepKind::ObjectError, after, NotificationLevel::Error, std::nullopt);
  s.data = {{"code", code}, {"id", object_id}, {"type", type}, {"args", std::move(args)}, {"message", message}};
  return add(std::move(s));
}

DHIS2CPP_INLINE JobScript& JobScript::lose_last_row() {
  if (steps_.empty()) throw UsageError("JobScript::lose_last_row: the script has no step yet");
  steps_.back().lost = true;
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::arrives_after(std::chrono::milliseconds delay) {
  if (steps_.empty()) throw UsageError("JobScript::arrives_after: the script has no step yet");
  if (delay.count() < 0) throw UsageError("JobScript::arrives_after: the delay must not be negative");
  steps_.back().arrives_after = delay;
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::commit_row_after(std::chrono::milliseconds delay) {
  if (delay.count() < 0) throw UsageError("JobScript::commit_row_after: the delay must not be negative");
  commit_delay_ = delay;
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::direct() {
  if (steps_.empty()) throw UsageError("JobScript::direct: the script has no step yet");
  steps_.back().direct = true;
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::result(nlohmann::json value) {
  result_ = std::move(value);
  return *this;
}

DHIS2CPP_INLINE JobScript& JobScript::scale(double factor) {
  if (!(factor > 0) || factor > 1e6) throw UsageError("JobScript::scale: the factor must be a number > 0");
  const auto scaled = [factor](std::chrono::milliseconds d) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * factor + 0.5));
  };
  for (auto& step : steps_) {
    step.after = scaled(step.after);
    step.arrives_after = scaled(step.arrives_after);
  }
  commit_delay_ = scaled(commit_delay_);
  return *this;
}

DHIS2CPP_INLINE std::chrono::milliseconds JobScript::duration() const {
  std::chrono::milliseconds total{0};
  for (const auto& s : steps_) total += s.after;
  return total;
}

DHIS2CPP_INLINE Step JobScript::make(StepKind kind, std::chrono::milliseconds after, NotificationLevel level,
                                     std::optional<std::string> text) {
  if (after.count() < 0) throw UsageError("JobScript: a step's delay must not be negative");
  Step s;
  s.kind = kind;
  s.after = after;
  s.level = level;
  s.message = std::move(text);
  return s;
}

DHIS2CPP_INLINE JobScript& JobScript::add(Step step) {
  steps_.push_back(std::move(step));
  return *this;
}

namespace detail {

DHIS2CPP_INLINE nlohmann::json default_import_summary(const char* status, int imported, int updated, int deleted,
                                                      int ignored) {
  return {{"responseType", "ImportSummary"},
          {"status", status},
          {"importOptions",
           {{"idSchemes", nlohmann::json::object()},
            {"dryRun", false},
            {"async", true},
            {"importStrategy", "CREATE_AND_UPDATE"},
            {"mergeMode", "REPLACE"},
            {"reportMode", "FULL"},
            {"skipExistingCheck", false}}},
          {"description", "Import process completed successfully"},
          {"importCount", {{"imported", imported}, {"updated", updated}, {"ignored", ignored}, {"deleted", deleted}}},
          {"conflicts", nlohmann::json::array()},
          {"rejectedIndexes", nlohmann::json::array()},
          {"dataSetComplete", "false"}};
}

DHIS2CPP_INLINE nlohmann::json default_metadata_report(int created) {
  const nlohmann::json stats = {{"created", created}, {"updated", 0}, {"deleted", 0}, {"ignored", 0}, {"total", created}};
  return {{"importParams", {{"importMode", "COMMIT"}, {"importStrategy", "CREATE_AND_UPDATE"}, {"atomicMode", "ALL"}}},
          {"status", "OK"},
          {"stats", stats},
          {"typeReports", nlohmann::json::array({{{"klass", "org.hisp.dhis.dataelement.DataElement"},
                                                  {"stats", stats},
                                                  {"objectReports", nlohmann::json::array()}}})}};
}

DHIS2CPP_INLINE nlohmann::json default_tracker_report(int created) {
  const nlohmann::json stats = {{"created", created}, {"updated", 0}, {"deleted", 0}, {"ignored", 0}, {"total", created}};
  nlohmann::json report;
  report["status"] = "OK";
  report["validationReport"] = {{"errorReports", nlohmann::json::array()}, {"warningReports", nlohmann::json::array()}};
  report["stats"] = stats;
  report["bundleReport"]["typeReportMap"]["TRACKED_ENTITY"] = {
      {"trackerType", "TRACKED_ENTITY"}, {"stats", stats}, {"objectReports", nlohmann::json::array()}};
  return report;
}

}  // namespace detail

DHIS2CPP_INLINE JobScript JobScript::default_for(const std::string& job_type, const nlohmann::json& parameters) {
  using std::chrono::milliseconds;
  JobScript s;
  if (job_type == "ANALYTICS_TABLE" || job_type == "CONTINUOUS_ANALYTICS_TABLE") {
    s.start("Analytics table update", parameters)
        .stage("Validating analytics tables", milliseconds(400))
        .stage("Generating resource tables", milliseconds(600))
        .items("Generating resource table", 6, milliseconds(1100))
        .stage("Performing pre-create table work", milliseconds(800))
        .stage("Populating analytics tables", milliseconds(1200))
        .items("Populating analytics table analytics_2024", 12, milliseconds(2500))
        .stage("Applying aggregation levels", milliseconds(1500))
        .stage("Creating indexes", milliseconds(2500))
        .items("Creating index", 8, milliseconds(900))
        .stage("Swapping analytics tables", milliseconds(1800))
        .complete("Analytics tables updated: {duration}", milliseconds(900));
  } else if (job_type == "RESOURCE_TABLE") {
    s.start("Resource table update", nlohmann::json())
        .items("Generating resource table", 8, milliseconds(700))
        .complete("Resource tables generated: {duration}", milliseconds(300));
  } else if (job_type == "MONITORING") {
    s.start("Monitoring", parameters)
        .stage("Running validation rules", milliseconds(500))
        .items("Validation rule group", 4, milliseconds(900))
        .complete("Monitoring process done: {duration}", milliseconds(300));
  } else if (job_type == "PREDICTOR") {
    s.start("Predictors run", parameters)
        .items("Running predictor", 3, milliseconds(1200))
        .summary({{"responseType", "PredictionSummary"},
                  {"status", "SUCCESS"},
                  {"description", "Predictions run"},
                  {"predictors", 3},
                  {"inserted", 120},
                  {"updated", 4},
                  {"deleted", 0},
                  {"unchanged", 10}},
                 milliseconds(200))
        .complete("Prediction done: 3 predictors, 120 inserted, 4 updated, 0 deleted, 10 unchanged", milliseconds(0));
  } else if (job_type == "DATAVALUE_IMPORT") {
    // DataEntryJob stores the summary just after its completed row (dhis2-wire.md §1.7).
    s.start("Data value set import", parameters)
        .stage("Importing data values", milliseconds(300))
        .stage("Checking conflicts", milliseconds(600))
        .complete("Import complete with status OK, 10 created, 2 updated, 0 deleted, 1 ignored", milliseconds(500))
        .summary(detail::default_import_summary("SUCCESS", 10, 2, 0, 1), milliseconds(150));
  } else if (job_type == "COMPLETE_DATA_SET_REGISTRATION_IMPORT") {
    s.start("Complete data set registration import", parameters)
        .summary(detail::default_import_summary("SUCCESS", 4, 0, 0, 0), milliseconds(600))
        .complete("Import complete with status OK, 4 created, 0 updated, 0 deleted, 0 ignored", milliseconds(0));
  } else if (job_type == "METADATA_IMPORT" || job_type == "GML_IMPORT") {
    s.start("Metadata import", parameters)
        .stage("Running preheat", milliseconds(300))
        .stage("Validating objects", milliseconds(500))
        .stage("Committing objects", milliseconds(700))
        .summary(detail::default_metadata_report(5), milliseconds(200))
        .complete("Import complete with status OK, 5 created, 0 updated, 0 deleted, 0 ignored", milliseconds(0));
  } else if (job_type == "TRACKER_IMPORT_JOB") {
    s.start("Tracker import started", parameters)
        .stage("Running preheat", milliseconds(200))
        .stage("Running validation", milliseconds(400))
        .stage("Running commit", milliseconds(500))
        .summary(detail::default_tracker_report(5), milliseconds(100))
        .complete("Import complete with status OK, 5 created, 0 updated, 0 deleted, 0 ignored", milliseconds(0));
  } else if (job_type == "GEOJSON_IMPORT") {
    s.start("GeoJSON import", parameters)
        .summary({{"responseType", "GeoJsonImportReport"},
                  {"status", "SUCCESS"},
                  {"importCount", {{"imported", 0}, {"updated", 12}, {"ignored", 0}, {"deleted", 0}}},
                  {"totalConflictOccurrenceCount", 0},
                  {"conflicts", nlohmann::json::array()}},
                 milliseconds(800))
        .complete("Import complete with status OK, 0 created, 12 updated, 0 deleted, 0 ignored", milliseconds(0));
  } else if (job_type == "DATA_INTEGRITY" || job_type == "DATA_INTEGRITY_DETAILS") {
    // A type without notifications (level ERROR): its rows, where the version writes any, are "".
    s.start("", parameters)
        .stage("Running data integrity checks", milliseconds(500))
        .complete("Data integrity checks completed", milliseconds(2500));
  } else if (job_type == "META_DATA_SYNC") {
    // Several processes, so several completed:true rows (dhis2-wire.md §1.5).
    s.start("Metadata sync pre-processing", parameters)
        .complete("Pre-processing done", milliseconds(800))
        .start("Metadata sync", nlohmann::json::object(), milliseconds(100))
        .complete("Metadata sync done", milliseconds(1500))
        .start("Metadata sync post-processing", nlohmann::json::object(), milliseconds(100))
        .complete("Post-processing done", milliseconds(600))
        .commit_row_after(milliseconds(40));
  } else {
    s.start("", parameters).stage("Running " + job_type, milliseconds(500)).complete("", milliseconds(1500));
  }
  return s;
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_JOB_SCRIPT_IPP
