"""Small hand-made signal files for the ingest tests."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from marketing_ops.config import DataHome

PII_KEY = b"test-pii-key"
DAY = datetime.now(UTC).date() - timedelta(days=10)
PREV = DAY - timedelta(days=1)

GOOGLE_HEADER = (
    "Day,Campaign ID,Campaign,Impressions,Clicks,Cost,Conversions,Conv. value,Currency code"
)


def google_rows(day: date, n: int = 2, cost: float = 120.5) -> list[str]:
    """n valid Google Ads rows for one day."""
    return [
        f"{day.isoformat()},90000001{i:02d},SEARCH | brand {i},1000,50,{cost},3,240.0,EUR"
        for i in range(n)
    ]


def google_csv(day: date, n: int = 2, cost: float = 120.5) -> str:
    return "\n".join([GOOGLE_HEADER, *google_rows(day, n, cost)]) + "\n"


def drop(home: DataHome, source: str, name: str, content: str | bytes) -> Path:
    """Put a complete file in the inbox: later drops get later mtimes, as a real export
    would, all in the past (a file modified within the settle time is still being written)."""
    folder = home.source_inbox(source)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    stamp = datetime.now().timestamp() - 3600 + len(list(folder.iterdir()))
    os.utime(path, (stamp, stamp))
    return path
