"""Who may change what: users, roles, the server-side check on every write, and the audit trail.

Roles, each including the one before it:

* ``viewer``  reads every page and downloads exports;
* ``planner`` also overrides forecasts, runs forecasts, saves plans and scenarios, raises and answers
  requests to production;
* ``admin``   also imports data and column mappings, edits KPI targets and settings, manages summits
  (start, decisions, actions, pulse) and restores backups.

How the check is enforced: every function that writes is decorated with :func:`requires` and takes a
keyword ``user``. The decorator refuses (:class:`PermissionDenied`) before anything is read or written when
the user's role is too low, and otherwise records the user and action in a context variable.
:func:`analytics.db.writer` refuses to open a write transaction without such an actor, so a new write path
that forgets the decorator fails in the first test instead of quietly writing, and it writes one
``audit_log`` row (who, when, what, before and after) inside the same transaction as the change: the audit
row and the change land together or not at all.

Users come from an access file (TOML, see :func:`load_config`): passwords are stored only as argon2id
hashes (argon2-cffi), or users sign in through Streamlit's OIDC login (``st.login``) and are given roles
by e-mail. Run on localhost with no access file, the app needs no login and everyone is ``LOCAL`` (admin).
The command line acts as ``SYSTEM`` (admin): whoever can run it can already write the database file.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROLES = ("viewer", "planner", "admin")

#: Every write action and the least role allowed to do it. The README's access table is this dict.
ACTIONS: dict[str, tuple[str, str]] = {
    "import": ("admin", "import data files"),
    "mapping": ("admin", "save a column mapping"),
    "targets": ("admin", "change KPI targets"),
    "backup": ("admin", "take or restore a database backup"),
    "demo": ("admin", "build the demo company"),
    "summit": ("admin", "start a summit"),
    "decision": ("admin", "record a summit decision or action"),
    "action": ("admin", "update a summit action"),
    "pulse": ("admin", "record the collaboration pulse"),
    "forecast": ("planner", "run the statistical forecast"),
    "override": ("planner", "override the forecast"),
    "plan": ("planner", "save a production plan"),
    "scenario": ("planner", "save or recommend a scenario"),
    "request": ("planner", "raise or answer a request to production"),
}


class PermissionDenied(PermissionError):
    """A user tried a write their role does not allow."""


class AccessConfigError(ValueError):
    """The access file is missing where it is required, or malformed."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    source: str = "password"  # password | oidc | local | cli

    def __post_init__(self):
        if self.role not in ROLES:
            raise AccessConfigError(f"Unknown role {self.role!r} for user {self.name!r}: use one of {', '.join(ROLES)}.")

    def can(self, action: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(ACTIONS[action][0])


#: Everyone, when the app runs on localhost without an access file.
LOCAL = User("local", "admin", "local")
#: The command line and the demo builder.
SYSTEM = User("cli", "admin", "cli")


def check(user: User | None, action: str) -> User:
    """The server-side check: the user, or PermissionDenied naming what was refused and why."""
    if action not in ACTIONS:
        raise KeyError(f"unknown write action {action!r}")
    if not isinstance(user, User):
        raise PermissionDenied(f"Not signed in: {ACTIONS[action][1]} needs a signed-in {ACTIONS[action][0]}.")
    if not user.can(action):
        need, what = ACTIONS[action]
        raise PermissionDenied(f"{user.name} ({user.role}) may not {what}: that needs the {need} role.")
    return user


# ----------------------------------------------------------------------------- the actor of the current write


@dataclass
class Actor:
    user: User
    action: str
    target: str | None = None
    before: Any = None
    after: Any = None
    details: dict = field(default_factory=dict)


_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("sop_actor", default=None)
#: The user for write calls that pass none: set by the command line (SYSTEM) and the test suite, never by the
#: app, whose script threads start with an empty context, so a page that forgets ``user=`` is refused.
_DEFAULT_USER: contextvars.ContextVar[User | None] = contextvars.ContextVar("sop_default_user", default=None)


@contextlib.contextmanager
def default_user(user: User | None) -> Iterator[None]:
    token = _DEFAULT_USER.set(user)
    try:
        yield
    finally:
        _DEFAULT_USER.reset(token)


def current() -> Actor | None:
    return _ACTOR.get()


def requires(action: str) -> Callable:
    """Decorator for a write function: keyword ``user`` is required and checked before the body runs."""
    if action not in ACTIONS:
        raise KeyError(f"unknown write action {action!r}")

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def guarded(*args, user: User | None = None, **kwargs):
            outer = _ACTOR.get()
            if outer is not None:  # a write inside another guarded write (e.g. import_folder -> import_frames)
                check(user or outer.user, action)
                return fn(*args, **kwargs)
            user = user or _DEFAULT_USER.get()
            check(user, action)
            token = _ACTOR.set(Actor(user, action))
            try:
                return fn(*args, **kwargs)
            finally:
                _ACTOR.reset(token)

        guarded.write_action = action
        return guarded

    return wrap


def note(target: str | None = None, before: Any = None, after: Any = None, **details) -> None:
    """Add what changed to the audit row of the write in progress (small before/after values only)."""
    a = _ACTOR.get()
    if a is None:
        return
    if target is not None:
        a.target = target
    if before is not None:
        a.before = before
    if after is not None:
        a.after = after
    a.details.update(details)


@contextlib.contextmanager
def acting_as(user: User, action: str) -> Iterator[Actor]:
    """For code that writes without a decorated function (tests, one-off scripts): check and set the actor."""
    check(user, action)
    token = _ACTOR.set(Actor(user, action))
    try:
        yield _ACTOR.get()
    finally:
        _ACTOR.reset(token)


AUDIT_SQL = """CREATE TABLE IF NOT EXISTS audit_log (
    audit_id BIGINT PRIMARY KEY, logged_at TIMESTAMP, user_name VARCHAR, role VARCHAR, via VARCHAR,
    action VARCHAR, target VARCHAR, before_json VARCHAR, after_json VARCHAR, details_json VARCHAR)"""

#: Longest before/after JSON kept in the log; longer values are cut and say so.
AUDIT_VALUE_LIMIT = 4000


def _small_json(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, default=str, ensure_ascii=False)
    if len(text) > AUDIT_VALUE_LIMIT:
        text = json.dumps({"truncated": True, "chars": len(text), "start": text[:AUDIT_VALUE_LIMIT]})
    return text


def write_audit_row(con, actor: Actor) -> None:
    """Called by db.writer inside the write transaction, just before COMMIT."""
    con.execute(AUDIT_SQL)
    con.execute(
        "INSERT INTO audit_log SELECT COALESCE(MAX(audit_id), 0) + 1, $at, $u, $r, $via, $a, $t, $b, $af, $d "
        "FROM audit_log",
        {
            "at": datetime.now(UTC).replace(tzinfo=None), "u": actor.user.name, "r": actor.user.role,
            "via": actor.user.source, "a": actor.action, "t": actor.target,
            "b": _small_json(actor.before), "af": _small_json(actor.after),
            "d": _small_json(actor.details) if actor.details else None,
        },
    )


def audit_frame(con, limit: int | None = None):
    """The audit log, newest first (empty frame when the database has none yet)."""
    import pandas as pd

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'audit_log'"
    ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame(columns=["audit_id", "logged_at", "user_name", "role", "via", "action", "target",
                                     "before_json", "after_json", "details_json"])
    sql = "SELECT * FROM audit_log ORDER BY audit_id DESC"
    if limit:
        return con.execute(sql + " LIMIT $n", {"n": int(limit)}).df()
    return con.execute(sql).df()


# ----------------------------------------------------------------------------- the access file

DEFAULT_ACCESS_FILE = "access.toml"

EXAMPLE = """\
# access.toml: who may sign in and with which role (viewer < planner < admin).
# Add users with:  python -m analytics users add NAME --role planner
# (it asks for the password and stores only an argon2id hash).

[users.alice]
role = "admin"
password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

# Optional single sign-on through Streamlit's OIDC login: configure [auth] in .streamlit/secrets.toml
# (https://docs.streamlit.io/develop/concepts/connections/authentication), then map e-mails to roles:
# [oidc]
# default_role = "viewer"          # anyone the identity provider lets in; omit to admit only listed e-mails
# [oidc.roles]
# "planner@example.com" = "planner"

[backups]
keep = 5                            # database copies kept before imports and forecast runs
"""


def access_file() -> Path:
    return Path(os.environ.get("SOP_ACCESS") or DEFAULT_ACCESS_FILE)


@dataclass
class AccessConfig:
    users: dict[str, dict] = field(default_factory=dict)  # name -> {"role", "password_hash"}
    oidc_roles: dict[str, str] = field(default_factory=dict)  # e-mail (lower case) -> role
    oidc_default_role: str | None = None
    backups_keep: int = 5
    path: Path | None = None

    @property
    def uses_oidc(self) -> bool:
        return bool(self.oidc_roles) or self.oidc_default_role is not None


def load_config(path: str | os.PathLike | None = None) -> AccessConfig | None:
    """The access file, or None when there is none. Malformed files raise AccessConfigError."""
    p = Path(path) if path else access_file()
    if not p.exists():
        return None
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AccessConfigError(f"{p}: not valid TOML ({e}).") from e
    users = {}
    for name, spec in (raw.get("users") or {}).items():
        if not isinstance(spec, dict) or spec.get("role") not in ROLES or not spec.get("password_hash"):
            raise AccessConfigError(f"{p}: user {name!r} needs role (one of {', '.join(ROLES)}) and password_hash.")
        users[name] = {"role": spec["role"], "password_hash": spec["password_hash"]}
    oidc = raw.get("oidc") or {}
    roles = {str(k).lower(): v for k, v in (oidc.get("roles") or {}).items()}
    for email, role in roles.items():
        if role not in ROLES:
            raise AccessConfigError(f"{p}: [oidc.roles] {email!r} has unknown role {role!r}.")
    default_role = oidc.get("default_role")
    if default_role is not None and default_role not in ROLES:
        raise AccessConfigError(f"{p}: [oidc] default_role {default_role!r} is not one of {', '.join(ROLES)}.")
    keep = (raw.get("backups") or {}).get("keep", 5)
    if not isinstance(keep, int) or keep < 0:
        raise AccessConfigError(f"{p}: [backups] keep must be a whole number >= 0.")
    if not users and not roles and default_role is None:
        raise AccessConfigError(f"{p}: no [users.NAME] and no [oidc] section: nobody could sign in.")
    return AccessConfig(users, roles, default_role, keep, p)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AccessConfigError("Passwords need at least 8 characters.")
    return _hasher().hash(password)


def authenticate(config: AccessConfig, name: str, password: str) -> User | None:
    """The user when the name and password match, else None (same answer for unknown name or wrong password)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    spec = config.users.get(name)
    h = _hasher()
    if spec is None:
        # Spend the same time as a real check, so response time does not reveal which names exist.
        with contextlib.suppress(VerificationError, InvalidHashError):
            h.verify(_dummy_hash(), password)
        return None
    try:
        h.verify(spec["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return User(name, spec["role"], "password")


class SignInThrottle:
    """Refuses sign-in for a user name after too many failed attempts, for a while: password guessing gets
    ``limit`` tries per ``window`` seconds per name, whichever browser tab or session the tries come from.

    Kept in the server process (a restart clears it), counted per name as typed, so an unknown name is
    throttled the same way as a real one and the answer does not reveal which names exist."""

    def __init__(self, limit: int = 5, window: float = 15 * 60, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str) -> list[float]:
        now = self.clock()
        kept = [t for t in self._failures.get(name, []) if now - t < self.window]
        if kept:
            self._failures[name] = kept
        else:
            self._failures.pop(name, None)
        return kept

    def wait_seconds(self, name: str) -> float:
        """0 when the name may try now, else the seconds until it may."""
        with self._lock:
            recent = self._recent(name.casefold())
            if len(recent) < self.limit:
                return 0.0
            return max(recent[-self.limit] + self.window - self.clock(), 0.0)

    def failed(self, name: str) -> None:
        with self._lock:
            key = name.casefold()
            self._failures[key] = [*self._recent(key), self.clock()]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.casefold(), None)


#: The server's sign-in throttle (5 failed tries per name per 15 minutes).
SIGN_IN_THROTTLE = SignInThrottle()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("no such user: constant-time answer")


def oidc_user(config: AccessConfig, email: str | None, name: str | None = None) -> User | None:
    """Role for a user signed in through the identity provider, or None when the site does not admit them."""
    if not email:
        return None
    role = config.oidc_roles.get(email.lower(), config.oidc_default_role)
    return User(name or email, role, "oidc") if role else None


def save_user(name: str, role: str, password: str, path: str | os.PathLike | None = None) -> Path:
    """Add or replace a user in the access file (creating it), storing only the argon2id hash."""
    if role not in ROLES:
        raise AccessConfigError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    if not name or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccessConfigError("User names may hold letters, digits and . _ - @ only.")
    p = Path(path) if path else access_file()
    raw = tomllib.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
    raw.setdefault("users", {})[name] = {"role": role, "password_hash": hash_password(password)}
    raw.setdefault("backups", {}).setdefault("keep", 5)
    p.write_text(_dump_toml(raw), encoding="utf-8")
    os.chmod(p, 0o600)
    return p


def remove_user(name: str, path: str | os.PathLike | None = None) -> bool:
    p = Path(path) if path else access_file()
    if not p.exists():
        return False
    raw = tomllib.loads(p.read_text(encoding="utf-8"))
    found = (raw.get("users") or {}).pop(name, None) is not None
    p.write_text(_dump_toml(raw), encoding="utf-8")
    return found


def _dump_toml(raw: dict) -> str:
    """Enough TOML for the access file's shape (tables of strings, ints and one nested table level)."""

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return json.dumps(str(v))  # a JSON string is a valid TOML basic string

    out: list[str] = ["# access.toml: see `python -m analytics users --help`. Passwords are argon2id hashes.", ""]
    for section, body in raw.items():
        if not isinstance(body, dict):
            out.append(f"{section} = {val(body)}")
            continue
        flat = {k: v for k, v in body.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in body.items() if isinstance(v, dict)}
        if flat or not nested:
            out.append(f"[{section}]")
            out += [f"{json.dumps(k)} = {val(v)}" for k, v in flat.items()]
            out.append("")
        for k, sub in nested.items():
            out.append(f"[{section}.{json.dumps(k)}]")
            out += [f"{json.dumps(kk)} = {val(vv)}" for kk, vv in sub.items()]
            out.append("")
    return "\n".join(out)


LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(address: str | None) -> bool:
    """Streamlit's server.address: unset means every interface, i.e. served on the network."""
    return bool(address) and address.strip().lower() in LOOPBACK


def no_config_message(address: str | None) -> str:
    where = address or "all network interfaces (server.address is not set)"
    return (
        f"This dashboard is being served on {where} and has no access file ({access_file()}), so it refuses "
        "to start: anyone on the network could change the numbers.\n\n"
        "Either run it on this machine only (`make run`, which binds to localhost), or create the access file:\n\n"
        "    python -m analytics users add alice --role admin\n\n"
        "(it asks for the password and stores an argon2id hash), or set SOP_ACCESS to the path of one. "
        "Single sign-on through your identity provider: see the [oidc] section in the README."
    )
