"""An instructor's semester after grading: manual grades in nbgrader's formgrader (a real server and
browser), the instructor's view safe from student markup, similarity, regrading after a fix, LMS export.

One course of chapter 6 is graded once (four students) and shared by every test:

* alice: the reference answers; carol: alice's answers with names and comments changed (a near-copy);
* bob: answers written differently (the honest variant of ``tests/variants``);
* dave: a growth factor off by one part in ten million (fails the hidden test's 1e-10 tolerance) and
  markup in his written answer, an extra markdown cell, the outputs he hands in and the outputs his code
  displays while graded: script, ``onerror``, ``javascript:`` links, SVG with handlers, JavaScript.

The browser is Debian's chromium driven by Playwright (as ``test_site_browser.py``); the formgrader is a
Jupyter server on 127.0.0.1 with a token, a free port, and config, data and runtime folders (and HOME)
of its own under the test's temporary folder.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from adversarial import honest
from harness import Course, cell, nbgrader_env

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ASSIGNMENT = "ch06_relu_vs_tanh"
SCREENSHOT_COPY = Path("/work/briefs/formgrader.png")
EVIL = "evil.invalid"    # every planted request goes there
MARK = "window.__pwned = 1; document.documentElement.setAttribute('data-pwned', '1')"
PLANTED_MARKDOWN = f"""My answer. <script>{MARK}</script>
<img src="http://{EVIL}/a.png" onerror="{MARK}">
<svg xmlns="http://www.w3.org/2000/svg" onload="{MARK}"><circle r="5"/></svg>
<a href="javascript:{MARK}">click me</a> and [click me too](javascript:{MARK.replace('(', '%28')})
<iframe src="http://{EVIL}/frame"></iframe><style>body {{ background: url(http://{EVIL}/bg.png) }}</style>
<details open ontoggle="{MARK}">x</details>
![pixel](http://{EVIL}/md.png)
"""
SHOWN_HTML = f'<b>shown</b><script>{MARK}</script><img src="http://{EVIL}/b.png" onerror="{MARK}">'
SHOWN_SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{MARK}"><circle r="5"/></svg>'
DISPLAY_CODE = (f"from IPython.display import HTML, Javascript, SVG, display\n"
                f"display(HTML({SHOWN_HTML!r}))\ndisplay(Javascript({MARK!r}))\ndisplay(SVG({SHOWN_SVG!r}))\n")
COMMENT = "Clear derivation of s/sqrt(2); the tanh part needs the Jacobian. <script>alert(1)</script>"


def command(course, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "rnncourse.autograder", *args], cwd=course.root,
                          env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)


def planted_outputs():
    return [nbformat.v4.new_output("display_data", data={
                "text/html": f'<script>{MARK}</script><img src="http://{EVIL}/c.png" onerror="{MARK}">',
                "application/javascript": MARK,
                "image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{MARK}"></svg>',
                "text/plain": "<IPython.core.display.HTML object>"})]


def near_copy(nb):
    """alice's answers with a comment added and local names changed: what copying looks like."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"):
            c.source = ("# my own work\n" + c.source.replace("steps", "n_steps").replace("states", "hs"))
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    import importlib
    sys.path.insert(0, str(Path(__file__).parent / "variants"))
    course = Course(tmp_path_factory.mktemp("semester"), ASSIGNMENT, timeout=30)
    solution, release = course.solution(), course.release()
    alice = honest(solution, release)
    course.submit("alice", alice)
    course.submit("carol", near_copy(alice))
    bob = honest(solution, release)
    for gid, source in importlib.import_module(ASSIGNMENT).VARIANT.items():
        cell(bob, gid).source = source.strip("\n")
    course.submit("bob", bob)
    dave = copy.deepcopy(release)
    source = cell(solution, "growth_factor").source
    cell(dave, "growth_factor").source = source.replace("return float(np.exp(", "return (1 + 1e-7) * float(np.exp(")
    cell(dave, "explain").source = PLANTED_MARKDOWN
    shown = nbformat.v4.new_code_cell(DISPLAY_CODE, outputs=planted_outputs(), execution_count=1)
    index = next(i for i, c in enumerate(dave.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    dave.cells[index + 1:index + 1] = [shown, nbformat.v4.new_markdown_cell(PLANTED_MARKDOWN)]
    course.submit("dave", dave)
    result = command(course, "grade", ASSIGNMENT, "--workers", "1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return course


def report(course) -> dict[str, dict]:
    return {row["student"]: row for row in json.loads((course.root / "reports" / f"{ASSIGNMENT}.json").read_text())}


def scores(root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}


# --- the instructor's view: what the grader writes holds no markup that runs -----------------------------

def runnable_markup(html_text: str) -> list[str]:
    """Pieces of ``html_text`` a browser would run or fetch on opening: planted scripts, handlers, javascript:
    URLs, remote images and styles (a plain link to a remote page fetches nothing until it is followed)."""
    patterns = [r"<script[^>]*>[^<]*__pwned", r"""<[a-z][^>]*\son[a-z]+\s*=\s*["']?[^"'>]*__pwned""",
                r"""<[a-z][^>]*\s(href|src)\s*=\s*["']?\s*javascript:""",
                rf"""<[a-z][^>]*\ssrc\s*=\s*["']?http://{EVIL}""", rf"<style[^>]*>[^<]*url\(http://{EVIL}"]
    return [m.group(0) for p in patterns for m in re.finditer(p, html_text, flags=re.I)]


def test_autograded_and_feedback_hold_no_runnable_student_markup(course):
    autograded = nbformat.read(course.root / "autograded" / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    student_text = [c.source for c in autograded.cells if c.cell_type == "markdown"]
    outputs = [o for c in autograded.cells for o in c.get("outputs", []) if "data" in o]
    student_text += [str(v) for o in outputs for v in o["data"].values()]
    assert [piece for text in student_text for piece in runnable_markup(text)] == []
    kinds = {k for o in outputs for k in o["data"]}
    assert "text/html" in kinds and not kinds & {"application/javascript", "image/svg+xml"}, kinds
    assert "&lt;script>" in cell(autograded, "explain").source, "the planted markup stays visible, as text"
    page = (course.root / "feedback" / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert re.search("&lt;script(&gt;|>)", page) and runnable_markup(page) == []
    assert course.cell_scores("dave")["growth_factor_hidden"] == 0   # graded as usual: the 1e-7 error fails


def test_similarity_ranks_the_near_copies_first_and_changes_no_score(course):
    before = scores(course.root)
    report_before = (course.root / "reports" / f"{ASSIGNMENT}.csv").read_bytes()
    result = command(course, "similarity", ASSIGNMENT)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(course.root / "reports" / f"{ASSIGNMENT}-similarity.csv")))
    assert len(rows) == 6
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"alice", "carol"}, rows[:3]
    assert float(rows[0]["similarity"]) > 0.8 > float(rows[1]["similarity"]), rows[:3]
    page = (course.root / "reports" / f"{ASSIGNMENT}-similarity.html").read_text()
    assert page.index("alice") < page.index("bob") and "<script" not in page
    assert scores(course.root) == before
    assert (course.root / "reports" / f"{ASSIGNMENT}.csv").read_bytes() == report_before


def test_lms_export_has_the_documented_columns_and_marks_pending_parts(course):
    result = command(course, "export", "--lms", "canvas", "--out", "canvas.csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(open(course.root / "canvas.csv")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == 13
    by_login = {r[3]: r for r in rows[2:]}
    assert sorted(by_login) == ["alice", "bob", "carol", "dave"]
    pending = report(course)
    for student, row in by_login.items():   # the written answer waits for a person: never exported as final
        assert (row[5] == "") == (pending[student]["pending"] > 0), (student, row)
    assert "left empty: alice" in result.stdout or pending["alice"]["pending"] == 0
    result = command(course, "export", "--lms", "moodle", "--out", "moodle.csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(course.root / "moodle.csv")))
    assert list(rows[0])[:5] == ["Username", "First name", "Last name", ASSIGNMENT, f"{ASSIGNMENT} feedback"]
    for row in rows:
        assert float(row[ASSIGNMENT]) == pytest.approx(report(course)[row["Username"]]["score"])
        assert ("pending" in row[f"{ASSIGNMENT} feedback"]) == (pending[row["Username"]]["pending"] > 0)


def test_regrading_after_a_changed_tolerance_lists_whose_score_changed(course, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(course.root, root, symlinks=True)
    for student in ["bob", "carol"]:          # two students are enough to show it (and cheaper)
        shutil.rmtree(root / "submitted" / student)
    solution_path = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solution = nbformat.read(solution_path, as_version=4)
    hidden = cell(solution, "growth_factor_hidden")
    assert "rtol=1e-10)" in hidden.source
    hidden.source = hidden.source.replace("rtol=1e-10)", "rtol=1e-6)")   # the fix: a looser hidden tolerance
    nbformat.write(solution, solution_path)
    before = scores(root)
    result = subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", ASSIGNMENT, "--force",
                             "--workers", "1"], cwd=root, env=nbgrader_env(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = scores(root)
    assert after["dave"] == before["dave"] + 1 and after["alice"] == before["alice"]
    changes = list(csv.DictReader(open(root / "reports" / f"{ASSIGNMENT}-changes.csv")))
    assert [(r["student"], float(r["score_before"]), float(r["score_after"])) for r in changes] == [
        ("dave", before["dave"], after["dave"])]
    assert "1 student(s) scored differently" in result.stdout


# --- manual grading in the formgrader, in a browser; then the reports and the feedback ---------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """A Jupyter server with nbgrader's formgrader serving the course: (base url, token)."""
    home = tmp_path_factory.mktemp("jupyter")
    env = nbgrader_env()
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTER_PLATFORM_DIRS="1")
    token, port = secrets.token_hex(16), free_port()
    log = open(home / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={course.root}", "--ServerApp.port_retries=0", "--allow-root"],
                              cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.time() < deadline, (home / "server.log").read_text()[-3000:]
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.is_file(), "headless Chromium is missing: `make browser` installs Debian's chromium"
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def submission_id(root: Path, student: str) -> str:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).id


# No network here: the page's MathJax (from a CDN) is replaced by a stub with the calls the formgrader makes
MATHJAX = "cdnjs.cloudflare.com/ajax/libs/mathjax/"
MATHJAX_STUB = ("window.MathJax = {Hub: {Config() {}, Queue() {}, Typeset() {}, "
                "Startup: {signal: {Interest() {}}}}};")


def open_watched(browser, url: str, allowed: str, token: str | None = None):
    """Open ``url`` (with the server's ``token`` in every request); record dialogs and requests outside
    ``allowed`` (aborted)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block",
                                  extra_http_headers={"Authorization": f"token {token}"} if token else None)
    seen = {"dialogs": [], "outside": []}

    def route(route_):
        url_ = route_.request.url
        if url_.startswith(allowed) or url_.startswith("data:"):
            route_.continue_()
        elif MATHJAX in url_:
            route_.fulfill(status=200, content_type="application/javascript", body=MATHJAX_STUB)
        else:
            seen["outside"].append(url_)
            route_.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(1500)
    return context, page, seen


UNSAFE = """() => ({
  pwned: window.__pwned === 1 || document.documentElement.hasAttribute('data-pwned'),
  jsLinks: [...document.querySelectorAll('a[href]')].filter(a => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
  handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name)
      && /pwned/.test(a.value))).length,
  planted: [...document.querySelectorAll('script, iframe, svg, style')].filter(e => /pwned|evil\\.invalid/.test(e.outerHTML)).length,
})"""


def assert_safe(page, seen, what):
    found = page.evaluate(UNSAFE)
    assert not seen["dialogs"], (what, seen["dialogs"])
    assert not [u for u in seen["outside"] if EVIL in u], (what, seen["outside"])
    assert found == {"pwned": False, "jsLinks": 0, "handlers": 0, "planted": 0}, (what, found)


def test_a_planted_script_runs_neither_in_the_formgrader_nor_in_the_feedback(course, formgrader, browser):
    base, token = formgrader
    url = f"{base}/formgrader/submissions/{submission_id(course.root, 'dave')}/"
    context, page, seen = open_watched(browser, url, base, token)
    try:
        assert page.locator("#explain").count() == 1, "the formgrader shows dave's written answer to grade"
        assert "<script>" in page.inner_text("body"), "the planted markup is shown as text"
        assert_safe(page, seen, "formgrader")
    finally:
        context.close()
    feedback = course.root / "feedback" / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    context, page, seen = open_watched(browser, feedback.as_uri(), feedback.as_uri())
    try:
        assert "growth_factor" in page.inner_text("body")
        assert_safe(page, seen, "feedback")
    finally:
        context.close()


def test_a_manual_grade_in_the_formgrader_reaches_the_gradebook_reports_and_feedback(course, formgrader, browser,
                                                                                        tmp_path):
    base, token = formgrader
    before = report(course)
    assert before["alice"]["pending"] == 3 and before["alice"]["needs_review"]
    others = {s: (course.root / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html").read_bytes()
              for s in ["bob", "carol", "dave"]}
    url = f"{base}/formgrader/submissions/{submission_id(course.root, 'alice')}/"
    context, page, seen = open_watched(browser, url, base, token)
    try:
        page.wait_for_function("() => window.formgrader && formgrader.loaded && formgrader.grades.loaded"
                               " && formgrader.comments.loaded", timeout=60_000)
        with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"):
            page.fill("#explain", "2")
            page.press("#explain", "Tab")
        with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT"):
            page.fill("#explain-comment", COMMENT)
            page.press("#explain-comment", "Tab")
        page.wait_for_timeout(300)
        page.locator("#explain").scroll_into_view_if_needed()
        shot = tmp_path / "formgrader.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        try:
            shutil.copy(shot, SCREENSHOT_COPY)
        except OSError:
            pass   # the copy for the report is a convenience; the test's own file is the evidence
        assert not seen["dialogs"]
    finally:
        context.close()

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gb:   # the formgrader wrote the gradebook
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "alice")
        grade = next(g for g in nb.grades if g.name == "explain")
        comment = next(c for c in nb.comments if c.name == "explain")
        assert grade.manual_score == 2 and not grade.needs_manual_grade and comment.manual_comment == COMMENT

    result = command(course, "reports", ASSIGNMENT)                       # and `reports` carries it on
    assert result.returncode == 0, result.stdout + result.stderr
    after = report(course)
    assert after["alice"]["pending"] == 0 and not after["alice"]["needs_review"]
    assert after["alice"]["score"] == before["alice"]["score"] + 2
    assert {s: r for s, r in after.items() if s != "alice"} == {s: r for s, r in before.items() if s != "alice"}
    rows = {r["student"]: r for r in csv.DictReader(open(course.root / "reports" / f"{ASSIGNMENT}.csv"))}
    assert float(rows["alice"]["pending"]) == 0 and rows["alice"]["needs_review"] == "False"
    page_text = (course.root / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "answer explain: graded by a person, 2 / 3 points" in page_text
    assert "Clear derivation of s/sqrt(2); the tanh part needs the Jacobian." in page_text
    assert "<script>alert(1)</script>" not in page_text
    assert others == {s: (course.root / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html").read_bytes()
                      for s in others}, "no other student's page changed"
    grades = {r["student_id"]: r for r in csv.DictReader(open(course.root / "grades.csv"))}
    assert float(grades["alice"]["score"]) == after["alice"]["score"]

    again = command(course, "grade", ASSIGNMENT, "--workers", "1")          # a later grading run keeps it
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert report(course) == after
