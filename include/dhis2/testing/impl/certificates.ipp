#ifndef DHIS2_TESTING_IMPL_CERTIFICATES_IPP
#define DHIS2_TESTING_IMPL_CERTIFICATES_IPP

// Definitions of <dhis2/testing/certificates.hpp>; the emulator's only file that includes the
// OpenSSL headers itself.

#include <dhis2/testing/certificates.hpp>

#include <dhis2/errors.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <system_error>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

#include <fstream>
#else
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "dhis2/testing/certificates.hpp needs OpenSSL 3.0 or later"
#endif

namespace dhis2 {
namespace testing {
namespace detail {

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;
using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using Asn1Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;

[[noreturn]] DHIS2CPP_INLINE void throw_openssl_error(const std::string& step) {
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!reasons.empty()) reasons += "; ";
    reasons += text;
  }
  if (reasons.empty()) reasons = "OpenSSL reported no error";
  throw Error(std::string(certificates_prefix()) + step + " failed: " + reasons);
}

[[noreturn]] DHIS2CPP_INLINE void throw_usage_error(const std::string& message) {
  throw UsageError(std::string(certificates_prefix()) + message);
}

DHIS2CPP_INLINE bool is_acceptable_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || c == '*';
    if (!ok) return false;
  }
  return true;
}

DHIS2CPP_INLINE std::vector<unsigned char> parse_ip_address(const std::string& text) {
  unsigned char bytes[16] = {};
  if (text.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return {bytes, bytes + 4};
  } else if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    return {bytes, bytes + 16};
  }
  return {};
}

DHIS2CPP_INLINE EvpPkeyPtr generate_key(const char* what) {
  char curve[] = "P-256";
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) throw_openssl_error(std::string("generating the ") + what + " key (EC P-256)");
  return key;
}

DHIS2CPP_INLINE X509NamePtr common_name(const char* cn) {
  X509NamePtr name(X509_NAME_new());
  if (!name) throw_openssl_error("allocating a certificate name");
  if (X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                                 -1, -1, 0) != 1) {
    throw_openssl_error(std::string("setting the common name \"") + cn + "\"");
  }
  return name;
}

// A certificate with version, random serial, validity, subject, issuer and public key set; no
// extensions, not signed.
DHIS2CPP_INLINE X509Ptr new_certificate(const X509_NAME* subject, const X509_NAME* issuer, EVP_PKEY* public_key,
                                        std::chrono::hours valid_for, bool expired = false) {
  X509Ptr cert(X509_new());
  if (!cert) throw_openssl_error("allocating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    throw_openssl_error("setting the certificate version");
  }

  // A random positive 127-bit serial, so certificates from different runs never collide.
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    throw_openssl_error("generating a serial number");
  }
  serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7F) | 0x40);
  BignumPtr serial_bn(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial_bn) throw_openssl_error("converting the serial number");
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(serial_bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(cert.get(), serial.get()) != 1) {
    throw_openssl_error("setting the serial number");
  }

  const auto hours = valid_for.count();
  const int days = static_cast<int>(hours / 24);
  const long seconds = static_cast<long>(hours % 24) * 60L * 60L;
  // Valid from an hour ago for valid_for; expired: for valid_for until an hour ago.
  const bool valid = expired ? X509_time_adj_ex(X509_getm_notBefore(cert.get()), -days, -seconds - 3600L, nullptr) &&
                                   X509_gmtime_adj(X509_getm_notAfter(cert.get()), -3600L)
                             : X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600L) &&
                                   X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, seconds, nullptr);
  if (!valid) throw_openssl_error("setting the validity period");

  if (X509_set_subject_name(cert.get(), subject) != 1) throw_openssl_error("setting the subject");
  if (X509_set_issuer_name(cert.get(), issuer) != 1) throw_openssl_error("setting the issuer");
  if (X509_set_pubkey(cert.get(), public_key) != 1) throw_openssl_error("setting the public key");
  return cert;
}

