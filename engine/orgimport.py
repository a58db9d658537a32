"""Importing an organisation from a spreadsheet: a units sheet and a people sheet, all or nothing.

``read_file`` turns an .xlsx (two sheets) or a .csv (one sheet, told apart by its headers) into
rows of text, refusing hostile files before reading them: a size cap, a cap on the unpacked size
of an .xlsx (a zip bomb), formulas (never evaluated, refused as such), and caps on rows and
columns. ``plan`` checks every cell against the database and the rest of the file (units may come
in any order; parents are resolved within the file) and says what would change; ``apply`` writes
it with bulk statements, so a county of 20,000 people imports in seconds. Messages are Chinese,
one per bad cell. No Flask here: the API and the CLI both call ``Engine.import_org``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from . import organisation
from .errors import ImportInvalidError, InvalidInputError, TooLargeError
from .records import ImportProblem, OrgImportReport
from .tables import Membership, Unit, User, UserPost

UNITS_SHEET, PEOPLE_SHEET = "单位", "人员"
UNIT_COLUMNS = ("编码", "名称", "类型", "上级编码")  # any further column is an attribute (村类别…)
PEOPLE_COLUMNS = ("用户名", "姓名", "单位编码", "职务", "职级", "分组")
REQUIRED = {UNITS_SHEET: ("编码", "名称", "类型"), PEOPLE_SHEET: ("用户名", "单位编码", "职务")}
KIND_NAMES = {  # 类型 may be written in Chinese or as the API's kind
    "县": "county",
    "乡镇": "town",
    "镇": "town",
    "乡": "town",
    "街道": "town",
    "部门": "department",
    "村": "village",
    "社区": "community",
    "科室": "office",
    "办公室": "office",
    "企业": "company",
    "专班": "team",
    "工作队": "team",
}
KIND_LABELS = {
    "county": "县",
    "town": "乡镇",
    "department": "部门",
    "village": "村",
    "community": "社区",
    "office": "科室",
    "company": "企业",
    "team": "专班",
}
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # an .xlsx of 20,000 people unpacks to ~10 MB
MAX_ROWS = 60_000  # per sheet
MAX_COLUMNS = 40
MAX_ERRORS = 200  # a file with more is wrong throughout; the first ones say how
GROUP_SEPARATORS = re.compile(r"[,，、;；\s]+")
_CHUNK = 5_000  # IN lists and bulk statements this long at most

Sheets = dict[str, list[tuple[int, dict[str, str]]]]  # sheet -> (row number, header -> text)


# ---- reading ----------------------------------------------------------------------------------
def read_file(content: bytes, filename: str) -> tuple[Sheets, list[ImportProblem]]:
    """The file's sheets as text rows, and what is wrong with its cells (formulas, too many rows).

    Raises ``TooLargeError`` for a file or an unpacked workbook over the caps and
    ``InvalidInputError`` for something that is neither a readable .xlsx nor a .csv.
    """
    if len(content) > MAX_FILE_BYTES:
        raise TooLargeError(f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MB / 文件超过大小限制")
    name = filename.lower()
    if name.endswith(".csv"):
        return _read_csv(content)
    if name.endswith(".xlsx") or content[:2] == b"PK":
        return _read_xlsx(content)
    raise InvalidInputError(
        "send an .xlsx or .csv file", {"file": ["请上传 .xlsx 或 .csv 文件（可下载模板）"]}
    )


def _read_csv(content: bytes) -> tuple[Sheets, list[ImportProblem]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInputError("unreadable CSV", {"file": ["CSV 文件编码无法识别，请另存为 UTF-8"]})
    rows = csv.reader(io.StringIO(text, newline=""))
    return _sheet_from_rows(None, ((i, list(r)) for i, r in enumerate(rows, start=1)), formulas=set())


def _read_xlsx(content: bytes) -> tuple[Sheets, list[ImportProblem]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InvalidInputError("not an .xlsx workbook", {"file": ["不是有效的 .xlsx 文件"]}) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooLargeError("the workbook unpacks to too much data / 工作簿解压后过大，已拒绝")
    import openpyxl  # type: ignore[import-untyped]  # only here: reading a workbook is rare

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInputError(
            f"unreadable workbook: {type(exc).__name__}", {"file": ["无法读取该 .xlsx 文件"]}
        ) from None
    sheets: Sheets = {}
    problems: list[ImportProblem] = []
    try:
        for ws in book.worksheets:
            formulas: set[tuple[int, int]] = set()
            read, found = _sheet_from_rows(ws.title, _xlsx_rows(ws, formulas), formulas=formulas)
            for sheet, rows in read.items():
                if sheet in sheets:
                    problems.append(ImportProblem(sheet, 1, "", f"工作表“{ws.title}”与另一工作表重复"))
                else:
                    sheets[sheet] = rows
            problems += found
    finally:
        book.close()
    return sheets, problems


def _xlsx_rows(ws: Any, formulas: set[tuple[int, int]]) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
        values = []
        for col, cell in enumerate(cells):
            if getattr(cell, "data_type", None) == "f":
                formulas.add((number, col))
            values.append(getattr(cell, "value", None))
        yield number, values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 130000, not 130000.0
    return str(value).strip()


def _sheet_from_rows(
    title: str | None, rows: Iterable[tuple[int, list[Any]]], *, formulas: set[tuple[int, int]]
) -> tuple[Sheets, list[ImportProblem]]:
    """One sheet's rows keyed by header; which sheet it is, from its title or else its headers."""
    problems: list[ImportProblem] = []
    header: list[str] | None = None
    sheet = ""
    out: list[tuple[int, dict[str, str]]] = []
    for number, values in rows:
        if header is None:
            header = [_text(v) for v in values]
            while header and not header[-1]:
                header.pop()
            sheet = _which_sheet(title, header)
            if not sheet:
                return {}, []  # a notes sheet, the template's kinds list: not data
            if len(header) > MAX_COLUMNS:
                problems.append(ImportProblem(sheet, 1, "", f"列数超过 {MAX_COLUMNS} 列"))
                return {}, problems
            continue
        if len(out) >= MAX_ROWS:
            problems.append(ImportProblem(sheet, number, "", f"行数超过 {MAX_ROWS} 行，请分批导入"))
            break
        record = {}
        for col, name in enumerate(header):
            if not name:
                continue
            if (number, col) in formulas:
                problems.append(ImportProblem(sheet, number, name, "不接受公式，请填写数值或文字"))
            record[name] = _text(values[col]) if col < len(values) else ""
        if any(record.values()):
            out.append((number, record))
    return ({sheet: out} if sheet else {}), problems


