#ifndef DHIS2_IMPL_TASK_TYPES_IPP
#define DHIS2_IMPL_TASK_TYPES_IPP

// Definitions of <dhis2/task_types.hpp>.

#include <dhis2/task_types.hpp>

namespace dhis2 {

DHIS2CPP_INLINE const char* to_string(TaskOutcome outcome) noexcept {
  switch (outcome) {
    case TaskOutcome::Succeeded: return "succeeded";
    case TaskOutcome::Failed: return "failed";
    case TaskOutcome::Cancelled: return "cancelled";
    case TaskOutcome::Unknown: break;
  }
  return "unknown";
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_TASK_TYPES_IPP
