#ifndef DHIS2_TESTING_IMPL_ID_GENERATOR_IPP
#define DHIS2_TESTING_IMPL_ID_GENERATOR_IPP

// Definitions of <dhis2/testing/id_generator.hpp>.

#include <dhis2/testing/id_generator.hpp>

#include <algorithm>
#include <map>

namespace dhis2 {
namespace testing {
namespace detail {

DHIS2CPP_INLINE std::string IdGenerator::new_uid() {
  static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  static constexpr char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uniform_int_distribution<int> letter(0, 51);
  std::uniform_int_distribution<int> any(0, 61);
  std::string uid(1, letters[letter(random_)]);
  for (int i = 0; i < 10; ++i) uid += alnum[any(random_)];
  return uid;
}

DHIS2CPP_INLINE std::string IdGenerator::uid_from_timestamp(std::int64_t ms) {
  static constexpr char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string digits;
  auto value = static_cast<std::uint64_t>(ms);
  for (int i = 0; i < 10; ++i, value /= 62) digits.insert(digits.begin(), alnum[value % 62]);
  return "n" + digits;
}

DHIS2CPP_INLINE std::int64_t IdGenerator::row_ms(std::int64_t ms, bool unique) {
  if (unique && ms <= last_row_ms_) ms = last_row_ms_ + 1;  // unique per node (§1.2)
  last_row_ms_ = std::max(last_row_ms_, ms);
  return ms;
}

DHIS2CPP_INLINE std::string IdGenerator::ad_hoc_name(const std::string& type, std::chrono::system_clock::time_point now,
                                                     bool unique_timestamp) {
  if (unique_timestamp) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    if (ms <= last_name_ms_) ms = last_name_ms_ + 1;
    last_name_ms_ = ms;
    return type + " (" + std::to_string(ms) + ")";
  }
  static const std::map<std::string, std::string> names = {
      {"ANALYTICS_TABLE", "inMemoryAnalyticsJob"}, {"RESOURCE_TABLE", "inMemoryResourceTableJob"},
      {"MONITORING", "inMemoryMonitoringJob"},     {"PREDICTOR", "inMemoryPrediction"},
      {"DATAVALUE_IMPORT", "dataValueImport"},     {"METADATA_IMPORT", "metadataImport"},
      {"TRACKER_IMPORT_JOB", "trackerImport"},     {"DATA_INTEGRITY", "inMemoryDataIntegrityJob"}};
  const auto it = names.find(type);
  return it != names.end() ? it->second : "inMemory" + type;
}

}  // namespace detail
}  // namespace testing
}  // namespace dhis2

#endif  // DHIS2_TESTING_IMPL_ID_GENERATOR_IPP
