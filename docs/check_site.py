#!/usr/bin/env python3
"""Reads the generated documentation site as a reader would, in headless Chromium.

For each page named on the command line (Doxygen page names: index, catalogue, notification,
...) it serves the folder that holds html/ over HTTP on 127.0.0.1 (relative paths then resolve
as they do when html/index.html is opened from disk, and the charts and diagrams the build
copies beside html/ are found; nothing outside that folder is), loads the page in headless
Chromium with a small probe script injected into it, and reads back the rendered DOM. It fails
when:

- a page is missing, or does not finish rendering within the time budget;
- an image (or a script or style sheet) does not load: the probe records every resource error
  event and every <img> that ended up without pixels;
- an <object>, <iframe> or <embed> names a file that does not exist;
- a link to a local file is broken: the file does not exist, or its #anchor is not an id (or a
  name) in the target page;
- an image is wider than the text column in a 1300-pixel window (its right half would hide
  behind a scroll bar), or a link or table cell shows Markdown as text (a literal backtick).

Links to other sites (https:, mailto:) are not followed: the check runs without a network.

Only the Python standard library is used. Exit status: 0 all good, 1 problems found (each one
printed), 2 bad usage or a site that is not built.
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import io
import json
import os
import posixpath
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PROBE_ID = "eda-site-check"
# The window the pages are read in: a laptop's browser, not a wide monitor.
WINDOW = "1300,900"

# Injected at the start of <head>: it sees every resource error (the capture phase catches the
# non-bubbling error events of <img>, <script> and <link>), and after the load event it writes
# what the page looks like into a hidden element that --dump-dom then prints.
PROBE = """<script>(function () {
  var failed = [];
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window) {
      failed.push((t.tagName || '?').toLowerCase() + ' ' + (t.currentSrc || t.src || t.href || t.data || ''));
    } else {
      failed.push('script error: ' + e.message);
    }
  }, true);
  // Doxygen builds the navigation tree and the search box with scripts that load more
  // scripts, after the load event: wait until every image has settled (loaded or failed) and
  // the tree, if the page has one, is filled, and stays so for a few polls; then report.
  function settled() {
    var images = Array.prototype.every.call(document.images, function (i) { return i.complete; });
    var nav = document.getElementById('nav-tree-contents');
    return images && (!nav || nav.querySelectorAll('a').length > 0);
  }
  function report(polls) {
    // Each image's box against the column that holds the text: an image wider than the column
    // is cut off behind a scroll bar (measured at the window size the check asks Chromium for).
    var column = document.querySelector('div.contents') || document.body;
    var columnBox = column.getBoundingClientRect();
    var images = Array.prototype.map.call(document.images, function (i) {
      var box = i.getBoundingClientRect();
      var inColumn = column.contains(i);
      return {src: i.currentSrc || i.src, complete: i.complete, width: i.naturalWidth,
              overflow: inColumn && box.width > 0 ? Math.round(box.right - columnBox.right) : 0};
    });
    // Markdown that Doxygen did not render: a backtick left in a link's or a cell's text.
    var raw = Array.prototype.filter.call(column.querySelectorAll('a, td, th'), function (e) {
      return e.children.length === 0 && e.textContent.indexOf('`') >= 0;
    }).map(function (e) { return e.textContent.trim().slice(0, 60); });
    var embedded = Array.prototype.map.call(
      document.querySelectorAll('object[data], iframe[src], embed[src]'),
      function (o) { return o.data || o.src; });
    var links = Array.prototype.map.call(document.querySelectorAll('a[href]'),
                                         function (a) { return a.href; });
    var nav = document.getElementById('nav-tree-contents');
    var out = document.createElement('pre');
    out.id = '%s';
    out.hidden = true;
    out.textContent = JSON.stringify({
      title: document.title, polls: polls,
      text: (document.querySelector('div.contents') || document.body).innerText.length,
      navtree: nav ? nav.querySelectorAll('a').length : -1,
      images: images, embedded: embedded, links: links, failed: failed, raw: raw});
    document.body.appendChild(out);
  }
  window.addEventListener('load', function () {
    var polls = 0, calm = 0;
    (function poll() {
      polls += 1;
      calm = settled() ? calm + 1 : 0;
      if (calm >= 3 || polls >= 200) {
        report(polls);
      } else {
        setTimeout(poll, 100);
      }
    })();
  });
})();</script>""" % PROBE_ID


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site's files, with the probe injected into every HTML page."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(".html") or not os.path.isfile(path):
            return super().send_head()
        with open(path, "rb") as f:
            body = f.read()
        marker = body.find(b"<head>")
        at = marker + len(b"<head>") if marker >= 0 else 0
        body = body[:at] + PROBE.encode() + body[at:]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class DomReader(html.parser.HTMLParser):
    """Collects the ids and names a page defines, and the probe's report if there is one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.report: str | None = None
        self._in_probe = False
        self._probe_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.anchors.add(attributes[key])
        if tag == "pre" and attributes.get("id") == PROBE_ID:
            self._in_probe = True

    def handle_endtag(self, tag):
        if tag == "pre" and self._in_probe:
            self._in_probe = False
            self.report = "".join(self._probe_text)

    def handle_data(self, data):
        if self._in_probe:
            self._probe_text.append(data)


