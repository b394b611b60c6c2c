// The definitions of the emulator (<dhis2/testing.hpp>) in compiled mode: the CMake target
// dhis2cpp::testing builds this file. It links dhis2cpp::compiled, which holds the library's own.
#ifndef DHIS2CPP_COMPILED
#define DHIS2CPP_COMPILED
#endif
#define DHIS2CPP_TESTING_IMPLEMENTATION
#include <dhis2/testing.hpp>
