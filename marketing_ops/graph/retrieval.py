"""Content retrieval for personalisation: which assets answer an audience's intent.

Two ways to match text, one result shape:

* ``fts`` (default, always available): Kùzu's full-text index over each asset's
  ``search_text`` (title, body, topic), ranked by BM25.
* ``semantic`` (the optional extra): cosine similarity of all-MiniLM-L6-v2 sentence
  embeddings, searched in Kùzu's vector index. Finds "cheaper subscription" in "see what you
  save when you switch plans", where no word is shared.

An audience's intent is either given as text or read from the graph: the titles and topics
of the assets it clicked most. With an audience, results are limited to assets it may receive
on the channel (the same eligibility as :func:`.queries.eligible_candidates`).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from marketing_ops.graph.embeddings import Embedder, SemanticUnavailable, load_embedder
from marketing_ops.graph.queries import GraphReader, eligible_candidates
from marketing_ops.graph.schema import FTS_INDEX, VECTOR_INDEX

__all__ = [
    "RETRIEVAL_COLUMNS",
    "assets_for_audience",
    "audience_intent",
    "search_assets",
]

RETRIEVAL_COLUMNS = [
    "asset_id",
    "version",
    "title",
    "topic",
    "format",
    "readiness",
    "score",
    "method",
]
Method = Literal["fts", "semantic"]

_FTS = f"""
CALL QUERY_FTS_INDEX('ContentAsset', '{FTS_INDEX}', $query, conjunctive := false, top := $top)
WITH node AS a, score
WHERE a.is_current
RETURN a.asset_id AS asset_id, a.version AS version, a.title AS title, a.topic AS topic,
       a.format AS format, a.readiness AS readiness, score
ORDER BY score DESC, asset_id
"""

_VECTOR = f"""
CALL QUERY_VECTOR_INDEX('ContentAsset', '{VECTOR_INDEX}', $vector, $top)
WITH node AS a, distance
WHERE a.is_current
RETURN a.asset_id AS asset_id, a.version AS version, a.title AS title, a.topic AS topic,
       a.format AS format, a.readiness AS readiness, 1.0 - distance AS score
ORDER BY score DESC, asset_id
"""

_ASSETS = "MATCH (a:ContentAsset) RETURN count(a) AS n"

_INTENT = """
MATCH (:Audience {audience_id: $audience})-[e:RESPONDS_TO]->(a:ContentAsset)
WHERE e.clicks > 0
RETURN a.title AS title, a.topic AS topic, e.clicks AS clicks, e.ctr AS ctr
ORDER BY clicks DESC, ctr DESC, title
LIMIT $top
"""


def audience_intent(reader: GraphReader, audience_id: str, top: int = 3) -> str:
    """What an audience responds to, as text: topics and titles of the assets it clicked
    most. Empty when it clicked nothing yet."""
    rows = reader.frame(_INTENT, {"audience": audience_id, "top": int(top)})
    if rows.empty:
        return ""
    topics = list(dict.fromkeys(str(t).replace("_", " ") for t in rows["topic"]))
    return ". ".join([*topics, *rows["title"].astype(str)])


def _ranked(
    reader: GraphReader, text: str, method: Method, top: int, embedder: Embedder | None
) -> pd.DataFrame:
    reader.load_extensions()
    if method == "fts":
        return reader.frame(_FTS, {"query": text, "top": int(top)})
    if method != "semantic":
        raise ValueError(f"method: expected 'fts' or 'semantic', got {method!r}")
    if VECTOR_INDEX not in reader.indexes():
        raise SemanticUnavailable(
            "this graph has no embeddings: install the semantic extra "
            "(pip install -c constraints.txt -e '.[semantic]') and rebuild graph/knowledge_graph"
        )
    model = embedder or load_embedder()
    vector = [float(x) for x in model.encode([text])[0]]
    return reader.frame(_VECTOR, {"vector": vector, "top": int(top)})


def search_assets(
    reader: GraphReader,
    text: str,
    *,
    method: Method = "fts",
    k: int = 10,
    allowed: set[str] | None = None,
    embedder: Embedder | None = None,
) -> pd.DataFrame:
    """The ``k`` current assets that best match ``text``, best first, optionally only among
    ``allowed`` asset ids. ``score`` is BM25 (fts) or cosine similarity (semantic)."""
    if not text.strip():
        raise ValueError("search text is empty")
    total = int(reader.frame(_ASSETS)["n"].iloc[0])
    top = max(k * 5, 50)
    while True:
        # Over-fetch, then filter: the index ranks every version and every asset.
        found = _ranked(reader, text, method, min(top, max(total, 1)), embedder)
        if allowed is not None:
            found = found[found["asset_id"].isin(allowed)]
        if len(found) >= k or top >= total:
            break
        top *= 4
    found = found.drop_duplicates("asset_id").head(k).assign(method=method)
    return found[RETRIEVAL_COLUMNS].reset_index(drop=True) if len(found) else _empty()


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=RETRIEVAL_COLUMNS)


def assets_for_audience(
    reader: GraphReader,
    audience_id: str,
    *,
    intent: str | None = None,
    channel: str = "email",
    method: Method = "fts",
    k: int = 10,
    exclude_seen: bool = False,
    embedder: Embedder | None = None,
) -> pd.DataFrame:
    """Assets for an audience's intent that it may receive on ``channel``, best match first.

    ``intent`` defaults to :func:`audience_intent` (what it clicked most); ``exclude_seen``
    drops assets it was already sent, to find something new in the same vein. Consent,
    suppression, channel and asset policies and readiness apply as for candidates; the
    frequency cap does not (this is about what suits, not whether to send today).
    """
    text = intent if intent is not None else audience_intent(reader, audience_id)
    if not text.strip():
        raise ValueError(
            f"audience {audience_id!r} has no clicks to read an intent from: give one as text"
        )
    eligible = eligible_candidates(reader, channel, audiences=(audience_id,))
    if exclude_seen:
        eligible = eligible[eligible["sends"] == 0]
    allowed = set(eligible["asset_id"])
    if not allowed:
        return _empty()
    return search_assets(reader, text, method=method, k=k, allowed=allowed, embedder=embedder)
