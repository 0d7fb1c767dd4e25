"""Where the database's backups live and how one is taken: the part of :mod:`analytics.backup` that the writer
(:func:`analytics.db.writer`) calls before imports and forecast runs, so it sits below ``db`` and never imports
it (``backup`` itself, with ``take_now`` and ``restore``, sits above ``db``).

Where: ``backups/`` beside the database file, named ``<db name>.<UTC time>.<action>.duckdb``; the newest
``keep`` are kept (the access file's ``[backups] keep``, else ``$SOP_BACKUPS_KEEP``, else 5; 0 turns them off).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analytics import access

#: Writes that keep a copy of the database first.
BEFORE_ACTIONS = frozenset({"import", "forecast", "backup"})
DEFAULT_KEEP = 5


def keep_count() -> int:
    try:
        cfg = access.load_config()
    except access.AccessConfigError:
        cfg = None
    if cfg is not None:
        return cfg.backups_keep
    raw = os.environ.get("SOP_BACKUPS_KEEP")
    return int(raw) if raw and raw.isdigit() else DEFAULT_KEEP


def folder(db_path: str | os.PathLike) -> Path:
    return Path(db_path).parent / "backups"


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    reason: str
    size_mb: float


def _parse(p: Path, db_name: str) -> Backup | None:
    rest = p.name[len(db_name) + 1:]
    parts = rest.split(".")
    if len(parts) != 3 or parts[2] != "duckdb":
        return None
    try:
        taken = datetime.strptime(parts[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return Backup(p, taken, parts[1], p.stat().st_size / 1e6)


def list_backups(db_path: str | os.PathLike) -> list[Backup]:
    """Newest first."""
    p = Path(db_path)
    d = folder(p)
    if not d.exists():
        return []
    found = [b for f in d.glob(p.name + ".*.duckdb") if (b := _parse(f, p.name))]
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def take(db_path: str | os.PathLike, reason: str, keep: int | None = None) -> Path | None:
    """Keep the current file as a backup (call under the writer's lock); prune to the newest ``keep``."""
    p = Path(db_path)
    keep = keep_count() if keep is None else keep
    if keep <= 0 or not p.exists():
        return None
    d = folder(p)
    d.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = d / f"{p.name}.{stamp}.{reason}.duckdb"
    partial = target.with_name(target.name + ".partial")
    try:
        os.link(p, partial)
    except OSError:
        shutil.copyfile(p, partial)
    os.replace(partial, target)
    for old in list_backups(p)[keep:]:
        old.path.unlink(missing_ok=True)
    return target
