#ifndef DHIS2_TESTING_VERSION_PROFILE_HPP
#define DHIS2_TESTING_VERSION_PROFILE_HPP

// What changes on the wire from one DHIS2 version to the next, as the emulator reproduces it.
// Every flag cites the section of ../shared/docs/dhis2-wire.md it comes from. A plain value.

#include <dhis2/detail/config.hpp>
#include <dhis2/server_version.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace dhis2 {
namespace testing {

// What a kick-off does when a job of the same type is already running (§2.3).
enum class AlreadyRunning {
  SilentDrop,  // 2.38: 200, and the new job never runs
  Conflict,    // 2.39-2.40: 409 "Job of type X is already running"
  Queue        // 2.41+: the job waits for the running one
};

struct VersionProfile {
  ServerVersion version;
  std::string version_text;  // as /api/system/info reports it

  bool ids_equal_job_id = false;              // §1.2: <=2.40.7, API-started jobs: id == uid == job id
  bool ids_from_timestamp = false;            // §1.2: 2.42+
  bool new_notifier = false;                  // §0: 2.40.8+, 2.41.4+, 2.42+ (caps per job, gist, DELETE)
  bool stale_check = false;                   // §1.6: 2.41.1+
  bool scheduler_grid = false;                // §2.3: 2.41+, jobs in the DB, 20 s scheduler loop
  bool parameters_row = false;                // §0: dataType/data on the first row, 2.39.2+ and 2.40+
  bool quiet_types_emit_empty_rows = false;   // §1.5: 2.41.4+/2.42+; before, no rows at all
  bool checksum_checked = false;              // §6.2: 2.41+ validates the PAT checksum
  bool enum_editor_messages = false;          // §1.1: 2.40.8+/2.41.4+ "Value 'X' is not valid for path parameter"
  bool tracker_location_without_api = false;  // §2.6: 2.42+ (inferred)
  bool location_on_every_kickoff = false;     // §2.1: 2.41+
  bool location_has_api_version = true;       // §2.5: <=2.42 echo /api/<n>/ in Location
  bool continuous_geojson = false;            // §2.3: 2.42+
  bool data_integrity_report_run = false;     // §1.5/§1.7: <=2.41 POST /api/dataIntegrity is a REPORT run
  bool progress_endpoint = false;             // §3.1/§3.3: 2.41+ GET /api/jobConfigurations/{uid}/progress
  bool revert = false;  // §3.1: POST .../revert; in the source from 2.41.1 (the reference says 2.41.4)
  bool revert_needs_stale_heartbeat = false;  // 2.42+: revert refuses a job seen alive within a minute
  // <=2.40 job rows (saved configurations): STOPPED for a cancelled run from 2.38.3/2.39.2/2.40,
  // FAILED before; lastExecuted is the run's start from then on, its end before.
  bool stopped_status = true;
  bool last_executed_is_start = true;
  bool integrity_start_time = false;  // 2.39.4+: data integrity results carry startTime
  AlreadyRunning already_running = AlreadyRunning::Queue;
  std::string kickoff_response_type;   // §4.3: "" (absent), "JobConfigurationWebMessageResponse", "JobConfiguration"
  std::string tracker_response_type;   // §2.6: "", "TrackerJobWebMessageResponse", "TrackerJob"
  std::string login_path;              // §6.3: where an anonymous browser request is sent
  int max_api_version = 0;             // §6.4: /api/28/ .. /api/<max>/
  std::vector<std::string> job_types;  // §3.4: the JobType enum of this version

  // The profile of a version from 2.38 to 2.43 (any patch). Throws UsageError otherwise,
  // saying which versions are emulated.
  static VersionProfile of(std::string_view version_text);

  static std::string trimmed(std::string_view text);

  static std::string supported_examples() { return "2.38, 2.39, 2.40.7, 2.40.8, 2.41.0, 2.41.4, 2.42.1, 2.43.1"; }

  bool knows_job_type(std::string_view type) const;

  // The canonical (upper-case) name of a job type the version knows, matched case-insensitively.
  std::string canonical_job_type(std::string_view type) const;

 private:
  static std::vector<std::string> job_types_of(const ServerVersion& v);
};

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/version_profile.ipp>
#endif

#endif  // DHIS2_TESTING_VERSION_PROFILE_HPP
