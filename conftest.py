"""pytest configuration shared by tests/ and the doctests in src/convpool.

The Dask backend's doctests need the ``dask`` extra; without it they are
not collected (the tests that need Dask skip themselves), so the core
suite runs on NumPy alone.
"""

try:
    import dask.array  # noqa: F401
except ImportError:
    collect_ignore = ["src/convpool/backends/dask.py"]
