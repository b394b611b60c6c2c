// dhis2::testing::make_test_certificates: the files it writes, that they verify as a CA and a
// server certificate for the requested names, and that a real HTTPS round trip trusts them only
// through the CA and only for those names.
#include <dhis2/testing.hpp>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace {

// A fresh directory under /tmp, removed with everything in it at scope exit.
using test_support::TempDir;

struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free_all(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

X509Ptr load_certificate(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, PkeyFree> load_private_key(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return std::unique_ptr<EVP_PKEY, PkeyFree>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `cert` against a store holding only `ca`, as a TLS server certificate;
// returns the verification error (X509_V_OK on success).
int verify_against(X509* cert, X509* ca, const char* host = nullptr, const char* ip = nullptr) {
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1) {
    throw std::runtime_error("setting up X509_STORE failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (host != nullptr) X509_VERIFY_PARAM_set1_host(param, host, 0);
  if (ip != nullptr) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  return ok == 1 ? X509_V_OK : (error == X509_V_OK ? -1 : error);
}

struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ip;  // printed as dotted quads or as 16 hex bytes
};

SubjectAltNames subject_alt_names(X509* cert) {
  SubjectAltNames result;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return result;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    const unsigned char* data = ASN1_STRING_get0_data(value);
    const int length = ASN1_STRING_length(value);
    if (type == GEN_DNS) {
      result.dns.emplace_back(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
    } else if (type == GEN_IPADD && length == 4) {
      result.ip.push_back(std::to_string(data[0]) + "." + std::to_string(data[1]) + "." + std::to_string(data[2]) + "." +
                          std::to_string(data[3]));
    } else if (type == GEN_IPADD) {
      std::string hex;
      for (int j = 0; j < length; ++j) {
        static const char digits[] = "0123456789abcdef";
        hex += digits[data[j] >> 4];
        hex += digits[data[j] & 0x0F];
      }
      result.ip.push_back(hex);
    }
  }
  return result;
}

std::string common_name(X509_NAME* name) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(name, NID_commonName, text, sizeof text);
  return text;
}

// An httplib::SSLServer serving GET /ping -> "pong" on 127.0.0.1, on a thread. The destructor
// stops it and joins the thread on every path; the constructor never throws once the thread runs.
struct RunningServer {
  httplib::SSLServer server;
  std::thread thread;
  std::atomic<bool> finished{false};
  int port = -1;
  bool running = false;

  explicit RunningServer(const dhis2::testing::TestCertificates& certs)
      : server(certs.cert_path.c_str(), certs.key_path.c_str()) {
    if (!server.is_valid()) return;
    server.Get("/ping",
               [](const httplib::Request&, httplib::Response& response) { response.set_content("pong", "text/plain"); });
    port = server.bind_to_any_port("127.0.0.1");
    if (port < 0) return;
    thread = std::thread([this] {
      server.listen_after_bind();
      finished = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server.is_running() && !finished && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    running = server.is_running();
  }
  ~RunningServer() {
    if (!thread.joinable()) return;
    // stop() only acts once listen_after_bind has started; repeat until the thread is done.
    while (!finished) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    thread.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
};

void short_timeouts(httplib::Client& client) {
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
}

}  // namespace

TEST_CASE("make_test_certificates writes ca.pem, server.pem and a 0600 PKCS#8 server.key") {
  TempDir tmp;
  const std::string dir = tmp.path + "/nested/certs";  // created on demand
  const auto certs = dhis2::testing::make_test_certificates(dir);

  CHECK(certs.ca_cert_path == dir + "/ca.pem");
  CHECK(certs.cert_path == dir + "/server.pem");
  CHECK(certs.key_path == dir + "/server.key");
  for (const auto* path : {&certs.ca_cert_path, &certs.cert_path, &certs.key_path}) {
    INFO(*path);
    CHECK(std::filesystem::is_regular_file(*path));
  }
  struct stat key_stat {};
  REQUIRE(::stat(certs.key_path.c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 07777) == 0600);

  CHECK(read_file(certs.ca_cert_path).rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(read_file(certs.cert_path).rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(read_file(certs.key_path).rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);

  const auto server = load_certificate(certs.cert_path);
  const auto key = load_private_key(certs.key_path);
  REQUIRE(server);
  REQUIRE(key);
  CHECK(X509_check_private_key(server.get(), key.get()) == 1);
}

TEST_CASE("Calling make_test_certificates again replaces the files and keeps the key at 0600") {
  TempDir tmp;
  const auto first = dhis2::testing::make_test_certificates(tmp.path);
  REQUIRE(::chmod(first.key_path.c_str(), 0644) == 0);
  const auto first_pem = read_file(first.cert_path);

  const auto second = dhis2::testing::make_test_certificates(tmp.path);
  CHECK(read_file(second.cert_path) != first_pem);
  struct stat key_stat {};
  REQUIRE(::stat(second.key_path.c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 07777) == 0600);
  const auto server = load_certificate(second.cert_path);
  const auto key = load_private_key(second.key_path);
  REQUIRE(server);
  REQUIRE(key);
  CHECK(X509_check_private_key(server.get(), key.get()) == 1);
}

TEST_CASE("The server certificate verifies against the CA for localhost and 127.0.0.1") {
  TempDir tmp;
  const auto certs = dhis2::testing::make_test_certificates(tmp.path);
  const auto ca = load_certificate(certs.ca_cert_path);
  const auto server = load_certificate(certs.cert_path);
  REQUIRE(ca);
  REQUIRE(server);

  CHECK(common_name(X509_get_subject_name(ca.get())) == "dhis2-cpp test CA");
  CHECK(X509_check_ca(ca.get()) >= 1);
  CHECK(X509_check_ca(server.get()) == 0);
  CHECK(X509_check_issued(ca.get(), server.get()) == X509_V_OK);

  CHECK(verify_against(server.get(), ca.get()) == X509_V_OK);
  CHECK(verify_against(server.get(), ca.get(), "localhost") == X509_V_OK);
  CHECK(verify_against(server.get(), ca.get(), nullptr, "127.0.0.1") == X509_V_OK);
  CHECK(verify_against(server.get(), ca.get(), "example.org") == X509_V_ERR_HOSTNAME_MISMATCH);

  const auto names = subject_alt_names(server.get());
  CHECK(names.dns == std::vector<std::string>{"localhost"});
  CHECK(names.ip == std::vector<std::string>{"127.0.0.1"});
}

TEST_CASE("The server certificate does not verify against another CA") {
  TempDir tmp_a;
  TempDir tmp_b;
  const auto a = dhis2::testing::make_test_certificates(tmp_a.path);
  const auto b = dhis2::testing::make_test_certificates(tmp_b.path);
  const auto server_a = load_certificate(a.cert_path);
  const auto ca_b = load_certificate(b.ca_cert_path);
  REQUIRE(server_a);
  REQUIRE(ca_b);
  CHECK(verify_against(server_a.get(), ca_b.get()) != X509_V_OK);
}

TEST_CASE("CertificateOptions choose the names and the validity period") {
  TempDir tmp;
  dhis2::testing::CertificateOptions options;
  options.dns_names = {"localhost", "emulator.test", "*.dhis2.test"};
  options.ip_addresses = {"127.0.0.1", "::1"};
  options.valid_for = std::chrono::hours(48);
  const auto certs = dhis2::testing::make_test_certificates(tmp.path, options);
  const auto ca = load_certificate(certs.ca_cert_path);
  const auto server = load_certificate(certs.cert_path);
  REQUIRE(ca);
  REQUIRE(server);

  const auto names = subject_alt_names(server.get());
  CHECK(names.dns == options.dns_names);
  CHECK(names.ip == std::vector<std::string>{"127.0.0.1", "00000000000000000000000000000001"});
  CHECK(verify_against(server.get(), ca.get(), "emulator.test") == X509_V_OK);
  CHECK(verify_against(server.get(), ca.get(), "play.dhis2.test") == X509_V_OK);
  CHECK(verify_against(server.get(), ca.get(), nullptr, "::1") == X509_V_OK);

  // Valid from (about) now until (about) 48 hours from now.
  std::time_t now = std::time(nullptr);
  for (X509* cert : {ca.get(), server.get()}) {
    CHECK(X509_cmp_time(X509_get0_notBefore(cert), &now) < 0);
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) == 1);
    const long remaining = days * 86400L + seconds;
    CHECK(remaining > 48 * 3600L - 120);
    CHECK(remaining <= 48 * 3600L);
  }
}

TEST_CASE("CertificateOptions make the certificates a client must refuse") {
  TempDir tmp;
  dhis2::testing::CertificateOptions options;
  SECTION("the host only as the common name, with no subjectAltName") {
    options.common_name = "localhost";
    options.subject_alt_name = false;
    options.dns_names.clear();
    options.ip_addresses.clear();
    const auto certs = dhis2::testing::make_test_certificates(tmp.path, options);
    const auto ca = load_certificate(certs.ca_cert_path);
    const auto server = load_certificate(certs.cert_path);
    REQUIRE(server);
    CHECK(common_name(X509_get_subject_name(server.get())) == "localhost");
    CHECK(X509_get_ext_by_NID(server.get(), NID_subject_alt_name, -1) < 0);
    CHECK(verify_against(server.get(), ca.get()) == X509_V_OK);  // a good chain, only the name is missing
  }
  SECTION("expired an hour ago, the CA still valid") {
    options.expired = true;
    options.valid_for = std::chrono::hours(48);
    const auto certs = dhis2::testing::make_test_certificates(tmp.path, options);
    const auto ca = load_certificate(certs.ca_cert_path);
    const auto server = load_certificate(certs.cert_path);
    REQUIRE(server);
    CHECK(verify_against(server.get(), ca.get(), "localhost") == X509_V_ERR_CERT_HAS_EXPIRED);
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(server.get())) == 1);
    const long since_end = -(days * 86400L + seconds);
    CHECK(since_end >= 3600L);
    CHECK(since_end < 3600L + 120);
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(server.get()), X509_get0_notAfter(server.get())) == 1);
    CHECK(days * 86400L + seconds == 48 * 3600L);
    std::time_t now = std::time(nullptr);
    CHECK(X509_cmp_time(X509_get0_notAfter(ca.get()), &now) > 0);
  }
}

