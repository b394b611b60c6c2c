# consumer_single_include: the single header with nothing but an include path and the dependencies'
# pkg-config flags.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")
consumer_reset()
consumer_pkg_config(_flags cpp-httplib nlohmann_json openssl)
consumer_compile_and_run(single_include "${CONSUMERS_DIR}/main.cpp" "${WORK_DIR}/consumer_single_include"
                         -I "${DHIS2CPP_ROOT}/single_include" -DDHIS2CPP_CONSUMER_SINGLE ${_flags})
