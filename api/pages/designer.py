"""The process designer (流程设计, admins): definitions and versions, the bpmn-js modeler with its
properties panel and the dmn-js editor on the latest version. Its script validates and deploys through
the REST API (``POST /api/v1/process-definitions[/validate]``) with the session cookie and CSRF header,
after showing what changed since the deployed version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

import forms
from engine import DefinitionRecord, EngineError, InvalidInputError, MigrationResult, NotFoundError

from . import words
from .common import current_user, get_engine, may, named, one_language, permission_required

bp = Blueprint("designer", __name__, url_prefix="/designer")


def problem_titles() -> dict[str, str]:
    """What each of the engine's problem codes means, in the page's language, above the problem's own detail."""
    return {
        "xml-empty": _("文件是空的"),
        "xml-not-xml": _("文件不是 XML"),
        "xml-malformed": _("XML 格式错误"),
        "xml-doctype": _("不允许 DOCTYPE 声明"),
        "xml-dtd": _("不允许 DTD"),
        "xml-too-deep": _("嵌套层级过深"),
        "xml-too-large": _("文件过大"),
        "xml-too-many-elements": _("元素过多"),
        "xml-attribute-too-long": _("属性值过长"),
        "xsd-invalid": _("不符合 BPMN 规范"),
        "not-bpmn": _("不是 BPMN 流程图"),
        "normalise-failed": _("无法处理此流程图"),
        "no-files": _("没有上传文件"),
        "no-bpmn": _("缺少 .bpmn 文件"),
        "no-process": _("没有可执行的流程"),
        "no-executable-process": _("没有可执行的流程"),
        "unknown-file": _("不支持的文件类型"),
        "unsupported-element": _("不支持的元素"),
        "sub-choreography": _("不支持的元素"),
        "unsupported-service-task": _("不支持的服务任务"),
        "unsupported-script-language": _("不支持的脚本语言"),
        "unsupported-expression-language": _("条件表达式无法转换为 Python"),
        "unsupported-timer": _("不支持的定时设置"),
        "invalid-timer": _("定时设置无效"),
        "missing-script": _("脚本任务缺少脚本"),
        "unresolved-reference": _("引用了不存在的定义"),
        "ambiguous-flow": _("流向不明确"),
        "invalid-property": _("属性值无效"),
        "engine-owned-variable": _("使用了系统保留的变量名"),
        "process-too-long": _("流程过长"),
        "spiff-invalid": _("流程引擎校验未通过"),
        "spiff-internal-error": _("流程引擎无法处理此元素"),
        "form-missing": _("表单不存在"),
        "form-not-json": _("表单不是合法的 JSON"),
        "form-invalid": _("表单定义无效"),
        "form-pattern-unsafe": _("表单中的正则表达式不安全"),
        "dropped-data-association": _("数据关联将被忽略"),
        "implicit-split": _("隐式分支已转换"),
        "translated-expression": _("条件已自动转换"),
        "made-default": _("已设为默认流"),
        "made-executable": _("已设为可执行"),
    }


@bp.get("")
@permission_required("deploy")
def index():
    """Every process definition with its versions and their files."""
    engine, me = get_engine(), current_user().username
    rows = []
    for latest in engine.list_definitions(viewer=me):
        full = engine.get_definition(latest.key, viewer=me)
        files = {v: sorted(engine.definition_files(latest.key, v, viewer=me)) for v in full.versions}
        rows.append({"definition": full, "files": files})
    return render_template("pages/designer/index.html", rows=rows, may_migrate=may("migrate_instances"))


@bp.get("/<key>")
@permission_required("deploy")
def edit(key: str):
    """Open the modeler on the latest version (or ``?version=``) of one definition."""
    engine = get_engine()
    try:
        me = current_user().username
        definition = engine.get_definition(key, request.args.get("version", type=int), viewer=me)
        files = engine.definition_files(key, definition.version, viewer=me)
    except NotFoundError:
        abort(404)
    bpmn = {n: x for n, x in sorted(files.items()) if n.endswith(".bpmn")}
    dmn = {n: x for n, x in sorted(files.items()) if n.endswith(".dmn")}
    latest = engine.get_definition(key, viewer=me)
    deployed = (
        files
        if latest.version == definition.version
        else engine.definition_files(key, latest.version, viewer=me)
    )
    return render_template(
        "pages/designer/edit.html",
        definition=definition,
        latest=latest,
        bpmn=bpmn,
        dmn=dmn,
        deployed={n: x for n, x in deployed.items() if n.endswith(".bpmn")},
        forms=form_names(files),
        problem_codes=problem_titles(),
    )


