"""rnncourse: reference code for a course on recurrent neural networks.

Modules are small and independent; import the one you need, e.g.
``from rnncourse.rnn_numpy import rnn_forward``.

Module map (chapter: modules)

* 1, RNN basics: ``rnn_numpy`` (NumPy RNN), ``torch_bridge`` (weights to and from
  ``torch.nn.RNN``), ``four_shapes`` (the four input/output shapes), ``sequences`` (padding,
  masking, packing, bidirectional RNNs), ``diagrams`` (unrolled-RNN drawings)
* 2, character-level language model: ``charlm`` (vocabulary, cross-entropy, Adagrad, batched
  trainer, sampling), ``text_data`` (Python-source corpus)
* 3, BPTT: ``bptt`` (forward and backward), ``gradcheck`` (finite differences), ``tbptt``
  (truncated BPTT, delay task), ``exposure_bias`` (teacher forcing, scheduled sampling)
* 4 onwards: ``gradient_flow``, ``clipping``, ``lstm_numpy``, ``gru_numpy``, ``long_lag``,
  ``relu_tanh``, ``irnn``, ``adding_problem``, ``clockwork``, ``mnist``, ``pixel_data``,
  ``pixel_models``
* everywhere: ``figures`` (plotting helpers of the pages, by chapter), ``device`` (CPU or GPU),
  ``grading`` (checks of the exercise notebooks), ``autograder`` (sandboxed grading)
* ``experiments``: command lines for runs too long for a page, each writing a results file
  (``adding``, ``long_lag``, ``pixel_mnist``, ``tbptt_reach``, ``exposure_bias``)
"""
__version__ = "0.1.0"
