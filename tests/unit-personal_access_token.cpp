// Personal access token format checks, against the upstream fixtures quoted in dhis2-wire.md §6.2.
#include <dhis2/dhis2.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {
const std::string v1 = "d2pat_e0b5Y9bXWtUcfEY8BMHHj9aJZkXCQ7O50174669582";
const std::string v2 = "d2p_iKrAY7sR6rPea1rub181baRzyyui2AW07ymXPRExAgwa051Mei";
}  // namespace

TEST_CASE("Real V1 and V2 tokens pass: the checksum covers the NUL-padded secret") {
  CHECK_FALSE(dhis2::pat_problem(v1));
  CHECK_FALSE(dhis2::pat_problem(v2));
  CHECK(dhis2::pat_format(v1) == dhis2::PatFormat::V1);
  CHECK(dhis2::pat_format(v2) == dhis2::PatFormat::V2);
}

TEST_CASE("A token carrying a plain (unpadded) CRC32 fails, as on a 2.41+ server") {
  // The plain CRC32 of the same secrets, which a naive implementation would compute.
  const auto plain_v1 = v1.substr(0, 38) + "1702412917";
  const auto plain_v2 = v2.substr(0, 48) + "1jU4oK";
  CHECK_THAT(*dhis2::pat_problem(plain_v1), Catch::Contains("checksum does not match"));
  CHECK_THAT(*dhis2::pat_problem(plain_v2), Catch::Contains("checksum does not match"));
}

TEST_CASE("Mistyped tokens get a clear reason that never quotes the token") {
  std::string typo = v2;
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  const std::pair<std::string, const char*> cases[] = {
      {typo, "checksum does not match"},
      {v2.substr(0, 53), "has 54 characters, this one has 53"},
      {v2 + "\n", "has 54 characters, this one has 55"},
      {v1.substr(0, 47), "has 48 characters, this one has 47"},
      {"abc" + v2.substr(3), "starts with \"d2p_\" (V2) or \"d2pat_\" (V1)"},
      {"", "starts with \"d2p_\""},
      {v2.substr(0, 20) + " " + v2.substr(21), "only letters and digits"},
  };
  for (const auto& c : cases) {
    const auto problem = dhis2::pat_problem(c.first);
    REQUIRE(problem);
    CHECK_THAT(*problem, Catch::Contains(c.second));
    if (c.first.size() > 8) CHECK(problem->find(c.first.substr(4, 20)) == std::string::npos);
  }
}

TEST_CASE("make_pat mints tokens that pass, and refuses bad secrets") {
  CHECK(dhis2::make_pat(dhis2::PatFormat::V2, v2.substr(4, 44)) == v2);
  CHECK(dhis2::make_pat(dhis2::PatFormat::V1, v1.substr(6, 32)) == v1);
  const auto minted = dhis2::make_pat(dhis2::PatFormat::V2, std::string(44, 'Z'));
  REQUIRE(minted);
  CHECK_FALSE(dhis2::pat_problem(*minted));
  CHECK_FALSE(dhis2::make_pat(dhis2::PatFormat::V2, std::string(43, 'a')));
  CHECK_FALSE(dhis2::make_pat(dhis2::PatFormat::V1, std::string(31, 'a') + "!"));
}
