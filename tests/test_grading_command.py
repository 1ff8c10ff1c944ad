"""The safe grading command says clearly what is missing when the sandbox cannot run."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adversarial import honest
from harness import Course, nbgrader_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("nosandbox"), "ch01_rnn_basics", timeout=10)
    course.submit("alice", honest(course.solution(), course.release()))
    return course


def without_sandbox_tools():
    env = nbgrader_env()
    env["PATH"] = str(Path(sys.executable).parent)  # no bwrap, prlimit or setpriv on PATH
    return env


def run(course, *args, env=None):
    return subprocess.run([sys.executable, "-m", "rnncourse.autograder", "grade", course.assignment, *args],
                          cwd=course.root, env=env or nbgrader_env(), capture_output=True, text=True, timeout=600)


def test_refuses_to_grade_without_a_sandbox_and_names_what_is_missing(course):
    result = run(course, env=without_sandbox_tools())
    assert result.returncode == 2
    assert "bubblewrap (bwrap) is not installed" in result.stderr
    assert "prlimit" in result.stderr and "Refusing to grade" in result.stderr
    assert not (course.root / "reports").exists(), "nothing may be graded without the sandbox"


def test_grades_unsandboxed_only_when_asked_and_says_so(course):
    result = run(course, "--allow-unsandboxed", "--no-feedback", env=without_sandbox_tools())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "WITHOUT the protections" in result.stderr
    assert course.score("alice") == 18
