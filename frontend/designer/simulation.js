// Token simulation (bpmn-js-token-simulation): before deploying, a designer switches the modeler to
// 模拟运行 and plays tokens through the diagram: which path a gateway takes, where parallel branches
// wait for each other, which events end the process. The plug-in writes its controls and log in
// English; on a Chinese page they are put into Chinese as the plug-in renders them.
import TokenSimulationModule from 'bpmn-js-token-simulation';

import { currentLanguage } from './i18n';

export { TokenSimulationModule };

const WORDS = {
  'Token Simulation': '模拟运行',
  'Simulation Log': '模拟日志',
  'Toggle Simulation Log': '显示或隐藏模拟日志',
  'Reset Simulation': '重新开始模拟',
  'Play Simulation': '继续模拟',
  'Pause Simulation': '暂停模拟',
  'Play/Pause Simulation': '继续或暂停',
  'Set Sequence Flow': '选择走这条线',
  'Trigger Event': '触发这个事件',
  'Add pause point': '到这里时暂停',
  'Remove pause point': '取消在这里暂停',
  'Finished': '已结束',
  'Found unsupported elements': '有不能模拟的元素',
  'Not supported': '不能模拟',
  'Service Task': '服务任务',
  'User Task': '人工任务',
  'Call Activity': '调用子流程',
  'Script Task': '脚本任务',
  'Business Rule Task': '决策任务',
  'Manual Task': '人工任务',
  'Receive Task': '接收任务',
  'Send Task': '发送任务',
  'Task': '任务',
  'Exclusive Gateway': '排他网关',
  'Parallel Gateway': '并行网关',
  'Inclusive Gateway': '包容网关',
  'Start Event': '开始事件',
  'Intermediate Event': '中间事件',
  'Boundary Event': '边界事件',
  'End Event': '结束事件',
  'Process started': '流程开始',
  'Process finished': '流程结束',
  'Process canceled': '流程被取消',
  'SubProcess started': '子流程开始',
  'SubProcess finished': '子流程结束',
  'SubProcess canceled': '子流程被取消'
};
// "<subprocess name> started|finished|canceled"
const SUFFIXES = [[' started', ' 开始'], [' finished', ' 结束'], [' canceled', ' 被取消']];
const PREFIXES = [
  ['Set animation speed = ', '动画速度 '],
  ['Focus process instance ', '查看流程实例 ']
];

function chinese(text) {
  const trimmed = text.trim();
  if (WORDS[trimmed]) return text.replace(trimmed, WORDS[trimmed]);
  for (const [english, zh] of PREFIXES) {
    if (trimmed.startsWith(english)) return text.replace(english, zh);
  }
  for (const [english, zh] of SUFFIXES) {
    if (trimmed.endsWith(english)) return text.replace(english, zh);
  }
  return text;
}

function localiseNode(node) {
  if (node.nodeType === Node.TEXT_NODE) {
    const out = chinese(node.nodeValue);
    if (out !== node.nodeValue) node.nodeValue = out;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const title = node.getAttribute('title');
  if (title) {
    const out = chinese(title);
    if (out !== title) node.setAttribute('title', out);
  }
  node.childNodes.forEach(localiseNode);
}

/** Keep the plug-in's words in the page's language inside ``container`` (the modeler's). */
export function localiseSimulation(container) {
  if (currentLanguage() !== 'zh') return;
  localiseNode(container);
  new MutationObserver((records) => {
    records.forEach((r) => {
      if (r.type === 'attributes' || r.type === 'characterData') localiseNode(r.target);
      r.addedNodes.forEach(localiseNode);
    });
  }).observe(container, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['title'] });
}
