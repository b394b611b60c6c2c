#ifndef DHIS2_WEB_MESSAGE_HPP
#define DHIS2_WEB_MESSAGE_HPP

// DHIS2's WebMessage envelope and the reports it carries: import summaries (data values),
// import reports (metadata), object, type and error reports, conflicts, and the job kick-off
// responses. The variant in `response` is recognised by the fields it has, never by
// `responseType`, whose value changed three times across server versions. Plain values;
// thread-safe to copy and share. Decoding throws DecodeError naming the field path.

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

inline std::vector<std::string> decode_string_list(const JsonReader& r, const char* key) {
  // DHIS2 declares these List<Object>; show a non-string element as its JSON text.
  return r.array(key, [](const nlohmann::json& v, const std::string&) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  });
}

inline std::vector<std::int64_t> decode_int_list(const JsonReader& r, const char* key) {
  return r.array(key, decode_int);
}

}  // namespace detail

// Counts of a data value import: inline as a WebMessage response, or nested as
// ImportSummary.importCount.
struct ImportCount {
  std::int64_t imported = 0;
  std::int64_t updated = 0;
  std::int64_t ignored = 0;
  std::int64_t deleted = 0;

  static ImportCount from_json(const nlohmann::json& value, const std::string& path = "importCount") {
    const detail::JsonReader r(value, path);
    return ImportCount{r.integer("imported"), r.integer("updated"), r.integer("ignored"),
                       r.integer("deleted")};
  }
  friend bool operator==(const ImportCount& a, const ImportCount& b) {
    return a.imported == b.imported && a.updated == b.updated && a.ignored == b.ignored &&
           a.deleted == b.deleted;
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

  static ImportStats from_json(const nlohmann::json& value, const std::string& path = "stats") {
    const detail::JsonReader r(value, path);
    ImportStats s{r.integer("created"), r.integer("updated"), r.integer("deleted"),
                  r.integer("ignored"), 0};
    s.total = r.integer("total", s.created + s.updated + s.deleted + s.ignored);
    return s;
  }
};

// One conflict of a data value (or complete registration) import summary.
struct Conflict {
  std::string object;                         // e.g. the offending period or data element
  std::map<std::string, std::string> objects;  // e.g. {"period": "209503", "dataElement": ...}
  std::string value;                          // the explanation
  std::string error_code;                     // e.g. "E7641"
  std::string property;                       // e.g. "period"
  std::vector<std::int64_t> indexes;          // positions in the submitted payload

  static Conflict from_json(const nlohmann::json& value, const std::string& path = "conflict") {
    const detail::JsonReader r(value, path);
    Conflict c;
    c.object = r.string("object");
    if (const auto objects = r.object("objects")) {
      for (const auto& item : objects->json().items()) {
        if (item.value().is_null()) continue;
        c.objects[item.key()] = detail::decode_string(item.value(), objects->path_of(item.key().c_str()));
      }
    }
    c.value = r.string("value");
    c.error_code = r.string("errorCode");
    c.property = r.string("property");
    c.indexes = detail::decode_int_list(r, "indexes");
    return c;
  }
};

// One error of a metadata import (inside an ObjectReport) or of an ErrorReports response.
struct ErrorReport {
  std::string message;
  std::string error_code;   // e.g. "E4000"
  std::string main_klass;   // fully qualified Java class, e.g. "org.hisp.dhis.dataelement.DataElement"
  std::string error_klass;
  std::string error_property;
  std::vector<std::string> error_properties;
  std::vector<std::string> args;
  std::string main_id;  // uid of the object in error, when the server names it
  nlohmann::json value;  // the offending value, any JSON type; null when absent

