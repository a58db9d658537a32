"""Process models: deploy BPMN/DMN (+ forms) as versions of a key, parse once per version, cache.

A *model* is what a diagram says (immutable, versioned); an *instance* is what one run is doing
(see runtime/runner.py). Deploying identical content again returns the existing version.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from .. import ownership
from ..errors import NotFoundError, Problem
from ..tables import Definition
from . import modelcheck, policy, xmlguard
from . import prepare as prepare_
from .policy import EMPTY, ProcessPolicy, TaskPolicy
from .prepare import MAX_FILE_BYTES, Prepared

__all__ = ["MAX_FILE_BYTES", "MAX_VERSION", "Catalog", "Model", "Prepared", "parse_prepared"]
MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in every database


@dataclass
class Model:
    """A parsed, cached definition version: what the runner needs to start and step instances."""

    id: int
    key: str
    version: int
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    lanes: dict[str, str]
    forms: dict[str, dict[str, Any]]  # form file name -> JSON Schema
    policies: Mapping[str, TaskPolicy] = field(
        default_factory=dict
    )  # element id -> its extension properties, checked
    process: ProcessPolicy = field(default_factory=ProcessPolicy)
    start_events: tuple[str, ...] = ()  # the process's own start event ids
    names: Mapping[str, Mapping[str, str]] = field(
        default_factory=dict
    )  # element id (the process's too) -> {"zh_CN": name, "en": name_en}

    @property
    def start_messages(self) -> frozenset[str]:
        """The messages the process's own start events wait for (it is started by one of them)."""
        found = set()
        for element in self.start_events:
            definition = getattr(self.spec.task_specs.get(element), "event_definition", None)
            if isinstance(definition, MessageEventDefinition):
                found.add(definition.name)
        return frozenset(found)

    @property
    def task_forms(self) -> dict[str, str]:
        """Element id -> the form file name it declares."""
        return {element_id: p.form for element_id, p in self.policies.items() if p.form}

    @property
    def start_variables(self) -> frozenset[str]:
        """The names the process's start events declare (``startVariables``)."""
        return frozenset(n for e in self.start_events for n in self.policy(e).start_variables)

    def policy(self, element_id: str) -> TaskPolicy:
        """What the diagram says about ``element_id`` (the empty policy for an element that says nothing)."""
        return self.policies.get(element_id) or EMPTY

    def start_form(self) -> dict[str, Any] | None:
        """The JSON Schema start data is validated against, if a start event declares one."""
        return next((self.form_for(e) for e in self.start_events if self.form_for(e) is not None), None)

    def start_names(self) -> set[str]:
        """Every name a starter may send: the start form's properties and the declared start variables."""
        return ownership.declared_names(self.start_form()) | set(self.start_variables)

    def form_for(self, element_id: str) -> dict[str, Any] | None:
        name = self.policy(element_id).form
        return self.forms.get(name) if name else None

    def assignment(self, lane: str | None) -> str:
        """The rule for who works a task in ``lane``: ``group:NAME``, ``starter`` or ``data:VAR``."""
        if not lane:
            return "starter"
        return self.lanes.get(lane) or f"group:{lane.lower()}"


