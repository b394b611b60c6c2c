#ifndef DHIS2_DETAIL_PIPELINE_HPP
#define DHIS2_DETAIL_PIPELINE_HPP

// The request pipeline: one call through its parts, in order. Credentials add the Authorization
// header; the transport sends; a 401 to a bearer token refreshes it once; the retry policy
// decides whether to try again and the pipeline sleeps (a close() or the call's cancellation
// wakes it); the request hook sees every attempt, credentials redacted. The answer is the
// response, whatever its status: classification is the caller's (classify.hpp).
//
// Thread-safe: calls run concurrently. close() may be called from any thread.

#include <dhis2/client_options.hpp>
#include <dhis2/detail/config.hpp>
#include <dhis2/detail/credentials.hpp>
#include <dhis2/detail/retry.hpp>
#include <dhis2/detail/transport.hpp>
#include <dhis2/response.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace dhis2 {
namespace detail {

struct Call {
  std::string method;
  std::string target;  // path and query, with the context path
  std::string url;     // the origin and the target: for the hook and messages
  std::string body;
  std::string content_type;
  bool idempotent = true;
  bool retry_allowed = true;                // false for a job kick-off: a retry would start a second job
  bool authenticate = true;                 // false for the handshake's probe: no credentials before the URL is known
  const RequestOptions* options = nullptr;  // this call's own options, if any
};

class RequestPipeline {
 public:
  // `backoff_seed` 0 seeds the jitter from the system's entropy.
  RequestPipeline(ClientOptions options, Credentials::Auth auth, std::uint64_t backoff_seed = 0);

  // The response of the call's last attempt. Throws TransportError when no response arrived,
  // CancelledError when the call's token was cancelled, UsageError when the pipeline is closed
  // or the call's options are invalid.
  Response run(Transport& transport, const Call& call);

  // Wakes calls sleeping before a retry; they and later calls throw UsageError. Idempotent.
  void close();
  bool closed();

  const ClientOptions& options() const noexcept { return options_; }
  AuthScheme auth_scheme() const noexcept { return credentials_.scheme(); }

  // The headers every request carries (Accept, X-Requested-With, User-Agent, and Accept-Encoding
  // when compression is on and the transport decodes something).
  std::vector<std::pair<std::string, std::string>> common_headers(const Transport& transport) const;

 private:
  void sleep(std::chrono::milliseconds delay, const CancellationToken* cancellation);
  void report(const RequestEvent& event) const;

  const ClientOptions options_;
  Credentials credentials_;
  Backoff backoff_;
  std::mutex sleep_mutex_;  // a leaf: nothing is locked under it
  std::condition_variable wake_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/pipeline.ipp>
#endif

#endif  // DHIS2_DETAIL_PIPELINE_HPP