// Adds one extension written in OpenSSL's configuration syntax, e.g. "critical,CA:TRUE".
DHIS2CPP_INLINE void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context{};
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    throw_openssl_error(std::string("adding the extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
}

// subjectAltName, built entry by entry so no name is ever parsed as configuration syntax.
DHIS2CPP_INLINE void add_subject_alt_names(X509* cert, const CertificateOptions& options) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) throw_openssl_error("allocating the subjectAltName list");
  const auto push = [&names](int type, ASN1_STRING* value, const std::string& text) {
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) throw_openssl_error("allocating the subjectAltName entry " + text);
    GENERAL_NAME_set0_value(name.get(), type, value);  // owns value from here on
    if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0) {
      throw_openssl_error("adding the subjectAltName entry " + text);
    }
    name.release();  // owned by names
  };
  for (const auto& dns : options.dns_names) {
    Asn1Ia5StringPtr value(ASN1_IA5STRING_new());
    if (!value || ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      throw_openssl_error("encoding the DNS name " + dns);
    }
    push(GEN_DNS, value.release(), "DNS:" + dns);
  }
  for (const auto& ip : options.ip_addresses) {
    const auto bytes = parse_ip_address(ip);
    Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
    if (!value || ASN1_OCTET_STRING_set(value.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
      throw_openssl_error("encoding the IP address " + ip);
    }
    push(GEN_IPADD, value.release(), "IP:" + ip);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    throw_openssl_error("adding the extension subjectAltName");
  }
}

DHIS2CPP_INLINE void sign(X509* cert, EVP_PKEY* key, const char* what) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) {
    throw_openssl_error(std::string("signing the ") + what + " certificate");
  }
}

// PEM-encodes into a memory BIO; the caller writes its bytes out and frees it (which also wipes
// the buffer, so the private key does not linger in freed memory).
DHIS2CPP_INLINE BioPtr new_memory_bio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) throw_openssl_error("allocating a memory buffer");
  return bio;
}

[[noreturn]] DHIS2CPP_INLINE void throw_file_error(const std::string& step, const std::string& path, int error_number) {
  throw Error(std::string(certificates_prefix()) + step + " " + path +
              " failed: " + std::generic_category().message(error_number));
}

// Writes the bytes held by `bio` to `path`, replacing the file. A secret file is created with
// mode 0600, so it is never readable by others, not even briefly; others get 0644 (less umask).
DHIS2CPP_INLINE void write_file(const std::string& path, BIO* bio, bool secret) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length <= 0 || data == nullptr) throw_openssl_error("encoding " + path + " as PEM");
  const auto size = static_cast<std::size_t>(length);
#ifdef _WIN32
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(std::string(certificates_prefix()) + "opening " + path + " failed");
  if (secret) {
    std::error_code ignored;
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ignored);
  }
  out.write(data, static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw Error(std::string(certificates_prefix()) + "writing " + path + " failed");
#else
  const mode_t mode = secret ? 0600 : 0644;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw_file_error("opening", path, errno);
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};
  // An existing file keeps its old permissions under O_CREAT; set them explicitly.
  if (secret && ::fchmod(fd, mode) != 0) throw_file_error("setting permissions of", path, errno);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_file_error("writing", path, errno);
    }
    written += static_cast<std::size_t>(n);
  }
  closer.fd = -1;
  if (::close(fd) != 0) throw_file_error("closing", path, errno);
#endif
}

