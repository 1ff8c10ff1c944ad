"""An instructor's semester on one machine, as a JupyterHub runs it, with students who try to cheat the exchange.

Three students are real Unix users (made with ``useradd`` and removed afterwards: the test runs
as root, like the sandbox and PostgreSQL tests) who fetch, work and submit with nbgrader's own
commands, each as themselves. The instructor releases two assignments with nbgrader, collects
with ``python -m rnncourse.autograder collect`` (owners and change times, never the students'
names or ``timestamp.txt``), grades, releases feedback each student alone can read, and the
students fetch it with ``nbgrader fetch_feedback``. The same exchange is collected and graded
into two courses, one on SQLite (a git repository, which grading must leave clean) and one on a
real PostgreSQL server: their reports must agree.

alice submits everything on time with the course's private submit setting; bob submits a wrong
part, then hands in again, forges a submission in alice's name, and tampers with carol's folder;
carol uses nbgrader's stock submit (a world-writable folder), hands chapter 6 in after the due
date and backdates it (folder name and ``timestamp.txt``).
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from adversarial import honest, stub
from harness import ROOT, Course, all_points, nbgrader_env, part_points, total_points
from leaks import find_leaks, secret_lines
from postgres import PostgresServer

pytestmark = pytest.mark.slow

A1, A6 = "ch01_rnn_basics", "ch06_relu_vs_tanh"
COURSE_ID = "rnncourse"
TIMEOUT = 120   # only a guard: no submission here loops
STOCK = "%Y-%m-%d %H:%M:%S.%f UTC"
PROBE = r'''
import json, os, sys
out = {}
for op, path in json.loads(sys.argv[1]):
    try:
        if op == "list":
            os.listdir(path)
        elif op == "read":
            open(path, "rb").read()
        elif op == "write":
            open(path, "wb").write(b"{}")
        out[op + " " + path] = "done"
    except OSError as error:
        out[op + " " + path] = type(error).__name__
print(json.dumps(out))
'''


def sh(cmd, cwd=None, env=None, check=True):
    result = subprocess.run(cmd, cwd=cwd, env=env or nbgrader_env(), capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def interpreter_view() -> list[str]:
    """A command prefix that lets other users run this Python, or none where they already can.

    Where the interpreter lives in a folder closed to other users (a Python installed in root's
    home), the students' commands run in a mount namespace where that folder is an empty one
    open to all, holding only the interpreter's installation (bubblewrap, as root)."""
    real = Path(os.path.realpath(sys.executable))
    closed = next((p for p in reversed(real.parents) if not os.stat(p).st_mode & 0o001), None)
    if closed is None:
        return []
    install = real.parents[1]   # <prefix>/bin/python3.x -> <prefix>
    between = [p for p in reversed(install.parents) if closed in p.parents]
    dirs = [arg for p in between for arg in ("--perms", "0755", "--dir", str(p))]
    return ["bwrap", "--dev-bind", "/", "/", "--perms", "0755", "--tmpfs", str(closed), *dirs,
            "--ro-bind", str(install), str(install), "--"]


class Student:
    """A Unix user with a home, an nbgrader configuration and nbgrader's own commands."""

    def __init__(self, name: str, exchange: Path, private: bool):
        self.name, self.home = name, Path("/home") / name
        sh(["useradd", "--create-home", "--home-dir", str(self.home), "--shell", "/bin/sh", name])
        config = f'c = get_config()\nc.CourseDirectory.course_id = "{COURSE_ID}"\nc.Exchange.root = "{exchange}"\n'
        if private:
            config += 'c.ExchangeFactory.submit = "rnncourse.autograder.exchange.PrivateSubmit"\n'
        (self.home / "nbgrader_config.py").write_text(config)

    def run(self, *args, check=True):
        env = ["env", "-i", f"HOME={self.home}", f"USER={self.name}", f"LOGNAME={self.name}", "LANG=C.UTF-8",
               f"PATH={Path(sys.executable).parent}:/usr/bin:/bin"]
        return sh([*interpreter_view(), "runuser", "-u", self.name, "--", *env, *args], cwd=self.home, env={},
                  check=check)

    def nbgrader(self, *args, check=True):
        return self.run(sys.executable, "-m", "nbgrader", *args, check=check)

    def probe(self, *ops) -> dict:
        """What this user gets for each (operation, path): "done" or the error's name."""
        return json.loads(self.run(sys.executable, "-c", PROBE, json.dumps(ops)).stdout)

    def work(self, assignment: str, nb) -> None:
        nbformat.write(nb, self.home / assignment / f"{assignment}.ipynb")   # the fetched file: still theirs

    def remove(self):
        subprocess.run(["userdel", "--remove", self.name], capture_output=True, timeout=60)


