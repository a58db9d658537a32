"""Campaigns (年度榜单, 批次): create and read them, the list's .xlsx template and import,
publication of the whole list, and statistics (JSON and .xlsx)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import Response

from engine import (
    AssessmentOpened,
    CampaignRecord,
    CampaignReport,
    CarryOverResult,
    ImportResult,
    PublishResult,
)

from ..auth import require_user
from ..errors import problem
from ..exports import XLSX_MIMETYPE as XLSX
from ..exports import campaign_stats_download, campaign_template_download
from ..extension import get_engine
from ..schemas.campaigns import (
    AssessmentOpenedSchema,
    AssessmentSheetSchema,
    CampaignCreateSchema,
    CampaignListArgsSchema,
    CampaignReportSchema,
    CampaignSchema,
    CampaignUpdateSchema,
    CarryOverResultSchema,
    CarryOverSchema,
    ImportArgsSchema,
    ImportFileSchema,
    ImportResultSchema,
    PublishResultSchema,
    StatsArgsSchema,
    StatsSchema,
)
from ..schemas.common import page_schema, sliced
from .common import Blueprint, errors

blp = Blueprint(
    "Campaigns",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="年度榜单: a year's list of problems, imported from Excel, published at once, counted.",
)

CampaignPageSchema = page_schema(CampaignSchema, "CampaignPage")


@blp.route("", methods=["POST"])
@blp.arguments(CampaignCreateSchema)
@blp.response(201, CampaignSchema)
@errors(blp, 403, 404, 409, 422)
def create(body: dict[str, Any]) -> CampaignRecord:
    """Start a campaign run by an organiser unit (its admins, or the tenant's admins)."""
    return get_engine().create_campaign(require_user().username, body)


@blp.route("", methods=["GET"])
@blp.arguments(CampaignListArgsSchema, location="query")
@blp.response(200, CampaignPageSchema)
@errors(blp, 422)
def list_campaigns(args: dict[str, Any]) -> dict[str, Any]:
    """The campaigns of the caller's tenant, newest year first, with their counts."""
    return sliced(get_engine().list_campaigns(require_user().username), args)


@blp.route("/<int:campaign_id>", methods=["GET"])
@blp.response(200, CampaignSchema)
@errors(blp, 404)
def get_campaign(campaign_id: int) -> CampaignRecord:
    """One campaign with its problems counted by status and by category."""
    return get_engine().get_campaign(campaign_id, require_user().username)


@blp.route("/<int:campaign_id>", methods=["PATCH"])
@blp.arguments(CampaignUpdateSchema)
@blp.response(200, CampaignSchema)
@errors(blp, 403, 404, 422)
def update_campaign(body: dict[str, Any], campaign_id: int) -> CampaignRecord:
    """Change who may claim the campaign's problems (``claim_ranks``; admins of its organiser unit)."""
    return get_engine().update_campaign(campaign_id, require_user().username, body)


@blp.route("/<int:campaign_id>/problems/template", methods=["GET"])
@blp.response(
    200, content_type=XLSX, description="the list template: headers, an example row, the categories"
)
@errors(blp, 404)
def template(campaign_id: int) -> Response:
    """The .xlsx template of the campaign's problem list; 类别 offers the campaign's categories."""
    return campaign_template_download(campaign_id, viewer=require_user().username)


@blp.route("/<int:campaign_id>/problems/import", methods=["POST"])
@blp.arguments(ImportArgsSchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportResultSchema)
@errors(blp, 403, 404, 413, 422)
def import_problems(args: dict[str, Any], files: dict[str, Any], campaign_id: int) -> ImportResult | Response:
    """Import a problem list (.xlsx): every row checked; any refused cell answers 422 with each
    ``{row, column, message}`` and imports nothing; rows whose 编号 is already in the campaign are skipped."""
    user = require_user()
    result = get_engine().import_problems(
        campaign_id, user.username, files["file"].read(), dry_run=args["dry_run"]
    )
    if result.errors:
        body = ImportResultSchema().dump(result)
        resp = problem(422, f"{len(result.errors)} 处错误，未导入任何问题", title="Problem list invalid")
        payload = json.loads(resp.get_data(as_text=True))
        payload.update(body)
        resp.set_data(json.dumps(payload, ensure_ascii=False))
        return resp
    return result


@blp.route("/<int:campaign_id>/publish", methods=["POST"])
@blp.response(200, PublishResultSchema)
@errors(blp, 403, 404, 422)
def publish(campaign_id: int) -> PublishResult:
    """Publish every approved problem of the campaign on the board at once, with its listed points and deadline."""
    return get_engine().publish_campaign(campaign_id, require_user().username)


@blp.route("/<int:campaign_id>/stats", methods=["GET"])
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, StatsSchema)
@errors(blp, 404, 422)
def stats(args: dict[str, Any], campaign_id: int) -> dict[str, Any]:
    """Problems, claimed, solved, overdue and people by category, unit, rank, status or month."""
    rows = get_engine().campaign_stats(campaign_id, require_user().username, args["by"])
    return {"by": args["by"], "items": [dataclasses.asdict(r) for r in rows]}


@blp.route("/<int:campaign_id>/stats/export", methods=["GET"])
@blp.arguments(StatsArgsSchema, location="query")
@blp.response(200, content_type=XLSX, description="the statistics as an .xlsx workbook, Chinese headers")
@errors(blp, 404, 422)
def export_stats(args: dict[str, Any], campaign_id: int) -> Response:
    """The campaign's statistics as an .xlsx workbook."""
    return campaign_stats_download(campaign_id, args["by"], viewer=require_user().username)


@blp.route("/<int:campaign_id>/assessment", methods=["POST"])
@blp.response(200, AssessmentOpenedSchema)
@errors(blp, 403, 404, 422)
def open_assessment(campaign_id: int) -> AssessmentOpened:
    """Open the year-end assessment (年终考评) on every running item: a task for the 考评组 in each;
    calling it again opens nothing twice."""
    return get_engine().open_assessment(campaign_id, require_user().username)


@blp.route("/<int:campaign_id>/assessment", methods=["GET"])
@blp.response(200, AssessmentSheetSchema)
@errors(blp, 403, 404)
def assessment_sheet(campaign_id: int) -> dict[str, Any]:
    """Every item as the 考评组 assesses it: claimants, progress, RAG, verdict, open task."""
    return {"items": get_engine().assessment_sheet(campaign_id, require_user().username)}


@blp.route("/<int:campaign_id>/carry-over", methods=["POST"])
@blp.arguments(CarryOverSchema)
@blp.response(200, CarryOverResultSchema)
@errors(blp, 403, 404, 409, 422)
def carry_over(body: dict[str, Any], campaign_id: int) -> CarryOverResult:
    """Carry every unsolved or carried-over item into next year's campaign (结转); never twice."""
    return get_engine().carry_over(campaign_id, require_user().username, body["to_campaign"])


@blp.route("/<int:campaign_id>/report", methods=["GET"])
@blp.response(200, CampaignReportSchema)
@errors(blp, 404)
def report(campaign_id: int) -> CampaignReport:
    """The campaign's results: verdicts counted and the people its acceptances recommended."""
    return get_engine().campaign_report(campaign_id, require_user().username)
