"""Chunks packs by heading, embeds them and retrieves facts from Chroma (embedded or server)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agent.config import Settings
from agent.errors import StoreError
from agent.packs import Pack

CHUNK_WORDS = 90  # a few sentences: small enough to be precise, big enough to carry context


@dataclass
class Chunk:
    """One retrievable passage of a pack."""

    id: str
    pack_id: str
    section: str
    text: str


def chunk_pack(pack: Pack) -> list[Chunk]:
    """Split each section into paragraph-aligned chunks of about CHUNK_WORDS words."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_WORDS * 6, chunk_overlap=0,
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
        for start in range(0, len(new), 256):
            batch = new[start:start + 256]
            self.collection.add(ids=[c.id for c in batch], documents=[c.text for c in batch],
                                metadatas=[{"pack_id": c.pack_id, "section": c.section} for c in batch])
        return {"added": len(new), "removed": len(stale), "kept": len(chunks) - len(new)}

    def retrieve(self, pack_id: str, query: str, k: int = 3) -> list[Chunk]:
        """The k passages of one pack nearest to the query."""
        if not query.strip():
            return []
        res = self.collection.query(query_texts=[query[:2000]], n_results=k, where={"pack_id": pack_id})
        return [Chunk(i, m["pack_id"], m["section"], d)
                for i, d, m in zip(res["ids"][0], res["documents"][0], res["metadatas"][0])]

    def count(self, pack_id: str) -> int:
        """How many chunks a pack has in the store."""
        return len(self.collection.get(where={"pack_id": pack_id}, include=[])["ids"])


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_host:
        return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
    try:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        client.heartbeat()
        return client
    except Exception as exc:  # chromadb raises several types for a dead server; all mean the same here
        raise StoreError(f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                         f"({type(exc).__name__}). Start it with `chroma run`, or unset CHROMA_HOST "
                         "to use embedded Chroma.") from exc
