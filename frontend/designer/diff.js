// What changed between two versions of a diagram, element by element: added, removed, and changed
// elements with each changed property (name, Jiebang properties, conditions, scripts, timers, flow
// ends), as the deploy confirmation lists them. Layout moves alone are not changes.
import { is } from 'bpmn-js/lib/util/ModelUtil';

import { getBodyChild, getProperties } from './extension';
import { text, translate } from './i18n';

function body(expr) {
  return expr && expr.body ? String(expr.body).trim() : '';
}

function timerOf(el) {
  const def = (el.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
  if (!def) return '';
  return body(def.timeDate) || body(def.timeDuration) || body(def.timeCycle);
}

/** The properties of one element that matter to how it runs, as flat strings. */
function summary(el) {
  const props = {};
  const put = (key, value) => { if (value) props[key] = String(value); };
  put('name', el.name);
  put('condition', body(el.conditionExpression));
  put('script', el.script);
  put('timer', timerOf(el));
  put('default', el.default && el.default.id);
  put('source', el.sourceRef && el.sourceRef.id);
  put('target', el.targetRef && el.targetRef.id);
  put('calledElement', el.calledElement);
  put('instructions', getBodyChild(el, 'spiffworkflow:InstructionsForEndUser'));
  const loop = el.loopCharacteristics;
  if (loop) {
    put('multiInstance', loop.isSequential ? 'sequential' : 'parallel');
    put('loopCollection', body(loop.loopCardinality) || loop.collection);
  }
  const own = getProperties(el);
  Object.keys(own).forEach((k) => put(`property:${k}`, own[k]));
  return { type: el.$type, name: el.name || '', props };
}

function collect(definitions) {
  const out = {};
  const visit = (el) => {
    if (!el || !el.id || /^bpmndi:|^dc:|^di:/.test(el.$type)) return;
    if (is(el, 'bpmn:Process') || is(el, 'bpmn:FlowElement') || is(el, 'bpmn:Lane') || is(el, 'bpmn:Participant') ||
        is(el, 'bpmn:Message') || is(el, 'bpmn:Signal') || is(el, 'bpmn:Error') || is(el, 'bpmn:Escalation')) {
      out[el.id] = summary(el);
    }
    (el.participants || []).forEach(visit);
    (el.flowElements || []).forEach(visit);
    (el.laneSets || []).forEach((set) => (set.lanes || []).forEach(visit));
    if (el.childLaneSet) (el.childLaneSet.lanes || []).forEach(visit);
  };
  (definitions.rootElements || []).forEach(visit);
  return out;
}

/** A changed property's label in the page's language. */
export function propertyLabel(key) {
  if (key.indexOf('property:lane:') === 0) return text('label.laneKind', { lane: key.slice(14) });
  if (key.indexOf('property:') === 0) {
    const name = key.slice(9);
    const label = text(`label.${name}`);
    return label === `label.${name}` ? name : label;
  }
  return text(`diff.${key}`);
}

/** A changed property's value in words where the panel offers choices (``all`` -> 会签（全部同意）). */
export function propertyValue(key, value) {
  if (!value) return value;
  const name = key.indexOf('property:') === 0 ? key.slice(9) : '';
  if (name.indexOf('lane:') === 0) {
    if (value === 'starter') return text('choice.lane.starter');
    const at = value.indexOf(':');
    return at > 0 ? `${text(`choice.lane.${value.slice(0, at)}`)} ${value.slice(at + 1)}` : value;
  }
  if (name === 'approvalMode' && value.indexOf('ratio:') === 0) {
    return `${text('choice.approvalMode.ratio')} ${value.slice(6)}`;
  }
  const word = text(`choice.${name}.${value}`);
  return word === `choice.${name}.${value}` ? value : word;
}

/** Compare two BPMN XML texts with the modeler's own moddle; resolves to {added, removed, changed}. */
export function diffDiagrams(moddle, oldXml, newXml) {
  return Promise.all([moddle.fromXML(oldXml), moddle.fromXML(newXml)]).then(([a, b]) => {
    const before = collect(a.rootElement);
    const after = collect(b.rootElement);
    const item = (id, s) => ({ id, type: translate(typeLabel(s.type)), name: s.name });
    const added = Object.keys(after).filter((id) => !before[id]).map((id) => item(id, after[id]));
    const removed = Object.keys(before).filter((id) => !after[id]).map((id) => item(id, before[id]));
    const changed = [];
    Object.keys(after).filter((id) => before[id]).forEach((id) => {
      const keys = new Set([...Object.keys(before[id].props), ...Object.keys(after[id].props)]);
      const props = [];
      keys.forEach((k) => {
        const was = before[id].props[k] || '';
        const now = after[id].props[k] || '';
        if (was !== now) props.push({ key: k, label: propertyLabel(k), before: propertyValue(k, was), after: propertyValue(k, now) });
      });
      if (before[id].type !== after[id].type) {
        props.unshift({ key: 'type', label: text('diff.type'), before: translate(typeLabel(before[id].type)), after: translate(typeLabel(after[id].type)) });
      }
      if (props.length) changed.push({ ...item(id, after[id]), props });
    });
    return { added, removed, changed };
  });
}

function typeLabel(type) {
  // bpmn:UserTask -> "User Task", the words bpmn-js's panel header uses (translated when Chinese)
  return type.replace(/^bpmn:/, '').replace(/([a-z])([A-Z])/g, '$1 $2').replace('Sub Process', 'Sub Process');
}