DHIS2CPP_INLINE void validate(const std::string& directory, const CertificateOptions& options) {
  if (directory.empty()) throw_usage_error("the directory is empty; pass a directory path");
  if (!options.subject_alt_name && (!options.dns_names.empty() || !options.ip_addresses.empty())) {
    throw_usage_error(
        "subject_alt_name is false, yet dns_names or ip_addresses are set; a certificate without a "
        "subjectAltName holds no names but its common name: clear both lists, or set "
        "subject_alt_name");
  }
  if (options.subject_alt_name && options.dns_names.empty() && options.ip_addresses.empty()) {
    throw_usage_error(
        "dns_names and ip_addresses are both empty; the server certificate needs at least one "
        "DNS name (e.g. \"localhost\") or IP address (e.g. \"127.0.0.1\")");
  }
  for (const auto& dns : options.dns_names) {
    if (!is_acceptable_dns_name(dns)) {
      throw_usage_error("\"" + dns +
                        "\" is not a usable DNS name; expected a non-empty host name of at most "
                        "253 ASCII letters, digits, '-', '.', '_' or '*'");
    }
  }
  for (const auto& ip : options.ip_addresses) {
    if (parse_ip_address(ip).empty()) {
      throw_usage_error("\"" + ip +
                        "\" is not an IP address; expected an IPv4 literal such as \"127.0.0.1\" "
                        "or an IPv6 literal such as \"::1\"");
    }
  }
  const bool printable = std::all_of(options.common_name.begin(), options.common_name.end(),
                                     [](char c) { return c >= 0x20 && c < 0x7F; });
  if (options.common_name.empty() || options.common_name.size() > 64 || !printable) {
    throw_usage_error("the common_name \"" + options.common_name +
                      "\" is not usable; expected 1 to 64 printable ASCII characters");
  }
  constexpr std::chrono::hours max_validity{24 * 366 * 100};
  if (options.valid_for.count() < 1 || options.valid_for > max_validity) {
    throw_usage_error("valid_for is " + std::to_string(options.valid_for.count()) +
                      " hours; expected between 1 hour and 100 years (876600 hours)");
  }
}

}  // namespace detail

DHIS2CPP_INLINE TestCertificates make_test_certificates(const std::string& directory, const CertificateOptions& options) {
  using namespace detail;
  validate(directory, options);

  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    throw Error(std::string(certificates_prefix()) + "creating the directory " + directory + " failed: " + ec.message());
  }
  const std::filesystem::path dir(directory);
  TestCertificates result{(dir / "ca.pem").string(), (dir / "server.pem").string(), (dir / "server.key").string()};

  ERR_clear_error();  // report only this call's errors

  // The CA: self-signed, allowed to sign certificates and CRLs only.
  const EvpPkeyPtr ca_key = generate_key("CA");
  const X509NamePtr ca_name = common_name("dhis2-cpp test CA");
  const X509Ptr ca = new_certificate(ca_name.get(), ca_name.get(), ca_key.get(), options.valid_for);
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  sign(ca.get(), ca_key.get(), "CA");

  // The server certificate. Host names are matched against subjectAltName only; the common name
  // is a label.
  const EvpPkeyPtr server_key = generate_key("server");
  const X509NamePtr server_name = common_name(options.common_name.c_str());
  const X509Ptr server = new_certificate(server_name.get(), ca_name.get(), server_key.get(), options.valid_for,
                                         options.expired);
  add_extension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (options.subject_alt_name) add_subject_alt_names(server.get(), options);
  sign(server.get(), ca_key.get(), "server");

  const BioPtr ca_pem = new_memory_bio();
  if (PEM_write_bio_X509(ca_pem.get(), ca.get()) != 1) throw_openssl_error("PEM-encoding ca.pem");
  const BioPtr server_pem = new_memory_bio();
  if (PEM_write_bio_X509(server_pem.get(), server.get()) != 1) {
    throw_openssl_error("PEM-encoding server.pem");
  }
  const BioPtr key_pem = new_memory_bio();
  if (PEM_write_bio_PKCS8PrivateKey(key_pem.get(), server_key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw_openssl_error("PEM-encoding server.key");
  }

  write_file(result.key_path, key_pem.get(), true);
  write_file(result.cert_path, server_pem.get(), false);
  write_file(result.ca_cert_path, ca_pem.get(), false);
  return result;
}

}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_CERTIFICATES_IPP
