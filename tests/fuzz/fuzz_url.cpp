// Base URL parsing: try_parse_url and parse_url agree, a parsed URL's str() parses back to it,
// and the refusal of a URL with an '@' (credentials, perhaps) repeats nothing of it.

#include <dhis2/detail/url.hpp>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(fuzz::text(data, size));
  std::string problem;
  const auto tried = dhis2::detail::try_parse_url(input, "base URL", &problem);
  try {
    const auto url = dhis2::detail::parse_url(input);
    fuzz::require(tried && tried->str() == url.str(), "parse_url() and try_parse_url() agree", input);
    fuzz::require(url.scheme == "http" || url.scheme == "https", "the scheme is http or https", input);
    fuzz::require(url.port > 0 && url.port < 65536, "the port is in range", input);
    // A context path that itself ends in /api ("http://h/api/api") cannot round-trip: a trailing
    // /api is taken for the API root, as documented.
    const bool api_context = url.path.size() >= 4 && url.path.compare(url.path.size() - 4, 4, "/api") == 0;
    if (!api_context) {
      const auto again = dhis2::detail::parse_url(url.str());
      fuzz::require(again.str() == url.str(), "str() parses back to the URL", url.str());
    }
  } catch (const dhis2::UsageError& e) {
    fuzz::require(!tried && !problem.empty(), "try_parse_url() is empty, with a problem, where parse_url() throws",
                  input);
    // With an '@' in it the text may hold credentials: the refusal must then be the same whatever
    // the text, so that it can repeat none of it.
    if (input.find('@') != std::string::npos) {
      std::string fixed;
      (void)dhis2::detail::try_parse_url("http://user:password@host", "base URL", &fixed);
      fuzz::require(e.what() == fixed, "a refusal of a URL with '@' depends on the text", e.what());
    }
  }
  return 0;
}