class Catalog:
    def __init__(self, forms_dirs: list[Path] | None = None) -> None:
        self._forms_dirs = forms_dirs or []
        self._cache: dict[int, Model] = {}
        self._lock = threading.Lock()

    # ---- deploy -------------------------------------------------------------------------
    def deploy(
        self,
        session: Session,
        files: Mapping[str, bytes],
        *,
        now: datetime,
        deployed_by: str | None,
        prepared: Prepared | None = None,
        tenant: str | None = None,
    ) -> Definition:
        """Store ``files`` (.bpmn, .dmn, .json forms) as the next version of their key.

        Pass ``prepared`` (from ``prepare``, run before the write transaction opened) so a large
        diagram is validated without holding the database's write lock; without it, it is done here.
        A tenant's deployment is its own (``tenant``) and shadows a shared key of the same name for
        that tenant only; versions count per key across tenants, so (key, version) stays unique.
        """
        unchanged = self.unchanged(session, files, tenant=tenant)
        if unchanged is not None:
            return unchanged  # a redeploy of what is deployed (every start-up deploys the shipped process)
        prepared = prepared or self.prepare(files)
        latest = self.latest(session, prepared.key, missing_ok=True, tenant=tenant)
        if latest is not None and latest.tenant == tenant and latest.content_hash == prepared.digest:
            return latest
        version = (
            session.scalar(select(func.max(Definition.version)).where(Definition.key == prepared.key)) or 0
        ) + 1
        row = Definition(
            key=prepared.key,
            version=version,
            name=prepared.name,
            content_hash=prepared.digest,
            files=prepared.files,
            forms=prepared.forms,
            lanes=prepared.lanes,
            properties=prepared.properties,
            notes=[],
            deployed_by=deployed_by,
            created_at=now,
            tenant=tenant,
        )
        session.add(row)
        session.flush()
        return row

    def unchanged(
        self, session: Session, files: Mapping[str, bytes], *, tenant: str | None = None
    ) -> Definition | None:
        """The latest version holding exactly these diagrams and the same forms, if there is one."""
        try:
            texts = {n: d.decode("utf-8") for n, d in files.items() if n.lower().endswith((".bpmn", ".dmn"))}
            keys = [
                k
                for n, d in files.items()
                if n.lower().endswith(".bpmn")
                for k in modelcheck.process_ids(d)[:1]
            ]
        except Exception:  # anything odd goes through the full validation below
            return None
        if not keys or len(texts) != len(files):
            return None
        latest = self.latest(session, keys[0], missing_ok=True, tenant=tenant)
        if latest is None or latest.tenant != tenant or latest.files != texts:
            return None
        if any(self._shipped_form(name) != schema for name, schema in latest.forms.items()):
            return None
        return latest

    def validate(self, files: Mapping[str, bytes]) -> list[Problem]:
        """Every problem deploying ``files`` would report, without storing anything."""
        return prepare_.validate(files, self._forms_dirs)

    def prepare(self, files: Mapping[str, bytes]) -> Prepared:
        """Check and normalise a deployment; raises DefinitionInvalidError listing every problem.

        The result for the same bytes is remembered for the process: every start deploys the
        shipped diagrams again, and checking them costs more than the rest of start-up.
        """
        digest = hashlib.sha256(repr(self._forms_dirs).encode())
        for name, data in sorted(files.items()):  # the bytes as they are: a huge upload costs one pass
            digest.update(f"\0{name}\0{len(data)}\0".encode())
            digest.update(data)
        fingerprint = digest.digest()
        with _PREPARED_LOCK:
            known = _PREPARED.get(fingerprint)
            if known is not None:
                _PREPARED.move_to_end(fingerprint)
                return copy.deepcopy(known)
        prepared = prepare_.prepare(files, self._forms_dirs)
        with _PREPARED_LOCK:
            _PREPARED[fingerprint] = copy.deepcopy(prepared)
            while len(_PREPARED) > _PREPARED_KEPT:
                _PREPARED.popitem(last=False)
        return prepared

    def _shipped_form(self, name: str) -> dict[str, Any] | None:
        return prepare_.shipped_form(name, self._forms_dirs)

    # ---- lookup -------------------------------------------------------------------------
    def owner(self, session: Session, key: str, tenant: str | None) -> ColumnElement[bool]:
        """Which rows of ``key`` a tenant sees: its own when it deployed the key, else the shared ones."""
        shared = Definition.tenant.is_(None)
        if tenant is None:
            return shared
        own = session.scalar(
            select(Definition.id).where(Definition.key == key, Definition.tenant == tenant).limit(1)
        )
        return Definition.tenant == tenant if own is not None else shared

    def latest(
        self, session: Session, key: str, *, missing_ok: bool = False, tenant: str | None = None
    ) -> Definition | None:
        """The newest version of ``key`` that ``tenant`` sees (None: the shared ones)."""
        row = session.scalars(
            select(Definition)
            .where(Definition.key == key, self.owner(session, key, tenant))
            .order_by(Definition.version.desc())
            .limit(1)
        ).first()
        if row is None and not missing_ok:
            raise NotFoundError(f"no process definition with key '{key}'")
        return row

    def get_row(
        self, session: Session, key: str, version: int | None = None, *, tenant: str | None = None
    ) -> Definition:
        """A version of ``key`` as ``tenant`` sees it (the newest without ``version``); 404 otherwise."""
        if version is None:
            return self.latest(session, key, tenant=tenant)  # type: ignore[return-value]
        if not 1 <= version <= MAX_VERSION:
            raise NotFoundError(f"process definition '{key}' has no version {version}")
        row = session.scalars(
            select(Definition).where(
                Definition.key == key, Definition.version == version, self.owner(session, key, tenant)
            )
        ).first()
        if row is None:
            raise NotFoundError(f"process definition '{key}' has no version {version}")
        return row

    def started_by(self, session: Session, message: str, tenant: str | None) -> Definition | None:
        """The newest version of the process ``tenant`` sees whose own start event waits for ``message``
        (the first such key by name when several do)."""
        keys = session.scalars(
            select(Definition.key)
            .where(
                Definition.tenant.is_(None)
                if tenant is None
                else or_(Definition.tenant.is_(None), Definition.tenant == tenant)
            )
            .distinct()
            .order_by(Definition.key)
        )
        for key in list(keys):
            row = self.latest(session, key, missing_ok=True, tenant=tenant)
            if row is not None and message in self.model(row).start_messages:
                return row
        return None

    def cached(self, definition_id: int) -> Model | None:
        """The parsed model of a definition id if this process has parsed it already."""
        return self._cache.get(definition_id)

    def model(self, row: Definition) -> Model:
        """The parsed model of a definition row; parsed once per version per process."""
        cached = self._cache.get(row.id)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(row.id)
            if cached is not None:
                return cached
            spec, subs = _parsed_specs(row)
            starts = tuple(
                ts.bpmn_id
                for ts in spec.task_specs.values()
                if type(ts).__name__ == "StartEvent" and getattr(ts, "bpmn_id", None)
            )
            model = Model(
                row.id,
                row.key,
                row.version,
                row.name,
                spec,
                subs,
                dict(row.lanes),
                dict(row.forms),
                policy.spec_policies([spec, *subs.values()]),
                policy.process_policy(row.properties),
                starts,
                _element_names(row.files),
            )
            self._cache[row.id] = model
            return model


