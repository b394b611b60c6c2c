#!/usr/bin/env bash
# The developer entry point.
#
#   tools/dev.sh [--ci] deps    install the Debian packages the build needs (only what is missing)
#   tools/dev.sh [--ci] demo    build into build/dev, then `dhis2 demo`: the emulator in-process and an
#                               analytics run followed live on it (arguments go to `dhis2 demo`)
#   tools/dev.sh check          the quick loop: one clang++ build in compiled mode (build/check, no
#                               header checks or consumers), then the unit tests (ctest -L unit);
#                               DHIS2CPP_CHECK_CXX=g++ picks another compiler
#   tools/dev.sh [--ci] test    everything CI checks: the format check, g++ build (modular headers,
#                               compiled mode) + ctest (with the consumer projects), Meson clang++
#                               build (header-only) + tests + subproject consumer, clang++ ASan/UBSan build
#                               (single header, compiled mode, the header checks) + ctest (with the
#                               amalgamation check; the TSan tree builds alongside), then the
#                               TSan threaded tests
#   tools/dev.sh format         reformat every C++ file of include/ src/ tests/ examples/ tools/
#   tools/dev.sh format-check   list the files clang-format would change; fails if there are any
#
# --ci (or CI=true in the environment) always runs `apt-get update` and `apt-get install -y`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The Debian packages the build needs; the one list. libclang-rt-dev holds clang's sanitizer
# runtimes, which clang only recommends.
# lld links every build: about a fifth of the CPU time of GNU ld per test program.
PACKAGES=(cmake ninja-build g++ clang libclang-rt-dev lld clang-format pkg-config meson python3 openssl
          libcpp-httplib-dev nlohmann-json3-dev catch2 libssl-dev libcli11-dev valgrind)


JOBS="${DHIS2CPP_JOBS:-2}"
LINKER_FLAGS="-fuse-ld=lld"
# The quick loop's compiler (tools/dev.sh check).
CHECK_CXX="${DHIS2CPP_CHECK_CXX:-clang++}"
SANITIZE_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# CI builds need no debugger: line tables are enough for sanitizer reports, and full debug info
# costs a third of the compile time of a test.
SANITIZER_DEBUG_FLAGS="-O0 -gline-tables-only"
# The unit tests Meson builds and runs, header-only against include/: the two that drive the
# client, the emulator and the watcher through a whole request and a whole watch. The other unit
# tests check pure functions whose header-only definitions are the same text as the compiled ones,
# run in three other builds; what header-only mode alone can break (a definition that is not
# inline, an include that only the definitions need) the header checks catch, by compiling every
# header alone and linking the header-only files into one program.
MESON_UNIT_TESTS="unit-client_requests,unit-task_watcher_outcomes"
# What `test` does with files clang-format would change: "enforce" fails the step, "report"
# counts them and goes on. The code base is formatted: fix a failure with `tools/dev.sh format`.
FORMAT_CHECK=enforce
CLANG_FORMAT="${CLANG_FORMAT:-clang-format}"
CI_MODE=false
[[ "${CI:-}" == "true" ]] && CI_MODE=true

STEP_TIMES=()
CURRENT_STEP=""

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\ndev.sh: FAILED: %s\n' "$*" >&2; exit 1; }

CPU_FILE=$(mktemp)

# A failing command anywhere ends the script (set -e); this names the step it failed in.
on_exit() {
  local rc=$?
  rm -f "$CPU_FILE"
  if ((rc != 0)) && [[ -n "$CURRENT_STEP" ]]; then
    printf '\ndev.sh: FAILED at step "%s" (exit %d)\n' "$CURRENT_STEP" "$rc" >&2
  fi
}
trap on_exit EXIT

# step <name> <command...>: runs one step and times it. Not called in an `if`/`||` context, so
# set -e stays in force inside the step's functions. The step times list each step's wall time and
# the CPU time (user + sys) of the processes it ran, read from the `times` builtin. `times` runs in
# this shell, not in a command substitution: that is a new process, whose children are its own.
step() {
  CURRENT_STEP="$1"
  shift
  say "$CURRENT_STEP"
  local start=$SECONDS cpu_before
  times >"$CPU_FILE"
  cpu_before=$(children_cpu_seconds)
  "$@"
  times >"$CPU_FILE"
  STEP_TIMES+=("$(printf '%5ds wall %5ds cpu  %s' $((SECONDS - start)) $(($(children_cpu_seconds) - cpu_before)) "$CURRENT_STEP")")
  CURRENT_STEP=""
}

# The children's user + sys seconds from the second line of `times` in $CPU_FILE ("1m2.5s 0m3.1s").
children_cpu_seconds() {
  awk 'NR == 2 {
    total = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); total += p[1] * 60 + p[2] }
    printf "%d\n", total
  }' "$CPU_FILE"
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

