#ifndef DHIS2_IMPL_FEED_TAIL_IPP
#define DHIS2_IMPL_FEED_TAIL_IPP

// Definitions of <dhis2/detail/feed_tail.hpp>.

#include <dhis2/detail/feed_tail.hpp>

#include <cstring>
#include <exception>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE BodyDigest body_digest(std::string_view body) noexcept {
  // Four independent lanes of multiply-xor over 8-byte words, so that the multiplies overlap (a
  // 41 KB feed in a few microseconds); each step is a bijection of the lane, so a body that differs
  // from another in one word always differs in its digest.
  const auto fmix = [](std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
  };
  const auto rotl = [](std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  std::uint64_t lane[4] = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL, 0x2545f4914f6cdd1dULL};
  constexpr std::uint64_t kMul[4] = {0x87c37b91114253d5ULL, 0x4cf5ad432745937fULL, 0xc6a4a7935bd1e995ULL,
                                     0x9fb21c651e98df25ULL};
  const char* p = body.data();
  std::size_t left = body.size();
  for (; left >= 32; p += 32, left -= 32) {
    for (int i = 0; i < 4; ++i) {
      std::uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      lane[i] = rotl(lane[i] ^ w, 29) * kMul[i];
    }
  }
  for (int i = 0; left > 0; ++i) {
    std::uint64_t w = 0;
    const std::size_t n = left < 8 ? left : 8;
    std::memcpy(&w, p, n);
    lane[i] = rotl(lane[i] ^ w ^ (static_cast<std::uint64_t>(n) << 56), 29) * kMul[i];
    p += n;
    left -= n;
  }
  BodyDigest d;
  d.size = body.size();
  d.a = fmix(lane[0] ^ rotl(lane[1], 17) ^ rotl(lane[2], 31) ^ rotl(lane[3], 47) ^ body.size());
  d.b = fmix(lane[0] + lane[1] * 3 + lane[2] * 5 + lane[3] * 7 + body.size());
  return d;
}

namespace feed_tail_scan {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

}  // namespace feed_tail_scan

DHIS2CPP_INLINE std::optional<std::size_t> second_row_offset(std::string_view body) {
  using feed_tail_scan::skip_space;
  std::size_t i = skip_space(body, 0);
  if (i >= body.size() || body[i] != '[') return std::nullopt;
  i = skip_space(body, i + 1);
  if (i >= body.size() || body[i] != '{') return std::nullopt;
  // The first element, to its closing brace: brackets counted outside strings.
  int depth = 0;
  bool in_string = false;
  for (; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
  }
  if (i >= body.size()) return std::nullopt;  // the first element does not end
  i = skip_space(body, i + 1);
  if (i >= body.size() || body[i] != ',') return std::nullopt;  // one element only, or not an array
  i = skip_space(body, i + 1);
  if (i >= body.size()) return std::nullopt;
  return i;
}

DHIS2CPP_INLINE std::optional<FeedTail> feed_tail(const std::string& body,
                                                  const std::vector<Notification>& newest_first) {
  if (newest_first.size() < 2) return std::nullopt;
  const auto start = second_row_offset(body);
  if (!start) return std::nullopt;
  FeedTail tail;
  tail.bytes = body.size() - *start;
  tail.digest = body_digest(std::string_view(body).substr(*start));
  tail.rows.assign(std::next(newest_first.begin()), newest_first.end());
  return tail;
}

DHIS2CPP_INLINE std::optional<std::vector<Notification>> rows_through_tail(const std::string& body, FeedTail& tail,
                                                                           const std::string& path) {
  if (tail.rows.empty() || body.size() <= tail.bytes) return std::nullopt;
  const std::size_t at = body.size() - tail.bytes;
  if (!(body_digest(std::string_view(body).substr(at)) == tail.digest)) return std::nullopt;
  // The old tail must follow a row's separating comma. The head before it, closed with a bracket,
  // must then decode as an array of rows: had the tail's bytes begun inside a string or a row of
  // the head, the head would not be well-formed JSON.
  std::size_t comma = at;
  while (comma > 0 && feed_tail_scan::is_space(body[comma - 1])) --comma;
  if (comma == 0 || body[comma - 1] != ',') return std::nullopt;
  std::string head(body, 0, comma - 1);
  head += ']';
  std::vector<Notification> rows;
  try {
    const nlohmann::json parsed = nlohmann::json::parse(head);
    if (!parsed.is_array() || parsed.empty()) return std::nullopt;
    rows = notifications_from_json(parsed, path);
  } catch (const std::exception&) {
    return std::nullopt;  // the whole body's reading reports what is wrong
  }
  // The new tail: the head's rows below its newest, then the old tail's rows.
  const auto start = second_row_offset(body);
  if (!start) return std::nullopt;
  FeedTail next;
  next.bytes = body.size() - *start;
  next.digest = body_digest(std::string_view(body).substr(*start));
  next.rows.reserve(rows.size() - 1 + tail.rows.size());
  next.rows.assign(std::make_move_iterator(std::next(rows.begin())), std::make_move_iterator(rows.end()));
  rows.resize(1);
  next.rows.insert(next.rows.end(), std::make_move_iterator(tail.rows.begin()), std::make_move_iterator(tail.rows.end()));
  tail = std::move(next);
  rows.insert(rows.end(), tail.rows.begin(), tail.rows.end());
  return rows;
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_FEED_TAIL_IPP
