"""What the grading tests need to know about each graded notebook.

``independent_part``: a part that no other part depends on.  The grading tests
break it on purpose and expect exactly the other parts' points.
``target``: a function the part's public test calls (for the AST-rewriting attack).
``delegate``: (module, function) of the course's reference implementation of that
part (for the submission that hands in the reference package's answer).
``timeout``: seconds per cell when grading (longer than the slowest honest cell).
``suite``: "full" runs every kind of adversarial submission and grades twice;
"core" runs the kinds tagged core (chapters after the first, to keep CI short).
"""
ASSIGNMENTS = {
    "ch01_rnn_basics": {"independent_part": "param_count", "target": "count_rnn_parameters",
                        "delegate": ("rnncourse.rnn_numpy", "count_parameters"), "timeout": 10, "suite": "full"},
    "ch02_char_lm": {"independent_part": "cross_entropy", "target": "cross_entropy",
                     "delegate": ("rnncourse.charlm", "cross_entropy"), "timeout": 30, "suite": "core"},
    "ch03_bptt": {"independent_part": "gradcheck", "target": "relative_error",
                  "delegate": ("rnncourse.gradcheck", "relative_error"), "timeout": 60, "suite": "core"},
    "ch04_vanishing_gradients": {"independent_part": "clip_global_norm", "target": "clip_global_norm",
                                 "delegate": ("rnncourse.clipping", "clip_by_global_norm"), "timeout": 10,
                                 "suite": "core"},
    "ch05_lstm_gru": {"independent_part": "gru_cell", "target": "gru_cell_forward",
                      "delegate": ("rnncourse.gru_numpy", "gru_cell_forward"), "timeout": 10, "suite": "core"},
    "ch06_relu_vs_tanh": {"independent_part": "dead_units", "target": "dead_unit_fraction",
                          "delegate": ("rnncourse.relu_tanh", "dead_unit_fraction"), "timeout": 30, "suite": "core"},
    "ch07_irnn": {"independent_part": "identity_init", "target": "identity_init",
                  "delegate": ("rnncourse.irnn", "identity_init_"), "timeout": 60, "suite": "core"},
    "ch08_pixel_mnist": {"independent_part": "device", "target": "choose_device",
                         "delegate": ("rnncourse.device", "default_device"), "timeout": 30, "suite": "core"},
    "ch09_seq2seq_attention": {"independent_part": "masked_loss", "target": "masked_sequence_loss",
                               "delegate": ("rnncourse.seq2seq", "masked_sequence_loss"), "timeout": 30,
                               "suite": "core"},
    "ch10_linear_recurrences": {"independent_part": "lru_init", "target": "lru_init",
                                "delegate": ("rnncourse.lru", "lru_init"), "timeout": 30, "suite": "core"},
}
for _name, _info in ASSIGNMENTS.items():
    _info.setdefault("notebook", f"{_name}.ipynb")
