# Helpers for the consumer drivers (run with cmake -P). Every step fails loudly with its output.

if(CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
  set(CONSUMER_WARNINGS -Wall -Wextra -Wpedantic -Werror)
else()
  set(CONSUMER_WARNINGS)
endif()
separate_arguments(CONSUMER_CXX_FLAGS UNIX_COMMAND "${CXX_FLAGS} ${CXX_FLAGS_CONFIG}")
separate_arguments(CONSUMER_LINKER_FLAGS UNIX_COMMAND "${EXE_LINKER_FLAGS}")

# consumer_run(<step> [OUTPUT <var>] [WORKING_DIRECTORY <dir>] COMMAND <args...>)
function(consumer_run step)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT;WORKING_DIRECTORY" "COMMAND")
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  list(JOIN arg_COMMAND " " _shown)
  message(STATUS "[${step}] ${_shown}")
  execute_process(COMMAND ${arg_COMMAND}
                  WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}"
                  RESULT_VARIABLE _rc
                  OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _err)
  if(NOT _rc STREQUAL "0")
    message(FATAL_ERROR "consumer step '${step}' failed (${_rc}):\n  ${_shown}\n"
                        "--- stdout ---\n${_out}\n--- stderr ---\n${_err}")
  endif()
  if(arg_OUTPUT)
    string(STRIP "${_out}" _out)
    set(${arg_OUTPUT} "${_out}" PARENT_SCOPE)
  endif()
endfunction()

# Starts from an empty work directory so the test can be rerun.
function(consumer_reset)
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
endfunction()

# Configures, builds and tests (ctest runs its programs) the CMake project in <source_dir>.
function(consumer_cmake_project name source_dir)
  set(_build "${WORK_DIR}/${name}-build")
  set(_configure "${CMAKE_COMMAND}" -S "${source_dir}" -B "${_build}" -G "${GENERATOR}"
      "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" ${ARGN})
  if(MAKE_PROGRAM)
    list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(BUILD_TYPE AND DEFINED CXX_FLAGS_CONFIG)
    string(TOUPPER "${BUILD_TYPE}" _config)
    list(APPEND _configure "-DCMAKE_CXX_FLAGS_${_config}=${CXX_FLAGS_CONFIG}")
  endif()
  set(_build_cmd "${CMAKE_COMMAND}" --build "${_build}")
  set(_ctest "${CMAKE_CTEST_COMMAND}" --test-dir "${_build}" --output-on-failure --no-tests=error)
  if(BUILD_TYPE)
    list(APPEND _build_cmd --config "${BUILD_TYPE}")
    list(APPEND _ctest -C "${BUILD_TYPE}")
  endif()
  consumer_run("${name}: configure" COMMAND ${_configure})
  consumer_run("${name}: build" COMMAND ${_build_cmd})
  consumer_run("${name}: run" COMMAND ${_ctest})
endfunction()

# Compiles <source> into <exe> with the given extra arguments (include dirs, pkg-config flags), then runs it.
function(consumer_compile_and_run name source exe)
  consumer_run("${name}: compile" COMMAND "${CXX_COMPILER}" ${CONSUMER_CXX_FLAGS} -std=c++17
                                          ${CONSUMER_WARNINGS} "${source}" -o "${exe}" ${ARGN}
                                          ${CONSUMER_LINKER_FLAGS})
  consumer_run("${name}: run" OUTPUT _out COMMAND "${exe}")
  message(STATUS "[${name}: run] ${_out}")
endfunction()

function(consumer_pkg_config out_var)
  if(NOT PKG_CONFIG)
    find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
  endif()
  consumer_run("pkg-config ${ARGN}" OUTPUT _flags COMMAND "${PKG_CONFIG}" --cflags --libs ${ARGN})
  separate_arguments(_flags UNIX_COMMAND "${_flags}")
  set(${out_var} ${_flags} PARENT_SCOPE)
endfunction()
