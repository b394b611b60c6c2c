#!/usr/bin/env python3
"""Generate the single-header amalgamations of dhis2-cpp.

The modular headers under include/dhis2/ are the only hand-edited source.
This script inlines them into self-contained single headers under
single_include/dhis2/ (modelled on nlohmann/json's amalgamation):

  include/dhis2/dhis2.hpp    -> single_include/dhis2/dhis2.hpp
      Every project header (#include <dhis2/...> or "dhis2/...") is inlined
      recursively, depth first, each file once, at its first occurrence.
      An inlined file is wrapped in the marker lines
          // #include <dhis2/x.hpp>
          ...file content...
          // end of <dhis2/x.hpp>
      and a repeated include of it becomes the commented marker alone.
      A header's definitions block (#if DHIS2CPP_WITH_DEFINITIONS, its
      .ipp includes, #endif) is deferred: the .ipp files are inlined at the
      end, inside one such #if, after every declaration (see Inliner).

  include/dhis2/testing.hpp  -> single_include/dhis2/testing.hpp
      Only generated when include/dhis2/testing.hpp exists. Only the files
      under include/dhis2/testing/ (and testing.hpp itself) are inlined; an
      include of any header reachable from dhis2.hpp is replaced by a single
      #include <dhis2/dhis2.hpp> (at its first occurrence; later ones become
      commented markers), so the emulator's single header builds on the
      library's single header instead of duplicating it.

All other includes (standard library, <nlohmann/json.hpp>, <httplib.h>, ...)
stay in the file they are in: where it is inlined (an .ipp file's, with it,
in the definitions block at the end). The output carries a fixed banner with the
library version from include/dhis2/version.hpp and no timestamp, so it is
byte-for-byte reproducible.

Usage:
  python3 tools/amalgamate.py            write the single headers
  python3 tools/amalgamate.py --check    verify they are up to date (CI)
  python3 tools/amalgamate.py --root DIR operate on another tree

Exit status: 0 on success, 1 on an error or (with --check) stale output.
"""

import argparse
import os
import posixpath
import re
import sys
import tempfile
from pathlib import Path

REGEN_COMMAND = "python3 tools/amalgamate.py"
GENERATED_TAG = "GENERATED FILE - DO NOT EDIT."

CORE_SOURCE = "dhis2/dhis2.hpp"
TESTING_SOURCE = "dhis2/testing.hpp"
TESTING_DIR = "dhis2/testing/"
VERSION_HEADER = "dhis2/version.hpp"

# A preprocessor include of a project header, either spelling, with optional
# whitespace around '#' and before the path. Delimiters must match.
PROJECT_INCLUDE_RE = re.compile(
    r'^(?P<indent>[ \t]*)#[ \t]*include[ \t]*'
    r'(?:<(?P<angle>dhis2/[^>]*)>|"(?P<quote>dhis2/[^"]*)")'
)
VERSION_RE = re.compile(
    r'^[ \t]*#[ \t]*define[ \t]+DHIS2CPP_VERSION_STRING[ \t]+"([^"]+)"', re.M
)


class AmalgamationError(Exception):
    """A fatal problem in the source tree; nothing is written."""


class Target:
    def __init__(self, source, output):
        self.source = source  # key relative to include/, e.g. "dhis2/dhis2.hpp"
        self.output = output  # path relative to the root, posix style

    @property
    def source_rel(self):
        return "include/" + self.source


TARGETS = (
    Target(CORE_SOURCE, "single_include/dhis2/dhis2.hpp"),
    Target(TESTING_SOURCE, "single_include/dhis2/testing.hpp"),
)


class Tree:
    """Reads the project headers below <root>/include/."""

    def __init__(self, root):
        self.root = Path(root)
        self.include_dir = self.root / "include"
        self._cache = {}

    def path_of(self, key):
        return self.include_dir.joinpath(*key.split("/"))

    def exists(self, key):
        return self.path_of(key).is_file()

    def lines(self, key):
        if key not in self._cache:
            try:
                text = read_text(self.path_of(key))
            except (OSError, UnicodeDecodeError) as exc:
                raise AmalgamationError("cannot read include/%s: %s" % (key, exc))
            self._cache[key] = text.split("\n")
        return self._cache[key]

    def resolve(self, including_key, lineno, spelled, line):
        """Map an include spelling to a canonical key, or raise."""
        key = posixpath.normpath(spelled)
        where = "include/%s:%d" % (including_key, lineno)
        if not key.startswith("dhis2/") or spelled.endswith("/"):
            raise AmalgamationError(
                "%s: project include '%s' does not name a file under include/dhis2/"
                % (where, line.strip())
            )
        if not self.exists(key):
            raise AmalgamationError(
                "%s: cannot resolve project include '%s' (no file include/%s)"
                % (where, line.strip(), key)
            )
        return key


