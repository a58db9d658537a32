"""The ``jiebang`` command: serve, worker, users and tokens, deploy/validate, db upgrade.

Configuration comes from ``JIEBANG_*`` environment variables (see README), so the same
command line works on SQLite and on PostgreSQL. The engine, Flask and the server are imported by
the commands that use them, so ``jiebang --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import DEFAULTS, config_from_env, data_dir, database_url

if TYPE_CHECKING:
    from engine import Engine

UNIT_KINDS = ("county", "town", "department", "village", "community", "office", "company", "team")


def build_engine(args: argparse.Namespace, *, deploy_shipped: bool = True) -> Engine:
    from engine import Engine

    config = config_from_env()
    engine = Engine(
        database_url({"DATABASE_URL": args.database_url or config.get("DATABASE_URL")}),
        lane_groups=config.get("LANE_GROUPS"),
        deploy_shipped=deploy_shipped,
    )
    engine.configure_integration(
        allow_private_webhooks=bool(config.get("WEBHOOK_ALLOW_LOOPBACK")),
        job_lease_seconds=config.get("JOB_LEASE_SECONDS"),
    )
    engine.configure_identity(token_lifetime=config.get("TOKEN_EXPIRES_IN", DEFAULTS["TOKEN_EXPIRES_IN"]))
    engine.configure_notifications(
        base_url=config.get("BASE_URL"),
        due_soon_hours=config.get("NOTIFY_DUE_SOON_HOURS", DEFAULTS["NOTIFY_DUE_SOON_HOURS"]),
    )
    return engine


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: Any) -> None:
        logging.getLogger("jiebang").info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _interval() -> float:
    return float(os.environ.get("JIEBANG_WORKER_INTERVAL", "1.0"))


# ---- serve and worker ---------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    """API + pages on gunicorn (threaded workers) and one job loop per server; SIGTERM stops it gracefully."""
    from . import create_app
    from .server import serve

    engine = build_engine(args)  # migrate and deploy once, before the workers fork
    url = engine.store.url
    first_admin = _first_admin_hint(engine)
    engine.store.dispose()
    config = config_from_env()

    def announce() -> None:
        print(
            f"Jiebang serving on http://{args.host}:{args.port} with {args.workers} gunicorn workers × {args.threads} threads "
            f"(database: {url})",
            flush=True,
        )
        if first_admin:
            print(first_admin, flush=True)

    return serve(
        lambda: build_engine(args),
        lambda engine, secret: create_app(
            {"ENGINE": engine, "SECRET_KEY": config.get("SECRET_KEY") or secret}
        ),
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        interval=_interval(),
        secret_key=config.get("SECRET_KEY"),
        announce=announce,
    )


def _first_admin_hint(engine: Engine) -> str | None:
    """What to run when nobody can administer this server yet (a fresh database), else None."""
    if any("admin" in u.roles for u in engine.list_users(limit=1000) if u.active):
        return None
    prog = sys.argv[0] if sys.argv and Path(sys.argv[0]).name == "jiebang" else "jiebang"
    command = f"{prog} user add admin --role admin --display-name 管理员 --password"
    return (
        "\n还没有管理员账号。请在另一个终端创建第一个管理员（会提示输入密码），然后用它登录：\n"
        "No administrator yet. Create the first one in another terminal (it asks for a password), then log in:\n"
        f"    {command}\n"
    )


def cmd_worker(args: argparse.Namespace) -> int:
    """Job loops alone (timers, deliveries); SIGTERM lets the running jobs finish first."""
    from .worker import start_worker_threads

    engine = build_engine(args)
    stop = threading.Event()
    _stop_on_signals(stop)
    threads = start_worker_threads(engine, stop, count=args.concurrency, interval=_interval())
    print(f"Jiebang worker {engine.worker_id} running {args.concurrency} loop(s)", flush=True)
    stop.wait()
    for t in threads:
        t.join(timeout=60)
    engine.store.dispose()
    return 0


# ---- users and tokens ---------------------------------------------------------------------
def _read_password(confirm: bool = True) -> str:
    import getpass

    from engine import InvalidInputError

    from_env = os.environ.get("JIEBANG_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat password: ") != first:
        raise InvalidInputError("passwords differ", {"password": ["the two entries differ / 两次输入不一致"]})
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    engine = build_engine(args, deploy_shipped=False)
    # Options left out keep what an existing user has (re-running a bootstrap script is harmless).
    posts = [_post(p) for p in args.post] if args.post else None
    user = engine.upsert_user(
        args.name, display_name=args.display_name, groups=args.group, roles=args.role, posts=posts, actor=None
    )
    if args.password:
        engine.set_password(user.username, _read_password())
    held = ",".join(
        f"{p.unit}:{p.post}" + (f":{p.rank}" if p.rank else "") for p in engine.posts_of(user.username)
    )
    print(
        f"user {user.username} ({user.display_name}) groups={','.join(user.groups) or '-'} roles={','.join(user.roles) or '-'}"
        f" posts={held or '-'}"
    )
    return 0


def _post(text: str) -> dict[str, str | None]:
    """``UNIT:POST[:RANK]`` (e.g. ``chengguan:镇长:科级``) as the engine's ``{unit, post, rank}``."""
    unit, _, rest = text.partition(":")
    post, _, rank = rest.partition(":")
    if not unit or not post:
        from engine import InvalidInputError

        raise InvalidInputError(f"--post {text!r}: use UNIT:POST[:RANK], e.g. chengguan:镇长:科级")
    return {"unit": unit, "post": post, "rank": rank or None}


