// The same JSON work as library_user.cpp with nlohmann/json alone: what compiled mode is
// measured against.
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const nlohmann::json me = nlohmann::json::parse(argc > 1 ? argv[1] : "{}");
  std::cout << me.value("name", std::string()) << "\n";
  return 0;
}