def inbound(exchange: Path, student: str, assignment: str) -> list[Path]:
    return sorted((exchange / COURSE_ID / "inbound").glob(f"{student}+{assignment}+*"), key=os.path.getctime)


def rows(course: Course, assignment: str) -> dict[str, dict]:
    return {r["student"]: r for r in json.loads((course.root / "reports" / f"{assignment}.json").read_text())}


STEPS: list[tuple[str, str, float]] = []   # (course, instructor's command, seconds): printed, never asserted


def instructor(course: Course, *args, check=True):
    start = time.perf_counter()
    try:
        return sh([sys.executable, *args], cwd=course.root, check=check,
                  env={**nbgrader_env(), "TMPDIR": str(course.root.parent / f"t{course.root.name[:2]}")})
    finally:
        command = "python " + " ".join(a for a in args if not a.startswith("/"))
        STEPS.append((course.root.name, command, time.perf_counter() - start))


def grade(course: Course, assignment: str):
    (course.root.parent / f"t{course.root.name[:2]}").mkdir(exist_ok=True)   # short: kernels' sockets live there
    return instructor(course, "-m", "rnncourse.autograder", "grade", assignment, "--workers", "1",
                      "--timeout", str(TIMEOUT))


def collect(course: Course, assignment: str):
    return instructor(course, "-m", "rnncourse.autograder", "collect", assignment, check=False)


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.fail("the semester test makes Unix users: run it as root with useradd and runuser "
                    "(Debian's passwd and util-linux; `make test` runs as root in CI)")
    base = Path(tempfile.mkdtemp(prefix="rx-"))   # students must reach the exchange: not under pytest's 0700 tmp
    base.chmod(0o755)
    exchange = base / "exchange"
    tag = uuid.uuid4().hex[:5]
    students, seen = {}, {}
    try:
        for role, private in [("alice", True), ("bob", True), ("carol", False)]:
            students[role] = Student(f"{role}{tag}", exchange, private)
        with PostgresServer() as pg:
            seen = run_semester(tmp_path_factory.mktemp("sem"), exchange, students, pg)
            print(f"\nthe instructor's commands of the semester (load {os.getloadavg()[0]:.1f}):")
            for where, command, seconds in STEPS:
                print(f"  [{where}] {command:90s} {seconds:6.1f} s")
            yield seen
    finally:
        for student in students.values():
            student.remove()
        shutil.rmtree(base, ignore_errors=True)


def make_course(root: Path, exchange: Path, extra: str = "") -> Course:
    config = f'c.CourseDirectory.course_id = "{COURSE_ID}"\nc.Exchange.root = "{exchange}"\n{extra}'
    course = Course(root, A1, timeout=TIMEOUT, extra_config=config)
    shutil.copytree(ROOT / "solutions" / A6, root / "solutions" / A6)
    sh([sys.executable, "-m", "nbgrader", "generate_assignment", A6, "--force"], cwd=root)
    return course


