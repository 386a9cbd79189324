#!/usr/bin/env python3
"""Checks the pages as the repository page shows them: every relative link and image resolves.

On the repository page a Markdown page's links and images are paths relative to the page's
own file. For each page named on the command line this checks that every such target exists in
the repository, and that a #fragment names a heading of the target page (by the slug GitHub
gives it). Links to other sites are not followed. Code blocks and inline code are skipped.

Exit status 0 when everything resolves; 1 with each broken link named. Standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.parse

FENCE = re.compile(r"^\s*(```+|~~~+)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
# [text](target) and ![alt](target); the target ends at the first space or ')'.
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str):
    """(line number, line) outside fenced code blocks, with inline code removed."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if match:
            marker = match.group(1)[0]
            if fence is None:
                fence = marker
            elif fence == marker:
                fence = None
            continue
        if fence is None:
            yield number, INLINE_CODE.sub("", line)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def slugs_of(path: str) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    with open(path, encoding="utf-8") as f:
        for _, line in prose_lines(f.read()):
            match = HEADING.match(line)
            if not match:
                continue
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else "%s-%d" % (base, count))
    return result


def check_page(page: str, root: str) -> list[str]:
    problems = []
    shown = os.path.relpath(page, root)
    with open(page, encoding="utf-8") as f:
        text = f.read()
    for number, line in prose_lines(text):
        for match in LINK.finditer(line):
            target = match.group(1)
            parts = urllib.parse.urlsplit(target)
            if parts.scheme or target.startswith("//"):
                continue  # another site, mailto:
            path = urllib.parse.unquote(parts.path)
            resolved = page if not path else os.path.normpath(
                os.path.join(os.path.dirname(page), path))
            if not os.path.exists(resolved):
                problems.append("%s:%d: %s does not exist" % (shown, number, target))
                continue
            if not os.path.realpath(resolved).startswith(root + os.sep):
                problems.append("%s:%d: %s points outside the repository" % (shown, number, target))
                continue
            if parts.fragment and resolved.endswith(".md"):
                if parts.fragment not in slugs_of(resolved):
                    problems.append("%s:%d: %s: no heading '#%s' in %s" % (
                        shown, number, target, parts.fragment, os.path.relpath(resolved, root)))
    return problems


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: check_markdown_links.py <repository root> <page.md> [<page.md> ...]")
        return 2
    root = os.path.realpath(sys.argv[1])
    problems = []
    for page in sys.argv[2:]:
        path = os.path.join(root, page)
        if not os.path.isfile(path):
            problems.append("%s: the page does not exist" % page)
            continue
        problems.extend(check_page(path, root))
    if problems:
        print("check_markdown_links: FAILED: broken links or images on the repository page:")
        for problem in problems:
            print("  - " + problem)
        return 1
    print("check_markdown_links: every relative link and image of %d pages resolves"
          % (len(sys.argv) - 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