  static ErrorReport from_json(const nlohmann::json& value, const std::string& path = "errorReport") {
    const detail::JsonReader r(value, path);
    ErrorReport e;
    e.message = r.string("message");
    e.error_code = r.string("errorCode");
    e.main_klass = r.string("mainKlass");
    e.error_klass = r.string("errorKlass");
    e.error_property = r.string("errorProperty");
    e.error_properties = detail::decode_string_list(r, "errorProperties");
    e.args = detail::decode_string_list(r, "args");
    e.main_id = r.string("mainId");
    e.value = r.any("value");
    return e;
  }
};

// The outcome for one object of a metadata import (also the bare 201/execute response).
struct ObjectReport {
  std::string klass;
  std::optional<std::int64_t> index;  // position in the submitted payload
  std::string uid;
  std::string display_name;
  std::vector<ErrorReport> error_reports;

  static ObjectReport from_json(const nlohmann::json& value, const std::string& path = "objectReport") {
    const detail::JsonReader r(value, path);
    ObjectReport o;
    o.klass = r.string("klass");
    o.index = r.optional_integer("index");
    o.uid = r.string("uid");
    o.display_name = r.string("displayName");
    o.error_reports = r.array("errorReports", ErrorReport::from_json);
    return o;
  }
};

// The outcome for one object type of a metadata import.
struct TypeReport {
  std::string klass;
  ImportStats stats;
  std::vector<ObjectReport> object_reports;

  static TypeReport from_json(const nlohmann::json& value, const std::string& path = "typeReport") {
    const detail::JsonReader r(value, path);
    TypeReport t;
    t.klass = r.string("klass");
    if (const auto* s = r.find("stats")) t.stats = ImportStats::from_json(*s, r.path_of("stats"));
    t.object_reports = r.array("objectReports", ObjectReport::from_json);
    return t;
  }
};

// A metadata import report (METADATA_IMPORT summary and the sync /api/metadata response).
struct ImportReport {
  std::string status;  // "OK" | "WARNING" | "ERROR"
  ImportStats stats;
  std::vector<TypeReport> type_reports;
  nlohmann::json import_params;  // present in task summaries only; null otherwise

  static ImportReport from_json(const nlohmann::json& value, const std::string& path = "importReport") {
    const detail::JsonReader r(value, path);
    ImportReport report;
    report.status = r.string("status");
    if (const auto* s = r.find("stats")) report.stats = ImportStats::from_json(*s, r.path_of("stats"));
    report.type_reports = r.array("typeReports", TypeReport::from_json);
    report.import_params = r.any("importParams");
    return report;
  }
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

