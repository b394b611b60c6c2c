// The notification feed decoders (a body of /api/system/tasks/{type}/{id}): the whole-body
// decoder, the reader that stops at a row (notifications_until) and the tail fast path
// (feed_tail and rows_through_tail). The fast paths must give exactly the rows the whole-body
// decoding gives. Input: one byte (where notifications_until stops), then the body; after a 0xFF
// byte, the new rows of a later body that keeps this one's rows below its newest.

#include <dhis2/detail/feed_tail.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/notification.hpp>

#include "fuzz.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace {

std::optional<std::vector<dhis2::Notification>> decode(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  try {
    return dhis2::notifications_from_json(json, "feed");
  } catch (const dhis2::Error&) {
    return std::nullopt;
  }
}

std::string dump(const std::vector<dhis2::Notification>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : rows) {
    nlohmann::json row;
    dhis2::to_json(row, n);
    out.push_back(row);
  }
  return out.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t stop_at = data[0] % 8;
  const std::string rest(fuzz::text(data + 1, size - 1));
  const auto split = rest.find('\xff');
  const std::string body = rest.substr(0, split);
  const std::string new_rows = split == std::string::npos ? std::string() : rest.substr(split + 1);

  const auto whole = decode(body);

  // notifications_until: through the stop row, the same rows as the whole decoding's first ones.
  std::size_t calls = 0;
  std::optional<std::vector<dhis2::Notification>> until;
  try {
    until = dhis2::detail::notifications_until(
        body, [&](const dhis2::Notification&) { return calls++ == stop_at; }, "feed");
  } catch (const dhis2::Error&) {
    until.reset();
  }
  if (whole && stop_at < whole->size()) {
    fuzz::require(until.has_value(), "notifications_until reads a body the whole decoding reads", body);
    const std::vector<dhis2::Notification> prefix(whole->begin(), whole->begin() + static_cast<long>(stop_at + 1));
    fuzz::require(dump(*until) == dump(prefix), "notifications_until gives the whole decoding's rows", body);
  }
  if (until && whole) {
    fuzz::require(until->size() == stop_at + 1, "notifications_until stops at the stop row", body);
  }

  // The tail fast path, on a later body made of new rows above this body's tail.
  (void)dhis2::detail::second_row_offset(body);
  if (!whole) return 0;
  // Progress from the rows, oldest first: never throws (but for std::bad_alloc).
  (void)dhis2::JobProgress::from_notifications(std::vector<dhis2::Notification>(whole->rbegin(), whole->rend()));
  auto tail = dhis2::detail::feed_tail(body, *whole);
  if (!tail) return 0;
  fuzz::require(tail->bytes <= body.size(), "the tail lies within the body", body);
  for (const std::string& later : {"[" + new_rows + "," + body.substr(body.size() - tail->bytes), new_rows}) {
    auto kept = *tail;
    std::optional<std::vector<dhis2::Notification>> fast;
    try {
      fast = dhis2::detail::rows_through_tail(later, kept, "feed");
    } catch (const dhis2::Error&) {
      fast.reset();
    }
    if (!fast) continue;
    const auto full = decode(later);
    fuzz::require(full.has_value(), "rows_through_tail reads only a body that decodes whole", later);
    fuzz::require(dump(*fast) == dump(*full), "rows_through_tail gives the whole decoding's rows", later);
    fuzz::require(dump(kept.rows) == dump(std::vector<dhis2::Notification>(full->begin() + 1, full->end())),
                  "the kept tail becomes the later body's own", later);
  }
  return 0;
}
