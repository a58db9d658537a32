// The designer's modeler: bpmn-js with its properties panel and Jiebang's extension properties
// (bundled by scripts/vendor-assets into api/static/vendor/designer/). The page script
// api/static/js/designer.js drives it through window.JiebangDesigner.
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import { diffDiagrams } from './diff';
import { setLanguage, text, translate } from './i18n';
import LaneRuleKeeper from './lanes';
import { localiseSimulation, TokenSimulationModule } from './simulation';
import JiebangPropertiesProvider from './properties';
import spiffworkflow from './spiffworkflow.json';

const JiebangModule = {
  __init__: ['jiebangPropertiesProvider', 'jiebangLaneRuleKeeper'],
  jiebangPropertiesProvider: ['type', JiebangPropertiesProvider],
  jiebangLaneRuleKeeper: ['type', LaneRuleKeeper],
  translate: ['value', translate]
};

/** A modeler on ``container`` with its properties panel in ``panel``; ``forms`` are the form files a task may use. */
function create({ container, panel, lang, forms }) {
  setLanguage(lang);
  const modeler = new Modeler({
    container,
    propertiesPanel: {
      parent: panel,
      // Jiebang's groups open: they are what a designer comes to the panel for
      layout: { groups: { 'jiebang-task': { open: true }, 'jiebang-approval': { open: true }, 'jiebang-process': { open: true }, 'jiebang-lane': { open: true }, 'jiebang-condition': { open: true }, 'jiebang-script': { open: true } } }
    },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, JiebangModule, TokenSimulationModule],
    moddleExtensions: { spiffworkflow },
    jiebang: { forms: forms || [] }
  });
  localiseSimulation(container);
  return modeler;
}

window.JiebangDesigner = {
  create,
  diff: (modeler, oldXml, newXml) => diffDiagrams(modeler.get('moddle'), oldXml, newXml),
  text
};
