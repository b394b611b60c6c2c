#ifndef DHIS2_TESTING_IMPL_CONNECTIONS_IPP
#define DHIS2_TESTING_IMPL_CONNECTIONS_IPP

// Definitions of <dhis2/testing/connections.hpp>.

#include <dhis2/testing/connections.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdlib>

namespace dhis2 {
namespace testing {
namespace detail {

namespace connections {

DHIS2CPP_INLINE int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

}  // namespace connections

DHIS2CPP_INLINE std::vector<OpenSocket> open_tcp_sockets() {
  std::vector<OpenSocket> out;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return out;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    const int local_port = connections::port_of(local), peer_port = connections::port_of(peer);
    if (local_port < 0 || peer_port < 0) continue;
    out.push_back(OpenSocket{fd, local_port, peer_port});
  }
  closedir(dir);
  return out;
}

DHIS2CPP_INLINE void shut_down_accepted(int server_port, const std::function<bool(int peer_port)>& select) {
  for (const OpenSocket& s : open_tcp_sockets()) {
    if (s.local_port == server_port && select(s.peer_port)) ::shutdown(s.fd, SHUT_RDWR);
  }
}

DHIS2CPP_INLINE void block_sigpipe_in_this_thread() {
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
}

DHIS2CPP_INLINE void keeping_sigpipe_disposition(const std::function<void()>& construct) {
  struct sigaction saved {};
  const bool known = sigaction(SIGPIPE, nullptr, &saved) == 0;
  struct Restore {
    const struct sigaction& saved;
    bool known;
    ~Restore() {
      if (known) sigaction(SIGPIPE, &saved, nullptr);
    }
  } restore{saved, known};
  construct();
}

DHIS2CPP_INLINE int ConnectionLog::id_of(const std::string& peer) {
  auto it = ids_.find(peer);
  if (it == ids_.end()) it = ids_.emplace(peer, static_cast<int>(ids_.size()) + 1).first;
  return it->second;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_CONNECTIONS_IPP
