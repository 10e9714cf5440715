#!/usr/bin/env python
"""Start the split deployment locally: every role as its own gunicorn process on a loopback port, each domain role
on its own PostgreSQL database, migrated and seeded.

    scripts/split.py up        create the databases, migrate every role, start all processes (Procfile.split),
                               seed demo data, print the addresses; Ctrl-C (or `scripts/split.py down`) stops all
    scripts/split.py prepare   only create the databases and migrate every role
    scripts/split.py down      stop a running `up`
    scripts/split.py serve ROLE | worker ROLE | beat     what Procfile.split runs (also usable with honcho)
    scripts/split.py env ROLE  print the environment of ROLE (e.g. for `manage.py` against one role)

Ports are SPLIT_BASE_PORT (default 18000) + 0..4 for gateway, users, products, carts, orders; databases are
SPLIT_DATABASE_PREFIX<role> (default ecommerce_split_<role>) on SPLIT_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432). REDIS_URL, CELERY_BROKER_URL and EMAIL_URL are passed on when set: with a
broker each domain role gets a Celery worker consuming only its own task queue and its own event consumers' queues,
and one beat; without one, each role's server runs its own periodic jobs and delivers the events its own consumers
take (events for another role wait in its outbox until a broker is configured). With Redis each role runs two
gunicorn workers (without it, one worker with threads, so throttles and replay protection stay consistent)."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecommerce.deployment import DOMAIN_ROLES, ROLES
from scripts.deployment import ROOT, Deployment, stored_secrets, venv_bin

PROCFILE = ROOT / "Procfile.split"
PID_FILE = ROOT / "var" / "split" / "up.pid"


def deployment(*, console: bool = False) -> Deployment:
    workers = 2 if os.environ.get("REDIS_URL") else 1
    return Deployment.split(
        base_port=int(os.environ.get("SPLIT_BASE_PORT", "18000")),
        database_prefix=os.environ.get("SPLIT_DATABASE_PREFIX", "ecommerce_split_"),
        postgres_url=os.environ.get("SPLIT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        workers=workers, threads=4, console=console, log_dir=ROOT / "var" / "split",
        secrets=stored_secrets(ROOT / "var" / "split" / "secrets.json"),
    )


def procfile_entries() -> list[tuple[str, list[str]]]:
    entries = []
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries.append((name.strip(), shlex.split(command)))
    return entries


def prepare(target: Deployment, *, fresh: bool) -> None:
    print(f"databases: {', '.join(target.databases.values())}{' (fresh)' if fresh else ''}")
    target.create_databases(fresh=fresh)
    print("migrating every domain role (each its own database) ...")
    target.migrate()


def up(arguments: argparse.Namespace) -> int:
    target = deployment(console=True)
    prepare(target, fresh=arguments.fresh)
    with_broker = bool(os.environ.get("CELERY_BROKER_URL"))
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    PID_FILE.parent.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(str(os.getpid()))
    try:
        for name, command in procfile_entries():
            if not with_broker and (name.startswith("worker") or name == "beat"):
                continue
            target.spawn(name, command, dict(os.environ))
        for role in ROLES:
            target.wait_ready(role, timeout=60)
        print("seeding demo data through the gateway's contracts ...")
        print(target.seed(products=arguments.products, password=arguments.password))
        if os.environ.get("DJANGO_SUPERUSER_EMAIL") and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            target.create_superuser(email=os.environ["DJANGO_SUPERUSER_EMAIL"],
                                    password=os.environ["DJANGO_SUPERUSER_PASSWORD"],
                                    name=os.environ.get("DJANGO_SUPERUSER_NAME", "Administrator"))
        print("\nSplit deployment is up:")
        public = target.url()
        print(f"  public API   {public}/api/v1/   (docs {public}/api/docs/, readiness {public}/readyz)")
        for role in DOMAIN_ROLES:
            print(f"  {role:<12} {target.url(role)}/admin/   (internal RPC {target.url(role)}/internal/rpc/...)")
        celery = ("one worker per domain role (tasks and event consumers) + beat" if with_broker
                  else "no broker: tasks, periodic jobs and local events run in each role's server")
        print(f"  celery       {celery}")
        print("Ctrl-C (or scripts/split.py down) stops everything.\n")
        while not stopping:
            dead = [name for name, process in target.processes.items() if not process.alive()]
            if dead:
                print(f"process exited: {', '.join(dead)}; stopping the deployment", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping ...")
        target.stop_all()
        PID_FILE.unlink(missing_ok=True)
        print("stopped.")


def down(arguments: argparse.Namespace) -> int:
    if not PID_FILE.exists():
        print("no split deployment is running (no var/split/up.pid)")
        return 0
    pid = int(PID_FILE.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        PID_FILE.unlink(missing_ok=True)
        return 0
    for _ in range(150):
        if not PID_FILE.exists():
            return 0
        time.sleep(0.2)
    print("the deployment did not stop within 30 s", file=sys.stderr)
    return 1


def serve(arguments: argparse.Namespace) -> int:
    target = deployment()
    os.chdir(ROOT)
    command = target.gunicorn_command(arguments.role)
    os.execve(command[0], command, target.role_env(arguments.role))  # noqa: S606 - replaces this process
    return 0


def idle() -> int:
    """Wait quietly until told to stop (a Procfile runner stops everything when one process exits)."""
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    signal.sigwait(stop_signals)
    return 0


def worker(arguments: argparse.Namespace) -> int:
    target = deployment()
    env = target.role_env(arguments.role)
    if not env.get("CELERY_BROKER_URL"):
        # Without a broker tasks run in the process that sends them; stay up so a Procfile runner keeps going.
        print(f"no CELERY_BROKER_URL: {arguments.role} tasks run in-process; this worker idles")
        return idle()
    os.chdir(ROOT)
    # The role's task queue; the event consumers bootstep adds the queues of the consumers this role owns.
    queue = f"{env.get('ECOMMERCE_BROKER_NAMESPACE', '')}{arguments.role}"
    command = [venv_bin("celery"), "-A", "config", "worker", "-Q", queue, "-n", f"{arguments.role}@%h",
               "--concurrency", "2", "-l", "info"]
    os.execve(command[0], command, env)  # noqa: S606 - replaces this process
    return 0


def beat(arguments: argparse.Namespace) -> int:
    # Beat only sends messages, each already routed to its role's queue; any role's settings describe them all.
    target = deployment()
    env = target.role_env("orders")
    if not env.get("CELERY_BROKER_URL"):
        print("no CELERY_BROKER_URL: nothing to schedule; beat idles")
        return idle()
    schedule = ROOT / "var" / "split" / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    command = [venv_bin("celery"), "-A", "config", "beat", "-s", str(schedule), "-l", "info"]
    os.execve(command[0], command, env)  # noqa: S606 - replaces this process
    return 0


def print_env(arguments: argparse.Namespace) -> int:
    env = deployment().role_env(arguments.role)
    for key in sorted(env):
        if key.startswith(("ECOMMERCE_", "DJANGO_", "DATABASE_URL", "INTERNAL_AUTH")):
            print(f"export {key}={shlex.quote(env[key])}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up")
    up_parser.add_argument("--products", type=int, default=int(os.environ.get("DEMO_PRODUCTS", "200")))
    up_parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD"))
    up_parser.add_argument("--fresh", action="store_true", help="drop and recreate the role databases first")
    up_parser.set_defaults(handler=up)
    prepare_parser = commands.add_parser("prepare")
    prepare_parser.add_argument("--fresh", action="store_true")
    prepare_parser.set_defaults(handler=lambda a: prepare(deployment(), fresh=a.fresh) or 0)
    commands.add_parser("down").set_defaults(handler=down)
    for name, handler, roles in (("serve", serve, ROLES), ("worker", worker, DOMAIN_ROLES),
                                 ("env", print_env, ROLES)):
        sub = commands.add_parser(name)
        sub.add_argument("role", choices=roles)
        sub.set_defaults(handler=handler)
    commands.add_parser("beat").set_defaults(handler=beat)
    arguments = parser.parse_args()
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
