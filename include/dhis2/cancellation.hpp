#ifndef DHIS2_CANCELLATION_HPP
#define DHIS2_CANCELLATION_HPP

// dhis2::CancellationToken: lets one thread stop a blocking call that another thread made. Pass
// it in RequestOptions; cancel() makes that request throw CancelledError promptly, also while it
// waits for a response or between retries. A token is a cheap, copyable handle: every copy
// shares one state, and a cancelled token stays cancelled.
//
// Thread safety: every member may be called from any thread.

#include <dhis2/detail/config.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace dhis2 {

class CancellationToken {
  struct State;  // shared by the copies; defined with the definitions

 public:
  // A new token, not cancelled.
  CancellationToken();

  // Cancels every call that holds a copy of this token; idempotent. The first cancel() runs the
  // callbacks registered by calls in flight, on its thread, before it returns; they only shut
  // sockets down and wake waiting threads. An exception from a callback is dropped.
  void cancel() noexcept;

  bool cancelled() const noexcept;

  // Runs `on_cancel` once when the token is cancelled (at once, on this thread, if it already
  // is), until the returned registration is destroyed. For the library's transport and waits.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    // Waits for a callback running on another thread to finish: after it, the callback's
    // captures may be destroyed.
    ~Registration();

   private:
    friend class CancellationToken;
    Registration(std::shared_ptr<State> state, std::uint64_t id) : state_(std::move(state)), id_(id) {}
    std::shared_ptr<State> state_;
    std::uint64_t id_ = 0;
  };
  Registration on_cancel(std::function<void()> callback) const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/cancellation.ipp>
#endif

#endif  // DHIS2_CANCELLATION_HPP
