"""JAX's persistent compilation cache (forecasting.mmm.compile_cache): where it goes, how it is
turned off, and that importing the model's package points JAX at it before anything compiles."""

from __future__ import annotations

import os
from pathlib import Path

import jax

from marketing_ops.forecasting.mmm import compile_cache


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("MARKETING_OPS_JAX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.cache_dir() == tmp_path / "xdg" / "marketing_ops" / "jax"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
    assert compile_cache.cache_dir() == tmp_path / "mine"  # JAX's own variable wins
    monkeypatch.setenv("MARKETING_OPS_JAX_CACHE", "off")
    assert compile_cache.cache_dir() is None
    assert compile_cache.use_compile_cache() is None


def test_importing_the_model_points_jax_at_the_cache() -> None:
    """Every compile is kept, however short: a fit's compiles take ~40 ms each."""
    expected = compile_cache.cache_dir()
    if expected is None:  # the run turned the cache off
        assert jax.config.jax_compilation_cache_dir in (None, "")
        return
    assert Path(jax.config.jax_compilation_cache_dir) == expected
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    assert jax.config.jax_persistent_cache_min_entry_size_bytes == 0
    # JAX's own bound re-reads the folder on every write: ours prunes once per process
    assert jax.config.jax_compilation_cache_max_size == -1


def test_prune_keeps_the_folder_under_its_bound_newest_first(tmp_path) -> None:
    for i in range(10):
        f = tmp_path / f"program-{i}-cache"
        f.write_bytes(b"x" * 100)
        os.utime(f, (1_000 + i, 1_000 + i))
    assert compile_cache.prune(tmp_path, max_bytes=2_000) == 0  # under the bound: untouched
    assert compile_cache.prune(tmp_path, max_bytes=800) == 4  # down to 3/4 of it
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"program-{i}-cache" for i in range(4, 10)
    ]
