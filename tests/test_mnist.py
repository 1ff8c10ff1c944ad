"""The IDX reader, the offline error and the download's checksum check, on tiny files built here."""
import gzip
import hashlib
import pickle
import struct

import numpy as np
import pytest

from rnncourse import mnist


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file written by hand from the format's definition (independent of rnncourse.mnist)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.tobytes()


def write_gz(path, array):
    with gzip.open(path, "wb") as handle:
        handle.write(idx_bytes(array))


def tiny_mnist(folder, n_train=5, n_test=3, rows=4, cols=3, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_gz(folder / name, array)
    return arrays


def test_parse_idx_reads_shape_and_values_in_c_order():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = mnist.parse_idx(idx_bytes(array))
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    assert out[1, 2, 3] == 23 and out[0, 1, 0] == 4


def test_parse_idx_big_endian_int32():
    values = np.array([1, -2, 70000], dtype=">i4")
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + values.tobytes()
    out = mnist.parse_idx(raw)
    np.testing.assert_array_equal(out, [1, -2, 70000])
    assert out.dtype == np.dtype("int32")


@pytest.mark.parametrize("raw,match", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    (b"\x00\x00\x08\x02" + struct.pack(">I", 2), "ends after"),
    (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(5), "holds 5 bytes"),
    (b"\x00\x00\x08\x01" + struct.pack(">I", 2) + bytes(3), "holds 3 bytes"),
])
def test_parse_idx_rejects_broken_files(raw, match):
    with pytest.raises(ValueError, match=match):
        mnist.parse_idx(raw)


def test_read_idx_plain_and_gzip(tmp_path):
    array = np.random.default_rng(1).integers(0, 256, (3, 2, 2), dtype=np.uint8)
    (tmp_path / "plain-idx3-ubyte").write_bytes(idx_bytes(array))
    write_gz(tmp_path / "packed-idx3-ubyte.gz", array)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "plain-idx3-ubyte"), array)
    np.testing.assert_array_equal(mnist.read_idx(tmp_path / "packed-idx3-ubyte.gz"), array)


