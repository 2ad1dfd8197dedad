"""`pitchroom bench [NAME] [--quick]`: run one benchmark or all of them, one stdout line each."""
from __future__ import annotations

import argparse
import importlib
import sys

from agent.errors import PitchroomError

BENCHMARKS = ("overhead", "first_token", "context", "retrieval", "critique", "eval_throughput")


def main(args: argparse.Namespace | list[str] | None = None) -> int:
    """Run the named benchmark (or all); return 0 when every one produced its figures."""
    if not isinstance(args, argparse.Namespace):
        args = _parser().parse_args(args)
    names = [args.name] if getattr(args, "name", None) else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark {unknown[0]!r}; choose one of {', '.join(BENCHMARKS)}.", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        try:
            module.run(quick=bool(getattr(args, "quick", False)))
        except PitchroomError as exc:  # say what is missing and go on with the others
            print(f"{name}: not measured: {exc}", flush=True)
            failed += 1
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.run")
    p.add_argument("name", nargs="?", choices=BENCHMARKS)
    p.add_argument("--quick", action="store_true")
    return p


if __name__ == "__main__":
    sys.exit(main())
