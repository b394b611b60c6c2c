// The same request written by hand on cpp-httplib and nlohmann/json: what header-only mode is
// measured against.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

int main() {
  httplib::Client client("http://127.0.0.1:8080");
  client.set_basic_auth("admin", "district");
  client.set_read_timeout(30, 0);
  const auto res = client.Get("/api/me?fields=name");
  if (!res || res->status != 200) return 1;
  const nlohmann::json me = nlohmann::json::parse(res->body);
  std::cout << me.value("name", std::string()) << "\n";
  return 0;
}