def _which_sheet(title: str | None, header: list[str]) -> str:
    if title in (UNITS_SHEET, "units") or ("编码" in header and "名称" in header):
        return UNITS_SHEET
    if title in (PEOPLE_SHEET, "people") or "用户名" in header:
        return PEOPLE_SHEET
    return ""


# ---- checking ---------------------------------------------------------------------------------
@dataclass
class UnitRow:
    row: int
    code: str
    name: str
    kind: str
    parent: str | None
    attributes: dict[str, str]


@dataclass
class Plan:
    """What an import would do; ``errors`` empty means ``apply`` may write it."""

    new_units: list[UnitRow] = field(default_factory=list)
    changed_units: list[UnitRow] = field(default_factory=list)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # username -> name, tenant, posts, groups
    existing_users: set[str] = field(default_factory=set)
    tenants: set[str | None] = field(default_factory=set)  # None: a new tenant is created
    errors: list[ImportProblem] = field(default_factory=list)

    def problem(self, sheet: str, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(ImportProblem(sheet, row, column, message))

    def report(self) -> OrgImportReport:
        return OrgImportReport(
            {"created": len(self.new_units), "updated": len(self.changed_units)},
            {
                "created": len(self.people) - len(self.existing_users),
                "updated": len(self.existing_users),
            },
            list(self.errors),
        )


def plan(s: Session, sheets: Sheets, problems: Iterable[ImportProblem] = ()) -> Plan:
    """Check every cell; nothing is written. The plan's ``errors`` list each bad cell."""
    out = Plan()
    for p in problems:
        out.problem(p.sheet, p.row, p.column, p.message)
    if not sheets:
        out.problem(UNITS_SHEET, 1, "", "文件中没有“单位”或“人员”工作表（请使用模板）")
        return out
    for sheet, rows in sheets.items():
        missing = [c for c in REQUIRED[sheet] if rows and c not in rows[0][1]]
        for column in missing:
            out.problem(sheet, 1, column, f"缺少“{column}”列")
    if out.errors:
        return out
    tenant_of = _plan_units(s, sheets.get(UNITS_SHEET, []), out)
    _plan_people(s, sheets.get(PEOPLE_SHEET, []), tenant_of, out)
    return out


def _existing_units(s: Session, codes: Iterable[str]) -> dict[str, tuple[str, str | None, int]]:
    """code -> (tenant, parent code, id) of the units already stored."""
    parent = Unit.__table__.alias("parent_unit")
    found: dict[str, tuple[str, str | None, int]] = {}
    wanted = sorted(set(codes))
    for i in range(0, len(wanted), _CHUNK):
        rows = s.execute(
            select(Unit.code, Unit.tenant, parent.c.code, Unit.id)
            .outerjoin(parent, parent.c.id == Unit.parent_id)
            .where(Unit.code.in_(wanted[i : i + _CHUNK]))
        )
        for code, tenant, parent_code, unit_id in rows:
            found[code] = (tenant, parent_code, unit_id)
    return found


def _unit_rows(rows: list[tuple[int, dict[str, str]]], out: Plan) -> dict[str, UnitRow]:
    """The units sheet's rows checked one by one (code, name, kind), by code."""
    sheet = UNITS_SHEET
    units: dict[str, UnitRow] = {}
    for number, r in rows:
        code, name, kind_text = r.get("编码", ""), r.get("名称", ""), r.get("类型", "")
        kind = KIND_NAMES.get(kind_text, kind_text)
        if not organisation.CODE_PATTERN.match(code):
            out.problem(sheet, number, "编码", "编码须为 1-64 位字母、数字、“_”“.”“-”，且以字母或数字开头")
            continue
        if code in units:
            out.problem(sheet, number, "编码", f"编码 {code} 在第 {units[code].row} 行已出现")
            continue
        if not name or len(name) > 300:
            out.problem(sheet, number, "名称", "名称不能为空，且不超过 300 字")
        if kind not in organisation.UNIT_KINDS:
            out.problem(
                sheet, number, "类型", f"类型“{kind_text}”无效，可填：{'、'.join(KIND_LABELS.values())}"
            )
        attributes = {k: v for k, v in r.items() if k not in UNIT_COLUMNS and v}
        units[code] = UnitRow(number, code, name, kind, r.get("上级编码") or None, attributes)
    return units


def _plan_units(s: Session, rows: list[tuple[int, dict[str, str]]], out: Plan) -> dict[str, str]:
    """Check the units sheet; the tenant of every unit the file names or creates, by code."""
    units = _unit_rows(rows, out)
    stored = _existing_units(s, [*units, *(u.parent for u in units.values() if u.parent)])
    tenant_of: dict[str, str] = {code: t for code, (t, _, _) in stored.items()}

    def root_of(code: str) -> str | None:
        """Follow parents within the file, then the database; None on a cycle or a missing parent."""
        seen: list[str] = []
        while code in units and code not in tenant_of:
            if code in seen:
                return None
            seen.append(code)
            parent = units[code].parent
            if parent is None:
                return code
            if parent not in units and parent not in stored:
                return None
            code = parent
        return tenant_of.get(code)

    for code, unit in units.items():
        if unit.parent is not None and unit.parent not in units and unit.parent not in stored:
            out.problem(
                UNITS_SHEET, unit.row, "上级编码", f"上级单位 {unit.parent} 不存在（文件和系统中都没有）"
            )
            continue
        tenant = root_of(code) if code not in stored else stored[code][0]
        if code not in stored and tenant is None:
            out.problem(UNITS_SHEET, unit.row, "上级编码", "上级关系形成循环（单位成了自己的下级）")
            continue
        if code in stored:
            _check_move(unit, stored, units, root_of, out)
        if tenant is not None:
            tenant_of[code] = tenant
            out.tenants.add(tenant if (code in stored or unit.parent is not None) else None)
        (out.changed_units if code in stored else out.new_units).append(unit)
    _check_depth(units, stored, out)
    return tenant_of


def _check_move(
    unit: UnitRow,
    stored: dict[str, tuple[str, str | None, int]],
    units: dict[str, UnitRow],
    root_of: Any,
    out: Plan,
) -> None:
    """An existing unit stays in its tree, and a root stays a root."""
    tenant, old_parent, _ = stored[unit.code]
    if (old_parent is None) != (unit.parent is None):
        out.problem(UNITS_SHEET, unit.row, "上级编码", "不能把县（租户）改为下级单位，或把下级单位改为县")
        return
    if unit.parent is None or unit.parent == old_parent:
        return
    new_tenant = stored[unit.parent][0] if unit.parent in stored else root_of(unit.parent)
    if new_tenant != tenant:
        out.problem(UNITS_SHEET, unit.row, "上级编码", f"不能把单位移到另一个县（{new_tenant or '?'}）")
    parent, seen = unit.parent, set()
    while parent in units and parent not in seen:  # under one of its own new units?
        if parent == unit.code:
            out.problem(UNITS_SHEET, unit.row, "上级编码", "上级关系形成循环（单位成了自己的下级）")
            return
        seen.add(parent)
        parent = units[parent].parent or ""


def _check_depth(units: dict[str, UnitRow], stored: dict[str, Any], out: Plan) -> None:
    for unit in out.new_units:
        depth, parent = 1, unit.parent
        while parent in units and depth <= organisation.MAX_DEPTH:
            depth, parent = depth + 1, units[parent].parent
        if depth > organisation.MAX_DEPTH:
            out.problem(UNITS_SHEET, unit.row, "上级编码", f"层级超过 {organisation.MAX_DEPTH} 级")


def _plan_people(
    s: Session, rows: list[tuple[int, dict[str, str]]], tenant_of: dict[str, str], out: Plan
) -> None:
    sheet = PEOPLE_SHEET
    unknown_codes = {r.get("单位编码", "") for _, r in rows} - set(tenant_of)
    for code, (tenant, _, _) in _existing_units(s, unknown_codes).items():
        tenant_of[code] = tenant
    stored = _existing_users(s, {r.get("用户名", "") for _, r in rows})
    for number, r in rows:
        username, unit, post = r.get("用户名", ""), r.get("单位编码", ""), r.get("职务", "")
        rank, name = r.get("职级") or None, r.get("姓名", "")
        if not username or len(username) > 200 or any(c.isspace() for c in username) or "/" in username:
            out.problem(sheet, number, "用户名", "用户名不能为空，不超过 200 字，且不含空格或“/”")
            continue
        ok = True
        if unit not in tenant_of:
            out.problem(sheet, number, "单位编码", f"单位 {unit or '（空）'} 不存在（文件和系统中都没有）")
            ok = False
        if not post or len(post) > 100:
            out.problem(sheet, number, "职务", "职务不能为空，且不超过 100 字")
            ok = False
        if rank is not None and len(rank) > 50:
            out.problem(sheet, number, "职级", "职级不超过 50 字")
            ok = False
        if len(name) > 300:
            out.problem(sheet, number, "姓名", "姓名不超过 300 字")
            ok = False
        if not ok:
            continue
        person = out.people.setdefault(
            username, {"name": "", "tenant": tenant_of[unit], "posts": [], "groups": None, "row": number}
        )
        if person["tenant"] != tenant_of[unit]:
            out.problem(
                sheet,
                number,
                "单位编码",
                f"{username} 在第 {person['row']} 行任职于另一个县，一人只能属于一个县",
            )
            continue
        was_tenant = stored.get(username, (None,))[0]
        if was_tenant is not None and was_tenant != tenant_of[unit]:
            out.problem(sheet, number, "单位编码", f"{username} 已属于 {was_tenant}，不能到其他县任职")
            continue
        out.tenants.add(tenant_of[unit])
        person["name"] = name or person["name"]
        if (unit, post) not in {(u, p) for u, p, _ in person["posts"]}:
            person["posts"].append((unit, post, rank))
        groups = [g for g in GROUP_SEPARATORS.split(r.get("分组", "")) if g]
        if groups:
            person["groups"] = sorted({*(person["groups"] or []), *groups})
    out.existing_users = set(stored) & set(out.people)


def _existing_users(s: Session, usernames: Iterable[str]) -> dict[str, tuple[str | None]]:
    wanted = sorted(u for u in set(usernames) if u)
    found: dict[str, tuple[str | None]] = {}
    for i in range(0, len(wanted), _CHUNK):
        for username, tenant in s.execute(
            select(User.username, User.tenant).where(User.username.in_(wanted[i : i + _CHUNK]))
        ):
            found[username] = (tenant,)
    return found


def check(s: Session, content: bytes, filename: str) -> Plan:
    """Read and check a file: the plan, whose ``errors`` say whether it may be applied."""
    sheets, problems = read_file(content, filename)
    return plan(s, sheets, problems)


def refuse(found: Plan) -> ImportInvalidError:
    return ImportInvalidError(
        f"{len(found.errors)} problem(s) in the file; nothing was imported / 文件有误，未导入任何数据",
        found.report(),
    )


# ---- writing ----------------------------------------------------------------------------------
def apply(s: Session, found: Plan, *, now: datetime) -> None:
    """Write a checked plan with bulk statements: units level by level, then people and posts."""
    new_codes = {u.code for u in found.new_units}
    for unit in found.changed_units:  # moves within a tree first, so new units see fresh paths
        if unit.parent is None or unit.parent not in new_codes:
            _update_unit(s, unit, now)
    _insert_units(s, found.new_units, now)
    for unit in found.changed_units:
        if unit.parent is not None and unit.parent in new_codes:
            _update_unit(s, unit, now)
    _write_people(s, found, now)


def _update_unit(s: Session, unit: UnitRow, now: datetime) -> None:
    row = s.scalar(select(Unit).where(Unit.code == unit.code))
    attributes = {**(row.attributes if row is not None else {}), **unit.attributes}
    organisation.upsert_unit(
        s, unit.code, name=unit.name, kind=unit.kind, parent=unit.parent, attributes=attributes, now=now
    )


def _insert_units(s: Session, units: list[UnitRow], now: datetime) -> None:
    """Parents before children: one bulk insert per level of the tree, then every path in one update."""
    pending = {u.code: u for u in units}
    known = {
        code: (unit_id, path, tenant)
        for code, unit_id, path, tenant in s.execute(
            select(Unit.code, Unit.id, Unit.path, Unit.tenant).where(
                Unit.code.in_({u.parent for u in units if u.parent and u.parent not in pending})
            )
        )
    }
    paths: list[dict[str, Any]] = []
    while pending:
        level = [u for u in pending.values() if u.parent is None or u.parent in known]
        assert level, "the plan refused cycles"
        values = []
        for u in level:
            parent = known.get(u.parent) if u.parent else None
            values.append(
                {
                    "code": u.code,
                    "name": u.name,
                    "kind": u.kind,
                    "parent_id": parent[0] if parent else None,
                    "tenant": parent[2] if parent else u.code,
                    "path": "",
                    "attributes": u.attributes,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        ids = s.execute(insert(Unit).returning(Unit.id, Unit.code, sort_by_parameter_order=True), values)
        for unit_id, code in ids:
            u = pending.pop(code)
            parent = known.get(u.parent) if u.parent else None
            path = f"{parent[1] if parent else '/'}{unit_id}/"
            known[code] = (unit_id, path, parent[2] if parent else code)
            paths.append({"id": unit_id, "path": path})
    if paths:
        s.execute(update(Unit), paths)


def _write_people(s: Session, found: Plan, now: datetime) -> None:
    people = found.people
    if not people:
        return
    codes = {unit for p in people.values() for unit, _, _ in p["posts"]}
    unit_ids: dict[str, int] = {
        code: unit_id for code, unit_id in s.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes)))
    }
    new = [u for u in people if u not in found.existing_users]
    if new:
        s.execute(
            insert(User),
            [
                {
                    "username": u,
                    "display_name": people[u]["name"] or u,
                    "roles": [],
                    "created_at": now,
                    "active": True,
                    "tenant": people[u]["tenant"],
                }
                for u in new
            ],
        )
    changed = [
        {
            "username": u,
            "tenant": people[u]["tenant"],
            **({"display_name": people[u]["name"]} if people[u]["name"] else {}),
        }
        for u in found.existing_users
    ]
    for i in range(0, len(changed), _CHUNK):  # rows of one shape per statement
        chunk = changed[i : i + _CHUNK]
        for shape in ({"display_name"}, set()):
            same = [c for c in chunk if ("display_name" in c) == bool(shape)]
            if same:
                s.execute(update(User), same)
    names = sorted(people)
    for i in range(0, len(names), _CHUNK):
        s.execute(delete(UserPost).where(UserPost.username.in_(names[i : i + _CHUNK])))
    regrouped = sorted(u for u in names if people[u]["groups"] is not None)
    for i in range(0, len(regrouped), _CHUNK):
        s.execute(delete(Membership).where(Membership.username.in_(regrouped[i : i + _CHUNK])))
    posts = [
        {"username": u, "unit_id": unit_ids[unit], "post": post, "rank": rank}
        for u in names
        for unit, post, rank in people[u]["posts"]
    ]
    if posts:
        s.execute(insert(UserPost), posts)
    groups = [{"group": g, "username": u} for u in regrouped for g in people[u]["groups"]]
    if groups:
        s.execute(insert(Membership), groups)


