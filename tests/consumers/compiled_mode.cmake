# consumer_compiled_mode: compiled mode with nothing but an include path, as a project that vendors
# the headers does it (docs/building.md "Compiled mode"):
#  - a file that includes <dhis2/dhis2.hpp> with DHIS2CPP_COMPILED includes neither <httplib.h>
#    nor any OpenSSL header (the compiler's dependency output says which files it read), in both
#    header forms;
#  - main.cpp and implementation.cpp, both with -DDHIS2CPP_COMPILED, build and run, in both forms;
#  - DHIS2CPP_IMPLEMENTATION without DHIS2CPP_COMPILED stops the build with a message that says
#    what to define.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")
consumer_reset()
consumer_pkg_config(_flags cpp-httplib nlohmann_json openssl)

foreach(_form IN ITEMS include single_include)
  set(_dir "${DHIS2CPP_ROOT}/${_form}")
  consumer_run("${_form}: dependencies" OUTPUT _deps
               COMMAND "${CXX_COMPILER}" -std=c++17 -DDHIS2CPP_COMPILED -I "${_dir}" ${_flags}
                       -M "${CONSUMERS_DIR}/main.cpp")
  string(REGEX MATCHALL "[^ \\\n]*(httplib\\.h|/openssl/)[^ \\\n]*" _leaks "${_deps}")
  if(_leaks)
    list(REMOVE_DUPLICATES _leaks)
    message(FATAL_ERROR "${_form}: a compiled-mode file of the user's includes ${_leaks}")
  endif()
  string(FIND "${_deps}" "nlohmann/json.hpp" _json)
  if(_json EQUAL -1)
    message(FATAL_ERROR "${_form}: the dependency output lists no <nlohmann/json.hpp>; is it a dependency list?\n${_deps}")
  endif()

  set(_defs -DDHIS2CPP_COMPILED)
  if(_form STREQUAL "single_include")
    list(APPEND _defs -DDHIS2CPP_CONSUMER_SINGLE)
  endif()
  consumer_compile_and_run("${_form}: compiled mode" "${CONSUMERS_DIR}/main.cpp" "${WORK_DIR}/consumer_${_form}"
                           "${CONSUMERS_DIR}/implementation.cpp" -I "${_dir}" ${_defs} ${_flags})
endforeach()

# The misuse: the implementation file without compiled mode.
execute_process(COMMAND "${CXX_COMPILER}" -std=c++17 -I "${DHIS2CPP_ROOT}/include" ${_flags} -fsyntax-only
                        "${CONSUMERS_DIR}/implementation.cpp"
                RESULT_VARIABLE _rc ERROR_VARIABLE _err OUTPUT_QUIET)
if(_rc EQUAL 0 OR NOT _err MATCHES "define DHIS2CPP_COMPILED in every file of the program")
  message(FATAL_ERROR "DHIS2CPP_IMPLEMENTATION without DHIS2CPP_COMPILED: expected a clear #error, got (${_rc}):\n${_err}")
endif()
