#!/usr/bin/env python3
"""Tests for tools/amalgamate.py.

Each test builds a small fixture tree in a temporary directory and runs the
script as a subprocess with --root, from an unrelated working directory.
Run with:  python3 tests/amalgamate/test_amalgamate.py   (from any cwd)

Checking the real repository is deliberately not done here; the ctest test
amalgamate_check runs `tools/amalgamate.py --check` on the real tree.
"""

import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "amalgamate.py"

VERSION_HPP = """\
#ifndef DHIS2_VERSION_HPP
#define DHIS2_VERSION_HPP
#define DHIS2CPP_VERSION_STRING "9.8.7"
#endif  // DHIS2_VERSION_HPP
"""

STALE_HINT = "run: python3 tools/amalgamate.py"


def hpp(name, body=""):
    """A header with an include guard around body."""
    guard = "FIXTURE_" + re.sub(r"\W", "_", name).upper()
    return "#ifndef %s\n#define %s\n%s\n#endif  // %s\n" % (
        guard,
        guard,
        textwrap.dedent(body).strip("\n"),
        guard,
    )


class AmalgamateTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="amalgamate-test-")
        self.addCleanup(self._tmp.cleanup)
        self.root = Path(self._tmp.name) / "repo"
        self.cwd = Path(self._tmp.name) / "elsewhere"
        self.cwd.mkdir()
        (self.root / "include").mkdir(parents=True)
        self.write_header("dhis2/version.hpp", VERSION_HPP)

    # helpers ----------------------------------------------------------------

    def write_header(self, rel, text):
        path = self.root / "include" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return path

    def run_script(self, *args):
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--root", str(self.root)] + list(args),
            cwd=str(self.cwd),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=60,
        )

    def generate(self):
        proc = self.run_script()
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        return proc

    @property
    def core_out(self):
        return self.root / "single_include" / "dhis2" / "dhis2.hpp"

    @property
    def testing_out(self):
        return self.root / "single_include" / "dhis2" / "testing.hpp"

    def read_out(self, path):
        return path.read_bytes().decode("utf-8")

    def code_lines(self, text):
        """Output lines without the banner (everything before the first blank line)."""
        lines = text.split("\n")
        return lines[lines.index("") + 1 :]

    def active_project_includes(self, text):
        return [
            line
            for line in text.split("\n")
            if re.match(r'^\s*#\s*include\s*[<"]dhis2/', line)
        ]

    def simple_tree(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            hpp("dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/a.hpp>\n"),
        )
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "int a_marker;\n"))

    # tests ------------------------------------------------------------------

    def test_help_mentions_check(self):
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "--help"],
            cwd=str(self.cwd),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=60,
        )
        self.assertEqual(proc.returncode, 0)
        self.assertIn("--check", proc.stdout)
        self.assertIn("--root", proc.stdout)

    def test_script_is_executable(self):
        self.assertTrue(os.access(str(SCRIPT), os.X_OK), "tools/amalgamate.py is not executable")

    def test_nested_inlining_once_with_markers(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            hpp(
                "dhis2.hpp",
                """
                #include <dhis2/version.hpp>
                #include <dhis2/a.hpp>
                #include <dhis2/b.hpp>
                """,
            ),
        )
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "#include <dhis2/detail/c.hpp>\nint a_marker;"))
        self.write_header(
            "dhis2/b.hpp",
            hpp("b.hpp", "#include <dhis2/detail/c.hpp>\n#include <dhis2/a.hpp>\nint b_marker;"),
        )
        self.write_header("dhis2/detail/c.hpp", hpp("detail/c.hpp", "int c_marker;"))
        self.generate()
        text = self.read_out(self.core_out)

        # Every file's content appears exactly once, with its own guard.
        self.assertEqual(text.count("int a_marker;"), 1)
        self.assertEqual(text.count("int b_marker;"), 1)
        self.assertEqual(text.count("int c_marker;"), 1)
        self.assertEqual(text.count("#ifndef FIXTURE_DETAIL_C_HPP"), 1)
        self.assertEqual(text.count('#define DHIS2CPP_VERSION_STRING "9.8.7"'), 1)

        # Opening markers: one per include line; closing markers: one per file.
        self.assertEqual(text.count("// #include <dhis2/detail/c.hpp>\n"), 2)
        self.assertEqual(text.count("// #include <dhis2/a.hpp>\n"), 2)
        self.assertEqual(text.count("// end of <dhis2/detail/c.hpp>\n"), 1)
        self.assertEqual(text.count("// end of <dhis2/a.hpp>\n"), 1)
        self.assertEqual(text.count("// end of <dhis2/b.hpp>\n"), 1)
        self.assertEqual(text.count("// end of <dhis2/version.hpp>\n"), 1)
        self.assertEqual(self.active_project_includes(text), [])

        # Depth-first order: c is inlined inside a, before a's own code.
        order = [
            text.index("// #include <dhis2/version.hpp>"),
            text.index("// #include <dhis2/a.hpp>"),
            text.index("// #include <dhis2/detail/c.hpp>"),
            text.index("int c_marker;"),
            text.index("// end of <dhis2/detail/c.hpp>"),
            text.index("int a_marker;"),
            text.index("// end of <dhis2/a.hpp>"),
            text.index("// #include <dhis2/b.hpp>"),
            text.index("int b_marker;"),
            text.index("// end of <dhis2/b.hpp>"),
        ]
        self.assertEqual(order, sorted(order))

        # Inside b, both repeated includes are bare markers directly followed by b's code.
        b_start = text.index("// #include <dhis2/b.hpp>")
        b_body = text[b_start : text.index("// end of <dhis2/b.hpp>")]
        self.assertIn(
            "// #include <dhis2/detail/c.hpp>\n// #include <dhis2/a.hpp>\nint b_marker;\n", b_body
        )

        # The marker wraps the file content exactly.
        self.assertIn(
            "// #include <dhis2/detail/c.hpp>\n"
            "#ifndef FIXTURE_DETAIL_C_HPP\n#define FIXTURE_DETAIL_C_HPP\nint c_marker;\n"
            "#endif  // FIXTURE_DETAIL_C_HPP\n"
            "// end of <dhis2/detail/c.hpp>\n",
            text,
        )

    def test_include_spelling_variants(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            "#  include <dhis2/version.hpp>\n"
            '#include "dhis2/q.hpp"\n'
            "  #\tinclude<dhis2/w.hpp>  // trailing comment\n"
            "#include <dhis2/detail/../x.hpp>\n",
        )
        self.write_header("dhis2/q.hpp", "int q_marker;\n")
        self.write_header("dhis2/w.hpp", "int w_marker;\n")
        self.write_header("dhis2/x.hpp", "int x_marker;\n")
        self.generate()
        text = self.read_out(self.core_out)
        self.assertEqual(self.active_project_includes(text), [])
        for marker in ("q_marker", "w_marker", "x_marker"):
            self.assertEqual(text.count("int %s;" % marker), 1)
        self.assertIn('// #include "dhis2/q.hpp"\nint q_marker;\n// end of <dhis2/q.hpp>\n', text)
        self.assertIn(
            "  // #\tinclude<dhis2/w.hpp>  // trailing comment\nint w_marker;\n  // end of <dhis2/w.hpp>\n",
            text,
        )
        self.assertIn("// end of <dhis2/x.hpp>\n", text)
        self.assertEqual(text.count("// end of <dhis2/version.hpp>\n"), 1)

    def test_other_includes_untouched_and_in_place(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            hpp(
                "dhis2.hpp",
                """
                #include <string>
                #include <dhis2/version.hpp>
                #include <nlohmann/json.hpp>
                #include <dhis2/a.hpp>
                #include "httplib.h"
                #  include <vector>
                """,
            ),
        )
        self.write_header(
            "dhis2/a.hpp",
            hpp("a.hpp", '#include <map>\n#include <httplib.h>\n#include "local.h"\nint a_marker;'),
        )
        self.generate()
        lines = self.code_lines(self.read_out(self.core_out))
        external = [l for l in lines if re.match(r"^\s*#\s*include", l)]
        self.assertEqual(
            external,
            [
                "#include <string>",
                "#include <nlohmann/json.hpp>",
                "#include <map>",
                "#include <httplib.h>",
                '#include "local.h"',
                '#include "httplib.h"',
                "#  include <vector>",
            ],
        )
        # Exact neighbourhood: external includes sit between the same lines as in the source.
        text = "\n".join(lines)
        self.assertIn("#define FIXTURE_DHIS2_HPP\n#include <string>\n// #include <dhis2/version.hpp>\n", text)
        self.assertIn(
            "// end of <dhis2/version.hpp>\n#include <nlohmann/json.hpp>\n// #include <dhis2/a.hpp>\n", text
        )
        self.assertIn(
            '#define FIXTURE_A_HPP\n#include <map>\n#include <httplib.h>\n#include "local.h"\nint a_marker;\n',
            text,
        )
        self.assertIn('// end of <dhis2/a.hpp>\n#include "httplib.h"\n#  include <vector>\n', text)

    def test_output_is_deterministic_with_banner_and_no_timestamp(self):
        self.simple_tree()
        self.generate()
        first = self.core_out.read_bytes()
        self.core_out.unlink()
        self.generate()
        second = self.core_out.read_bytes()
        self.assertEqual(first, second)

        # A second tree with the same content at another path gives the same bytes.
        other = Path(self._tmp.name) / "copy"
        (other / "include" / "dhis2").mkdir(parents=True)
        for name in ("dhis2.hpp", "a.hpp", "version.hpp"):
            (other / "include" / "dhis2" / name).write_bytes(
                (self.root / "include" / "dhis2" / name).read_bytes()
            )
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "--root", str(other)],
            cwd=str(self.cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=60,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual((other / "single_include" / "dhis2" / "dhis2.hpp").read_bytes(), first)

        text = first.decode("utf-8")
        banner = text.split("\n\n", 1)[0]
        self.assertTrue(banner.startswith("//"))
        self.assertTrue(all(l.startswith("//") for l in banner.split("\n")), banner)
        self.assertIn("tools/amalgamate.py", banner)
        self.assertIn("include/dhis2/dhis2.hpp", banner)
        self.assertIn("9.8.7", banner)
        self.assertIn("DO NOT EDIT", banner.upper())
        self.assertIn("python3 tools/amalgamate.py", banner)
        self.assertNotIn(str(self.root), text)
        self.assertIsNone(re.search(r"\b(19|20)\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", text), "timestamp found")
        self.assertNotIn(b"\r", first)
        self.assertTrue(first.endswith(b"\n") and not first.endswith(b"\n\n"))

    def test_crlf_sources_and_trailing_blank_lines_normalised(self):
        self.write_header("dhis2/dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/a.hpp>\n\n\n")
        (self.root / "include" / "dhis2" / "a.hpp").write_bytes(b"int a;\r\nint b;\r\n\r\n")
        self.generate()
        data = self.core_out.read_bytes()
        self.assertNotIn(b"\r", data)
        self.assertIn(b"int a;\nint b;\n// end of <dhis2/a.hpp>\n", data)
        self.assertTrue(data.endswith(b"// end of <dhis2/a.hpp>\n"))

    def test_unresolvable_include_fails_and_writes_nothing(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            "#include <dhis2/version.hpp>\n#include <dhis2/a.hpp>\n",
        )
        self.write_header("dhis2/a.hpp", "// a\n\n#include <dhis2/missing.hpp>\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/a.hpp:3", proc.stderr)
        self.assertIn("#include <dhis2/missing.hpp>", proc.stderr)
        self.assertFalse((self.root / "single_include").exists())

        # With a previously generated output, nothing is touched either.
        self.write_header("dhis2/a.hpp", "int a;\n")
        self.generate()
        before = self.core_out.read_bytes()
        self.write_header("dhis2/a.hpp", "int a2;\n#include \"dhis2/missing.hpp\"\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/a.hpp:2", proc.stderr)
        self.assertEqual(self.core_out.read_bytes(), before)
        self.assertEqual(sorted(p.name for p in self.core_out.parent.iterdir()), ["dhis2.hpp"])

        # --check reports the same error with exit 1.
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/a.hpp:2", proc.stderr)

    def test_include_escaping_the_include_dir_fails(self):
        self.write_header("dhis2/dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/../../secret.hpp>\n")
        (self.root / "secret.hpp").write_text("int secret;\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/dhis2.hpp:2", proc.stderr)
        self.assertFalse((self.root / "single_include").exists())

    def test_missing_version_fails(self):
        (self.root / "include" / "dhis2" / "version.hpp").write_text("#pragma once\n")
        self.write_header("dhis2/dhis2.hpp", "#include <dhis2/version.hpp>\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("DHIS2CPP_VERSION_STRING", proc.stderr)
        self.assertFalse((self.root / "single_include").exists())

    def test_include_cycle_terminates(self):
        self.write_header("dhis2/dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/a.hpp>\n")
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "#include <dhis2/b.hpp>\nint a_marker;"))
        self.write_header(
            "dhis2/b.hpp",
            hpp("b.hpp", "#include <dhis2/a.hpp>\n#include <dhis2/dhis2.hpp>\n#include <dhis2/b.hpp>\nint b_marker;"),
        )
        self.generate()  # subprocess timeout guards against an endless loop
        text = self.read_out(self.core_out)
        self.assertEqual(text.count("int a_marker;"), 1)
        self.assertEqual(text.count("int b_marker;"), 1)
        self.assertIn(
            "// #include <dhis2/a.hpp>\n// #include <dhis2/dhis2.hpp>\n// #include <dhis2/b.hpp>\nint b_marker;",
            text,
        )
        self.assertEqual(self.active_project_includes(text), [])

    def test_check_passes_on_fresh_output(self):
        self.simple_tree()
        self.generate()
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = proc.stdout.strip()
        self.assertEqual(len(out.splitlines()), 1, out)
        self.assertIn("OK", out)

    def test_check_does_not_write(self):
        self.simple_tree()
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertFalse((self.root / "single_include").exists())

    def test_check_fails_on_modified_output(self):
        self.simple_tree()
        self.generate()
        self.core_out.write_bytes(self.core_out.read_bytes() + b"// hand edit\n")
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/dhis2.hpp is stale; " + STALE_HINT, proc.stderr)

        # And after a source change without regeneration.
        self.generate()
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "int a_marker2;"))
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/dhis2.hpp is stale", proc.stderr)

    def test_check_fails_on_missing_output(self):
        self.simple_tree()
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/dhis2.hpp", proc.stderr)
        self.assertIn("missing", proc.stderr)
        self.assertIn(STALE_HINT, proc.stderr)

        # testing.hpp missing while its source exists.
        self.write_header("dhis2/testing.hpp", hpp("testing.hpp", "int t;"))
        self.generate()
        self.testing_out.unlink()
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/testing.hpp", proc.stderr)
        self.assertNotIn("single_include/dhis2/dhis2.hpp", proc.stderr)

    def test_check_fails_on_orphaned_testing_header(self):
        self.simple_tree()
        self.write_header("dhis2/testing.hpp", hpp("testing.hpp", "#include <dhis2/dhis2.hpp>"))
        self.generate()
        self.assertTrue(self.testing_out.exists())
        self.assertEqual(self.run_script("--check").returncode, 0)
        (self.root / "include" / "dhis2" / "testing.hpp").unlink()
        proc = self.run_script("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/testing.hpp", proc.stderr)
        self.assertIn("include/dhis2/testing.hpp", proc.stderr)
        self.assertTrue(self.testing_out.exists(), "--check must not delete anything")

    def test_write_removes_orphaned_generated_testing_header(self):
        self.simple_tree()
        self.write_header("dhis2/testing.hpp", hpp("testing.hpp", "int t;"))
        self.generate()
        (self.root / "include" / "dhis2" / "testing.hpp").unlink()
        proc = self.generate()
        self.assertFalse(self.testing_out.exists())
        self.assertIn("single_include/dhis2/testing.hpp", proc.stdout)
        self.assertEqual(self.run_script("--check").returncode, 0)

    def test_write_refuses_to_delete_foreign_orphan(self):
        self.simple_tree()
        self.testing_out.parent.mkdir(parents=True)
        self.testing_out.write_text("// hand written\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("single_include/dhis2/testing.hpp", proc.stderr)
        self.assertEqual(self.testing_out.read_text(), "// hand written\n")
        self.assertFalse(self.core_out.exists())

    def test_no_testing_target_without_source(self):
        self.simple_tree()
        self.write_header("dhis2/testing/server.hpp", "int server;\n")
        self.generate()
        self.assertTrue(self.core_out.exists())
        self.assertFalse(self.testing_out.exists())
        self.assertNotIn("int server;", self.read_out(self.core_out))

    def test_testing_target_uses_single_core_include(self):
        self.write_header(
            "dhis2/dhis2.hpp",
            hpp("dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/client.hpp>\n"),
        )
        self.write_header("dhis2/client.hpp", hpp("client.hpp", "#include <dhis2/detail/http.hpp>\nint client_marker;"))
        self.write_header("dhis2/detail/http.hpp", hpp("detail/http.hpp", "int http_marker;"))
        self.write_header(
            "dhis2/testing.hpp",
            hpp(
                "testing.hpp",
                """
                #include <string>
                #include <dhis2/testing/server.hpp>
                #include <dhis2/client.hpp>
                #include <dhis2/testing/fixtures.hpp>
                """,
            ),
        )
        self.write_header(
            "dhis2/testing/server.hpp",
            hpp(
                "testing/server.hpp",
                """
                #include <httplib.h>
                #include <dhis2/detail/http.hpp>
                #include <dhis2/testing/fixtures.hpp>
                #include "dhis2/dhis2.hpp"
                int server_marker;
                """,
            ),
        )
        self.write_header(
            "dhis2/testing/fixtures.hpp",
            hpp("testing/fixtures.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/testing.hpp>\nint fixtures_marker;"),
        )
        proc = self.generate()
        self.assertIn("single_include/dhis2/testing.hpp", proc.stdout)
        core = self.read_out(self.core_out)
        text = self.read_out(self.testing_out)

        # The core single header knows nothing of the emulator.
        self.assertNotIn("server_marker", core)
        self.assertNotIn("fixtures_marker", core)

        # Exactly one active project include, and it is <dhis2/dhis2.hpp>.
        self.assertEqual(self.active_project_includes(text), ["#include <dhis2/dhis2.hpp>"])
        # Emitted at the first core include: server.hpp's <dhis2/detail/http.hpp>.
        self.assertIn(
            "#include <httplib.h>\n// #include <dhis2/detail/http.hpp>\n#include <dhis2/dhis2.hpp>\n"
            "// #include <dhis2/testing/fixtures.hpp>\n",
            text,
        )
        self.assertLess(text.index("#include <dhis2/dhis2.hpp>"), text.index("int fixtures_marker;"))
        # Later core includes are only commented markers.
        self.assertIn('// #include "dhis2/dhis2.hpp"\nint server_marker;', text)
        self.assertIn("// #include <dhis2/client.hpp>\n// #include <dhis2/testing/fixtures.hpp>\n", text)
        self.assertIn("// #include <dhis2/version.hpp>\n// #include <dhis2/testing.hpp>\nint fixtures_marker;", text)

        # Core content is not duplicated; testing files are inlined once.
        for marker in ("client_marker", "http_marker", "DHIS2CPP_VERSION_STRING"):
            self.assertNotIn(marker, text)
        self.assertEqual(text.count("int server_marker;"), 1)
        self.assertEqual(text.count("int fixtures_marker;"), 1)
        self.assertEqual(text.count("// end of <dhis2/testing/server.hpp>"), 1)
        self.assertEqual(text.count("// end of <dhis2/testing/fixtures.hpp>"), 1)
        self.assertNotIn("// end of <dhis2/client.hpp>", text)
        self.assertIn("#include <string>\n// #include <dhis2/testing/server.hpp>\n", text)

        # Banner names the testing source and the version.
        banner = text.split("\n\n", 1)[0]
        self.assertIn("include/dhis2/testing.hpp", banner)
        self.assertIn("9.8.7", banner)
        self.assertTrue(text.endswith("#endif  // FIXTURE_TESTING_HPP\n"))
        self.assertEqual(self.run_script("--check").returncode, 0)

    def test_testing_include_outside_both_scopes_fails(self):
        self.simple_tree()
        self.write_header("dhis2/extra.hpp", "int extra;\n")  # exists, but dhis2.hpp does not reach it
        self.write_header("dhis2/testing.hpp", "#include <dhis2/testing/server.hpp>\n")
        self.write_header("dhis2/testing/server.hpp", "#include <dhis2/a.hpp>\n\n#include <dhis2/extra.hpp>\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/testing/server.hpp:3", proc.stderr)
        self.assertIn("dhis2/extra.hpp", proc.stderr)
        # Nothing is written, not even the (valid) core single header.
        self.assertFalse((self.root / "single_include").exists())

    def test_testing_target_unresolvable_include_fails(self):
        self.simple_tree()
        self.write_header("dhis2/testing.hpp", "int t;\n#include <dhis2/testing/nope.hpp>\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/testing.hpp:2", proc.stderr)
        self.assertIn("dhis2/testing/nope.hpp", proc.stderr)
        self.assertFalse((self.root / "single_include").exists())

    def definitions_tree(self):
        """a.hpp declares, impl/a.ipp defines and is the only file that includes util.hpp."""
        self.write_header(
            "dhis2/dhis2.hpp",
            hpp("dhis2.hpp", "#include <dhis2/version.hpp>\n#include <dhis2/a.hpp>\n#include <dhis2/b.hpp>\n"),
        )
        self.write_header(
            "dhis2/a.hpp",
            hpp("a.hpp", """
                int a_declared();
                #if DHIS2CPP_WITH_DEFINITIONS
                #include <dhis2/impl/a.ipp>
                #endif
            """),
        )
        self.write_header("dhis2/b.hpp", hpp("b.hpp", "#include <dhis2/a.hpp>\nint b_declared();\n"))
        self.write_header(
            "dhis2/impl/a.ipp",
            hpp("a.ipp", "#include <dhis2/a.hpp>\n#include <dhis2/util.hpp>\nint a_declared() { return util(); }\n"),
        )
        self.write_header("dhis2/util.hpp", hpp("util.hpp", "int util();\n"))

    def test_definitions_go_after_every_declaration(self):
        self.definitions_tree()
        self.generate()
        lines = self.code_lines(self.read_out(self.core_out))
        text = "\n".join(lines)
        self.assertEqual(self.active_project_includes(text), [])
        where = {name: lines.index(name) for name in
                 ("int a_declared();", "int b_declared();", "int util();", "#if DHIS2CPP_WITH_DEFINITIONS",
                  "int a_declared() { return util(); }")}
        # Declarations (util.hpp too, which only the .ipp includes) come before the one block.
        self.assertLess(where["int b_declared();"], where["int util();"])
        self.assertLess(where["int util();"], where["#if DHIS2CPP_WITH_DEFINITIONS"])
        self.assertLess(where["#if DHIS2CPP_WITH_DEFINITIONS"], where["int a_declared() { return util(); }"])
        self.assertEqual(text.count("#if DHIS2CPP_WITH_DEFINITIONS"), 1)
        self.assertEqual(text.count("int util();"), 1)
        # The block closes before the umbrella's include guard does.
        self.assertEqual([l for l in lines if l][-1], "#endif  // FIXTURE_DHIS2_HPP")
        block_end = lines.index("#endif  // DHIS2CPP_WITH_DEFINITIONS")
        self.assertLess(where["int a_declared() { return util(); }"], block_end)
        self.assertIn("// definitions of <dhis2/a.hpp>: <dhis2/impl/a.ipp>, at the end of this file", lines)

    def test_ipp_outside_a_definitions_block_fails(self):
        self.simple_tree()
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "#include <dhis2/impl/a.ipp>\n"))
        self.write_header("dhis2/impl/a.ipp", "int a;\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("include/dhis2/a.hpp:3", proc.stderr)
        self.assertIn("only inside a definitions block", proc.stderr)
        self.assertFalse((self.root / "single_include").exists())

    def test_definitions_block_with_other_code_fails(self):
        self.simple_tree()
        self.write_header(
            "dhis2/a.hpp",
            hpp("a.hpp", "#if DHIS2CPP_WITH_DEFINITIONS\nint x;\n#include <dhis2/impl/a.ipp>\n#endif\n"),
        )
        self.write_header("dhis2/impl/a.ipp", "int a;\n")
        proc = self.run_script()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("holds only .ipp includes", proc.stderr)

    def test_testing_definitions_use_their_own_block(self):
        self.definitions_tree()
        self.write_header("dhis2/testing.hpp", hpp("testing.hpp", """
            #include <dhis2/a.hpp>
            int server_declared();
            #if DHIS2CPP_TESTING_WITH_DEFINITIONS
            #include <dhis2/testing/impl/server.ipp>
            #endif
        """))
        self.write_header("dhis2/testing/impl/server.ipp",
                          "#include <dhis2/util.hpp>\nint server_declared() { return util(); }\n")
        self.generate()
        lines = self.code_lines(self.read_out(self.testing_out))
        text = "\n".join(lines)
        # util.hpp is part of the core single header (with its declarations), so it is not copied.
        self.assertNotIn("int util();", text)
        self.assertEqual(self.active_project_includes(text), ["#include <dhis2/dhis2.hpp>"])
        self.assertLess(lines.index("#if DHIS2CPP_TESTING_WITH_DEFINITIONS"),
                        lines.index("int server_declared() { return util(); }"))
        self.assertNotIn("#if DHIS2CPP_WITH_DEFINITIONS", text)

    def test_unchanged_files_are_not_rewritten(self):
        self.simple_tree()
        self.write_header("dhis2/testing.hpp", hpp("testing.hpp", "#include <dhis2/a.hpp>"))
        self.generate()
        old = 1_000_000_000
        for path in (self.core_out, self.testing_out):
            os.utime(str(path), (old, old))
        proc = self.generate()
        self.assertEqual(self.core_out.stat().st_mtime, old)
        self.assertEqual(self.testing_out.stat().st_mtime, old)
        self.assertIn("unchanged", proc.stdout)

        # A change to a core header rewrites only the core output.
        self.write_header("dhis2/a.hpp", hpp("a.hpp", "int a_changed;"))
        proc = self.generate()
        self.assertNotEqual(self.core_out.stat().st_mtime, old)
        self.assertEqual(self.testing_out.stat().st_mtime, old)
        self.assertIn("wrote single_include/dhis2/dhis2.hpp", proc.stdout)
        self.assertIn("int a_changed;", self.read_out(self.core_out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
