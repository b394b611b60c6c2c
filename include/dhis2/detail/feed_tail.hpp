#ifndef DHIS2_DETAIL_FEED_TAIL_HPP
#define DHIS2_DETAIL_FEED_TAIL_HPP

// What a watcher keeps of a feed body between polls so that it need not read the whole body
// again: its digest (was it this very body?) and, on DHIS2 2.38-2.40.7, its rows below the newest
// (the part of the list that comes back unchanged, since a task list only grows at its head).

#include <dhis2/detail/config.hpp>
#include <dhis2/notification.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dhis2 {
namespace detail {

// What tells one feed body from another without keeping it: its size and two 64-bit hashes of
// its bytes, four lanes of eight bytes (a few microseconds for a 500-row feed). Not cryptographic
// and not keyed: an accidental collision (about 2^-128) would make one poll look unchanged, or
// (for a FeedTail) take the kept rows for bytes that differ from them.
struct BodyDigest {
  std::size_t size = 0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  bool operator==(const BodyDigest& o) const noexcept { return size == o.size && a == o.a && b == o.b; }
};
BodyDigest body_digest(std::string_view bytes) noexcept;

// The rows of a feed body below its newest one: how many bytes of the body they take (from the
// second row to the end, the closing bracket included), the digest of those bytes, and the rows,
// decoded, newest first.
struct FeedTail {
  std::size_t bytes = 0;
  BodyDigest digest;
  std::vector<Notification> rows;
};

// The offset in `body` (a JSON array of objects) where its second element starts; empty when the
// body has fewer than two elements or its first element is not an object. Reads only the first
// element's bytes.
std::optional<std::size_t> second_row_offset(std::string_view body);

// The tail of `body`, whose rows decoded newest first are `newest_first`; empty when it has fewer
// than two rows.
std::optional<FeedTail> feed_tail(const std::string& body, const std::vector<Notification>& newest_first);

// The rows of `body`, newest first, when it ends with `tail`'s bytes: the rows before them are
// decoded, the rest are `tail`'s; `tail` then becomes `body`'s own. Empty, with `tail` unchanged,
// when the body does not end with those bytes at a row boundary or its head does not decode: the
// caller reads the whole body then. The rows are those a decoding of the whole body gives.
std::optional<std::vector<Notification>> rows_through_tail(const std::string& body, FeedTail& tail,
                                                           const std::string& path);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/feed_tail.ipp>
#endif

#endif  // DHIS2_DETAIL_FEED_TAIL_HPP
