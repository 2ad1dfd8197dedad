"""The `pitchroom` command: thin subcommands over the core (front doors are imported lazily)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.config import DIFFICULTIES, ROUNDS
from agent.errors import PitchroomError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except PitchroomError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _app():
    from agent.session import Pitchroom

    return Pitchroom()


def cmd_company(args: argparse.Namespace) -> int:
    app = _app()
    if args.action == "list":
        for pack in app.companies():
            print(f"{pack.id:24} {pack.name:28} {pack.role}")
    elif args.action == "show":
        pack = app.packs.get(args.ref)
        who = pack.interviewer
        print(f"{pack.name} ({pack.id})\nRole: {pack.role}\nInterviewer: {who.name}, {who.title}, {who.age}\n"
              f"  {who.background}\nSections: {', '.join(s.title for s in pack.sections)}\nFile: {pack.path}")
    else:
        pack, stats = app.add_company(Path(args.ref))
        print(f"Added {pack.id} ({pack.name}): {stats['added']} chunks embedded, {stats['kept']} unchanged, "
              f"{stats['removed']} removed.")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    app = _app()
    sid = args.session or app.start(args.company, round_name=args.round, difficulty=args.difficulty)
    s = app.store.session(sid)
    print(f"Session {sid}: {s['company_name']}, {s['role']}. Type /end to finish, /next ROUND for a later round.")
    while True:
        try:
            line = input("\nyou> ")
        except EOFError:
            break
        if line.strip() == "/end":
            break
        if line.startswith("/next"):
            app.next_round(sid, line.split()[1] if len(line.split()) > 1 else "second")
            continue
        try:
            print("manager> ", end="", flush=True)
            for piece in app.say(sid, line):
                print(piece, end="", flush=True)
            print()
        except PitchroomError as exc:  # keep the chat going: the line was stored, /retry is possible
            print(f"\n[{exc}]")
    app.end(sid)
    print(f"\nSession {sid} saved. Critique it with: pitchroom critique {sid}")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    for s in _app().store.list_sessions(args.limit):
        print(f"{s['id']}  {s['created_at'][:16]}  {s['company_id']:22} {s['status']:7} {s['role']}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    text = _app().export(args.session).model_dump_json(indent=2)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_critique(args: argparse.Namespace) -> int:
    from agent.report import render_text

    app = _app()
    critique = app.critique(args.ref)
    print(critique.model_dump_json(indent=2) if args.json else render_text(critique))
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from agent.local_model import default_model_path
    from agent.config import Settings

    print(f"Model ready: {default_model_path(Settings.from_env())}")
    return 0


def cmd_front(args: argparse.Namespace) -> int:
    """ui / serve / eval / bench live outside the core; import them only when asked for."""
    if args.cmd == "ui":
        from ui.web import main as run
    elif args.cmd == "serve":
        from ui.api import main as run
    elif args.cmd == "eval":
        from evals.runner import main as run
    else:
        from bench.run import main as run
    return run(args) or 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pitchroom", description="Rehearse a job interview as a sales call.")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("company", help="list, show or add company research packs")
    c.add_argument("action", choices=["list", "show", "add"])
    c.add_argument("ref", nargs="?", help="pack id or path (show), file (add)")
    c.set_defaults(func=cmd_company)
    ch = sub.add_parser("chat", help="an interview in the terminal")
    ch.add_argument("--company", default="northwind-robotics")
    ch.add_argument("--round", choices=ROUNDS, default="screen")
    ch.add_argument("--difficulty", choices=DIFFICULTIES, default="realistic")
    ch.add_argument("--session", help="resume a session by id")
    ch.set_defaults(func=cmd_chat)
    ls = sub.add_parser("sessions", help="list sessions")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_sessions)
    ex = sub.add_parser("export", help="a session as JSON")
    ex.add_argument("session")
    ex.add_argument("--out")
    ex.set_defaults(func=cmd_export)
    cr = sub.add_parser("critique", help="judge a session (id) or an export file as a sales call")
    cr.add_argument("ref")
    cr.add_argument("--json", action="store_true")
    cr.set_defaults(func=cmd_critique)
    sub.add_parser("setup", help="assemble and verify the embedded model").set_defaults(func=cmd_setup)
    _front_parsers(sub)
    return p


def _front_parsers(sub) -> None:
    for name, default_port in (("ui", 7860), ("serve", 8080)):
        f = sub.add_parser(name, help="web UI" if name == "ui" else "web UI + HTTP API")
        f.add_argument("--host", default="127.0.0.1")
        f.add_argument("--port", type=int, default=default_port)
        f.add_argument("--workers", type=int, default=1)
        f.add_argument("--share", action="store_true", help="ask Gradio for a public link (off by default)")
        f.set_defaults(func=cmd_front)
    ev = sub.add_parser("eval", help="run scripted candidates and score the critic")
    ev.add_argument("paths", nargs="+")
    ev.add_argument("--out", required=True)
    ev.add_argument("--concurrency", type=int, default=1)
    ev.add_argument("--repeat", type=int, default=1)
    ev.add_argument("--model")
    ev.add_argument("--simulate", action="store_true")
    for metric in ("macro-f1", "verdict-accuracy", "persona-adherence", "grounding", "stability"):
        ev.add_argument(f"--min-{metric}", type=float)
    ev.set_defaults(func=cmd_front)
    b = sub.add_parser("bench", help="run benchmarks")
    b.add_argument("name", nargs="?")
    b.add_argument("--quick", action="store_true", help="smaller sizes, for CI")
    b.set_defaults(func=cmd_front)


if __name__ == "__main__":
    sys.exit(main())
