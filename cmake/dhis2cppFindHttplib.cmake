# Provides dhis2cpp::httplib, the one name dhis2cpp links cpp-httplib by, in our own build and in the
# installed package config alike. When cpp-httplib is not found the target is not created and
# DHIS2CPP_HTTPLIB_NOT_FOUND_MESSAGE says why; the caller decides how to fail.
#
# cpp-httplib comes either as upstream's CMake package (httplib::httplib) or, as Debian ships it, as a
# compiled library with only a pkg-config file. The library's ABI depends on the CPPHTTPLIB_*_SUPPORT
# macros it was built with, so they must reach every consumer from the found package's own usage
# requirements (for pkg-config: its Cflags); never define them by hand.

if(NOT TARGET dhis2cpp::httplib)
  find_package(httplib CONFIG QUIET)
  if(TARGET httplib::httplib)
    set(_dhis2cpp_httplib_target httplib::httplib)
  else()
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(DHIS2CPP_HTTPLIB QUIET IMPORTED_TARGET GLOBAL cpp-httplib)
    endif()
    if(TARGET PkgConfig::DHIS2CPP_HTTPLIB)
      set(_dhis2cpp_httplib_target PkgConfig::DHIS2CPP_HTTPLIB)
    endif()
  endif()

  if(_dhis2cpp_httplib_target)
    add_library(dhis2cpp::httplib INTERFACE IMPORTED GLOBAL)
    target_link_libraries(dhis2cpp::httplib INTERFACE ${_dhis2cpp_httplib_target})
  else()
    string(CONCAT DHIS2CPP_HTTPLIB_NOT_FOUND_MESSAGE
        "dhis2cpp needs cpp-httplib: found neither its CMake package (httplib::httplib) nor its "
        "pkg-config module cpp-httplib (on Debian: apt-get install libcpp-httplib-dev pkg-config)")
  endif()
  unset(_dhis2cpp_httplib_target)
endif()