TEST_CASE("Names the certificate would not be valid for are rejected with UsageError") {
  TempDir tmp;
  using dhis2::testing::CertificateOptions;
  using dhis2::testing::make_test_certificates;

  CertificateOptions no_names;
  no_names.dns_names.clear();
  no_names.ip_addresses.clear();
  CHECK_THROWS_AS(make_test_certificates(tmp.path, no_names), dhis2::UsageError);
  CHECK_THROWS_WITH(make_test_certificates(tmp.path, no_names),
                    Catch::Contains("at least one DNS name") && Catch::Contains("IP address"));

  for (const char* bad_ip : {"999.1.1.1", "localhost", "1.2.3.4x", "", "::g"}) {
    INFO(bad_ip);
    CertificateOptions options;
    options.ip_addresses = {bad_ip};
    CHECK_THROWS_AS(make_test_certificates(tmp.path, options), dhis2::UsageError);
    CHECK_THROWS_WITH(make_test_certificates(tmp.path, options),
                      Catch::Contains("is not an IP address") && Catch::Contains("IPv4") && Catch::Contains("IPv6"));
  }

  CertificateOptions names_without_extension;
  names_without_extension.subject_alt_name = false;
  CHECK_THROWS_WITH(make_test_certificates(tmp.path, names_without_extension),
                    Catch::Contains("subject_alt_name is false") && Catch::Contains("clear both lists"));

  for (const std::string& bad_cn : {std::string(), std::string(65, 'a'), std::string("local\nhost")}) {
    CertificateOptions options;
    options.common_name = bad_cn;
    CHECK_THROWS_AS(make_test_certificates(tmp.path, options), dhis2::UsageError);
    CHECK_THROWS_WITH(make_test_certificates(tmp.path, options), Catch::Contains("1 to 64 printable ASCII"));
  }

  CertificateOptions bad_dns;
  bad_dns.dns_names = {"local host"};
  CHECK_THROWS_AS(make_test_certificates(tmp.path, bad_dns), dhis2::UsageError);

  CertificateOptions bad_validity;
  bad_validity.valid_for = std::chrono::hours(0);
  CHECK_THROWS_AS(make_test_certificates(tmp.path, bad_validity), dhis2::UsageError);

  // Nothing was written for a rejected call.
  CHECK(std::filesystem::is_empty(tmp.path));
}