def form_names(files: dict[str, str]) -> list[str]:
    """The form files a task may name: the shipped ones and those deployed with this version."""
    shipped = {p.name for p in Path(forms.__file__).parent.glob("*.json")}
    return sorted(shipped | {n.rsplit("/", 1)[-1] for n in files if n.endswith(".json")})


@bp.get("/<key>/versions/<int:version>/files/<path:filename>")
@permission_required("deploy")
def download(key: str, version: int, filename: str):
    """Download one file of one deployed version."""
    try:
        files = get_engine().definition_files(key, version, viewer=current_user().username)
    except NotFoundError:
        abort(404)
    if filename not in files:
        abort(404)
    return Response(
        files[filename],
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{key}-v{version}-{filename}"'},
    )


@bp.get("/<key>/compare")
@permission_required("deploy")
def compare(key: str):
    """Two versions side by side: what was added, removed and changed, on both diagrams and in words."""
    engine, me = get_engine(), current_user().username
    try:
        found = engine.diff_definition(
            key,
            from_version=request.args.get("from", type=int),
            to_version=request.args.get("to", type=int),
            viewer=me,
        )
        old = engine.get_definition(key, found.from_version, viewer=me)
        new = engine.get_definition(key, found.to_version, viewer=me)
        versions = engine.get_definition(key, viewer=me).versions
        old_files = engine.definition_files(key, found.from_version, viewer=me)
        new_files = engine.definition_files(key, found.to_version, viewer=me)
    except NotFoundError:
        abort(404)
    except InvalidInputError:  # v1 has nothing before it: say so on the page rather than fail
        return render_template(
            "pages/designer/compare.html", definition=engine.get_definition(key, viewer=me), diff=None
        )
    return render_template(
        "pages/designer/compare.html",
        definition=new,
        old=old,
        new=new,
        versions=versions,
        diff=found,
        types=words.element_types(),
        label=_change_label,
        refs=REFERENCES,
        old_name=_element_label(old, found.before),
        new_name=_element_label(new, found.after),
        xml={"old": _first_bpmn(old_files), "new": _first_bpmn(new_files)},
        marks={
            "added": [e.id for e in found.added],
            "removed": [e.id for e in found.removed],
            "changed": [e.id for e in found.changed],
        },
    )


REFERENCES = {"sourceRef", "targetRef", "default", "attachedToRef"}  # properties whose value is an element


def _change_label(prop: str) -> str:
    """A changed property in words: the designer panel's label, a lane's rule by its lane."""
    if prop.startswith("property:lane:"):
        return _("泳道「%(lane)s」由谁办理", lane=prop.removeprefix("property:lane:"))
    return words.diff_properties().get(prop, prop.removeprefix("property:"))


def _element_label(definition: DefinitionRecord, elements: dict[str, Any]) -> Callable[[str | None], str]:
    """How the page names an element of a version: its name in the page's language; an unnamed
    flow by its two ends; any other unnamed element by its type."""
    types = words.element_types()

    def label(element_id: str | None, depth: int = 0) -> str:
        if not element_id:
            return "—"
        element = elements.get(element_id)
        if element_id in definition.names or element is None:
            return named(definition, element_id)
        ends = element.props.get("sourceRef"), element.props.get("targetRef")
        if all(ends) and depth == 0:
            return f"{label(ends[0], 1)} → {label(ends[1], 1)}"
        return types.get(element.type, element.type)

    return label


def _first_bpmn(files: dict[str, str]) -> str:
    return next((text for name, text in sorted(files.items()) if name.lower().endswith(".bpmn")), "")


MAPPED = "map-"  # form fields map-<old element id> = new element id


@bp.get("/<key>/migrate")
@permission_required("migrate_instances")
def migrate(key: str):
    """迁移实例: where the instances of one version wait, a new element for each waiting one the
    other version lacks, then a dry run read in words and the move itself."""
    return _migration_page(key, request.args.get("from", type=int), request.args.get("to", type=int))


@bp.post("/<key>/migrate")
@permission_required("migrate_instances")
def migrate_run(key: str):
    """试运行 (changes nothing) or 迁移 (after the browser's confirmation), then the same page with
    each instance's result."""
    from_version = request.form.get("from", type=int)
    to_version = request.form.get("to", type=int)
    mapping = {
        name.removeprefix(MAPPED): value
        for name, value in request.form.items()
        if name.startswith(MAPPED) and value
    }
    dry_run = request.form.get("action") != "migrate"
    result, error = None, None
    if from_version is None or to_version is None:
        error = _("请选择迁移前后的版本")
    else:
        try:
            result = get_engine().migrate_instances(
                key,
                from_version,
                to_version,
                mapping=mapping,
                dry_run=dry_run,
                actor=current_user().username,
            )
        except NotFoundError:
            abort(404)
        except EngineError as exc:
            error = one_language(exc.detail)
    return _migration_page(key, from_version, to_version, mapping=mapping, result=result, error=error)


