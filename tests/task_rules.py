"""The course's file rules for standalone task files, read from the source.

Shared by ``test_spec_tasks.py`` (math/convolutions_and_pooling) and
``test_cnn_tasks.py`` (supervised_learning/cnn).  Each ``check_*``
function asserts one rule about the file at ``path``.
"""

import ast
import doctest
import importlib.util
import os
import subprocess
import sys

import pycodestyle

# Loops in disguise: comprehensions and generators are loops; these calls
# run Python code per element.
LOOP_NODES = (ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp,
              ast.DictComp, ast.GeneratorExp)
LOOPING_CALLS = {"map", "filter", "reduce", "iter", "next", "eval", "exec",
                 "compile", "__import__", "vectorize", "frompyfunc",
                 "apply_along_axis", "apply_over_axes", "fromiter",
                 "fromfunction", "nditer", "ndindex", "ndenumerate"}


def load(path, prefix="task_"):
    """Import a task file by path (its name starts with a digit)."""
    name = prefix + path.stem.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def check_shebang(path):
    assert path.read_text().split("\n", 1)[0] == "#!/usr/bin/env python3"


def check_executable(path):
    assert os.access(path, os.X_OK)


def check_ends_with_newline(path):
    assert path.read_bytes().endswith(b"\n")


def check_pycodestyle(path):
    report = pycodestyle.StyleGuide(quiet=True).check_files([str(path)])
    assert report.total_errors == 0


def check_docstrings(path, function):
    """The module and every function have docstrings, in the source and
    through ``__doc__`` after importing (as the course checks them)."""
    t = tree(path)
    assert ast.get_docstring(t)
    functions = [n for n in ast.walk(t) if isinstance(n, ast.FunctionDef)]
    assert functions
    assert all(ast.get_docstring(f) for f in functions)
    mod = load(path)
    assert mod.__doc__.strip()
    assert getattr(mod, function).__doc__.strip()


def check_only_numpy_import(path):
    imports = [n for n in ast.walk(tree(path))
               if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert len(imports) == 1
    (imp,) = imports
    assert isinstance(imp, ast.Import)
    assert [(a.name, a.asname) for a in imp.names] == [("numpy", "np")]


def check_no_np_convolve(path):
    assert not [n for n in ast.walk(tree(path))
                if isinstance(n, ast.Attribute) and n.attr == "convolve"]


def count_fors(node):
    """``for`` statements in ``node``, not counting nested functions'."""
    total = 0
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                              ast.Lambda)):
            continue
        total += isinstance(child, ast.For) + count_fors(child)
    return total


def check_loop_budget(path, budget, per_function=False):
    """At most ``budget`` ``for`` loops in the file (or in each function),
    and no loops in disguise: comprehensions, looping calls, recursion."""
    t = tree(path)
    nodes = list(ast.walk(t))
    functions = [n for n in nodes if isinstance(n, ast.FunctionDef)]
    if per_function:
        assert all(count_fors(f) <= budget for f in functions), \
            [(f.name, count_fors(f)) for f in functions]
    else:
        assert sum(isinstance(n, ast.For) for n in nodes) <= budget
    assert not [type(n).__name__ for n in nodes if isinstance(n, LOOP_NODES)]
    called = set()
    for n in nodes:
        if isinstance(n, ast.Call):
            f = n.func
            called.add(f.id if isinstance(f, ast.Name) else
                       f.attr if isinstance(f, ast.Attribute) else None)
    assert not called & LOOPING_CALLS
    assert not called & {f.name for f in functions}, "recursion"


def check_doctests(path):
    result = doctest.testmod(load(path), verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def check_runs_alone(path, function):
    """The shebang works and the file needs nothing beside it (no
    convpool); importing it by name from its folder gives the docstring."""
    done = subprocess.run([str(path)], cwd="/", capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    done = subprocess.run(
        [sys.executable, "-c",
         f"print(__import__({path.stem!r}).{function}.__doc__)"],
        cwd=path.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
