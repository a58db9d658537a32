"""REST resources: one flask-smorest Blueprint per area of the contract, all under /api/v1."""

from __future__ import annotations

from . import (
    appraisal,
    approval,
    attachments,
    board,
    campaigns,
    definitions,
    frontline,
    incidents,
    instances,
    jobs,
    metrics,
    notifications,
    people,
    sanhao,
    tasks,
    tokens,
    units,
    users,
    villages,
    webhooks,
)

BLUEPRINTS = (
    users.blp,
    tokens.blp,
    definitions.blp,
    instances.blp,
    tasks.blp,
    approval.blp,
    jobs.blp,
    webhooks.blp,
    notifications.blp,
    board.blp,
    campaigns.blp,
    attachments.blp,
    units.blp,
    people.blp,
    metrics.blp,
    incidents.blp,
    appraisal.blp,
    frontline.blp,
    sanhao.blp,
    villages.blp,
)
