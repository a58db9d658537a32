// A lane's assignment rule is kept on the process as ``lane:<lane name>``: renaming the lane carries
// its rule over to the new name in the same undo step, so a rename never silently drops who works it.
import CommandInterceptor from 'diagram-js/lib/command/CommandInterceptor';
import { is } from 'bpmn-js/lib/util/ModelUtil';

import { getProperty, processOf, setProperties } from './extension';

export default class LaneRuleKeeper extends CommandInterceptor {
  constructor(eventBus, injector) {
    super(eventBus);
    const renamed = (context) => {
      const element = context.element;
      if (!element || !is(element, 'bpmn:Lane')) return;
      const oldName = context.jiebangOldName;
      const newName = element.businessObject.name;
      const process = processOf(element);
      if (!process || !oldName || !newName || oldName === newName) return;
      const rule = getProperty(process, `lane:${oldName}`);
      if (rule && !getProperty(process, `lane:${newName}`)) {
        setProperties(injector, element, process, { [`lane:${oldName}`]: '', [`lane:${newName}`]: rule });
      }
    };
    const remember = (context) => {
      if (context.element && is(context.element, 'bpmn:Lane')) context.jiebangOldName = context.element.businessObject.name;
    };
    this.preExecute(['element.updateProperties', 'element.updateLabel'], (event) => remember(event.context));
    this.postExecute(['element.updateProperties', 'element.updateLabel'], (event) => renamed(event.context));
  }
}

LaneRuleKeeper.$inject = ['eventBus', 'injector'];
