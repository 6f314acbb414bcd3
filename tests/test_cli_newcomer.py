"""Issue 11: the command as a newcomer meets it.  Each test names its item;
each failed before the fix.  Pictures are checked pixel for pixel against
the documented mapping written out here, independently of the command."""

import ast
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import convpool
from convpool import kernels
from convpool.cli import main
from convpool.kernels import CHANNELS_KERNEL

Image = pytest.importorskip("PIL.Image")

MAGENTA = (255, 0, 255)
SRC = os.path.dirname(os.path.dirname(os.path.abspath(convpool.__file__)))
CLI = os.path.join(SRC, "convpool", "cli")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def pixels(path):
    with Image.open(path) as im:
        return np.asarray(im)


def clip_to_8bit(v, lo, hi):
    return np.rint(np.clip((v - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def robust_signed_to_8bit(v):
    m = np.percentile(np.abs(v), 99.5)
    return clip_to_8bit(v, -m, m)


def robust_minmax_to_8bit(v):
    lo, hi = np.percentile(v, [0.5, 99.5])
    return clip_to_8bit(v, lo, hi)


def ramp(h=8, w=8):
    y, x = np.mgrid[0:h, 0:w]
    return (x + y) / (h + w - 2.0)


class Terminal(io.StringIO):
    def isatty(self):
        return True


# --- items 1 and 2: non-finite pixels ----------------------------------------

@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("command", [["filter", "-k", "identity"],
                                     ["pool", "--window", "1"]])
def test_item1_2_one_non_finite_pixel_does_not_blank_the_picture(
        capsys, tmp_path, bad, command):
    x = ramp()
    x[3, 4] = bad
    np.save(tmp_path / "in.npy", x)
    out = tmp_path / "out.png"
    status, _, err = run(capsys, command[0], tmp_path / "in.npy",
                         *command[1:], "-o", out)
    assert status == 0
    if command[0] == "filter":
        result = convpool.filter2d(x, kernels.identity())
    else:
        result = x
    bad_mask = ~np.isfinite(result)
    count = int(bad_mask.sum())
    assert count >= 1
    assert err == (f"convpool {command[0]}: warning: {count} of 64 pixels "
                   f"{'is' if count == 1 else 'are'} not finite (NaN or "
                   f"infinity); drawn in magenta (255, 0, 255) and left out "
                   f"of the scaling\n")
    got = pixels(out)
    assert got.shape == (8, 8, 3)
    assert (got[bad_mask] == MAGENTA).all()
    # Every finite pixel keeps the documented clip mapping of [0, 1].
    want = clip_to_8bit(np.where(bad_mask, 0, result), 0.0, 1.0)
    for c in range(3):
        np.testing.assert_array_equal(got[..., c][~bad_mask], want[~bad_mask])


def test_item2_an_all_nan_result_is_all_marked(capsys, tmp_path):
    np.save(tmp_path / "in.npy", np.full((2, 5, 6), np.nan))
    out = tmp_path / "out.png"
    status, _, err = run(capsys, "filter", tmp_path / "in.npy", "-k",
                         "sobel_x", "--tiles", "1", "-o", out)
    assert status == 0
    assert "60 of 60 pixels are not finite" in err
    assert (pixels(out) == MAGENTA).all()


def test_item1_finite_pictures_give_no_warning_and_stay_grey(
        capsys, tmp_path):
    np.save(tmp_path / "in.npy", ramp())
    status, _, err = run(capsys, "pool", tmp_path / "in.npy", "--window", "1",
                         "-o", tmp_path / "o.png")
    assert status == 0 and err == ""
    assert pixels(tmp_path / "o.png").shape == (8, 8)


# --- item 3: the clip range --------------------------------------------------

@pytest.mark.parametrize("values, dtype, lo, hi", [
    (3 * ramp(), np.float64, 0.0, 3.0),           # floats in [0, 3]: own range
    (200 * ramp(), np.float32, 0.0, 200.0),       # floats below 255 too
    (ramp(), np.float64, 0.0, 1.0),               # floats in [0, 1]
    (np.rint(100 * ramp()), np.uint8, 0.0, 255.0),  # 8-bit pictures
    (np.rint(100 * ramp()) - 50, np.int16, -50.0, 50.0),
])
def test_item3_clip_follows_the_documented_nominal_range(
        capsys, tmp_path, values, dtype, lo, hi):
    x = values.astype(dtype)
    np.save(tmp_path / "in.npy", x)
    status, _, err = run(capsys, "pool", tmp_path / "in.npy", "--window", "1",
                         "--scale", "clip", "-o", tmp_path / "o.png")
    assert status == 0, err
    np.testing.assert_array_equal(pixels(tmp_path / "o.png"),
                                  clip_to_8bit(x.astype(float), lo, hi))


# --- item 4: robust scaling --------------------------------------------------

@pytest.fixture
def photo(tmp_path):
    """A 40x48 grey picture: smooth shading, an edge, one hot pixel."""
    y, x = np.mgrid[0:40, 0:48]
    img = 60 + 2 * x + y
    img[:, 30:] -= 50
    img[20, 10] = 255
    path = tmp_path / "photo.png"
    Image.fromarray(img.astype(np.uint8)).save(path)
    return path, img.astype(np.uint8)


def test_item4_auto_draws_edges_signed_robust(capsys, tmp_path, photo):
    path, img = photo
    out = tmp_path / "lap.png"
    status, _, err = run(capsys, "filter", path, "-k", "laplacian",
                         "-o", out)
    assert status == 0, err
    result = convpool.filter2d(img, kernels.laplacian())
    np.testing.assert_array_equal(pixels(out), robust_signed_to_8bit(result))
    # The hot pixel no longer greys out the rest: more contrast than max|v|.
    run(capsys, "filter", path, "-k", "laplacian", "--scale", "signed",
        "-o", tmp_path / "max.png")
    assert pixels(out).std() > 1.5 * pixels(tmp_path / "max.png").std()


def test_item4_demo_task4_kernel_is_drawn_minmax_robust(capsys, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 18, 3)).astype(np.uint8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", CHANNELS_KERNEL)
    out = tmp_path / "o.png"
    status, _, err = run(capsys, "filter", tmp_path / "x.npy", "-k",
                         tmp_path / "k.npy", "-o", out)
    assert status == 0, err
    result = convpool.conv2d(x[None], CHANNELS_KERNEL[..., None],
                             padding="same")[0, :, :, 0]
    np.testing.assert_array_equal(pixels(out), robust_minmax_to_8bit(result))


def test_item4_robust_falls_back_to_the_maximum_when_mostly_flat(
        capsys, tmp_path):
    x = np.zeros((20, 20))
    x[10, 10] = 1.0                        # 99.5th percentile of |v| is 0
    np.save(tmp_path / "x.npy", x)
    assert run(capsys, "pool", tmp_path / "x.npy", "--window", "1",
               "--scale", "signed-robust", "-o", tmp_path / "o.png")[0] == 0
    got = pixels(tmp_path / "o.png")
    assert got[10, 10] == 255 and (np.delete(got.ravel(), 210) == 128).all()


# --- item 6: python -m convpool ----------------------------------------------

def test_item6_python_m_convpool_runs_the_command(tmp_path):
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "convpool", "--version"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"convpool {convpool.__version__}"
    np.save(tmp_path / "x.npy", ramp())
    done = subprocess.run([sys.executable, "-m", "convpool", "pool",
                           str(tmp_path / "x.npy"), "--window", "2", "-o",
                           str(tmp_path / "o.npy")], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"),
                                  convpool.max_pool2d(ramp()[None, ..., None],
                                                      2)[0, ..., 0])


# --- item 7: errors name the option ------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["filter", "tiny.npy", "-k", "sobel_x", "--padding", "valid", "-o",
      "o.npy"],
     "argument -k/--kernel: kernel 'sobel_x' is 3x3, larger than the 2x2 "
     "input with --padding valid (2x2)"),
    (["filter", "batch.npy", "-k", "sobel_x", "--padding", "100000", "-o",
      "o.npy"],
     "argument --padding: 100000 on the 12x10 input gives 200010x200008 "
     "results"),
    (["pool", "batch.npy", "--window", "2", "--padding", "100000", "-o",
      "o.npy"],
     "argument --padding: 100000 gives ((100000, 100000), (100000, 100000)); "
     "pooling needs less padding than --window 2,2 on every side"),
    (["pool", "batch.npy", "--window", "3,2", "--padding", "1,2", "-o",
      "o.npy"],
     "argument --padding: 1,2 gives ((1, 1), (2, 2)); pooling needs less "
     "padding than --window 3,2"),
    (["pool", "batch.npy", "--window", "13", "-o", "o.npy"],
     "argument --window: the window is 13x13, larger than the 12x10 input "
     "with --padding valid (12x10)"),
    (["animate", "tiny.npy", "-k", "box:3", "--padding", "valid", "-o",
      "a.gif"],
     "argument -k/--kernel: kernel 'box:3' is 3x3, larger than the 2x2 input"),
])
def test_item7_library_errors_name_the_option_and_the_size(
        capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    np.save("tiny.npy", np.ones((2, 2)))
    np.save("batch.npy", np.ones((5, 12, 10)))
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert message in err and err.count("\n") == 1
    assert "memory; try a smaller batch" not in err
    assert "`" not in err                  # no library argument names


def test_item7_in_user_words_maps_every_backticked_name():
    from convpool.cli.errors import in_user_words
    assert in_user_words("`stride` must be >= 1, got (0, 2)") == (
        "argument --stride: must be >= 1, got (0, 2)")
    assert in_user_words("`padding` (3, 3) must be smaller than `window` "
                         "(2, 2)") == ("argument --padding: (3, 3) must be "
                                       "smaller than --window (2, 2)")
    assert in_user_words("plain", what="kernel 'x'") == "kernel 'x': plain"


# --- item 10: .npz kernels ---------------------------------------------------

def test_item10_npz_kernels(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.random.default_rng(3).random((3, 9, 8))
    k = np.array([[1.0, 2.0], [-3.0, 0.5]])
    np.save("x.npy", x)
    np.savez("one.npz", w=k)
    np.savez("two.npz", a=np.ones((3, 3)), b=k)
    want = convpool.conv2d(x[..., None], k[:, :, None, None],
                           padding="same")[..., 0]
    assert run(capsys, "filter", "x.npy", "-k", "one.npz",
               "-o", "1.npy")[0] == 0
    # One picture of 3 channels goes through filter2d, whose paths sum the
    # taps in another order than conv2d's: equal within rounding.
    np.testing.assert_allclose(np.load("1.npy"), want, rtol=0, atol=1e-14)
    assert run(capsys, "filter", "x.npy", "-k", "two.npz", "--kernel-key",
               "b", "-o", "2.npy")[0] == 0
    np.testing.assert_allclose(np.load("2.npy"), want, rtol=0, atol=1e-14)
    status, _, err = run(capsys, "filter", "x.npy", "-k", "two.npz",
                         "-o", "3.npy")
    assert status == 2 and ("argument --kernel-key: 'two.npz' holds 2 arrays "
                            "(a, b); pick one with --kernel-key") in err
    (tmp_path / "k.txt").write_text("1 0 -1")
    status, _, err = run(capsys, "filter", "x.npy", "-k", "k.txt",
                         "-o", "4.npy")
    assert status == 2
    assert ("argument -k/--kernel: 'k.txt' is not a NumPy .npy/.npz file; -k "
            "takes a kernel name") in err


# --- item 11: batch grids are enlarged ---------------------------------------

def test_item11_small_tiles_are_enlarged_nearest_neighbour(capsys, tmp_path):
    x = np.random.default_rng(4).random((36, 28, 28))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "grid.png"
    assert run(capsys, "pool", tmp_path / "x.npy", "--window", "1",
               "--scale", "clip", "-o", out)[0] == 0
    got = pixels(out)
    f = 4                                  # 28 * 4 = 112 >= 112
    side = 6 * (28 * f + 2) - 2
    assert got.shape == (side, side)
    for i in (0, 7, 35):
        r, c = divmod(i, 6)
        tile = got[r * (28 * f + 2):r * (28 * f + 2) + 28 * f,
                   c * (28 * f + 2):c * (28 * f + 2) + 28 * f]
        want = np.kron(clip_to_8bit(x[i], 0, 1), np.ones((f, f), np.uint8))
        np.testing.assert_array_equal(tile, want)
    assert run(capsys, "pool", tmp_path / "x.npy", "--window", "1",
               "--no-upscale", "-o", out)[0] == 0
    assert pixels(out).shape == (6 * 30 - 2, 6 * 30 - 2)


def test_item11_big_grids_stay_within_the_limit():
    from convpool.cli.render import GRID_LIMIT, tile
    sheet = tile(np.zeros((64, 60, 50, 1), np.uint8))
    assert max(sheet.shape) <= GRID_LIMIT
    assert sheet.shape[0] > 8 * 60         # still enlarged (by 2)


# --- item 12: the contact sheet ----------------------------------------------

def test_item12_contact_sheet_has_full_rows_and_whole_titles(
        capsys, tmp_path, monkeypatch):
    import matplotlib.figure
    import matplotlib.text
    from convpool.cli.commands.demo import TASKS
    saved = {}
    real = matplotlib.figure.Figure.savefig

    def capture(fig, path, *a, **kw):
        saved[os.path.basename(str(path))] = [
            t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        return real(fig, path, *a, **kw)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", capture)
    assert run(capsys, "demo", "--out", tmp_path / "d")[0] == 0
    texts = saved["contact_sheet.png"]
    for _, title, *_ in TASKS:
        assert title in texts               # on one line, never wrapped
    assert not any("\n" in t for t in texts)
    with Image.open(tmp_path / "d" / "contact_sheet.png") as im:
        width, height = im.size
    assert width > 800 and height < 1.6 * width   # 4 rows of 4, not 7 of 4


def test_item12_pack_leaves_no_gaps_for_the_demo():
    from convpool.cli.render import pack
    cards = [(t, [None] * n) for t, n in
             zip(range(7), [2, 2, 2, 2, 2, 4, 2])]
    rows = pack(cards, 4)
    assert [sum(len(p) for _, p in row) for row in rows] == [4, 4, 4, 4]
    assert sorted(t for row in rows for t, _ in row) == list(range(7))


# --- item 13: progress for one long picture ----------------------------------

def test_item13_one_slow_picture_shows_progress_on_a_terminal(
        capsys, tmp_path, monkeypatch):
    import convpool.cli.commands.filter as filter_command
    x = np.random.default_rng(5).random((200, 50, 3))
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(filter_command, "SLOW_MACS", 0)   # pretend it is slow
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["filter", str(tmp_path / "x.npy"), "-k", "gaussian:5,1",
                 "-k", "sobel_x", "--pad-mode", "reflect",
                 "-o", str(tmp_path / "o.npy")]) == 0
    text = term.getvalue()
    assert "100% 400/400 rows" in text and text.count("\r") > 10
    want = convpool.filter2d(convpool.filter2d(x, kernels.gaussian(5, 1.0),
                                               pad_mode="reflect"),
                             kernels.sobel_x(), pad_mode="reflect")
    np.testing.assert_allclose(np.load(tmp_path / "o.npy"), want,
                               rtol=1e-12, atol=1e-12)


def test_item13_tall_kernels_show_the_time_instead(capsys, tmp_path,
                                                   monkeypatch):
    import convpool.cli.commands.filter as filter_command
    x = np.random.default_rng(5).random((40, 30))
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(filter_command, "SLOW_MACS", 0)
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["filter", str(tmp_path / "x.npy"), "-k", "box:9",
                 "-o", str(tmp_path / "o.npy")]) == 0
    text = term.getvalue()
    assert text.startswith("\rfilter: one picture, ")
    assert re.search(r"multiply-adds [0-9.]+s\n$", text)
    np.testing.assert_allclose(np.load(tmp_path / "o.npy"),
                               convpool.filter2d(x, kernels.box(9)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "edge",
                                  "wrap"])
@pytest.mark.parametrize("padding, stride", [
    ("same", (1, 1)), ("valid", (2, 1)), ("full", (3, 2)),
    (((7, 0), (1, 2)), (1, 1)), (((0, 9), (0, 0)), (2, 2))])
@pytest.mark.parametrize("kernel_shape", [(5, 4), (3, 3, 2), (4, 3, 2, 3)])
def test_item13_bands_equal_the_whole_picture(mode, padding, stride,
                                              kernel_shape, monkeypatch):
    from convpool.cli import convolve
    from convpool.cli.convolve import apply_kernel, apply_kernel_in_bands
    monkeypatch.setattr(convolve, "BAND_HALO_RATIO", 0)   # many thin bands

    class Count:
        rows = 0

        def update(self, n):
            self.rows += n
    rng = np.random.default_rng(6)
    x = rng.random((1, 61, 17, 2))
    k = rng.standard_normal(kernel_shape)
    count = Count()
    got = apply_kernel_in_bands(x, k, padding, stride, mode, count)
    want = apply_kernel(x, k, padding, stride, mode)
    assert got.shape == want.shape and count.rows == want.shape[1]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_item13_fast_pictures_and_pipes_show_nothing(capsys, tmp_path):
    np.save(tmp_path / "x.npy", ramp())
    status, _, err = run(capsys, "filter", tmp_path / "x.npy", "-k",
                         "gaussian:201", "-o", tmp_path / "o.npy")
    assert status == 0 and err == ""


# --- item 14: SciPy, PyTorch and OpenCV border names -------------------------

@pytest.mark.parametrize("alias, numpy_mode", [
    ("mirror", "reflect"), ("grid-mirror", "symmetric"), ("nearest", "edge"),
    ("grid-wrap", "wrap"), ("replicate", "edge"), ("circular", "wrap"),
    ("zeros", "constant"), ("BORDER_REFLECT", "symmetric")])
def test_item14_pad_mode_aliases(capsys, tmp_path, alias, numpy_mode):
    x = np.random.default_rng(7).random((2, 9, 7))
    np.save(tmp_path / "x.npy", x)
    assert run(capsys, "filter", tmp_path / "x.npy", "-k", "box:3",
               "--pad-mode", alias, "-o", tmp_path / "a.npy")[0] == 0
    want = np.stack([convpool.conv2d(
        np.pad(img, 1, mode=numpy_mode)[None, ..., None],
        np.full((3, 3, 1, 1), 1 / 9))[0, ..., 0] for img in x])
    np.testing.assert_allclose(np.load(tmp_path / "a.npy"), want,
                               rtol=1e-12, atol=1e-12)


def test_item14_unknown_pad_mode_lists_the_names(capsys, tmp_path):
    np.save(tmp_path / "x.npy", ramp())
    status, _, err = run(capsys, "filter", tmp_path / "x.npy", "-k", "box",
                         "--pad-mode", "bounce", "-o", tmp_path / "o.npy")
    assert status == 2
    assert ("argument --pad-mode: expected constant, reflect, symmetric, "
            "edge, wrap or an alias (zeros, ") in err


# --- the layout of cli/ ------------------------------------------------------

def _relative_imports(path, package):
    """Modules of convpool.cli a file imports (relative names resolved)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = package.split(".")
            base = parts[:len(parts) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("convpool.cli")}


def _cli_modules():
    modules = {}
    for folder, package in ((CLI, "convpool.cli"),
                            (os.path.join(CLI, "commands"),
                             "convpool.cli.commands")):
        for name in os.listdir(folder):
            if name.endswith(".py"):
                stem = name[:-3]
                full = package if stem == "__init__" else f"{package}.{stem}"
                pkg = package
                modules[full] = _relative_imports(os.path.join(folder, name),
                                                  pkg)
    return modules


def test_cli_is_cut_by_command_without_cycles():
    from convpool.cli import COMMANDS
    modules = _cli_modules()
    commands = {f"convpool.cli.commands.{c}" for c in COMMANDS}
    assert commands <= set(modules)
    for command in commands:
        assert not (modules[command] & (commands - {command})), command
    for shared, imports in modules.items():
        if shared.startswith("convpool.cli.commands") or shared in (
                "convpool.cli", "convpool.cli.__main__"):
            continue
        assert not any(m.startswith("convpool.cli.commands") for m in imports)

    def visit(module, path):
        assert module not in path, " -> ".join(path + [module])
        for m in modules.get(module, ()):
            if m in modules and m != "convpool.cli":
                visit(m, path + [module])
    for module in modules:
        visit(module, [])


@pytest.mark.parametrize("name", ["demo", "filter", "pool", "animate",
                                  "kernels"])
def test_every_command_module_keeps_the_interface(name):
    import argparse
    import importlib
    module = importlib.import_module(f"convpool.cli.commands.{name}")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    module.add_parser(sub)
    assert sub.choices[name].get_default("func") is module.run
