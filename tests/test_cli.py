"""The ``convpool`` command, run as a user would, on files written here.

Pictures are compared pixel for pixel with the library's result passed
through the documented display scaling (``convpool filter --help``):
clip maps the input's range to 0-255, minmax a picture's min and max,
signed maps 0 to mid-grey and max|v| to white.
"""

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import convpool
from convpool import kernels
from convpool.cli import main
from convpool.cli.args import parse_kernel
from convpool.cli.commands.demo import CHANNELS_KERNEL, FILES, MULTI_KERNELS
from convpool.cli.errors import UserError
from convpool.cli.progress import Progress

Image = pytest.importorskip("PIL.Image")
ImageSequence = pytest.importorskip("PIL.ImageSequence")

VERTICAL_EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def run(capsys, *argv):
    """``main(argv)``: (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --- the documented display scaling, written out independently ---------------

def clip_to_8bit(v, lo, hi):
    return np.rint(np.clip((v - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def signed_to_8bit(v):
    m = np.abs(v).max()
    return np.rint((v + m) / (2 * m) * 255).astype(np.uint8)


def signed_robust_to_8bit(v):
    m = np.percentile(np.abs(v), 99.5)
    return np.rint(np.clip((v + m) / (2 * m), 0, 1) * 255).astype(np.uint8)


def minmax_to_8bit(v):
    return np.rint((v - v.min()) / (v.max() - v.min()) * 255).astype(np.uint8)


def pixels(path):
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.fixture
def photo(tmp_path):
    """A 20x24 RGB PNG: a bright left half, a dark right half, some colour."""
    rng = np.random.default_rng(0)
    img = np.zeros((20, 24, 3), dtype=np.uint8)
    img[:, :12] = (220, 180, 40)
    img[:, 12:] = (30, 60, 150)
    img[5:9, 3:20] = 255
    img = np.clip(img + rng.integers(-10, 10, img.shape), 0, 255)
    path = tmp_path / "photo.png"
    Image.fromarray(img.astype(np.uint8)).save(path)
    return path, img.astype(np.uint8)


@pytest.fixture
def gray_batch(tmp_path):
    """An .npy batch of 5 grey 12x10 pictures, floats in [0, 1], like MNIST."""
    x = np.random.default_rng(1).random((5, 12, 10))
    path = tmp_path / "batch.npy"
    np.save(path, x)
    return path, x


def spec_npz(tmp_path, m=3):
    """Spec-shaped MNIST.npz and animals_1.npz with ``m`` images each."""
    rng = np.random.default_rng(2)
    mnist = tmp_path / "MNIST.npz"
    np.savez(mnist, X_train=rng.random((m, 28, 28)).astype(np.float32),
             Y_train=rng.integers(0, 10, m))
    animals = tmp_path / "animals_1.npz"
    np.savez(animals, data=rng.integers(0, 256, (m, 32, 32, 3),
                                        dtype=np.uint8))
    return mnist, animals


# --- help --------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["demo"], ["filter"], ["pool"],
                                     ["animate"], ["kernels"]])
def test_every_command_has_help_with_examples(capsys, command):
    status, out, err = run(capsys, *command, "--help")
    assert status == 0 and err == ""
    assert "examples:" in out
    assert "convpool " + (command[0] if command else "demo") in out


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"convpool {convpool.__version__}"


# --- filter ------------------------------------------------------------------

def test_filter_edges_of_a_colour_picture_use_the_signed_robust_mapping(
        capsys, tmp_path, photo):
    path, img = photo
    out = tmp_path / "edges.png"
    status, stdout, err = run(capsys, "filter", path, "-k", "sobel_x",
                              "-o", out)
    assert status == 0, err
    assert stdout.strip() == f"(20, 24, 3) -> (20, 24, 3)  wrote {out}"
    got = pixels(out)
    expected = convpool.filter2d(img, kernels.sobel_x())
    assert got.shape == (20, 24, 3)
    np.testing.assert_array_equal(got, signed_robust_to_8bit(expected))
    # At the edge (column 12) red falls (dark) and blue rises (bright);
    # the flat right half sits at mid-grey.
    assert got[12, 11:13, 0].max() < 60 and got[12, 11:13, 2].min() > 170
    assert (got[12:, 16:22] > 110).all() and (got[12:, 16:22] < 146).all()


def test_filter_blur_keeps_colours_and_range(capsys, tmp_path, photo):
    path, img = photo
    out = tmp_path / "soft.png"
    status, _, err = run(capsys, "filter", path, "-k", "gaussian:5,1",
                         "--pad-mode", "reflect", "-o", out)
    assert status == 0, err
    expected = convpool.filter2d(img, kernels.gaussian(5, 1.0),
                                 pad_mode="reflect")
    np.testing.assert_array_equal(pixels(out), clip_to_8bit(expected, 0, 255))
    # Still yellow on the left and blue on the right.
    left, right = pixels(out)[15, 2].astype(int), pixels(out)[15, 21]
    assert left[0] > left[2] + 100 and right[2] > right[0] + 80


def test_filter_grey_picture_stays_grey_and_literal_kernel(
        capsys, tmp_path, photo):
    path, img = photo
    grey = tmp_path / "grey.png"
    Image.fromarray(img).convert("L").save(grey)
    src = pixels(grey)
    out = tmp_path / "out.png"
    status, _, err = run(capsys, "filter", grey, "-k",
                         "[[1,0,-1],[1,0,-1],[1,0,-1]]", "--padding", "valid",
                         "--stride", "2", "--scale", "signed", "-o", out)
    assert status == 0, err
    expected = convpool.filter2d(src, np.array(VERTICAL_EDGE),
                                 padding="valid", stride=2)
    assert expected.shape == (9, 11)
    np.testing.assert_array_equal(pixels(out), signed_to_8bit(expected))


def test_filter_npy_batch_keeps_raw_values_and_layout(
        capsys, tmp_path, gray_batch):
    path, x = gray_batch
    out = tmp_path / "out.npy"
    status, stdout, err = run(capsys, "filter", path, "-k", "vertical_edge",
                              "--padding", "2,4", "--stride", "2,1",
                              "-o", out)
    assert status == 0, err
    expected = convpool.conv2d(x[..., None],
                               np.array(VERTICAL_EDGE)[:, :, None, None],
                               padding=(2, 4), stride=(2, 1))[..., 0]
    got = np.load(out)
    assert got.shape == expected.shape == (5, 7, 16)
    np.testing.assert_array_equal(got, expected)
    assert "(5, 12, 10) -> (5, 7, 16)" in stdout
    assert err == ""      # stderr is not a terminal: no progress bar


def test_filter_chains_kernels_in_order(capsys, tmp_path, gray_batch):
    path, x = gray_batch
    out = tmp_path / "out.npz"
    status, _, err = run(capsys, "filter", path, "-k", "box:3", "-k",
                         "laplacian", "-o", out)
    assert status == 0, err
    step = np.stack([convpool.filter2d(img, kernels.box(3)) for img in x])
    expected = np.stack([convpool.filter2d(img, kernels.laplacian())
                         for img in step])
    with np.load(out) as f:
        assert f.files == ["data"]
        np.testing.assert_allclose(f["data"], expected, atol=1e-12)


def test_filter_spec_kernels_3d_and_4d_on_an_animals_npz(capsys, tmp_path):
    _, animals = spec_npz(tmp_path, m=4)
    with np.load(animals) as f:
        data = f["data"]
    k3, k4 = tmp_path / "k3.npy", tmp_path / "k4.npy"
    np.save(k3, CHANNELS_KERNEL)
    np.save(k4, MULTI_KERNELS)
    out3, out4 = tmp_path / "c.npz", tmp_path / "m.npy"
    assert run(capsys, "filter", animals, "-k", k3, "--padding", "valid",
               "-o", out3)[0] == 0
    assert run(capsys, "filter", animals, "-k", k4, "--padding", "valid",
               "-o", out4)[0] == 0
    with np.load(out3) as f:
        assert f.files == ["data"]          # the input's key
        got3 = f["data"]
    assert got3.shape == (4, 30, 30, 1)
    np.testing.assert_array_equal(
        got3[..., 0], convpool.conv2d(data, CHANNELS_KERNEL[..., None],
                                      padding="valid")[..., 0])
    got4 = np.load(out4)
    assert got4.shape == (4, 30, 30, 3)
    np.testing.assert_array_equal(got4, convpool.conv2d(data, MULTI_KERNELS))


def test_a_batch_written_as_a_picture_is_a_grid(capsys, tmp_path, gray_batch):
    path, x = gray_batch
    out = tmp_path / "grid.png"
    status, _, err = run(capsys, "filter", path, "-k", "identity",
                         "--scale", "minmax", "--tiles", "4", "--no-upscale",
                         "-o", out)
    assert status == 0, err
    got = pixels(out)
    # 4 pictures of 12x10 in a 2x2 grid with 2-pixel white gaps.
    assert got.shape == (2 * 12 + 2, 2 * 10 + 2)
    assert (got[12:14] == 255).all() and (got[:, 10:12] == 255).all()
    np.testing.assert_array_equal(got[:12, :10], minmax_to_8bit(x[0]))
    np.testing.assert_array_equal(got[14:, 12:], minmax_to_8bit(x[3]))


def test_layout_option_overrides_the_guess(capsys, tmp_path):
    x = np.random.default_rng(3).random((6, 7, 3))   # would guess HWC
    path = tmp_path / "x.npy"
    np.save(path, x)
    out = tmp_path / "o.npy"
    assert run(capsys, "filter", path, "--layout", "NHW", "-k", "box:2",
               "--padding", "valid", "-o", out)[0] == 0
    assert np.load(out).shape == (6, 6, 2)
    assert run(capsys, "filter", path, "-k", "box:2", "--padding", "valid",
               "-o", out, "--force")[0] == 0
    assert np.load(out).shape == (5, 6, 3)


def test_force_allows_overwriting_the_input(capsys, tmp_path, gray_batch):
    path, x = gray_batch
    status, _, err = run(capsys, "filter", path, "-k", "identity",
                         "-o", path)
    assert status == 2 and "refusing to overwrite" in err
    np.testing.assert_array_equal(np.load(path), x)
    assert run(capsys, "filter", path, "-k", "box:2", "-o", path,
               "--force")[0] == 0
    assert not np.array_equal(np.load(path), x)


# --- pool --------------------------------------------------------------------

def test_pool_picture_and_arrays(capsys, tmp_path, photo):
    path, img = photo
    out = tmp_path / "small.png"
    status, stdout, err = run(capsys, "pool", path, "--window", "2",
                              "-o", out)
    assert status == 0, err
    assert "(20, 24, 3) -> (10, 12, 3)" in stdout
    expected = convpool.max_pool2d(img[None], 2)[0]
    np.testing.assert_array_equal(pixels(out), expected)   # clip: unchanged

    out = tmp_path / "avg.npy"
    assert run(capsys, "pool", path, "--window", "3,2", "--stride", "2",
               "--mode", "avg", "--padding", "same", "-o", out)[0] == 0
    expected = convpool.avg_pool2d(img[None], (3, 2), stride=2,
                                   padding="same")[0]
    np.testing.assert_array_equal(np.load(out), expected)


def test_pool_spec_animals_npz(capsys, tmp_path):
    _, animals = spec_npz(tmp_path, m=3)
    out = tmp_path / "p.npz"
    status, stdout, _ = run(capsys, "pool", animals, "--window", "2",
                            "--mode", "avg", "-o", out)
    assert status == 0
    assert "(3, 32, 32, 3) -> (3, 16, 16, 3)" in stdout
    with np.load(out) as f, np.load(animals) as a:
        np.testing.assert_array_equal(
            f["data"], convpool.avg_pool2d(a["data"], 2))


# --- progress ----------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    tty, pipe = _Terminal(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(10, "filter", stream)
        for _ in range(5):
            bar.update(2)
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert text.count("\r") == 5 and text.endswith("\n")
    assert "100% 10/10 images" in text and "[" + "#" * 30 + "]" in text
    # A bar cut short by an error ends its line; a finished one is left be.
    bar.close()
    assert tty.getvalue() == text
    short = _Terminal()
    bar = Progress(10, "pool", short)
    bar.update(3)
    bar.close()
    assert re.search(r" 30% 3/10 images [0-9.]+s\n$", short.getvalue())


# --- animate -----------------------------------------------------------------

def gif_frames(path):
    with Image.open(path) as im:
        return [frame.copy() for frame in ImageSequence.Iterator(im)]


@pytest.mark.parametrize("options,positions", [
    ([], 25),                                    # 5x5, 'same', stride 1
    (["--stride", "2"], 9),
    (["-k", "box:2", "--padding", "valid"], 16),
    (["-k", "[[1,2],[3,4]]", "--padding", "1,0", "--stride", "2,1"], 12),
])
def test_animation_has_one_frame_per_output_position(
        capsys, tmp_path, options, positions):
    out = tmp_path / "a.gif"
    status, stdout, err = run(capsys, "animate", *options, "-o", out)
    assert status == 0, err
    frames = gif_frames(out)
    assert len(frames) == positions
    assert f"{positions} frames" in stdout
    assert len({f.size for f in frames}) == 1


def test_animation_frames_dir_and_input_crop(capsys, tmp_path, photo):
    path, _ = photo
    out, folder = tmp_path / "a.gif", tmp_path / "frames"
    status, stdout, err = run(capsys, "animate", path, "--size", "4",
                              "--at", "2,10", "-k", "sobel_x", "--padding",
                              "valid", "--frames-dir", folder, "-o", out)
    assert status == 0, err
    assert "(4, 4) * (3, 3) -> (2, 2): 4 frames" in stdout
    names = sorted(os.listdir(folder))
    assert names == [f"frame_{i:03d}.png" for i in range(4)]
    assert len(gif_frames(out)) == 4
    # The frames differ: the window moves.
    a, b = pixels(folder / names[0]), pixels(folder / names[1])
    assert a.shape == b.shape and (a != b).any()


def test_animation_sums_match_the_library():
    from convpool.cli.commands.animate import DEFAULT_GRID, product_sum
    k = np.array(VERTICAL_EDGE, dtype=float)
    out = convpool.conv2d(DEFAULT_GRID[None, :, :, None], k[:, :, None, None],
                          padding="same")[0, :, :, 0]
    padded = np.pad(DEFAULT_GRID, 1)
    lines = product_sum(k, padded[1:4, 2:5])
    assert lines[0] == "1×9 + 0×8 + (-1)×1"
    total = sum(eval(line.replace("×", "*")) for line in lines)  # test only
    assert total == out[1, 2] == 24


# --- demo --------------------------------------------------------------------

def test_demo_on_the_sample_photo_writes_every_file(capsys, tmp_path):
    out = tmp_path / "demo"
    status, stdout, err = run(capsys, "demo", "--out", out)
    assert status == 0, err
    assert sorted(os.listdir(out)) == sorted(FILES)
    for name in FILES:
        with Image.open(out / name) as im:
            assert im.format == "PNG" and im.size[0] > 300
    text = " ".join(stdout.split())
    for shapes in ["(1, 300, 256) -> (1, 298, 254)",
                   "(1, 300, 256) -> (1, 300, 256)",
                   "(1, 300, 256) -> (1, 302, 262)",
                   "(1, 300, 256) -> (1, 149, 127)",
                   "(1, 300, 256, 3) -> (1, 298, 254)",
                   "(1, 300, 256, 3) -> (1, 298, 254, 3)",
                   "(1, 300, 256, 3) -> (1, 150, 128, 3)"]:
        assert shapes in text


def test_demo_on_spec_shaped_npz_files(capsys, tmp_path):
    mnist, animals = spec_npz(tmp_path, m=3)
    out = tmp_path / "results"
    status, stdout, err = run(capsys, "demo", "--mnist", mnist, "--animals",
                              animals, "--out", out)
    assert status == 0, err
    assert sorted(os.listdir(out)) == sorted(FILES)
    text = " ".join(stdout.split())
    for shapes in ["(3, 28, 28) -> (3, 26, 26)", "(3, 28, 28) -> (3, 28, 28)",
                   "(3, 28, 28) -> (3, 30, 34)", "(3, 28, 28) -> (3, 13, 13)",
                   "(3, 32, 32, 3) -> (3, 30, 30)",
                   "(3, 32, 32, 3) -> (3, 30, 30, 3)",
                   "(3, 32, 32, 3) -> (3, 16, 16, 3)"]:
        assert shapes in text


# --- kernels -----------------------------------------------------------------

def test_kernels_lists_every_named_kernel(capsys):
    status, out, _ = run(capsys, "kernels")
    assert status == 0
    for name in kernels.names():
        assert name in out
    assert "[[ 1  0 -1]\n     [ 1  0 -1]\n     [ 1  0 -1]]" in out
    status, out, _ = run(capsys, "kernels", "box:2")
    assert status == 0 and "[[0.25 0.25]" in out


def test_kernels_gallery(capsys, tmp_path, photo):
    out = tmp_path / "gallery.png"
    status, _, err = run(capsys, "kernels", "--gallery", out)
    assert status == 0, err
    with Image.open(out) as im:
        assert im.size[0] > 800
    path, _ = photo
    out = tmp_path / "mine.png"
    assert run(capsys, "kernels", "sobel_y", "emboss", "--gallery", out,
               "--image", path)[0] == 0
    assert out.exists()


# --- bad input: exit 2 and one line on stderr --------------------------------

def craft_png_header(path, width, height):
    """A PNG that claims to be huge but holds almost nothing."""
    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", crc)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 8))
                     + chunk(b"IEND", b""))


@pytest.fixture
def bad_files(tmp_path, gray_batch):
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 8, 8)), b=np.ones(3))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object),
            allow_pickle=True)
    np.savez(tmp_path / "objects.npz", data=np.array([1, None], dtype=object))
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
    (tmp_path / "notes.png").write_text("not a picture")
    craft_png_header(tmp_path / "bomb.png", 30000, 30000)
    return tmp_path


BAD = [
    (["filter", "missing.png", "-k", "sobel_x", "-o", "o.png"],
     "argument INPUT: cannot read 'missing.png': No such file"),
    (["filter", "notes.png", "-k", "sobel_x", "-o", "o.png"],
     "'notes.png' is not an image Pillow can read"),
    (["filter", "bomb.png", "-k", "sobel_x", "-o", "o.png"],
     "'bomb.png' is too large to decode safely (possible decompression bomb)"),
    (["filter", "two.npz", "-k", "sobel_x", "-o", "o.npy"],
     "argument --key: 'two.npz' holds 2 arrays (a, b); pick one with --key"),
    (["filter", "two.npz", "--key", "c", "-k", "sobel_x", "-o", "o.npy"],
     "'two.npz' has no array 'c'; its keys are: a, b"),
    (["pool", "objects.npy", "--window", "2", "-o", "o.npy"],
     "cannot load 'objects.npy': it holds Python objects that need pickle"),
    (["pool", "objects.npz", "--window", "2", "-o", "o.npy"],
     "cannot load 'objects.npz': it holds Python objects that need pickle"),
    (["pool", "text.npy", "--window", "2", "-o", "o.npy"],
     "'text.npy' holds dtype <U1, not real numbers"),
    (["filter", "batch.npy", "-k", "sobelx", "-o", "o.npy"],
     "argument -k/--kernel: unknown kernel 'sobelx'; known kernels: identity,"
     " box, gaussian, sobel_x"),
    (["filter", "batch.npy", "-k", "[[1,0],[1]", "-o", "o.npy"],
     "argument -k/--kernel: malformed kernel literal '[[1,0],[1]'"),
    (["filter", "batch.npy", "-k", "[[1,0],[1]]", "-o", "o.npy"],
     "malformed kernel literal '[[1,0],[1]]': rows must be lists of numbers"),
    (["filter", "batch.npy", "-k", "[__import__('os')]", "-o", "o.npy"],
     "malformed kernel literal"),
    (["filter", "batch.npy", "-k", "[[1, NaN]]", "-o", "o.npy"],
     "contains NaN or infinity"),
    (["filter", "batch.npy", "-k", "missing.npy", "-o", "o.npy"],
     "argument -k/--kernel: cannot read 'missing.npy'"),
    (["filter", "batch.npy", "-k", "sobel_x", "-o", "nowhere/o.npy"],
     "argument -o/--output: output folder"),
    (["filter", "batch.npy", "-k", "sobel_x", "-o", "o.txt"],
     "cannot tell the format of 'o.txt' from its extension"),
    (["filter", "batch.npy", "-k", "box:20", "--padding", "valid",
      "-o", "o.npy"],
     "argument -k/--kernel: kernel 'box:20' is 20x20, larger than the 12x10 "
     "input with --padding valid (12x10)"),
    (["filter", "batch.npy", "-k", "k3.npy", "-o", "o.npy"],
     "argument -k/--kernel: kernel 'k3.npy' of shape (3, 3, 3) needs "
     "pictures with 3 channels; they have 1 here"),
    (["filter", "batch.npy", "-k", "sobel_x", "-o", "batch.npy"],
     "'batch.npy' is also an input file; refusing to overwrite it without "
     "--force"),
    (["filter", "batch.npy", "-k", "k3.npy", "-o", "k3.npy"],
     "'k3.npy' is also an input file"),
    (["filter", "batch.npy", "-k", "sobel_x", "--stride", "0", "-o", "o.npy"],
     "argument --stride: must be >= 1, got '0'"),
    (["filter", "batch.npy", "-k", "sobel_x", "--padding", "wide",
      "-o", "o.npy"],
     "argument --padding: expected valid, same, same_lower, full, N, PH,PW"),
    (["filter", "batch.npy", "-k", "sobel_x"],
     "the following arguments are required: -o/--output"),
    (["filter", "batch.npy", "--key", "x", "-k", "sobel_x", "-o", "o.npy"],
     "argument --key: 'batch.npy' is not an .npz file"),
    (["filter", "batch.npy", "-k", "[[1,0,-1]]", "-o", "o.png",
      "--layout", "NHWC"],
     "argument --layout: NHWC needs 4 dimensions"),
    (["pool", "batch.npy", "--window", "20", "-o", "o.npy"],
     "argument --window: the window is 20x20, larger than the 12x10 input "
     "with --padding valid (12x10)"),
    (["pool", "batch.npy", "--window", "0", "-o", "o.npy"],
     "argument --window: must be >= 1"),
    (["animate", "-k", "k3.npy", "-o", "a.gif"],
     "animate draws one 2-D kernel, got shape (3, 3, 3)"),
    (["animate", "-o", "a.png"], "'a.png' must end in .gif"),
    (["animate", "batch.npy", "--size", "40", "-o", "a.gif"],
     "argument --size: must be between 2 and 16, got 40"),
    (["animate", "batch.npy", "--at", "9,9", "-o", "a.gif"],
     "argument --at: a 5x5 crop at 9,9 does not fit in the 12x10 picture"),
    (["animate", "batch.npy", "--index", "5", "-o", "a.gif"],
     "argument --index: 'batch.npy' holds 5 pictures, got 5"),
    (["animate", "-k", "box:9", "--padding", "valid", "-o", "a.gif"],
     "argument -k/--kernel: kernel 'box:9' is 9x9, larger than the 5x5 input "
     "with --padding valid (5x5)"),
    (["animate", "-o", "gone/a.gif"], "output folder"),
    (["animate", "-o", "a.gif", "--frames-dir", "gone/frames"],
     "argument --frames-dir: folder"),
    (["demo", "--mnist", "batch.npy"],
     "argument --mnist: 'batch.npy' is not an .npz file"),
    (["demo", "--mnist", "two.npz"],
     "argument --mnist: 'two.npz' has no array 'X_train'; its keys are: a, b"),
    (["demo", "--animals", "two.npz"],
     "argument --animals: 'two.npz' has no array 'data'"),
    (["demo", "--out", "gone/demo"], "argument --out: folder"),
    (["kernels", "sobel"], "unknown kernel 'sobel'"),
    (["kernels", "--gallery", "gone/g.png"], "output folder"),
    (["kernels", "--gallery", "g.npy"], "'g.npy' must be a picture"),
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv,message", BAD,
                         ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_input_is_one_line_and_status_2(capsys, bad_files, monkeypatch,
                                            argv, message):
    monkeypatch.chdir(bad_files)
    before = {p: p.stat().st_mtime_ns for p in bad_files.iterdir()}
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("convpool")
    assert "Traceback" not in err
    # Nothing was written or touched.
    assert {p: p.stat().st_mtime_ns for p in bad_files.iterdir()} == before


def test_decompression_bomb_warning_is_an_error(capsys, tmp_path, photo,
                                                monkeypatch):
    # 480 pixels is above this limit (a warning) but below twice it (where
    # Pillow itself raises): the command must still refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)
    path, _ = photo
    status, _, err = run(capsys, "filter", path, "-k", "sobel_x",
                         "-o", tmp_path / "o.png")
    assert status == 2 and "possible decompression bomb" in err


@pytest.mark.parametrize("argv,option", [
    (["pool", "{photo}", "--window", "2", "-o", "{tmp}/o.png"], "-o/--output"),
    (["pool", "{photo}", "--window", "2", "-o", "{tmp}/o.npy"], "-o/--output"),
    (["pool", "{photo}", "--window", "2", "-o", "{tmp}/o.npz"], "-o/--output"),
    (["animate", "-o", "{tmp}/a.gif"], "-o/--output"),
    (["demo", "--out", "{tmp}/d"], "--out"),
    (["kernels", "--gallery", "{tmp}/g.png"], "--gallery"),
])
def test_a_failed_write_is_one_line(capsys, tmp_path, photo, monkeypatch,
                                    argv, option):
    import matplotlib.figure

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Image.Image, "save", full_disk)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    monkeypatch.setattr(np, "save", full_disk)
    monkeypatch.setattr(np, "savez", full_disk)
    argv = [a.format(photo=photo[0], tmp=tmp_path) for a in argv]
    status, _, err = run(capsys, *argv)
    assert status == 2 and err.count("\n") == 1
    assert f"argument {option}: cannot write" in err
    assert err.endswith("No space left on device\n")


def test_parse_kernel_never_evaluates_code(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(UserError, match="malformed kernel literal"):
        parse_kernel(f"[open({str(marker)!r}, 'w')]")
    assert not marker.exists()
    kernel, path = parse_kernel("((1, 2), (3, 4.5))")
    assert path is None and kernel.tolist() == [[1, 2], [3, 4.5]]


def test_too_many_channels_for_a_picture(capsys, tmp_path, gray_batch):
    path, _ = gray_batch
    k = tmp_path / "k.npy"
    np.save(k, np.ones((3, 3, 1, 4)))
    status, _, err = run(capsys, "filter", path, "-k", k, "-o",
                         tmp_path / "o.png")
    assert status == 2
    assert "the result has 4 channels; pictures need 1 (grey) or 3" in err


# --- the installed command, and the NumPy-only core -------------------------

def convpool_script():
    here = os.path.join(os.path.dirname(sys.executable), "convpool")
    return here if os.path.exists(here) else shutil.which("convpool")


def test_console_script_in_a_subprocess(tmp_path, photo):
    script = convpool_script()
    assert script, "the convpool console script is not installed"
    path, img = photo
    out = tmp_path / "e.png"
    done = subprocess.run([script, "filter", str(path), "-k", "laplacian",
                           "-o", str(out)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    expected = convpool.filter2d(img, kernels.laplacian())
    np.testing.assert_array_equal(pixels(out),
                                  signed_robust_to_8bit(expected))

    done = subprocess.run([script, "filter", str(tmp_path / "nope.png"), "-k",
                           "sobel_x", "-o", str(out)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == ("convpool filter: error: argument INPUT: cannot "
                           f"read '{tmp_path / 'nope.png'}': No such file or "
                           f"directory\n")


def test_without_matplotlib_and_pillow(tmp_path, gray_batch):
    # The core and array-to-array work need NumPy only; pictures print the
    # install hint and exit 2.
    path, x = gray_batch
    code = f"""
