// The Catch2 main, compiled once into a static library that every unit test links.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
