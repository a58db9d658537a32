// Reading and writing Jiebang's extension properties on a diagram element, in exactly the XML the
// engine reads (engine/definitions/policy.py):
//   <bpmn:extensionElements>
//     <spiffworkflow:properties><spiffworkflow:property name="approvalMode" value="all" /></spiffworkflow:properties>
//     <spiffworkflow:instructionsForEndUser>…</spiffworkflow:instructionsForEndUser>
//   </bpmn:extensionElements>
// Every change is one command on the modeler's command stack, so undo/redo take it back whole.
import { is } from 'bpmn-js/lib/util/ModelUtil';

const MULTI = 'properties-panel.multi-command-executor';

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

function extensionValues(bo) {
  return (bo.extensionElements && bo.extensionElements.values) || [];
}

/** The element's own ``spiffworkflow:properties`` container, or undefined. */
export function getPropertiesContainer(bo) {
  return extensionValues(bo).find((v) => is(v, 'spiffworkflow:Properties'));
}

/** ``name`` -> value of every ``spiffworkflow:property`` of one element. */
export function getProperties(bo) {
  const out = {};
  const container = getPropertiesContainer(bo);
  ((container && container.properties) || []).forEach((p) => {
    if (p.name) out[p.name] = p.value || '';
  });
  return out;
}

export function getProperty(bo, name) {
  return getProperties(bo)[name] || '';
}

/** Commands that make sure ``bo`` has an extensionElements holding a ``type`` child; returns [child, commands]. */
function ensureChild(element, bo, type, moddle) {
  const commands = [];
  let ext = bo.extensionElements;
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    commands.push(update(element, bo, { extensionElements: ext }));
  }
  let child = (ext.values || []).find((v) => is(v, type));
  if (!child) {
    child = moddle.create(type);
    child.$parent = ext;
    commands.push(update(element, ext, { values: [...(ext.values || []), child] }));
  }
  return [child, commands];
}

/** Commands that drop ``child`` from ``bo``'s extensionElements, and the extensionElements if left empty. */
function dropChild(element, bo, child) {
  const ext = bo.extensionElements;
  const rest = ext.values.filter((v) => v !== child);
  return rest.length ? [update(element, ext, { values: rest })] : [update(element, bo, { extensionElements: undefined })];
}

/**
 * Set several properties of ``bo`` (an element's business object, or the process behind a
 * participant) at once; an empty value removes the property.
 */
export function setProperties(injector, element, bo, values) {
  const moddle = injector.get('moddle');
  const commandStack = injector.get('commandStack');
  const current = getPropertiesContainer(bo);
  const wanted = Object.keys(values).filter((n) => values[n] !== undefined && values[n] !== null && values[n] !== '');
  if (!current && !wanted.length) return;
  const [container, commands] = current ? [current, []] : ensureChild(element, bo, 'spiffworkflow:Properties', moddle);
  let list = [...(container.properties || [])];
  let listChanged = false;
  Object.keys(values).forEach((name) => {
    const value = values[name] === undefined || values[name] === null ? '' : String(values[name]);
    const existing = list.find((p) => p.name === name);
    if (!value) {
      if (existing) {
        list = list.filter((p) => p !== existing);
        listChanged = true;
      }
    } else if (existing) {
      if (existing.value !== value) commands.push(update(element, existing, { value }));
    } else {
      const prop = moddle.create('spiffworkflow:Property', { name, value });
      prop.$parent = container;
      list.push(prop);
      listChanged = true;
    }
  });
  if (listChanged) {
    if (list.length || !current) commands.push(update(element, container, { properties: list }));
    else commands.push(...dropChild(element, bo, container));
  }
  if (commands.length) commandStack.execute(MULTI, commands);
}

export function setProperty(injector, element, bo, name, value) {
  setProperties(injector, element, bo, { [name]: value });
}

/** The text of a ``spiffworkflow:instructionsForEndUser`` (or another body-only child) of ``bo``. */
export function getBodyChild(bo, type) {
  const child = extensionValues(bo).find((v) => is(v, type));
  return (child && child.text) || '';
}

export function setBodyChild(injector, element, bo, type, text) {
  const existing = extensionValues(bo).find((v) => is(v, type));
  const commandStack = injector.get('commandStack');
  if (!text) {
    if (existing) commandStack.execute(MULTI, dropChild(element, bo, existing));
    return;
  }
  const [child, commands] = existing ? [existing, []] : ensureChild(element, bo, type, injector.get('moddle'));
  commands.push(update(element, child, { text }));
  commandStack.execute(MULTI, commands);
}

/** The process whose properties an element's panel edits: the process itself, or a participant's. */
export function processOf(element) {
  const bo = element.businessObject;
  if (is(bo, 'bpmn:Process')) return bo;
  if (is(bo, 'bpmn:Participant')) return bo.processRef;
  let parent = bo.$parent;
  while (parent && !is(parent, 'bpmn:Process')) parent = parent.$parent;
  return parent;
}

/** Every lane of a process, nested lanes included. */
export function lanesOf(process) {
  const out = [];
  const walk = (laneSets) => (laneSets || []).forEach((set) => (set.lanes || []).forEach((lane) => {
    out.push(lane);
    if (lane.childLaneSet) walk([lane.childLaneSet]);
  }));
  walk(process && process.laneSets);
  return out;
}
