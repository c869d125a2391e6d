"""``python -m dashboard``: serve (default), seed, simulate, ingest, migrate, users, check-config.

Heavy imports happen inside the subcommands so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboard.settings import Settings

log = logging.getLogger("dashboard")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if not args.quiet else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from dashboard.settings import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Shanting brain (山亭大脑): the Shanting District operations dashboard.",
    )
    parser.add_argument("-c", "--config", help="TOML settings file (default: $SHANTING_CONFIG or ./shanting.toml)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    parser.set_defaults(func=_serve, host=None, port=None, no_simulator=False)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = sub.add_parser("serve", help="seed on first run, start the simulator and serve the dashboard (default)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8050)")
    serve.add_argument("--no-simulator", action="store_true", help="serve only; no live simulator")
    serve.set_defaults(func=_serve)

    seed = sub.add_parser("seed", help="write the synthetic district and its history into the store")
    seed.add_argument("--days", type=int, help="days of history (default: simulator.history_days)")
    seed.add_argument("--force", action="store_true", help="seed even if the store already holds a district")
    seed.set_defaults(func=_seed)

    sim = sub.add_parser("simulate", help="keep writing live synthetic rows into the store")
    sim.add_argument("--once", action="store_true", help="write one tick (backfilling any gap) and exit")
    sim.set_defaults(func=_simulate)

    ingest = sub.add_parser("ingest", help="store what sensors publish to MQTT (topics <prefix>/<feed>)")
    ingest.set_defaults(func=_ingest)

    migrate = sub.add_parser("migrate", help="bring the store's schema to the newest revision (Alembic)")
    migrate.add_argument(
        "--autogenerate", metavar="MESSAGE", help="developers: write a new revision for what the contracts changed"
    )
    migrate.set_defaults(func=_migrate)

    users = sub.add_parser("users", help="accounts: add, passwd, disable, enable, list, token (a screen's)")
    users_sub = users.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="create a user; prints a random password once")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="leader, department, operator, admin or screen")
    add.add_argument("--domains", default="", help="department heads: comma-separated, e.g. transport,video")
    add.add_argument("--screen", help="screen accounts: the screen id they are bound to")
    add.add_argument("--name", default="", help="display name")
    add.set_defaults(func=_users_add)
    passwd = users_sub.add_parser("passwd", help="set a new random password (printed once); old sessions end")
    passwd.add_argument("username")
    passwd.set_defaults(func=_users_passwd)
    for action, text in (("disable", "stop a user signing in (their sessions end)"), ("enable", "undo disable")):
        one = users_sub.add_parser(action, help=text)
        one.add_argument("username")
        one.set_defaults(func=_users_disable, disabled=action == "disable")
    listing = users_sub.add_parser("list", help="every account with its role and state")
    listing.set_defaults(func=_users_list)
    token = users_sub.add_parser("token", help="a new display token for a screen (its URL is printed once)")
    token.add_argument("screen_id")
    token.set_defaults(func=_users_token)

    check = sub.add_parser("check-config", help="validate the settings and the datasources they name")
    check.add_argument("path", nargs="?", help="file to check (default: as --config)")
    check.set_defaults(func=_check_config)
    return parser


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    from dashboard.settings import load_settings

    return load_settings(getattr(args, "path", None) or args.config, **overrides)


def _accounts(args: argparse.Namespace) -> tuple[Any, Any, Settings]:
    from dashboard.accounts import Accounts, Audit

    settings = _settings(args)
    store = _store(settings)
    return Accounts(store), Audit(store), settings


def _cli_audit(audit: Any, action: str, target: str, **detail: Any) -> None:
    from dashboard.timeutil import now_utc

    audit.record("cli", "admin", action, target, now_utc(), None, detail)


def _users_add(args: argparse.Namespace) -> int:
    from dashboard.accounts import AccountError, new_password
    from dashboard.timeutil import now_utc

    accounts, audit, _ = _accounts(args)
    password = new_password()
    domains = [d.strip() for d in args.domains.split(",") if d.strip()]
    try:
        made = accounts.create(
            args.username,
            password,
            args.role,
            now_utc(),
            display_name=args.name,
            domains=domains,
            screen_id=args.screen,
        )
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _cli_audit(audit, "user.create", made.username, role=made.role, domains=domains, screen_id=args.screen)
    print(f"created {made.username} ({made.role}); password (shown once): {password}")
    return 0


def _users_passwd(args: argparse.Namespace) -> int:
    from dashboard.accounts import AccountError, new_password

    accounts, audit, _ = _accounts(args)
    password = new_password()
    try:
        accounts.set_password(args.username, password)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _cli_audit(audit, "user.passwd", args.username)
    print(f"new password of {args.username} (shown once): {password}")
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    from dashboard.accounts import AccountError

    accounts, audit, _ = _accounts(args)
    try:
        accounts.set_disabled(args.username, args.disabled)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _cli_audit(audit, "user.disable" if args.disabled else "user.enable", args.username)
    print(f"{args.username} {'disabled' if args.disabled else 'enabled'}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    accounts, _, _ = _accounts(args)
    for a in accounts.all():
        scope = ",".join(a.domains) or a.screen_id or ""
        print(f"{a.username:<20} {a.role:<10} {scope:<30} {'disabled' if a.disabled else 'active'}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    accounts, audit, settings = _accounts(args)
    if args.screen_id not in settings.screens:
        print(f"error: unknown screen {args.screen_id!r}; known: {', '.join(settings.screens)}", file=sys.stderr)
        return 2
    url = screen_token(accounts, settings, args.screen_id)
    _cli_audit(audit, "screen.token", args.screen_id)
    print(f"screen {args.screen_id}: open {url} (the token is shown once)")
    return 0


def screen_token(accounts: Any, settings: Settings, screen_id: str) -> str:
    """A new display token for the screen's account (made if missing): the URL that signs the screen in."""
    from dashboard.accounts import new_password
    from dashboard.timeutil import now_utc

    token, username = new_password(), f"screen-{screen_id}"
    if accounts.get(username) is None:
        accounts.create(
            username, token, "screen", now_utc(), display_name=settings.screens[screen_id].name, screen_id=screen_id
        )
    else:
        accounts.set_password(username, token)
    return f"{_base_url(settings)}/screen/{screen_id}?token={token}"


