"""rnncourse: reference code for a course on recurrent neural networks.

Modules are small and independent; import the one you need, e.g.
``from rnncourse.rnn_numpy import rnn_forward``.

Module map (chapter where a module is introduced):

- ``rnn_numpy``, ``torch_bridge``, ``four_shapes``, ``diagrams``: the vanilla RNN, its PyTorch
  twin, the four input/output shapes, unrolled and gated-cell diagrams (1, 5)
- ``text_data``, ``charlm``: a character-level language model (2)
- ``bptt``, ``tbptt``, ``gradcheck``: backpropagation through time, truncated BPTT, gradient checks (3)
- ``gradient_flow``, ``clipping``: Jacobian products, short- and long-range gradient terms, the loss
  cliff, gradient clipping (4)
- ``lstm_numpy``, ``gru_numpy``, ``long_lag``: LSTM and GRU in NumPy, the first-symbol task (5)
- ``relu_tanh``: state growth, divergence and dead units of ReLU and tanh nets (6)
- ``irnn``, ``adding_problem``, ``clockwork``: identity initialisation, the adding problem, the
  Clockwork RNN (7)
- ``mnist``, ``pixel_data``, ``pixel_models``: pixel-by-pixel MNIST (8)
- ``figures``: plotting helpers of the pages, grouped by chapter
- ``experiments``: command lines for runs too long for a page (``long_lag``, ``clipping``,
  ``adding``, ``pixel_mnist``); they write ``runs/<name>.json`` unless ``--out`` says otherwise
- ``device``, ``grading``, ``autograder``: where code runs; the exercise checks; the grading pipeline
"""
__version__ = "0.1.0"
