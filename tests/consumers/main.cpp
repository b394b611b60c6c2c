// A program outside dhis2cpp that uses it the way a user does; every consumer test builds and runs it.
#include <dhis2/dhis2.hpp>

#include <cstring>
#include <exception>
#include <iostream>

#if defined(DHIS2CPP_CONSUMER_SINGLE) && __has_include(<dhis2/task_ref.hpp>)
#error "a single-header consumer can see the modular headers; its include path is wrong"
#endif

#if defined(DHIS2CPP_CONSUMER_COMPILED) && !defined(DHIS2CPP_COMPILED)
#error "the compiled-mode library target did not give its user DHIS2CPP_COMPILED"
#endif
// httplib.h's and OpenSSL's include guards: in compiled mode a user's file never compiles them.
#if defined(DHIS2CPP_COMPILED) && (defined(CPPHTTPLIB_HTTPLIB_H) || defined(OPENSSL_SSL_H) || defined(HEADER_SSL_H))
#error "in compiled mode <dhis2/dhis2.hpp> included <httplib.h> or OpenSSL"
#endif

int main() {
  int failures = 0;
  const auto check = [&failures](bool ok, const char* what) {
    if (!ok) {
      std::cerr << "FAILED: " << what << '\n';
      ++failures;
    }
  };

  check(std::strlen(DHIS2CPP_VERSION_STRING) > 0, "DHIS2CPP_VERSION_STRING is not empty");
  try {
    const auto ref = dhis2::TaskRef::parse("ANALYTICS_TABLE/BFa3jDsbtdO");
    check(ref.job_type == "ANALYTICS_TABLE", "TaskRef::parse gives job_type ANALYTICS_TABLE");
    check(ref.uid == "BFa3jDsbtdO", "TaskRef::parse gives uid BFa3jDsbtdO");
    check(ref.str() == "ANALYTICS_TABLE/BFa3jDsbtdO", "TaskRef::str() round-trips");
  } catch (const std::exception& e) {
    std::cerr << "FAILED: TaskRef::parse threw: " << e.what() << '\n';
    ++failures;
  }

  if (failures != 0) return 1;
  std::cout << "dhis2cpp " << DHIS2CPP_VERSION_STRING << ": consumer OK\n";
  return 0;
}