#: The demo accounts `serve` makes on a store with no users: one per role (a department head of transport).
DEMO_ACCOUNTS = (
    ("leader", "leader", (), "区领导（演示）"),
    ("transport", "department", ("transport",), "交通运输局（演示）"),
    ("operator", "operator", (), "值班员（演示）"),
    ("admin", "admin", (), "管理员（演示）"),
)


def demo_accounts(accounts: Any, settings: Settings) -> list[str]:
    """On a store with no users, one account per role with random passwords; the lines to print (once)."""
    from dashboard.accounts import new_password
    from dashboard.timeutil import now_utc

    if settings.production or not settings.auth.demo_accounts or accounts.count():
        return []
    lines = ["demo accounts (passwords are random and shown only now; change them with `users passwd`):"]
    for username, role, domains, name in DEMO_ACCOUNTS:
        password = new_password()
        accounts.create(username, password, role, now_utc(), display_name=name, domains=domains)
        lines.append(f"  {role:<10} {username:<10} {password}")
    lines += [f"  screen     {sid:<10} {screen_token(accounts, settings, sid)}" for sid in settings.screens]
    return lines


def _check_config(args: argparse.Namespace) -> int:
    from dashboard.sources import build_sources

    settings = _settings(args)
    sources = build_sources(settings)
    print(f"configuration OK: store {settings.store!r} at {sources.store.describe().get('url', '?')}")  # type: ignore[attr-defined]
    for name, conf in settings.sources.items():
        served = sorted(f for f, s in sources.routes().items() if s == name)
        print(f"  source {name} ({conf.kind}): {len(served)} feeds")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from datasources.mqtt import Broker, Ingester

    settings = _settings(args)
    ingester = Ingester(_store(settings), Broker.from_url(settings.mqtt.url), settings.mqtt)
    signal.signal(signal.SIGTERM, lambda *_: ingester.request_stop())
    log.info("MQTT ingester: %s, topics %s/<feed>; Ctrl-C to stop", settings.mqtt.url, settings.mqtt.topic_prefix)
    with contextlib.suppress(KeyboardInterrupt):
        ingester.run_forever()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from sqlalchemy import create_engine

    from datasources import migrations

    settings = _settings(args)
    engine = create_engine(settings.resolved_store_url)
    try:
        revision = migrations.upgrade(engine)
        print(f"store schema at revision {revision} (newest {migrations.head()})")
        if args.autogenerate:
            script = migrations.autogenerate(engine, args.autogenerate)
            print(f"wrote {script.path}" if script else "nothing changed")
    finally:
        engine.dispose()
    return 0