TEST_CASE("An unwritable directory fails with dhis2::Error naming the step") {
  TempDir tmp;
  const std::string file = tmp.path + "/not-a-directory";
  std::ofstream(file) << "x";
  try {
    dhis2::testing::make_test_certificates(file + "/certs");
    FAIL("expected dhis2::Error");
  } catch (const dhis2::UsageError&) {
    FAIL("expected dhis2::Error, not UsageError");
  } catch (const dhis2::Error& error) {
    CHECK_THAT(error.what(), Catch::Contains("creating the directory"));
  }

  // A directory where server.key should go: the certificates are built, writing fails.
  std::filesystem::create_directory(tmp.path + "/server.key");
  try {
    dhis2::testing::make_test_certificates(tmp.path);
    FAIL("expected dhis2::Error");
  } catch (const dhis2::Error& error) {
    CHECK_THAT(error.what(), Catch::Contains("opening " + tmp.path + "/server.key failed"));
  }
}

TEST_CASE("make_test_certificates can run concurrently for different directories") {
  TempDir tmp;
  constexpr int count = 4;
  std::vector<dhis2::testing::TestCertificates> results(count);
  std::vector<std::string> errors(count);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        results[static_cast<size_t>(i)] = dhis2::testing::make_test_certificates(tmp.path + "/" + std::to_string(i));
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < count; ++i) {
    INFO(i);
    const auto& certs = results[static_cast<size_t>(i)];
    CHECK(errors[static_cast<size_t>(i)].empty());
    const auto ca = load_certificate(certs.ca_cert_path);
    const auto server = load_certificate(certs.cert_path);
    REQUIRE(ca);
    REQUIRE(server);
    CHECK(verify_against(server.get(), ca.get(), "localhost") == X509_V_OK);
  }
}