def run_semester(tmp: Path, exchange: Path, students: dict, pg) -> dict:
    alice, bob, carol = students["alice"], students["bob"], students["carol"]
    courses = {"sqlite": make_course(tmp / "sq", exchange),
               "postgres": make_course(tmp / "pg", exchange, f'c.CourseDirectory.db_url = "{pg.url}"')}
    git = courses["sqlite"].root                              # the SQLite course is a git repository
    shutil.copy(ROOT / ".gitignore", git / ".gitignore")
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=i", "-c", "user.email=i@x", "commit", "-qm", "course"]):
        sh(["git", *cmd], cwd=git)
    seen = {"courses": courses, "students": students, "exchange": exchange,
            "urls": {"sqlite": f"sqlite:///{git / 'gradebook.db'}", "postgres": pg.url}}

    nbs = {}
    for assignment in (A1, A6):                               # the instructor releases, the students fetch
        c = Course.__new__(Course)
        c.root, c.assignment = git, assignment
        nbs[assignment] = (c.solution(), c.release())
        instructor(courses["sqlite"], "-m", "nbgrader", "release_assignment", assignment)
        for s in students.values():
            s.nbgrader("fetch_assignment", assignment)
    (sol1, rel1), (sol6, rel6) = nbs[A1], nbs[A6]
    seen["points"] = {A1: total_points(sol1), A6: total_points(sol6), "A6_all": all_points(sol6),
                      "wrong_part": total_points(sol1) - part_points(sol1, "param_count")}

    alice.work(A1, honest(sol1, rel1))
    bob.work(A1, stub(honest(sol1, rel1), rel1, "param_count"))   # one part left undone
    carol.work(A1, honest(sol1, rel1))
    for s in (alice, bob, carol):
        s.nbgrader("submit", A1)
    for s in (alice, bob):
        s.work(A6, honest(sol6, rel6))
        s.nbgrader("submit", A6)
    # bob submits a blank notebook in alice's name (jupyter/nbgrader#1097), after her real one
    bob.work(A6, rel6)
    bob.nbgrader("submit", A6, "--student", alice.name)
    bob.work(A6, honest(sol6, rel6))
    due = time.time()
    time.sleep(1.5)
    carol.work(A6, honest(sol6, rel6))                        # late, with the stock submit (mode 0777) ...
    carol.nbgrader("submit", A6)
    late_folder = inbound(exchange, carol.name, A6)[0]        # ... and backdated (#1104): name and timestamp.txt
    early = dt.datetime.fromtimestamp(due - 3600, dt.timezone.utc).strftime(STOCK)
    forged = late_folder.parent / "+".join([carol.name, A6, early, late_folder.name.rsplit("+", 1)[1]])
    carol.run("sh", "-c", f"mv '{late_folder}' '{forged}' && printf '{early}' > '{forged}/timestamp.txt'")
    seen["due"], seen["forged_time"] = due, early

    # another student's private submission (the course's submit setting): not even its files can be reached
    folder = inbound(exchange, alice.name, A1)[0]
    seen["alice_submission_mode"] = folder.stat().st_mode & 0o7777
    seen["bob_on_alice"] = bob.probe(["list", str(folder)], ["read", str(folder / f"{A1}.ipynb")],
                                     ["write", str(folder / "extra.py")])

    duedate = dt.datetime.fromtimestamp(due, dt.timezone.utc).strftime(STOCK)
    for name, course in courses.items():                      # round 1: collect, due date, grade
        seen[f"collect1_{name}"] = {a: collect(course, a) for a in (A1, A6)}
        instructor(course, "-m", "nbgrader", "db", "assignment", "add", A6, "--duedate", duedate)
        if name == "postgres":                                # the solutions' answers, cached by content
            for a in (A1, A6):
                shutil.copytree(courses["sqlite"].root / ".grading" / a / "reference",
                                course.root / ".grading" / a / "reference")
        for a in (A1, A6):
            grade(course, a)
        seen[f"round1_{name}"] = {a: rows(course, a) for a in (A1, A6)}
    seen["carol_submitted_stamp"] = (courses["sqlite"].root / "submitted" / carol.name / A6
                                     / "timestamp.txt").read_text()

    # round 2: bob hands in again; bob replaces carol's notebook in her world-writable folder
    bob.work(A1, honest(sol1, rel1))
    bob.nbgrader("submit", A1)
    carol_folder = inbound(exchange, carol.name, A1)[0]
    seen["carol_before"] = (courses["sqlite"].root / "submitted" / carol.name / A1 / f"{A1}.ipynb").read_bytes()
    bob.run("sh", "-c", f"rm -f '{carol_folder}/{A1}.ipynb' && cp '{bob.home}/{A1}/{A1}.ipynb' '{carol_folder}/'")
    for name, course in courses.items():
        seen[f"collect2_{name}"] = collect(course, A1)
        seen[f"grade2_{name}"] = grade(course, A1)
        seen[f"round2_{name}"] = rows(course, A1)
    seen["carol_after"] = (courses["sqlite"].root / "submitted" / carol.name / A1 / f"{A1}.ipynb").read_bytes()

    # feedback: released from the SQLite course, fetched by each student with nbgrader's own command
    seen["released"] = {a: instructor(courses["sqlite"], "-m", "rnncourse.autograder", "release-feedback", a)
                        for a in (A1, A6)}
    for s in students.values():
        for a in (A1, A6):
            s.nbgrader("fetch_feedback", a)
    pages = sorted((exchange / COURSE_ID / "feedback").glob("*.html"))
    seen["pages"] = {p.name: (p.stat().st_uid, p.stat().st_mode & 0o777) for p in pages}
    alice_pages = [p for p in pages if p.stat().st_uid == int(sh(["id", "-u", alice.name]).stdout)]
    seen["bob_on_feedback"] = bob.probe(["list", str(exchange / COURSE_ID / "feedback")],
                                        *[["read", str(p)] for p in alice_pages])
    seen["git_status"] = sh(["git", "status", "--porcelain"], cwd=git).stdout
    return seen


