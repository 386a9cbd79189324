#!/usr/bin/env python3
"""Runs every command of every page's "Run it" section as written, the way a newcomer would.

    python3 docs/check_run_it.py [OPTIONS] ROOT PAGE...      (pages relative to ROOT)

What is run
-----------
A page's "Run it" section starts at a heading whose text starts with "Run it" (any level) and
ends at the next heading of the same or a higher level; its subsections ("### Seeing the
flow") belong to it. Every fenced block in it tagged ``sh``, ``bash`` or ``shell`` is a block of
commands. Its lines are taken as written: a line ending in ``\\`` continues on the next, empty
lines and lines starting with ``#`` are skipped, and each remaining command is typed, as it
stands, into one shell per page, as a reader pastes the page into one terminal: variables
(``dir=$(mktemp -d)``), ``cd``, ``export PATH=...``, ``$!`` and ``jobs`` carry over from one
command and block to the next. The shell is bash with job control (``set -m``), so every command
is a job in its own process group, in a session of the check's own; each command's stdin is
/dev/null and its stdout and stderr are kept together for the output check. A command

- fails the check when it exits with a status other than 0 (the rest of its block is not run:
  a reader would stop there too; the page's later blocks still run);
- fails when it has not finished after ``--timeout`` seconds (60 by default): its process
  group gets SIGTERM, then SIGKILL after ``--grace`` seconds (5), and the check shows its last
  lines of output;
- fails when it ends the shell (a syntax error, an ``exit``); the page's next block gets a new
  shell, without the old one's variables;
- written with a trailing ``&`` (a long-running role: a server, a publisher) is started as a
  background job and left running while the later commands of the same block run; at the end
  of the block it is stopped (SIGTERM to its process group, SIGKILL after the grace period).
  After every command the check asks the shell which roles have ended and how. A role that
  exited with status 0 has done its work (a publisher that exits once its events are out); one
  stopped by SIGTERM, SIGINT, SIGHUP or SIGKILL was stopped by the page (``kill $!``); any other
  end before the block's end (a non-zero exit status, a crash) is a role that died early: the
  check fails, giving its exit status and its last lines of output. A role the check stops at
  the end of its block must stop cleanly: exit 0, or die of the SIGTERM (or of the SIGKILL
  that follows the grace period, which is named as a warning); an error exit on SIGTERM
  ("error: Interrupted system call") fails the check.

Whatever else is still running in the check's session at the end of a block (a process a
command left behind) is stopped and named as a warning, and everything is stopped at the end
of the page and when the check itself gets SIGINT or SIGTERM: nothing the check starts outlives
it (unless it leaves the session on purpose, as a daemon does).

Where: a scratch copy of the project
------------------------------------
Commands run from the project root as the page says, but the files they make (databases,
checkpoints, recordings, ``flow.svg``) must not land in the working tree, where other people
may be editing at the same time. Comparing ``git status`` before and after and deleting what is
new would delete their new files too, so instead each page runs in a fresh scratch copy of the
project: every top-level entry of ROOT is copied, except ``.git`` (not copied) and the build
folders (``build`` and every ``build-*``, which are symbolic links to the real ones, so
``build/default/...`` runs the already-built programs; the check builds nothing, the quick
start does). The copy is removed after the page, and the check lists the files its commands
made there. Commands that write to absolute paths (``/tmp/shop``) write there, as they would
for the reader. The pages run one after the other (they use fixed ports and paths), in the
order given.

What a page says the output is
------------------------------
A fenced block in the section that shows output carries a marker line just above it (an HTML
comment: neither GitHub nor Doxygen shows it):

    <!-- run-it: output -->
    ```text
    == Summary ==
    events delivered: 3 of 3, gaps: 0, duplicates: 0, dead letters: 0
    ```

It is the output of the nearest block of commands above it in the section (prose may stand
between them), taken together: every command's and every background role's stdout and stderr,
in any order. Every line of the block must appear in that output, robustly on a noisy machine:

- every number is a wildcard, in the page and in the output alike: digits (``3``, ``2.43``
  and ``12`` alike, ``1 400 000`` with grouped thousands) and ids (a run of hex digits holding a
  digit or at least six long: ``5c0a5afb``, ``eda-cqrs-7308052f3472``), so times, ports, pids
  and ids may differ. A unit after a number still counts (``3 orders`` is not ``3 events``),
  except that the units of time are one unit: ``618.9us`` matches ``1.02ms`` (a duration that
  crosses a millisecond on a loaded machine is the same figure);
- runs of blanks count as one blank, and leading and trailing blanks do not count (columns
  shift with the width of the numbers);
- a page line matches when, so normalised, it is contained in a line of the output; the order
  of the lines does not matter (roles running concurrently interleave), nor do lines of the
  output the page does not show, nor how often a line appears;
- a line that is just ``...`` marks an elision and is not checked.

Lines that legitimately differ from run to run in more than their numbers (which consumer
reacts first, and so the tree's ``├─`` or ``└─``; a note that appears only when a race goes one
way) are named by one or more markers beside the output marker, each a Python regular
expression; a page line it finds (``re.search``) is shown for illustration and not checked:

    <!-- run-it: output -->
    <!-- run-it: vary ^\\s*[├└]─ -->

A block that is not to be run (commands that need two machines, a PostgreSQL server, an
address to fill in), or output that is an illustration and not the output of the block above,
says so with a reason:

    <!-- run-it: skip needs a second machine -->

Every fenced block of a "Run it" section is therefore one of: commands (run unless skipped),
output (checked, unless its commands were skipped or failed), or skipped with a reason; a block
of another kind without a marker fails the check, because what it shows would go unchecked. A
``run-it`` marker that stands above no fenced block, stands outside a "Run it" section, or is not
one of the above fails the check too. A page without a "Run it" section is noted, not failed.

Options
-------
    --timeout S    seconds a foreground command may take (60)
    --grace S      seconds between SIGTERM and SIGKILL when stopping a process group (5)
    --needs DIR    skip (exit 77) when ROOT/DIR does not exist (build/default): the build the
                   pages' commands run; '' to never skip
    --list         print the commands and output checks of each page without running anything
    -v             print every command's output as well

The check names the page and the line of every problem and exits 1; 0 when every command ran
and every output line was found; 2 on a bad command line. Standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
MARKER = re.compile(r"^\s*<!--\s*run-it:\s*(.*?)\s*-->\s*$")
ANY_MARKER = re.compile(r"<!--\s*run-it\b")
COMMAND_LANGUAGES = {"sh", "bash", "shell"}
# A trailing comment: blanks, '#', then text without quotes (so '#' inside quotes is left alone).
TRAILING_COMMENT = re.compile(r"(?:^|\s)#[^'\"\n]*$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
NUMBER = re.compile(
    r"\d{1,3}(?:[ \u202f\u00a0]\d{3})+(?:\.\d+)?"                      # 1 400 000
    r"|(?<![0-9A-Za-z])(?:[0-9A-Fa-f]*\d[0-9A-Fa-f]*|[A-Fa-f]{6,})(?![0-9A-Za-z])"  # ids
    r"|\d+")
WILDCARD = "#"
DECIMAL = re.compile(r"#(?:\.#)+")  # 2.43 and 6.18.1 are one number, like 2
# A wildcard number with a unit of time after it (618.9us, 1.02ms, 0.3 s): any duration.
DURATION = re.compile(r"#\s?(?:ns|us|µs|ms|s)(?![A-Za-z0-9])")
# Wildcards side by side are one: "p50 618.9us" reads as "p" and the grouped number
# "50 618.9", while "p50 1.02ms" reads as "p", "50" and "1.02".
ADJACENT = re.compile(r"#(?:\s+#)+")


# --- reading a page --------------------------------------------------------------------------

@dataclass
class Block:
    """A fenced block of a "Run it" section and the run-it markers just above it."""

    line: int  # 1-based line of the opening fence
    language: str
    code: list[tuple[int, str]]  # (line, text)
    skip: str | None = None
    output: bool = False
    vary: list[tuple[int, re.Pattern]] = field(default_factory=list)
    commands: Block | None = None  # for output: the block of commands it shows the output of


@dataclass
class Command:
    line: int
    text: str  # as written, continuation lines and all
    background: bool  # written with a trailing '&'


def read_page(lines: list[str], shown: str) -> tuple[list[list[Block]], list[str]]:
    """The fenced blocks of each "Run it" section of a page, and the problems of its markers."""
    problems: list[str] = []
    sections: list[list[Block]] = []
    section_level = 0  # the level of the "Run it" heading we are in, 0 when outside
    used_markers: set[int] = set()
    i = 0
    while i < len(lines):
        text = lines[i]
        fence = FENCE.match(text)
        if fence:
            opening = fence.group(1)
            start = i
            i += 1
            code = []
            while i < len(lines) and not lines[i].strip().startswith(opening):
                code.append((i + 1, lines[i]))
                i += 1
            i += 1
            if not section_level:
                continue
            block = Block(start + 1, fence.group(2).lower(), code)
            j = start - 1
            while j >= 0 and (not lines[j].strip() or MARKER.match(lines[j])):
                marker = MARKER.match(lines[j])
                if marker:
                    used_markers.add(j)
                    problem = apply_marker(block, marker.group(1), j + 1, shown)
                    if problem:
                        problems.append(problem)
                j -= 1
            sections[-1].append(block)
            continue
        heading = HEADING.match(text)
        if heading:
            level = len(heading.group(1))
            if section_level and level <= section_level:
                section_level = 0
            if heading.group(2).startswith("Run it"):
                section_level = level
                sections.append([])
        i += 1
    in_fence = False
    for number, text in enumerate(lines):
        if FENCE.match(text):
            in_fence = not in_fence
        if not in_fence and ANY_MARKER.search(text) and number not in used_markers:
            if MARKER.match(text):
                problems.append(f"{shown}:{number + 1}: this run-it marker stands above no fenced "
                                "block of a 'Run it' section (only blank lines and other run-it "
                                "markers may stand between a marker and its block)")
            else:
                problems.append(f"{shown}:{number + 1}: a run-it marker must be a line of its "
                                "own: '<!-- run-it: output|vary REGEX|skip REASON -->'")
    for blocks in sections:
        last_commands = None
        for block in blocks:
            if block.language in COMMAND_LANGUAGES and not block.output:
                last_commands = block
                continue
            if block.output:
                if last_commands is None:
                    problems.append(f"{shown}:{block.line}: an output block with no block of "
                                    "commands above it in the section")
                block.commands = last_commands
            elif block.vary:
                problems.append(f"{shown}:{block.line}: 'run-it: vary' belongs beside "
                                "'run-it: output'")
            elif block.skip is None:
                problems.append(f"{shown}:{block.line}: a block in 'Run it' that is neither "
                                "commands (```sh) nor marked: put '<!-- run-it: output -->' above "
                                "it if it is the output of the commands above (it is then "
                                "checked), or '<!-- run-it: skip REASON -->' if it is not")
    return sections, problems


def apply_marker(block: Block, body: str, line: int, shown: str) -> str | None:
    word, _, rest = body.partition(" ")
    rest = rest.strip()
    if word == "skip":
        if not rest:
            return f"{shown}:{line}: 'run-it: skip' needs a reason: '<!-- run-it: skip REASON -->'"
        block.skip = rest
    elif word == "output" and not rest:
        block.output = True
    elif word == "vary" and rest:
        try:
            block.vary.append((line, re.compile(rest)))
        except re.error as e:
            return f"{shown}:{line}: 'run-it: vary' takes a Python regular expression: {e}"
    else:
        return (f"{shown}:{line}: unknown run-it marker '{body}' (one of: 'output', "
                "'vary REGEX', 'skip REASON')")
    return None


def commands_of(block: Block) -> list[Command]:
    commands = []
    pending: list[str] = []
    first = 0
    for number, text in block.code:
        if not pending:
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            first = number
        pending.append(text)
        if text.endswith("\\"):
            continue
        whole = "\n".join(pending)
        pending = []
        bare = TRAILING_COMMENT.sub("", whole).rstrip()
        commands.append(Command(first, whole, bare.endswith("&") and not bare.endswith("&&")))
    if pending:
        commands.append(Command(first, "\n".join(pending).rstrip("\\"), False))
    return commands


# --- the output check ------------------------------------------------------------------------

def normalise(text: str) -> str:
    text = ANSI.sub("", text)
    text = DECIMAL.sub(WILDCARD, NUMBER.sub(WILDCARD, text))
    text = ADJACENT.sub(WILDCARD, DURATION.sub(WILDCARD + "<time>", text))
    return " ".join(text.split())


def check_output(block: Block, output: str, shown: str) -> list[str]:
    """Problems with an output block: its lines that the real output does not hold."""
    originals = {}
    for line in output.splitlines():
        originals.setdefault(normalise(line), line.strip())
    real = [line for line in originals if line]
    missing = []
    for number, text in block.code:
        if not text.strip() or text.strip() in ("...", "…"):
            continue
        if any(pattern.search(text) for _, pattern in block.vary):
            continue
        wanted = normalise(text)
        if not any(wanted in line for line in real):
            missing.append((number, text, wanted))
    if not missing:
        return []
    lines = [f"{shown}:{block.line}: the output shown is not what the commands of line "
             f"{block.commands.line} print: {len(missing)} line(s) of it are not in their output "
             "(numbers and ids are wildcards, order does not matter)"]
    for number, text, wanted in missing[:12]:
        lines.append(f"    {shown}:{number}: {text.strip()}")
        near = difflib.get_close_matches(wanted, real, n=1, cutoff=0.6)
        if near:
            lines.append(f"        nearest real line: {originals[near[0]]}")
    if len(missing) > 12:
        lines.append(f"    ... and {len(missing) - 12} more")
    return ["\n".join(lines)]


# --- running ---------------------------------------------------------------------------------

class Stopped(Exception):
    """The check itself got SIGINT or SIGTERM."""


# Exit statuses of a role stopped by a signal a page (or a user) sends to stop it: SIGHUP,
# SIGINT, SIGKILL, SIGTERM, as the shell reports them (128 + the signal's number).
STOP_STATUSES = {128 + s for s in (signal.SIGHUP, signal.SIGINT, signal.SIGKILL, signal.SIGTERM)}
# What 'wait PID' says of a process the shell no longer knows (the page waited for it already).
UNKNOWN_STATUS = 127


def status_text(status: int) -> str:
    if status > 128:
        try:
            return f"killed by {signal.Signals(status - 128).name} (status {status})"
        except ValueError:
            pass
    return f"exit status {status}"


def tail(path: str, count: int = 8) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return lines[-count:]


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def first_line(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 100 else line[:97] + "..."


def describe(message: str, *logs: str) -> str:
    lines = [line for log in logs for line in tail(log)][-8:]
    if not lines:
        return message + "; it printed nothing"
    return message + "; the last lines it printed:\n" + "\n".join("      | " + l for l in lines)


def quote(path: str) -> str:
    return "'" + path.replace("'", "'\\''") + "'"


def session_members(session: int) -> list[tuple[int, int]]:
    """(pid, process group) of every process of a session (Linux: read from /proc)."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command's name: state, ppid, pgrp, session, ...
        if len(fields) > 3 and int(fields[3]) == session and fields[0] != "Z":
            members.append((int(name), int(fields[2])))
    return members


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return f"pid {pid}"
    return first_line(" ".join(w for w in words if w)) or f"pid {pid}"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def stop_groups(groups: list[int], grace: float) -> list[int]:
    """SIGTERM to each process group, SIGKILL after the grace period; the groups that needed it."""
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(group_alive(g) for g in groups):
        time.sleep(0.05)
    stubborn = [g for g in groups if group_alive(g)]
    for pgid in stubborn:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5  # SIGKILL takes effect at once, but not instantly
    while time.monotonic() < deadline and any(group_alive(g) for g in stubborn):
        time.sleep(0.02)
    return stubborn


