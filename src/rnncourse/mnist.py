"""MNIST from the four standard IDX files, with an honest download step.

The data set is the four gzip-compressed IDX files of LeCun et al.:

    train-images-idx3-ubyte.gz   60000 x 28 x 28 uint8
    train-labels-idx1-ubyte.gz   60000 uint8 labels 0..9
    t10k-images-idx3-ubyte.gz    10000 x 28 x 28 uint8
    t10k-labels-idx1-ubyte.gz    10000 uint8 labels 0..9

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then
``ndim`` big-endian uint32 sizes, then the values in C order (for MNIST the dtype
code is ``0x08``, unsigned bytes).

:func:`load_mnist` reads the files from a data folder.  When a file is missing it
downloads it from the standard mirrors and checks its MD5 checksum before keeping
it; when the machine is offline it raises :class:`MNISTNotFoundError`, whose
message says how to provide the files by hand.  Files already in the folder are
read as they are (their headers and sizes are checked), so a folder written by
:func:`write_idx` — for example a conversion of another copy of MNIST — works too.

Command line (download the four files, or convert the classic ``mnist.pkl.gz`` pickle into them)::

    python -m rnncourse.mnist                                               # download into data/mnist
    python -m rnncourse.mnist --from-pickle mnist.pkl.gz --into data/mnist
    python -m rnncourse.mnist --smoke                    # the same steps on a tiny synthetic set, offline

``--smoke`` never touches ``--into`` nor reads ``--from-pickle``: it writes a tiny synthetic set
(10 random 28 x 28 images) into ``default_output("mnist_smoke")`` (``runs/mnist_smoke/``, or
``$RNNCOURSE_RUNS/mnist_smoke/``) and runs the real code on it: the download from a local
``file://`` mirror with its MD5 checks, or (with ``--from-pickle``) the conversion of a pickle
in the classic format; then it reads the four files back and checks they hold the synthetic bytes.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import pickle
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

DATA_ENV = "RNNCOURSE_DATA"
DEFAULT_DIR = Path("data") / "mnist"

#: file name -> MD5 of the gzip file as distributed on the standard mirrors.
FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

# IDX dtype codes (third byte of the magic number).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}


class MNISTNotFoundError(FileNotFoundError):
    """MNIST files are missing and could not be downloaded."""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The MNIST folder: ``path``, else ``$RNNCOURSE_DATA/mnist``, else ``./data/mnist``."""
    if path is not None:
        return Path(path)
    root = os.environ.get(DATA_ENV)
    return Path(root) / "mnist" if root else DEFAULT_DIR


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one (uncompressed) IDX file into an array of the shape its header states."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name}: expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) < 4:
        raise ValueError(f"{name}: {len(raw)} bytes is too short for an IDX header (4-byte magic number)")
    zero0, zero1, code, ndim = raw[:4]
    if zero0 != 0 or zero1 != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{name}: bad IDX magic number {raw[:4].hex()} "
                         "(expected 0000 followed by a dtype code such as 08 and the number of dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: header says {ndim} dimensions but the file ends after {len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{name}: header says shape {shape} ({expected} bytes of data) "
                         f"but the file holds {len(raw) - header} bytes after the header")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip-compressed when its name ends in ``.gz``)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    return parse_idx(raw, name=str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write a uint8 or int8 array as an IDX file (gzip-compressed when the name ends in ``.gz``)."""
    array = np.asarray(array)
    if array.dtype not in _IDX_CODES:
        raise TypeError(f"write_idx: expected a uint8 or int8 array, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError("write_idx: expected an array with at least one dimension")
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(header + np.ascontiguousarray(array).tobytes())
    return path


def md5sum(path: str | os.PathLike) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _missing_message(folder: Path, missing: list[str], errors: list[str]) -> str:
    lines = [f"MNIST files missing in {folder}: {', '.join(missing)}."]
    if errors:
        lines.append("Download failed (is this machine offline?):")
        lines += [f"  {e}" for e in errors]
    lines += [
        "To fix it, put the four files",
        "  " + ", ".join(FILES),
        f"into {folder} (or another folder given by data_dir=..., --data-dir or ${DATA_ENV}/mnist),",
        "for example by downloading them on a machine that is online, or by converting a copy",
        "of the classic mnist.pkl.gz pickle with",
        f"  python -m rnncourse.mnist --from-pickle mnist.pkl.gz --into {folder}",
        "On a CPU-only machine the course's experiments also run on scikit-learn's digits",
        "(--dataset digits), which need no download.",
    ]
    return "\n".join(lines)


def download(folder: str | os.PathLike | None = None, mirrors=MIRRORS, timeout: float = 30.0,
             checksums: dict[str, str] | None = None) -> Path:
    """Make sure the four files are in ``folder``, downloading the missing ones.

    Each download is checked against its MD5 (``checksums``, file name -> MD5; default
    :data:`FILES`) before it is moved into place; a corrupt download is deleted and the
    next mirror is tried.  Raises :class:`MNISTNotFoundError` when a file can be had from
    no mirror.
    """
    checksums = FILES if checksums is None else checksums
    folder = data_dir(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    errors: list[str] = []
    for name in list(missing):
        for mirror in mirrors:
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / (name + ".part")
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as response, open(partial, "wb") as out:
                    out.write(response.read())
            except (urllib.error.URLError, OSError, ValueError) as err:
                errors.append(f"{mirror}{name}: {err}")
                partial.unlink(missing_ok=True)
                continue
            checksum = md5sum(partial)
            if checksum != checksums[name]:
                errors.append(f"{mirror}{name}: MD5 {checksum} does not match {checksums[name]}")
                partial.unlink(missing_ok=True)
                continue
            partial.replace(folder / name)
            missing.remove(name)
            break
    if missing:
        raise MNISTNotFoundError(_missing_message(folder, missing, errors))
    return folder


def load_mnist(folder: str | os.PathLike | None = None, download_missing: bool = True):
    """Return ``(train_images, train_labels, test_images, test_labels)`` as NumPy arrays.

    images: (n, 28, 28) uint8, labels: (n,) int64.  Missing files are downloaded
    (``download_missing=True``) or reported with :class:`MNISTNotFoundError`.
    """
    folder = data_dir(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        if not download_missing:
            raise MNISTNotFoundError(_missing_message(folder, missing, []))
        download(folder)
    arrays = []
    for split in ("train", "t10k"):
        images = read_idx(folder / f"{split}-images-idx3-ubyte.gz")
        labels = read_idx(folder / f"{split}-labels-idx1-ubyte.gz")
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{folder}: {split} images {images.shape} and labels {labels.shape} do not match "
                             "(expected (n, rows, cols) and (n,))")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{folder}: {split} labels must be digits 0..9, found {int(labels.max())}")
        arrays += [images, labels.astype(np.int64)]
    return tuple(arrays)


def pickle_to_idx(pickle_path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Convert the classic ``mnist.pkl.gz`` (train 50000 / valid 10000 / test 10000) into IDX files.

    The pickle holds float32 images of shape (n, 784) with values ``k/256``
    (``k`` = the original byte); train and valid together are the original
    60000 training images in their original order.  Only open pickles you trust:
    unpickling runs code.
    """
    with gzip.open(pickle_path, "rb") as handle:
        splits = pickle.load(handle, encoding="latin1")
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise ValueError(f"{pickle_path}: expected a tuple (train, valid, test) of (images, labels) pairs")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = splits

    def to_bytes(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        for scale in (256.0, 255.0):
            k = np.rint(x * scale)
            if np.allclose(k, x * scale, atol=1e-3) and k.max() <= 255 and k.min() >= 0:
                return k.astype(np.uint8).reshape(len(x), 28, 28)
        raise ValueError(f"{pickle_path}: pixel values are not multiples of 1/256 or 1/255")

    folder = Path(folder)
    write_idx(folder / "train-images-idx3-ubyte.gz", to_bytes(np.concatenate([x_tr, x_va])))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.concatenate([y_tr, y_va]).astype(np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", to_bytes(x_te))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.asarray(y_te).astype(np.uint8))
    return folder


def smoke(from_pickle: bool, root: str | os.PathLike | None = None, seed: int = 0) -> Path:
    """Run the download (``from_pickle=False``) or the pickle conversion on a tiny synthetic set, offline.

    Writes under ``root`` (default ``default_output("mnist_smoke")``): the synthetic source
    (``mirror/`` with the four IDX files, or ``mnist.pkl.gz`` with splits of 5 / 2 / 3 images)
    and the result, ``idx/``, whose contents are checked against the synthetic bytes.
    Returns the ``idx/`` folder.
    """
    from rnncourse.experiments import default_output

    root = Path(root) if root is not None else default_output("mnist_smoke")
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (5, 2, 3)]
    labels = [rng.integers(0, 10, n).astype(np.uint8) for n in (5, 2, 3)]
    expected = (np.concatenate(images[:2]), np.concatenate(labels[:2]), images[2], labels[2])
    folder = root / "idx"
    for name in FILES:
        (folder / name).unlink(missing_ok=True)
    if from_pickle:
        root.mkdir(parents=True, exist_ok=True)
        with gzip.open(root / "mnist.pkl.gz", "wb") as handle:
            pickle.dump(tuple(((x.reshape(len(x), -1) / 256.0).astype(np.float32), y.astype(np.int64))
                              for x, y in zip(images, labels)), handle)
        pickle_to_idx(root / "mnist.pkl.gz", folder)
    else:
        mirror = root / "mirror"
        for name, array in zip(("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"), expected):
            write_idx(mirror / name, array)
        download(folder, mirrors=(mirror.resolve().as_uri() + "/",),
                 checksums={name: md5sum(mirror / name) for name in FILES})
    for got, want in zip(load_mnist(folder, download_missing=False), expected):
        if got.shape != want.shape or not np.array_equal(got, want):
            raise RuntimeError(f"{folder}: the files do not hold the synthetic set they were made from")
    return folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Fetch MNIST or convert mnist.pkl.gz into the four IDX files.")
    parser.add_argument("--into", default=None, help="data folder (default: $RNNCOURSE_DATA/mnist, else ./data/mnist)")
    parser.add_argument("--from-pickle", default=None, metavar="PKL_GZ",
                        help="convert this mnist.pkl.gz instead of downloading")
    parser.add_argument("--smoke", action="store_true",
                        help="offline check on a tiny synthetic set (10 random images), seconds: writes it into "
                             "$RNNCOURSE_RUNS/mnist_smoke/ (else runs/mnist_smoke/) and runs the download from a "
                             "local file:// mirror, or with --from-pickle the conversion of a synthetic pickle; "
                             "never writes into --into nor reads the named pickle")
    args = parser.parse_args(argv)
    if args.smoke:
        folder = smoke(from_pickle=bool(args.from_pickle))
    else:
        folder = data_dir(args.into)
        if args.from_pickle:
            pickle_to_idx(args.from_pickle, folder)
        else:
            download(folder)
    x_train, y_train, x_test, y_test = load_mnist(folder, download_missing=False)
    size = sum((folder / name).stat().st_size for name in FILES)
    print(f"{folder}: train {x_train.shape} labels {y_train.shape}, test {x_test.shape} labels {y_test.shape}; "
          f"the four files take {size / 2 ** 20:.1f} MiB")


if __name__ == "__main__":
    main()
