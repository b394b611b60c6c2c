// No death by signal (issue 13): a server that closes the connection while the Client is still
// writing a plain-HTTP request raises SIGPIPE on the writing thread. This test is its own process
// and keeps SIGPIPE's default action (terminate), as a host program that never heard of SIGPIPE
// does: a SIGPIPE delivered anywhere ends the process and fails the test. The Client must end the
// request with a TransportError, and leave the process's disposition and the thread's signal mask
// as they were. A forked child first proves that the same write, without the Client, is killed.
// Over plain HTTP cpp-httplib sends with MSG_NOSIGNAL; over HTTPS OpenSSL writes with write(),
// which raises SIGPIPE, and only the Client's blocking of it on the writing thread (the
// transport's SigpipeGuard) keeps the process alive.
#include <dhis2/dhis2.hpp>
#include <dhis2/testing.hpp>

#include "support/sigpipe.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include <openssl/ssl.h>

namespace {

using test_support::sigpipe_is_default;
using test_support::this_thread_blocks_sigpipe;

// A server that accepts connections, reads the first bytes of each request and resets the
// connection: the client is then still writing its body. With a certificate and key, over TLS
// (the handshake completes, then the first record is read).
class ClosingServer {
 public:
  // `stall`: after the handshake, read nothing until the server is destroyed.
  explicit ClosingServer(const std::string& cert_path = {}, const std::string& key_path = {}, bool stall = false)
      : stall_(stall) {
    if (!cert_path.empty()) {
      tls_ = SSL_CTX_new(TLS_server_method());
      REQUIRE(tls_);
      REQUIRE(SSL_CTX_use_certificate_chain_file(tls_, cert_path.c_str()) == 1);
      REQUIRE(SSL_CTX_use_PrivateKey_file(tls_, key_path.c_str(), SSL_FILETYPE_PEM) == 1);
    }
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 8) == 0);
    socklen_t size = sizeof address;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        char buffer[512];
        if (tls_) {
          SSL* ssl = SSL_new(tls_);
          SSL_set_fd(ssl, fd);
          if (SSL_accept(ssl) == 1) {
            if (stall_) {
              ++accepted_;
              while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            } else {
              (void)SSL_read(ssl, buffer, sizeof buffer);
            }
          }
          SSL_free(ssl);  // no close_notify: the connection is reset below
        } else {
          (void)::recv(fd, buffer, sizeof buffer, 0);
        }
        linger reset{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(fd);
        ++accepted_;
      }
    });
  }
  ~ClosingServer() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
    if (tls_) SSL_CTX_free(tls_);
  }
  ClosingServer(const ClosingServer&) = delete;
  ClosingServer& operator=(const ClosingServer&) = delete;

  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  SSL_CTX* tls_ = nullptr;
  bool stall_ = false;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// In a forked child with SIGPIPE's default action: connect and write far more than the server
// reads. Returns the child's wait status.
int raw_write_in_child(int port) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGPIPE, SIG_DFL);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) _exit(3);
    static char chunk[64 * 1024];
    for (int i = 0; i < 2000; ++i) {
      if (::write(fd, chunk, sizeof chunk) < 0) usleep(1000);  // ECONNRESET first, then EPIPE
    }
    _exit(0);  // never killed: the scenario raised no SIGPIPE
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return status;
}

}  // namespace

TEST_CASE("The test process keeps SIGPIPE's default action, unblocked", "[client][sigpipe]") {
  CHECK(sigpipe_is_default());
  CHECK_FALSE(this_thread_blocks_sigpipe());
}

TEST_CASE("Writing to a connection the server reset raises SIGPIPE, which kills a plain writer", "[client][sigpipe]") {
  ClosingServer server;
  const int status = raw_write_in_child(server.port());
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGPIPE);
}

TEST_CASE("A request body cut off by the server ends in a TransportError, and the process lives", "[client][sigpipe]") {
  const bool tls = GENERATE(false, true);
  CAPTURE(tls);
  test_support::TempDir dir;
  const auto certs = dhis2::testing::make_test_certificates(dir.path);
  ClosingServer server(tls ? certs.cert_path : std::string(), tls ? certs.key_path : std::string());
  dhis2::ClientOptions options;
  options.skip_version_probe = true;
  options.retry.reset();
  options.timeout = std::chrono::seconds(10);
  if (tls) options.ca_cert_path = certs.ca_cert_path;
  dhis2::Client client((tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(server.port()),
                       dhis2::BasicAuth{"admin", "district"}, options);
  // 8 MB of JSON: far more than the socket buffers hold, so the write is under way when the
  // connection is reset.
  nlohmann::json payload = nlohmann::json::object();
  payload["dataValues"] = nlohmann::json::array();
  const nlohmann::json value = {{"dataElement", "fbfJHSPpUQD"},
                                {"period", "202401"},
                                {"orgUnit", "DiszpKrYNg8"},
                                {"value", std::string(1000, '7')}};
  for (int i = 0; i < 8000; ++i) payload["dataValues"].push_back(value);
  for (int attempt = 0; attempt < 3; ++attempt) {
    INFO("attempt " << attempt);
    CHECK_THROWS_AS(client.post_raw("dataValueSets", payload), dhis2::TransportError);
    CHECK(sigpipe_is_default());
    CHECK_FALSE(this_thread_blocks_sigpipe());
  }
  CHECK(server.accepted() >= 3);
}

// Client::close() shuts down the socket of a request in flight; over TLS the write that follows
// (OpenSSL's, with write()) raises SIGPIPE on the writing thread.
TEST_CASE("Closing the Client while an HTTPS request body is being written leaves the process alive",
          "[client][sigpipe]") {
  test_support::TempDir dir;
  const auto certs = dhis2::testing::make_test_certificates(dir.path);
  ClosingServer server(certs.cert_path, certs.key_path, true);
  dhis2::ClientOptions options;
  options.skip_version_probe = true;
  options.retry.reset();
  options.timeout = std::chrono::seconds(10);
  options.ca_cert_path = certs.ca_cert_path;
  dhis2::Client client("https://localhost:" + std::to_string(server.port()), dhis2::BasicAuth{"admin", "district"},
                       options);
  nlohmann::json payload = nlohmann::json::object();
  payload["dataValues"] = nlohmann::json::array();
  const nlohmann::json value = {{"dataElement", "fbfJHSPpUQD"}, {"value", std::string(1000, '7')}};
  for (int i = 0; i < 8000; ++i) payload["dataValues"].push_back(value);
  std::thread closer([&] {
    while (server.accepted() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the body fills the socket buffers
    client.close();
  });
  CHECK_THROWS_AS(client.post_raw("dataValueSets", payload), dhis2::Error);
  closer.join();
  CHECK(sigpipe_is_default());
  CHECK_FALSE(this_thread_blocks_sigpipe());
}