def cmd_user_passwd(args: argparse.Namespace) -> int:
    engine = build_engine(args, deploy_shipped=False)
    engine.set_password(args.name, _read_password())
    print(f"password set for {args.name}")
    return 0


def cmd_user_active(args: argparse.Namespace) -> int:
    """``user deactivate`` / ``user activate``: deactivation stops the user's tokens and sessions at once."""
    engine = build_engine(args, deploy_shipped=False)
    engine.get_user(args.name)  # an unknown name is an error here, not a new user
    user = engine.upsert_user(args.name, active=args.active, actor="cli")
    print(f"user {user.username} {'activated' if user.active else 'deactivated'}")
    return 0


def _when(moment: Any) -> str:
    return moment.isoformat(timespec="minutes") if moment is not None else "-"


def cmd_token_create(args: argparse.Namespace) -> int:
    token, record = build_engine(args, deploy_shipped=False).issue_token(args.name, lifetime=args.expires_in)
    print(
        f"API token {record.id} for {args.name}, expires {_when(record.expires_at) if record.expires_at else 'never'} (shown once): {token}"
    )
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """A user's tokens: id, created, expires, last used, status; never the secret."""
    tokens = build_engine(args, deploy_shipped=False).list_tokens(args.name)
    print(f"{'id':>6}  {'created':<22}  {'expires':<22}  {'last used':<22}  status")
    for t in tokens:
        print(
            f"{t.id:>6}  {_when(t.created_at):<22}  {_when(t.expires_at) if t.expires_at else 'never':<22}  {_when(t.last_used_at):<22}  {t.status}"
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    record = build_engine(args, deploy_shipped=False).revoke_token(args.token)
    print(f"token {record.id} of {record.username} revoked")
    return 0


# ---- the organisation ---------------------------------------------------------------------
def cmd_unit_add(args: argparse.Namespace) -> int:
    """Create or update a unit; without ``--parent`` it is a new tenant (a county)."""
    attributes = dict(_attribute(a) for a in args.attr) if args.attr else None
    unit = build_engine(args, deploy_shipped=False).put_unit(
        args.code, name=args.name, kind=args.kind, parent=args.parent, attributes=attributes
    )
    print(f"unit {unit.code} ({unit.name}, {unit.kind}) parent={unit.parent or '-'} tenant={unit.tenant}")
    return 0


def _attribute(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        from engine import InvalidInputError

        raise InvalidInputError(f"--attr {text!r}: use KEY=VALUE, e.g. 村类别=深度贫困村")
    return key, value


def cmd_unit_list(args: argparse.Namespace) -> int:
    """Units from the root down, indented by depth, with their attributes."""
    engine = build_engine(args, deploy_shipped=False)
    page = engine.list_units(parent=args.parent, kind=args.kind, q=args.q, limit=100_000)
    depth: dict[str, int] = {}
    for u in page.items:
        depth[u.code] = depth.get(u.parent or "", -1) + 1 if u.parent in depth else 0
        attrs = " ".join(f"{k}={v}" for k, v in sorted(u.attributes.items()))
        print(f"{'  ' * depth[u.code]}{u.code}  {u.name}  {u.kind}" + (f"  {attrs}" if attrs else ""))
    print(f"{page.total} unit(s)")
    return 0


def cmd_org_import(args: argparse.Namespace) -> int:
    """Import units and people from an .xlsx or .csv; each bad cell printed with sheet, row, column."""
    from engine import ImportInvalidError

    engine = build_engine(args, deploy_shipped=False)
    path = Path(args.file)
    try:
        report = engine.import_org(path.read_bytes(), path.name, dry_run=args.dry_run)
    except ImportInvalidError as exc:
        for e in getattr(exc.report, "errors", []):
            print(f"{e.sheet} 第{e.row}行 {e.column or ''}: {e.message}", file=sys.stderr)
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{verb}: units created={report.units['created']} updated={report.units['updated']}, "
        f"users created={report.users['created']} updated={report.users['updated']}"
    )
    return 0


def cmd_org_template(args: argparse.Namespace) -> int:
    """Write the import template (.xlsx with Chinese headers and example rows)."""
    from engine import Engine

    Path(args.file).write_bytes(Engine.org_template())
    print(f"template written to {args.file}")
    return 0


# ---- definitions and database -------------------------------------------------------------
def _read_files(paths: list[str]) -> dict[str, bytes]:
    return {Path(p).name: Path(p).read_bytes() for p in paths}


def cmd_deploy(args: argparse.Namespace) -> int:
    record = build_engine(args).deploy(_read_files(args.files), actor="cli")
    print(f"deployed {record.key} version {record.version} ({record.name})")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check diagrams as deploy would, without opening the database (so it answers in a blink)."""
    from engine import validate_definition

    problems = validate_definition(_read_files(args.files))
    for p in problems:
        where = f"{p.file or ''}{f':{p.line}' if p.line else ''}"
        print(
            f"{p.element_id or '(diagram)'}: {p.code}: {p.message} / {p.message_zh}"
            + (f" [{where}]" if where else "")
        )
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("ok")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    engine = build_engine(args, deploy_shipped=False)  # the Store migrates when it opens
    print(f"database at the newest schema: {engine.store.url}")
    return 0


# ---- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiebang", description="Jiebang: BPMN workflows with 揭榜挂帅 built in."
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $JIEBANG_DATABASE_URL, else jiebang.sqlite3 in $JIEBANG_DATA_DIR, "
        f"now {data_dir()})",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the API, the web pages and a worker")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="gunicorn worker processes (default 1)")
    p.add_argument(
        "--gunicorn", action="store_true", help=argparse.SUPPRESS
    )  # gunicorn is the only server now; kept for old scripts
    p.add_argument("--threads", type=int, default=4, help="request threads per gunicorn worker (default 4)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run job loops alone (timers, webhook deliveries)")
    p.add_argument("--concurrency", type=int, default=1)
    p.set_defaults(func=cmd_worker)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="create or update a user")
    p.add_argument("name")
    p.add_argument("--group", action="append", help="repeatable")
    p.add_argument("--role", action="append", choices=["admin", "oa-service"], help="repeatable")
    p.add_argument("--display-name")
    p.add_argument("--password", action="store_true", help="set a password (prompts, or $JIEBANG_PASSWORD)")
    p.add_argument(
        "--post",
        action="append",
        metavar="UNIT:POST[:RANK]",
        help="a post the user holds, e.g. chengguan:镇长:科级 (repeatable; replaces their posts)",
    )
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("passwd", help="set a user's password")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_passwd)

    p = user.add_parser(
        "deactivate", help="stop a user's login, tokens and sessions at once; held tasks go back to the queue"
    )
    p.add_argument("name")
    p.set_defaults(func=cmd_user_active, active=False)
    p = user.add_parser("activate", help="let a deactivated user log in again")
    p.add_argument("name")
    p.set_defaults(func=cmd_user_active, active=True)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    p = token.add_parser("create", help="issue a token (printed as the last word)")
    p.add_argument("name")
    p.add_argument(
        "--expires-in",
        help="lifetime such as 90d, 12h, 30m or never (default $JIEBANG_TOKEN_EXPIRES_IN, else 365d)",
    )
    p.set_defaults(func=cmd_token_create)
    p = token.add_parser("list", help="a user's tokens: id, created, expires, last used (never the secret)")
    p.add_argument("name")
    p.set_defaults(func=cmd_token_list)
    p = token.add_parser("revoke", help="revoke a token by its id or the token itself")
    p.add_argument("token", metavar="TOKEN|ID")
    p.set_defaults(func=cmd_token_revoke)

    unit = sub.add_parser("unit", help="units of the organisation").add_subparsers(
        dest="unit_command", required=True
    )
    p = unit.add_parser("add", help="create or update a unit; no --parent makes a new tenant (county)")
    p.add_argument("code", help="1-64 letters, digits, '_', '.', '-'")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", required=True, choices=UNIT_KINDS)
    p.add_argument("--parent", help="the code of the unit above")
    p.add_argument(
        "--attr",
        action="append",
        metavar="KEY=VALUE",
        help="an attribute, e.g. 村类别=深度贫困村 (repeatable)",
    )
    p.set_defaults(func=cmd_unit_add)
    p = unit.add_parser("list", help="units as a tree")
    p.add_argument("--parent")
    p.add_argument("--kind", choices=UNIT_KINDS)
    p.add_argument("--q", help="part of a name or code")
    p.set_defaults(func=cmd_unit_list)

    org = sub.add_parser("org", help="the organisation as a whole").add_subparsers(
        dest="org_command", required=True
    )
    p = org.add_parser("import", help="import units and people from .xlsx or .csv (all or nothing)")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    p.set_defaults(func=cmd_org_import)
    p = org.add_parser("template", help="write the import template (.xlsx)")
    p.add_argument("file", nargs="?", default="org-template.xlsx")
    p.set_defaults(func=cmd_org_template)

    p = sub.add_parser("deploy", help="deploy .bpmn/.dmn/form files as one definition")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_deploy)
    p = sub.add_parser("validate", help="check diagrams; problems by element id, exit 1 on any")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_validate)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="migrate the schema to the newest revision")
    p.set_defaults(func=cmd_db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("JIEBANG_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(
        logging.WARNING
    )  # migrations run on every start; say nothing when none are due
    logging.getLogger("spiff").setLevel(logging.WARNING)  # one line per task state change otherwise
    args = build_parser().parse_args(argv)
    from engine import EngineError

    try:
        return args.func(args)
    except EngineError as exc:
        errors = getattr(exc, "errors", None) or {}
        print(f"error: {exc.detail}", file=sys.stderr)
        for field, messages in errors.items():
            print(f"  {field}: {'; '.join(messages)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
