"""CSV the product writes is opened in spreadsheets: a text cell that starts like a formula
(``=``, ``+``, ``-``, ``@``, or a tab / carriage return before one) would be run by Excel or
Google Sheets. Such cells are written with a leading ``'`` (OWASP's advice on CSV injection),
which spreadsheets show as text; numbers are left as they are.

Campaign names, UTM tags and free text come from outside (ads exports, CRM), so every CSV
export goes through :func:`spreadsheet_safe`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["escape_formula", "spreadsheet_safe"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """``'`` before a text value that a spreadsheet would read as a formula; else the value."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with formula-looking text cells escaped (column names too)."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(escape_formula)
    safe.columns = [escape_formula(str(c)) for c in safe.columns]
    return safe
