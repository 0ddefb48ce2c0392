"""The decision batch asset's metadata: the latest batch, with links to the earlier ones
agent.decisions keeps (pure helpers; the asset itself is in tests/governance)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from marketing_ops.defs.decisions.assets import _earlier_batches, _earlier_markdown


def _kept() -> pd.DataFrame:
    rows = [
        ("d1", "B-1", date(2026, 3, 1), "2026-03-01 08:00", "v1"),
        ("d2", "B-1", date(2026, 3, 1), "2026-03-01 08:00", "v1"),
        ("d3", "B-2", date(2026, 3, 1), "2026-03-01 09:30", "v2"),  # same day, re-decided
        ("d4", "B-3", date(2026, 3, 2), "2026-03-02 08:00", "v2"),
    ]
    frame = pd.DataFrame(
        rows, columns=["decision_id", "batch_id", "as_of", "created_at", "policy_version"]
    )
    return frame.assign(created_at=pd.to_datetime(frame["created_at"]))


def test_earlier_batches_newest_first_with_their_runs() -> None:
    earlier = _earlier_batches(_kept(), {"B-1": "run-one", "B-3": "run-three"}, latest="B-3")
    assert earlier["batch_id"].tolist() == ["B-2", "B-1"]
    assert earlier["actions"].tolist() == [1, 2]
    assert earlier["run_id"].tolist() == ["", "run-one"]


def test_markdown_links_each_run_and_names_the_export() -> None:
    earlier = _earlier_batches(_kept(), {"B-1": "0123456789abcdef"}, latest="B-3")
    text = _earlier_markdown(earlier)
    assert (
        "| `B-1` | 2026-03-01 | 2026-03-01 08:00 | 2 | v1 | [01234567](/runs/0123456789abcdef) |"
        in text
    )
    assert "| `B-2` | 2026-03-01 | 2026-03-01 09:30 | 1 | v2 | - |" in text
    assert "marketing-ops decisions --batch <batch>" in text


def test_first_batch_says_so() -> None:
    assert "first one" in _earlier_markdown(_earlier_batches(pd.DataFrame(), {}, "B-1"))
    only = _kept()[lambda f: f["batch_id"] == "B-1"]
    assert "first one" in _earlier_markdown(_earlier_batches(only, {}, "B-1"))
