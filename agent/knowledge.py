"""Chunks packs by heading, embeds them and retrieves facts from Chroma (embedded or server)."""
from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from agent.config import Settings
from agent.errors import StoreError
from agent.packs import Pack

RELEVANT_DISTANCE = 0.45  # measured on MiniLM-int8: true answers sit below, unrelated questions above 0.55
STOP = set("""about above after again also an and any are because been before being between both but can
could did does doing down during each few from further had has have having here how into its just like
more most much need other our out over own same should some such than that the their them then there
these they this those through under until very want was were what when where which while who whom why
will with would your yours you company team role work working job really thing things tell know plan plans
many biggest best good great going think look looks make kind sort lot right now today year""".split())
CHUNK_WORDS = 40  # one or two sentences: a small model uses a short, precise fact; a long chunk it ignores
CHUNK_CHARS = CHUNK_WORDS * 6  # the splitter counts characters: about six per English word
INGEST_BATCH = 256  # chunks per Chroma add: bounds one embedding call's memory


@dataclass
class Chunk:
    """One retrievable passage of a pack."""

    id: str
    pack_id: str
    section: str
    text: str
    distance: float = 1.0  # cosine distance to the query (lower is nearer)
    overlap: int = 0  # content words shared with the query

    @property
    def relevant(self) -> bool:
        """Close enough to answer from: shares a content word, or is semantically very near."""
        return self.overlap >= 1 or self.distance < RELEVANT_DISTANCE


def chunk_pack(pack: Pack) -> list[Chunk]:
    """Split each section into paragraph-aligned chunks of about CHUNK_WORDS words."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=0,
                                              separators=["\n\n", "\n", ". ", " "])
    chunks = []
    for section in pack.sections:
        for piece in splitter.split_text(section.text):
            digest = hashlib.sha1(f"{section.title}\n{piece}".encode()).hexdigest()[:16]
            chunks.append(Chunk(f"{pack.id}:{digest}", pack.id, section.title, piece.strip()))
    return chunks


class KnowledgeBase:
    """Pack chunks in one Chroma collection named after the embedding model."""

    def __init__(self, settings: Settings, embedding_function=None) -> None:
        from agent.embeddings import EMBEDDING_MODEL_NAME, get_embedding_function

        with _opening(settings):
            self.client = _client(settings)
            self.collection = self.client.get_or_create_collection(
                f"pitchroom-{EMBEDDING_MODEL_NAME}", embedding_function=embedding_function or get_embedding_function(),
                metadata={"hnsw:space": "cosine"})

    def ingest(self, pack: Pack) -> dict[str, int]:
        """Embed only chunks whose content changed; drop chunks that disappeared."""
        chunks = {c.id: c for c in chunk_pack(pack)}
        have = set(self.collection.get(where={"pack_id": pack.id}, include=[])["ids"])
        new = [c for cid, c in chunks.items() if cid not in have]
        stale = sorted(have - chunks.keys())
        if stale:
            self.collection.delete(ids=stale)
        for start in range(0, len(new), INGEST_BATCH):
            batch = new[start:start + INGEST_BATCH]
            self.collection.add(ids=[c.id for c in batch], documents=[c.text for c in batch],
                                metadatas=[{"pack_id": c.pack_id, "section": c.section} for c in batch])
        return {"added": len(new), "removed": len(stale), "kept": len(chunks) - len(new)}

    def retrieve(self, pack_id: str, query: str, k: int = 3) -> list[Chunk]:
        """The k passages of one pack nearest to the query, semantic hits reranked by shared words."""
        if not query.strip():
            return []
        res = self.collection.query(query_texts=[query[:2000]], n_results=k + 2, where={"pack_id": pack_id})
        words = content_words(query)
        hits = [Chunk(i, m["pack_id"], m["section"], d, dist, len(words & content_words(d)))
                for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                         res["distances"][0])]
        hits += self._lexical(pack_id, words, {h.id for h in hits})
        return sorted(hits, key=lambda c: (-c.overlap, c.distance))[:k]

    def _lexical(self, pack_id: str, words: set[str], seen: set[str]) -> list[Chunk]:
        """Chunks sharing the most content words with the query: catches names MiniLM misses."""
        if not words:
            return []
        got = self.collection.get(where={"pack_id": pack_id}, include=["documents", "metadatas"])
        scored = [Chunk(i, m["pack_id"], m["section"], d, 1.0, len(words & content_words(d)))
                  for i, d, m in zip(got["ids"], got["documents"], got["metadatas"]) if i not in seen]
        return sorted((c for c in scored if c.overlap), key=lambda c: -c.overlap)[:2]

    def count(self, pack_id: str) -> int:
        """How many chunks a pack has in the store."""
        return len(self.collection.get(where={"pack_id": pack_id}, include=[])["ids"])


def content_words(text: str) -> set[str]:
    """Lower-cased content words cut to five letters, so `employees` meets `employs`."""
    return {w[:5] for w in re.findall(r"[a-z0-9$%.]{3,}", text.lower()) if w not in STOP and not w.isdigit()} | \
        set(re.findall(r"\d[\d.,]*", text))


@contextlib.contextmanager
def _opening(settings: Settings) -> Iterator[None]:
    """A lock across processes while embedded Chroma is opened: two API workers creating the same
    fresh database at once make one of them fail ("table collections already exists")."""
    from filelock import FileLock, Timeout

    if settings.chroma_host:
        yield
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.data_dir / "chroma.open.lock")
    try:
        lock.acquire(timeout=120)
    except Timeout as exc:
        raise StoreError(f"Another process has been opening {settings.data_dir / 'chroma'} for 120 s; stop it, "
                         "or give this one its own PITCHROOM_DATA_DIR.") from exc
    try:
        yield
    finally:
        lock.release()


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_host:
        return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
    try:
        probe(settings.chroma_host, settings.chroma_port)
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        client.heartbeat()
        return client
    except Exception as exc:  # chromadb raises several types for a dead server; all mean the same here
        raise StoreError(f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                         f"({type(exc).__name__}). Start it with `chroma run`, or unset CHROMA_HOST "
                         "to use embedded Chroma.") from exc


def probe(host: str, port: int, timeout: float = 5.0) -> None:
    """Fail fast when the server does not answer: chromadb's HTTP client waits forever (timeout=None)."""
    import urllib.request

    with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=timeout):
        pass
