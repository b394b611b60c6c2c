#ifndef DHIS2_DETAIL_JSON_READER_HPP
#define DHIS2_DETAIL_JSON_READER_HPP

// Reading DHIS2 JSON field by field with the path kept, so a body of the wrong shape fails with
// "webMessage.response.typeReports[0].stats.created: expected an integer, got a string".
// DHIS2 omits null properties, so an absent field and a null field both read as "not there".

#include <dhis2/errors.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace detail {

inline std::string describe_json_type(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::binary: return "binary data";
    case nlohmann::json::value_t::discarded: break;
  }
  return "an invalid value";
}

[[noreturn]] inline void throw_wrong_type(const std::string& path, const char* expected,
                                          const nlohmann::json& actual) {
  throw DecodeError(path, expected, describe_json_type(actual));
}

// Decoders of single values. Each takes the value and the path it was found at.
inline std::string decode_string(const nlohmann::json& value, const std::string& path) {
  if (!value.is_string()) throw_wrong_type(path, "a string", value);
  return value.get<std::string>();
}

inline bool decode_bool(const nlohmann::json& value, const std::string& path) {
  if (!value.is_boolean()) throw_wrong_type(path, "a boolean", value);
  return value.get<bool>();
}

inline std::int64_t decode_int(const nlohmann::json& value, const std::string& path) {
  if (value.is_number_unsigned()) {  // nlohmann counts unsigned as integer too: check it first
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw DecodeError(path, "an integer", "the out-of-range number " + value.dump());
    }
    return static_cast<std::int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    // Java serialises counts as integers; accept 3.0 (some proxies re-encode) but not 3.5.
    const double d = value.get<double>();
    constexpr double limit = 9.2e18;  // inside int64 range, exactly representable
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < limit) {
      return static_cast<std::int64_t>(d);
    }
    throw DecodeError(path, "an integer", "the number " + value.dump());
  }
  throw_wrong_type(path, "an integer", value);
}

// A field-by-field view of one JSON object at a known path.
class JsonReader {
 public:
  // Throws DecodeError unless `value` is an object.
  JsonReader(const nlohmann::json& value, std::string path) : value_(value), path_(std::move(path)) {
    if (!value_.is_object()) throw_wrong_type(path_, "an object", value_);
  }

  const std::string& path() const noexcept { return path_; }
  const nlohmann::json& json() const noexcept { return value_; }
  std::string path_of(const char* key) const { return path_ + "." + key; }

  // The field's value, or nullptr when it is absent or null.
  const nlohmann::json* find(const char* key) const {
    const auto it = value_.find(key);
    if (it == value_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool has(const char* key) const { return find(key) != nullptr; }

  std::string string(const char* key, std::string fallback = {}) const {
    const auto* v = find(key);
    return v ? decode_string(*v, path_of(key)) : std::move(fallback);
  }
  std::optional<std::string> optional_string(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    return decode_string(*v, path_of(key));
  }
  bool boolean(const char* key, bool fallback = false) const {
    const auto* v = find(key);
    return v ? decode_bool(*v, path_of(key)) : fallback;
  }
  std::int64_t integer(const char* key, std::int64_t fallback = 0) const {
    const auto* v = find(key);
    return v ? decode_int(*v, path_of(key)) : fallback;
  }
  std::optional<std::int64_t> optional_integer(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    return decode_int(*v, path_of(key));
  }
  // Any JSON value, kept as is; null when absent.
  nlohmann::json any(const char* key) const {
    const auto* v = find(key);
    return v ? *v : nlohmann::json();
  }
  // A nested object; throws DecodeError when present but not an object.
  std::optional<JsonReader> object(const char* key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    return JsonReader(*v, path_of(key));
  }

  // An array decoded element by element with `decode(element, path)`; empty when absent.
  template <class Decode>
  auto array(const char* key, Decode decode) const
      -> std::vector<decltype(decode(std::declval<const nlohmann::json&>(), std::string()))> {
    std::vector<decltype(decode(std::declval<const nlohmann::json&>(), std::string()))> out;
    const auto* v = find(key);
    if (!v) return out;
    const std::string base = path_of(key);
    if (!v->is_array()) throw_wrong_type(base, "an array", *v);
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
      out.push_back(decode((*v)[i], base + "[" + std::to_string(i) + "]"));
    }
    return out;
  }

 private:
  const nlohmann::json& value_;
  std::string path_;
};

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_DETAIL_JSON_READER_HPP
