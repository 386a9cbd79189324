#!/usr/bin/env python3
"""Self-test of check_run_it.py: small fake pages with trivial commands, in a temporary project.

    python3 docs/test_check_run_it.py        (standard library only; about 20 s)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_run_it.py")
FENCE = "```"


def page(text: str) -> str:
    return textwrap.dedent(text).replace("~~~", FENCE)


class CheckRunIt(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory(prefix="test-run-it-")
        self.root = os.path.join(self.temp.name, "project")
        self.outside = os.path.join(self.temp.name, "outside")
        os.makedirs(os.path.join(self.root, "build", "default"))
        os.makedirs(self.outside)
        with open(os.path.join(self.root, "build", "default", "hello"), "w") as f:
            f.write("#!/bin/sh\necho \"hello from the build, pid $$\"\n")
        os.chmod(os.path.join(self.root, "build", "default", "hello"), 0o755)

    def tearDown(self):
        self.temp.cleanup()

    def run_check(self, text: str, *options: str, name: str = "README.md"):
        with open(os.path.join(self.root, name), "w", encoding="utf-8") as f:
            f.write(page(text))
        result = subprocess.run([sys.executable, SCRIPT, *options, self.root, name],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=120)
        return result.returncode, result.stdout

    def assert_passes(self, text: str, *options: str) -> str:
        status, output = self.run_check(text, *options)
        self.assertEqual(status, 0, output)
        return output

    def assert_fails(self, text: str, *expected: str, options: tuple = ()) -> str:
        status, output = self.run_check(text, *options)
        self.assertEqual(status, 1, output)
        for part in expected:
            self.assertIn(part, output)
        return output

    def assert_dead(self, pid_file: str):
        with open(pid_file) as f:
            pid = int(f.read().strip())
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        self.fail(f"process {pid} is still running")

    # --- commands -------------------------------------------------------------------------

    def test_commands_that_succeed_pass_and_build_programs_run(self):
        output = self.assert_passes("""\
            # Page
            ## Run it
            ~~~sh
            echo one   # a comment
            build/default/hello
            echo two \\
                 three
            ~~~
            """)
        self.assertIn("README.md:4: ok", output)
        self.assertIn("README.md:6: ok", output)
        self.assertIn("3 command(s)", output)

    def test_a_failing_command_fails_naming_page_line_status_and_output(self):
        self.assert_fails("""\
            ## Run it
            ~~~sh
            echo fine
            echo "it went wrong" >&2; false
            echo never
            ~~~
            """, "README.md:4:", "failed (exit status 1)", "it went wrong")

    def test_a_hanging_command_is_stopped_at_the_time_limit(self):
        started = time.monotonic()
        self.assert_fails("""\
            ## Run it
            ~~~sh
            echo waiting; sleep 30
            ~~~
            """, "README.md:3:", "did not finish within 1 s", "waiting",
                          options=("--timeout", "1", "--grace", "1"))
        self.assertLess(time.monotonic() - started, 15)

    def test_a_background_role_runs_during_its_block_and_is_stopped_after_it(self):
        pid = os.path.join(self.outside, "bg.pid")
        output = self.assert_passes(f"""\
            ## Run it
            ~~~sh
            bash -c 'echo $$ > {pid}; echo role up; exec sleep 30' &
            sleep 0.5
            test -s {pid}   # the role is running while the later commands run
            ~~~
            <!-- run-it: output -->
            ~~~text
            role up
            ~~~
            """, "--grace", "1")
        self.assertIn("started in the background", output)
        self.assert_dead(pid)

    def test_a_background_role_that_dies_early_fails_with_its_status_and_last_lines(self):
        self.assert_fails("""\
            ## Run it
            ~~~sh
            sh -c 'echo cannot bind the address; exit 3' &
            sleep 1
            ~~~
            """, "README.md:3:", "died before the end of its block (exit status 3)",
                          "cannot bind the address")

    def test_a_background_role_killed_by_a_signal_fails(self):
        self.assert_fails("""\
            ## Run it
            ~~~sh
            sh -c 'kill -SEGV $$' &
            sleep 1
            ~~~
            """, "README.md:3:", "killed by SIGSEGV")

    def test_a_role_that_fails_when_stopped_fails(self):
        self.assert_fails("""\
            ## Run it
            ~~~sh
            bash -c 'trap "echo error: Interrupted system call; exit 1" TERM; sleep 30 & wait' &
            sleep 0.5
            ~~~
            """, "README.md:3:", "did not stop cleanly on SIGTERM", "exit status 1",
                          "Interrupted system call")

    def test_a_role_the_page_stops_itself_passes(self):
        self.assert_passes("""\
            ## Run it
            ~~~sh
            sleep 30 &
            sleep 30 &
            kill $!
            sleep 0.2
            kill $(jobs -p)
            ~~~
            """)

    def test_a_background_role_that_finishes_its_work_passes(self):
        self.assert_passes("""\
            ## Run it
            ~~~sh
            sh -c 'echo published; exit 0' &
            sleep 1
            ~~~
            <!-- run-it: output -->
            ~~~
            published
            ~~~
            """)

    def test_processes_a_command_leaves_behind_are_stopped(self):
        pid = os.path.join(self.outside, "left.pid")
        output = self.assert_passes(f"""\
            ## Run it
            ~~~sh
            sh -c 'echo $$ > {pid}; exec sleep 30' & sleep 0.3; echo done
            ~~~
            """, "--grace", "1")
        self.assertIn("README.md:2: warning: the block left 1 process group(s) running", output)
        self.assert_dead(pid)

    def test_stopping_the_check_stops_everything_it_started(self):
        pid = os.path.join(self.outside, "role.pid")
        with open(os.path.join(self.root, "README.md"), "w", encoding="utf-8") as f:
            f.write(page(f"""\
                ## Run it
                ~~~sh
                bash -c 'echo $$ > {pid}; exec sleep 30' &
                sleep 30
                ~~~
                """))
        check = subprocess.Popen([sys.executable, SCRIPT, "--grace", "1", self.root, "README.md"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while not os.path.exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        check.terminate()
        output, _ = check.communicate(timeout=30)
        self.assertEqual(check.returncode, 1, output)
        self.assertIn("stopped by SIGTERM", output)
        self.assert_dead(pid)

    def test_files_the_commands_make_do_not_land_in_the_project(self):
        output = self.assert_passes("""\
            ## Run it
            ~~~sh
            echo state > made.db
            cat made.db
            ls README.md build/default/hello
            ~~~
            """)
        self.assertFalse(os.path.exists(os.path.join(self.root, "made.db")))
        self.assertIn("made.db", output)

    def test_a_command_that_ends_the_shell_fails_and_the_next_block_gets_a_new_one(self):
        output = self.assert_fails("""\
            ## Run it
            ~~~sh
            greeting=hi
            exit 0
            ~~~
            ~~~sh
            test -z "$greeting"
            ~~~
            """, "README.md:4:", "the shell ended", "1 problem(s)")
        self.assertIn("README.md:6: a new shell", output)

    def test_exports_carry_over_to_later_commands_and_blocks(self):
        self.assert_passes("""\
            ## Run it
            ~~~sh
            export PATH="$PWD/build/default:$PATH"
            GREETING=hi; cd build
            ~~~
            Later:
            ~~~sh
            echo "$GREETING there"
            cd .. && hello
            ~~~
            <!-- run-it: output -->
            ~~~
            hi there
            hello from the build, pid 1
            ~~~
            """)

    # --- sections and markers -------------------------------------------------------------

    def test_only_the_run_it_section_and_its_subsections_run(self):
        output = self.assert_passes("""\
            # Page
            ~~~sh
            false
            ~~~
            ## Run it: the demo
            ~~~sh
            echo main
            ~~~
            ### Seeing the flow
            ~~~bash
            echo sub
            ~~~
            ## Walk through the code
            ~~~sh
            false
            ~~~
            ~~~cpp
            int main() {}
            ~~~
            """)
        self.assertIn("2 command(s)", output)

    def test_a_page_without_run_it_is_noted(self):
        output = self.assert_passes("# Page\n\n```sh\nfalse\n```\n")
        self.assertIn("no 'Run it' section", output)

    def test_a_skipped_block_is_not_run_and_needs_a_reason(self):
        output = self.assert_passes("""\
            ## Run it
            <!-- run-it: skip needs a second machine -->
            ~~~sh
            false
            ~~~
            <!-- run-it: output -->
            ~~~
            nothing like this is printed
            ~~~
            <!-- run-it: skip an illustration from another run -->
            ~~~
            whatever
            ~~~
            """)
        self.assertIn("skipped (needs a second machine)", output)
        self.assert_fails("""\
            ## Run it
            <!-- run-it: skip -->
            ~~~sh
            false
            ~~~
            """, "README.md:2:", "needs a reason")

    def test_an_unmarked_block_in_run_it_fails(self):
        self.assert_fails("""\
            ## Run it
            ~~~sh
            echo hi
            ~~~
            ~~~
            hi
            ~~~
            """, "README.md:5:", "neither commands")

    def test_bad_and_stray_markers_fail(self):
        self.assert_fails("""\
            ## Run it
            <!-- run-it: outptu -->
            ~~~sh
            echo hi
            ~~~
            """, "README.md:2:", "unknown run-it marker")
        self.assert_fails("""\
            ## Run it
            <!-- run-it: output -->
            Some prose.
            ~~~sh
            echo hi
            ~~~
            """, "README.md:2:", "stands above no fenced block")
        self.assert_fails("""\
            # Page
            <!-- run-it: skip not here -->
            ~~~sh
            echo hi
            ~~~
            """, "README.md:2:", "stands above no fenced block")

    # --- output ---------------------------------------------------------------------------

    def test_output_numbers_ids_blanks_and_order_do_not_matter(self):
        self.assert_passes("""\
            ## Run it
            ~~~sh
            printf '  12.345 ms  order-service   published #7 corr 2fb3d5da on tcp://127.0.0.1:41234\\n'
            printf 'total: 1 400 000 events/s\\nsecond line\\n'
            ~~~
            The reader sees:
            <!-- run-it: output -->
            ~~~text
            second line
                1.843 ms  order-service     published #1 corr deadbeef on tcp://127.0.0.1:5556
            ...
            total: 999 000 events/s
            ~~~
            """)

    def test_a_duration_may_change_its_unit_but_other_units_count(self):
        self.assert_passes("""\
            ## Run it
            ~~~sh
            printf 'replayed: p50 1.02ms, stopped in 2 s, 3 orders\\n'
            ~~~
            <!-- run-it: output -->
            ~~~text
            replayed: p50 618.9us, stopped in 450 ms, 3 orders
            ~~~
            """)
        self.assert_fails("""\
            ## Run it
            ~~~sh
            printf 'replayed: 3 orders\\n'
            ~~~
            <!-- run-it: output -->
            ~~~text
            replayed: 3 events
            ~~~
            """, "README.md:7: replayed: 3 events")

    def test_output_the_commands_do_not_print_fails_naming_the_line(self):
        output = self.assert_fails("""\
            ## Run it
            ~~~sh
            echo "every consumer handled every order at least once"
            echo "gaps: 0"
            ~~~
            <!-- run-it: output -->
            ~~~
            gaps: 0
            every consumer handled every order exactly once
            ~~~
            """, "README.md:7:", "README.md:9: every consumer handled every order exactly once",
                                   "nearest real line: every consumer handled every order at least once",
                                   "1 problem(s)")
        self.assertNotIn("README.md:8:", output)

    def test_vary_marks_lines_that_differ_between_runs(self):
        text = """\
            ## Run it
            ~~~sh
            printf 'order 1\\n  └─ billing 1\\n  ├─ shipping 1\\n'
            ~~~
            <!-- run-it: output -->
            {vary}
            ~~~
            order 1
              ├─ billing 1
              └─ shipping 1
            ~~~
            """
        self.assert_fails(text.format(vary=""), "README.md:9:", "README.md:10:")
        self.assert_passes(text.format(vary="<!-- run-it: vary ^\\s*[├└]─ -->"))

    def test_output_of_a_failed_block_is_not_checked_again(self):
        output = self.assert_fails("""\
            ## Run it
            ~~~sh
            false
            ~~~
            <!-- run-it: output -->
            ~~~
            something
            ~~~
            """, "README.md:3:")
        self.assertNotIn("README.md:5:", output)

    # --- the command line -----------------------------------------------------------------

    def test_skips_when_the_build_is_missing(self):
        status, output = self.run_check("## Run it\n```sh\necho hi\n```\n", "--needs", "build/nope")
        self.assertEqual(status, 77, output)
        self.assertIn("SKIPPED", output)

    def test_list_runs_nothing(self):
        output = self.assert_passes("""\
            ## Run it
            ~~~sh
            false
            sleep 30 &
            ~~~
            """, "--list")
        self.assertIn("README.md:3: run: false", output)
        self.assertIn("README.md:4: background: sleep 30", output)

    def test_a_missing_page_fails(self):
        result = subprocess.run([sys.executable, SCRIPT, self.root, "nope.md"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("nope.md: no such page", result.stdout)


if __name__ == "__main__":
    unittest.main()
