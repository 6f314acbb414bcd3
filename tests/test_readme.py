"""Every example in README.md runs: the Python blocks as written, the
``convpool ...`` shell lines on small files made here, and the documented
mistakes print exactly the documented line.  So do the examples in every
command's ``--help``.  New examples are picked up without touching this
file."""

import os
import re
import shlex

import numpy as np
import pytest

from convpool.cli import build_parser, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, re.M | re.S)


def python_blocks():
    return [code for lang, code in BLOCKS if lang == "python"]


def shell_commands():
    """``convpool ...`` lines of the sh blocks, as argument lists."""
    found = []
    for lang, code in BLOCKS:
        if lang not in ("sh", "bash", "console"):
            continue
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["convpool"]:
                found.append(words[1:])
    return found


def documented_mistakes():
    """``$ convpool ...`` lines of plain blocks and the line printed after."""
    found = []
    for lang, code in BLOCKS:
        lines = code.splitlines()
        for i, line in enumerate(lines[:-1]):
            if lang == "" and line.startswith("$ convpool "):
                found.append((shlex.split(line[2:])[1:], lines[i + 1]))
    return found


def help_examples():
    """The ``convpool ...`` lines under ``examples:`` in every --help."""
    parser = build_parser()
    texts = [parser.format_help()] + [
        p.format_help() for p in parser._subparsers._group_actions[0]
        .choices.values()]
    found = []
    for text in texts:
        block = text.partition("\nexamples:\n")[2]
        for line in block.splitlines():
            # A command, then maybe two spaces and what it does.
            command = re.split(r"\s{2,}", line.strip())[0]
            argv = shlex.split(command)[1:]
            if command.startswith("convpool ") and argv not in found:
                found.append(argv)
    # Those the README shows too are run once, by test_shell_example.
    return [argv for argv in found if argv not in shell_commands()]


@pytest.fixture
def example_files(tmp_path, monkeypatch):
    """The files the examples name, small: a photo, the spec's two .npz
    files, a batch and an .npz of kernels."""
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    monkeypatch.chdir(tmp_path)
    photo = rng.integers(0, 256, (240, 260, 3), dtype=np.uint8)
    Image.fromarray(photo).save("photo.jpg")
    np.savez("MNIST.npz", X_train=rng.random((6, 28, 28)).astype(np.float32),
             Y_train=rng.integers(0, 10, 6))
    np.savez("animals_1.npz",
             data=rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8))
    np.save("batch.npy", rng.random((4, 12, 10)))
    np.savez("kernels.npz", edges=np.array([[1.0, 0.0, -1.0]] * 3))
    np.save("kernels.npy", rng.standard_normal((3, 3, 3, 2)))
    np.savez("k.npz", k=np.ones((2, 2)))
    return tmp_path


def test_the_readme_has_examples_of_each_kind():
    assert python_blocks() and shell_commands() and documented_mistakes()
    assert len(help_examples()) > 10


@pytest.mark.parametrize("code", python_blocks())
def test_python_example(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


@pytest.mark.parametrize("argv", shell_commands(),
                         ids=lambda a: " ".join(a)[:50])
def test_shell_example(argv, example_files, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "error" not in err


@pytest.mark.parametrize("argv", help_examples(),
                         ids=lambda a: " ".join(a)[:50])
def test_help_example(argv, example_files, capsys, monkeypatch):
    status = main(argv)
    _, err = capsys.readouterr()
    assert status == 0, err


@pytest.mark.parametrize("argv, line", documented_mistakes(),
                         ids=lambda a: " ".join(a)[:50] if isinstance(
                             a, list) else "")
def test_documented_mistake(argv, line, example_files, capsys):
    status = main(argv)
    _, err = capsys.readouterr()
    assert status == 2
    assert err == line + "\n"


def test_local_links_and_pictures_exist():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" not in target:
            assert os.path.exists(os.path.join(ROOT, target)), target
