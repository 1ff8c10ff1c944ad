"""nbgrader preprocessor: a test cell scores only if its answers match the solution's."""
from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .answers import load_answers, verify_cell


class VerifyAnswers(NbGraderPreprocessor):
    """Compare each test cell's submitted answers with the reference answers.

    ``reference_dir/<notebook name>/`` holds the answers that the solution notebook
    submitted when it ran in the same sandbox.  A test cell whose answers are missing
    or differ gets an error output, so nbgrader's ``SaveAutoGrades`` scores it 0,
    whatever the kernel printed.
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
            problems = verify_cell(meta["grade_id"], reference, submitted)
            if problems:
                # first, so that nothing before it (an injected numeric result) can earn partial credit
                cell.outputs.insert(0, NotebookNode(
                    output_type="error", ename="AnswerCheckFailed",
                    evalue="the grader's check of this cell's answers failed",
                    traceback=["AnswerCheckFailed: the grader recomputed this test outside your notebook and "
                               "your answers did not match:"] + [f"  {p}" for p in problems[:5]]))
        return nb, resources
