"""``python -m dashboard``: serve (default), seed, simulate, check-config.

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

    check = sub.add_parser("check-config", help="validate the settings and the datasources they name")
    check.add_argument("path", nargs="?", help="file to check (default: as --config)")
    check.set_defaults(func=_check_config)
    return parser


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    from dashboard.settings import load_settings

    return load_settings(getattr(args, "path", None) or args.config, **overrides)


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
    _print_urls(settings)
    try:
        serve(app.server, host=settings.server.host, port=settings.server.port, threads=settings.server.threads)
    finally:
        stop.set()
    return 0


def _print_urls(settings: Settings) -> None:
    host = settings.server.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{settings.server.port}"
    print("\n山亭大脑 Shanting brain is up:")
    print(f"  dashboard   {base}/")
    print(f"  data feeds  {base}/data")
    print(f"  health      {base}/healthz\n", flush=True)