def _store(settings: Settings) -> Any:
    from dashboard.sources import build_sources

    store = build_sources(settings).store
    store.check()
    return store


def _district(settings: Settings) -> Any:
    from datasources.synthetic import SyntheticDistrict

    return SyntheticDistrict(seed=settings.simulator.seed, scale=settings.simulator.scale)


def _seed(args: argparse.Namespace) -> int:
    from dashboard import simulation

    settings = _settings(args)
    store = _store(settings)
    if simulation.is_seeded(store) and not args.force:
        print("the store already holds a district; nothing written (use --force to write it again)")
        return 0
    days = args.days or settings.simulator.history_days
    counts = simulation.seed(store, _district(settings), days=days)
    print(f"seeded {sum(counts.values()):,} rows over {days} days into {store.describe()['url']}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from dashboard import simulation
    from dashboard.timeutil import now_utc

    settings = _settings(args)
    store, district = _store(settings), _district(settings)
    if settings.simulator.publish == "mqtt":
        from datasources.mqtt import Broker, MqttPublisher

        # Rows go to the broker; the ingester stores them (the rules still read the store).
        log.info("simulator publishing to %s under %s/<feed>", settings.mqtt.url, settings.mqtt.topic_prefix)
        store = MqttPublisher(store, Broker.from_url(settings.mqtt.url), settings.mqtt.topic_prefix)
    backfill = timedelta(days=settings.simulator.history_days)
    rules = simulation.rules(store, settings)
    if args.once:
        counts = simulation.tick(store, district, now_utc(), backfill, rules)
        print(f"wrote {sum(counts.values()):,} rows")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("simulator running every %.0f s; Ctrl-C to stop", settings.simulator.interval_s)
    try:
        simulation.run(
            store, district, interval_s=settings.simulator.interval_s, backfill=backfill, stop=stop, rules=rules
        )
    except KeyboardInterrupt:
        stop.set()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from dashboard import simulation
    from dashboard.app import create_app
    from dashboard.sources import build_sources
    from dashboard.timeutil import now_utc

    server_over = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = _settings(args, **({"server": server_over} if server_over else {}))
    sources = build_sources(settings)
    store = sources.store
    store.check()
    district = _district(settings)
    if not simulation.is_seeded(store):
        print(f"first run: seeding the synthetic district ({settings.simulator.history_days} days of history)…")
        simulation.seed(store, district, days=settings.simulator.history_days)
    stop = threading.Event()
    if settings.simulator.enabled and not args.no_simulator:
        backfill = timedelta(days=settings.simulator.history_days)
        rules = simulation.rules(store, settings)
        simulation.tick(store, district, now_utc(), backfill, rules)  # close the gap before serving
        threading.Thread(
            target=simulation.run,
            kwargs=dict(
                store=store,
                district=district,
                interval_s=settings.simulator.interval_s,
                backfill=backfill,
                stop=stop,
                rules=rules,
            ),
            name="simulator",
            daemon=True,
        ).start()
    app = create_app(settings, sources=sources)
    from dashboard.accounts import Accounts
    from dashboard.routes import start_warming

    start_warming(app.server.extensions["shanting.services"], freeze=True)

    demo = demo_accounts(Accounts(store), settings)
    _print_urls(settings)
    if demo:
        print("\n".join(demo) + "\n", flush=True)
    try:
        serve(app.server, host=settings.server.host, port=settings.server.port, threads=settings.server.threads)
    finally:
        stop.set()
    return 0


def _base_url(settings: Settings) -> str:
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{settings.server.port}"


def _print_urls(settings: Settings) -> None:
    base = _base_url(settings)
    print("\n山亭大脑 Shanting brain is up:")
    print(f"  dashboard   {base}/")
    print(f"  data feeds  {base}/data")
    print(f"  health      {base}/healthz")
    print(f"  sign in     {base}/login\n", flush=True)
