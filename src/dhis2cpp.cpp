// The definitions of dhis2-cpp's compiled mode (docs/building.md "Compiled mode"). The CMake target
// dhis2cpp::compiled and Meson's `compiled` option build this file; a project that vendors the
// single header compiles one file like it of its own:
//
//   #define DHIS2CPP_COMPILED        (or -DDHIS2CPP_COMPILED for every file of the project)
//   #define DHIS2CPP_IMPLEMENTATION
//   #include <dhis2/dhis2.hpp>
#ifndef DHIS2CPP_COMPILED
#define DHIS2CPP_COMPILED
#endif
#define DHIS2CPP_IMPLEMENTATION
#include <dhis2/dhis2.hpp>
