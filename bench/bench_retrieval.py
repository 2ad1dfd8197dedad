"""retrieval: Chroma query latency (p50/p95) and ingest throughput at 1k, 10k and 100k chunks.

Both modes Pitchroom supports: embedded (PersistentClient in a temp folder) and server (`chroma run` on
loopback, the venv's own chromadb). Queries go through KnowledgeBase.retrieve, the interviewer's code
path: the query text is embedded with the real int8 MiniLM model, then searched within one pack.
At the smallest size ingest embeds every chunk (the real `company add` cost). For the larger sizes,
embedding 100k chunks would take minutes per mode, so their embeddings are computed once, cached under
data_dir/bench-cache, and passed to Chroma: those rows measure Chroma's own ingest rate.
"""
from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from agent.config import ROOT, Settings
from agent.errors import StoreError
from agent.knowledge import CHUNK_CHARS, INGEST_BATCH
from bench.common import CANDIDATE_LINES, bench_settings, machine_info, percentile, temp_dir, write_result

NAME = "retrieval"
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
PACKS = 50  # chunks are spread over this many pack ids; a query searches one pack, as retrieve() does


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, queries: int = 100,
        modes: tuple[str, ...] = ("embedded", "server"), out_dir: Path | None = None) -> dict[str, Any]:
    """Measure every (mode, size) and write bench/results/retrieval.json."""
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    texts = corpus(max(sizes))
    vectors = cached_embeddings(texts[:max(sizes)]) if max(sizes) > min(sizes) else None
    rows = [_measure(mode, n, texts, vectors[:n] if vectors is not None and n > min(sizes) else None, queries)
            for mode in modes for n in sizes]
    largest = {r["mode"]: r for r in rows if r["chunks"] == max(sizes)}
    result = {
        "query_p50_ms": {m: r["query_p50_ms"] for m, r in largest.items()},
        "query_p95_ms": {m: r["query_p95_ms"] for m, r in largest.items()},
        "ingest_chunks_per_s": {f"{r['mode']}/{r['chunks']}": r["ingest_chunks_per_s"] for r in rows},
        "largest_size": max(sizes), "rows": rows, "quick": quick, "machine": machine_info("minilm-l6-int8 (ONNX)"),
        "method": f"{queries} queries per row through KnowledgeBase.retrieve (k=3, one pack of {PACKS}); ingest in "
                  f"batches of {INGEST_BATCH}; rows with embeddings_precomputed=true pass cached embeddings to Chroma",
    }
    e, s = largest.get("embedded"), largest.get("server")
    parts = [f"{m} p50/p95 {r['query_p50_ms']:.1f}/{r['query_p95_ms']:.1f} ms" for m, r in (("embedded", e),
                                                                                              ("server", s)) if r]
    write_result(NAME, result, f"query latency at {max(sizes):,} chunks: " + "; ".join(parts) +
                 f"; ingest with embedding {rows[0]['ingest_chunks_per_s']:.0f} chunks/s", out_dir)
    return result


def corpus(n: int) -> list[str]:
    """n distinct chunks shaped like chunk_pack's: two real pack sentences, cut at its character limit."""
    sentences = [s for p in sorted((ROOT / "knowledge/companies").glob("*.md"))
                 for s in re.split(r"(?<=[.!?])\s+", p.read_text(encoding="utf-8").split("\n---\n", 1)[-1])
                 if len(s.split()) > 5 and not s.startswith("#")]
    rng = random.Random(7)
    return [(f"Company {i % 997} note {i}: " + " ".join(rng.sample(sentences, 2)))[:CHUNK_CHARS] for i in range(n)]


def cached_embeddings(texts: list[str], block: int = 5_000) -> np.ndarray:
    """Embeddings of `texts` with the real embedding function, computed once in blocks cached on disk
    (an interrupted run keeps its finished blocks)."""
    from agent.embeddings import get_embedding_function

    folder = Settings.from_env().data_dir / "bench-cache"
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, len(texts), block):
        chunk = texts[start:start + block]
        path = folder / f"emb-{hashlib.sha1(chr(10).join(chunk).encode()).hexdigest()[:16]}.npy"
        if not path.is_file():
            began = time.perf_counter()
            vectors = np.asarray(get_embedding_function()(chunk), dtype=np.float32)
            np.save(path.with_suffix(".partial.npy"), vectors)
            path.with_suffix(".partial.npy").replace(path)
            print(f"{NAME}: embedded chunks {start}-{start + len(chunk)} of {len(texts)} at "
                  f"{len(chunk) / (time.perf_counter() - began):.0f}/s (cached in {folder})",
                  file=sys.stderr, flush=True)
        parts.append(np.load(path))
    return np.concatenate(parts)


def _measure(mode: str, n: int, texts: list[str], vectors: np.ndarray | None, queries: int) -> dict[str, Any]:
    from agent.knowledge import KnowledgeBase

    with temp_dir(f"{NAME}-{mode}") as tmp:
        server = ChromaServer(Path(tmp) / "server") if mode == "server" else None
        try:
            host, port = (server.start(), server.port) if server else (None, None)
            kb = KnowledgeBase(bench_settings(Path(tmp), quick=True, chroma_host=host, chroma_port=port))
            ingest_s = _ingest(kb, texts[:n], vectors)
            latencies = _query(kb, queries)
        finally:
            if server:
                server.stop()
    return {"mode": mode, "chunks": n, "ingest_s": round(ingest_s, 2), "ingest_chunks_per_s": round(n / ingest_s, 1),
            "embeddings_precomputed": vectors is not None, "queries": len(latencies),
            "query_p50_ms": round(percentile(latencies, 50), 2), "query_p95_ms": round(percentile(latencies, 95), 2)}


def _ingest(kb, texts: list[str], vectors: np.ndarray | None) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), INGEST_BATCH):
        ids = range(i, min(i + INGEST_BATCH, len(texts)))
        batch = {"ids": [f"c{j}" for j in ids], "documents": texts[i:i + INGEST_BATCH],
                 "metadatas": [{"pack_id": f"pack-{j % PACKS}", "section": "bench"} for j in ids]}
        if vectors is not None:
            batch["embeddings"] = vectors[i:i + INGEST_BATCH]
        kb.collection.add(**batch)
    return time.perf_counter() - start


def _query(kb, n: int) -> list[float]:
    kb.retrieve("pack-0", CANDIDATE_LINES[0])  # warm-up: loads the embedding model, opens the index
    rng, out = random.Random(11), []
    for i in range(n):
        start = time.perf_counter()
        hits = kb.retrieve(f"pack-{rng.randrange(PACKS)}", CANDIDATE_LINES[i % len(CANDIDATE_LINES)])
        out.append(1000 * (time.perf_counter() - start))
        assert hits, "retrieval returned nothing"
    return out


class ChromaServer:
    """`chroma run` from this venv on a free loopback port, stopped when the row is done."""

    def __init__(self, path: Path) -> None:
        self.path, self.port, self.proc = path, 0, None

    def start(self, timeout: float = 60) -> str:
        from agent.knowledge import probe
        from agent.local_model import free_port

        self.port = free_port()
        exe = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                probe("127.0.0.1", self.port, timeout=2)
                return "127.0.0.1"
            except OSError:
                if self.proc.poll() is not None:
                    raise StoreError(f"chroma run exited with code {self.proc.returncode}; try `chroma run` by hand.")
                time.sleep(0.2)
        self.stop()
        raise StoreError(f"chroma run did not answer within {timeout:.0f}s on port {self.port}.")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
