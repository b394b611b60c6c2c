#ifndef DHIS2_WEB_MESSAGE_HPP
#define DHIS2_WEB_MESSAGE_HPP

// DHIS2's WebMessage envelope and the reports it carries: import summaries (data values),
// import reports (metadata), object, type and error reports, conflicts, and the job kick-off
// responses. The variant in `response` is recognised by the fields it has, never by
// `responseType`, whose value changed three times across server versions. Plain values;
// thread-safe to copy and share. Decoding throws DecodeError naming the field path.

#include <dhis2/detail/config.hpp>
#include <dhis2/detail/json_reader.hpp>
#include <dhis2/task_ref.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {

namespace detail {

std::vector<std::string> decode_string_list(const JsonReader& r, const char* key);

std::vector<std::int64_t> decode_int_list(const JsonReader& r, const char* key);

}  // namespace detail

// Counts of a data value import: inline as a WebMessage response, or nested as
// ImportSummary.importCount.
struct ImportCount {
  std::int64_t imported = 0;
  std::int64_t updated = 0;
  std::int64_t ignored = 0;
  std::int64_t deleted = 0;

  static ImportCount from_json(const nlohmann::json& value, const std::string& path = "importCount");
  friend bool operator==(const ImportCount& a, const ImportCount& b) {
    return a.imported == b.imported && a.updated == b.updated && a.ignored == b.ignored && a.deleted == b.deleted;
  }
  friend bool operator!=(const ImportCount& a, const ImportCount& b) { return !(a == b); }
};

// The `stats` of metadata and tracker import reports and of type reports.
struct ImportStats {
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  std::int64_t ignored = 0;
  std::int64_t total = 0;

  static ImportStats from_json(const nlohmann::json& value, const std::string& path = "stats");
};

// One conflict of a data value (or complete registration) import summary.
struct Conflict {
  std::string object;                          // e.g. the offending period or data element
  std::map<std::string, std::string> objects;  // e.g. {"period": "209503", "dataElement": ...}
  std::string value;                           // the explanation
  std::string error_code;                      // e.g. "E7641"
  std::string property;                        // e.g. "period"
  std::vector<std::int64_t> indexes;           // positions in the submitted payload

  static Conflict from_json(const nlohmann::json& value, const std::string& path = "conflict");
};

// One error of a metadata import (inside an ObjectReport) or of an ErrorReports response.
struct ErrorReport {
  std::string message;
  std::string error_code;  // e.g. "E4000"
  std::string main_klass;  // fully qualified Java class, e.g. "org.hisp.dhis.dataelement.DataElement"
  std::string error_klass;
  std::string error_property;
  std::vector<std::string> error_properties;
  std::vector<std::string> args;
  std::string main_id;   // uid of the object in error, when the server names it
  nlohmann::json value;  // the offending value, any JSON type; null when absent

  static ErrorReport from_json(const nlohmann::json& value, const std::string& path = "errorReport");
};

// The outcome for one object of a metadata import (also the bare 201/execute response).
struct ObjectReport {
  std::string klass;
  std::optional<std::int64_t> index;  // position in the submitted payload
  std::string uid;
  std::string display_name;
  std::vector<ErrorReport> error_reports;

  static ObjectReport from_json(const nlohmann::json& value, const std::string& path = "objectReport");
};

// The outcome for one object type of a metadata import.
struct TypeReport {
  std::string klass;
  ImportStats stats;
  std::vector<ObjectReport> object_reports;

  static TypeReport from_json(const nlohmann::json& value, const std::string& path = "typeReport");
};

// A metadata import report (METADATA_IMPORT summary and the sync /api/metadata response).
struct ImportReport {
  std::string status;  // "OK" | "WARNING" | "ERROR"
  ImportStats stats;
  std::vector<TypeReport> type_reports;
  nlohmann::json import_params;  // present in task summaries only; null otherwise

  static ImportReport from_json(const nlohmann::json& value, const std::string& path = "importReport");
};

// A data value import summary (DATAVALUE_IMPORT summary and the sync /api/dataValueSets response).
struct ImportSummary {
  std::string status;  // "SUCCESS" | "WARNING" | "ERROR"
  std::string description;
  std::optional<ImportCount> import_count;
  std::vector<Conflict> conflicts;
  std::vector<std::int64_t> rejected_indexes;
  std::string data_set_complete;  // sent as a string ("false", or a date)
  std::string reference;
  std::string href;
  nlohmann::json import_options;  // null when absent

  static ImportSummary from_json(const nlohmann::json& value, const std::string& path = "importSummary");
};

