"""A first run on a short history: a clear verdict, not ``KeyError: 'draw'``."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_ops.decisioning.decide import NotEnoughHistory, curves_as_of


def test_no_response_curves_at_all_is_not_enough_history() -> None:
    """The forecasts wrote no curve table yet (too few days): decide says so, early."""
    with pytest.raises(NotEnoughHistory, match="not enough history"):
        curves_as_of(pd.DataFrame())
