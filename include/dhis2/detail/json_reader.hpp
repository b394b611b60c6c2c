#ifndef DHIS2_DETAIL_JSON_READER_HPP
#define DHIS2_DETAIL_JSON_READER_HPP

// Reading DHIS2 JSON field by field with the path kept, so a body of the wrong shape fails with
// "webMessage.response.typeReports[0].stats.created: expected an integer, got a string".
// DHIS2 omits null properties, so an absent field and a null field both read as "not there".

#include <dhis2/detail/config.hpp>
#include <dhis2/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhis2 {
namespace detail {

std::string describe_json_type(const nlohmann::json& value);

[[noreturn]] void throw_wrong_type(const std::string& path, const char* expected, const nlohmann::json& actual);

// Decoders of single values. Each takes the value and the path it was found at.
std::string decode_string(const nlohmann::json& value, const std::string& path);

bool decode_bool(const nlohmann::json& value, const std::string& path);

std::int64_t decode_int(const nlohmann::json& value, const std::string& path);

// A field-by-field view of one JSON object at a known path.
class JsonReader {
 public:
  // Throws DecodeError unless `value` is an object.
  JsonReader(const nlohmann::json& value, std::string path);

  const std::string& path() const noexcept { return path_; }
  const nlohmann::json& json() const noexcept { return value_; }
  std::string path_of(const char* key) const;

  // The field's value, or nullptr when it is absent or null.
  const nlohmann::json* find(const char* key) const;
  bool has(const char* key) const { return find(key) != nullptr; }

  std::string string(const char* key, std::string fallback = {}) const;
  std::optional<std::string> optional_string(const char* key) const;
  bool boolean(const char* key, bool fallback = false) const;
  std::int64_t integer(const char* key, std::int64_t fallback = 0) const;
  std::optional<std::int64_t> optional_integer(const char* key) const;
  // Any JSON value, kept as is; null when absent.
  nlohmann::json any(const char* key) const;
  // A nested object; throws DecodeError when present but not an object.
  std::optional<JsonReader> object(const char* key) const;

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

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/json_reader.ipp>
#endif

#endif  // DHIS2_DETAIL_JSON_READER_HPP