// Which variant a WebMessage's `response` holds, recognised by its fields.
enum class ResponseKind {
  None,                 // no response
  JobConfiguration,     // a job kick-off: jobType + id
  TrackerJob,           // a tracker kick-off: id + location
  ImportReport,         // metadata import report
  TrackerImportReport,  // tracker import report (validationReport / bundleReport)
  ImportSummary,        // data value import summary
  ImportSummaries,      // several import summaries
  ImportCount,          // bare counts
  ObjectReport,
  TypeReport,
  ErrorReports,
  PredictionSummary,
  Unknown  // an object of some other shape, or not an object
};

const char* to_string(ResponseKind kind) noexcept;

// Recognises a report by its keys. Works on a WebMessage's `response`, a task summary, or the
// bare body of a synchronous import; `responseType` is ignored on purpose.
ResponseKind classify_report(const nlohmann::json& report);

// Where a ConflictRow came from.
enum class ConflictSource {
  ImportConflict,  // a flat conflict of a data value / registration import summary
  ErrorReport,     // an error report nested in a metadata import (or an ErrorReports response)
  TrackerError     // an error of a tracker import's validation report
};

// One problem of an import, whatever report shape it came from, for listing to a user.
struct ConflictRow {
  ConflictSource source = ConflictSource::ImportConflict;
  std::string type;        // object type: "DataElement", "EVENT", ...; "" when unknown
  std::string object;      // the object's uid or identifier; "" when unknown
  std::string property;    // the offending property; "" when unknown
  std::string error_code;  // e.g. "E4000"
  std::string message;
  std::vector<std::int64_t> indexes;  // positions in the submitted payload
};

namespace detail {

std::string short_class_name(const std::string& klass);

void append_import_conflicts(const ImportSummary& summary, std::vector<ConflictRow>& rows);

void append_error_reports(const std::vector<ErrorReport>& reports, const ObjectReport* owner,
                          std::vector<ConflictRow>& rows);

void append_object_reports(const std::vector<ObjectReport>& objects, std::vector<ConflictRow>& rows);

void append_tracker_errors(const JsonReader& report, std::vector<ConflictRow>& rows);

}  // namespace detail

// Every problem in a report of any shape (see classify_report), in the order the report lists
// them: flat conflicts, nested metadata error reports, tracker validation errors. Empty when
// the report has none or is of a shape without problems (a job kick-off, counts).
std::vector<ConflictRow> conflict_rows(const nlohmann::json& report, const std::string& path = "report");

// The DHIS2 WebMessage envelope: {httpStatus, httpStatusCode, status, message, response, ...}.
struct WebMessage {
  std::string http_status;   // the reason phrase: "OK", "Conflict", ...
  int http_status_code = 0;  // equals the real HTTP status
  std::string status;        // "OK" | "WARNING" | "ERROR"
  std::optional<std::int64_t> code;
  std::string message;
  std::string dev_message;
  std::string error_code;   // e.g. "E1005"; "" when absent
  nlohmann::json response;  // the variant, kept as sent; null when absent

  static WebMessage from_json(const nlohmann::json& value, const std::string& path = "webMessage");

  // True when `value` has the envelope's marks (httpStatusCode, or httpStatus with status).
  static bool looks_like(const nlohmann::json& value);

  ResponseKind response_kind() const { return classify_report(response); }

  // The job this message started: from a job kick-off (response.jobType + response.id) or a
  // tracker kick-off (response.id; tracker jobs have the type TRACKER_IMPORT_JOB). Empty for
  // any other message.
  std::optional<TaskRef> task_ref() const;

  // The uid of the object this message reports on: response.uid (an ObjectReport, as for a 201
  // Created), else response.id. Empty when neither is there.
  std::optional<std::string> created_uid() const;

  // The counts of an import, from whichever shape carries them: inline counts, a summary's
  // importCount, a summaries total, or a report's stats (created counts as imported).
  std::optional<ImportCount> import_count() const;

  // The flat conflicts of a data value import summary (or of every summary in ImportSummaries).
  std::vector<Conflict> conflicts() const;

  // Every problem the response reports, as one row type (see dhis2::conflict_rows).
  std::vector<ConflictRow> conflict_rows() const { return dhis2::conflict_rows(response, "webMessage.response"); }

  // The response decoded as a given report; empty when it is of another shape.
  std::optional<ImportReport> import_report() const;
  std::optional<ImportSummary> import_summary() const;
  std::optional<ObjectReport> object_report() const;
  std::optional<TypeReport> type_report() const;
};

void from_json(const nlohmann::json& value, WebMessage& m);
void from_json(const nlohmann::json& value, ImportSummary& s);
void from_json(const nlohmann::json& value, ImportReport& r);
void from_json(const nlohmann::json& value, ImportCount& c);
void from_json(const nlohmann::json& value, ObjectReport& o);
void from_json(const nlohmann::json& value, TypeReport& t);
void from_json(const nlohmann::json& value, ErrorReport& e);
void from_json(const nlohmann::json& value, Conflict& c);

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/web_message.ipp>
#endif

#endif  // DHIS2_WEB_MESSAGE_HPP