TEST_CASE("An HTTPS client that trusts the CA gets a response from a server using the certificate") {
  TempDir tmp;
  const auto certs = dhis2::testing::make_test_certificates(tmp.path);
  RunningServer server(certs);
  REQUIRE(server.running);

  httplib::Client client("https://localhost:" + std::to_string(server.port));
  short_timeouts(client);
  client.set_ca_cert_path(certs.ca_cert_path);
  client.enable_server_certificate_verification(true);
  const auto result = client.Get("/ping");
  INFO(httplib::to_string(result.error()));
  REQUIRE(result);
  CHECK(result->status == 200);
  CHECK(result->body == "pong");
}

TEST_CASE("An HTTPS client that does not trust the CA rejects the server") {
  TempDir tmp;
  const auto certs = dhis2::testing::make_test_certificates(tmp.path);
  RunningServer server(certs);
  REQUIRE(server.running);

  httplib::Client client("https://localhost:" + std::to_string(server.port));
  short_timeouts(client);
  client.enable_server_certificate_verification(true);  // default system CA store
  const auto result = client.Get("/ping");
  CHECK_FALSE(result);
  CHECK(result.error() == httplib::Error::SSLServerVerification);
  CHECK(client.get_openssl_verify_result() != X509_V_OK);
}

TEST_CASE("An HTTPS client rejects the server under a name missing from the certificate") {
  TempDir tmp;
  dhis2::testing::CertificateOptions options;
  options.dns_names = {"localhost"};
  options.ip_addresses.clear();
  const auto certs = dhis2::testing::make_test_certificates(tmp.path, options);
  RunningServer server(certs);
  REQUIRE(server.running);

  httplib::Client client("https://127.0.0.1:" + std::to_string(server.port));
  short_timeouts(client);
  client.set_ca_cert_path(certs.ca_cert_path);
  client.enable_server_certificate_verification(true);
  const auto result = client.Get("/ping");
  CHECK_FALSE(result);
  CHECK(result.error() == httplib::Error::SSLServerVerification);
  // The chain itself was trusted: only the name did not match.
  CHECK(client.get_openssl_verify_result() == X509_V_OK);
}