import sys
sys.modules["matplotlib"] = None
sys.modules["PIL"] = None
import numpy as np
import convpool, convpool.kernels
from convpool.cli import main
assert main(["filter", {str(path)!r}, "-k", "box:3", "-o",
             {str(tmp_path / 'o.npy')!r}]) == 0
sys.exit(main(["filter", {str(path)!r}, "-k", "box:3", "-o",
               {str(tmp_path / 'o.png')!r}]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert 'pip install "convpool[plot]"' in done.stderr
    assert np.load(tmp_path / "o.npy").shape == x.shape


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap"])
@pytest.mark.parametrize("padding, stride", [("same", 1), ((2, 3), (2, 1)),
                                             ("full", 2)])
def test_one_picture_with_a_pad_mode_equals_padding_a_copy(mode, padding,
                                                            stride):
    # A single picture goes through filter2d's banded borders; a batch
    # through np.pad per chunk: both must give the np.pad result.
    from convpool.cli.convolve import apply_kernel
    from convpool.geometry import pair, resolve_padding
    rng = np.random.default_rng(0)
    x = rng.random((1, 40, 50, 3))
    k = rng.standard_normal((5, 4))
    pads = resolve_padding(padding, (40, 50), (5, 4), pair(stride, "stride"))
    expected = convpool.conv2d(
        np.pad(x, ((0, 0),) + pads + ((0, 0),), mode=mode),
        np.repeat(k[:, :, None, None], 3, axis=3), stride=stride, groups=3)
    for batch in (x, np.concatenate([x, x])):
        got = apply_kernel(batch, k, padding, stride, mode)
        np.testing.assert_allclose(got, np.concatenate([expected] * len(batch)),
                                   rtol=1e-12, atol=1e-12)