cmd_deps() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "notice: not a Debian-based system; make sure the equivalents of these are installed:"
    echo "  ${PACKAGES[*]}"
    return 0
  fi
  local missing=()
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] ||
      missing+=("$pkg")
  done
  if $CI_MODE; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${PACKAGES[@]}"
  elif ((${#missing[@]})); then
    echo "installing missing packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    echo "all packages present: ${PACKAGES[*]}"
  fi
}

# cmake_build <build dir> <cmake configure args...>: configures (incrementally) and builds.
cmake_build() {
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja "-DCMAKE_EXE_LINKER_FLAGS=$LINKER_FLAGS" "-DCMAKE_SHARED_LINKER_FLAGS=$LINKER_FLAGS" "$@"
  cmake --build "$dir" -j "$JOBS"
}

# The TSan build compiles only the tests labelled "threaded" (tests/CMakeLists.txt: the unit tests
# that run threads most, and the tests that run programs against dhis2-emulator) and runs them.
tsan_build() {
  cmake_build build/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DDHIS2CPP_WERROR=ON \
    -DDHIS2CPP_TEST_SINGLE_HEADER=OFF -DDHIS2CPP_TEST_COMPILED=ON -DDHIS2CPP_TEST_THREADED_ONLY=ON \
    "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" "-DCMAKE_CXX_FLAGS_DEBUG=$SANITIZER_DEBUG_FLAGS"
}

# The ASan+UBSan tree: the unit tests against the single header, the header checks (every header
# alone, both forms, both modes), the fuzz targets, the examples and tools.
asan_build() {
  cmake_build build/asan \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DDHIS2CPP_WERROR=ON -DDHIS2CPP_TEST_MODULAR=OFF \
    -DDHIS2CPP_TEST_COMPILED=ON -DDHIS2CPP_TEST_HEADERS=ON -DDHIS2CPP_TEST_CONSUMERS=OFF -DDHIS2CPP_INSTALL=OFF \
    -DDHIS2CPP_BUILD_BENCH=OFF -DDHIS2CPP_BUILD_FUZZ=ON \
    "-DCMAKE_CXX_FLAGS=$SANITIZE_FLAGS" "-DCMAKE_CXX_FLAGS_DEBUG=$SANITIZER_DEBUG_FLAGS"
}

# The Meson steps at the normal priority, then asan_build at nice 10 (its compilers inherit it),
# for running alongside the g++ ctest.
meson_then_asan_build() {
  meson_steps
  say "the clang++ ASan+UBSan build (build/asan), nice 10"
  renice -n 10 -p "$BASHPID" >/dev/null
  asan_build
}

# asan_ctest <ctest args...>: the ASan tree's tests, halting on the first error either finds.
asan_ctest() {
  ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    ctest --test-dir build/asan --output-on-failure --no-tests=error -j "$JOBS" "$@"
}

# The fuzz targets (label fuzz, built in the ASan tree) at nice 10, for running alongside the
# TSan ctest, which leaves about a third of the 2 cores idle.
fuzz_niced() {
  renice -n 10 -p "$BASHPID" >/dev/null
  asan_ctest -L fuzz
}

# tsan_build at nice 10 (its compilers inherit it), for running alongside a ctest.
tsan_build_niced() {
  renice -n 10 -p "$BASHPID" >/dev/null
  tsan_build
}

cmake_test() {
  ctest --test-dir "$1" --output-on-failure --no-tests=error -j "$JOBS"
}


meson_build_and_test() {
  local dir=build/meson
  if [[ -f "$dir/meson-private/coredata.dat" ]]; then
    # --reconfigure also picks up new tests/unit-*.cpp, which Meson cannot glob.
    meson setup --reconfigure "$dir"
  else
    # The single header's tests are built by the ASan step. clang++: a header-only test costs it
    # half to three quarters of g++'s CPU (unit-task_watcher_outcomes 20 s against 39 s); g++
    # compiles every header-only header alone in the header checks, and these tests in compiled mode.
    CXX=clang++ CXX_LD=lld meson setup "$dir" --werror --buildtype=plain -Dsingle_header_tests=false "-Dunit_tests=$MESON_UNIT_TESTS"
  fi
  meson compile -C "$dir" -j "$JOBS"
  local count
  count=$(meson introspect "$dir" --tests | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
  ((count > 0)) || { echo "meson: no tests are defined" >&2; return 1; }
  meson test -C "$dir" --print-errorlogs --num-processes "$JOBS"
}

# Builds tests/consumers/meson_subproject with subprojects/dhis2cpp linked to this repository, in a
# scratch directory so the repository itself never holds the link.
meson_steps() {
  say "meson: setup + compile + test (build/meson)"
  meson_build_and_test
  say "meson: subproject consumer (build/meson-consumer)"
  meson_subproject_consumer
}

# alongside BACKGROUND -- FOREGROUND...: runs the function BACKGROUND (its output to a log, shown
# once it ends) while FOREGROUND runs, and fails if either fails. The g++ ctest leaves about a third
# of the 2 cores idle (its tests wait on short real intervals and the consumer projects build one
# file at a time); the Meson builds fill it.
alongside() {
  local background="$1" log rc_fg=0 rc_bg=0 pid
  shift 2
  log=$(mktemp)
  ("$background") >"$log" 2>&1 &
  pid=$!
  "$@" || rc_fg=$?
  wait "$pid" || rc_bg=$?
  say "output of $background (ran alongside)"
  cat "$log"
  rm -f "$log"
  ((rc_bg == 0)) || echo "dev.sh: $background failed (exit $rc_bg)" >&2
  ((rc_fg == 0)) || echo "dev.sh: $* failed (exit $rc_fg)" >&2
  ((rc_fg == 0 && rc_bg == 0))
}

meson_subproject_consumer() {
  local work="$ROOT/build/meson-consumer"
  rm -rf "$work"
  mkdir -p "$work/src/subprojects"
  cp tests/consumers/meson_subproject/meson.build tests/consumers/main.cpp "$work/src/"
  ln -s "$ROOT" "$work/src/subprojects/dhis2cpp"
  CXX=g++ CXX_LD=lld meson setup "$work/build" "$work/src" --werror
  meson compile -C "$work/build" -j "$JOBS"
  # As a subproject dhis2cpp must build and register nothing of its own but the compiled-mode
  # library that the consumer asks for.
  meson introspect "$work/build" --targets --tests | python3 -c '
import json, sys
info = json.load(sys.stdin)
extra = [t["name"] for t in info["targets"] if t["subproject"] and t["name"] != "dhis2cpp"]
tests = sorted(t["name"] for t in info["tests"])
if extra or tests != ["consumer_compiled", "consumer_modular", "consumer_single"]:
    sys.exit(f"dhis2cpp as a Meson subproject is not quiet: targets {extra}, tests {tests}")
'
  meson test -C "$work/build" --print-errorlogs
}

# The C++ files clang-format owns; single_include/ is generated from them and left alone.
format_files() {
  find include src tests examples tools -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.ipp' \) | LC_ALL=C sort
}

cmd_format() {
  command -v "$CLANG_FORMAT" >/dev/null || die "$CLANG_FORMAT not found (tools/dev.sh deps installs clang-format)"
  format_files | xargs -P "$JOBS" -n 16 "$CLANG_FORMAT" -i --style=file
  echo "formatted $(format_files | wc -l) files; python3 tools/amalgamate.py regenerates single_include/"
}

# format_check <enforce|report>: names every file clang-format would change and how many of its
# lines; in enforce mode any such file fails the check. One clang-format run per 32 files finds
# them (about a second of CPU for the whole tree; one at a time, so that their warnings do not
# interleave); only those files are diffed.
format_check() {
  local mode="$1"
  command -v "$CLANG_FORMAT" >/dev/null || die "$CLANG_FORMAT not found (tools/dev.sh deps installs clang-format)"
  local differing
  differing=$(format_files | xargs -n 32 "$CLANG_FORMAT" --style=file --dry-run --ferror-limit=1 2>&1 |
    sed -n 's/^\(.*\):[0-9]*:[0-9]*: warning: .*\[-Wclang-format-violations\]$/\1/p' | LC_ALL=C sort -u)
  if [[ -z "$differing" ]]; then
    echo "format: all $(format_files | wc -l) files match .clang-format"
    return 0
  fi
  local report f files lines
  report=$(while IFS= read -r f; do
    printf '%5d %s\n' "$("$CLANG_FORMAT" --style=file "$f" | diff "$f" - | grep -c '^<' || true)" "$f"
  done <<<"$differing")
  files=$(wc -l <<<"$report")
  lines=$(awk '{ n += $1 } END { print n }' <<<"$report")
  if [[ "$mode" == "enforce" ]]; then
    printf '%s\n' "$report"
    echo "format: $files file(s), $lines line(s) differ from .clang-format; run tools/dev.sh format" >&2
    return 1
  fi
  echo "format (report only: FORMAT_CHECK=$FORMAT_CHECK in tools/dev.sh): $files of $(format_files | wc -l) files, $lines lines would change"
}

cmd_demo() {
  step "deps" cmd_deps
  step "configure + build (build/dev)" cmake_build build/dev -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDHIS2CPP_BUILD_TESTS=OFF -DDHIS2CPP_BUILD_EXAMPLES=ON -DDHIS2CPP_BUILD_TOOLS=ON -DDHIS2CPP_WERROR=OFF
  # The built-in emulator in-process (DHIS2 2.42.1, real time), an analytics run started on it and
  # followed live to its outcome.
  say "demo: build/dev/tools/cli/dhis2 demo $*"
  build/dev/tools/cli/dhis2 demo "$@"
}

cmd_check() {
  local start=$SECONDS
  step "deps" cmd_deps
  # clang++ compiles a unit test with a third less CPU than g++ at -O0 (measured: 4.9 s against
  # 8.0 s, 3.3 s against 4.8 s); `test` builds everything with g++ as well.
  step "$CHECK_CXX, compiled mode: configure + build (build/check)" cmake_build build/check \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 "-DCMAKE_CXX_COMPILER=$CHECK_CXX" -DDHIS2CPP_WERROR=ON \
    -DDHIS2CPP_TEST_SINGLE_HEADER=OFF -DDHIS2CPP_TEST_COMPILED=ON -DDHIS2CPP_TEST_HEADERS=OFF \
    -DDHIS2CPP_TEST_CONSUMERS=OFF
  step "unit tests" ctest --test-dir build/check --output-on-failure --no-tests=error -j "$JOBS" -L unit
  say "step times"
  printf '%s\n' "${STEP_TIMES[@]}"
  echo
  echo "dev.sh check: unit tests passed in $((SECONDS - start))s (tools/dev.sh test runs everything CI runs)"
}

cmd_test() {
  local start=$SECONDS
  step "deps" cmd_deps
  step "format check ($FORMAT_CHECK)" format_check "$FORMAT_CHECK"
  # Each unit test is built and run once per configuration: include/ in compiled mode with g++
  # here, include/ header-only with Meson, single_include/ in compiled mode with clang++ under
  # ASan+UBSan, the threaded ones again under TSan. The ASan build also compiles every header
  # alone, in both forms and both modes, links the header-only ones into one program, and runs the
  # amalgamation check: clang++ does the header checks with 234 s of CPU against g++'s 300 s, and
  # g++ still compiles every definition (src/dhis2cpp.cpp, src/dhis2cpp_testing.cpp) with -Werror.
  step "g++ -O0, modular headers, compiled mode: configure + build (build/gcc)" cmake_build build/gcc \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCMAKE_CXX_COMPILER=g++ -DDHIS2CPP_WERROR=ON \
    -DDHIS2CPP_TEST_SINGLE_HEADER=OFF -DDHIS2CPP_TEST_COMPILED=ON -DDHIS2CPP_TEST_HEADERS=OFF
  # The ASan tree builds alongside the g++ ctest, after the Meson steps, at nice 10: the ctest
  # leaves part of the 2 cores idle (its tests wait on short real intervals, the consumer projects
  # build one file at a time); the build fills that time without taking the cores from a test
  # that runs, and goes on at full speed once the tests are done.
  # The consumer projects are build-system tests: the g++ step runs them.
  step "g++ -O0, modular headers, compiled mode: ctest; alongside: meson (build/meson, build/meson-consumer), then the clang++ ASan+UBSan build (build/asan, nice 10)" \
    alongside meson_then_asan_build -- cmake_test build/gcc
  # The TSan tree builds alongside the ASan ctest, at nice 10, for the same reason.
  step "clang++ ASan+UBSan, single header, compiled mode: ctest but the fuzz targets; TSan build alongside (build/tsan, nice 10)" \
    alongside tsan_build_niced -- asan_ctest -LE "cli_slow|fuzz"
  # Only the tests that run threads (the client, the emulator, watches); the rest add nothing
  # here. The fuzz targets (ASan+UBSan, each DHIS2CPP_FUZZ_SECONDS on one core) run alongside at
  # nice 10, on the core the TSan tests leave idle.
  step "clang++ TSan: ctest (threaded tests); the fuzz targets alongside (build/asan, nice 10)" \
    alongside fuzz_niced -- env \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tools/tsan.supp" \
    ctest --test-dir build/tsan --output-on-failure --no-tests=error -j "$JOBS" -L threaded

  say "step times"
  printf '%s\n' "${STEP_TIMES[@]}"
  echo
  echo "dev.sh test: ALL CHECKS PASSED in $((SECONDS - start))s"
}

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

[[ "${1:-}" == "--ci" ]] && { CI_MODE=true; shift; }
case "${1:-}" in
  deps) cmd_deps ;;
  demo) shift; cmd_demo "$@" ;;
  check) cmd_check ;;
  test) cmd_test ;;
  format) cmd_format ;;
  format-check) format_check enforce ;;
  *) usage ;;
esac
