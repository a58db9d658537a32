"""Moving running instances to another version of their process (admins)."""

from __future__ import annotations

from typing import Any

from engine import MigrationResult

from ..auth import require_user
from ..extension import get_engine
from ..schemas.migration import MigrateArgsSchema, MigrationResultSchema
from .common import Blueprint, errors

blp = Blueprint(
    "Migration",
    __name__,
    url_prefix="/api/v1",
    description="Moving running instances of one version of a process to another (admins).",
)


@blp.route("/process-instances/migrate", methods=["POST"])
@blp.arguments(MigrateArgsSchema)
@blp.response(200, MigrationResultSchema)
@errors(blp, 403, 404, 422)
def migrate(body: dict[str, Any]) -> MigrationResult:
    """Move instances of ``from_version`` (every running one, or ``instance_ids``) to ``to_version``.

    Elements match by id, or as ``mapping`` says. Each instance moves in its own transaction: one
    that cannot move stays exactly as it was, with its ``problems`` in words, and the others move.
    ``dry_run`` says the same and changes nothing. An unknown key or version, or a mapping naming
    an element that does not exist, is 422; another tenant's instance id is 404.
    """
    return get_engine().migrate_instances(
        body["process_key"],
        body["from_version"],
        body["to_version"],
        mapping=body["mapping"],
        instance_ids=body.get("instance_ids"),
        dry_run=body["dry_run"],
        actor=require_user().username,
    )