@functools.lru_cache(maxsize=None)
def anchors_of(path: str) -> frozenset[str]:
    reader = DomReader()
    with open(path, encoding="utf-8", errors="replace") as f:
        reader.feed(f.read())
    return frozenset(reader.anchors)


def render(chromium: str, url: str, profile: str, timeout: float, budget_ms: int) -> tuple[str, str]:
    """The DOM of a page after Chromium rendered it (stdout), and Chromium's stderr."""
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile,
               "--window-size=" + WINDOW, "--virtual-time-budget=%d" % budget_ms,
               "--dump-dom", url]
    # Its own process group, so that a timeout ends the browser's helper processes too.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True) as browser:
        try:
            out, err = browser.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.communicate()
            raise
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", required=True, help="the site's html/ folder")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page")
    parser.add_argument("--budget", type=int, default=30000,
                        help="Chromium's virtual time budget per page, ms")
    parser.add_argument("--require", action="append", default=[], metavar="PAGE=IMAGE",
                        help="PAGE must show an image whose path ends with IMAGE "
                             "(e.g. notification=diagrams/notification.svg); repeatable")
    parser.add_argument("pages", nargs="+", help="page names, e.g. index notification")
    args = parser.parse_args()

    required: dict[str, list[str]] = {}
    for item in args.require:
        page, _, image = item.partition("=")
        if not image:
            parser.error("--require takes PAGE=IMAGE, not '%s'" % item)
        required.setdefault(page.removesuffix(".html") + ".html", []).append(image)

    html_dir = os.path.realpath(args.html)
    if not os.path.isfile(os.path.join(html_dir, "index.html")):
        print("check_site: the site is not built: %s has no index.html" % html_dir)
        print("check_site: build it first: cmake --build <build dir> --target docs "
              "(scripts/test.sh does this before ctest)")
        return 2
    # Pages refer to files beside html/ as well (the benchmark charts are copied to
    # <docs>/docs/results and reached as ../docs/results/...): serve the folder above it, the
    # way a reader who opens html/index.html from disk sees it.
    root = os.path.dirname(html_dir)
    site_prefix = "/" + os.path.basename(html_dir) + "/"

    handler = functools.partial(QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]

    problems: list[str] = []
    started = time.monotonic()
    checked_links = 0
    checked_images = 0
    with tempfile.TemporaryDirectory(prefix="eda-check-site-") as profile:
        for page in args.pages:
            name = page if page.endswith(".html") else page + ".html"
            path = os.path.join(html_dir, name)
            if not os.path.isfile(path):
                problems.append("%s: the page is missing (%s)" % (name, path))
                continue
            url = base + site_prefix + name
            try:
                dom, stderr = render(args.chromium, url, profile, args.timeout, args.budget)
            except subprocess.TimeoutExpired:
                problems.append("%s: Chromium did not finish within %.0f s" % (name, args.timeout))
                continue
            reader = DomReader()
            reader.feed(dom)
            if reader.report is None:
                tail = "\n    ".join(stderr.strip().splitlines()[-5:])
                problems.append("%s: the page did not finish loading (no probe report); "
                                "Chromium said:\n    %s" % (name, tail))
                continue
            report = json.loads(reader.report)
            page_problems = check_page(name, report, base, root)
            shown = [urllib.parse.unquote(image["src"]) for image in report["images"]]
            for image in required.get(name, []):
                if not any(src.endswith("/" + image) for src in shown):
                    page_problems.append("%s: the page does not show %s" % (name, image))
            checked_links += len(report["links"])
            checked_images += len(report["images"])
            problems.extend(page_problems)
            print("check_site: %-22s %-45s %3d links, %2d images%s"
                  % (name, report["title"][:45], len(report["links"]), len(report["images"]),
                     "" if not page_problems else ", %d problems" % len(page_problems)))
    server.shutdown()

    elapsed = time.monotonic() - started
    if problems:
        print("check_site: FAILED, %d problems:" % len(problems))
        for problem in problems:
            print("  - " + problem)
        return 1
    print("check_site: %d pages rendered in %.1f s: %d links and %d images checked, all good"
          % (len(args.pages), elapsed, checked_links, checked_images))
    return 0


