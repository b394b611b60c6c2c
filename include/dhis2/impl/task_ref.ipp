#ifndef DHIS2_IMPL_TASK_REF_IPP
#define DHIS2_IMPL_TASK_REF_IPP

// Definitions of <dhis2/task_ref.hpp>.

#include <dhis2/task_ref.hpp>

#include <dhis2/detail/base64.hpp>
#include <dhis2/detail/crc32.hpp>

#include <cstdio>
#include <tuple>

#include <nlohmann/json.hpp>

namespace dhis2 {

DHIS2CPP_INLINE TaskRef TaskRef::parse(std::string_view text) {
  if (text.substr(0, kTokenTag.size()) == kTokenTag) return from_token(text);
  const auto slash = text.rfind('/');
  if (slash == std::string_view::npos) fail(text, "there is no '/'");
  TaskRef ref{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1)), std::nullopt, std::nullopt};
  check_parts(ref, text);
  return ref;
}

DHIS2CPP_INLINE std::string TaskRef::resume_token() const {
  nlohmann::json body = {{"t", job_type}, {"u", uid}};
  if (kickoff) body["k"] = format_local_time(*kickoff);
  if (position) {
    const WatchPosition& p = *position;
    nlohmann::json pos = {{"n", p.delivered}};
    if (!p.anchor.empty()) pos["a"] = p.anchor;
    if (!p.anchor_time.empty()) pos["at"] = p.anchor_time;
    if (p.anchor_completed) pos["ac"] = true;
    if (!p.loop.empty()) pos["l"] = p.loop;
    if (p.content_keys) pos["c"] = true;
    if (p.stale_copy) pos["s"] = true;
    body["p"] = pos;
  }
  const std::string signed_part = std::string(kTokenTag) + detail::base64url_encode(body.dump());
  return signed_part + "." + checksum(signed_part);
}

DHIS2CPP_INLINE bool TaskRef::is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

DHIS2CPP_INLINE void TaskRef::check_parts(const TaskRef& ref, std::string_view text) {
  if (ref.job_type.empty()) fail(text, "the job type before the '/' is empty");
  if (ref.uid.empty()) fail(text, "the job id after the '/' is empty");
  for (char c : ref.job_type) {
    if (!is_alnum(c) && c != '_') fail(text, "the job type may hold only letters, digits and '_'");
  }
  for (char c : ref.uid) {
    if (!is_alnum(c)) fail(text, "the job id may hold only letters and digits");
  }
}

DHIS2CPP_INLINE std::string TaskRef::checksum(std::string_view signed_part) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(detail::crc32_padded(signed_part)));
  return hex;
}

DHIS2CPP_INLINE TaskRef TaskRef::from_token(std::string_view text) {
  const auto dot = text.rfind('.');
  if (dot < kTokenTag.size()) token_fail(text, "it is truncated: the checksum after the last '.' is missing");
  const std::string_view signed_part = text.substr(0, dot);
  const std::string_view sum = text.substr(dot + 1);
  if (sum.size() != 8 || checksum(signed_part) != sum) {
    token_fail(text, "its checksum does not match: it was truncated or edited; copy the whole token again");
  }
  const auto decoded = detail::base64_decode(signed_part.substr(kTokenTag.size()));
  if (!decoded) token_fail(text, "it is damaged (not base64url)");
  const auto body = nlohmann::json::parse(*decoded, nullptr, false);
  if (!body.is_object()) token_fail(text, "it is damaged (its content is not a JSON object)");
  const auto text_field = [&](const nlohmann::json& object, const char* key, bool required) -> std::string {
    const auto it = object.find(key);
    if (it == object.end()) {
      if (required) token_fail(text, std::string("it lacks the field \"") + key + "\"");
      return {};
    }
    if (!it->is_string()) token_fail(text, std::string("its field \"") + key + "\" is not a string");
    return it->get<std::string>();
  };
  const auto flag = [&](const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end()) return false;
    if (!it->is_boolean()) token_fail(text, std::string("its field \"") + key + "\" is not a boolean");
    return it->get<bool>();
  };
  TaskRef ref{text_field(body, "t", true), text_field(body, "u", true), std::nullopt, std::nullopt};
  if (ref.job_type.empty() || ref.uid.empty()) token_fail(text, "its job type or job id is empty");
  check_parts(ref, ref.str());
  if (body.contains("k")) {
    ref.kickoff = parse_local_time(text_field(body, "k", true));
    if (!ref.kickoff) token_fail(text, "its kick-off time is not a DHIS2 time");
  }
  if (body.contains("p")) {
    const auto& p = body["p"];
    if (!p.is_object()) token_fail(text, "its position is not an object");
    WatchPosition pos;
    pos.anchor = text_field(p, "a", false);
    pos.anchor_time = text_field(p, "at", false);
    pos.anchor_completed = flag(p, "ac");
    pos.loop = text_field(p, "l", false);
    pos.content_keys = flag(p, "c");
    pos.stale_copy = flag(p, "s");
    const auto n = p.find("n");
    if (n == p.end() || !n->is_number_unsigned()) token_fail(text, "its position has no row count");
    pos.delivered = n->get<std::uint64_t>();
    ref.position = pos;
  }
  return ref;
}

DHIS2CPP_INLINE void TaskRef::fail(std::string_view text, const char* why) {
  throw UsageError("invalid task reference \"" + std::string(text) + "\": " + why +
                   "; expected JOB_TYPE/UID, e.g. ANALYTICS_TABLE/BFa3jDsbtdO, or a resume token");
}

DHIS2CPP_INLINE void TaskRef::token_fail(std::string_view text, const std::string& why) {
  const std::string shown = text.size() > 40 ? std::string(text.substr(0, 40)) + "..." : std::string(text);
  throw UsageError("invalid resume token \"" + shown + "\": " + why);
}

}  // namespace dhis2

DHIS2CPP_INLINE std::size_t std::hash<dhis2::TaskRef>::operator()(const dhis2::TaskRef& ref) const noexcept {
  const std::size_t h = std::hash<std::string>{}(ref.job_type);
  return h ^ (std::hash<std::string>{}(ref.uid) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

#endif  // DHIS2_IMPL_TASK_REF_IPP
