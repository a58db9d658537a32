// The properties panel's Jiebang groups: what the engine reads from a diagram beyond plain BPMN
// (README "Modelling for Jiebang"; engine/definitions/policy.py), edited as fields instead of XML.
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';

import {
  getBodyChild,
  getProperties,
  getProperty,
  lanesOf,
  processOf,
  setBodyChild,
  setProperties,
  setProperty
} from './extension';
import { describeDuration, text } from './i18n';

const LOW_PRIORITY = 400;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DURATION = /^P(?!$)(\d+W|(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)$/;
const LANE_KINDS = ['group', 'user', 'data', 'starter'];
const MAX_NAME_CHARS = 200; // engine/definitions/policy.py: MAX_NAME_CHARS

function names(value) {
  return String(value || '').replace(/，/g, ',').split(',').map((n) => n.trim()).filter(Boolean);
}

// ---------------------------------------------------------------- checks (the engine's, in the page's words)

const checks = {
  variable: (v) => (!v || NAME.test(v) ? null : text('err.variable')),
  variables: (v) => (!v || names(v).every((n) => NAME.test(n)) ? null : text('err.variables')),
  groups: (v) => (!v || names(v).length ? null : text('err.groups')),
  duration: (v) => (!v || DURATION.test(v) ? null : text('err.duration')),
  form: (v) => (!v || (/\.json$/.test(v) && !/[\\/]/.test(v) && v[0] !== '.') ? null : text('err.form')),
  ratio: (v) => {
    const r = Number(v);
    return v && r > 0 && r <= 1 ? null : text('err.ratio');
  },
  decision: (v) => (!v || NAME.test(v) ? null : text('err.decision')),
  name: (v) => (!v || (v.trim() && v.length <= MAX_NAME_CHARS && !/[\u0000-\u001f\u007f]/.test(v)) ? null : text('err.name_en'))
};

// ---------------------------------------------------------------- generic entries over one property

function useWriter(element, bo) {
  const injector = useService('injector');
  return (values) => setProperties(injector, element, bo, values);
}

function PropertyText(props) {
  const { element, id, bo, name, check, duration } = props;
  const write = useWriter(element, bo);
  const debounce = useService('debounceInput');
  const value = getProperty(bo, name);
  const help = duration && value && !checks.duration(value) ? text(`help.${name}`) + ' ' + describeDuration(value) : text(`help.${name}`);
  return TextFieldEntry({
    element,
    id,
    label: text(`label.${name}`),
    description: help,
    getValue: () => getProperty(bo, name),
    setValue: (v, error) => { if (!error) write({ [name]: (v || '').trim() }); },
    validate: check,
    debounce
  });
}

function PropertySelect(props) {
  const { element, id, bo, name, choices, blank } = props;
  const write = useWriter(element, bo);
  return SelectEntry({
    element,
    id,
    label: text(`label.${name}`),
    description: text(`help.${name}`),
    getValue: () => getProperty(bo, name),
    setValue: (v) => write({ [name]: v }),
    getOptions: () => [{ value: '', label: text(blank || 'choice.default') }].concat(
      choices.map((c) => ({ value: c, label: text(`choice.${name}.${c}`) })))
  });
}

function textEntry(element, bo, name, check, duration) {
  return {
    id: `jiebang-${name}`, element, bo, name, check, duration,
    component: PropertyText, isEdited: isTextFieldEntryEdited
  };
}

function selectEntry(element, bo, name, choices, blank) {
  return {
    id: `jiebang-${name}`, element, bo, name, choices, blank,
    component: PropertySelect, isEdited: isSelectEntryEdited
  };
}

// ---------------------------------------------------------------- special entries

/** The form: chosen among the shipped forms and those deployed with the definition. */
function FormEntry(props) {
  const { element, id, bo } = props;
  const write = useWriter(element, bo);
  const config = useService('config.jiebang') || {};
  return SelectEntry({
    element,
    id,
    label: text('label.formJsonSchemaFilename'),
    description: text('help.formJsonSchemaFilename'),
    getValue: () => getProperty(bo, 'formJsonSchemaFilename'),
    setValue: (v) => write({ formJsonSchemaFilename: v }),
    validate: checks.form,
    getOptions: () => {
      const current = getProperty(bo, 'formJsonSchemaFilename');
      const forms = (config.forms || []).slice();
      if (current && forms.indexOf(current) < 0) forms.unshift(current);
      return [{ value: '', label: text('choice.noForm') }].concat(forms.map((f) => ({ value: f, label: f })));
    }
  });
}

function InstructionsEntry(props) {
  const { element, id, bo } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  return TextAreaEntry({
    element,
    id,
    label: text('label.instructions'),
    description: text('help.instructions'),
    getValue: () => getBodyChild(bo, 'spiffworkflow:InstructionsForEndUser'),
    setValue: (v) => setBodyChild(injector, element, bo, 'spiffworkflow:InstructionsForEndUser', v || ''),
    debounce,
    rows: 3
  });
}

/** Signing mode; a ratio is split into the mode and its share so nobody types ``ratio:0.6``. */
function ApprovalModeEntry(props) {
  const { element, id, bo } = props;
  const write = useWriter(element, bo);
  return SelectEntry({
    element,
    id,
    label: text('label.approvalMode'),
    description: text('help.approvalMode'),
    getValue: () => {
      const mode = getProperty(bo, 'approvalMode');
      return mode.indexOf('ratio:') === 0 ? 'ratio' : mode;
    },
    setValue: (v) => {
      if (!v) {  // one person again: the signing settings mean nothing now (the engine would refuse them)
        write({ approvalMode: '', approvers: '', onReject: '', rejectDecision: '' });
      } else {
        write({ approvalMode: v === 'ratio' ? 'ratio:0.5' : v });
      }
    },
    getOptions: () => [{ value: '', label: text('choice.approvalMode.none') }].concat(
      ['all', 'any', 'sequential', 'ratio'].map((m) => ({ value: m, label: text(`choice.approvalMode.${m}`) })))
  });
}

function RatioEntry(props) {
  const { element, id, bo } = props;
  const write = useWriter(element, bo);
  const debounce = useService('debounceInput');
  return TextFieldEntry({
    element,
    id,
    label: text('label.ratio'),
    description: text('help.ratio'),
    getValue: () => getProperty(bo, 'approvalMode').replace('ratio:', ''),
    setValue: (v, error) => { if (!error) write({ approvalMode: `ratio:${String(v).trim()}` }); },
    validate: checks.ratio,
    debounce
  });
}

/** Who works one lane: a kind (group, user, data variable, starter) and its target, stored as ``lane:NAME``. */
function laneRule(process, lane) {
  const rule = getProperty(process, `lane:${lane.name}`);
  if (rule === 'starter') return { kind: 'starter', target: '' };
  const at = rule.indexOf(':');
  return at > 0 ? { kind: rule.slice(0, at), target: rule.slice(at + 1) } : { kind: '', target: '' };
}

function writeLane(injector, element, process, lane, kind, target) {
  let rule = '';
  if (kind === 'starter') rule = 'starter';
  else if (kind) rule = `${kind}:${(target || '').trim()}`;
  setProperty(injector, element, process, `lane:${lane.name}`, rule);
}

function LaneKindEntry(props) {
  const { element, id, process, lane } = props;
  const injector = useService('injector');
  return SelectEntry({
    element,
    id,
    label: text('label.laneKind', { lane: lane.name }),
    description: text('help.laneKind', { group: String(lane.name).toLowerCase() }),
    getValue: () => laneRule(process, lane).kind,
    setValue: (kind) => {
      // a kind without a target would be refused at deploy: start from the lane's own name
      const old = laneRule(process, lane);
      const target = kind === 'group' ? old.target || String(lane.name).toLowerCase() : old.target;
      writeLane(injector, element, process, lane, kind, kind === 'starter' ? '' : target);
    },
    getOptions: () => [{ value: '', label: text('choice.lane.default', { group: String(lane.name).toLowerCase() }) }].concat(
      LANE_KINDS.map((k) => ({ value: k, label: text(`choice.lane.${k}`) })))
  });
}

function LaneTargetEntry(props) {
  const { element, id, process, lane } = props;
  const injector = useService('injector');
  const debounce = useService('debounceInput');
  const kind = laneRule(process, lane).kind;
  return TextFieldEntry({
    element,
    id,
    label: text(`label.laneTarget.${kind}`),
    getValue: () => laneRule(process, lane).target,
    setValue: (v, error) => { if (!error) writeLane(injector, element, process, lane, kind, v); },
    validate: (v) => (!String(v || '').trim() ? text('err.laneTarget') : kind === 'data' ? checks.variable(v) : null),
    debounce
  });
}

function laneEntries(element, process, lane, index) {
  const entries = [{
    id: `jiebang-lane-${index}-kind`, element, process, lane,
    component: LaneKindEntry, isEdited: isSelectEntryEdited
  }];
  const kind = laneRule(process, lane).kind;
  if (kind && kind !== 'starter') {
    entries.push({
      id: `jiebang-lane-${index}-target`, element, process, lane,
      component: LaneTargetEntry, isEdited: isTextFieldEntryEdited
    });
  }
  return entries;
}

/** A sequence flow's condition, a Python expression the engine evaluates (a FEEL/JUEL one is converted at deploy). */
function ConditionEntry(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const debounce = useService('debounceInput');
  const bo = element.businessObject;
  return TextAreaEntry({
    element,
    id,
    label: text('label.condition'),
    description: text('help.condition'),
    getValue: () => (bo.conditionExpression && bo.conditionExpression.body) || '',
    setValue: (v) => {
      const body = (v || '').trim();
      modeling.updateProperties(element, {
        conditionExpression: body ? moddle.create('bpmn:FormalExpression', { body }) : undefined
      });
    },
    debounce,
    rows: 2,
    monospace: true
  });
}

function ScriptEntry(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = element.businessObject;
  return TextAreaEntry({
    element,
    id,
    label: text('label.script'),
    description: text('help.script'),
    getValue: () => bo.script || '',
    setValue: (v) => modeling.updateProperties(element, { scriptFormat: bo.scriptFormat || 'python', script: v || undefined }),
    debounce,
    rows: 6,
    monospace: true
  });
}

/** Only a flow leaving an exclusive or inclusive gateway (or an activity) can carry a condition. */
function mayHaveCondition(element) {
  const source = element.businessObject.sourceRef;
  return source && !is(source, 'bpmn:ParallelGateway') && !is(source, 'bpmn:EventBasedGateway') && !is(source, 'bpmn:Event');
}

// ---------------------------------------------------------------- groups per element kind

function taskGroup(element) {
  const bo = element.businessObject;
  const entries = [{ id: 'jiebang-formJsonSchemaFilename', element, bo, component: FormEntry, isEdited: isSelectEntryEdited }];
  if (is(bo, 'bpmn:StartEvent')) {
    entries.push(textEntry(element, bo, 'startVariables', checks.variables));
    return { id: 'jiebang-task', label: text('group.start'), entries };
  }
  entries.push(
    { id: 'jiebang-instructions', element, bo, component: InstructionsEntry, isEdited: isTextAreaEntryEdited },
    textEntry(element, bo, 'candidateGroups', checks.groups),
    textEntry(element, bo, 'assignee', checks.variable),
    textEntry(element, bo, 'dueIn', checks.duration, true),
    textEntry(element, bo, 'timeout', checks.duration, true)
  );
  if (getProperty(bo, 'timeout')) entries.push(selectEntry(element, bo, 'timeoutAction', ['remind', 'approve', 'reject'], 'choice.timeoutAction.default'));
  entries.push(textEntry(element, bo, 'ccGroups', checks.groups));
  return { id: 'jiebang-task', label: text('group.task'), entries };
}

function approvalGroup(element) {
  const bo = element.businessObject;
  const entries = [{ id: 'jiebang-approvalMode', element, bo, component: ApprovalModeEntry, isEdited: isSelectEntryEdited }];
  const mode = getProperty(bo, 'approvalMode');
  if (mode) {
    if (mode.indexOf('ratio:') === 0) {
      entries.push({ id: 'jiebang-ratio', element, bo, component: RatioEntry, isEdited: isTextFieldEntryEdited });
    }
    entries.push(
      textEntry(element, bo, 'approvers', checks.variable),
      selectEntry(element, bo, 'onReject', ['reject', 'return'], 'choice.onReject.default'),
      textEntry(element, bo, 'rejectDecision', checks.decision)
    );
  }
  return { id: 'jiebang-approval', label: text('group.approval'), entries };
}

function processGroup(element, process) {
  const entries = [selectEntry(element, process, 'autoApprove', ['never', 'same_person', 'consecutive'], 'choice.autoApprove.default')];
  lanesOf(process).filter((l) => l.name).forEach((lane, i) => entries.push(...laneEntries(element, process, lane, i)));
  return { id: 'jiebang-process', label: text('group.process'), entries };
}

function laneGroup(element) {
  const process = processOf(element);
  const lane = element.businessObject;
  if (!process || !lane.name) {
    return { id: 'jiebang-lane', label: text('group.lane'), entries: [] };
  }
  const index = lanesOf(process).filter((l) => l.name).indexOf(lane);
  return { id: 'jiebang-lane', label: text('group.lane'), entries: laneEntries(element, process, lane, index) };
}

/**
 * The English name (``name_en``) right under the name in the general group: the diagram names
 * elements in Chinese, and pages under ?lang=en show this one instead.
 */
function addEnglishName(groups, element) {
  const bo = element.businessObject;
  const general = groups.find((g) => g.id === 'general');
  const named = ['bpmn:FlowElement', 'bpmn:Lane', 'bpmn:Participant', 'bpmn:Process'].some((t) => is(bo, t));
  if (!general || !general.entries || !named) return;
  const at = general.entries.findIndex((e) => e.id === 'name');
  general.entries.splice(at < 0 ? 0 : at + 1, 0, textEntry(element, bo, 'name_en', checks.name));
}

export default function JiebangPropertiesProvider(propertiesPanel) {
  this.getGroups = function (element) {
    return function (groups) {
      const bo = element.businessObject;
      addEnglishName(groups, element);
      if (is(bo, 'bpmn:UserTask')) {
        groups.splice(1, 0, taskGroup(element), approvalGroup(element));
      } else if (is(bo, 'bpmn:StartEvent') && !(bo.eventDefinitions || []).length) {
        groups.splice(1, 0, taskGroup(element));
      } else if (is(bo, 'bpmn:SequenceFlow') && mayHaveCondition(element)) {
        groups.splice(1, 0, { id: 'jiebang-condition', label: text('group.condition'), entries: [
          { id: 'jiebang-condition-expression', element, component: ConditionEntry, isEdited: isTextAreaEntryEdited }] });
      } else if (is(bo, 'bpmn:ScriptTask')) {
        groups.splice(1, 0, { id: 'jiebang-script', label: text('group.script'), entries: [
          { id: 'jiebang-script-body', element, component: ScriptEntry, isEdited: isTextAreaEntryEdited }] });
      } else if (is(bo, 'bpmn:Lane')) {
        groups.splice(1, 0, laneGroup(element));
      } else if (is(bo, 'bpmn:Process') || (is(bo, 'bpmn:Participant') && bo.processRef)) {
        groups.splice(1, 0, processGroup(element, processOf(element)));
      }
      return groups.filter((g) => g.entries === undefined || g.entries.length || g.component);
    };
  };
  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

JiebangPropertiesProvider.$inject = ['propertiesPanel'];

// for the diff shown before deploying
export { getProperties };
