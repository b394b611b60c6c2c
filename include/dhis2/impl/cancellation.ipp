#ifndef DHIS2_IMPL_CANCELLATION_IPP
#define DHIS2_IMPL_CANCELLATION_IPP

// Definitions of <dhis2/cancellation.hpp>.

#include <dhis2/cancellation.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace dhis2 {

struct CancellationToken::State {
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  std::condition_variable done;  // a callback finished
  std::map<std::uint64_t, std::function<void()>> callbacks;
  std::uint64_t next_id = 1;
  std::uint64_t running = 0;  // the id of the callback cancel() runs now, or 0
  std::thread::id runner;     // the thread that runs it
};

DHIS2CPP_INLINE CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

DHIS2CPP_INLINE void CancellationToken::cancel() noexcept {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (state_->cancelled.exchange(true)) return;
  state_->runner = std::this_thread::get_id();
  // One at a time, without the lock: a callback may take other locks. A Registration destroyed
  // meanwhile waits for its callback to finish (or is skipped if it has not started).
  while (!state_->callbacks.empty()) {
    auto it = state_->callbacks.begin();
    const std::uint64_t id = it->first;
    std::function<void()> callback = std::move(it->second);
    state_->callbacks.erase(it);
    state_->running = id;
    lock.unlock();
    try {
      callback();
    } catch (...) {
      // A cancel callback must not throw; one that does cannot stop the others.
    }
    lock.lock();
    state_->running = 0;
    state_->done.notify_all();
  }
}

DHIS2CPP_INLINE bool CancellationToken::cancelled() const noexcept { return state_->cancelled.load(); }

DHIS2CPP_INLINE CancellationToken::Registration CancellationToken::on_cancel(std::function<void()> callback) const {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->cancelled.load()) {
      const std::uint64_t id = state_->next_id++;
      state_->callbacks.emplace(id, std::move(callback));
      return Registration(state_, id);
    }
  }
  try {
    callback();  // already cancelled: at once, as cancel() would have
  } catch (...) {
  }
  return Registration();
}

DHIS2CPP_INLINE CancellationToken::Registration::Registration(Registration&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.id_ = 0;
}

DHIS2CPP_INLINE CancellationToken::Registration& CancellationToken::Registration::operator=(
    Registration&& other) noexcept {
  if (this != &other) {
    Registration gone(std::move(*this));
    state_ = std::move(other.state_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

DHIS2CPP_INLINE CancellationToken::Registration::~Registration() {
  if (!state_ || id_ == 0) return;
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->callbacks.erase(id_);
  // A callback that runs on this very thread (it destroys its own registration) cannot be waited for.
  if (state_->runner != std::this_thread::get_id()) {
    state_->done.wait(lock, [this] { return state_->running != id_; });
  }
}

}  // namespace dhis2

#endif  // DHIS2_IMPL_CANCELLATION_IPP