  static ImportSummary from_json(const nlohmann::json& value, const std::string& path = "importSummary") {
    const detail::JsonReader r(value, path);
    ImportSummary s;
    s.status = r.string("status");
    s.description = r.string("description");
    if (const auto* c = r.find("importCount")) s.import_count = ImportCount::from_json(*c, r.path_of("importCount"));
    s.conflicts = r.array("conflicts", Conflict::from_json);
    s.rejected_indexes = detail::decode_int_list(r, "rejectedIndexes");
    if (const auto* d = r.find("dataSetComplete")) {
      s.data_set_complete = d->is_boolean() ? (d->get<bool>() ? "true" : "false")
                                            : detail::decode_string(*d, r.path_of("dataSetComplete"));
    }
    s.reference = r.string("reference");
    s.href = r.string("href");
    s.import_options = r.any("importOptions");
    return s;
  }
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

inline const char* to_string(ResponseKind kind) noexcept {
  switch (kind) {
    case ResponseKind::None: return "None";
    case ResponseKind::JobConfiguration: return "JobConfiguration";
    case ResponseKind::TrackerJob: return "TrackerJob";
    case ResponseKind::ImportReport: return "ImportReport";
    case ResponseKind::TrackerImportReport: return "TrackerImportReport";
    case ResponseKind::ImportSummary: return "ImportSummary";
    case ResponseKind::ImportSummaries: return "ImportSummaries";
    case ResponseKind::ImportCount: return "ImportCount";
    case ResponseKind::ObjectReport: return "ObjectReport";
    case ResponseKind::TypeReport: return "TypeReport";
    case ResponseKind::ErrorReports: return "ErrorReports";
    case ResponseKind::PredictionSummary: return "PredictionSummary";
    case ResponseKind::Unknown: break;
  }
  return "Unknown";
}

// Recognises a report by its keys. Works on a WebMessage's `response`, a task summary, or the
// bare body of a synchronous import; `responseType` is ignored on purpose.
inline ResponseKind classify_report(const nlohmann::json& report) {
  if (report.is_null()) return ResponseKind::None;
  if (!report.is_object()) return ResponseKind::Unknown;
  const auto has = [&report](const char* key) {
    const auto it = report.find(key);
    return it != report.end() && !it->is_null();
  };
  if (has("jobType") && has("id")) return ResponseKind::JobConfiguration;
  if (has("validationReport") || has("bundleReport")) return ResponseKind::TrackerImportReport;
  if (has("importSummaries")) return ResponseKind::ImportSummaries;
  if (has("typeReports")) return ResponseKind::ImportReport;
  if (has("klass")) {
    if (has("objectReports") || has("stats")) return ResponseKind::TypeReport;
    return ResponseKind::ObjectReport;
  }
  if (has("predictors") || has("inserted") || has("unchanged")) return ResponseKind::PredictionSummary;
  if (has("importCount") || has("conflicts") || has("importOptions") || has("rejectedIndexes")) {
    return ResponseKind::ImportSummary;
  }
  if (has("stats") && has("status")) return ResponseKind::ImportReport;
  if (has("imported") && has("updated") && has("ignored") && has("deleted")) return ResponseKind::ImportCount;
  if (has("errorReports")) return ResponseKind::ErrorReports;
  if (has("id") && has("location")) return ResponseKind::TrackerJob;
  if (has("description") && has("status")) return ResponseKind::ImportSummary;  // a bare summary
  return ResponseKind::Unknown;
}

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

inline std::string short_class_name(const std::string& klass) {
  const auto dot = klass.rfind('.');
  return dot == std::string::npos ? klass : klass.substr(dot + 1);
}

inline void append_import_conflicts(const ImportSummary& summary, std::vector<ConflictRow>& rows) {
  for (const auto& c : summary.conflicts) {
    rows.push_back(ConflictRow{ConflictSource::ImportConflict, "", c.object, c.property,
                               c.error_code, c.value, c.indexes});
  }
}

inline void append_error_reports(const std::vector<ErrorReport>& reports, const ObjectReport* owner,
                                 std::vector<ConflictRow>& rows) {
  for (const auto& e : reports) {
    ConflictRow row{ConflictSource::ErrorReport, short_class_name(e.main_klass), e.main_id,
                    e.error_property, e.error_code, e.message, {}};
    if (owner) {
      if (row.type.empty()) row.type = short_class_name(owner->klass);
      if (row.object.empty()) row.object = owner->uid;
      if (owner->index) row.indexes.push_back(*owner->index);
    }
    rows.push_back(std::move(row));
  }
}

inline void append_object_reports(const std::vector<ObjectReport>& objects, std::vector<ConflictRow>& rows) {
  for (const auto& o : objects) append_error_reports(o.error_reports, &o, rows);
}

inline void append_tracker_errors(const JsonReader& report, std::vector<ConflictRow>& rows) {
  const auto validation = report.object("validationReport");
  if (!validation) return;
  const auto errors = validation->array("errorReports", [](const nlohmann::json& v, const std::string& p) {
    const JsonReader e(v, p);
    return ConflictRow{ConflictSource::TrackerError, e.string("trackerType"), e.string("uid"), "",
                       e.string("errorCode"), e.string("message"), {}};
  });
  rows.insert(rows.end(), errors.begin(), errors.end());
}

}  // namespace detail

// Every problem in a report of any shape (see classify_report), in the order the report lists
// them: flat conflicts, nested metadata error reports, tracker validation errors. Empty when
// the report has none or is of a shape without problems (a job kick-off, counts).
inline std::vector<ConflictRow> conflict_rows(const nlohmann::json& report,
                                              const std::string& path = "report") {
  std::vector<ConflictRow> rows;
  switch (classify_report(report)) {
    case ResponseKind::ImportSummary:
      detail::append_import_conflicts(ImportSummary::from_json(report, path), rows);
      break;
    case ResponseKind::ImportSummaries: {
      const detail::JsonReader r(report, path);
      for (const auto& s : r.array("importSummaries", ImportSummary::from_json)) {
        detail::append_import_conflicts(s, rows);
      }
      break;
    }
    case ResponseKind::ImportReport:
      for (const auto& t : ImportReport::from_json(report, path).type_reports) {
        detail::append_object_reports(t.object_reports, rows);
      }
      break;
    case ResponseKind::TypeReport:
      detail::append_object_reports(TypeReport::from_json(report, path).object_reports, rows);
      break;
    case ResponseKind::ObjectReport: {
      const auto o = ObjectReport::from_json(report, path);
      detail::append_error_reports(o.error_reports, &o, rows);
      break;
    }
    case ResponseKind::ErrorReports: {
      const detail::JsonReader r(report, path);
      detail::append_error_reports(r.array("errorReports", ErrorReport::from_json), nullptr, rows);
      break;
    }
    case ResponseKind::TrackerImportReport:
      detail::append_tracker_errors(detail::JsonReader(report, path), rows);
      break;
    default:
      break;
  }
  return rows;
}

// The DHIS2 WebMessage envelope: {httpStatus, httpStatusCode, status, message, response, ...}.
struct WebMessage {
  std::string http_status;   // the reason phrase: "OK", "Conflict", ...
  int http_status_code = 0;  // equals the real HTTP status
  std::string status;        // "OK" | "WARNING" | "ERROR"
  std::optional<std::int64_t> code;
  std::string message;
  std::string dev_message;
  std::string error_code;  // e.g. "E1005"; "" when absent
  nlohmann::json response;  // the variant, kept as sent; null when absent

