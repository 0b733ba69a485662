"""``flask forum backup DEST`` and ``flask forum restore SRC``: the whole database, online.

SQLite: the online backup API copies the database in one step, from one read
snapshot, while the forum keeps writing (WAL lets writers go on): the copy is
the database as it was at one commit. Restoring copies a backup back the same
way, under the write lock, into the live file.

PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, writers not
blocked) and ``pg_restore --clean --if-exists --single-transaction``. The
programs come from ``PATH``, else from the newest ``/usr/lib/postgresql/*/bin``
(Debian keeps them there); ``FORUM_PG_BINDIR`` names another folder. The password
goes through ``PGPASSWORD``, never the command line.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why."""


def backup(database_url: str, dest: str) -> str:
    """Copy the database of ``database_url`` to the file ``dest``; returns what was done."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_path(url), Path(dest))
    if url.get_backend_name() == "postgresql":
        return _pg_backup(url, Path(dest))
    raise BackupError(f"Base non prise en charge : {url.get_backend_name()}")


def restore(database_url: str, src: str) -> str:
    """Replace the database of ``database_url`` by the backup ``src``."""
    source = Path(src)
    if not source.is_file():
        raise BackupError(f"Aucune sauvegarde à l'emplacement « {src} ».")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_restore(source, _sqlite_path(url))
    if url.get_backend_name() == "postgresql":
        return _pg_restore(url, source)
    raise BackupError(f"Base non prise en charge : {url.get_backend_name()}")


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("Une base SQLite en mémoire ne se sauvegarde pas.")
    return Path(url.database)


def _sqlite_backup(path: Path, dest: Path) -> str:
    if not path.is_file():
        raise BackupError(f"Aucune base SQLite à l'emplacement « {path} ».")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(path)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # every page in one step: one snapshot
    finally:
        target.close()
        source.close()
    os.replace(partial, dest)  # a half-written file never carries the name
    return f"SQLite : {path} copiée dans {dest} ({dest.stat().st_size} octets)."


def _sqlite_restore(source: Path, path: Path) -> str:
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = backup_db.execute("PRAGMA quick_check").fetchone()[0]
        tables = {row[0] for row in backup_db.execute("SELECT name FROM sqlite_master")}
        if check != "ok" or "alembic_version" not in tables:
            raise BackupError(f"« {source} » n'est pas une sauvegarde intacte du forum.")
        live = sqlite3.connect(path, timeout=30)
        try:
            backup_db.backup(live)
        finally:
            live.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"« {source} » n'est pas une base SQLite lisible : {exc}") from exc
    finally:
        backup_db.close()
    return f"SQLite : {path} restaurée depuis {source}."


# -- PostgreSQL -------------------------------------------------------------------------------


def pg_program(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: FORUM_PG_BINDIR, PATH, then Debian's."""
    bindir = os.environ.get("FORUM_PG_BINDIR")
    if bindir:
        candidate = Path(bindir) / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/([\d.]+)/bin/", path)
        return tuple(int(part) for part in match.group(1).split(".")) if match else (0,)

    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if installed:
        return installed[-1]
    raise BackupError(f"{name} est introuvable : installez postgresql-client.")


def _pg_command(url) -> tuple[str, dict]:
    """A libpq URL without its password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} a échoué : {result.stderr.strip()[-2000:]}")


def _pg_backup(url, dest: Path) -> str:
    dsn, env = _pg_command(url)
    partial = dest.with_name(dest.name + ".partial")
    _run([pg_program("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={dsn}"], env)
    os.replace(partial, dest)
    return f"PostgreSQL : base {url.database} copiée dans {dest} ({dest.stat().st_size} octets)."


def _pg_restore(url, source: Path) -> str:
    dsn, env = _pg_command(url)
    _run(
        [
            pg_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        env,
    )
    return f"PostgreSQL : base {url.database} restaurée depuis {source}."
