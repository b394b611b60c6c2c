// The same JSON work as library_user.cpp with nlohmann/json alone: a JSON value that comes from
// elsewhere (as the Client's answer does), read with value(). What compiled mode is measured
// against. compile_time.py only compiles (-c): fetch_me() is never defined.
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

nlohmann::json fetch_me(const std::string& path);

int main() {
  const nlohmann::json me = fetch_me("me?fields=name");
  std::cout << me.value("name", std::string()) << "\n";
  return 0;
}