def check_page(name: str, report: dict, base: str, root: str) -> list[str]:
    problems = []
    if not report["title"].strip():
        problems.append("%s: the page has no title" % name)
    if report["text"] < 200:
        problems.append("%s: the page is nearly empty (%d characters of text)"
                        % (name, report["text"]))
    if report["navtree"] == 0:
        problems.append("%s: the navigation tree stayed empty (its scripts did not run)" % name)
    for failure in report["failed"]:
        if not failure.startswith("img "):  # images are reported below, once each
            problems.append("%s: did not load: %s" % (name, failure.replace(base, "")))
    for image in report["images"]:
        if not image["complete"] or image["width"] == 0:
            problems.append("%s: image does not load: %s" % (name, shorten(image["src"], base)))
        elif image.get("overflow", 0) > 1:
            problems.append("%s: image is %d px wider than the text column at a %s window: %s"
                            % (name, image["overflow"], WINDOW, shorten(image["src"], base)))
    for text in report.get("raw", []):
        problems.append("%s: markup shown as text (a literal backtick): %s" % (name, text))
    for target in report["embedded"]:
        where, _ = local_file(target, base, root)
        if where is not None and not os.path.isfile(where):
            problems.append("%s: embedded file is missing: %s" % (name, shorten(target, base)))
    seen = set()
    for link in report["links"]:
        if link in seen:
            continue
        seen.add(link)
        problem = check_link(link, base, root)
        if problem:
            problems.append("%s: broken link %s: %s" % (name, shorten(link, base), problem))
    return problems


def local_file(url: str, base: str, root: str) -> tuple[str | None, str]:
    """The file a URL of the local server names (None for other sites), and its fragment."""
    if not url.startswith(base + "/"):
        return None, ""
    parts = urllib.parse.urlsplit(url)
    path = posixpath.normpath(urllib.parse.unquote(parts.path))
    return os.path.join(root, path.lstrip("/")), urllib.parse.unquote(parts.fragment)


def check_link(link: str, base: str, root: str) -> str | None:
    scheme = urllib.parse.urlsplit(link).scheme
    if scheme == "file":
        return "points into the file system, outside the site"
    if scheme != "http" or not link.startswith(base + "/"):
        return None  # another site, mailto:, javascript: - not followed without a network
    path, fragment = local_file(link, base, root)
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    if not os.path.isfile(path):
        return "no such file"
    if fragment and path.endswith(".html") and fragment not in anchors_of(path):
        return "no id '%s' in %s" % (fragment, os.path.basename(path))
    return None


def shorten(url: str, base: str) -> str:
    return url[len(base):] if url.startswith(base) else url


if __name__ == "__main__":
    sys.exit(main())
