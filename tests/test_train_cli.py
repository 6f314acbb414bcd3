"""``convpool train``: a tiny run's output files, and its mistakes."""

import io
import json
import re
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from convpool import nn
from convpool.cli import main
from convpool.nn import data

pytest.importorskip("sklearn")

OUTPUTS = {"curves.png", "filters.png", "feature_maps.png", "confusion.png",
           "weights.npz", "history.json"}


def run(capsys, *argv):
    """``main(argv)``: (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    status = main(["train", "--limit", "150", "--epochs", "3",
                   "--seed", "1", "--out", str(out)])
    return status, out


def test_tiny_run_writes_every_output(tiny_run):
    status, out = tiny_run
    assert status == 0
    assert {p.name for p in out.iterdir()} == OUTPUTS


@pytest.mark.parametrize("name, size", [
    ("curves.png", (1000, 400)),
    ("filters.png", (1040, 220)),
    ("confusion.png", (680, 600)),
    ("feature_maps.png", (1200, 1100)),
])
def test_pictures_have_their_sizes(tiny_run, name, size):
    with Image.open(tiny_run[1] / name) as picture:
        assert picture.format == "PNG"
        assert picture.size == size
        # not blank: matplotlib drew something
        assert len(set(np.asarray(picture.convert("L")).ravel())) > 10


def test_history_is_one_entry_per_epoch_with_monotone_keys(tiny_run):
    history = json.loads((tiny_run[1] / "history.json").read_text())
    keys = ["epoch", "seconds", "loss", "accuracy", "val_loss",
            "val_accuracy"]
    assert sorted(history) == sorted(keys)
    assert all(len(history[k]) == 3 for k in keys)
    assert history["epoch"] == [1, 2, 3]
    assert all(np.diff(history["seconds"]) > 0)
    assert all(0 <= a <= 1 for k in ("accuracy", "val_accuracy")
               for a in history[k])
    assert history["loss"][-1] < history["loss"][0]


def test_weights_reload_and_give_the_reported_accuracy(tiny_run):
    net = nn.lenet5((16, 16, 1), 10, seed=99, dtype="float32")
    net.load_weights(tiny_run[1] / "weights.npz")
    d = data.digits(seed=1)
    _, accuracy = net.evaluate(d["X_valid"], d["Y_valid"])
    history = json.loads((tiny_run[1] / "history.json").read_text())
    assert accuracy == pytest.approx(history["val_accuracy"][-1])


def test_same_seed_same_weights(tiny_run, tmp_path):
    assert main(["train", "--limit", "150", "--epochs", "3", "--seed", "1",
                 "--out", str(tmp_path)]) == 0
    with np.load(tiny_run[1] / "weights.npz") as a, \
            np.load(tmp_path / "weights.npz") as b:
        assert a.files == b.files
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])


def mnist_file(path, n=40, size=14, **changes):
    rng = np.random.default_rng(0)
    arrays = {"X_train": rng.random((n, size, size), np.float32),
              "Y_train": rng.integers(0, 3, n),
              "X_valid": rng.random((10, size, size), np.float32),
              "Y_valid": rng.integers(0, 3, 10),
              "X_test": rng.random((12, size * size), np.float32),
              "Y_test": rng.integers(0, 3, 12)}
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_mnist_file_with_a_test_set(tmp_path, capsys):
    path = mnist_file(tmp_path / "MNIST.npz")
    status, out, err = run(capsys, "train", "--mnist", path, "--epochs", 1,
                           "--out", tmp_path / "out")
    assert status == 0, err
    assert "14x14" in out and "test accuracy" in out
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    assert 0 <= history["test_accuracy"] <= 1
    with np.load(tmp_path / "out" / "weights.npz") as w:
        assert w["11.kernel"].shape == (84, 3)          # 3 classes


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], r"argument --epochs: must be >= 1, got 0"),
    (["--lr", "-0.1"], r"argument --lr: must be a number > 0, got -0.1"),
    (["--lr", "abc"], r"argument --lr: must be a number, got 'abc'"),
    (["--batch-size", "0"], r"argument --batch-size: must be >= 1, got 0"),
    (["--optimizer", "sgd", "--momentum", "-1"],
     r"argument --momentum: must be >= 0, got -1.0"),
])
def test_bad_numbers_exit_2_with_one_line(capsys, tmp_path, argv, message):
    status, out, err = run(capsys, "train", *argv, "--out", tmp_path)
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err)
    assert not list(tmp_path.iterdir())


def broken_zip(folder):
    (folder / "b.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return folder / "b.npz"


def pickled(folder):
    return mnist_file(folder / "p.npz",
                      X_valid=np.array([{"a": 1}] * 10, dtype=object))


def single_array(folder):
    np.save(folder / "a.npy", np.zeros((3, 16, 16)))
    return folder / "a.npy"


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.npz", r"argument --mnist: '.*missing.npz' does "
                                  r"not exist"),
    (broken_zip, r"argument --mnist: cannot load '.*': not a NumPy .npz"),
    (lambda p: p.joinpath("t.txt").write_text("hello") and p / "t.txt",
     r"argument --mnist: cannot load '.*t.txt': not a NumPy .npz"),
    (pickled, r"argument --mnist: '.*p.npz': X_valid holds Python objects "
              r"\(pickled data\), which are never loaded"),
    (single_array, r"argument --mnist: cannot load '.*a.npy': not a NumPy "
                   r".npz"),
    (lambda p: mnist_file(p / "m.npz", Y_valid=None),
     r"argument --mnist: '.*m.npz': Y_valid is missing; the file's keys "
     r"are X_test, X_train, X_valid, Y_test, Y_train"),
    (lambda p: mnist_file(p / "m.npz", Y_train=np.zeros(39, int)),
     r"argument --mnist: '.*': Y_train has 39 labels for 40 images in "
     r"X_train"),
    (lambda p: mnist_file(p / "m.npz", Y_valid=np.full(10, -1)),
     r"Y_valid must hold class numbers 0, 1, 2"),
    (lambda p: mnist_file(p / "m.npz", X_valid=np.zeros((10, 12, 12))),
     r"X_train, X_valid and X_test must have one image size"),
    (lambda p: mnist_file(p / "m.npz", X_train=np.zeros((40, 3, 4, 5))),
     r"X_train must be \(N, H, W\), .* got shape \(40, 3, 4, 5\)"),
    (lambda p: mnist_file(p / "m.npz", size=8, X_test=None, Y_test=None),
     r"argument --mnist: images of 8x8 are too small for LeNet-5"),
])
def test_bad_files_exit_2_with_one_line(capsys, tmp_path, make, message):
    path = make(tmp_path)
    status, out, err = run(capsys, "train", "--mnist", path, "--out",
                           tmp_path / "out")
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("convpool train: error: ")
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_help_says_the_digits_are_resized(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "RESIZED, not zero-padded, to the network's 16x16 input" in text
    assert "nothing is downloaded" in text


def test_no_progress_bar_off_a_terminal(tiny_run, capsys):
    # main() ran with pytest's captured (non-terminal) stderr
    status, out, err = run(capsys, "train", "--limit", 40, "--epochs", 1,
                           "--out", tiny_run[1] / "again")
    assert status == 0
    assert err == "" and "\r" not in out
    assert out.count("epoch") == 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_per_epoch_on_a_terminal(tmp_path, monkeypatch,
                                              capsys):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["train", "--limit", "64", "--epochs", "2",
                 "--batch-size", "32", "--out", str(tmp_path)]) == 0
    bar = terminal.getvalue()
    assert re.search(r"\repoch 1/2 loss \d\.\d{4} accuracy [\d.]+% "
                     r"\[#{15} {15}\]  50% 32/64 images", bar), bar
    assert re.search(r"\repoch 2/2 .* 100% 64/64 images", bar)
    assert bar.count("\n") == 2                       # one line per epoch


def test_npz_zipfile_is_checked_before_training(tmp_path):
    # a real zip that is not an npz
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("readme.txt", "x")
    assert main(["train", "--mnist", str(tmp_path / "z.npz"), "--out",
                 str(tmp_path / "o")]) == 2
