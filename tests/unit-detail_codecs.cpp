// The codecs under the library's credentials and tokens, against published vectors: base64 and
// base64url (RFC 4648 §10), CRC-32 (the IEEE check value, and DHIS2's padded token checksums
// from dhis2-wire.md §6.2).
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>

TEST_CASE("base64 encodes RFC 4648's test vectors") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& v : vectors) {
    INFO(v.first);
    CHECK(dhis2::detail::base64_encode(v.first) == v.second);
    const auto back = dhis2::detail::base64_decode(v.second);
    REQUIRE(back);
    CHECK(*back == v.first);
    std::string unpadded = v.second;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    CHECK(dhis2::detail::base64url_encode(v.first) == unpadded);
    CHECK(dhis2::detail::base64_decode(unpadded) == std::optional<std::string>(v.first));
  }
}

TEST_CASE("base64url uses - and _ where base64 uses + and /") {
  const std::string bytes = "\xfb\xff\xbf";
  CHECK(dhis2::detail::base64_encode(bytes) == "+/+/");
  CHECK(dhis2::detail::base64url_encode(bytes) == "-_-_");
  CHECK(dhis2::detail::base64_decode("-_-_") == std::optional<std::string>(bytes));
  CHECK(dhis2::detail::base64_encode("admin:district") == "YWRtaW46ZGlzdHJpY3Q=");  // HTTP Basic
}

TEST_CASE("base64 decoding refuses what no encoder writes") {
  for (const char* bad : {"Z", "Zg=a", "Zg===", "Z===", "Zm9v!", "Zm 9v", "Zm9vY"}) {
    INFO(bad);
    CHECK_FALSE(dhis2::detail::base64_decode(bad));
  }
}

TEST_CASE("CRC-32 gives the IEEE check value and DHIS2's padded token checksums") {
  CHECK(dhis2::detail::crc32_padded("123456789") == 0xCBF43926U);
  CHECK(dhis2::detail::crc32_padded("") == 0U);
  // dhis2-wire.md §6.2: the V1 fixture's secret, with 3 NUL bytes, gives 174669582.
  CHECK(dhis2::detail::crc32_padded("e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O5", 3) == 174669582U);
}

TEST_CASE("ASCII case helpers change ASCII letters only, whatever the C locale") {
  CHECK(dhis2::detail::iequals("Content-Type", "content-TYPE"));
  CHECK_FALSE(dhis2::detail::iequals("Content-Type", "Content-Typ"));
  CHECK_FALSE(dhis2::detail::iequals("a", "b"));
  CHECK(dhis2::detail::to_lower("HTTPS://Play.DHIS2.org") == "https://play.dhis2.org");
  CHECK(dhis2::detail::to_upper("analytics_table") == "ANALYTICS_TABLE");
  // Bytes outside ASCII (here UTF-8 for "É") pass through unchanged in both directions.
  CHECK(dhis2::detail::to_lower("\xC3\x89T\xC3\x89") == "\xC3\x89t\xC3\x89");
  CHECK(dhis2::detail::to_upper("\xC3\xA9t\xC3\xA9") == "\xC3\xA9T\xC3\xA9");
}

TEST_CASE("trim drops spaces, tabs, CRs and LFs at either end only") {
  using dhis2::detail::trim;
  CHECK(trim("  gzip\t") == "gzip");
  CHECK(trim("\r\n2.42.1 \n") == "2.42.1");
  CHECK(trim("a b") == "a b");
  CHECK(trim(" \t\r\n").empty());
  CHECK(trim("").empty());
}

TEST_CASE("Header redaction keeps the scheme of credentials and nothing else of them") {
  using dhis2::detail::redacted_header_value;
  CHECK(redacted_header_value("Authorization", "Basic YWRtaW46ZGlzdHJpY3Q=") == "Basic [redacted]");
  CHECK(redacted_header_value("authorization", "ApiToken d2pat_abc") == "ApiToken [redacted]");
  CHECK(redacted_header_value("Proxy-Authorization", "Bearer eyJ.x.y") == "Bearer [redacted]");
  // A value without a scheme keeps nothing.
  CHECK(redacted_header_value("AUTHORIZATION", "secret") == "[redacted]");
  CHECK(redacted_header_value("Cookie", "JSESSIONID=abc") == "[redacted]");
  CHECK(redacted_header_value("set-cookie", "JSESSIONID=abc; Path=/") == "[redacted]");
  CHECK(redacted_header_value("Accept", "application/json") == "application/json");
  CHECK(redacted_header_value("X-Authorization-Hint", "Basic x") == "Basic x");
}