def test_collect_output_is_graded_from_the_submitted_layout_with_the_exchange_times(semester):
    alice, bob, carol = (semester["students"][r].name for r in ("alice", "bob", "carol"))
    points = semester["points"]
    for name, url in semester["urls"].items():
        first = semester[f"round1_{name}"]
        assert {s: r["score"] for s, r in first[A1].items()} == \
            {alice: points[A1], bob: points["wrong_part"], carol: points[A1]}, name
        assert all(r["version"] == 1 for r in first[A1].values())
        course = semester["courses"][name]
        last = {A1: semester[f"round2_{name}"], A6: first[A6]}
        with Gradebook(url, COURSE_ID) as gb:   # the gradebook's time is the timestamp.txt collect wrote
            for assignment in (A1, A6):
                record = json.loads((course.root / ".grading" / assignment / "collected.json").read_text())
                assert sorted(record["students"]) == sorted([alice, bob, carol])
                for student, entry in record["students"].items():
                    stamp = (course.root / "submitted" / student / assignment / "timestamp.txt").read_text()
                    assert stamp == entry["submitted_at"] == entry["versions"][-1]["submitted_at"]
                    assert gb.find_submission(assignment, student).timestamp.strftime(STOCK) == stamp
                    assert last[assignment][student]["submitted_at"] == stamp[:19] + " UTC"


def test_a_submission_in_another_students_name_is_refused(semester):
    alice, bob = semester["students"]["alice"].name, semester["students"]["bob"].name
    result = semester["collect1_sqlite"][A6]
    assert result.returncode == 4, result.stdout + result.stderr
    assert f"named after {alice} but owned by {bob}" in result.stderr
    for name in ("sqlite", "postgres"):   # alice's real submission is the one graded: full automatic points
        row = semester[f"round1_{name}"][A6][alice]
        assert row["score"] == semester["points"][A6] and row["version"] == 1


