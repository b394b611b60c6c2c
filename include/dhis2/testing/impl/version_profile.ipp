#ifndef DHIS2_TESTING_IMPL_VERSION_PROFILE_IPP
#define DHIS2_TESTING_IMPL_VERSION_PROFILE_IPP

// Definitions of <dhis2/testing/version_profile.hpp>.

#include <dhis2/testing/version_profile.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/errors.hpp>

namespace dhis2 {
namespace testing {

DHIS2CPP_INLINE VersionProfile VersionProfile::of(std::string_view version_text) {
  const auto parsed = ServerVersion::try_parse(version_text);
  if (!parsed || *parsed < ServerVersion{2, 38, 0, 0, true} || *parsed >= ServerVersion{2, 44, 0, 0, true}) {
    throw UsageError("the emulator does not know DHIS2 version \"" + std::string(version_text) +
                     "\"; it emulates 2.38 to 2.43, e.g. " + supported_examples());
  }
  const ServerVersion& v = *parsed;
  const auto at_least = [&v](int minor, int patch = 0) { return v >= ServerVersion{2, minor, patch, 0, true}; };
  const auto in_line = [&v](int minor) { return v.minor == minor; };

  VersionProfile p;
  p.version = v;
  p.version_text = trimmed(version_text);
  p.ids_from_timestamp = at_least(42);
  p.new_notifier = at_least(42) || (in_line(41) && at_least(41, 4)) || (in_line(40) && at_least(40, 8));
  p.ids_equal_job_id = v < ServerVersion{2, 40, 8, 0, true};
  p.stale_check = at_least(41, 1);
  p.scheduler_grid = at_least(41);
  p.parameters_row = at_least(40) || (in_line(39) && at_least(39, 2));
  p.quiet_types_emit_empty_rows = at_least(42) || (in_line(41) && at_least(41, 4));
  p.checksum_checked = at_least(41);
  p.enum_editor_messages = p.new_notifier;
  p.tracker_location_without_api = at_least(42);
  p.location_on_every_kickoff = at_least(41);
  p.location_has_api_version = !at_least(43);
  p.continuous_geojson = at_least(42);
  p.data_integrity_report_run = !at_least(42);
  p.progress_endpoint = at_least(41);
  p.revert = at_least(41, 1);
  p.revert_needs_stale_heartbeat = at_least(42);
  p.stopped_status = at_least(40) || (in_line(39) && at_least(39, 2)) || (in_line(38) && at_least(38, 3));
  p.last_executed_is_start = p.stopped_status;
  p.integrity_start_time = at_least(40) || (in_line(39) && at_least(39, 4));
  p.already_running = at_least(41)   ? AlreadyRunning::Queue
                      : at_least(39) ? AlreadyRunning::Conflict
                                     : AlreadyRunning::SilentDrop;
  const bool long_names = (in_line(42) && !at_least(42, 5)) || (in_line(43) && !at_least(43, 1));
  if (at_least(42)) {
    p.kickoff_response_type = long_names ? "JobConfigurationWebMessageResponse" : "JobConfiguration";
    p.tracker_response_type = long_names ? "TrackerJobWebMessageResponse" : "TrackerJob";
  }
  p.login_path = at_least(42) ? "/login/" : at_least(41) ? "/dhis-web-login" : "/dhis-web-commons/security/login.action";
  p.max_api_version = v.minor;
  p.job_types = job_types_of(v);
  return p;
}

DHIS2CPP_INLINE std::string VersionProfile::trimmed(std::string_view text) {
  return std::string(dhis2::detail::trim(text));
}

DHIS2CPP_INLINE bool VersionProfile::knows_job_type(std::string_view type) const {
  for (const auto& t : job_types) {
    if (dhis2::detail::iequals(t, type)) return true;  // job type names are upper case
  }
  return false;
}

DHIS2CPP_INLINE std::string VersionProfile::canonical_job_type(std::string_view type) const {
  return dhis2::detail::to_upper(type);
}

DHIS2CPP_INLINE std::vector<std::string> VersionProfile::job_types_of(const ServerVersion& v) {
  const bool v41 = v >= ServerVersion{2, 41, 0, 0, true};
  const bool v42 = v >= ServerVersion{2, 42, 0, 0, true};
  const bool v43 = v >= ServerVersion{2, 43, 0, 0, true};
  std::vector<std::string> types = {"DATA_INTEGRITY", "DATA_INTEGRITY_DETAILS", "RESOURCE_TABLE", "ANALYTICS_TABLE",
                                    "CONTINUOUS_ANALYTICS_TABLE"};
  types.push_back(v43 ? "SINGLE_EVENT_DATA_SYNC" : "EVENT_PROGRAMS_DATA_SYNC");
  types.push_back(v43 ? "TRACKED_ENTITY_DATA_SYNC" : "TRACKER_PROGRAMS_DATA_SYNC");
  for (const char* t : {"DATA_SYNC", "META_DATA_SYNC", "AGGREGATE_DATA_EXCHANGE", "SEND_SCHEDULED_MESSAGE",
                        "PROGRAM_NOTIFICATIONS", "MONITORING"}) {
    types.push_back(t);
  }
  types.push_back(v42 ? "HTML_PUSH_ANALYTICS" : "PUSH_ANALYSIS");
  types.push_back(v43 ? "TRACKER_TRIGRAM_INDEX_MAINTENANCE" : "TRACKER_SEARCH_OPTIMIZATION");
  for (const char* t : {"PREDICTOR", "MATERIALIZED_SQL_VIEW_UPDATE", "DISABLE_INACTIVE_USERS", "TEST"}) {
    types.push_back(t);
  }
  if (v41) types.push_back("LOCK_EXCEPTION_CLEANUP");
  for (const char* t : {"MOCK", "SMS_SEND"}) types.push_back(t);
  if (v42) types.push_back("SMS_INBOUND_PROCESSING");
  for (const char* t :
       {"TRACKER_IMPORT_JOB", "TRACKER_IMPORT_NOTIFICATION_JOB", "TRACKER_IMPORT_RULE_ENGINE_JOB", "IMAGE_PROCESSING",
        "COMPLETE_DATA_SET_REGISTRATION_IMPORT", "DATAVALUE_IMPORT_INTERNAL", "METADATA_IMPORT", "DATAVALUE_IMPORT"}) {
    types.push_back(t);
  }
  if (v >= ServerVersion{2, 39, 0, 0, true}) types.push_back("GEOJSON_IMPORT");
  if (!v41) {
    for (const char* t : {"GML_IMPORT", "LEADER_ELECTION", "LEADER_RENEWAL", "EVENT_IMPORT", "ENROLLMENT_IMPORT",
                          "TEI_IMPORT", "ANALYTICSTABLE_UPDATE", "PROGRAM_DATA_SYNC"}) {
      types.push_back(t);
    }
  }
  if (v41) types.push_back("HOUSEKEEPING");
  if (v43) types.push_back("DATA_VALUE_TRIM");
  for (const char* t : {"DATA_SET_NOTIFICATION", "CREDENTIALS_EXPIRY_ALERT", "DATA_STATISTICS", "FILE_RESOURCE_CLEANUP",
                        "ACCOUNT_EXPIRY_ALERT", "VALIDATION_RESULTS_NOTIFICATION",
                        "REMOVE_USED_OR_EXPIRED_RESERVED_VALUES", "SYSTEM_VERSION_UPDATE_CHECK"}) {
    types.push_back(t);
  }
  return types;
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_VERSION_PROFILE_IPP
