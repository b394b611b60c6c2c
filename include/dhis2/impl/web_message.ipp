#ifndef DHIS2_IMPL_WEB_MESSAGE_IPP
#define DHIS2_IMPL_WEB_MESSAGE_IPP

// Definitions of <dhis2/web_message.hpp>.

#include <dhis2/web_message.hpp>

#include <dhis2/errors.hpp>

#include <utility>

namespace dhis2 {

namespace detail {

DHIS2CPP_INLINE std::vector<std::string> decode_string_list(const JsonReader& r, const char* key) {
  // DHIS2 declares these List<Object>; show a non-string element as its JSON text.
  return r.array(
      key, [](const nlohmann::json& v, const std::string&) { return v.is_string() ? v.get<std::string>() : v.dump(); });
}

DHIS2CPP_INLINE std::vector<std::int64_t> decode_int_list(const JsonReader& r, const char* key) {
  return r.array(key, decode_int);
}

}  // namespace detail

DHIS2CPP_INLINE ImportCount ImportCount::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  return ImportCount{r.integer("imported"), r.integer("updated"), r.integer("ignored"), r.integer("deleted")};
}

DHIS2CPP_INLINE ImportStats ImportStats::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  ImportStats s{r.integer("created"), r.integer("updated"), r.integer("deleted"), r.integer("ignored"), 0};
  s.total = r.integer("total", s.created + s.updated + s.deleted + s.ignored);
  return s;
}

DHIS2CPP_INLINE Conflict Conflict::from_json(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE ErrorReport ErrorReport::from_json(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE ObjectReport ObjectReport::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  ObjectReport o;
  o.klass = r.string("klass");
  o.index = r.optional_integer("index");
  o.uid = r.string("uid");
  o.display_name = r.string("displayName");
  o.error_reports = r.array("errorReports", ErrorReport::from_json);
  return o;
}

DHIS2CPP_INLINE TypeReport TypeReport::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  TypeReport t;
  t.klass = r.string("klass");
  if (const auto* s = r.find("stats")) t.stats = ImportStats::from_json(*s, r.path_of("stats"));
  t.object_reports = r.array("objectReports", ObjectReport::from_json);
  return t;
}

DHIS2CPP_INLINE ImportReport ImportReport::from_json(const nlohmann::json& value, const std::string& path) {
  const detail::JsonReader r(value, path);
  ImportReport report;
  report.status = r.string("status");
  if (const auto* s = r.find("stats")) report.stats = ImportStats::from_json(*s, r.path_of("stats"));
  report.type_reports = r.array("typeReports", TypeReport::from_json);
  report.import_params = r.any("importParams");
  return report;
}

