"""The archive keeps exactly the bytes that were read, checked by reading the copy back."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketing_ops.signals.ingest import files
from marketing_ops.signals.ingest.files import archive_copy
from marketing_ops.signals.ingest.read import file_hash


@pytest.mark.parametrize("size", [0, 1, 5, 8, 9, 16, 17])
def test_holds_tells_equal_from_changed_shorter_and_longer(
    size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk edges included (8-byte chunks here): a byte changed anywhere, a missing or an
    extra byte at the end all fail the check."""
    monkeypatch.setattr(files, "_VERIFY_CHUNK", 8)
    data = bytes(range(size))
    stored = tmp_path / "copy"
    stored.write_bytes(data)
    assert files._holds(stored, data)
    for changed in (
        *(data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :] for i in range(size)),
        data[:-1] if size else b"x",
        data + b"\n",
    ):
        assert not files._holds(stored, changed)


def test_a_copy_that_reads_back_different_is_an_error(
    home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the stored file does not read back as the bytes read, archiving fails (the file
    is then quarantined or left in the inbox, never loaded from a bad copy)."""
    data = b"Day,Campaign\n2026-01-01,x\n"
    real_replace = files.os.replace

    def corrupting_replace(source, target):
        Path(source).write_bytes(data.replace(b"x", b"y"))
        real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", corrupting_replace)
    with pytest.raises(OSError, match="does not match the bytes read"):
        archive_copy(home, "google_ads", data, file_hash(data), "google_ads_2026-01-01.csv")


def test_an_identical_stored_copy_is_kept_and_a_different_one_rewritten(home) -> None:
    data = b"Day,Campaign\n2026-01-01,x\n"
    target = archive_copy(home, "google_ads", data, file_hash(data), "g.csv")
    assert target.read_bytes() == data
    target.write_bytes(data.replace(b"x", b"z"))  # same size, other bytes
    assert archive_copy(home, "google_ads", data, file_hash(data), "g.csv") == target
    assert target.read_bytes() == data
