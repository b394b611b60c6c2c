#ifndef DHIS2_DETAIL_CONFIG_HPP
#define DHIS2_DETAIL_CONFIG_HPP

// How the library's definitions are compiled (docs/building.md "Compiled mode").
//
//   nothing defined (the default)     header-only: each header includes its definitions
//                                      (<dhis2/impl/*.ipp>) as inline functions.
//   DHIS2CPP_COMPILED                 the headers only declare; the program links the one
//                                      translation unit that holds the definitions (the CMake
//                                      target dhis2cpp::compiled, or a file of your own, below).
//   DHIS2CPP_COMPILED and             this translation unit holds the definitions, as ordinary
//   DHIS2CPP_IMPLEMENTATION           (non-inline) functions. Exactly one per program.
//
// Define DHIS2CPP_COMPILED for every file of a program or for none: a file that includes the
// headers without it defines inline copies of what the implementation file defines.

#if (defined(DHIS2CPP_IMPLEMENTATION) || defined(DHIS2CPP_TESTING_IMPLEMENTATION)) && !defined(DHIS2CPP_COMPILED)
#error \
    "dhis2-cpp: DHIS2CPP_IMPLEMENTATION and DHIS2CPP_TESTING_IMPLEMENTATION belong to compiled mode; define DHIS2CPP_COMPILED in every file of the program, and each of them in exactly one file"
#endif

// Marks a function defined in an impl/*.ipp file: inline when every translation unit holds a copy.
#if defined(DHIS2CPP_COMPILED)
#define DHIS2CPP_INLINE
#else
#define DHIS2CPP_INLINE inline
#endif

// 1 when this translation unit includes the definitions (header-only mode, or the one
// implementation file of compiled mode).
#if !defined(DHIS2CPP_COMPILED) || defined(DHIS2CPP_IMPLEMENTATION)
#define DHIS2CPP_WITH_DEFINITIONS 1
#else
#define DHIS2CPP_WITH_DEFINITIONS 0
#endif

// The same for the emulator's headers (<dhis2/testing.hpp>), whose definitions have their own
// implementation file in compiled mode (CMake dhis2cpp::testing): DHIS2CPP_COMPILED and
// DHIS2CPP_TESTING_IMPLEMENTATION.
#if !defined(DHIS2CPP_COMPILED) || defined(DHIS2CPP_TESTING_IMPLEMENTATION)
#define DHIS2CPP_TESTING_WITH_DEFINITIONS 1
#else
#define DHIS2CPP_TESTING_WITH_DEFINITIONS 0
#endif

#endif  // DHIS2_DETAIL_CONFIG_HPP