  static WebMessage from_json(const nlohmann::json& value, const std::string& path = "webMessage") {
    const detail::JsonReader r(value, path);
    WebMessage m;
    m.http_status = r.string("httpStatus");
    const auto status_code = r.integer("httpStatusCode");
    if (status_code < 0 || status_code > 999) {
      throw DecodeError(r.path_of("httpStatusCode"), "an HTTP status code", std::to_string(status_code));
    }
    m.http_status_code = static_cast<int>(status_code);
    m.status = r.string("status");
    m.code = r.optional_integer("code");
    m.message = r.string("message");
    m.dev_message = r.string("devMessage");
    m.error_code = r.string("errorCode");
    m.response = r.any("response");
    return m;
  }

  // True when `value` has the envelope's marks (httpStatusCode, or httpStatus with status).
  static bool looks_like(const nlohmann::json& value) {
    if (!value.is_object()) return false;
    return value.contains("httpStatusCode") || (value.contains("httpStatus") && value.contains("status"));
  }

  ResponseKind response_kind() const { return classify_report(response); }

  // The job this message started: from a job kick-off (response.jobType + response.id) or a
  // tracker kick-off (response.id; tracker jobs have the type TRACKER_IMPORT_JOB). Empty for
  // any other message.
  std::optional<TaskRef> task_ref() const {
    switch (response_kind()) {
      case ResponseKind::JobConfiguration: {
        const detail::JsonReader r(response, "webMessage.response");
        return TaskRef{r.string("jobType"), r.string("id")};
      }
      case ResponseKind::TrackerJob: {
        const detail::JsonReader r(response, "webMessage.response");
        return TaskRef{"TRACKER_IMPORT_JOB", r.string("id")};
      }
      default:
        return std::nullopt;
    }
  }

