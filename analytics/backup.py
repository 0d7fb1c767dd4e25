"""Copies of the database taken before each import and each forecast run, and restoring one.

Where: ``backups/`` beside the database file, named ``<db name>.<UTC time>.<action>.duckdb``; the newest
``keep`` are kept (the access file's ``[backups] keep``, else ``$SOP_BACKUPS_KEEP``, else 5; 0 turns them
off).

Why a backup costs nothing: the writer never changes the database file in place. It writes a copy and
renames it over the old file (:func:`analytics.db.writer`), so a hard link to the current file made under
the writer's lock *is* a frozen copy of the database as it was before the write; the rename leaves the old
contents to the link. Where the filesystem has no hard links the file is copied instead.

Restoring goes through the writer too (admin only, audited): the backup's data comes back, while the
audit log stays the current one plus a row saying who restored what, and the data version keeps counting
up so every open page re-reads.

The listing and the taking live in :mod:`analytics.backup_files`, below ``db`` (whose writer takes them);
this module re-exports them and adds what needs ``db``: ``take_now`` and ``restore``.
"""

from __future__ import annotations

import os
from pathlib import Path

from analytics import access, db
from analytics.backup_files import (  # noqa: F401  (re-exported: the one place callers look for backups)
    BEFORE_ACTIONS,
    DEFAULT_KEEP,
    Backup,
    folder,
    keep_count,
    list_backups,
    take,
)


def take_now(db_path: str | os.PathLike, reason: str = "manual") -> Path | None:
    """A backup outside a write (the command line's `backup take`): under the writer's lock, so it is whole."""
    p = db.resolve_db_path(db_path)
    if not p.exists():
        raise FileNotFoundError(f"No database at {p}.")
    with db._exclusive_lock(p):
        return take(p, reason)


def find(db_path: str | os.PathLike, name: str) -> Backup:
    for b in list_backups(db_path):
        if b.path.name == name or str(b.path) == str(name):
            return b
    raise FileNotFoundError(f"No backup named {name!r} in {folder(db_path)}. `python -m analytics backup list` shows them.")


@access.requires("backup")
def restore(db_path: str | os.PathLike, name: str) -> Backup:
    """Bring back a backup's data (the current file is itself kept as a backup first)."""
    p = db.resolve_db_path(db_path)
    b = find(p, name)
    db.open_reader(b.path).close()  # a clear DatabaseError now if the backup is not a readable database
    access.note(target=b.path.name, taken_at=b.taken_at.isoformat(timespec="seconds"), reason=b.reason)
    reader = db.open_reader(p)
    try:  # the current audit log and data version, read before the write
        log = access.audit_frame(reader)
        version = db.data_version(reader)
    finally:
        reader.close()
    with db.writer(p, start_from=b.path) as con:
        con.execute("DELETE FROM audit_log")
        con.register("__current_log", log)
        con.execute("INSERT INTO audit_log SELECT * FROM __current_log")
        con.unregister("__current_log")
        con.execute("UPDATE meta SET value = $v WHERE key = 'data_version'", {"v": str(version)})
    return b
