"""People, groups, API tokens, web sessions and login throttling.

Tokens, session ids and login-link tokens are stored as SHA-256 digests only; passwords with
scrypt. Roles: ``admin`` (deploy, jobs, users) and ``oa-service`` (may act on behalf of a user).

A token or a web session counts only while it is not revoked, not expired and its user is
active, and this is checked on every use (no cache), so revoking or deactivating holds at once
in every server process. Failed logins are counted per username and per client address in the
database, so the throttle holds across server processes too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .errors import ConflictError, InvalidInputError, NotFoundError, TooManyAttemptsError
from .integration.tables import LoginLink
from .records import TokenRecord, UserRecord
from .store import rows_changed
from .tables import ApiToken, LoginFailures, Membership, Unit, User, WebSession

ROLES = ("admin", "oa-service")
SCOPED_ROLE = re.compile(r"^admin@[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # admin of a unit's subtree (rules.py)
TOKEN_PREFIX = "jb_"
TOUCH_EVERY = timedelta(minutes=1)  # last-used / last-seen stamps are refreshed at most this often
SESSION_MAX_AGE = timedelta(hours=12)  # a working day, like the pages' cookie
SESSION_RECORDS_KEPT = timedelta(days=30)  # ended sessions stay this long for the record

# Login throttling, as (key, failures allowed, longest lockout): a username may fail 5 times, then
# each further failure doubles its lockout up to 15 minutes. A client address (many people may sit
# behind one intranet proxy) may fail 20 times and is held back at most a minute at a time: enough
# to slow a password sprayer to a guess a minute without locking a whole office out for long.
# Failures older than FAILURE_MEMORY are forgotten.
USER_FREE_FAILURES, USER_LOCKOUT_MAX = 5, timedelta(minutes=15)
ADDRESS_FREE_FAILURES, ADDRESS_LOCKOUT_MAX = 20, timedelta(minutes=1)
FAILURE_MEMORY = timedelta(hours=1)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# ---- users ------------------------------------------------------------------------------------
def upsert_user(
    session: Session,
    username: str,
    *,
    now: datetime,
    display_name: str | None = None,
    groups: list[str] | None = None,
    roles: list[str] | None = None,
    active: bool | None = None,
) -> UserRecord:
    """Create or update a user; ``active=False`` also ends all their access (``end_access``)."""
    if not username or len(username) > 200 or any(c.isspace() for c in username) or "/" in username:
        raise InvalidInputError(
            "invalid username", {"username": ["1-200 characters, no spaces or '/' / 用户名无效"]}
        )
    unknown = [r for r in roles or [] if r not in ROLES and not SCOPED_ROLE.match(r)]
    if unknown:
        raise InvalidInputError(
            f"unknown roles {unknown}", {"roles": [f"unknown role(s) {', '.join(unknown)} / 角色无效"]}
        )
    user = session.get(User, username)
    scoped_tenant = _scoped_roles_tenant(session, roles or [], user.tenant if user is not None else None)
    if user is None:
        user = User(
            username=username,
            display_name=display_name or username,
            roles=sorted(set(roles or [])),
            created_at=now,
            active=True if active is None else active,
            tenant=scoped_tenant,
        )
        session.add(user)
    else:
        if display_name is not None:
            user.display_name = display_name
        if roles is not None:
            user.roles = sorted(set(roles))
            user.tenant = user.tenant or scoped_tenant
        if active is not None:
            user.active = active
    if active is False:
        end_access(session, username, now=now)
    session.flush()
    if groups is not None:
        session.execute(delete(Membership).where(Membership.username == username))
        for group in sorted(set(groups)):
            session.add(Membership(group=group, username=username))
        session.flush()
    return get_user(session, username)


def _scoped_roles_tenant(session: Session, roles: list[str], tenant: str | None) -> str | None:
    """The tenant of the units scoped roles (``admin@town1``) name: they must exist and lie in one
    tenant, the user's own; a user without a tenant joins it, as a post would make them."""
    codes = sorted({r.partition("@")[2] for r in roles if "@" in r})
    if not codes:
        return None
    found = {
        code: tenant
        for code, tenant in session.execute(select(Unit.code, Unit.tenant).where(Unit.code.in_(codes)))
    }
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInputError(
            f"no unit {', '.join(missing)}", {"roles": [f"no unit '{', '.join(missing)}' / 单位不存在"]}
        )
    tenants = set(found.values()) | ({tenant} if tenant is not None else set())
    if len(tenants) > 1:
        raise InvalidInputError(
            "scoped roles in another tenant",
            {
                "roles": [
                    f"units of more than one tenant: {', '.join(sorted(tenants))} / 不能跨县（租户）授权"
                ]
            },
        )
    return tenants.pop()


def get_user(session: Session, username: str) -> UserRecord:
    user = session.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    return _user_record(session, user)


def _user_record(session: Session, user: User) -> UserRecord:
    return UserRecord(
        user.username,
        user.display_name,
        groups_of(session, user.username),
        list(user.roles or []),
        bool(user.active),
        user.tenant,
    )