class PageShell:
    """The reader's terminal: one bash for a page, with job control (each job its own process
    group), in its own session so that the check finds, and stops, everything it started."""

    def __init__(self, cwd: str, env: dict, logs: str, grace: float):
        self.logs = logs
        self.grace = grace
        self.count = 0
        self.log = os.path.join(logs, f"shell-{time.monotonic_ns()}.log")
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(["bash", "--norc", "--noprofile"], cwd=cwd, env=env,
                                            stdin=subprocess.PIPE, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.send("set -m\n")

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, text: str) -> None:
        try:
            self.process.stdin.write(text.encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def answer(self, script: str, timeout: float | None) -> str | None:
        """Sends script, which writes its answer to the file named {answer}; waits for it."""
        self.count += 1
        path = os.path.join(self.logs, f"answer-{self.count}")
        self.send(script.replace("{answer}", quote(path + ".tmp")) + "\n"
                  + f"mv {quote(path + '.tmp')} {quote(path)}\n")
        deadline = None if timeout is None else time.monotonic() + timeout
        while not os.path.exists(path):
            if not self.alive() or (deadline is not None and time.monotonic() > deadline):
                return None
            time.sleep(0.02)
        return read_text(path)

    def run(self, command: Command, log: str, timeout: float) -> tuple[int | None, str]:
        """Runs a command as the page wrote it, its output to log: (its exit status, or for a
        background command the pid of the role; None when it did not finish in time or the
        shell ended), and what went wrong."""
        reply = "$!" if command.background else "$?"
        script = (f"{{ {command.text}\n}} >{quote(log)} 2>&1 </dev/null\n"
                  f"echo {reply} >{{answer}}")
        answer = self.answer(script, timeout)
        if answer is not None:
            return int(answer.strip() or "0"), ""
        if not self.alive():
            return None, "the shell ended (a syntax error, or an 'exit')"
        return None, f"did not finish within {timeout:g} s"

    def statuses(self, pids: list[int]) -> dict[int, int]:
        """The exit status of each of the shell's background pids that has ended."""
        if not pids or not self.alive():
            return {}
        script = (f"for __run_it_pid in {' '.join(map(str, pids))}; do "
                  "kill -0 $__run_it_pid 2>/dev/null || { wait $__run_it_pid 2>/dev/null; "
                  "echo \"$__run_it_pid $?\"; }; done >{answer}; unset __run_it_pid")
        answer = self.answer(script, 10)
        ended = {}
        for line in (answer or "").splitlines():
            pid, status = line.split()
            ended[int(pid)] = int(status)
        return ended

    def others(self) -> list[int]:
        """The process groups of the session other than the shell's: what is still running."""
        shell = self.process.pid
        return sorted({pgid for pid, pgid in session_members(shell) if pgid != shell})

    def close(self) -> None:
        stop_groups(self.others(), self.grace)
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            stop_groups([self.process.pid], self.grace)
            self.process.wait()


class PageRun:
    """Runs the blocks of one page in its scratch copy, in one shell."""

    def __init__(self, page: str, project: str, logs: str, args):
        self.page = page
        self.project = project
        self.logs = logs
        self.args = args
        self.shell: PageShell | None = None

    def new_shell(self) -> PageShell:
        env = dict(os.environ)
        env["PWD"] = self.project
        return PageShell(self.project, env, self.logs, self.args.grace)

    def close(self) -> None:
        if self.shell is not None:
            self.shell.close()

    def run_block(self, block: Block) -> tuple[int, str, list[str]]:
        """Runs one block of commands: (commands run, their output together, problems)."""
        page, args = self.page, self.args
        if self.shell is None or not self.shell.alive():
            if self.shell is not None:
                print(f"  {page}:{block.line}: a new shell (the last one ended; its variables "
                      "and directory are lost)")
                self.shell.close()
            self.shell = self.new_shell()
        shell = self.shell
        problems: list[str] = []
        roles: list[tuple[Command, int, str]] = []  # background roles: command, pid, log
        ended: dict[int, int] = {}
        logs: list[str] = []
        ran = 0

        def check_roles() -> None:
            for pid, status in shell.statuses([p for _, p, _ in roles if p not in ended]).items():
                ended[pid] = status
                command, _, log = next(r for r in roles if r[1] == pid)
                if status not in (0, UNKNOWN_STATUS) and status not in STOP_STATUSES:
                    problems.append(describe(f"{page}:{command.line}: the background role "
                                             f"'{first_line(command.text)}' died before the end "
                                             f"of its block ({status_text(status)})", log))

        try:
            for command in commands_of(block):
                ran += 1
                log = os.path.join(self.logs, f"{block.line}-{command.line}.log")
                logs.append(log)
                started = time.monotonic()
                if command.background:
                    pid, trouble = shell.run(command, log, args.timeout)
                    if pid is None:
                        problems.append(describe(f"{page}:{command.line}: "
                                                 f"'{first_line(command.text)}': {trouble}",
                                                 log, shell.log))
                        break
                    roles.append((command, pid, log))
                    print(f"  {page}:{command.line}: started in the background (pid {pid}): "
                          f"{first_line(command.text)}")
                    continue
                status, trouble = shell.run(command, log, args.timeout)
                took = time.monotonic() - started
                if args.verbose:
                    for line in tail(log, 10**9):
                        print("      | " + line)
                if status is None:
                    if shell.alive():
                        running = [g for g in shell.others() if g not in {p for _, p, _ in roles}]
                        stop_groups(running, args.grace)
                        shell.answer("true >{answer}", args.grace + 5)
                        trouble += " (stopped)"
                        problems.append(describe(f"{page}:{command.line}: "
                                                 f"'{first_line(command.text)}' {trouble}", log))
                    else:
                        problems.append(describe(f"{page}:{command.line}: "
                                                 f"'{first_line(command.text)}': {trouble}",
                                                 log, shell.log))
                    check_roles()
                    break
                if status != 0:
                    problems.append(describe(f"{page}:{command.line}: "
                                             f"'{first_line(command.text)}' failed "
                                             f"({status_text(status)})", log))
                    check_roles()
                    break
                print(f"  {page}:{command.line}: ok in {took:.1f} s: {first_line(command.text)}")
                check_roles()
        finally:
            if shell.alive():
                check_roles()
            live = [(c, p, log) for c, p, log in roles if p not in ended]
            stubborn = stop_groups([p for _, p, _ in live if group_alive(p)], args.grace)
            left = [g for g in shell.others() if g not in {p for _, p, _ in roles}]
            if left:
                names = "; ".join(command_line(pgid) for pgid in left)
                stop_groups(left, args.grace)
                print(f"  {page}:{block.line}: warning: the block left {len(left)} process "
                      f"group(s) running that it did not start with '&' (stopped): {names}")
            stopped = shell.statuses([p for _, p, _ in live]) if shell.alive() else {}
            for command, pid, log in live:
                status = stopped.get(pid, UNKNOWN_STATUS)
                if pid in stubborn:
                    print(f"  {page}:{command.line}: warning: the background role did not stop "
                          f"on SIGTERM within {args.grace:g} s (killed)")
                elif status not in (0, UNKNOWN_STATUS) and status not in STOP_STATUSES:
                    problems.append(describe(f"{page}:{command.line}: the background role "
                                             f"'{first_line(command.text)}' did not stop cleanly "
                                             f"on SIGTERM at the end of its block "
                                             f"({status_text(status)})", log))
        if args.verbose:
            for command, _, log in roles:
                print(f"  {page}:{command.line}: the background role's output:")
                for line in tail(log, 10**9):
                    print("      | " + line)
        return ran, "\n".join(read_text(log) for log in logs), problems


def run_page(root: str, page: str, sections: list[list[Block]], args) -> tuple[int, list[str]]:
    """Runs a page's blocks in a scratch copy; the number of commands run and the problems."""
    problems: list[str] = []
    scratch = tempfile.mkdtemp(prefix="run-it-")
    logs = tempfile.mkdtemp(prefix="run-it-logs-")
    project = os.path.join(scratch, os.path.basename(os.path.realpath(root)) or "project")
    run = PageRun(page, project, logs, args)
    ran = 0
    try:
        copy_project(root, project)
        before = files_in(project)
        for blocks in sections:
            outputs: dict[int, str | None] = {}
            for block in blocks:
                if block.output:
                    commands = block.commands
                    if commands is None or commands.skip is not None:
                        continue
                    text = outputs.get(commands.line)
                    if text is not None:
                        problems += check_output(block, text, page)
                    continue
                if block.language not in COMMAND_LANGUAGES:
                    continue
                if block.skip is not None:
                    print(f"  {page}:{block.line}: skipped ({block.skip})")
                    continue
                count, output, block_problems = run.run_block(block)
                ran += count
                problems += block_problems
                outputs[block.line] = None if block_problems else output
        made = sorted(files_in(project) - before)
        if made:
            shown = ", ".join(made[:10]) + (f" and {len(made) - 10} more" if len(made) > 10 else "")
            print(f"  {page}: files the commands made in the scratch copy (removed): {shown}")
    finally:
        run.close()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    return ran, problems


def copy_project(root: str, project: str) -> None:
    os.makedirs(project)
    for name in sorted(os.listdir(root)):
        source = os.path.join(root, name)
        target = os.path.join(project, name)
        if name == ".git":
            continue
        if (name == "build" or name.startswith("build-")) and os.path.isdir(source):
            os.symlink(os.path.realpath(source), target)
        elif os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)


