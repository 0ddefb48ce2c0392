"""Knowledge graph benchmark: build time and candidate-query latency at scale.

    .venv/bin/python benchmarks/bench_graph.py [--assets 10000] [--audiences 200]
        [--channels 10] [--queries 60] [--semantic-assets 0]

Generates mart-shaped inputs (seeded) and measures, in one process:

* build: a full build into an empty database, an incremental build of the next day (a
  realistic daily delta: every audience's size, a sixth of the audiences' engagement, 1% of
  assets re-versioned), an incremental build with nothing changed, and a full rebuild of that
  next day. Baseline: loading the same input frames into a fresh DuckDB file.
* queries: eligible candidates for one audience on email (p50/p95 over ``--queries``
  audiences), all audiences at once, and a BM25 content search. Baseline: the same
  candidate question answered by SQL over the same frames in DuckDB.
* ``--semantic-assets N`` (needs the semantic extra): embedding N assets with the real
  model, and semantic search latency.

Prints one table; ratios are against the same-run baseline (the machine is noisy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from marketing_ops.graph import (
    ContentRules,
    GraphInputs,
    GraphReader,
    build_graph,
    eligible_candidates,
    search_assets,
)

TOPICS = ("pricing", "product_tour", "case_study", "seasonal_sale", "onboarding", "loyalty",
          "webinar", "sustainability", "security", "integration")  # fmt: skip
WORDS = ("save", "plan", "team", "report", "launch", "forecast", "budget", "garden", "cloud",
         "secure", "partner", "growth", "guide", "webinar", "member", "discount")  # fmt: skip


def make_inputs(n_assets: int, n_audiences: int, n_channels: int, seed: int) -> GraphInputs:
    """Mart-shaped frames of a large catalogue: assets with versions, audiences, channels,
    campaigns, email engagement and campaign content."""
    rng = np.random.default_rng(seed)
    kinds = ["owned"] + ["paid"] * max(n_channels - 4, 1) + ["earned"] * 3
    channels = pd.DataFrame(
        {
            "channel": ["email"] + [f"paid_{i}" for i in range(len(kinds) - 4)] + ["organic", "direct", "referral"],
            "channel_type": kinds[:n_channels] if len(kinds) >= n_channels else kinds,
        }
    )[:n_channels]  # fmt: skip
    channels["is_paid"] = channels["channel_type"] == "paid"
    sendable = [c for c, k in zip(channels["channel"], channels["channel_type"], strict=True)
                if k != "earned"]  # fmt: skip

    rows = []
    for i in range(n_assets):
        topic = TOPICS[i % len(TOPICS)]
        fit = ["email"] if rng.random() < 0.5 else []
        fit += list(rng.choice(sendable[1:], size=int(rng.integers(1, 3)), replace=False))
        status = rng.choice(["approved", "pending", "rejected"], p=[0.85, 0.1, 0.05])
        versions = 2 if rng.random() < 0.2 else 1
        words = " ".join(rng.choice(WORDS, size=12))
        for v in range(1, versions + 1):
            rows.append(
                (f"A{i:05d}", v, f"{topic.replace('_', ' ').title()} #{i} v{v}",
                 f"{words} {topic.replace('_', ' ')}", topic, "email" if "email" in fit else "banner",
                 "|".join(sorted(set(fit))), str(status) if v == versions else "approved",
                 bool(rng.random() > 0.03), topic == "pricing", "2026-01-01", v == versions)
            )  # fmt: skip
    assets = pd.DataFrame(rows, columns=[
        "asset_id", "version", "title", "body", "topic", "format", "channel_fit",
        "compliance_status", "brand_safe", "regulated_claim", "first_seen_on", "is_current",
    ])  # fmt: skip

    audiences = pd.DataFrame(
        {
            "audience_id": [f"aud_{i:03d}" for i in range(n_audiences)],
            "contacts": rng.integers(500, 50_000, n_audiences),
        }
    )
    audiences["email_consented"] = (
        audiences["contacts"] * rng.uniform(0.3, 0.9, n_audiences)
    ).astype(int)
    audiences["ads_consented"] = (
        audiences["contacts"] * rng.uniform(0.2, 0.8, n_audiences)
    ).astype(int)
    audiences["unsubscribed"] = (audiences["contacts"] * 0.03).astype(int)  # fmt: skip

    email_assets = assets.loc[assets["is_current"] & assets["channel_fit"].str.contains("email"), "asset_id"].to_numpy()  # fmt: skip
    per_audience = min(250, len(email_assets))
    eng = []
    for a in audiences["audience_id"]:
        for asset in rng.choice(email_assets, size=per_audience, replace=False):
            sends = int(rng.integers(50, 2000))
            clicks = int(sends * rng.uniform(0.005, 0.08))
            eng.append((a, asset, "email", sends, int(sends * 0.3), clicks, clicks // 10,
                        pd.Timestamp("2026-11-20") - pd.Timedelta(days=int(rng.integers(0, 60)))))  # fmt: skip
    engagement = pd.DataFrame(eng, columns=["audience_id", "asset_id", "channel", "sends",
                                            "opens", "clicks", "conversions", "last_seen_at"])  # fmt: skip

    campaigns = pd.DataFrame(
        [(f"c{i:04d}", f"Campaign {i} | {sendable[i % len(sendable)]}", "google_ads",
          sendable[i % len(sendable)]) for i in range(500)],
        columns=["campaign_id", "campaign_name", "platform", "channel"],
    )  # fmt: skip
    email_campaigns = campaigns.loc[campaigns["channel"] == "email", "campaign_id"].to_numpy()
    used = pd.DataFrame(
        {
            "campaign_id": rng.choice(email_campaigns, 2000),
            "asset_id": rng.choice(email_assets, 2000),
        }
    ).drop_duplicates()
    used["sends"] = rng.integers(100, 5000, len(used))
    used["first_sent_at"] = pd.Timestamp("2026-10-01")
    used["last_sent_at"] = pd.Timestamp("2026-11-18")
    recent = audiences[["audience_id"]].assign(sends=(audiences["email_consented"] * rng.uniform(0, 1.5, n_audiences)).astype(int))  # fmt: skip
    return GraphInputs(
        dim_audience=audiences,
        content_assets=assets,
        dim_channel=channels,
        dim_campaign=campaigns,
        fct_email_engagement=engagement,
        email_sends_7d=recent,
        campaign_content=used,
        rules=ContentRules(allowed_channels=("email",), version="bench"),
    )


def next_day(inputs: GraphInputs, seed: int) -> GraphInputs:
    """A day later: audiences grew, a sixth of them got an email (engagement and 7-day
    sends change), and 1% of the assets got a new version."""
    rng = np.random.default_rng(seed + 1)
    aud = inputs.dim_audience.copy()
    aud["contacts"] += rng.integers(0, 20, len(aud))
    aud["email_consented"] += rng.integers(0, 10, len(aud))
    mailed = set(rng.choice(aud["audience_id"], len(aud) // 6, replace=False))
    eng = inputs.fct_email_engagement.copy()
    hit = eng["audience_id"].isin(mailed) & (rng.random(len(eng)) < 0.02)
    eng.loc[hit, "sends"] += 100
    eng.loc[hit, "clicks"] += 3
    eng.loc[hit, "last_seen_at"] = pd.Timestamp("2026-11-21")
    recent = inputs.email_sends_7d.copy()
    recent.loc[recent["audience_id"].isin(mailed), "sends"] += 50
    assets = inputs.content_assets.copy()
    current = assets[assets["is_current"]]
    bump = current.sample(frac=0.01, random_state=seed)
    assets.loc[bump.index, "is_current"] = False
    new = bump.assign(version=bump["version"] + 1, title=bump["title"] + " (refreshed)",
                      is_current=True, first_seen_on="2026-11-21")  # fmt: skip
    return GraphInputs(
        dim_audience=aud,
        content_assets=pd.concat([assets, new], ignore_index=True),
        dim_channel=inputs.dim_channel,
        dim_campaign=inputs.dim_campaign,
        fct_email_engagement=eng,
        email_sends_7d=recent,
        campaign_content=inputs.campaign_content,
        rules=inputs.rules,
    )


def duckdb_load(path: Path, inputs: GraphInputs) -> float:
    """Baseline: the same input frames into a fresh DuckDB file."""
    t0 = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        for name in ("dim_audience", "content_assets", "dim_channel", "dim_campaign",
                     "fct_email_engagement", "email_sends_7d", "campaign_content"):  # fmt: skip
            frame = getattr(inputs, name)  # noqa: F841 - DuckDB reads the local frame
            con.execute(f"create table {name} as select * from frame")  # fixed names
    return time.perf_counter() - t0


_SQL_CANDIDATES = """
with reach as (
    select a.audience_id, a.email_consented as consented_size,
           coalesce(r.sends, 0) / a.email_consented as per_contact
    from dim_audience a left join email_sends_7d r using (audience_id)
    where a.email_consented > 0 and a.audience_id = ?
),
assets as (
    select asset_id, version from content_assets
    where is_current and compliance_status = 'approved' and brand_safe
      and coalesce(title, '') <> '' and coalesce(body, '') <> '' and coalesce(topic, '') <> ''
      and list_contains(string_split(channel_fit, '|'), 'email')
)
select r.audience_id, s.asset_id, s.version, r.consented_size,
       coalesce(e.sends, 0) as sends, coalesce(e.clicks, 0) as clicks
