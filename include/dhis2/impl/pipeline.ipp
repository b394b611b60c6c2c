#ifndef DHIS2_IMPL_PIPELINE_IPP
#define DHIS2_IMPL_PIPELINE_IPP

// Definitions of <dhis2/detail/pipeline.hpp>.

#include <dhis2/detail/pipeline.hpp>

#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/classify.hpp>
#include <dhis2/errors.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE RequestPipeline::RequestPipeline(ClientOptions options, Credentials::Auth auth,
                                                 std::uint64_t backoff_seed)
    : options_(std::move(options)), credentials_(std::move(auth)), backoff_(backoff_seed) {}

DHIS2CPP_INLINE std::vector<std::pair<std::string, std::string>> RequestPipeline::common_headers(
    const Transport& transport) const {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Accept", "application/json"}, {"X-Requested-With", "XMLHttpRequest"}, {"User-Agent", options_.user_agent}};
  if (options_.compression) {
    std::string codings = transport.content_codings();
    if (!codings.empty()) headers.emplace_back("Accept-Encoding", std::move(codings));
  }
  return headers;
}

DHIS2CPP_INLINE Response RequestPipeline::run(Transport& transport, const Call& call) {
  const RequestOptions* own = call.options;
  if (own && own->timeout && own->timeout->count() <= 0) throw UsageError("RequestOptions::timeout must be positive");
  if (own && own->retry) validate_retry_policy(*own->retry, "RequestOptions::retry");
  const std::optional<RetryPolicy>& policy = own && own->retry ? own->retry : options_.retry;
  const CancellationToken* token = own && own->cancellation ? &*own->cancellation : nullptr;
  const std::optional<std::chrono::milliseconds> timeout = own ? own->timeout : std::nullopt;
  const bool may_retry = call.retry_allowed && policy && (call.idempotent || policy->retry_non_idempotent);
  const auto cancelled = [&call] { return CancelledError(call.method + " " + strip_query(call.url) + ": cancelled"); };

  if (closed()) throw UsageError("the client is closed; create a new dhis2::Client");
  if (token && token->cancelled()) throw cancelled();
  Credentials::Header credential;
  if (call.authenticate) credential = credentials_.current();
  bool refreshed = false;
  for (int attempt = 1;; ++attempt) {
    HttpRequest request;
    request.method = call.method;
    request.target = call.target;
    request.headers = common_headers(transport);
    if (call.authenticate) request.headers.emplace_back("Authorization", credential.value);
    request.body = call.body;
    request.content_type = call.content_type;
    request.idempotent = call.idempotent;
    request.timeout = timeout;
    request.cancellation = token;
    const auto started = std::chrono::steady_clock::now();
    HttpResult result = transport.send(request);
    RequestEvent event;
    event.method = call.method;
    event.url = call.url;
    event.request_headers = request.headers;
    for (auto& h : event.request_headers) h.second = redacted_header_value(h.first, h.second);
    event.attempt = attempt;
    event.status = result.response.status;
    event.error = result.error;
    event.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

    if (result.failure == TransportFailure::Closed) {
      report(event);
      throw UsageError("the client is closed; create a new dhis2::Client");
    }
    if (result.failure == TransportFailure::Cancelled) {
      report(event);
      throw cancelled();
    }
    if (result.failure == TransportFailure::None && result.response.status == 401 && call.authenticate &&
        credentials_.refreshable() && !refreshed) {
      event.will_retry = true;  // once, with a refreshed token
      report(event);
      refreshed = true;
      credential = credentials_.refreshed(credential.generation);
      --attempt;  // the refresh retry is not a retry of the policy
      continue;
    }
    const auto delay = may_retry ? backoff_.delay(*policy, result, attempt) : std::nullopt;
    event.will_retry = delay.has_value();
    if (delay) event.retry_delay = *delay;
    report(event);
    if (!delay) {
      if (result.failure != TransportFailure::None) {
        throw transport_error(call.method, call.url, result, options_.connect_timeout,
                              timeout.value_or(options_.timeout));
      }
      return std::move(result.response);
    }
    sleep(*delay, token);
    if (token && token->cancelled()) throw cancelled();
  }
}

DHIS2CPP_INLINE void RequestPipeline::close() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    closed_ = true;
  }
  wake_.notify_all();
}

DHIS2CPP_INLINE bool RequestPipeline::closed() {
  std::lock_guard<std::mutex> lock(sleep_mutex_);
  return closed_;
}

DHIS2CPP_INLINE void RequestPipeline::sleep(std::chrono::milliseconds delay, const CancellationToken* cancellation) {
  const auto registration = cancellation ? cancellation->on_cancel([this] {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    wake_.notify_all();
  })
                                         : CancellationToken::Registration();
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  wake_.wait_for(lock, delay, [this, cancellation] { return closed_ || (cancellation && cancellation->cancelled()); });
  if (closed_) throw UsageError("the client was closed while waiting to retry a request");
}

DHIS2CPP_INLINE void RequestPipeline::report(const RequestEvent& event) const {
  if (options_.on_request) options_.on_request(event);
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_PIPELINE_IPP
