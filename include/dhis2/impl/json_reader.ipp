#ifndef DHIS2_IMPL_JSON_READER_IPP
#define DHIS2_IMPL_JSON_READER_IPP

// Definitions of <dhis2/detail/json_reader.hpp>.

#include <dhis2/detail/json_reader.hpp>

#include <cmath>
#include <limits>

namespace dhis2 {
namespace detail {

DHIS2CPP_INLINE std::string describe_json_type(const nlohmann::json& value) {
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

DHIS2CPP_INLINE void throw_wrong_type(const std::string& path, const char* expected, const nlohmann::json& actual) {
  throw DecodeError(path, expected, describe_json_type(actual));
}

DHIS2CPP_INLINE std::string decode_string(const nlohmann::json& value, const std::string& path) {
  if (!value.is_string()) throw_wrong_type(path, "a string", value);
  return value.get<std::string>();
}

DHIS2CPP_INLINE bool decode_bool(const nlohmann::json& value, const std::string& path) {
  if (!value.is_boolean()) throw_wrong_type(path, "a boolean", value);
  return value.get<bool>();
}

DHIS2CPP_INLINE std::int64_t decode_int(const nlohmann::json& value, const std::string& path) {
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

DHIS2CPP_INLINE JsonReader::JsonReader(const nlohmann::json& value, std::string path)
    : value_(value), path_(std::move(path)) {
  if (!value_.is_object()) throw_wrong_type(path_, "an object", value_);
}

DHIS2CPP_INLINE std::string JsonReader::path_of(const char* key) const { return path_ + "." + key; }

DHIS2CPP_INLINE const nlohmann::json* JsonReader::find(const char* key) const {
  const auto it = value_.find(key);
  if (it == value_.end() || it->is_null()) return nullptr;
  return &*it;
}

DHIS2CPP_INLINE std::string JsonReader::string(const char* key, std::string fallback) const {
  const auto* v = find(key);
  return v ? decode_string(*v, path_of(key)) : std::move(fallback);
}
DHIS2CPP_INLINE std::optional<std::string> JsonReader::optional_string(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return decode_string(*v, path_of(key));
}
DHIS2CPP_INLINE bool JsonReader::boolean(const char* key, bool fallback) const {
  const auto* v = find(key);
  return v ? decode_bool(*v, path_of(key)) : fallback;
}
DHIS2CPP_INLINE std::int64_t JsonReader::integer(const char* key, std::int64_t fallback) const {
  const auto* v = find(key);
  return v ? decode_int(*v, path_of(key)) : fallback;
}
DHIS2CPP_INLINE std::optional<std::int64_t> JsonReader::optional_integer(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return decode_int(*v, path_of(key));
}
DHIS2CPP_INLINE nlohmann::json JsonReader::any(const char* key) const {
  const auto* v = find(key);
  return v ? *v : nlohmann::json();
}
DHIS2CPP_INLINE std::optional<JsonReader> JsonReader::object(const char* key) const {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  return JsonReader(*v, path_of(key));
}

}  // namespace detail
}  // namespace dhis2

#endif  // DHIS2_IMPL_JSON_READER_IPP
