#!/usr/bin/env python3
"""Checks that every measured figure a page quotes names its source and still matches it.

A figure is a number a reader takes as measured: a number with a unit of time, rate, size,
ratio or share (``3.02 µs``, ``64x``, ``36%``, ``1 400 000 events/s``, ``274 B``, ``1.66M``),
or a number standing alone in a table cell (any column but the first, which names the row).
Each one carries, right after it, an HTML comment naming where it comes from (neither GitHub nor
Doxygen shows the comment):

    3.02 µs<!--fig: notification BM_Notification_Event/consumers:1/slow:0 real_time-->
    **64x**<!--fig: {notification BM_Notification_Sync/consumers:4/slow:0 real_time} / {notification BM_Notification_Event/consumers:4/slow:0 real_time}-->

``fig:`` takes one reference, or an arithmetic expression (numbers, + - * /, parentheses,
min(), max()) over references written in braces. A reference is

    FILE BENCHMARK FIELD [AGGREGATE]

- FILE: a results file without ``.json``, in the folder that the last ``<!--fig-run: FOLDER-->``
  of the page named (a folder of docs/results/), or ``FOLDER/FILE`` for another run;
- BENCHMARK: a benchmark's run name as Google Benchmark writes it, or the part of it before a
  ``/`` (``BM_Notification_Event/consumers:1`` finds ``.../consumers:1/slow:0/iterations:3000/real_time``);
  it must name exactly one benchmark of the file;
- FIELD: ``real_time``, ``cpu_time``, ``items_per_second``, ``bytes_per_second`` or a counter;
- AGGREGATE: ``median`` (the default), ``mean``, ``stddev`` or ``cv``; a file written without
  repetitions has a single run, read as it is.

A name given once, ``<!--fig-let: E1 = notification BM_Notification_Event/consumers:1/slow:0-->``,
stands for FILE BENCHMARK in the references after it, which keeps tables short:
``3.02 µs<!--fig: E1 real_time-->``, ``17x<!--fig: {S1 real_time} / {E1 real_time}-->``.

A number with no unit of its own takes the unit of the number it is paired with
(``3.02 → 4.31 µs``, ``86.7 / 192 µs``, ``0.89–1.50M``); each of the two needs its marker.

Times (``real_time``, ``cpu_time`` and counters ending in ``_ns``, ``_us``, ``_ms``, ``_s``) enter
the arithmetic in seconds and are shown in the figure's own unit (ns, µs, ms, s); a figure written
without a unit that holds a time says which with a trailing ``as µs``. A suffix ``k`` or ``M``
on the figure multiplies it by a thousand or a million; percentages are written as such in the
expression (``* 100``). The figure matches when the value, rounded as the page rounds it (to the
last digit written, or to the last non-zero digit of a whole number: ``1 400 000`` means to the
hundred thousand), gives the number shown.

Figures that are not taken from a committed run say what they are instead:

    <!--fig-tour-->            from a tour run (eda-tour's table; smaller workloads, one run)
    <!--fig-demo-->            from the demo's output that the page shows (one run)
    <!--fig-session: COMMIT--> measured in one session (alternating builds, a profile) and
                               recorded in that commit's message, which must give the number
                               (as the page rounds it)
    <!--fig-cite: URL-->       a published figure, not ours
    <!--fig-input-->           not measured: a workload's input, a setting or a bar to reach
                               (1 ms per order, 64 B events, "bar: >= 30x")
    <!--fig-inputs: 64 B; 1 KiB; 2 000 commands/s-->
                               inputs named once for the whole page: wherever these words stand,
                               they are not figures

Fenced code blocks and inline code are not read. The check names the page, the line and what is
wrong, and exits 1; standard library only.

    python3 docs/check_figures.py ROOT PAGE...       (pages relative to ROOT)
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass

# --- what a figure looks like --------------------------------------------------------------

# A number as the pages write it: thousands grouped by a (narrow) space, a decimal point, an
# optional k/M suffix, an optional sign. Not part of a word, a path or a version (v2, 2c, 6.18.1).
NUMBER = r"(?P<sign>[+\-−])?(?P<digits>\d{1,3}(?:[ \u202f\u00a0]\d{3})+|\d+)(?P<frac>\.\d+)?(?P<suffix>[kM](?![A-Za-z]))?"
TIME_UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# Units that make a number a measured figure. Order matters: longer first.
UNIT = (r"(?P<unit>µs|us|ns|ms|s(?![\w/])|x(?![\w])|×|%|KiB|MiB|GiB|B(?![\w])|"
        r"[A-Za-z]+/s(?![\w])|/s(?![\w])|per s(?![\w]))")
FIGURE = re.compile(r"(?<![\w.\-/:#])" + NUMBER + r"(?:\s?" + UNIT + r")?")
SHARED_UNIT = re.compile(r"[*_]{0,3}(?:<!--.*?-->)?[*_]{0,3}\s*(?:→|->|/|–|-|to|and)\s*[*_]{0,3}"
                         + NUMBER + r"(?:\s?" + UNIT + r")?", re.S)
MARKER = re.compile(r"<!--\s*(?P<kind>fig(?:-[a-z]+)?)(?::(?P<body>.*?))?\s*-->", re.S)
# Bold or italic closing right after a figure, before its marker: **64x**<!--fig: ...-->
EMPHASIS_CLOSE = re.compile(r"[*_]{0,3}")
FENCE = re.compile(r"^\s*(```+|~~~+)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)\s]*\)|<(?!!--)[^>\n]*>|https?://\S+")


@dataclass
class Figure:
    """A number found on a page, where it stands and how it is written."""

    line: int
    start: int  # offset in the page's text
    end: int  # just past the number and its unit
    text: str
    value: float
    unit: str | None
    tolerance: float
    in_table_cell: bool


def parse_number(match: re.Match) -> tuple[float, float]:
    """The value of a figure's number and half the place of its last significant digit."""
    digits = re.sub(r"[ \u202f\u00a0]", "", match.group("digits"))
    frac = match.group("frac") or ""
    value = float(digits + frac)
    if frac:
        place = 10.0 ** -(len(frac) - 1)
    else:
        stripped = digits.rstrip("0")
        place = 10.0 ** (len(digits) - len(stripped)) if stripped else 1.0
    scale = {"k": 1e3, "M": 1e6}.get(match.group("suffix") or "", 1.0)
    if match.group("sign") in ("-", "−"):
        value = -value
    return value * scale, place * scale / 2