def read_text(path):
    """Read a source file as text with '\\n' newlines and no BOM."""
    with open(path, "r", encoding="utf-8", newline=None) as fh:
        text = fh.read()
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def body_lines(lines):
    """A file's lines without trailing empty lines (the final newline)."""
    end = len(lines)
    while end > 0 and lines[end - 1].strip() == "":
        end -= 1
    return lines[:end]


def project_include(line):
    """Return (indent, spelled path) if line is a project include, else None."""
    m = PROJECT_INCLUDE_RE.match(line)
    if not m:
        return None
    return m.group("indent"), m.group("angle") or m.group("quote")


def marker(indent, line):
    """The original include line, commented out."""
    return "%s// %s" % (indent, line.strip())


def read_version(tree):
    if not tree.exists(VERSION_HEADER):
        raise AmalgamationError(
            "cannot read the library version: include/%s does not exist" % VERSION_HEADER
        )
    m = VERSION_RE.search("\n".join(tree.lines(VERSION_HEADER)))
    if not m:
        raise AmalgamationError(
            "cannot read the library version: no '#define DHIS2CPP_VERSION_STRING \"...\"' "
            "in include/%s" % VERSION_HEADER
        )
    return m.group(1)


def banner(target, version):
    rule = "// " + "=" * 77
    return [
        rule,
        "// dhis2-cpp version %s - single-header edition" % version,
        "//",
        "// " + GENERATED_TAG,
        "// Generated by tools/amalgamate.py from %s." % target.source_rel,
        "// Edit the modular headers under include/dhis2/ instead and regenerate with:",
        "//     " + REGEN_COMMAND,
        rule,
        "",
    ]


# A header's definitions block: exactly these lines, one or more .ipp includes between them.
#     #if DHIS2CPP_WITH_DEFINITIONS          (or DHIS2CPP_TESTING_WITH_DEFINITIONS)
#     #include <dhis2/impl/x.ipp>
#     #endif
DEFINITIONS_IF_RE = re.compile(r"^[ \t]*#[ \t]*if[ \t]+(DHIS2CPP(?:_TESTING)?_WITH_DEFINITIONS)[ \t]*$")
ENDIF_RE = re.compile(r"^[ \t]*#[ \t]*endif\b")


