#ifndef DHIS2_TASK_REF_HPP
#define DHIS2_TASK_REF_HPP

// TaskRef names one DHIS2 background job: its job type (ANALYTICS_TABLE, DATAVALUE_IMPORT, ...;
// an open string, never an enum) and its job id. It also carries what a watch needs to know about
// the run it stands for, so that any Client, thread or process can watch it truthfully: the
// server time of the kick-off, and (in a watcher's resume token) where the watch stood.
//
// A resume token is one printable string ("d2w1." + base64url JSON + "." + CRC-32) holding the
// reference, the kick-off time and the position. It holds no credential and no server address.
//
// A plain value: copyable, comparable (by job type and id: two refs to the same job are equal
// whatever else they carry), hashable, safe to share between threads.

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace dhis2 {

// Where a watch stood after the last row it delivered. Read it for logs; the watcher fills it.
struct WatchPosition {
  std::string anchor;       // the key of the newest non-LOOP row delivered ("" before any)
  std::string anchor_time;  // that row's time, as sent
  bool anchor_completed = false;
  std::string loop;             // the key of a LOOP row delivered after the anchor, if any
  bool content_keys = false;    // rows are known by their content (ids are not unique there)
  std::uint64_t delivered = 0;  // rows delivered so far, over every process that held the watch
  bool stale_copy = false;      // DHIS2's one-shot copy of a dead job's last row was seen

  friend bool operator==(const WatchPosition& a, const WatchPosition& b) {
    return std::tie(a.anchor, a.anchor_time, a.anchor_completed, a.loop, a.content_keys, a.delivered, a.stale_copy) ==
           std::tie(b.anchor, b.anchor_time, b.anchor_completed, b.loop, b.content_keys, b.delivered, b.stale_copy);
  }
  friend bool operator!=(const WatchPosition& a, const WatchPosition& b) { return !(a == b); }
};

struct TaskRef {
  std::string job_type;  // e.g. "ANALYTICS_TABLE", exactly as the server named it
  std::string uid;       // the job id, e.g. "BFa3jDsbtdO"
  // The server's wall-clock time when this run was asked for (every client.jobs() start call
  // and execute() set it). Rows and job-row ends older than it belong to an earlier run of the
  // same job id. Empty for a bare "JOB_TYPE/uid".
  std::optional<LocalTime> kickoff = std::nullopt;
  // Where a watch of this run stood (from a watcher's resume token): a watcher resumes after it.
  std::optional<WatchPosition> position = std::nullopt;

  // Parses "JOB_TYPE/uid" (splitting on the last '/') or a resume token. Throws UsageError,
  // quoting the input and saying what is wrong: no '/', an empty half, characters no job type
  // (letters, digits, '_') or job id (letters, digits) holds, or a token that is truncated,
  // edited, damaged or of a version this library does not read.
  static TaskRef parse(std::string_view text);

  // "JOB_TYPE/uid"; parse(str()) gives back an equal TaskRef (without kick-off time or position).
  std::string str() const { return job_type + "/" + uid; }

  // One printable string holding the reference, the kick-off time and the position: what another
  // process needs to resume the watch (TaskWatcher(client, TaskRef::parse(token))). Safe to log,
  // print and pass on a command line.
  std::string resume_token() const;

  friend bool operator==(const TaskRef& a, const TaskRef& b) { return a.job_type == b.job_type && a.uid == b.uid; }
  friend bool operator!=(const TaskRef& a, const TaskRef& b) { return !(a == b); }
  friend bool operator<(const TaskRef& a, const TaskRef& b) {
    return std::tie(a.job_type, a.uid) < std::tie(b.job_type, b.uid);
  }

 private:
  static constexpr std::string_view kTokenTag = "d2w1.";

  static bool is_alnum(char c);
  static void check_parts(const TaskRef& ref, std::string_view text);
  static std::string checksum(std::string_view signed_part);
  static TaskRef from_token(std::string_view text);
  [[noreturn]] static void fail(std::string_view text, const char* why);
  [[noreturn]] static void token_fail(std::string_view text, const std::string& why);
};

}  // namespace dhis2

template <>
struct std::hash<dhis2::TaskRef> {
  std::size_t operator()(const dhis2::TaskRef& ref) const noexcept;
};

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/task_ref.ipp>
#endif

#endif  // DHIS2_TASK_REF_HPP
