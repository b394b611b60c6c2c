// The WebMessage decoder and the conflict rows of an import report: a DecodeError (or another
// dhis2::Error) or a message, never another exception.

#include <dhis2/web_message.hpp>

#include "fuzz.hpp"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  const auto json = nlohmann::json::parse(input.begin(), input.end(), nullptr, false);
  if (json.is_discarded()) return 0;
  (void)dhis2::WebMessage::looks_like(json);
  try {
    const auto message = dhis2::WebMessage::from_json(json);
    (void)message.conflict_rows();
  } catch (const dhis2::Error&) {
  }
  try {
    (void)dhis2::conflict_rows(json);
  } catch (const dhis2::Error&) {
  }
  return 0;
}