class Inliner:
    """Depth-first inlining of one target.

    `should_inline(key)` decides whether a resolved project header is inlined;
    `handle_other(...)` produces the lines for one that is not.

    Definitions blocks are deferred: each becomes a comment where it stood, and
    the .ipp files are inlined at the end of the output, just before the root
    file's closing #endif, inside one `#if <macro>` block per macro. So every
    declaration of the single header precedes every definition, and a project
    header that only an .ipp includes is inlined with the declarations (before
    that block), never inside it: the declarations are then the same in every
    mode of compilation.
    """

    def __init__(self, tree):
        self.tree = tree
        self.done = set()  # inlined, or being inlined (guards against cycles)
        self.out = []
        self.deferred = []  # (macro, ipp key, including key, line number)

    def should_inline(self, key):
        return True

    def handle_other(self, including_key, lineno, indent, line, key, out):
        raise NotImplementedError

    def run(self, root_key):
        self.done.add(root_key)
        self._emit_file(root_key, self.out)
        late_declarations = []
        definitions = []  # [macro, lines]
        index = 0
        while index < len(self.deferred):
            macro, key, including_key, lineno = self.deferred[index]
            index += 1
            if key in self.done:
                continue
            self.done.add(key)
            if not definitions or definitions[-1][0] != macro:
                definitions.append([macro, []])
            lines = definitions[-1][1]
            lines.append("// #include <%s>" % key)
            self._emit_file(key, lines, late_declarations)
            lines.append("// end of <%s>" % key)
        if not late_declarations and not definitions:
            return self.out
        tail = []
        if late_declarations:
            tail.append("// ---- declarations that only definitions include")
            tail.extend(late_declarations)
        for macro, lines in definitions:
            tail.append("")
            tail.append("// ---- definitions: every translation unit in header-only mode, or the one")
            tail.append("// ---- implementation file in compiled mode (include/dhis2/detail/config.hpp)")
            tail.append("#if %s" % macro)
            tail.extend(lines)
            tail.append("#endif  // %s" % macro)
        closing = len(self.out)
        while closing > 0 and not ENDIF_RE.match(self.out[closing - 1]):
            closing -= 1
        if closing == 0:
            raise AmalgamationError("include/%s: no closing #endif to put the definitions before" % root_key)
        self.out[closing - 1:closing - 1] = tail + [""]
        return self.out

    def _emit_file(self, key, out, declarations=None):
        """Inline `key` into `out`. While inlining definitions, `declarations`
        receives the project headers they include that are not inlined yet."""
        lines = body_lines(self.tree.lines(key))
        lineno = 0
        while lineno < len(lines):
            line = lines[lineno]
            lineno += 1
            block = DEFINITIONS_IF_RE.match(line)
            if block:
                lineno = self._defer_block(key, lines, lineno, block.group(1), out)
                continue
            inc = project_include(line)
            if inc is None:
                out.append(line)
                continue
            indent, spelled = inc
            child = self.tree.resolve(key, lineno, spelled, line)
            if child.endswith(".ipp"):
                raise AmalgamationError(
                    "include/%s:%d: '%s': an .ipp file is included only inside a definitions block "
                    "(#if DHIS2CPP_WITH_DEFINITIONS / #include / #endif)" % (key, lineno, line.strip())
                )
            if not self.should_inline(child):
                self.handle_other(key, lineno, indent, line, child, out)
                continue
            out.append(marker(indent, line))
            if child in self.done:
                continue
            self.done.add(child)
            target = out if declarations is None else declarations
            if target is not out:
                out.append("%s// (inlined above, with the declarations)" % indent)
                target.append(marker(indent, line))
            self._emit_file(child, target, None)
            target.append("%s// end of <%s>" % (indent, child))

    def _defer_block(self, key, lines, lineno, macro, out):
        """Records the .ipp includes of the definitions block that starts before
        `lines[lineno]`; returns the index after its #endif."""
        start = lineno
        keys = []
        while lineno < len(lines) and not ENDIF_RE.match(lines[lineno]):
            line = lines[lineno]
            lineno += 1
            inc = project_include(line)
            if inc is None:
                if line.strip() and not line.strip().startswith("//"):
                    raise AmalgamationError(
                        "include/%s:%d: a definitions block (#if %s) holds only .ipp includes, not '%s'"
                        % (key, lineno, macro, line.strip())
                    )
                continue
            child = self.tree.resolve(key, lineno, inc[1], line)
            if not child.endswith(".ipp"):
                raise AmalgamationError(
                    "include/%s:%d: a definitions block (#if %s) includes '%s', which is not an .ipp file"
                    % (key, lineno, macro, line.strip())
                )
            keys.append((child, lineno))
        if lineno >= len(lines):
            raise AmalgamationError("include/%s:%d: #if %s has no #endif" % (key, start, macro))
        for child, child_line in keys:
            if not self.should_inline(child):
                raise AmalgamationError(
                    "include/%s:%d: <%s> belongs to another single header" % (key, child_line, child)
                )
            out.append("// definitions of <%s>: <%s>, at the end of this file" % (key, child))
            self.deferred.append((macro, child, key, child_line))
        return lineno + 1


class TestingInliner(Inliner):
    """Inlines only testing/ headers; core headers map to <dhis2/dhis2.hpp>."""

    def __init__(self, tree, core_keys):
        super().__init__(tree)
        self.core_keys = core_keys
        self.core_emitted = False

    def should_inline(self, key):
        if key in self.core_keys:
            return False
        return key == TESTING_SOURCE or key.startswith(TESTING_DIR)

    def handle_other(self, including_key, lineno, indent, line, key, out):
        if key not in self.core_keys:
            raise AmalgamationError(
                "include/%s:%d: project include '%s': include/%s is neither under "
                "include/%s nor reachable from include/%s, so it cannot be part of "
                "single_include/dhis2/testing.hpp"
                % (including_key, lineno, line.strip(), key, TESTING_DIR, CORE_SOURCE)
            )
        out.append(marker(indent, line))
        if not self.core_emitted:
            self.core_emitted = True
            out.append("%s#include <%s>" % (indent, CORE_SOURCE))