def files_in(project: str) -> set[str]:
    found = set()
    for folder, folders, files in os.walk(project):  # does not follow the build links
        for name in files + [f for f in folders if os.path.islink(os.path.join(folder, f))]:
            found.add(os.path.relpath(os.path.join(folder, name), project))
    return found


# --- main ------------------------------------------------------------------------------------

def list_page(page: str, sections: list[list[Block]]) -> None:
    for blocks in sections:
        for block in blocks:
            if block.output:
                if block.commands is not None:
                    print(f"  {page}:{block.line}: output of the block at line {block.commands.line}"
                          + (f" ({len(block.vary)} vary marker(s))" if block.vary else ""))
            elif block.skip is not None:
                print(f"  {page}:{block.line}: skipped ({block.skip})")
            elif block.language in COMMAND_LANGUAGES:
                for command in commands_of(block):
                    kind = "background" if command.background else "run"
                    print(f"  {page}:{command.line}: {kind}: {first_line(command.text)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="check_run_it.py", description="Runs the commands of the pages' 'Run it' sections "
        "as written. See the docstring (python3 docs/check_run_it.py --rules) for the rules.")
    parser.add_argument("root")
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--needs", default="build/default")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    if "--rules" in argv[1:]:
        print(__doc__)
        return 0
    args = parser.parse_args(argv[1:])
    root = os.path.realpath(args.root)
    if args.needs and not args.list and not os.path.isdir(os.path.join(root, args.needs)):
        print(f"SKIPPED: {args.needs} is not built (the pages' commands run its programs)")
        return 77

    def stop(signum, frame):
        raise Stopped(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    problems: list[str] = []
    total = 0
    started = time.monotonic()
    try:
        for page in args.pages:
            path = os.path.join(root, page)
            if not os.path.isfile(path):
                problems.append(f"{page}: no such page")
                continue
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            sections, page_problems = read_page(lines, page)
            problems += page_problems
            if not sections:
                print(f"{page}: no 'Run it' section: nothing to run")
                continue
            print(f"{page}:")
            if args.list:
                list_page(page, sections)
                continue
            ran, run_problems = run_page(root, page, sections, args)
            total += ran
            problems += run_problems
    except Stopped as e:
        print(f"check_run_it: stopped by {e}; every process it started is stopped")
        return 1
    for problem in problems:
        print(problem)
    took = time.monotonic() - started
    if problems:
        print(f"check_run_it: FAILED: {len(problems)} problem(s) on {len(args.pages)} page(s) "
              f"({total} command(s) run in {took:.0f} s)")
        return 1
    print(f"check_run_it: {total} command(s) of {len(args.pages)} page(s) ran as written "
          f"and printed what the pages show ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
