"""Shared fixtures. Statistical tests use fixed seeds; their tolerances are derived in place."""

import os

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(__file__), "..", "build",
                                                      "numba-cache"))