from reach r cross join assets s
left join fct_email_engagement e on e.audience_id = r.audience_id and e.asset_id = s.asset_id
where r.per_contact + 1 <= ?
order by s.asset_id
"""


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--audiences", type=int, default=200)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--semantic-assets", type=int, default=0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mo-bench-graph-"))
    t0 = time.perf_counter()
    day1 = make_inputs(args.assets, args.audiences, args.channels, args.seed)
    day2 = next_day(day1, args.seed)
    gen_s = time.perf_counter() - t0
    print(f"inputs: {len(day1.content_assets):,} asset versions, {len(day1.dim_audience)} "
          f"audiences, {len(day1.dim_channel)} channels, {len(day1.fct_email_engagement):,} "
          f"engagement rows (generated in {gen_s:.1f}s); work dir {work}")  # fmt: skip

    rows: list[tuple[str, float, str]] = []
    base_load = duckdb_load(work / "baseline.duckdb", day1)
    rows.append(("baseline: DuckDB load of the inputs", base_load, ""))

    graph = work / "graph" / "g.kuzu"
    full1 = build_graph(graph, day1, as_of="2026-11-20", snapshots=work / "graph" / "snapshots")
    rows.append(("full build (empty database)", full1.seconds, ""))
    inc = build_graph(graph, day2, as_of="2026-11-21", snapshots=work / "graph" / "snapshots")
    rows.append((f"incremental build, next day ({', '.join(inc.changed_tables)})", inc.seconds, ""))
    same = build_graph(graph, day2, as_of="2026-11-21", snapshots=work / "graph" / "snapshots")
    rows.append(("incremental build, nothing changed", same.seconds, ""))
    full2 = build_graph(work / "full2" / "g.kuzu", day2, as_of="2026-11-21", incremental=False)
    rows.append(("full rebuild of the next day", full2.seconds, ""))
    assert inc.counts == full2.counts == inc.expected, "incremental and full builds disagree"
    counts = ", ".join(f"{k} {v:,}" for k, v in full2.counts.items())

    rng = np.random.default_rng(args.seed)
    audiences = list(rng.choice(day2.dim_audience["audience_id"], args.queries))
    graph_lat, sql_lat, sizes = [], [], []
    with GraphReader(graph) as reader, duckdb.connect(str(work / "baseline.duckdb")) as con:
        eligible_candidates(reader, "email", audiences=(audiences[0],), frequency_cap_per_week=2)
        for a in audiences:
            s, found = timed(lambda a=a: eligible_candidates(
                reader, "email", audiences=(a,), frequency_cap_per_week=2))  # fmt: skip
            graph_lat.append(s)
            sizes.append(len(found))
            s, _ = timed(lambda a=a: con.execute(_SQL_CANDIDATES, [a, 2.0]).df())
            sql_lat.append(s)
        all_s, every = timed(lambda: eligible_candidates(reader, "email", frequency_cap_per_week=2))
        fts = []
        for w in rng.choice(WORDS, 30):
            s, _ = timed(lambda w=w: search_assets(reader, f"{w} plan guide", k=10))
            fts.append(s)

    print(f"graph rows (next day): {counts}")
    print(f"snapshot size: {graph.stat().st_size / 1e6:.1f} MB per materialisation")
    print()
    print(f"{'build':58s} {'seconds':>9s} {'x baseline':>11s}")
    for name, s, _ in rows:
        print(f"{name:58s} {s:9.2f} {s / base_load:11.1f}")
    print()
    print(f"{'query (ms)':58s} {'p50':>9s} {'p95':>9s} {'p50 x SQL':>10s}")
    print(f"{'baseline: same candidate question, SQL in DuckDB':58s} "
          f"{1000 * pct(sql_lat, 50):9.1f} {1000 * pct(sql_lat, 95):9.1f} {1.0:10.1f}")  # fmt: skip
    print(f"{f'eligible candidates, one audience (~{int(statistics.median(sizes))} rows)':58s} "
          f"{1000 * pct(graph_lat, 50):9.1f} {1000 * pct(graph_lat, 95):9.1f} "
          f"{pct(graph_lat, 50) / pct(sql_lat, 50):10.1f}")  # fmt: skip
    print(f"{f'eligible candidates, all audiences ({len(every):,} rows, once)':58s} "
          f"{1000 * all_s:9.1f} {'':>9s} {all_s / pct(sql_lat, 50):10.1f}")  # fmt: skip
    print(f"{'content search, BM25 full-text index, top 10':58s} "
          f"{1000 * pct(fts, 50):9.1f} {1000 * pct(fts, 95):9.1f} {pct(fts, 50) / pct(sql_lat, 50):10.1f}")  # fmt: skip

    if args.semantic_assets:
        from marketing_ops.graph import load_embedder

        t0 = time.perf_counter()
        embedder = load_embedder()
        load_s = time.perf_counter() - t0
        small = make_inputs(args.semantic_assets, 20, args.channels, args.seed)
        sem = build_graph(work / "semantic" / "g.kuzu", small, embedder=embedder)
        plain = build_graph(work / "plain" / "g.kuzu", small)
        lat = []
        with GraphReader(work / "semantic" / "g.kuzu") as reader:
            for w in rng.choice(WORDS, 30):
                s, _ = timed(lambda w=w: search_assets(
                    reader, f"{w} for my team", method="semantic", k=10, embedder=embedder))  # fmt: skip
                lat.append(s)
        print()
        print(f"semantic extra: model load {load_s:.1f}s; {sem.embedded} texts embedded, build "
              f"{sem.seconds:.1f}s vs {plain.seconds:.1f}s without embeddings "
              f"({sem.embedded / max(sem.seconds - plain.seconds, 1e-9):.0f} texts/s); "
              f"semantic search p50 {1000 * pct(lat, 50):.1f} ms, p95 {1000 * pct(lat, 95):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
