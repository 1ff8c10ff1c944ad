"""The exchange on one machine (JupyterHub), without trusting what students wrote into it.

nbgrader's exchange is a folder every student can write to. What a student writes there
can lie: the folder name says who submitted (``<student>+<assignment>+<timestamp>+<random>``),
and ``timestamp.txt`` says when; nbgrader submits with a world-writable folder, and
released feedback is readable by anyone who learns its name. So the course's side of
the exchange trusts only the file system:

* ``collect``: who submitted is the *owner* of the inbound folder, and every file in it
  must have that owner too (a file another user put there, or a folder named after
  someone else, is refused and reported, never collected). When it was submitted is
  the latest status change (``ctime``) of the folder and its files, which no user can
  move back in time (``touch`` sets the modification time, never the change time),
  and never later than the collect itself. The time and the version are kept in a
  record of the course (``.grading/<assignment>/collected.json``); the ``timestamp.txt``
  that ``grade`` reads in ``submitted/`` is written from it, the student's own is dropped.
  The latest valid submission of each student replaces an earlier one.
* ``release_feedback``: each student's page goes into the exchange owned by that
  student, mode 0400, in a folder nobody can list; nbgrader's own ``fetch_feedback``
  finds it by the submission's secret as always, and no other student can open it.
* ``PrivateSubmit``: an nbgrader submit plugin for the students' configuration that
  leaves the submission readable by its owner and the instructors' group only
  (nbgrader's leaves it world-writable).
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import os
import pwd
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"      # nbgrader's timestamp.txt format (read by parse_utc)
SECRET = re.compile(r"[0-9a-f]{32,256}")        # nbgrader writes secrets.token_hex(64)
STUDENT_FILES = {"timestamp.txt"}               # written by the student, replaced by the course's own


def utc(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> float:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.timezone.utc).timestamp()


def user_name(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


@dataclass
class Inbound:
    """One folder of the exchange's inbound, as the file system (not its name) describes it."""

    name: str
    claimed: str                  # the student the folder's name claims
    owner: str | None             # the user who owns the folder
    submitted_at: float = 0.0     # the latest ctime of the folder and its files (seconds since the epoch)
    digest: str = ""              # of every file's relative path and content
    problem: str | None = None    # why it is not collected
    open_to_others: bool = False  # other users could change it (nbgrader's submit leaves it mode 0777)
    files: list[str] = field(default_factory=list)


def inspect(path: Path, assignment: str, ignore: list[str] = ()) -> Inbound:
    """What ``path`` (a folder of the inbound) is, judged by owners, types and change times only."""
    claimed = path.name.split("+", 1)[0]
    info = os.lstat(path)
    found = Inbound(name=path.name, claimed=claimed, owner=user_name(info.st_uid))
    if not stat.S_ISDIR(info.st_mode):
        found.problem = "not a folder (a link or a file)"
        return found
    if found.owner != claimed:
        found.problem = (f"named after {claimed} but owned by {found.owner or f'uid {info.st_uid}'}: "
                         "a submission in someone else's name")
        return found
    h, latest, others = hashlib.sha256(), info.st_ctime, bool(info.st_mode & stat.S_IWOTH)
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs) + sorted(files):
            full = os.path.join(root, name)
            entry = os.lstat(full)
            rel = os.path.relpath(full, path)
            latest = max(latest, entry.st_ctime)
            others |= bool(entry.st_mode & stat.S_IWOTH)
            if entry.st_uid != info.st_uid:
                found.problem = (f"{rel} belongs to {user_name(entry.st_uid) or f'uid {entry.st_uid}'}, not to "
                                 f"{claimed}: another user changed this submission")
                return found
            if stat.S_ISDIR(entry.st_mode):
                continue
            if not stat.S_ISREG(entry.st_mode):
                found.problem = f"{rel} is a link or a special file"
                return found
            if rel in STUDENT_FILES or any(fnmatch.fnmatch(name, p) for p in ignore):
                continue
            with open(full, "rb") as handle:
                h.update(rel.encode() + b"\0" + hashlib.sha256(handle.read()).digest())
            found.files.append(rel)
    found.submitted_at, found.digest, found.open_to_others = latest, h.hexdigest(), others
    if not any(f.endswith(".ipynb") for f in found.files):
        found.problem = "holds no notebook"
    return found


