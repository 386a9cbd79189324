#!/usr/bin/env python3
"""Tests of docs/check_figures.py: small pages and results files made in a temporary folder.

Each case writes a page, runs the check on it and says whether the check must pass, and what it
must print when it fails. Run: python3 docs/test_check_figures.py (CTest: docs-figures-selftest).
Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_figures.py")


def benchmark(name: str, aggregate: str, real_time: float, unit: str = "us", **counters) -> dict:
    """One aggregate row as Google Benchmark writes it."""
    row = {"name": f"{name}/real_time_{aggregate}", "run_name": f"{name}/real_time",
           "run_type": "aggregate", "aggregate_name": aggregate, "real_time": real_time,
           "cpu_time": real_time, "time_unit": unit}
    row.update(counters)
    return row


RESULTS = {
    "run-a/demo.json": {"benchmarks": [
        benchmark("BM_Event/consumers:1/slow:0", "median", 3.02, accept_p50_us=0.91,
                  items_per_second=331543.2),
        benchmark("BM_Event/consumers:1/slow:0", "mean", 3.9),
        benchmark("BM_Sync/consumers:1/slow:0", "median", 52.0),
        benchmark("BM_Event/consumers:4/slow:0", "median", 3.41),
        benchmark("BM_Replay", "median", 714.0, unit="ms", items_per_second=1_400_321.0),
    ]},
    "run-b/demo.json": {"benchmarks": [
        {"name": "BM_Once", "run_name": "BM_Once", "run_type": "iteration",
         "real_time": 1500.0, "cpu_time": 1500.0, "time_unit": "ns", "lag_p99_us": 60.3},
    ]},
}

CASES = [
    # (what it shows, page text, must pass, words the output must contain)
    ("a matching figure",
     "<!--fig-run: run-a-->\nCost: 3.02 µs<!--fig: demo BM_Event/consumers:1 real_time-->.\n",
     True, []),
    ("a figure that drifted from its run",
     "<!--fig-run: run-a-->\nCost: 3.12 µs<!--fig: demo BM_Event/consumers:1 real_time-->.\n",
     False, ["the page says 3.12 µs, the run says 3.02"]),
    ("a figure without a source",
     "The producer accepts 64x more orders.\n", False, ["'64x' names no source"]),
    ("a bare number in a table cell needs a source too",
     "| consumers | orders/s |\n|---|---|\n| 1 | 332 000 |\n", False, ["'332 000' names no source"]),
    ("the first column names the row and is not a figure",
     "<!--fig-run: run-a-->\n| consumers | orders/s |\n|---|---|\n"
     "| 1 | 332 000<!--fig: demo BM_Event/consumers:1 items_per_second--> |\n", True, []),
    ("a time converted to the page's unit",
     "<!--fig-run: run-a-->\nReplay: 0.714 s<!--fig: demo BM_Replay real_time-->.\n", True, []),
    ("a ratio of two references, with a name given once",
     "<!--fig-run: run-a-->\n<!--fig-let: E = demo BM_Event/consumers:1-->\n"
     "**17x**<!--fig: {demo BM_Sync/consumers:1 real_time} / {E real_time}-->\n", True, []),
    ("rounding to the last non-zero digit of a whole number",
     "<!--fig-run: run-a-->\n1 400 000 events/s<!--fig: demo BM_Replay items_per_second-->\n",
     True, []),
    ("a k suffix",
     "<!--fig-run: run-a-->\n1.40M events/s<!--fig: demo BM_Replay items_per_second--> and "
     "332k<!--fig: demo BM_Event/consumers:1 items_per_second-->\n", True, []),
    ("another aggregate",
     "<!--fig-run: run-a-->\nmean 3.9 µs<!--fig: demo BM_Event/consumers:1 real_time mean-->\n",
     True, []),
    ("a benchmark prefix naming two benchmarks",
     "<!--fig-run: run-a-->\n3.02 µs<!--fig: demo BM_Event real_time-->\n",
     False, ["names 2 benchmarks"]),
    ("an unknown counter",
     "<!--fig-run: run-a-->\n3.02 µs<!--fig: demo BM_Event/consumers:1 nope_us-->\n",
     False, ["no field 'nope_us'"]),
    ("a reference with no run named",
     "3.02 µs<!--fig: demo BM_Event/consumers:1 real_time-->\n",
     False, ["no <!--fig-run: FOLDER--> before it"]),
    ("another run's folder, a file without aggregates",
     "<!--fig-run: run-a-->\n60.3 µs<!--fig: run-b/demo BM_Once lag_p99_us--> and "
     "1.5 µs<!--fig: run-b/demo BM_Once real_time-->\n", True, []),
    ("a time quoted without a unit must say which",
     "<!--fig-run: run-a-->\n| a | b |\n|---|---|\n"
     "| x | 3.02<!--fig: demo BM_Event/consumers:1 real_time--> |\n",
     False, ["without a unit of time"]),
    ("... and passes when it does",
     "<!--fig-run: run-a-->\n| a | b |\n|---|---|\n"
     "| x | 3.02<!--fig: demo BM_Event/consumers:1 real_time as µs--> |\n", True, []),
    ("a number paired with a figure shares its unit",
     "<!--fig-run: run-a-->\nfrom 3.02<!--fig: demo BM_Event/consumers:1 real_time--> → "
     "3.41 µs<!--fig: demo BM_Event/consumers:4 real_time-->\n", True, []),
    ("... and needs its own marker",
     "<!--fig-run: run-a-->\nfrom 3.02 → 3.41 µs<!--fig: demo BM_Event/consumers:4 real_time-->\n",
     False, ["'3.02' names no source"]),
    ("inputs named once for the page",
     "<!--fig-inputs: 1 ms; 64 B-->\nA 1 ms handler and 64 B events.\n", True, []),
    ("an input marked where it stands, a tour figure, a demo figure, a citation",
     "A bar of 30x<!--fig-input-->, 362x<!--fig-tour--> in the tour, 3.4 ms<!--fig-demo-->, "
     "seconds: 3 s<!--fig-cite: https://example.org/paper-->\n", True, []),
    ("a citation must name its source",
     "3 s<!--fig-cite:-->\n", False, ["fig-cite names no source"]),
    ("code is not read",
     "```sh\nbench --min-time 0.5s\n```\nand `--count 64x` inline\n", True, []),
    ("a marker that follows no figure",
     "<!--fig-run: run-a-->\nNothing here <!--fig: demo BM_Event/consumers:1 real_time-->\n",
     False, ["a marker that follows no figure"]),
    ("arithmetic beyond the allowed",
     "<!--fig-run: run-a-->\n3 µs<!--fig: __import__('os')-->\n", False, ["'__import__"]),
    ("a percentage",
     "<!--fig-run: run-a-->\n6%<!--fig: {demo BM_Event/consumers:1 real_time} / "
     "{demo BM_Sync/consumers:1 real_time} * 100-->\n", True, []),
]


def run_case(root: str, name: str, what: str, page: str, must_pass: bool,
             words: list[str]) -> bool:
    """Writes the page, runs the check on it, prints ok or what went wrong; True when ok."""
    with open(os.path.join(root, name), "w", encoding="utf-8") as f:
        f.write(page)
    run = subprocess.run([sys.executable, CHECK, root, name],
                         capture_output=True, text=True, timeout=60)
    output = run.stdout + run.stderr
    wrong = []
    if (run.returncode == 0) != must_pass:
        wrong.append(f"exit {run.returncode}, expected it to {'pass' if must_pass else 'fail'}")
    wrong += [f"no '{w}' in the output" for w in words if w not in output]
    if "Traceback" in output:
        wrong.append("the check crashed")
    print(f"FAIL {what}: {'; '.join(wrong)}\n  output: {output.strip()}" if wrong else f"ok   {what}")
    return not wrong


SESSION_CASES = [
    ("a session's figure that its commit gives", "rose to 643 000 events/s<!--fig-session: {c}-->\n",
     True, []),
    ("a session's figure that its commit does not give", "rose to 650k events/s<!--fig-session: {c}-->\n",
     False, ["does not give 650k"]),
    ("a commit that is not there", "rose to 643k events/s<!--fig-session: 0123456789abcdef-->\n",
     False, ["is not in the repository"]),
]


def session_cases() -> int:
    """fig-session against a real commit of a small repository; returns the failures."""
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", root, "-c", "user.name=t", "-c", "user.email=t@t",
                                   *args], capture_output=True, text=True, check=True).stdout
        git("init", "-q")
        git("commit", "-q", "--allow-empty", "-m", "Kit: one clock read: 527k -> 643k events/s")
        commit = git("rev-parse", "HEAD").strip()
        for number, (what, page, must_pass, words) in enumerate(SESSION_CASES):
            ok = run_case(root, f"session{number}.md", what, page.replace("{c}", commit[:10]),
                          must_pass, words)
            failures += 0 if ok else 1
    return failures


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        for path, content in RESULTS.items():
            full = os.path.join(root, "docs", "results", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                json.dump(content, f)
        for number, (what, page, must_pass, words) in enumerate(CASES):
            failures += 0 if run_case(root, f"page{number}.md", what, page, must_pass, words) else 1
    failures += session_cases()
    print(f"{len(CASES) + len(SESSION_CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