def groups_of(session: Session, username: str) -> list[str]:
    return list(
        session.scalars(
            select(Membership.group).where(Membership.username == username).order_by(Membership.group)
        )
    )


def list_groups(session: Session, where: ColumnElement[bool] | None = None) -> dict[str, list[str]]:
    """Groups and their members; ``where`` (on ``User``) keeps the members of one tenant."""
    stmt = select(Membership.group, Membership.username).order_by(Membership.group, Membership.username)
    if where is not None:
        stmt = stmt.join(User, User.username == Membership.username).where(where)
    out: dict[str, list[str]] = {}
    for group, username in session.execute(stmt):
        out.setdefault(group, []).append(username)
    return out


def list_users(
    session: Session, query: str | None = None, limit: int = 50, where: ColumnElement[bool] | None = None
) -> list[UserRecord]:
    """Users by name; ``where`` (on ``User``) keeps one tenant's people."""
    stmt = select(User).order_by(User.username).limit(limit)
    if where is not None:
        stmt = stmt.where(where)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like))
    return [_user_record(session, u) for u in session.scalars(stmt)]


def _require_active(session: Session, username: str) -> User:
    user = session.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    if not user.active:
        raise ConflictError(f"user '{username}' is deactivated")
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def end_access(session: Session, username: str, *, now: datetime) -> None:
    """Deactivation: revoke every token, web session and unused login link of the user, so that
    reactivating later restores only the password login, never an old credential."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(LoginLink)
        .where(LoginLink.username == username, LoginLink.used_at.is_(None))
        .values(used_at=now)
    )
    revoke_sessions(session, username, now=now)


# ---- API tokens -------------------------------------------------------------------------------
_LIFETIME = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_lifetime(text: str | None, field: str = "expires_in") -> timedelta | None:
    """``90d``, ``12h``, ``30m``; ``never`` (or empty) for a token that does not expire."""
    if text is None or text.strip().lower() in ("", "never", "0"):
        return None
    match = _LIFETIME.match(text.lower())
    if not match or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"bad lifetime {text!r}",
            {
                field: [
                    "a number of days, hours or minutes such as 90d, 12h, 30m, or never / 有效期格式如 90d"
                ]
            },
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def create_token(
    session: Session, username: str, *, now: datetime, lifetime: timedelta | None = None
) -> tuple[str, TokenRecord]:
    """A new token for an active user: the secret (shown once) and its record."""
    _require_active(session, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        username=username,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + lifetime if lifetime else None,
    )
    session.add(row)
    session.flush()
    return token, _token_record(row, now)


def list_tokens(session: Session, username: str, *, now: datetime) -> list[TokenRecord]:
    get_user(session, username)
    rows = session.scalars(select(ApiToken).where(ApiToken.username == username).order_by(ApiToken.id))
    return [_token_record(row, now) for row in rows]


def find_token(session: Session, token_or_id: str) -> ApiToken:
    """A token row by its id or by the secret itself."""
    text = token_or_id.strip()
    row = (
        session.get(ApiToken, int(text))
        if text.isdigit() and len(text) < 18
        else session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(text))).first()
    )
    if row is None:
        raise NotFoundError("no such token")
    return row


def revoke_token(session: Session, row: ApiToken, *, now: datetime) -> TokenRecord:
    if row.revoked_at is None:
        row.revoked_at = now
    return _token_record(row, now)


def authenticate_token(
    session: Session, token: str, *, now: datetime
) -> tuple[UserRecord, int, datetime | None] | None:
    """The live token's user, its id and when it was last used; ``None`` if unknown, revoked, expired or the user is deactivated."""
    found = session.execute(
        select(ApiToken.id, ApiToken.last_used_at, User)
        .join(User, User.username == ApiToken.username)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
        .where((ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
    ).first()
    if found is None:
        return None
    token_id, last_used, user = found
    return _user_record(session, user), token_id, last_used


def touch_token(session: Session, token_id: int, *, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def _token_record(row: ApiToken, now: datetime) -> TokenRecord:
    if row.revoked_at is not None:
        status = "revoked"
    elif row.expires_at is not None and row.expires_at <= now:
        status = "expired"
    else:
        status = "active"
    return TokenRecord(
        row.id, row.username, row.created_at, row.expires_at, row.last_used_at, row.revoked_at, status
    )


# ---- web sessions -----------------------------------------------------------------------------
def open_session(session: Session, username: str, *, now: datetime) -> str:
    """A new web session for an active user; the returned id goes in the cookie, its digest here.

    The user's records untouched for SESSION_RECORDS_KEPT are dropped on the way.
    """
    _require_active(session, username)
    session.execute(
        delete(WebSession).where(
            WebSession.username == username, WebSession.last_seen_at < now - SESSION_RECORDS_KEPT
        )
    )
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(session_id), username=username, created_at=now, last_seen_at=now))
    return session_id


def session_user(
    session: Session, session_id: str, *, now: datetime, max_age: timedelta
) -> tuple[UserRecord, datetime] | None:
    """The user of a live web session and when it was last seen; ``None`` when revoked, unknown,
    older than ``max_age`` or the user is deactivated."""
    found = session.execute(
        select(WebSession.last_seen_at, User)
        .join(User, User.username == WebSession.username)
        .where(
            WebSession.id_hash == _digest(session_id), WebSession.revoked_at.is_(None), User.active.is_(True)
        )
        .where(WebSession.created_at > now - max_age)
    ).first()
    if found is None:
        return None
    last_seen, user = found
    return _user_record(session, user), last_seen


def touch_session(session: Session, session_id: str, *, now: datetime) -> None:
    session.execute(
        update(WebSession).where(WebSession.id_hash == _digest(session_id)).values(last_seen_at=now)
    )


def end_session(session: Session, session_id: str, *, now: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.id_hash == _digest(session_id), WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_sessions(session: Session, username: str, *, now: datetime) -> int:
    """End every web session of a user (deactivation, password change); how many were open."""
    done = session.execute(
        update(WebSession)
        .where(WebSession.username == username, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return rows_changed(done)


# ---- passwords --------------------------------------------------------------------------------
def set_password(session: Session, username: str, password: str, *, now: datetime) -> None:
    """Set a password and end the user's web sessions (a changed password logs out everywhere)."""
    if len(password) < 8:
        raise InvalidInputError("password too short", {"password": ["at least 8 characters / 至少 8 个字符"]})
    user = session.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    user.password_hash = f"scrypt${salt.hex()}${key.hex()}"
    revoke_sessions(session, username, now=now)


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown users so they cost the same time as known ones."""
    salt = secrets.token_bytes(16)
    return f"scrypt${salt.hex()}${hashlib.scrypt(secrets.token_bytes(16), salt=salt, **_SCRYPT).hex()}"


def check_password(session: Session, username: str, password: str) -> UserRecord | None:
    """The user if the password is right and the user active; one scrypt either way, so timing tells nothing."""
    user = session.get(User, username) if username else None
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    _, salt_hex, key_hex = stored.split("$")
    key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    if hmac.compare_digest(key.hex(), key_hex) and user is not None and user.password_hash and user.active:
        return _user_record(session, user)
    return None


# ---- login throttling -------------------------------------------------------------------------
ThrottleKeys = tuple[tuple[str, int, timedelta], ...]


def throttle_keys(username: str, client: str | None) -> ThrottleKeys:
    """The counters a login attempt touches: the username's first, then the client address's."""
    keys = [("user:" + _digest(username.strip().lower()), USER_FREE_FAILURES, USER_LOCKOUT_MAX)]
    if client:
        keys.append(("addr:" + _digest(client), ADDRESS_FREE_FAILURES, ADDRESS_LOCKOUT_MAX))
    return tuple(keys)


def begin_attempt(session: Session, keys: ThrottleKeys, *, now: datetime) -> None:
    """Refuse while any counter is locked; otherwise count this attempt as a failure until it succeeds.

    Counting before the password is checked means parallel guesses cannot slip past the limit.
    """
    locked = session.scalars(
        select(LoginFailures.locked_until).where(
            LoginFailures.key.in_([k for k, _, _ in keys]), LoginFailures.locked_until > now
        )
    ).all()
    if locked:
        wait = max(t for t in locked if t is not None) - now  # the query keeps only set locks
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise TooManyAttemptsError(
            f"too many failed logins; try again in {seconds} s / 登录失败次数过多，请 {seconds} 秒后再试",
            retry_after=seconds,
        )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stale = now - FAILURE_MEMORY
    for key, free, longest in keys:
        stmt = (
            insert(LoginFailures)
            .values(key=key, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[LoginFailures.key],
                set_={
                    "failures": case(
                        (LoginFailures.last_failure_at < stale, 1), else_=LoginFailures.failures + 1
                    ),
                    "last_failure_at": now,
                },
            )
            .returning(LoginFailures.failures)
        )
        failures = session.execute(stmt).scalar_one()
        if failures >= free:
            lock = min(timedelta(seconds=2 ** min(failures - free, 20)), longest)
            session.execute(
                update(LoginFailures).where(LoginFailures.key == key).values(locked_until=now + lock)
            )
    session.execute(
        delete(LoginFailures).where(
            LoginFailures.last_failure_at < stale,
            (LoginFailures.locked_until.is_(None)) | (LoginFailures.locked_until < now),
        )
    )


def attempt_succeeded(session: Session, keys: ThrottleKeys) -> None:
    """The password was right: forget the username's failures; take back this attempt's count at the address."""
    (user_key, _, _), *others = keys
    session.execute(delete(LoginFailures).where(LoginFailures.key == user_key))
    for key, free, _ in others:
        session.execute(
            update(LoginFailures)
            .where(LoginFailures.key == key, LoginFailures.failures > 0)
            .values(failures=LoginFailures.failures - 1)
        )
        session.execute(
            update(LoginFailures)
            .where(LoginFailures.key == key, LoginFailures.failures < free)
            .values(locked_until=None)
        )
