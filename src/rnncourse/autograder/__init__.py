"""Grading that a submission cannot fool.

* ``sandbox``: every submission's kernel runs inside bubblewrap, as an
  unprivileged user, with a read-only filesystem, the course folder, the
  repository and the instructor's home hidden, no network, and limits on memory,
  processes, CPU time, file size and output size.
* ``verify``: test cells ``submit()`` the values they check; after the notebook
  ran, trusted code outside the kernel compares them with the solution's answers.
  A test cell only scores if it ran without error *and* its answers match.
* ``scan``: a pre-grading scan that flags suspicious submissions for review.
* ``cli``: ``python -m rnncourse.autograder grade ASSIGNMENT`` runs it all
  (scan, nbgrader autograde, feedback, CSV export).
"""
