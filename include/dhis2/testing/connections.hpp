#ifndef DHIS2_TESTING_CONNECTIONS_HPP
#define DHIS2_TESTING_CONNECTIONS_HPP

// The emulator's TCP connections: finding this process's connected sockets (the HTTP library
// does not hand out the ones it accepted, so they are found by their addresses through
// /proc/self/fd, for the drop faults and a prompt stop), numbering connections in the order
// they first sent a request, and keeping a vanished client from killing the process with SIGPIPE.
// Linux only. Internal to the emulator (dhis2::testing::detail); tests use open_tcp_sockets() too.

#include <dhis2/detail/config.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dhis2 {
namespace testing {
namespace detail {

// A connected TCP socket of this process and the ports at its two ends.
struct OpenSocket {
  int fd = -1;
  int local_port = -1;
  int peer_port = -1;
};

// Every connected TCP socket of this process (IPv4 or IPv6), found through /proc/self/fd; empty
// when that cannot be read. Safe from any thread; a socket may close while the list is used.
std::vector<OpenSocket> open_tcp_sockets();

// Shuts down (SHUT_RDWR) the sockets accepted on `server_port` whose peer port `select` accepts.
void shut_down_accepted(int server_port, const std::function<bool(int peer_port)>& select);

// Blocks SIGPIPE in the calling thread, and so in every thread it creates from then on. A write
// to a vanished peer then fails with EPIPE, and the signal stays pending on that thread only,
// never delivered while it is blocked; the process-wide disposition is left alone. The emulator's
// listener thread calls it first thing: httplib's worker pool is created by that thread.
void block_sigpipe_in_this_thread();

// Runs `construct` and then puts back the process's SIGPIPE disposition as it was before, also
// when `construct` throws. httplib's Server constructor (0.11.4) sets SIGPIPE to SIG_IGN for the
// whole process; the emulator builds its server inside this. A SIGPIPE raised by another thread
// in the few instructions between the two is ignored instead of handled as the host chose.
void keeping_sigpipe_disposition(const std::function<void()>& construct);

// Numbers connections 1, 2, ... in the order they first sent a request, by the peer's
// "address:port". Not thread-safe: the FakeServer's lock guards it, together with the request
// log, so that numbers follow the order of the log.
class ConnectionLog {
 public:
  // The number of the connection from `peer`, given one on its first request.
  int id_of(const std::string& peer);
  int count() const noexcept { return static_cast<int>(ids_.size()); }

 private:
  std::map<std::string, int> ids_;
};

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#if DHIS2CPP_TESTING_WITH_DEFINITIONS
#include <dhis2/testing/impl/connections.ipp>
#endif

#endif  // DHIS2_TESTING_CONNECTIONS_HPP
