"""Appraisal schemes: checking a scheme's definition, storing a tenant's own, finding one by name.

A scheme names its dimensions ``{key, name, weight, min, max}``, how they combine (``rule``:
``weighted_sum``, the total is the sum of weight × score), how a panel's scorers aggregate
(or ``dmn``: a decision deployed with a process, ``decision.py``), how a panel's scorers aggregate
(``aggregation``: ``mean``; ``trimmed``, dropping one highest and one lowest score; ``weighted``
by scorer group, with ``group_weights``) and optionally the award it selects for with its quota.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from .. import rules
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..runtime.step import Step
from . import decision
from .sanhao import SHIPPED_SCHEMES
from .tables import AppraisalScheme

RULES = ("weighted_sum", "dmn")
# The campaign a scheme is for, read as a plain table: campaigns/ reads appraisals for its archive.
CAMPAIGN = table("campaign", column("id"), column("tenant"))
AGGREGATIONS = ("mean", "trimmed", "weighted")
SUBJECT_KINDS = ("person", "unit")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_definition(body: dict[str, Any]) -> dict[str, Any]:
    """The scheme as stored, or ``InvalidInputError`` naming every bad field."""
    errors: dict[str, list[str]] = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        errors["name"] = ["a name of 1 to 64 characters / 请填写方案名称"]
    if body.get("subject_kind") not in SUBJECT_KINDS:
        errors["subject_kind"] = ["person or unit / 对象类型应为 person 或 unit"]
    if body.get("rule", "weighted_sum") not in RULES:
        errors["rule"] = [f"one of {', '.join(RULES)} / 计分规则无效"]
    elif body.get("rule") == "dmn":
        for field in ("decision", "process_key"):
            if not isinstance(body.get(field), str) or not body[field].strip():
                errors[field] = ["a DMN rule names its decision and process / DMN 规则须指定决策和流程"]
    aggregation = body.get("aggregation", "mean")
    if aggregation not in AGGREGATIONS:
        errors["aggregation"] = [f"one of {', '.join(AGGREGATIONS)} / 汇总方式无效"]
    dims = body.get("dimensions")
    if not isinstance(dims, list) or not dims:
        errors["dimensions"] = ["at least one dimension / 至少一个维度"]
        dims = []
    seen: set[str] = set()
    for i, dim in enumerate(dims):
        problems = _dimension_problems(dim, seen)
        if problems:
            errors[f"dimensions.{i}"] = problems
    groups = body.get("group_weights") or {}
    if aggregation == "weighted" and (
        not isinstance(groups, dict) or not groups or not all(is_number(w) and w > 0 for w in groups.values())
    ):
        errors["group_weights"] = ["each scorer group with a positive weight / 请为每个评分组设置正权重"]
    award = body.get("award")
    if award is not None and not (
        isinstance(award, dict)
        and isinstance(award.get("kind"), str)
        and award["kind"].strip()
        and isinstance(award.get("quota"), int)
        and award["quota"] > 0
    ):
        errors["award"] = ["{kind, quota} with a positive quota / 奖项名额应为正整数"]
    if errors:
        raise InvalidInputError(f"scheme invalid: {', '.join(sorted(errors))}", errors)
    assert isinstance(name, str)
    out = {
        "name": name.strip(),
        "title": str(body.get("title") or name).strip(),
        "subject_kind": body["subject_kind"],
        "dimensions": [{k: d[k] for k in ("key", "name", "weight", "min", "max")} for d in dims],
        "rule": body.get("rule", "weighted_sum"),
        "aggregation": aggregation,
    }
    if aggregation == "weighted":
        out["group_weights"] = dict(groups)
    if out["rule"] == "dmn":
        out["decision"], out["process_key"] = body["decision"].strip(), body["process_key"].strip()
    if award is not None:
        out["award"] = {"kind": award["kind"].strip(), "quota": award["quota"]}
    return out


def _dimension_problems(dim: Any, seen: set[str]) -> list[str]:
    if not isinstance(dim, dict):
        return ["{key, name, weight, min, max} / 维度格式无效"]
    out = []
    key = dim.get("key")
    if not isinstance(key, str) or not key or len(key) > 64:
        out.append("a key of 1 to 64 characters / 请填写维度代码")
    elif key in seen:
        out.append(f"key {key} twice / 维度代码重复")
    else:
        seen.add(key)
    if not isinstance(dim.get("name"), str) or not dim["name"].strip():
        out.append("a name / 请填写维度名称")
    if not is_number(dim.get("weight")) or dim["weight"] <= 0:
        out.append("a positive weight / 权重应为正数")
    low, high = dim.get("min"), dim.get("max")
    if not (is_number(low) and is_number(high)) or low >= high:  # type: ignore[operator]  # numbers, checked
        out.append("min below max / 分值下限应小于上限")
    return out


def create(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    """Store a tenant's scheme (organisers and admins); its name is new in the tenant (409)."""
    s = step.session
    actor = rules.actor_of(s, step.actor or "")
    rules.require("manage_appraisal", actor)
    definition = check_definition(body)
    tenant = actor.tenant
    if definition["rule"] == "dmn":
        decision.check(step, tenant, definition)
    taken = s.scalar(
        select(AppraisalScheme.id).where(
            AppraisalScheme.name == definition["name"],
            AppraisalScheme.tenant.is_(None) if tenant is None else AppraisalScheme.tenant == tenant,
        )
    )
    if taken is not None:
        raise ConflictError(f"scheme {definition['name']} exists / 方案已存在")
    campaign = body.get("campaign")
    if (
        campaign is not None
        and s.execute(
            select(CAMPAIGN.c.id).where(
                CAMPAIGN.c.id == campaign,
                CAMPAIGN.c.tenant.is_(None) if tenant is None else CAMPAIGN.c.tenant == tenant,
            )
        ).first()
        is None
    ):
        raise InvalidInputError(
            f"no campaign {campaign}", {"campaign": [f"no campaign {campaign} / 榜单不存在"]}
        )
    s.add(
        AppraisalScheme(
            tenant=tenant,
            name=definition["name"],
            definition=definition,
            campaign_id=campaign if isinstance(campaign, int) else None,
            process_key=definition.get("process_key"),
            created_by=step.actor,
            created_at=step.now,
        )
    )
    s.flush()
    return {**definition, "shipped": False, "campaign": campaign, "process_key": body.get("process_key")}