# --- reading the results -------------------------------------------------------------------


class SourceError(Exception):
    """A reference that names no value, or names more than one."""


class Results:
    """The committed Google Benchmark files, read once each."""

    def __init__(self, results_dir: str):
        self.results_dir = results_dir
        self.files: dict[str, dict] = {}

    def load(self, folder: str, name: str) -> dict:
        path = os.path.join(self.results_dir, folder, name + ".json")
        if path not in self.files:
            if not os.path.isfile(path):
                raise SourceError(f"no results file {os.path.relpath(path)}")
            with open(path, encoding="utf-8") as f:
                self.files[path] = json.load(f)
        return self.files[path]

    def value(self, folder: str | None, ref: str,
              names: dict[str, str] | None = None) -> tuple[float, bool]:
        """The value a reference names, and whether it is a time (then in seconds)."""
        parts = ref.split()
        if parts and names and parts[0] in names:
            parts = names[parts[0]].split() + parts[1:]
        if len(parts) not in (3, 4):
            raise SourceError(f"'{ref}': a reference is FILE BENCHMARK FIELD [AGGREGATE]")
        file, bench, field = parts[:3]
        aggregate = parts[3] if len(parts) == 4 else "median"
        if "/" in file:
            folder, file = file.rsplit("/", 1)
        if folder is None:
            raise SourceError(f"'{ref}': no <!--fig-run: FOLDER--> before it names the run")
        runs = self.load(folder, file)["benchmarks"]

        def named(run: dict) -> bool:
            name = run.get("run_name", run["name"])
            return name == bench or name.startswith(bench + "/")

        candidates = [r for r in runs if named(r)]
        if not candidates:
            raise SourceError(f"'{ref}': no benchmark '{bench}' in {folder}/{file}.json")
        names = sorted({r.get("run_name", r["name"]) for r in candidates})
        if len(names) > 1:
            shown = ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
            raise SourceError(f"'{ref}': '{bench}' names {len(names)} benchmarks ({shown})")
        aggregated = [r for r in candidates if r.get("run_type") == "aggregate"]
        if aggregated:
            chosen = [r for r in aggregated if r.get("aggregate_name") == aggregate]
        elif len(parts) == 4:
            raise SourceError(f"'{ref}': {folder}/{file}.json has no aggregates for '{bench}'")
        else:
            chosen = candidates
        if len(chosen) != 1:
            raise SourceError(f"'{ref}': {len(chosen)} runs of '{bench}' with aggregate "
                              f"'{aggregate}' in {folder}/{file}.json")
        run = chosen[0]
        if field not in run:
            known = ", ".join(k for k in run if isinstance(run[k], (int, float)))
            raise SourceError(f"'{ref}': no field '{field}' (the run has: {known})")
        value = float(run[field])
        if field in ("real_time", "cpu_time"):
            return value * TIME_UNITS[run.get("time_unit", "ns")], True
        for suffix in ("_ns", "_us", "_ms", "_s"):
            if field.endswith(suffix) and not field.endswith("per_s"):
                return value * TIME_UNITS[suffix[1:]], True
        return value, False


