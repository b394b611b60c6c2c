# consumer_add_subdirectory: a project that adds the dhis2cpp source tree with add_subdirectory.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")
consumer_reset()
consumer_cmake_project(add_subdirectory "${CONSUMERS_DIR}/add_subdirectory" "-DDHIS2CPP_ROOT=${DHIS2CPP_ROOT}")