def _migration_page(
    key: str,
    from_version: int | None,
    to_version: int | None,
    *,
    mapping: dict[str, str] | None = None,
    result: MigrationResult | None = None,
    error: str | None = None,
):
    engine, me = get_engine(), current_user().username
    try:
        latest = engine.get_definition(key, viewer=me)
    except NotFoundError:
        abort(404)
    versions = latest.versions
    if len(versions) < 2:
        return render_template("pages/designer/migrate.html", definition=latest, overview=None)
    to_version = to_version if to_version in versions else versions[-1]
    older = [v for v in versions if v != to_version]
    from_version = from_version if from_version in older else older[-1]
    try:
        overview = engine.migration_overview(key, from_version, to_version, viewer=me)
        old = engine.get_definition(key, from_version, viewer=me)
        new = engine.get_definition(key, to_version, viewer=me)
    except NotFoundError:
        abort(404)
    return render_template(
        "pages/designer/migrate.html",
        definition=latest,
        versions=versions,
        overview=overview,
        old=old,
        new=new,
        mapping=mapping or {},
        waiting=[(w, named(old, w.element_id)) for w in overview.waiting],
        targets=[(t.element_id, named(new, t.element_id)) for t in overview.targets],
        result=result,
        rows=_result_rows(result) if result is not None else [],
        error=error,
    )


def _result_rows(result: MigrationResult) -> list[dict[str, Any]]:
    """Each instance of a result as people know it (its title or business key, who started it)
    with, in the page's language, what keeps it where it is and what is only worth knowing."""
    engine, me = get_engine(), current_user().username
    rows = []
    for item in result.items:
        try:
            instance = engine.get_instance(item.id, viewer=me)
        except EngineError:
            instance = None
        title = None
        if instance is not None:
            title = instance.data.get("title") if isinstance(instance.data.get("title"), str) else None
            title = title or instance.business_key
        rows.append(
            {
                "item": item,
                "instance": instance,
                "title": title,
                "waits": [named(instance, e) for e in instance.active_elements]
                if instance is not None
                else [],
                "problems": [one_language(p.message) for p in item.problems if p.blocking],
                "notes": [one_language(p.message) for p in item.problems if not p.blocking],
            }
        )
    return rows


PERIODS = (7, 30, 90, 365)


@bp.get("/<key>/analytics")
@permission_required("deploy")
def analytics(key: str):
    """Where work waits: the newest version's diagram with each step's count, waits and backlog on
    it, coloured by how long people wait there, and the same as a table."""
    engine, me = get_engine(), current_user().username
    days = request.args.get("days", 30, type=int)
    days = days if days in PERIODS else 30
    now = engine.clock.now()
    try:
        found = engine.analytics(key, since=now - timedelta(days=days), until=now, viewer=me)
        definition = engine.get_definition(key, viewer=me)
        files = engine.definition_files(key, definition.version, viewer=me)
    except NotFoundError:
        abort(404)
    rows = [
        {
            "id": e.element_id,
            # a step only older versions have (moved instances passed it) by its name there
            "name": named(definition, e.element_id) if e.element_id in definition.names else e.name,
            "passed": e.passed,
            "p50": duration_words(e.wait_p50_s),
            "p95": duration_words(e.wait_p95_s),
            "p95_s": e.wait_p95_s,
            "open": e.open,
            "overdue": e.overdue,
        }
        for e in found.items
    ]
    return render_template(
        "pages/designer/analytics.html",
        definition=definition,
        rows=sorted(rows, key=lambda r: -(r["p95_s"] or 0)),
        days=days,
        periods=PERIODS,
        xml=_first_bpmn(files),
        marks=rows,
    )


def duration_words(seconds: float | None) -> str:
    """A wait as people say it: 45 分钟, 3.5 小时, 2 天."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s 分钟", n=max(1, round(seconds / 60)))
    if seconds < 86400:
        return _("%(n)s 小时", n=_one_decimal(seconds / 3600))
    return _("%(n)s 天", n=_one_decimal(seconds / 86400))


def _one_decimal(value: float) -> str:
    """3.5, and 2 rather than 2.0."""
    return f"{value:.1f}".removesuffix(".0")
