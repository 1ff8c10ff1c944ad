"""rnncourse: reference code for a course on recurrent neural networks.

Modules are small and independent; import the one you need, e.g.
``from rnncourse.rnn_numpy import rnn_forward``.
"""
__version__ = "0.1.0"