def find(s: Session, tenant: str | None, name: str) -> dict[str, Any]:
    """The scheme ``name`` as ``tenant`` sees it: its own first, then the shipped ones; 404 otherwise."""
    own = s.scalar(
        select(AppraisalScheme).where(
            AppraisalScheme.name == name,
            AppraisalScheme.tenant.is_(None) if tenant is None else AppraisalScheme.tenant == tenant,
        )
    )
    if own is not None:
        return dict(own.definition)
    if name in SHIPPED_SCHEMES:
        return dict(SHIPPED_SCHEMES[name])
    raise NotFoundError(f"no scheme '{name}'")


def listing(s: Session, tenant: str | None) -> list[dict[str, Any]]:
    """Every scheme ``tenant`` may use: its own, and the shipped ones it does not shadow."""
    own = list(
        s.scalars(
            select(AppraisalScheme)
            .where(AppraisalScheme.tenant.is_(None) if tenant is None else AppraisalScheme.tenant == tenant)
            .order_by(AppraisalScheme.id)
        )
    )
    names = {row.name for row in own}
    shipped = [{**d, "shipped": True} for n, d in SHIPPED_SCHEMES.items() if n not in names]
    return shipped + [
        {**row.definition, "shipped": False, "campaign": row.campaign_id, "process_key": row.process_key}
        for row in own
    ]


def weight_order(definition: dict[str, Any]) -> list[str]:
    """Dimension keys heaviest first (declaration order among equal weights): the tie rule's order."""
    dims = definition["dimensions"]
    return [d["key"] for d in sorted(dims, key=lambda d: -d["weight"])]
