// TaskRef::parse, both forms ("JOB_TYPE/uid" and "d2w1." resume tokens): a UsageError or a
// reference whose own forms parse back to it.

#include <dhis2/task_ref.hpp>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  dhis2::TaskRef ref;
  try {
    ref = dhis2::TaskRef::parse(input);
  } catch (const dhis2::UsageError&) {
    return 0;
  }
  fuzz::require(!ref.job_type.empty() && !ref.uid.empty(), "a parsed reference has a type and a uid", input);
  const auto plain = dhis2::TaskRef::parse(ref.str());
  fuzz::require(plain == ref, "str() parses back to the reference", input);
  const std::string token = ref.resume_token();
  const auto resumed = dhis2::TaskRef::parse(token);
  fuzz::require(resumed == ref, "resume_token() parses back to the reference", token);
  fuzz::require(resumed.position == ref.position, "resume_token() keeps the position", token);
  fuzz::require(resumed.kickoff.has_value() == ref.kickoff.has_value(), "resume_token() keeps the kick-off", token);
  fuzz::require(resumed.resume_token() == token, "a resume token is stable", token);
  return 0;
}