def evaluate(expression: str, folder: str | None, results: Results,
             names: dict[str, str] | None = None) -> tuple[float, bool]:
    """Evaluates a marker's expression; returns the value and whether it is a time."""
    refs: list[tuple[float, bool]] = []

    def substitute(match: re.Match) -> str:
        refs.append(results.value(folder, match.group(1), names))
        return f"r{len(refs) - 1}"

    body = expression.strip()
    if "{" not in body:
        body = "{" + body + "}"
    arithmetic = re.sub(r"\{([^{}]*)\}", substitute, body)
    try:
        tree = ast.parse(arithmetic, mode="eval")
    except SyntaxError as e:
        raise SourceError(f"'{expression.strip()}' is not an expression: {e.msg}") from None

    def value_of(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value_of(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and re.fullmatch(r"r\d+", node.id):
            return refs[int(node.id[1:])][0]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value_of(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](value_of(node.left), value_of(node.right))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in ("min", "max") and node.args and not node.keywords):
            pick = min if node.func.id == "min" else max
            return pick(value_of(a) for a in node.args)
        raise SourceError(f"'{expression.strip()}': only numbers, references, + - * /, "
                          f"parentheses, min() and max() are allowed")

    try:
        value = value_of(tree)
    except ZeroDivisionError:
        raise SourceError(f"'{expression.strip()}' divides by zero") from None
    # A lone reference, or one scaled by numbers, keeps its kind; a ratio of two times does not.
    is_time = len(refs) == 1 and refs[0][1]
    return value, is_time


OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}

# --- reading a page --------------------------------------------------------------------------


def blank_out(text: str, pattern: re.Pattern) -> str:
    """The text with every match of pattern replaced by spaces (offsets and lines kept)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def readable_text(text: str) -> str:
    """The page with code blocks, inline code, link targets and markers blanked out."""
    out, in_fence, fence = [], False, ""
    for line in text.splitlines(keepends=True):
        opening = FENCE.match(line)
        if opening and (not in_fence or opening.group(1)[0] == fence):
            in_fence, fence = (not in_fence), opening.group(1)[0]
            out.append(re.sub(r"[^\n]", " ", line))
            continue
        out.append(re.sub(r"[^\n]", " ", line) if in_fence else line)
    blanked = "".join(out)
    for pattern in (MARKER, INLINE_CODE, LINK_TARGET):
        blanked = blank_out(blanked, pattern)
    return blanked


def table_cells(text: str) -> list[tuple[int, int]]:
    """Spans of the cells of every table row except each row's first cell."""
    spans = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("|") and not re.fullmatch(r"\|[\s:|-]+\|?", stripped):
            bars = [offset + i for i, c in enumerate(line) if c == "|"]
            for a, b in zip(bars[1:], bars[2:]):
                spans.append((a + 1, b))
        offset += len(line)
    return spans


