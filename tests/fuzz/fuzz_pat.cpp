// The personal access token check: pat_problem() and TokenAuth agree, and TokenAuth's refusal
// never repeats the token.

#include <dhis2/auth.hpp>
#include <dhis2/personal_access_token.hpp>

#include "fuzz.hpp"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string token(fuzz::text(data, size));
  const auto problem = dhis2::pat_problem(token);
  try {
    const dhis2::TokenAuth auth(token);
    fuzz::require(!problem, "TokenAuth takes only a token pat_problem() accepts", token);
    fuzz::require(dhis2::pat_format(token).has_value(), "an accepted token has a format", token);
  } catch (const dhis2::UsageError& e) {
    fuzz::require(problem.has_value(), "TokenAuth refuses only a token pat_problem() refuses", token);
    // A token may be a piece of the message's own text (the fuzzer copies it from the
    // comparisons it sees): check the tokens shaped as real ones, a prefix and then only letters,
    // digits and '_', which no stretch of a message is ("d2p_" is always followed by a quote).
    const bool prefixed = token.rfind("d2p_", 0) == 0 || token.rfind("d2pat_", 0) == 0;
    const bool plain = std::all_of(token.begin(), token.end(),
                                   [](char c) { return dhis2::detail::is_ascii_alnum(c) || c == '_'; });
    if (prefixed && plain && token.size() >= 10) {
      fuzz::require(std::string(e.what()).find(token) == std::string::npos, "the refusal repeats the token", e.what());
    }
  }
  // A token made from the input's letters and digits passes the check.
  std::string secret;
  for (const char c : token) {
    if (dhis2::detail::is_ascii_alnum(c)) secret += c;
  }
  for (const auto format : {dhis2::PatFormat::V1, dhis2::PatFormat::V2}) {
    if (const auto made = dhis2::make_pat(format, secret)) {
      fuzz::require(!dhis2::pat_problem(*made), "make_pat() makes a token pat_problem() accepts", *made);
    }
  }
  return 0;
}
