#ifndef DHIS2CPP_TESTS_FUZZ_FUZZ_HPP
#define DHIS2CPP_TESTS_FUZZ_FUZZ_HPP

// What every libFuzzer target shares. A target feeds its input to one decoder of the library and
// checks what must hold whatever the input: the decoder returns, or throws the typed error it
// documents (dhis2::Error), and what it returns survives a round trip. Anything else ends the
// run: an exception of another type escapes (libFuzzer reports it as a crash), and a broken
// property calls violated(), which aborts with the input that broke it saved by libFuzzer.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void violated(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void require(bool holds, const char* what, std::string_view detail = {}) {
  if (!holds) violated(what, detail);
}

}  // namespace fuzz

#endif  // DHIS2CPP_TESTS_FUZZ_FUZZ_HPP
