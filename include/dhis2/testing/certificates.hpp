#ifndef DHIS2_TESTING_CERTIFICATES_HPP
#define DHIS2_TESTING_CERTIFICATES_HPP

// Throw-away TLS certificates for HTTPS tests against the DHIS2 emulator. For tests only: never
// use them to protect anything. Safe to call concurrently as long as each call gets its own directory.
// No OpenSSL type shows here: only the definitions (<dhis2/testing/impl/certificates.ipp>) include
// the OpenSSL headers, so that a compiled-mode user's files never compile them.

#include <dhis2/detail/config.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace dhis2 {
namespace testing {

// The files make_test_certificates wrote.
struct TestCertificates {
  std::string ca_cert_path;  // PEM of the self-signed CA "dhis2-cpp test CA": what a client trusts
  std::string cert_path;     // PEM of the server certificate, signed by that CA
  std::string key_path;      // PEM (PKCS#8, unencrypted, mode 0600) private key of cert_path
};

struct CertificateOptions {
  // The names the server certificate is valid for (its subjectAltName). At least one DNS name or
  // IP address is required; IP addresses must be IPv4 ("127.0.0.1") or IPv6 ("::1") literals.
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1"};
  // Both certificates are valid from one hour ago (for clock skew) until this long from now:
  // between 1 hour and 100 years.
  std::chrono::hours valid_for{24};

  // The certificates a client must refuse, for testing that it does:
  // The server certificate's subject common name: 1 to 64 printable ASCII characters. A client
  // matches host names against subjectAltName only (RFC 6125), so a host name here is not one
  // the certificate is valid for.
  std::string common_name = "dhis2-cpp test server";
  // false writes the server certificate without a subjectAltName (dns_names and ip_addresses must
  // then be empty): the legacy kind whose common name alone names a host.
  bool subject_alt_name = true;
  // true makes the server certificate one that expired an hour ago, after valid_for; the CA
  // stays valid.
  bool expired = false;
};

namespace detail {

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* pointer) const noexcept {
    Free(pointer);
  }
};

inline const char* certificates_prefix() { return "dhis2::testing::make_test_certificates: "; }

// Throws dhis2::Error naming the failed step, with every error OpenSSL queued for this thread.
[[noreturn]] void throw_openssl_error(const std::string& step);

[[noreturn]] void throw_usage_error(const std::string& message);

// DNS names go into the certificate as IA5 (ASCII) strings; allow what host names (and a leading
// "*." wildcard) are made of, so a typo fails here rather than as a TLS error later.
bool is_acceptable_dns_name(const std::string& name);

// The 4 (IPv4) or 16 (IPv6) bytes of an IP literal, or an empty vector when it is not one.
std::vector<unsigned char> parse_ip_address(const std::string& text);

[[noreturn]] void throw_file_error(const std::string& step, const std::string& path, int error_number);

void validate(const std::string& directory, const CertificateOptions& options);

// The helpers that take or return OpenSSL objects (keys, names, certificates, extensions, PEM
// buffers, writing the files) are declared and defined only in <dhis2/testing/impl/certificates.ipp>.

}  // namespace detail

// Creates a fresh CA ("dhis2-cpp test CA", EC P-256, SHA-256) and a server certificate it signed
// for options' DNS names and IP addresses, and writes them as ca.pem, server.pem and server.key
// (mode 0600) into `directory`, which is created if missing; existing files are replaced. The CA's
// private key is never written, so nothing else can be signed with it. Throws UsageError for bad
// options (no names, a malformed IP address, DNS name or common name, names although
// subject_alt_name is false, an out-of-range valid_for) and Error,
// naming the failed step, when OpenSSL or the file system fails.
TestCertificates make_test_certificates(const std::string& directory, const CertificateOptions& options = {});

}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/certificates.ipp>
#endif

#endif  // DHIS2_TESTING_CERTIFICATES_HPP
