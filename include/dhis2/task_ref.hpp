#ifndef DHIS2_TASK_REF_HPP
#define DHIS2_TASK_REF_HPP

// TaskRef names one DHIS2 background job: its job type (ANALYTICS_TABLE, DATAVALUE_IMPORT, ...;
// an open string, never an enum) and its job id. It is what a kick-off returns and what a watch
// takes. A plain value: copyable, comparable, hashable, safe to share between threads.

#include <dhis2/errors.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>

namespace dhis2 {

struct TaskRef {
  std::string job_type;  // e.g. "ANALYTICS_TABLE", exactly as the server named it
  std::string uid;       // the job id, e.g. "BFa3jDsbtdO"

  // Parses "JOB_TYPE/uid", splitting on the last '/'. Throws UsageError, quoting the input and
  // the expected form, when there is no '/', a half is empty, or a half has characters that no
  // job type (letters, digits, '_') or job id (letters, digits) contains.
  static TaskRef parse(std::string_view text) {
    const auto slash = text.rfind('/');
    if (slash == std::string_view::npos) fail(text, "there is no '/'");
    const auto type = text.substr(0, slash);
    const auto id = text.substr(slash + 1);
    if (type.empty()) fail(text, "the job type before the '/' is empty");
    if (id.empty()) fail(text, "the job id after the '/' is empty");
    for (char c : type) {
      if (!is_alnum(c) && c != '_') fail(text, "the job type may hold only letters, digits and '_'");
    }
    for (char c : id) {
      if (!is_alnum(c)) fail(text, "the job id may hold only letters and digits");
    }
    return TaskRef{std::string(type), std::string(id)};
  }

  // "JOB_TYPE/uid"; parse(str()) gives back an equal TaskRef.
  std::string str() const { return job_type + "/" + uid; }

  friend bool operator==(const TaskRef& a, const TaskRef& b) {
    return a.job_type == b.job_type && a.uid == b.uid;
  }
  friend bool operator!=(const TaskRef& a, const TaskRef& b) { return !(a == b); }
  friend bool operator<(const TaskRef& a, const TaskRef& b) {
    return std::tie(a.job_type, a.uid) < std::tie(b.job_type, b.uid);
  }

 private:
  static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  [[noreturn]] static void fail(std::string_view text, const char* why) {
    throw UsageError("invalid task reference \"" + std::string(text) + "\": " + why +
                     "; expected JOB_TYPE/UID, e.g. ANALYTICS_TABLE/BFa3jDsbtdO");
  }
};

}  // namespace dhis2

template <>
struct std::hash<dhis2::TaskRef> {
  std::size_t operator()(const dhis2::TaskRef& ref) const noexcept {
    const std::size_t h = std::hash<std::string>{}(ref.job_type);
    return h ^ (std::hash<std::string>{}(ref.uid) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

#endif  // DHIS2_TASK_REF_HPP
