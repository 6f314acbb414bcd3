"""convpool's benchmark suite (never imported by the tests)."""