def inbound_folder(root: str, course_id: str) -> Path:
    if not course_id:
        raise SystemExit("the exchange needs a course id: set c.CourseDirectory.course_id in nbgrader_config.py")
    return Path(root) / course_id / "inbound"


class CollectRecord:
    """``.grading/<assignment>/collected.json``: what was collected, from which folder, submitted when."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {"students": {}, "refused": {}}

    def student(self, student: str) -> dict | None:
        return self.data["students"].get(student)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)


def copy_submission(source: Path, files: list[str], target: Path, submitted_at: float) -> None:
    """Copy ``files`` (relative paths, checked by ``inspect``) into a fresh ``target`` with the course's
    ``timestamp.txt``. Nothing is followed: every file is opened with O_NOFOLLOW."""
    staging = Path(tempfile.mkdtemp(prefix=".collect-", dir=target.parent))
    try:
        for rel in files:
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(source / rel, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
        (staging / "timestamp.txt").write_text(utc(submitted_at))
        secret = staging / "submission_secret.txt"
        if secret.exists() and not SECRET.fullmatch(secret.read_text().strip()):
            secret.unlink()   # not a secret nbgrader made: no feedback can be released for it
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass
class Collected:
    collected: dict[str, str] = field(default_factory=dict)   # student -> "new", "replaced" or "unchanged"
    refused: list[Inbound] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def collect(coursedir, exchange_root: str, assignment: str, record_path: Path,
            students: list[str] | None = None, now: float | None = None) -> Collected:
    """Collect the latest valid submission of each student into ``submitted/<student>/<assignment>/``."""
    inbound = inbound_folder(exchange_root, coursedir.course_id)
    if not inbound.is_dir():
        raise SystemExit(f"no inbound folder {inbound}: release the assignment first (nbgrader release_assignment)")
    now = now if now is not None else dt.datetime.now(dt.timezone.utc).timestamp()
    result, record = Collected(), CollectRecord(record_path)
    mode = inbound.stat().st_mode
    if not mode & stat.S_ISVTX:   # without the sticky bit a student can rename another student's folder
        inbound.chmod(stat.S_IMODE(mode) | stat.S_ISVTX)
        result.notes.append(f"{inbound}: sticky bit set (students can no longer rename each other's folders)")
    best: dict[str, Inbound] = {}
    for path in sorted(inbound.iterdir()):
        parts = path.name.split("+")
        if len(parts) < 3 or parts[1] != assignment:
            continue
        found = inspect(path, assignment, coursedir.ignore)
        found.submitted_at = min(found.submitted_at, now)
        if students and found.claimed not in students and found.owner not in students:
            continue
        if found.problem:
            result.refused.append(found)
            record.data["refused"][found.name] = {"claimed": found.claimed, "owner": found.owner,
                                                  "why": found.problem, "seen_at": utc(now)}
            continue
        if found.claimed not in best or found.submitted_at > best[found.claimed].submitted_at:
            best[found.claimed] = found
    for student, found in sorted(best.items()):
        target = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        previous = record.student(student)
        if previous and previous["folder"] == found.name and previous["digest"] == found.digest \
                and target.is_dir():
            result.collected[student] = "unchanged"
            continue
        if previous and parse_time(previous["submitted_at"]) > found.submitted_at:
            result.collected[student] = "unchanged"   # the collected one is newer (this one was a copy of old)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_submission(inbound / found.name, found.files, target, found.submitted_at)
        versions = (previous or {}).get("versions", []) + [{"folder": found.name, "submitted_at":
                                                            utc(found.submitted_at), "collected_at": utc(now)}]
        record.data["students"][student] = {"folder": found.name, "digest": found.digest,
                                            "submitted_at": utc(found.submitted_at), "collected_at": utc(now),
                                            "open_to_others": found.open_to_others, "versions": versions}
        result.collected[student] = "replaced" if previous else "new"
    record.save()
    return result


def version_of(record_path: Path, student: str) -> int | None:
    """How many submissions of ``student`` were collected (the one graded is the last), or None."""
    entry = CollectRecord(record_path).student(student)
    return len(entry["versions"]) if entry else None


def notebook_hash(secret: str, notebook_id: str) -> str:
    from nbgrader.utils import notebook_hash as nbgrader_hash

    return nbgrader_hash(secret=secret, notebook_id=notebook_id)


def release_feedback(coursedir, exchange_root: str, assignment: str,
                     students: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Put each student's feedback pages into the exchange, readable by that student only.

    A page is named as nbgrader names it (a hash of the submission's secret and the notebook),
    so the student's ``nbgrader fetch_feedback`` finds it; it belongs to the student (mode 0400)
    in a folder that nobody can list. Returns (released files, problems)."""
    outbound = Path(exchange_root) / coursedir.course_id / "feedback"
    outbound.mkdir(parents=True, exist_ok=True)
    outbound.chmod(0o711)
    released, problems, owners = [], [], {}
    for folder in sorted((Path(coursedir.root) / coursedir.feedback_directory).glob(f"*/{assignment}")):
        student = folder.parent.name   # nbgrader's layout: feedback/<student>/<assignment>/<notebook>.html
        if students and student not in students:
            continue
        try:
            uid = pwd.getpwnam(student).pw_uid
        except KeyError:
            problems.append(f"{student}: no user of that name on this machine: feedback not released")
            continue
        secret_path = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment)) \
            / "submission_secret.txt"
        secret = secret_path.read_text().strip() if secret_path.is_file() else ""
        if not SECRET.fullmatch(secret):
            problems.append(f"{student}: the submission has no secret (not collected from the exchange): "
                            "feedback not released")
            continue
        for page in sorted(folder.glob("*.html")):
            dest = outbound / f"{notebook_hash(secret, page.stem)}.html"
            taken = os.lstat(dest).st_uid if dest.exists() else uid   # the instructor's own: a stock release
            if owners.get(dest.name, uid) != uid or taken not in (uid, os.geteuid()):
                problems.append(f"{student}: {page.name}: another student's feedback has the same name "
                                "(a copied secret): not released")
                continue
            owners[dest.name] = uid
            tmp = outbound / f".{dest.name}.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(page.read_bytes())
                    os.fchmod(out.fileno(), 0o400)
                    os.fchown(out.fileno(), uid, -1)
                os.replace(tmp, dest)
            finally:
                if tmp.exists():
                    tmp.unlink()
            released.append(f"{student}/{assignment}/{page.name}")
    return released, problems


def _private_submit():
    """nbgrader's submit, leaving the submission to its owner and the instructors' group (no world access)."""
    from nbgrader.exchange.default.submit import ExchangeSubmit

    class PrivateSubmit(ExchangeSubmit):
        """``c.ExchangeFactory.submit = "rnncourse.autograder.exchange.PrivateSubmit"`` in the students'
        nbgrader configuration: once nbgrader has copied the submission (and opened its folder to everyone,
        mode 0777), the folder becomes mode 0770 and its files 0640 (the group is the inbound's: the
        instructors'), so no other student can list, read or change it."""

        def copy_files(self):
            super().copy_files()
            dest = os.path.join(self.inbound_path, self.assignment_filename)
            self.set_perms(dest, fileperms=0o640, dirperms=0o770)

    return PrivateSubmit


def __getattr__(name):
    if name == "PrivateSubmit":   # nbgrader is imported only when a student's configuration asks for it
        cls = _private_submit()
        globals()["PrivateSubmit"] = cls
        return cls
    raise AttributeError(name)


