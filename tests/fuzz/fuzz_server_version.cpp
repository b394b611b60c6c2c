// ServerVersion::parse and try_parse: they agree, and a parsed version's str() parses back to it.

#include <dhis2/server_version.hpp>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  const auto tried = dhis2::ServerVersion::try_parse(input);
  try {
    const auto parsed = dhis2::ServerVersion::parse(input);
    fuzz::require(tried && *tried == parsed, "parse() and try_parse() agree", input);
    const auto again = dhis2::ServerVersion::parse(parsed.str());
    fuzz::require(again == parsed, "str() parses back to the version", parsed.str());
  } catch (const dhis2::UnsupportedVersionError&) {
    fuzz::require(!tried, "try_parse() is empty where parse() throws", input);
  }
  return 0;
}