def finish(lines):
    text = "\n".join(lines).rstrip("\n") + "\n"
    return text


def amalgamate(root):
    """Compute every output in memory.

    Returns (outputs, orphans): outputs maps an output path (relative to the
    root) to its content; orphans lists the outputs whose source is gone.
    """
    tree = Tree(root)
    if not tree.exists(CORE_SOURCE):
        raise AmalgamationError("include/%s does not exist" % CORE_SOURCE)
    version = read_version(tree)

    outputs = {}
    orphans = []

    core_target, testing_target = TARGETS
    core = Inliner(tree)
    body = core.run(CORE_SOURCE)
    outputs[core_target.output] = finish(banner(core_target, version) + body)

    if tree.exists(TESTING_SOURCE):
        testing = TestingInliner(tree, frozenset(core.done))
        body = testing.run(TESTING_SOURCE)
        outputs[testing_target.output] = finish(banner(testing_target, version) + body)
    else:
        orphans.append(testing_target)
    return outputs, orphans


def output_path(root, rel):
    return Path(root).joinpath(*rel.split("/"))


def read_bytes_or_none(path):
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def is_generated(data):
    return data is not None and GENERATED_TAG.encode() in data[:2048]


def check(root, outputs, orphans):
    problems = []
    for rel, text in outputs.items():
        current = read_bytes_or_none(output_path(root, rel))
        if current is None:
            problems.append("%s is missing; run: %s" % (rel, REGEN_COMMAND))
        elif current != text.encode("utf-8"):
            problems.append("%s is stale; run: %s" % (rel, REGEN_COMMAND))
    for target in orphans:
        if output_path(root, target.output).exists():
            problems.append(
                "%s is orphaned: its source %s no longer exists; delete it or run: %s"
                % (target.output, target.source_rel, REGEN_COMMAND)
            )
    for problem in problems:
        print("amalgamate: " + problem, file=sys.stderr)
    if problems:
        return 1
    print("amalgamate: OK, %s up to date" % ", ".join(sorted(outputs)))
    return 0


def write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write(root, outputs, orphans):
    # Refuse before touching anything if an orphan is not ours to delete.
    to_remove = []
    for target in orphans:
        path = output_path(root, target.output)
        if not path.exists():
            continue
        if not is_generated(read_bytes_or_none(path)):
            print(
                "amalgamate: error: %s exists but %s does not, and it was not generated "
                "by tools/amalgamate.py; refusing to delete it" % (target.output, target.source_rel),
                file=sys.stderr,
            )
            return 1
        to_remove.append(target)

    for rel, text in outputs.items():
        path = output_path(root, rel)
        data = text.encode("utf-8")
        if read_bytes_or_none(path) == data:
            print("amalgamate: %s unchanged" % rel)
            continue
        write_atomic(path, data)
        print("amalgamate: wrote %s" % rel)
    for target in to_remove:
        output_path(root, target.output).unlink()
        print("amalgamate: removed %s (%s no longer exists)" % (target.output, target.source_rel))
    return 0


def main(argv=None):
    default_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(
        prog="amalgamate.py",
        description=(
            "Generate single_include/dhis2/dhis2.hpp (and single_include/dhis2/testing.hpp "
            "when include/dhis2/testing.hpp exists) from the modular headers in include/dhis2/."
        ),
        epilog=(
            "Use --check in CI and hooks: it writes nothing and exits 1 if a single header "
            "is stale, missing or orphaned."
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; compare the generated output with the files in single_include/ "
        "and exit 1 naming each stale, missing or orphaned file",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        default=str(default_root),
        help="project root containing include/ and single_include/ (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    root = Path(args.root)
    if not (root / "include").is_dir():
        print("amalgamate: error: %s has no include/ directory" % root, file=sys.stderr)
        return 1
    try:
        outputs, orphans = amalgamate(root)
    except AmalgamationError as exc:
        print("amalgamate: error: %s" % exc, file=sys.stderr)
        return 1

    if args.check:
        return check(root, outputs, orphans)
    return write(root, outputs, orphans)


if __name__ == "__main__":
    sys.exit(main())
