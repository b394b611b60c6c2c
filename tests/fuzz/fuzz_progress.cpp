// The structured progress decoder (/api/jobConfigurations/{uid}/progress): a DecodeError or a
// JobProgress that survives to_json and from_json unchanged.

#include <dhis2/job_progress.hpp>

#include "fuzz.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  const auto json = nlohmann::json::parse(input.begin(), input.end(), nullptr, false);
  if (json.is_discarded()) return 0;
  dhis2::JobProgress progress;
  try {
    progress = dhis2::JobProgress::from_json(json);
  } catch (const dhis2::Error&) {
    return 0;
  }
  // Errors come back grouped by object id and code, so the first round trip may regroup them;
  // from then on nothing changes.
  const nlohmann::json out = progress.to_json();
  const auto again = dhis2::JobProgress::from_json(out);
  fuzz::require(again.to_json() == out, "to_json() of the decoded to_json() is the same", out.dump());
  fuzz::require(dhis2::JobProgress::from_json(again.to_json()) == again, "a second round trip changes nothing",
                out.dump());
  return 0;
}