def figures_of(text: str, readable: str) -> list[Figure]:
    """Every figure of the page (see the module's text for what counts as one)."""
    cells = table_cells(readable)
    figures = []
    line_starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def line_of(offset: int) -> int:
        lo, hi = 0, len(line_starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1

    for match in FIGURE.finditer(readable):
        in_cell = any(a <= match.start() < b for a, b in cells)
        unit = match.group("unit")
        if not unit:
            # "3.02 → 4.31 µs", "86.7 / 192 µs", "0.89–1.50M": the first number shares the unit.
            shared = SHARED_UNIT.match(readable, match.end())
            if shared and (shared.group("unit") or shared.group("suffix")):
                unit = shared.group("unit")
        if not unit and not match.group("suffix"):
            if not in_cell:
                continue
            # A bare number is a figure only when it is the cell's whole content, or one of
            # several numbers in it ("86.7 / 192 µs", "7 760 / 17 900 per s").
            cell = next(readable[a:b] for a, b in cells if a <= match.start() < b)
            if re.search(r"[A-Za-z]{3,}", re.sub(UNIT, "", cell)) and not re.search(r"\d\s*/", cell):
                continue
        value, tolerance = parse_number(match)
        figures.append(Figure(line_of(match.start()), match.start(), match.end(),
                              text[match.start():match.end()], value, unit, tolerance, in_cell))
    return figures


def marker_after(text: str, figure: Figure) -> re.Match | None:
    """The marker standing right after a figure (past closing emphasis), if any."""
    position = figure.end
    position += len(EMPHASIS_CLOSE.match(text, position).group(0))
    return MARKER.match(text, position)


def session_has(commit: str, number: str, root: str) -> str | None:
    """None when the commit's message contains the number, else what is wrong."""
    try:
        message = subprocess.run(["git", "-C", root, "log", "-1", "--format=%B", commit],
                                 capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        if not os.path.isdir(os.path.join(root, ".git")):
            return None  # a copy without history (a tarball): nothing to compare with
        return f"commit {commit} is not in the repository"

    wanted, tolerance = parse_number(FIGURE.match(number))
    for m in FIGURE.finditer(message.replace(",", "")):
        value, _ = parse_number(m)
        if abs(value - wanted) <= tolerance * (1 + 1e-9):
            return None
    return f"commit {commit}'s message does not give {number}"


def check_page(root: str, page: str, results: Results) -> list[str]:
    """The problems of one page, each as 'page:line: what'."""
    with open(os.path.join(root, page), encoding="utf-8") as f:
        text = f.read()
    readable = readable_text(text)
    problems = []
    inputs: list[str] = []
    for m in MARKER.finditer(text):
        if m.group("kind") == "fig-inputs":
            inputs += [p.strip() for p in (m.group("body") or "").split(";") if p.strip()]
    input_spans = [(m.start(), m.end()) for p in inputs
                   for m in re.finditer(r"(?<![\w.])" + re.escape(p) + r"(?![\w])", readable)]
    settings = [(m.start(), m.group("kind"), (m.group("body") or "").strip())
                for m in MARKER.finditer(text) if m.group("kind") in ("fig-run", "fig-let")]
    for start, kind, content in settings:
        if kind == "fig-let" and not re.fullmatch(r"\w+\s*=\s*\S+\s+\S+", content):
            line = text.count("\n", 0, start) + 1
            problems.append(f"{page}:{line}: fig-let is NAME = FILE BENCHMARK, not '{content}'")
    used_markers = set()

    for figure in figures_of(text, readable):
        marker = marker_after(text, figure)
        where = f"{page}:{figure.line}"
        if marker is None:
            if any(a <= figure.start < b for a, b in input_spans):
                continue
            problems.append(f"{where}: '{figure.text}' names no source "
                            f"(add <!--fig: ...--> or say what it is: fig-input, fig-tour, ...)")
            continue
        used_markers.add(marker.start())
        kind, body = marker.group("kind"), (marker.group("body") or "").strip()
        if kind in ("fig-tour", "fig-demo", "fig-input", "fig-cite"):
            if kind == "fig-cite" and not body:
                problems.append(f"{where}: fig-cite names no source")
            continue
        if kind == "fig-session":
            if not re.fullmatch(r"[0-9a-f]{7,40}", body):
                problems.append(f"{where}: fig-session takes a commit id, not '{body}'")
                continue
            wrong = session_has(body, figure.text, root)
            if wrong:
                problems.append(f"{where}: '{figure.text}': {wrong}")
            continue
        if kind != "fig":
            problems.append(f"{where}: unknown marker '{kind}'")
            continue
        problems += check_figure(where, figure, body, settings, marker.start(), results)

    for m in MARKER.finditer(text):
        if m.group("kind") in ("fig", "fig-tour", "fig-demo", "fig-input", "fig-cite", "fig-session") \
                and m.start() not in used_markers:
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{page}:{line}: a marker that follows no figure: {m.group(0)}")
    return problems


def check_figure(where: str, figure: Figure, body: str, settings: list[tuple[int, str, str]],
                 at: int, results: Results) -> list[str]:
    """Compares one figure with the value its marker names."""
    shown_unit = figure.unit
    as_unit = re.search(r"\s+as\s+(\S+)\s*$", body)
    if as_unit:
        body, shown_unit = body[:as_unit.start()], as_unit.group(1)
    folder, names = None, {}
    for start, kind, content in settings:
        if start >= at:
            break
        if kind == "fig-run":
            folder = content
        else:
            name, _, ref = content.partition("=")
            names[name.strip()] = ref.strip()
    try:
        value, is_time = evaluate(body, folder, results, names)
    except SourceError as e:
        return [f"{where}: '{figure.text}': {e}"]
    if is_time:
        if shown_unit not in TIME_UNITS:
            return [f"{where}: '{figure.text}' quotes a time without a unit of time "
                    f"(write one, or end the marker with 'as µs')"]
        value /= TIME_UNITS[shown_unit]
    if abs(value - figure.value) > figure.tolerance * (1 + 1e-9):
        return [f"{where}: the page says {figure.text}, the run says {value:.6g}"
                + (f" {shown_unit}" if is_time else "") + f" ({body})"]
    return []


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    root = argv[1]
    results = Results(os.path.join(root, "docs", "results"))
    problems, count = [], 0
    for page in argv[2:]:
        if not os.path.isfile(os.path.join(root, page)):
            problems.append(f"{page}: no such page")
            continue
        problems += check_page(root, page, results)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) with the figures of {len(argv) - 2} page(s)")
        return 1
    print(f"every figure of {len(argv) - 2} page(s) names its source and matches it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
