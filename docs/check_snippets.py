#!/usr/bin/env python3
"""Checks that the code shown on pattern pages still exists in the compiled sources.

A page shows code as an ordinary fenced block, so that it reads the same on the repository page
and in the documentation site, with a marker line just above it naming the file it comes from,
relative to the page:

    <!-- snippet: src/order_service.cpp -->
    ```cpp
    const std::uint64_t id = ++stats_.orders;
    ...
    outbox_.append(sent.sequence, publisher_.last_envelope());
    ```

(An HTML comment: neither GitHub nor Doxygen shows it.) The check passes when:

- every ```cpp block of the page has a marker (a block of another language is checked only when
  it has one);
- the named file exists and is a compiled source: a .cpp named in a CMakeLists.txt, or a header;
- the block's lines appear in the file verbatim apart from indentation (leading and trailing
  blanks, and empty lines, are ignored). A line that is just "..." marks an elision: the block is
  cut there into parts, each of which must appear as consecutive lines, in the order shown.

Otherwise it names the page, the line and what is missing, and exits 1. Standard library only.
"""

from __future__ import annotations

import os
import re
import sys

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(\S+)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
CHECKED_LANGUAGES = {"cpp", "c++", "cxx", "hpp"}
SOURCE_SUFFIXES = (".cpp", ".cc", ".hpp", ".h")


def blocks_of(lines: list[str]):
    """(first line number, language, marker path or None, code lines) of each fenced block."""
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        opening, language = fence.group(2), fence.group(3).lower()
        start = i
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        marker = MARKER.match(lines[j]) if j >= 0 else None
        i += 1
        code = []
        while i < len(lines) and not lines[i].strip().startswith(opening[0] * len(opening)):
            code.append(lines[i])
            i += 1
        yield start + 1, language, marker.group(1) if marker else None, code
        i += 1


def parts_of(code: list[str]) -> list[list[str]]:
    parts, current = [], []
    for line in code:
        text = line.strip()
        if text == "...":
            parts.append(current)
            current = []
        elif text:
            current.append(text)
    parts.append(current)
    return [part for part in parts if part]


def find(part: list[str], source: list[str], start: int) -> int:
    """The index just after the first run of source lines, from start, equal to part; -1 if none."""
    for i in range(start, len(source) - len(part) + 1):
        if source[i:i + len(part)] == part:
            return i + len(part)
    return -1


def compiled(path: str, root: str) -> bool:
    if path.endswith((".hpp", ".h")):
        return True
    name = os.path.basename(path)
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f != "build" and not f.startswith(".")]
        if "CMakeLists.txt" in files:
            with open(os.path.join(folder, "CMakeLists.txt"), encoding="utf-8") as f:
                if re.search(r"(^|[\s/\"])" + re.escape(name) + r"($|[\s\")])", f.read(), re.M):
                    return True
    return False


def check_page(page: str, root: str) -> tuple[int, list[str]]:
    problems = []
    checked = 0
    with open(page, encoding="utf-8") as f:
        lines = f.read().splitlines()
    here = os.path.dirname(page)
    shown = os.path.relpath(page, root)
    for number, language, marker, code in blocks_of(lines):
        if marker is None:
            if language in CHECKED_LANGUAGES:
                problems.append("%s:%d: a C++ block without a '<!-- snippet: FILE -->' line "
                                "above it naming the source it comes from" % (shown, number))
            continue
        checked += 1
        source_path = os.path.normpath(os.path.join(here, marker))
        if not os.path.isfile(source_path):
            problems.append("%s:%d: the snippet's source %s does not exist" % (shown, number, marker))
            continue
        if not source_path.endswith(SOURCE_SUFFIXES) and language in CHECKED_LANGUAGES:
            problems.append("%s:%d: %s is not a C++ source" % (shown, number, marker))
            continue
        if source_path.endswith(SOURCE_SUFFIXES) and not compiled(source_path, root):
            problems.append("%s:%d: %s is not named in any CMakeLists.txt (not compiled)"
                            % (shown, number, marker))
        with open(source_path, encoding="utf-8") as f:
            source = [line.strip() for line in f.read().splitlines() if line.strip()]
        at = 0
        for part in parts_of(code):
            found = find(part, source, at)
            if found < 0:
                missing = next((line for line in part if line not in source), None)
                detail = ("this line is not in it: %s" % missing if missing is not None
                          else "these %d lines are not in it in this order, starting with: %s"
                               % (len(part), part[0]))
                problems.append("%s:%d: the code shown is not in %s (any more); %s"
                                % (shown, number, marker, detail))
                break
            at = found
    return checked, problems


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: check_snippets.py <repository root> <page.md> [<page.md> ...]")
        return 2
    root = os.path.realpath(sys.argv[1])
    problems = []
    total = 0
    for page in sys.argv[2:]:
        path = os.path.realpath(os.path.join(root, page))
        if not os.path.isfile(path):
            problems.append("%s: the page does not exist" % page)
            continue
        checked, page_problems = check_page(path, root)
        total += checked
        problems.extend(page_problems)
    if problems:
        print("check_snippets: FAILED: code shown on the pages has drifted from the sources:")
        for problem in problems:
            print("  - " + problem)
        print("check_snippets: copy the code from the source again (or fix the marker line)")
        return 1
    print("check_snippets: %d snippets on %d pages found in their sources" % (total, len(sys.argv) - 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
