"""People, groups and API tokens (synced from the OA system or created by the CLI).

Tokens are stored as SHA-256 digests; passwords with scrypt. Roles: ``admin`` (deploy, jobs,
users) and ``oa-service`` (may act on behalf of a user).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import InvalidInputError, NotFoundError
from .records import UserRecord
from .tables import ApiToken, Membership, User

ROLES = ("admin", "oa-service")


def upsert_user(
    session: Session,
    username: str,
    *,
    now: datetime,
    display_name: str | None = None,
    groups: list[str] | None = None,
    roles: list[str] | None = None,
) -> UserRecord:
    if not username or len(username) > 200 or any(c.isspace() for c in username) or "/" in username:
        raise InvalidInputError("invalid username", {"username": ["1-200 characters, no spaces or '/' / 用户名无效"]})
    unknown = [r for r in roles or [] if r not in ROLES]
    if unknown:
        raise InvalidInputError(f"unknown roles {unknown}", {"roles": [f"unknown role(s) {', '.join(unknown)} / 角色无效"]})
    user = session.get(User, username)
    if user is None:
        user = User(username=username, display_name=display_name or username, roles=sorted(set(roles or [])), created_at=now)
        session.add(user)
    else:
        if display_name is not None:
            user.display_name = display_name
        if roles is not None:
            user.roles = sorted(set(roles))
    session.flush()
    if groups is not None:
        session.execute(delete(Membership).where(Membership.username == username))
        for group in sorted(set(groups)):
            session.add(Membership(group=group, username=username))
        session.flush()
    return get_user(session, username)


def get_user(session: Session, username: str) -> UserRecord:
    user = session.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    return UserRecord(user.username, user.display_name, groups_of(session, username), list(user.roles or []))


def find_user(session: Session, username: str) -> UserRecord | None:
    try:
        return get_user(session, username)
    except NotFoundError:
        return None


def groups_of(session: Session, username: str) -> list[str]:
    return list(session.scalars(select(Membership.group).where(Membership.username == username).order_by(Membership.group)))


def list_groups(session: Session) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for group, username in session.execute(select(Membership.group, Membership.username).order_by(Membership.group, Membership.username)):
        out.setdefault(group, []).append(username)
    return out


def list_users(session: Session, query: str | None = None, limit: int = 50) -> list[UserRecord]:
    stmt = select(User).order_by(User.username).limit(limit)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like))
    return [UserRecord(u.username, u.display_name, groups_of(session, u.username), list(u.roles or [])) for u in session.scalars(stmt)]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, username: str, *, now: datetime) -> str:
    get_user(session, username)
    token = "jb_" + secrets.token_urlsafe(32)
    session.add(ApiToken(username=username, token_hash=_digest(token), created_at=now))
    return token


def authenticate_token(session: Session, token: str) -> UserRecord | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    return get_user(session, row.username) if row is not None else None


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < 8:
        raise InvalidInputError("password too short", {"password": ["at least 8 characters / 至少 8 个字符"]})
    user = session.get(User, username)
    if user is None:
        raise NotFoundError(f"no user '{username}'")
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    user.password_hash = f"scrypt${salt.hex()}${key.hex()}"


def check_password(session: Session, username: str, password: str) -> UserRecord | None:
    user = session.get(User, username)
    if user is None or not user.password_hash:
        return None
    _, salt_hex, key_hex = user.password_hash.split("$")
    key = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return get_user(session, username) if hmac.compare_digest(key.hex(), key_hex) else None
