"""rnncourse: reference code for a course on recurrent neural networks.

Modules are small and independent; import the one you need, e.g.
``from rnncourse.rnn_numpy import rnn_forward``.

Module map (module: chapter, what it holds)

* ``rnn_numpy``, ``torch_bridge``, ``four_shapes``, ``sequences``, ``diagrams`` [1, 5]: the vanilla
  RNN in NumPy, weight copies to and from ``torch.nn.RNN``, the four input/output shapes, padding,
  masking, packing and bidirectional RNNs, unrolled-RNN and gated-cell diagrams.
* ``charlm``, ``text_data`` [2]: a character-level language model (vocabulary, cross-entropy,
  Adagrad, batched trainer, sampling) and its Python-source corpus (fingerprinted per Python version).
* ``charlm_torch``, ``ngram`` [2]: the same model in PyTorch trained as practitioners do (embedding,
  RNN or LSTM, detached state, ``clip_grad_norm_``, Adam), and interpolated Kneser-Ney n-grams.
* ``bptt``, ``gradcheck``, ``tbptt``, ``exposure_bias`` [3]: backpropagation through time, finite
  differences, truncated BPTT on the delay task, teacher forcing and scheduled sampling.
* ``gradient_flow``, ``clipping``, ``clipping_study``, ``latch`` [4]: Jacobian products, short- and
  long-range gradient terms, the loss cliff, gradient clipping and the tables of its experiments,
  the one-unit latch (the latching dilemma).
* ``lstm_numpy``, ``gru_numpy``, ``long_lag``, ``peephole_lstm`` [5]: LSTM and GRU in NumPy, the
  long-lag task, the LSTM with peephole connections.
* ``relu_tanh`` [6]: state growth, divergence and dead units of ReLU and tanh nets.
* ``irnn``, ``adding_problem``, ``clockwork`` [7]: the IRNN, the adding problem, the Clockwork RNN.
* ``mnist``, ``pixel_data``, ``pixel_models`` [8]: MNIST's IDX files, images as pixel sequences,
  the four models of the pixel-MNIST experiment.
* ``digit_tasks``, ``seq2seq``, ``beam_search`` [9]: digit strings to reverse, the GRU
  encoder-decoder with dot-product or additive attention, the masked sequence loss, greedy
  decoding, beam search with length normalisation and the exhaustive search it approximates.
* ``linear_recurrence``, ``lru``, ``mingru`` [10]: the diagonal linear recurrence by a loop, a
  work-efficient odd-even scan and the doubling scan; the LRU layer and its ring initialisation;
  minGRU by scan and by loop.
* everywhere: ``figures`` (plotting helpers of the pages, by chapter), ``device`` (CPU or GPU),
  ``grading`` (checks of the exercise notebooks), ``properties`` (the trusted predicates that judge
  answers correct solutions may differ on), ``autograder`` (sandboxed grading).
* ``experiments``: command lines for runs too long for a page; each writes a file under ``runs/``
  (or a user folder) unless told where: ``char_models`` [2], ``exposure_bias``, ``tbptt_reach`` [3], ``clipping`` [4],
  ``long_lag``, ``peephole`` [5], ``adding`` [7], ``pixel_mnist`` (one run, or ``--gpu-table``: the paper's
  table, see ``pixel_table``) and ``dead_units`` [8]; ``seq2seq`` [9]; ``long_memory`` [10].
"""
__version__ = "0.1.0"
