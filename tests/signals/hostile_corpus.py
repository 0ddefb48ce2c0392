"""A hostile inbox: 40+ broken or awkward files over several sources and days, each with the
outcome it must get, written by one small builder.

Every row of ``corpus()`` is one file: where it goes, its bytes, and its documented outcome:
the file-log status (or ``ignored`` / ``waiting`` / ``unknown folder`` for files that must
stay in the inbox), its loaded and rejected rows, and ``present``: how many of its rows are
still in the raw table once the whole corpus has loaded (the rest were replaced, by key, by a
later file). Files are written in table order with increasing mtimes, so "later" is "below".
"""

from __future__ import annotations

import gzip
import json
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from signal_samples import DAY, GOOGLE_HEADER

from marketing_ops.config import DataHome
from marketing_ops.signals import IngestLimits

D, P, P2 = DAY, DAY - timedelta(days=1), DAY - timedelta(days=2)
WINDOW = (DAY - timedelta(days=3), DAY)
# Small limits so each bound is met by a small file (the defaults are in the gigabytes).
LIMITS = IngestLimits(
    max_file_bytes=4 << 20,
    max_rows=5_000,
    max_field_bytes=64 << 10,
    max_columns=200,
    max_name_length=150,
    settle_seconds=600,  # files dropped an hour ago are settled; one written now is not
)
META_HEADER = (
    "date_start,date_stop,account_id,campaign_id,campaign_name,adset_id,ad_id,impressions,"
    "clicks,spend,account_currency"
)
DEALS_HEADER = "Deal ID,Contact Email,Create Date,Deal Stage,Amount,Currency,Close Date"
CONTACTS_HEADER = (
    "Contact ID,Email,Phone,Segment,Email Consent,Ads Consent,Unsubscribed,Create Date"
)
EMAIL_HEADER = "event_id,timestamp,event_type,email,message_id,campaign_id,content_id"
OFFLINE_HEADER = (
    "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency"
)
ASSETS_HEADER = "asset_id,version,title,body,topic,format,channel_fit,compliance_status,brand_safe,regulated_claim,created_at"


@dataclass(frozen=True)
class CorpusFile:
    source: str  # the inbox folder
    name: str
    content: bytes
    status: (
        str  # loaded | superseded | duplicate | quarantined | ignored | waiting | unknown folder
    )
    loaded: int = 0
    rejected: int = 0
    present: int | None = None  # rows left after the whole corpus (default: all it loaded)
    reason: str = ""  # in the quarantine error file (or every reject reason)
    symlink: bool = False  # dropped as a symlink to a file outside the inbox
    fresh: bool = False  # modified just now: still being written

    @property
    def rows_left(self) -> int:
        return self.loaded if self.present is None else self.present


def lines(*rows: str, encoding: str = "utf-8", end: str = "\n") -> bytes:
    return (end.join(rows) + end).encode(encoding)


def ads(day: date, *campaigns: int, cost: float = 10.0, currency: str = "EUR") -> list[str]:
    return [f"{day},{c},SEARCH | c{c},1000,50,{cost},2,40.0,{currency}" for c in campaigns]


def google(day: date, *campaigns: int, cost: float = 10.0) -> bytes:
    return lines(GOOGLE_HEADER, *ads(day, *campaigns, cost=cost))


def meta(day: date, *ads_: tuple[str, float]) -> bytes:
    rows = [f"{day},{day},act_1,c1,PROSPECTING,s1,{ad},5000,80,{spend},EUR" for ad, spend in ads_]
    return lines(META_HEADER, *rows)


def email(*events: tuple[str, date, str]) -> bytes:
    rows = [
        f"{eid},{day}T09:00:00Z,{kind},ana@example.com,m1,em-1,A001" for eid, day, kind in events
    ]
    return lines(EMAIL_HEADER, *rows)


def ga4(day: date, *users: str, broken: bool = False) -> bytes:
    stamp = int(time.mktime(day.timetuple())) * 1_000_000
    events = [
        json.dumps({
            "event_date": day.strftime("%Y%m%d"), "event_timestamp": stamp + i * 1_000_000,
            "event_name": "page_view", "user_pseudo_id": user,
            "event_params": [{"key": "ga_session_id", "value": {"int_value": 7}}],
        })
        for i, user in enumerate(users)
    ]  # fmt: skip
    return lines(*events, *(['{"event_name": "page_vi'] if broken else []))


