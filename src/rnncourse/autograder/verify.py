"""nbgrader preprocessor: a test cell scores only if its answers match the solution's."""
from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .answers import HEADER, failure_lines, load_answers


class VerifyAnswers(NbGraderPreprocessor):
    """Compare each test cell's submitted answers with the reference answers.

    ``reference_dir/<notebook name>/`` holds the answers that the solution notebook
    submitted when it ran in the same sandbox.  A test cell whose answers are missing
    or differ gets an error output, so nbgrader's ``SaveAutoGrades`` scores it 0,
    whatever the kernel printed.  Its traceback says what is wrong: for a public
    test as specifically as the check does in the student's environment, for a
    hidden test only the case's description and the kind of failure (every such
    line matches ``answers.HIDDEN_LINE``).
    """

    reference_dir = Unicode("", help="folder of reference answers, one subfolder per notebook").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.reference_dir:
            raise ValueError("VerifyAnswers.reference_dir is not set: grade with `python -m rnncourse.autograder`")
        name = resources.get("unique_key") or Path(resources.get("metadata", {}).get("name", "")).stem
        folder = Path(self.reference_dir) / name
        if not folder.is_dir():
            raise FileNotFoundError(f"no reference answers for notebook {name!r} in {self.reference_dir}")
        reference = load_answers(folder)
        submitted = resources.get("rnncourse_answers", {})
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            hidden = meta["grade_id"].endswith("_hidden") or "BEGIN HIDDEN TESTS" in cell.source
            lines = failure_lines(meta["grade_id"], reference, submitted, hidden)
            if lines:
                # first, so that nothing before it (an injected numeric result) can earn partial credit
                cell.outputs.insert(0, NotebookNode(
                    output_type="error", ename="AnswerCheckFailed",
                    evalue="the grader's check of this cell's answers failed",
                    traceback=[HEADER] + lines))
        return nb, resources
