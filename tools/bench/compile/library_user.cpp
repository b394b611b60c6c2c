// One request through dhis2-cpp: the user's file that compile_time.py measures, header-only and
// (with -DDHIS2CPP_COMPILED) in compiled mode.
#include <dhis2/dhis2.hpp>

#include <iostream>

int main() {
  dhis2::Client client("http://127.0.0.1:8080", dhis2::BasicAuth{"admin", "district"});
  const nlohmann::json me = client.get_raw("me", {{"fields", "name"}});
  std::cout << me.value("name", std::string()) << "\n";
  return 0;
}