@cache  # bytes only: built once per session (the gzip bomb takes a few seconds)
def corpus() -> tuple[CorpusFile, ...]:
    g = "google_ads"
    bomb = gzip.compress(lines(GOOGLE_HEADER, *ads(D, *range(10**6, 10**6 + 120_000))))
    gz_ok = gzip.compress(google(P2, 901, 902))
    long_name = "google_ads_" + D.isoformat() + "_" + "x" * 220 + ".csv"
    wide = ",".join([GOOGLE_HEADER, *(f"extra{i}" for i in range(250))])
    many = lines(GOOGLE_HEADER, *ads(P2, *range(5_000_000, 5_006_000)))
    big_cell = f"{D},777,{'y' * (100 << 10)},1000,50,1.0,0,0,EUR"
    return (
        # ---- many files for one source and day: different campaigns accumulate
        CorpusFile(g, f"google_ads_{D}_search.csv", google(D, 101, 102), "superseded", 2, present=0),
        CorpusFile(g, f"google_ads_{D}_display.csv", google(D, 201, 202), "loaded", 2, present=1),
        *(CorpusFile(g, f"google_ads_{D}_part{i}.csv", google(D, 400 + i), "loaded", 1) for i in range(1, 7)),
        CorpusFile(g, f"google_ads_{D}_video.csv", lines(GOOGLE_HEADER, *ads(D, 301), f"{D},302,x,lots,1,1,0,0,EUR"), "loaded", 1, 1, reason="int:"),
        # ---- a re-export supersedes exactly the keys it carries
        CorpusFile(g, f"google_ads_{D}_search_v2.csv", google(D, 101, 102, cost=11.5), "loaded", 2),
        CorpusFile(g, f"google_ads_{D}_display_fix.csv", google(D, 202, cost=99.0), "loaded", 1),
        # ---- same bytes again under another name
        CorpusFile(g, f"google_ads_{D}_display_copy.csv", google(D, 201, 202), "duplicate"),
        # ---- awkward but readable
        CorpusFile(g, f"google_ads_{P2}_excel.csv", lines(GOOGLE_HEADER, f"{P2},903,Caf\u00e9 cr\u00e8me \u2013 \u20ac,10,1,1.0,0,0,EUR", encoding="cp1252"), "loaded", 1),
        CorpusFile(g, f"google_ads_{P2}_utf16.csv", "\n".join([GOOGLE_HEADER, *ads(P2, 904)]).encode("utf-16"), "loaded", 1),
        CorpusFile(g, f"google_ads_{P2}_crlf.csv", lines(GOOGLE_HEADER, *ads(P2, 905), end="\r\n"), "loaded", 1),
        CorpusFile(g, f"google_ads_{P2}.csv.gz", gz_ok, "loaded", 2),
        CorpusFile(g, f"google_ads_{P2}_formulas.csv", lines(GOOGLE_HEADER, f'{P2},906,"=HYPERLINK(""http://x"")",10,1,1.0,0,0,EUR', f"{P2},907,+cmd|' /C calc'!A0,10,1,1.0,0,0,EUR"), "loaded", 2),
        CorpusFile(g, f"google_ads_{P2}_header_only.csv", lines(GOOGLE_HEADER), "loaded", 0),
        CorpusFile(g, f"google_ads_{P2}_empty_currency.csv", lines(GOOGLE_HEADER, *ads(P2, 908), *ads(P2, 909, currency="")), "loaded", 1, 1, reason="currency missing"),
        CorpusFile(g, f"google_ads_{P}_link.csv", google(P, 501), "loaded", 1, symlink=True),
        # ---- poison beside good files of another day
        CorpusFile(g, f"google_ads_{P}.csv", google(P, 601, 602), "loaded", 2),
        CorpusFile(g, f"google_ads_{P}_huge_field.csv", lines(GOOGLE_HEADER, *ads(P, 603), big_cell), "quarantined", reason="field larger than the limit"),
        CorpusFile(g, f"google_ads_{D}_bomb.csv.gz", bomb, "quarantined", reason="larger than the limit"),
        CorpusFile(g, long_name, google(D, 701), "quarantined", reason="file name longer than"),
        CorpusFile(g, f"google_ads_{P2}_wide.csv", lines(wide, *(r + ",0" * 250 for r in ads(P2, 910))), "quarantined", reason="columns, over the limit"),
        CorpusFile(g, f"google_ads_{P2}_many_rows.csv", many, "quarantined", reason="more than 5000 rows"),
        CorpusFile(g, f"google_ads_{P2}_dup_header.csv", lines(GOOGLE_HEADER + ",Clicks", *(r + ",9" for r in ads(P2, 911))), "quarantined", reason="duplicated header name"),
        CorpusFile(g, f"google_ads_{P2}_truncated.csv.gz", gz_ok[:-20], "quarantined", reason="gzip"),
        CorpusFile(g, f"google_ads_{P2}_junk.csv", bytes(range(256)) * 4, "quarantined", reason="binary"),
        CorpusFile(g, f"google_ads_{P2}_empty.csv", b"", "quarantined", reason="empty file"),
        CorpusFile(g, f"google_ads_{P2}_blank.csv", b"\n \n\t\n", "quarantined", reason="empty file"),
        CorpusFile(g, f"google_ads_{P2}_no_clicks.csv", lines("Day,Campaign ID,Campaign,Cost", f"{P2},912,x,1.0"), "quarantined", reason="required column missing"),
        # ---- not complete: left in the inbox
        CorpusFile(g, f"google_ads_{D}.csv.tmp", google(D, 801), "ignored"),
        CorpusFile(g, f"google_ads_{D}.csv.part", google(D, 802), "ignored"),
        CorpusFile(g, f"~$google_ads_{D}.csv", google(D, 803), "ignored"),
        CorpusFile(g, f".google_ads_{D}.csv", google(D, 804), "ignored"),
        CorpusFile(g, f"google_ads_{D}_growing.csv", google(D, 805), "waiting", fresh=True),
        CorpusFile("tiktok_ads", f"tiktok_ads_{D}.csv", google(D, 806), "unknown folder"),
        # ---- other sources
        CorpusFile("meta_ads", f"meta_ads_{D}.csv", meta(D, ("a1", 5.0), ("a2", 6.0), ("a3", 7.0)), "loaded", 3, present=2),
        CorpusFile("meta_ads", f"meta_ads_{D}_fix.csv", meta(D, ("a2", 6.5)), "loaded", 1),
        CorpusFile("meta_ads", f"meta_ads_{P}.json", json.dumps({"data": [{"date_start": str(P), "account_id": "act_1", "campaign_id": "c1", "adset_id": "s1", "ad_id": "a9", "impressions": "10", "clicks": "1", "spend": "1.0", "account_currency": "EUR"}]}).encode(), "loaded", 1),
        CorpusFile("meta_ads", f"meta_ads_{P2}.json", b'{"data": [{"date_start": ', "quarantined", reason="invalid JSON"),
        CorpusFile("email_events", f"email_events_{P2}_to_{D}.csv", email(("e1", P2, "send"), ("e2", P2, "open"), ("e3", P, "send"), ("e4", P, "open"), ("e5", D, "send"), ("e6", D, "click")), "loaded", 6, present=5),
        CorpusFile("email_events", f"email_events_{P}.csv", email(("e3", P, "send"), ("e7", P, "send"), ("e8", P, "open")), "loaded", 3),
        CorpusFile("crm_deals", f"crm_deals_{D}.csv", lines(DEALS_HEADER, f"W1,ana@example.com,{D} 10:00:00,Closed Won,100,EUR,{D}", f"W2,bo@example.com,{D} 10:00:00,Closed Won,50,EUR,{P}", f"W3,cy@example.com,{P} 10:00:00,Closed Lost,0,EUR,{D} 12:00:00"), "loaded", 2, 1, reason="created_at > closed_at"),
        CorpusFile("crm_contacts", f"crm_contacts_{D}.csv", lines(CONTACTS_HEADER, f"C1,ana@example.com,,M\u00fcller GmbH,true,true,false,{D} 08:00:00", encoding="latin-1"), "loaded", 1),
        CorpusFile("ga4", f"ga4_{D}.jsonl", ga4(D, "u1", "u2", "u3", broken=True), "superseded", 3, 1, present=0, reason="invalid JSON"),
        CorpusFile("ga4", f"ga4_{D}_reexport.jsonl", ga4(D, "u1", "u2", "u3"), "loaded", 3),
        CorpusFile("ga4", f"ga4_{P}_nested.jsonl", ga4(P, "u4") + b"[" * 200_000 + b"\n", "quarantined", reason="RecursionError"),
        CorpusFile("offline_conversions", f"offline_conversions_{D}.csv", lines(OFFLINE_HEADER, f"Cj1,won,{D} 10:00:00,5,EUR", f"Cj2,won,{D} 11:00:00,5,"), "loaded", 1, 1, reason="currency missing"),
        CorpusFile("content_assets", f"content_assets_{D}.csv", lines(ASSETS_HEADER, f"A001,1,T,B,t,f,email,approved,true,false,{D} 00:00:00", f"A001,2,T2,B,t,f,email,approved,true,false,{D} 00:00:00"), "loaded", 2),
    )  # fmt: skip


def build(home: DataHome, outside: Path) -> list[CorpusFile]:
    """Write the corpus into ``home``'s inbox (symlinked files' targets under ``outside``),
    an hour old and one second apart in table order; fresh files modified now."""
    files = corpus()
    start = time.time() - 3600
    for i, f in enumerate(files):
        folder = home.source_inbox(f.source)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f.name
        if f.symlink:
            target = outside / f.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.content)
            path.symlink_to(target)
            os.utime(target, (start + i, start + i))
            continue
        path.write_bytes(f.content)
        stamp = time.time() if f.fresh else start + i
        os.utime(path, (stamp, stamp))
    return files
