"""Chapter 2's character models side by side on the same corpus and the same character budget.

Contenders, on the Python-source corpus of ``rnncourse.text_data``:

* ``numpy_rnn``: chapter 2's NumPy model (``charlm.train``: one-hot inputs, Adagrad 0.05,
  entry-wise clipping to [-5, 5], lanes read from the start of the text);
* ``torch_rnn`` and ``torch_lstm``: ``rnncourse.charlm_torch`` (embedding, ``nn.RNN`` or
  ``nn.LSTM``, state carried and detached, ``clip_grad_norm_`` 1.0, Adam 3e-3, random offsets);
* ``kneser_ney_<n>``: interpolated Kneser-Ney n-grams (``rnncourse.ngram``), fitted once on the
  whole training text (no seeds: counting is deterministic).

Every neural model has hidden size 100 and makes the same number of updates of 64 lanes x 25
characters (1,600 updates: 2.56 million characters, as on the page), one thread, once per seed.
Validation bits per character are measured on the whole validation text, states carried.

    python -m rnncourse.experiments.char_models            # writes runs/char_models.json (or $RNNCOURSE_RUNS/...)
    python -m rnncourse.experiments.char_models --smoke    # a tiny run, seconds
    python -m rnncourse.experiments.char_models --out results/char_models.json   # remakes the committed results
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from rnncourse import charlm, charlm_torch
from rnncourse.experiments import default_out, write_results
from rnncourse.ngram import KneserNey
from rnncourse.text_data import corpus_info, python_source_corpus

NEURAL = ("numpy_rnn", "torch_rnn", "torch_lstm")


def run_neural(name: str, train_ids, val_ids, curve_ids, vocab_size: int, steps: int, seed: int,
               hidden: int = 100, every: int = 200) -> dict:
    """Train one contender; returns its validation bpc, a validation curve, time and size."""
    curve = []
    started = time.perf_counter()
    if name == "numpy_rnn":
        params = charlm.init_char_rnn(vocab_size, hidden, seed=seed)
        record = lambda step, p: curve.append([step, charlm.bits_per_char(charlm.evaluate(p, curve_ids))])
        losses = charlm.train(params, train_ids, steps, batch=64, seq_len=25, lr=0.05, callback=record, every=every)
        train_s = time.perf_counter() - started
        val = charlm.evaluate(params, val_ids)
        size, model = sum(p.size for p in params.values()), None
    else:
        torch.manual_seed(seed)
        model = charlm_torch.CharModel(vocab_size, hidden, cell=name.split("_")[1])
        record = lambda step, m: curve.append([step, charlm_torch.bits(charlm_torch.evaluate(m, curve_ids))])
        losses = charlm_torch.train(model, train_ids, steps, batch=64, seq_len=25, lr=3e-3, clip=1.0,
                                    seed=seed, callback=record, every=every)
        train_s = time.perf_counter() - started
        val = charlm_torch.evaluate(model, val_ids)
        size = charlm_torch.parameter_count(model)
    return {"model": name, "seed": seed, "val_bpc": charlm.bits_per_char(val), "curve": curve,
            "final_train_bpc": charlm.bits_per_char(float(np.mean(losses[-100:]))),
            "parameters": int(size), "seconds": train_s, "_model": model}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1600, help="updates of 64 x 25 characters per neural model")
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 4, 5], help="Kneser-Ney orders")
    parser.add_argument("--out", type=Path, default=default_out("char_models"),
                        help="results file (default: $RNNCOURSE_RUNS/char_models.json, else "
                             "runs/char_models.json in the current folder)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run: seed 0, 10 updates, the first 30,000 training characters")
    args = parser.parse_args(argv)
    if args.steps < 1 or not args.seeds:
        parser.error("--steps must be positive and --seeds must name at least one seed")
    threadpool_limits(1)
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    started = time.perf_counter()

    train_text, val_text = python_source_corpus()
    corpus = corpus_info(train_text, val_text)
    vocab = charlm.Vocabulary.from_text(train_text + val_text)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    if args.smoke:
        args.seeds, args.steps = args.seeds[:1], 10
        train_ids, val_ids = train_ids[:30000], val_ids[:4000]
    curve_ids = val_ids[:20000]

    ngrams = []
    for order in args.orders:
        t0 = time.perf_counter()
        model = KneserNey(train_ids, len(vocab), order)
        ngrams.append({"model": f"kneser_ney_{order}", "order": order, "val_bpc": model.bits_per_char(val_ids),
                       "seconds": time.perf_counter() - t0})
        print(f"Kneser-Ney order {order}: {ngrams[-1]['val_bpc']:.3f} bpc", flush=True)

    runs, sample_text = [], None
    for seed in args.seeds:
        for name in NEURAL:
            run = run_neural(name, train_ids, val_ids, curve_ids, len(vocab), args.steps, seed,
                             every=max(1, min(200, args.steps)))
            model = run.pop("_model")
            if name == "torch_lstm" and sample_text is None:
                prime = "    def "
                sample_text = prime + vocab.decode(charlm_torch.sample(model, vocab.encode(prime), 300,
                                                                       seed=1, temperature=0.7))
            runs.append(run)
            print(f"seed {seed} {name:10s}: {run['val_bpc']:.3f} bpc ({run['seconds']:.0f} s)", flush=True)

    result = {
        "task": "next character of Python source; validation bits per character on the whole validation text",
        "command": ("python -m rnncourse.experiments.char_models " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip(),
        "smoke": args.smoke, "seeds": args.seeds, "steps": args.steps, "batch": 64, "seq_len": 25,
        "chars_per_model": args.steps * 64 * 25, "hidden": 100, "vocab_size": len(vocab),
        "corpus": corpus, "val_chars": int(len(val_ids)), "curve_chars": int(len(curve_ids)),
        "settings": {"numpy_rnn": "one-hot, Adagrad lr 0.05, entry-wise clip 5, no offsets",
                     "torch_rnn": "nn.Embedding + nn.RNN (tanh), Adam lr 3e-3, clip_grad_norm_ 1.0, random offsets",
                     "torch_lstm": "nn.Embedding + nn.LSTM, Adam lr 3e-3, clip_grad_norm_ 1.0, random offsets"},
        "ngrams": ngrams, "runs": runs, "lstm_sample": sample_text,
        "threads": 1, "torch": torch.__version__, "numpy": np.__version__,
        "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()),
        "wall_s": time.perf_counter() - started,
    }
    write_results(args.out, result)
    return result


if __name__ == "__main__":
    main()