  // The uid of the object this message reports on: response.uid (an ObjectReport, as for a 201
  // Created), else response.id. Empty when neither is there.
  std::optional<std::string> created_uid() const {
    if (!response.is_object()) return std::nullopt;
    const detail::JsonReader r(response, "webMessage.response");
    if (auto uid = r.optional_string("uid"); uid && !uid->empty()) return uid;
    if (auto id = r.optional_string("id"); id && !id->empty()) return id;
    return std::nullopt;
  }

  // The counts of an import, from whichever shape carries them: inline counts, a summary's
  // importCount, a summaries total, or a report's stats (created counts as imported).
  std::optional<ImportCount> import_count() const {
    const std::string path = "webMessage.response";
    switch (response_kind()) {
      case ResponseKind::ImportCount:
      case ResponseKind::ImportSummaries:
        return ImportCount::from_json(response, path);
      case ResponseKind::ImportSummary:
        return ImportSummary::from_json(response, path).import_count;
      case ResponseKind::ImportReport:
      case ResponseKind::TrackerImportReport:
      case ResponseKind::TypeReport: {
        const detail::JsonReader r(response, path);
        const auto* stats = r.find("stats");
        if (!stats) return std::nullopt;
        const auto s = ImportStats::from_json(*stats, r.path_of("stats"));
        return ImportCount{s.created, s.updated, s.ignored, s.deleted};
      }
      default:
        return std::nullopt;
    }
  }

  // The flat conflicts of a data value import summary (or of every summary in ImportSummaries).
  std::vector<Conflict> conflicts() const {
    const std::string path = "webMessage.response";
    switch (response_kind()) {
      case ResponseKind::ImportSummary:
        return ImportSummary::from_json(response, path).conflicts;
      case ResponseKind::ImportSummaries: {
        std::vector<Conflict> all;
        const detail::JsonReader r(response, path);
        for (auto& s : r.array("importSummaries", ImportSummary::from_json)) {
          all.insert(all.end(), s.conflicts.begin(), s.conflicts.end());
        }
        return all;
      }
      default:
        return {};
    }
  }

  // Every problem the response reports, as one row type (see dhis2::conflict_rows).
  std::vector<ConflictRow> conflict_rows() const {
    return dhis2::conflict_rows(response, "webMessage.response");
  }

  // The response decoded as a given report; empty when it is of another shape.
  std::optional<ImportReport> import_report() const {
    if (response_kind() != ResponseKind::ImportReport) return std::nullopt;
    return ImportReport::from_json(response, "webMessage.response");
  }
  std::optional<ImportSummary> import_summary() const {
    if (response_kind() != ResponseKind::ImportSummary) return std::nullopt;
    return ImportSummary::from_json(response, "webMessage.response");
  }
  std::optional<ObjectReport> object_report() const {
    if (response_kind() != ResponseKind::ObjectReport) return std::nullopt;
    return ObjectReport::from_json(response, "webMessage.response");
  }
  std::optional<TypeReport> type_report() const {
    if (response_kind() != ResponseKind::TypeReport) return std::nullopt;
    return TypeReport::from_json(response, "webMessage.response");
  }
};

inline void from_json(const nlohmann::json& value, WebMessage& m) { m = WebMessage::from_json(value); }
inline void from_json(const nlohmann::json& value, ImportSummary& s) { s = ImportSummary::from_json(value); }
inline void from_json(const nlohmann::json& value, ImportReport& r) { r = ImportReport::from_json(value); }
inline void from_json(const nlohmann::json& value, ImportCount& c) { c = ImportCount::from_json(value); }
inline void from_json(const nlohmann::json& value, ObjectReport& o) { o = ObjectReport::from_json(value); }
inline void from_json(const nlohmann::json& value, TypeReport& t) { t = TypeReport::from_json(value); }
inline void from_json(const nlohmann::json& value, ErrorReport& e) { e = ErrorReport::from_json(value); }
inline void from_json(const nlohmann::json& value, Conflict& c) { c = Conflict::from_json(value); }

}  // namespace dhis2

#endif  // DHIS2_WEB_MESSAGE_HPP
