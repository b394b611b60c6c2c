#ifndef DHIS2_VERSION_HPP
#define DHIS2_VERSION_HPP

// The one place the library version lives. CMake and Meson read it from here;
// tests/unit-version.cpp checks every other place that shows it.
#define DHIS2CPP_VERSION_MAJOR 0
#define DHIS2CPP_VERSION_MINOR 1
#define DHIS2CPP_VERSION_PATCH 0
#define DHIS2CPP_VERSION_STRING "0.1.0"

#endif  // DHIS2_VERSION_HPP