# ---- the template -----------------------------------------------------------------------------
def template() -> bytes:
    """The .xlsx to fill in: Chinese headers, an example row on each sheet, and the kinds listed."""
    import openpyxl
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = openpyxl.Workbook()
    units = book.active
    units.title = UNITS_SHEET
    units.append([*UNIT_COLUMNS, "村类别"])
    units.append(["pingli", "平利县", "县", "", ""])
    units.append(["chengguan", "城关镇", "乡镇", "pingli", ""])
    units.append(["jiangxi", "蒋家坪村", "村", "chengguan", "深度贫困村"])
    people = book.create_sheet(PEOPLE_SHEET)
    people.append(list(PEOPLE_COLUMNS))
    people.append(["zhangsan", "张三", "chengguan", "镇长", "科级", "taskforce"])
    people.append(["lisi", "李四", "jiangxi", "驻村第一书记", "股级", ""])
    kinds = book.create_sheet("说明")
    kinds.append(["类型", "含义"])
    for kind, label in KIND_LABELS.items():
        kinds.append([label, kind])
    kinds.append([])
    kinds.append(["“单位”表中“上级编码”以后的列是单位属性（如 村类别：深度贫困村/一般贫困村/非贫困村）。"])
    kinds.append(["“人员”表中一人任多职时每职一行；分组用逗号或顿号分隔。单位行的先后顺序不限。"])
    for ws in (units, people, kinds):
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