DHIS2CPP_INLINE ImportSummary ImportSummary::from_json(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE const char* to_string(ResponseKind kind) noexcept {
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

DHIS2CPP_INLINE ResponseKind classify_report(const nlohmann::json& report) {
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

namespace detail {

DHIS2CPP_INLINE std::string short_class_name(const std::string& klass) {
  const auto dot = klass.rfind('.');
  return dot == std::string::npos ? klass : klass.substr(dot + 1);
}

DHIS2CPP_INLINE void append_import_conflicts(const ImportSummary& summary, std::vector<ConflictRow>& rows) {
  for (const auto& c : summary.conflicts) {
    rows.push_back(
        ConflictRow{ConflictSource::ImportConflict, "", c.object, c.property, c.error_code, c.value, c.indexes});
  }
}

DHIS2CPP_INLINE void append_error_reports(const std::vector<ErrorReport>& reports, const ObjectReport* owner,
                                          std::vector<ConflictRow>& rows) {
  for (const auto& e : reports) {
    ConflictRow row{ConflictSource::ErrorReport,
                    short_class_name(e.main_klass),
                    e.main_id,
                    e.error_property,
                    e.error_code,
                    e.message,
                    {}};
    if (owner) {
      if (row.type.empty()) row.type = short_class_name(owner->klass);
      if (row.object.empty()) row.object = owner->uid;
      if (owner->index) row.indexes.push_back(*owner->index);
    }
    rows.push_back(std::move(row));
  }
}

DHIS2CPP_INLINE void append_object_reports(const std::vector<ObjectReport>& objects, std::vector<ConflictRow>& rows) {
  for (const auto& o : objects) append_error_reports(o.error_reports, &o, rows);
}

DHIS2CPP_INLINE void append_tracker_errors(const JsonReader& report, std::vector<ConflictRow>& rows) {
  const auto validation = report.object("validationReport");
  if (!validation) return;
  const auto errors = validation->array("errorReports", [](const nlohmann::json& v, const std::string& p) {
    const JsonReader e(v, p);
    return ConflictRow{ConflictSource::TrackerError,
                       e.string("trackerType"),
                       e.string("uid"),
                       "",
                       e.string("errorCode"),
                       e.string("message"),
                       {}};
  });
  rows.insert(rows.end(), errors.begin(), errors.end());
}

}  // namespace detail

DHIS2CPP_INLINE std::vector<ConflictRow> conflict_rows(const nlohmann::json& report, const std::string& path) {
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
    case ResponseKind::TrackerImportReport: detail::append_tracker_errors(detail::JsonReader(report, path), rows); break;
    default: break;
  }
  return rows;
}

DHIS2CPP_INLINE WebMessage WebMessage::from_json(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE bool WebMessage::looks_like(const nlohmann::json& value) {
  if (!value.is_object()) return false;
  return value.contains("httpStatusCode") || (value.contains("httpStatus") && value.contains("status"));
}

DHIS2CPP_INLINE std::optional<TaskRef> WebMessage::task_ref() const {
  switch (response_kind()) {
    case ResponseKind::JobConfiguration: {
      const detail::JsonReader r(response, "webMessage.response");
      return TaskRef{r.string("jobType"), r.string("id")};
    }
    case ResponseKind::TrackerJob: {
      const detail::JsonReader r(response, "webMessage.response");
      return TaskRef{"TRACKER_IMPORT_JOB", r.string("id")};
    }
    default: return std::nullopt;
  }
}

DHIS2CPP_INLINE std::optional<std::string> WebMessage::created_uid() const {
  if (!response.is_object()) return std::nullopt;
  const detail::JsonReader r(response, "webMessage.response");
  if (auto uid = r.optional_string("uid"); uid && !uid->empty()) return uid;
  if (auto id = r.optional_string("id"); id && !id->empty()) return id;
  return std::nullopt;
}

DHIS2CPP_INLINE std::optional<ImportCount> WebMessage::import_count() const {
  const std::string path = "webMessage.response";
  switch (response_kind()) {
    case ResponseKind::ImportCount:
    case ResponseKind::ImportSummaries: return ImportCount::from_json(response, path);
    case ResponseKind::ImportSummary: return ImportSummary::from_json(response, path).import_count;
    case ResponseKind::ImportReport:
    case ResponseKind::TrackerImportReport:
    case ResponseKind::TypeReport: {
      const detail::JsonReader r(response, path);
      const auto* stats = r.find("stats");
      if (!stats) return std::nullopt;
      const auto s = ImportStats::from_json(*stats, r.path_of("stats"));
      return ImportCount{s.created, s.updated, s.ignored, s.deleted};
    }
    default: return std::nullopt;
  }
}

DHIS2CPP_INLINE std::vector<Conflict> WebMessage::conflicts() const {
  const std::string path = "webMessage.response";
  switch (response_kind()) {
    case ResponseKind::ImportSummary: return ImportSummary::from_json(response, path).conflicts;
    case ResponseKind::ImportSummaries: {
      std::vector<Conflict> all;
      const detail::JsonReader r(response, path);
      for (auto& s : r.array("importSummaries", ImportSummary::from_json)) {
        all.insert(all.end(), s.conflicts.begin(), s.conflicts.end());
      }
      return all;
    }
    default: return {};
  }
}

DHIS2CPP_INLINE std::optional<ImportReport> WebMessage::import_report() const {
  if (response_kind() != ResponseKind::ImportReport) return std::nullopt;
  return ImportReport::from_json(response, "webMessage.response");
}
DHIS2CPP_INLINE std::optional<ImportSummary> WebMessage::import_summary() const {
  if (response_kind() != ResponseKind::ImportSummary) return std::nullopt;
  return ImportSummary::from_json(response, "webMessage.response");
}
DHIS2CPP_INLINE std::optional<ObjectReport> WebMessage::object_report() const {
  if (response_kind() != ResponseKind::ObjectReport) return std::nullopt;
  return ObjectReport::from_json(response, "webMessage.response");
}
DHIS2CPP_INLINE std::optional<TypeReport> WebMessage::type_report() const {
  if (response_kind() != ResponseKind::TypeReport) return std::nullopt;
  return TypeReport::from_json(response, "webMessage.response");
}

DHIS2CPP_INLINE void from_json(const nlohmann::json& value, WebMessage& m) { m = WebMessage::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, ImportSummary& s) { s = ImportSummary::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, ImportReport& r) { r = ImportReport::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, ImportCount& c) { c = ImportCount::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, ObjectReport& o) { o = ObjectReport::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, TypeReport& t) { t = TypeReport::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, ErrorReport& e) { e = ErrorReport::from_json(value); }
DHIS2CPP_INLINE void from_json(const nlohmann::json& value, Conflict& c) { c = Conflict::from_json(value); }

}  // namespace dhis2

#endif  // DHIS2_IMPL_WEB_MESSAGE_IPP
