"""JAX's compiled programs kept on disk between processes.

A fit's first seconds in a fresh process go to compiling: numpyro runs the model once eagerly
to find its sites and a valid starting point, and JAX compiles each of those few hundred small
operations. Measured on a 50-week, 3-channel fit (300 + 300 draws x 2 chains): 485 compiles,
21 s of a 30 s fit; a second fit in the same process took 3 s. JAX's persistent cache keeps the
compiled programs on disk, so the same shapes in a later process (the next `mmm fit` of a file,
a re-run of a day, another test worker) load them instead of compiling. JAX caches only compiles
that took over a second by default, which leaves every one of these out: the thresholds are 0.

Where: ``JAX_COMPILATION_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/marketing_ops/jax``
(``~/.cache/marketing_ops/jax``); ``MARKETING_OPS_JAX_CACHE=off`` turns it off. JAX decides
whether to use a cache at the process's first compile, so this runs when the model's package
is imported. The folder is kept under ``MAX_BYTES`` here, oldest programs first, once per
process. JAX's own bound (``jax_compilation_cache_max_size``) is left off: it lists and reads
the whole folder on every write, so beside a few thousand programs a cold fit's 450 writes
cost more than the compiles (measured: 59.6 s against 30.1 s beside 2,300 programs).
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_BYTES = 512 * 2**20


def cache_dir() -> Path | None:
    """The folder compiled programs go to (None: the cache is off)."""
    if os.environ.get("MARKETING_OPS_JAX_CACHE", "").lower() in {"off", "0", "false", "no"}:
        return None
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "marketing_ops" / "jax"


def use_compile_cache() -> Path | None:
    """Point JAX at the cache folder (before any compile in this process); returns it."""
    import jax

    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: fits still run, they compile as before
        return None
    prune(path)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def prune(path: Path, max_bytes: int = MAX_BYTES) -> int:
    """Delete the oldest files until the folder holds at most 3/4 of ``max_bytes`` (when it
    holds more than ``max_bytes``); returns how many were deleted. A program deleted while
    another process reads it is compiled again there."""
    files = []
    for entry in os.scandir(path):
        try:
            if entry.is_file():
                stat = entry.stat()
                files.append((stat.st_mtime, stat.st_size, entry.path))
        except OSError:  # removed meanwhile
            continue
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return 0
    deleted = 0
    for _, size, name in sorted(files):
        if total <= max_bytes * 3 // 4:
            break
        try:
            os.remove(name)
        except OSError:
            continue
        total -= size
        deleted += 1
    return deleted
