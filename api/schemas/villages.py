"""总队长制: the county's villages and leaders, proposals, letters, problem lists, presence."""

from __future__ import annotations

from marshmallow import fields, validate

from .base import Schema

COLOUR_FILTER = validate.OneOf(("red", "yellow", "green", "untriaged"))
DAY = validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="a date YYYY-MM-DD / 日期格式为 YYYY-MM-DD")


class VillageSchema(Schema):
    village = fields.String(metadata={"description": "the village unit's code"})
    village_name = fields.String()
    town_name = fields.String()
    village_class = fields.String(metadata={"description": "村类别: 深度贫困村 / 一般贫困村 / 非贫困村"})
    leader = fields.String(allow_none=True, metadata={"description": "the 总队长's username; null: vacant"})
    leader_name = fields.String(allow_none=True)
    appointment_id = fields.Integer(allow_none=True)
    letter_no = fields.String(allow_none=True)
    appointed_at = fields.DateTime(allow_none=True)
    pending_instance = fields.String(
        allow_none=True, metadata={"description": "a proposal before the committee"}
    )


class ProposalSchema(Schema):
    leader = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class AppointmentSchema(Schema):
    id = fields.Integer()
    village = fields.String()
    leader = fields.String()
    leader_name = fields.String()
    letter_no = fields.String(metadata={"description": "任命书 number, per county and year"})
    letter = fields.Dict(
        metadata={"description": "the letter as issued: county, town, village, class, leader, rank"}
    )
    appointed_at = fields.DateTime()
    confirmed_by = fields.String(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_reason = fields.String(allow_none=True)
    instance_id = fields.String()
    current = fields.Boolean()


class ProblemListArgsSchema(Schema):
    village = fields.String(validate=validate.Length(max=64))
    town = fields.String(validate=validate.Length(max=64))
    colour = fields.String(validate=COLOUR_FILTER)
    department = fields.String(validate=validate.Length(max=64))
    status = fields.String(load_default="open", validate=validate.OneOf(("open", "solved")))


class ProblemRowSchema(Schema):
    instance_id = fields.String()
    title = fields.String()
    colour = fields.String(
        allow_none=True, metadata={"description": "red / yellow / green; null: not triaged"}
    )
    village = fields.String()
    village_name = fields.String()
    town_name = fields.String()
    department_name = fields.String()
    phase = fields.String()
    age_days = fields.Integer()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    escalated = fields.Boolean(metadata={"description": "reported to the county command as a common problem"})
    returns = fields.Integer()
    owner = fields.String(metadata={"description": "who has it now: a person's name, or a unit and post"})


class ProblemListSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(ProblemRowSchema))


class VisitCreateSchema(Schema):
    village = fields.String(required=True, validate=validate.Length(min=1, max=64))
    day = fields.String(required=True, validate=DAY)
    nights = fields.Integer(load_default=0, validate=validate.Range(min=0, max=31))
    note = fields.String(validate=validate.Length(max=2000))
    username = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "whose stay (admins and the OA only); default: the caller"},
    )


class VisitSchema(Schema):
    id = fields.Integer()
    village = fields.String()
    village_name = fields.String()
    username = fields.String()
    display_name = fields.String()
    day = fields.String()
    nights = fields.Integer()
    note = fields.String(allow_none=True)
    recorded_by = fields.String()


class PresenceArgsSchema(Schema):
    since = fields.String(validate=DAY)
    until = fields.String(validate=DAY)


class PresenceRowSchema(Schema):
    village = fields.String()
    village_name = fields.String()
    username = fields.String()
    display_name = fields.String()
    is_leader = fields.Boolean()
    visits = fields.Integer()
    nights = fields.Integer()
    last_day = fields.String()


class AssessmentArgsSchema(Schema):
    """``{year, satisfaction}``: the villagers' satisfaction from the year-end survey, 0–100."""

    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    satisfaction = fields.Float(required=True, validate=validate.Range(min=0, max=100))


class BundledShareSchema(Schema):
    role = fields.String(metadata={"description": "leader (总队长) | unit (帮扶单位) | cadre (驻村干部)"})
    subject_kind = fields.String(metadata={"description": "person | unit"})
    subject = fields.String()
    name = fields.String()
    weight = fields.Float(metadata={"description": "the village's share in their own assessment"})
    points = fields.Float()


class VillageAssessmentSchema(Schema):
    village = fields.String()
    village_name = fields.String()
    year = fields.Integer()
    raised = fields.Integer(metadata={"description": "problems raised in the year"})
    solved = fields.Integer()
    overdue = fields.Integer()
    satisfaction = fields.Float()
    score = fields.Float(metadata={"description": "0–100: solved 40, on time 30, satisfaction 30"})
    grade = fields.String(metadata={"description": "优秀 ≥ 90, 良好 ≥ 75, 合格 ≥ 60, else 不合格"})
    shares = fields.List(fields.Nested(BundledShareSchema))
