"""Run the shop as real processes on loopback ports: one gunicorn per role (split) or one for everything (monolith).

Used by ``scripts/split.py`` (``make split``) and by the end-to-end suite, so what the tests drive is exactly what
a developer starts. Every process runs in its own session (process group) so that a role can be stopped, killed
or frozen as a whole, master and workers together, which is what the fault tests do."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from ecommerce.deployment import DOMAIN_ROLES, GATEWAY, MONOLITH, ROLES, owner_of, split_environment

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432"
# Variables that describe one process's place in a deployment; never inherited from the caller's environment.
_PER_PROCESS = ("DATABASE_URL", "ECOMMERCE_DEPLOYMENT_MODE", "ECOMMERCE_SERVICE_ROLE", "ECOMMERCE_SERVICE_URLS",
                "ECOMMERCE_RPC_LOOPBACK", "ECOMMERCE_TEST_RPC_LOOPBACK", "DJANGO_SETTINGS_MODULE",
                "ECOMMERCE_SANDBOX_WEBHOOK_URL")
SANDBOX_WEBHOOK_PATH = "/api/v1/payments/webhooks/sandbox"


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def free_port(start: int = 20000, stop: int = 40000, taken: Iterable[int] = ()) -> int:
    """A loopback port in [start, stop) that nothing listens on right now. The search starts at a random place, so
    two runs on one machine (two test suites, a suite beside ``make split``) rarely reach for the same port."""
    skip = set(taken)
    span = stop - start
    offset = random.randrange(span)  # noqa: S311 - spreading ports, not a secret
    for step in range(span):
        port = start + (offset + step) % span
        if port in skip:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {start}-{stop - 1}")


def postgres(admin_url: str, sql: str) -> None:
    """Run one statement as the PostgreSQL superuser (outside a transaction, as CREATE DATABASE needs)."""
    import psycopg

    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def database_exists(admin_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def new_secrets() -> dict[str, str]:
    """Secrets of their own for one local deployment. Every process it starts runs with DEBUG off, and such a
    process refuses any secret written in this repository (config/settings/safety.py)."""
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "INTERNAL_AUTH_TOKEN": secrets.token_urlsafe(48),
            "ECOMMERCE_SANDBOX_WEBHOOK_SECRETS": secrets.token_urlsafe(32)}


def stored_secrets(path: Path) -> dict[str, str]:
    """``new_secrets()`` kept in ``path`` (readable by its owner only), so that processes started one by one (from
    the Procfile, or after a restart) agree with each other and with the sessions and tokens issued before. A secret
    the file does not hold yet (one added since it was written) is generated and added to it."""
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: value for name, value in new_secrets().items() if name not in stored}
    if not missing:
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({**stored, **missing}, file)
    temporary.replace(path)
    return {**stored, **missing}


class ProcessFailed(RuntimeError):
    pass


@dataclass
class RunningProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _pump(stream: IO[bytes], prefix: str) -> None:
    for raw in iter(stream.readline, b""):
        sys.stdout.write(f"{prefix} | {raw.decode(errors='replace')}")
        sys.stdout.flush()


@dataclass
class Deployment:
    """A set of roles served on loopback ports. ``roles`` is ``("monolith",)`` or the five split roles. Each role
    with a database gets one on the PostgreSQL server at ``postgres_url``, or, with ``sqlite_dir`` set, an SQLite
    file there (the embedded default a fresh checkout runs on)."""

    roles: tuple[str, ...]
    ports: dict[str, int]
    databases: dict[str, str]
    postgres_url: str = DEFAULT_POSTGRES_URL
    sqlite_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=new_secrets)
    workers: int = 1
    threads: int = 4
    log_dir: Path | None = None
    console: bool = False
    processes: dict[str, RunningProcess] = field(default_factory=dict)

    # --- construction -------------------------------------------------------------------------------------------
    @classmethod
    def split(cls, *, ports: dict[str, int] | None = None, base_port: int = 18000,
              database_prefix: str = "ecommerce_split_", **options: object) -> Deployment:
        ports = ports or {role: base_port + index for index, role in enumerate(ROLES)}
        databases = {role: f"{database_prefix}{role}" for role in DOMAIN_ROLES}
        return cls(roles=ROLES, ports=ports, databases=databases, **options)  # type: ignore[arg-type]

    @classmethod
    def monolith(cls, *, port: int, database: str = "ecommerce_e2e_monolith", **options: object) -> Deployment:
        return cls(roles=(MONOLITH,), ports={MONOLITH: port}, databases={MONOLITH: database},
                   **options)  # type: ignore[arg-type]

    @property
    def is_split(self) -> bool:
        return self.roles != (MONOLITH,)

    @property
    def public_role(self) -> str:
        return GATEWAY if self.is_split else MONOLITH

    def url(self, role: str | None = None) -> str:
        return f"http://127.0.0.1:{self.ports[role or self.public_role]}"

    def sqlite_path(self, role: str) -> Path | None:
        """The SQLite file of ``role``, when this deployment runs on SQLite."""
        return None if self.sqlite_dir is None else self.sqlite_dir / f"{self.databases[role]}.sqlite3"

    def database_url(self, role: str) -> str:
        sqlite_path = self.sqlite_path(role)
        if sqlite_path is not None:
            return f"sqlite:///{sqlite_path}"
        return f"{self.postgres_url}/{self.databases[role]}"

    # --- environment --------------------------------------------------------------------------------------------
    def role_env(self, role: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _PER_PROCESS}
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            **self.secrets,
            "PYTHONUNBUFFERED": "1",
            # The sandbox processor (in the orders role) posts its webhooks to the deployment's public address.
            "ECOMMERCE_SANDBOX_WEBHOOK_URL": f"{self.url()}{SANDBOX_WEBHOOK_PATH}",
        })
        env.update(self.env)
        if self.is_split:
            env.update(split_environment(role=role, urls={r: self.url(r) for r in DOMAIN_ROLES}))
        else:
            env["ECOMMERCE_DEPLOYMENT_MODE"] = MONOLITH
        if role in self.databases:
            env["DATABASE_URL"] = self.database_url(role)
        return env

    def gunicorn_command(self, role: str, *, port: int | None = None) -> list[str]:
        return [
            # The shop's gunicorn configuration (logging, shutdown hooks); the options below override its sizing.
            venv_bin("gunicorn"), "-c", "python:config.gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{port or self.ports[role]}",
            "--workers", str(self.workers), "--threads", str(self.threads), "--worker-class", "gthread",
            # Stopping drains first (GUNICORN_DRAIN_SECONDS), then lets requests in flight finish.
            "--timeout", "60", "--graceful-timeout", "10", "--keep-alive", "5",
            "--name", f"shop-{role}", "--no-control-socket",
        ]

    def manage(self, role: str, *arguments: str, check: bool = True,
               quiet: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [venv_bin("python"), "manage.py", *arguments], cwd=ROOT, env=self.role_env(role),
            capture_output=True, text=True, check=False)
        if not quiet and result.stdout:
            sys.stdout.write("".join(f"{role} | {line}\n" for line in result.stdout.splitlines()))
        if check and result.returncode != 0:
            raise ProcessFailed(f"manage.py {' '.join(arguments)} failed for {role}:\n{result.stderr[-4000:]}")
        return result

    # --- databases ----------------------------------------------------------------------------------------------
    def create_databases(self, *, fresh: bool = False) -> None:
        if fresh:
            self.drop_databases()
        if self.sqlite_dir is not None:
            self.sqlite_dir.mkdir(parents=True, exist_ok=True)  # SQLite creates the file at the first connection
            return
        for name in self.databases.values():
            if not database_exists(self.postgres_url, name):
                postgres(self.postgres_url, f'CREATE DATABASE "{name}"')

    def drop_databases(self) -> None:
        for role, name in self.databases.items():
            sqlite_path = self.sqlite_path(role)
            if sqlite_path is None:
                postgres(self.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                continue
            for suffix in ("", "-wal", "-shm"):  # the database and its write-ahead log
                sqlite_path.with_name(sqlite_path.name + suffix).unlink(missing_ok=True)

    def migrate(self) -> None:
        """Every role with a database migrates its own, in parallel."""
        with ThreadPoolExecutor(max_workers=len(self.databases)) as pool:
            results = list(pool.map(lambda role: self.manage(role, "migrate", "--noinput", quiet=True),
                                    self.databases))
        for result in results:
            if result.returncode != 0:
                raise ProcessFailed(result.stderr)

    def seed(self, *, products: int, password: str | None = None) -> str:
        arguments = ["seed_demo", "--products", str(products)]
        if password:
            arguments += ["--password", password]
        return self.manage(self.public_role, *arguments, quiet=True).stdout

    def create_superuser(self, *, email: str, password: str, name: str = "Administrator") -> None:
        role = owner_of("users") if self.is_split else MONOLITH
        env_extra = {"DJANGO_SUPERUSER_EMAIL": email, "DJANGO_SUPERUSER_PASSWORD": password,
                     "DJANGO_SUPERUSER_NAME": name}
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [venv_bin("python"), "manage.py", "createsuperuser", "--noinput"], cwd=ROOT,
                                env={**self.role_env(role), **env_extra}, capture_output=True, text=True, check=False)
        if result.returncode != 0 and "already" not in (result.stderr + result.stdout):
            raise ProcessFailed(f"createsuperuser failed:\n{result.stderr[-4000:]}")

    # --- processes ----------------------------------------------------------------------------------------------
    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> RunningProcess:
        log_path = None
        if self.console:
            popen = subprocess.Popen(  # noqa: S603 - commands built here, never from input
                command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            threading.Thread(target=_pump, args=(popen.stdout, f"{name:>15}"), daemon=True).start()
        else:
            log_dir = self.log_dir or ROOT / "var" / "log"
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / f"{name}.log"
            with log_path.open("ab") as log:
                popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,  # noqa: S603 - built here
                                         stderr=subprocess.STDOUT, start_new_session=True)
        process = RunningProcess(name=name, popen=popen, log_path=log_path)
        self.processes[name] = process
        return process

    def start(self, role: str) -> RunningProcess:
        return self.spawn(role, self.gunicorn_command(role), self.role_env(role))

    def start_all(self, *, timeout: float = 60.0) -> None:
        for role in reversed(self.roles):  # domain roles first: the gateway's readiness needs them
            self.start(role)
        for role in self.roles:
            self.wait_ready(role, timeout=timeout)

    def wait_ready(self, role: str, *, timeout: float = 60.0, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            process = self.processes.get(role)
            if process is not None and not process.alive():
                raise ProcessFailed(f"{role} exited with {process.popen.returncode}:\n{process.log_tail()}")
            try:
                response = httpx.get(f"{self.url(role)}{path}", timeout=2.0)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.HTTPError as error:
                last = type(error).__name__
            time.sleep(0.2)
        tail = self.processes[role].log_tail() if role in self.processes else ""
        raise ProcessFailed(f"{role} not ready after {timeout:.0f}s ({last}):\n{tail}")

    def signal(self, role: str, signum: int) -> None:
        """Send a signal to the role's whole process group (gunicorn master and workers)."""
        os.killpg(self.processes[role].popen.pid, signum)

    def kill(self, role: str) -> None:
        process = self.processes.pop(role)
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait(timeout=10)

    def stop(self, role: str, *, grace: float = 10.0, already_signalled: bool = False) -> None:
        process = self.processes.pop(role, None)
        if process is None or not process.alive():
            return
        try:
            if not already_signalled:
                os.killpg(process.popen.pid, signal.SIGCONT)  # a frozen role must be able to hear the SIGTERM
                os.killpg(process.popen.pid, signal.SIGTERM)
            process.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait(timeout=5)
        except ProcessLookupError:
            pass

    def stop_all(self, *, grace: float = 15.0) -> None:
        """The public entry first (no new work comes in), then everything else at once, each given ``grace``."""
        for name in (GATEWAY, MONOLITH):
            if name in self.processes:
                self.stop(name, grace=grace)
        for process in self.processes.values():
            if process.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGCONT)
                    os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name in list(self.processes):
            self.stop(name, grace=max(0.1, deadline - time.monotonic()), already_signalled=True)