_PREPARED: OrderedDict[bytes, Prepared] = OrderedDict()  # deployments checked by this process, newest last
_PREPARED_KEPT = 32
_PREPARED_LOCK = threading.Lock()
_PARSED: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
_PARSED_LOCK = threading.Lock()


def parse_prepared(prepared: Prepared) -> None:
    """Parse a prepared deployment's specs now (outside any transaction), so storing it parses nothing."""
    _parsed_specs_of(prepared.key, prepared.digest, prepared.files)


def _parsed_specs(row: Definition) -> tuple[Any, dict[str, Any]]:
    return _parsed_specs_of(row.key, row.content_hash, row.files)


def _parsed_specs_of(
    process_key: str, content_hash: str, files: Mapping[str, str]
) -> tuple[Any, dict[str, Any]]:
    """Spec objects for a definition's content, parsed once per process whatever database holds it.

    Specs are immutable descriptions of a diagram, so engines in one process share them; the
    content hash covers the diagrams and their forms.
    """
    key = (process_key, content_hash)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    parser = modelcheck.spiff_parser()  # validated at deploy: only normalise and parse here
    for name, text in files.items():
        data = text.encode("utf-8")
        if name.lower().endswith(".dmn"):
            parser.add_dmn_str(data, filename=name)
        else:
            parser.add_bpmn_str(modelcheck.normalise(data, name=name)[0], filename=name)
    parsed = (parser.get_spec(process_key), parser.get_subprocess_specs(process_key))
    for spec in (parsed[0], *parsed[1].values()):
        _prewire_event_subprocesses(spec)
    with _PARSED_LOCK:
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[key] = parsed
    return parsed


def _prewire_event_subprocesses(spec: Any) -> None:
    """Link each message-started event subprocess to its process's start and end once, here.

    SpiffWorkflow links it the first time its message arrives (``BpmnStartTask.trigger_wf``), by
    adding it to the shared spec's start outputs and end inputs: every instance started after that
    would open the event subprocess at its start and wait for it at its end. Linked only from its
    own side (inputs and outputs of the event subprocess), it is started by its message alone.
    """
    start, end = getattr(spec, "start", None), getattr(spec, "end", None)
    for name in getattr(start, "trigger_specs", None) or []:
        task_spec = spec.task_specs.get(name)
        if task_spec is not None and start is not None and end is not None:
            task_spec.inputs = [start]  # what trigger_wf checks before linking the shared spec
            task_spec.outputs = [end]


def _element_names(files: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Element id -> names per language over a version's diagrams (read with its model, cached with it)."""
    out: dict[str, dict[str, str]] = {}
    for name, text in sorted(files.items()):
        if name.lower().endswith(".bpmn"):
            out.update(policy.element_names(etree.fromstring(text.encode("utf-8"), xmlguard.safe_parser())))
    return out
