# consumer_find_package: install this build into a scratch prefix, then use it through
# find_package(dhis2cpp) (both targets) and through its dhis2cpp.pc.
include("${CMAKE_CURRENT_LIST_DIR}/common.cmake")
consumer_reset()

set(_prefix "${WORK_DIR}/prefix")
set(_install "${CMAKE_COMMAND}" --install "${DHIS2CPP_BUILD_DIR}" --prefix "${_prefix}")
if(BUILD_TYPE)
  list(APPEND _install --config "${BUILD_TYPE}")
endif()
consumer_run(install COMMAND ${_install})

consumer_cmake_project(find_package "${CONSUMERS_DIR}/find_package" "-DCMAKE_PREFIX_PATH=${_prefix}")

set(ENV{PKG_CONFIG_PATH} "${_prefix}/share/pkgconfig")
consumer_pkg_config(_flags dhis2cpp)
consumer_compile_and_run(pkg-config "${CONSUMERS_DIR}/main.cpp" "${WORK_DIR}/consumer_pkg_config" ${_flags})