def test_write_idx_produces_the_format_byte_for_byte(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    mnist.write_idx(tmp_path / "a-idx2-ubyte", array)
    assert (tmp_path / "a-idx2-ubyte").read_bytes() == idx_bytes(array)
    with pytest.raises(TypeError, match="uint8"):
        mnist.write_idx(tmp_path / "b", np.zeros(3, dtype=np.float32))


def test_load_mnist_reads_the_four_files(tmp_path):
    arrays = tiny_mnist(tmp_path)
    x_train, y_train, x_test, y_test = mnist.load_mnist(tmp_path, download_missing=False)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert x_test.shape == (3, 4, 3) and y_train.dtype == np.int64 and x_train.dtype == np.uint8


def test_load_mnist_checks_images_and_labels_agree(tmp_path):
    tiny_mnist(tmp_path)
    write_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        mnist.load_mnist(tmp_path, download_missing=False)
    tiny_mnist(tmp_path)
    write_gz(tmp_path / "train-labels-idx1-ubyte.gz", np.full(5, 12, dtype=np.uint8))
    with pytest.raises(ValueError, match="0..9"):
        mnist.load_mnist(tmp_path, download_missing=False)


def test_missing_files_without_download_name_them_and_the_fix(tmp_path):
    tiny_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(mnist.MNISTNotFoundError) as info:
        mnist.load_mnist(tmp_path, download_missing=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "train-images" not in message.splitlines()[0]
    assert "--from-pickle" in message and "--dataset digits" in message
    assert isinstance(info.value, FileNotFoundError)


def test_offline_download_raises_a_clear_error(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        raise mnist.urllib.error.URLError("no route to host")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    with pytest.raises(mnist.MNISTNotFoundError, match="offline") as info:
        mnist.load_mnist(tmp_path / "empty")
    assert "no route to host" in str(info.value)
    assert not list((tmp_path / "empty").glob("*.part"))


class FakeResponse:
    def __init__(self, payload: bytes):
        self.payload = payload

    def read(self):
        return self.payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_keeps_files_whose_checksum_matches_and_skips_corrupt_mirrors(tmp_path, monkeypatch):
    good = {name: gzip.compress(idx_bytes(np.full((2, 2, 2) if "images" in name else (2,), i, np.uint8)))
            for i, name in enumerate(mnist.FILES)}
    monkeypatch.setattr(mnist, "FILES", {name: hashlib.md5(p).hexdigest() for name, p in good.items()})
    calls = []

    def urlopen(url, timeout=None):
        calls.append(url)
        mirror, name = url.rsplit("/", 1)
        return FakeResponse(b"corrupt" if mirror == "https://bad.example" else good[name])

    monkeypatch.setattr(mnist.urllib.request, "urlopen", urlopen)
    folder = mnist.download(tmp_path, mirrors=("https://bad.example/", "https://good.example/"))
    assert sorted(p.name for p in folder.iterdir()) == sorted(good)
    assert len(calls) == 8  # every file: the corrupt mirror first, then the good one
    x_train, y_train, x_test, y_test = mnist.load_mnist(tmp_path, download_missing=False)
    assert x_train.shape == (2, 2, 2) and int(y_train[0]) == 1 and int(x_test[0, 0, 0]) == 2

    monkeypatch.setattr(mnist, "FILES", {name: "0" * 32 for name in good})
    with pytest.raises(mnist.MNISTNotFoundError, match="does not match"):
        mnist.download(tmp_path / "other", mirrors=("https://good.example/",))


def test_data_dir_order(tmp_path, monkeypatch):
    monkeypatch.delenv(mnist.DATA_ENV, raising=False)
    assert mnist.data_dir() == mnist.DEFAULT_DIR
    monkeypatch.setenv(mnist.DATA_ENV, str(tmp_path))
    assert mnist.data_dir() == tmp_path / "mnist"
    assert mnist.data_dir(tmp_path / "x") == tmp_path / "x"


def test_pickle_conversion_recovers_the_bytes(tmp_path):
    rng = np.random.default_rng(2)
    originals = [rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (4, 2, 3)]
    labels = [rng.integers(0, 10, n).astype(np.int64) for n in (4, 2, 3)]
    splits = tuple(((x.reshape(len(x), -1) / 256.0).astype(np.float32), y) for x, y in zip(originals, labels))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as handle:
        pickle.dump(splits, handle)
    mnist.pickle_to_idx(tmp_path / "mnist.pkl.gz", tmp_path / "idx")
    x_train, y_train, x_test, y_test = mnist.load_mnist(tmp_path / "idx", download_missing=False)
    np.testing.assert_array_equal(x_train, np.concatenate(originals[:2]))
    np.testing.assert_array_equal(y_train, np.concatenate(labels[:2]))
    np.testing.assert_array_equal(x_test, originals[2])
    np.testing.assert_array_equal(y_test, labels[2])


def test_conversion_command_reports_the_size_of_the_folder_to_carry(tmp_path, capsys):
    rng = np.random.default_rng(3)
    splits = tuple(((rng.integers(0, 256, (n, 784)) / 256.0).astype(np.float32), rng.integers(0, 10, n))
                   for n in (5, 2, 3))
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as handle:
        pickle.dump(splits, handle)
    mnist.main(["--from-pickle", str(tmp_path / "mnist.pkl.gz"), "--into", str(tmp_path / "idx")])
    size = sum(f.stat().st_size for f in (tmp_path / "idx").iterdir())
    out = capsys.readouterr().out
    assert "train (7, 28, 28)" in out and f"take {size / 2 ** 20:.1f} MiB" in out


@pytest.mark.parametrize("pickled", [False, True])
def test_smoke_runs_download_or_conversion_offline_and_leaves_into_alone(tmp_path, monkeypatch, capsys, pickled):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNCOURSE_RUNS", str(tmp_path / "runs"))
    mnist.main(["--smoke", "--into", "data/mnist"] + (["--from-pickle", "absent.pkl.gz"] if pickled else []))
    assert "train (7, 28, 28)" in capsys.readouterr().out
    made = tmp_path / "runs" / "mnist_smoke"
    assert sorted(p.name for p in (made / "idx").iterdir()) == sorted(mnist.FILES)
    assert (made / "mnist.pkl.gz").is_file() == pickled and (made / "mirror").is_dir() != pickled
    assert not (tmp_path / "data").exists()


def test_download_rejects_a_file_whose_md5_does_not_match(tmp_path):
    mirror = tmp_path / "mirror"
    for name in mnist.FILES:
        mnist.write_idx(mirror / name, np.zeros(3, dtype=np.uint8))
    sums = {name: mnist.md5sum(mirror / name) for name in mnist.FILES}
    sums["t10k-labels-idx1-ubyte.gz"] = "0" * 32
    with pytest.raises(mnist.MNISTNotFoundError, match="does not match"):
        mnist.download(tmp_path / "idx", mirrors=(mirror.as_uri() + "/",), checksums=sums)
    assert sorted(p.name for p in (tmp_path / "idx").iterdir()) == sorted(set(mnist.FILES) - {"t10k-labels-idx1-ubyte.gz"})
