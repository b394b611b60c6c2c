// The one translation unit of a compiled-mode program that holds dhis2-cpp's definitions; the
// consumer tests compile it with -DDHIS2CPP_COMPILED, like every other file of the program.
#define DHIS2CPP_IMPLEMENTATION
#include <dhis2/dhis2.hpp>