def test_a_backdated_late_submission_is_late_by_the_file_systems_clock(semester):
    carol = semester["students"]["carol"].name
    points = semester["points"]
    assert semester["forged_time"] not in semester["carol_submitted_stamp"]
    for name in ("sqlite", "postgres"):
        rows6 = semester[f"round1_{name}"][A6]
        late = rows6[carol]
        assert 1.0 <= late["late_by"] < 600, late
        assert late["late"].startswith("00:") and late["submitted_at"] > late["duedate"]
        # one started day late: 10% of the notebook's points (manual ones included), not of the points earned
        assert late["penalty"] == pytest.approx(0.1 * points["A6_all"]) and late["score"] == points[A6]
        assert late["pending"] == points["A6_all"] - points[A6] and late["needs_review"]
        on_time = [r for s, r in rows6.items() if s != carol]
        assert all(r["late_by"] == 0 and r["penalty"] == 0 and r["late"] == "" for r in on_time), rows6


def test_a_resubmission_replaces_the_earlier_one_and_only_it_is_graded_again(semester):
    bob = semester["students"]["bob"].name
    for name in ("sqlite", "postgres"):
        assert f"{bob}" in semester[f"collect2_{name}"].stdout and "replaced" in semester[f"collect2_{name}"].stdout
        assert "grading 1 submission(s)" in semester[f"grade2_{name}"].stdout
        row = semester[f"round2_{name}"][bob]
        assert row["version"] == 2 and row["score"] == semester["points"][A1], row
        assert row["submitted_at"] > semester[f"round1_{name}"][A1][bob]["submitted_at"]


def test_a_submission_changed_by_another_student_is_refused_and_the_collected_one_stays(semester):
    bob, carol = semester["students"]["bob"].name, semester["students"]["carol"].name
    result = semester["collect2_sqlite"]
    assert result.returncode == 4 and f"belongs to {bob}, not to {carol}" in result.stderr, result.stderr
    assert semester["carol_after"] == semester["carol_before"]
    for name in ("sqlite", "postgres"):
        assert semester[f"round2_{name}"][carol]["score"] == semester["points"][A1]
        assert semester[f"round2_{name}"][carol]["version"] == 1


def test_a_private_submission_cannot_be_read_or_changed_by_another_student(semester):
    assert semester["alice_submission_mode"] & 0o007 == 0
    assert set(semester["bob_on_alice"].values()) == {"PermissionError"}, semester["bob_on_alice"]


def test_released_feedback_is_readable_by_its_student_only_and_shows_no_hidden_test(semester):
    students, exchange = semester["students"], semester["exchange"]
    uids = {int(sh(["id", "-u", s.name]).stdout): s for s in students.values()}
    assert len(semester["pages"]) == 6, semester["released"]
    assert all(uid in uids and mode == 0o400 for uid, mode in semester["pages"].values()), semester["pages"]
    assert set(semester["bob_on_feedback"].values()) == {"PermissionError"}, semester["bob_on_feedback"]
    assert (exchange / COURSE_ID / "feedback").stat().st_mode & 0o777 == 0o711
    for s in students.values():
        for assignment in (A1, A6):
            fetched = list((s.home / assignment / "feedback").rglob("*.html"))
            assert len(fetched) == 1, (s.name, assignment, fetched)
            course = semester["courses"]["sqlite"].root
            hidden = secret_lines(course / "solutions" / assignment / f"{assignment}.ipynb",
                                  course / "notebooks" / assignment / f"{assignment}.ipynb",
                                  regions=[("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")])
            assert hidden and not find_leaks(hidden, s.home / assignment / "feedback")


def test_sqlite_and_postgresql_agree_and_grading_leaves_the_course_repository_clean(semester):
    for assignment in (A1, A6):
        strip = lambda rows: {s: {k: v for k, v in r.items() if k != "seconds"} for s, r in rows.items()}  # noqa
        assert strip(semester["round1_sqlite"][assignment]) == strip(semester["round1_postgres"][assignment])
    assert strip(semester["round2_sqlite"]) == strip(semester["round2_postgres"])
    assert not (semester["courses"]["postgres"].root / "gradebook.db").exists(), "PostgreSQL, not SQLite"
    assert semester["git_status"] == "", semester["git_status"]
