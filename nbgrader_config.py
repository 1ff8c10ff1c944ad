"""nbgrader settings of the course.

nbgrader's own folder names are mapped onto the course layout:
``solutions/`` holds the source (instructor) notebooks and ``notebooks/`` the
release (student) versions that ``nbgrader generate_assignment`` writes.
"""
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Student versions: nbgrader's stub for a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: a cell that runs longer than this is stopped and scores 0; the
# other cells are still graded.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A test cell scores 0 when it shows an error. nbgrader also scores 0 for any
# stderr text; warnings and progress bars are no error, so drop all stderr first.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]*"

# A submission that deleted a test cell gets it back (and runs it).
c.OverwriteCells.add_missing_cells = True

# Late work (INSTRUCTORS.md): each started day after an assignment's due date
# (`nbgrader db assignment add <assignment> --duedate "..."`) costs 10% of a notebook's points.
c.AssignLatePenalties.plugin_class = "rnncourse.autograder.late.PercentPerDay"
c.PercentPerDay.percent_per_day = 10

# The exchange of a JupyterHub (INSTRUCTORS.md): set a course id and the exchange folder, then
# collect with `python -m rnncourse.autograder collect <assignment>`.
# c.CourseDirectory.course_id = "rnncourse"
# c.Exchange.root = "/srv/nbgrader/exchange"
