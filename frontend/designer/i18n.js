// The designer's words: Jiebang's own panel labels in Chinese (English under ?lang=en), and Chinese
// for the strings bpmn-js and its properties panel show (palette, context pad, panel headers), so a
// Chinese page never mixes in English.

let language = 'zh';

export function setLanguage(lang) {
  language = lang === 'en' ? 'en' : 'zh';
}

export function currentLanguage() {
  return language;
}

const WORDS = {
  'group.task': ['办理设置', 'Jiebang: who and how'],
  'group.start': ['发起设置', 'Jiebang: starting'],
  'group.approval': ['多人审批', 'Jiebang: signing by several people'],
  'group.process': ['流程办理规则', 'Jiebang: who works each lane'],
  'group.lane': ['泳道办理人', 'Jiebang: who works this lane'],

  'label.name_en': ['英文名称', 'English name'],
  'help.name_en': ['英文页面（?lang=en）显示的名称；不填则显示上面的中文名称', 'Shown on English pages (?lang=en); empty: the name above'],
  'err.name_en': ['须为一行文字，不超过 200 个字符', 'One line of at most 200 characters'],
  'label.formJsonSchemaFilename': ['表单', 'Form'],
  'help.formJsonSchemaFilename': ['办理人填写的表单：系统自带的，或随流程一起部署的 .json 文件', 'The form filled in here: a shipped one or a .json file deployed with the process'],
  'choice.noForm': ['（无表单）', '(no form)'],
  'label.instructions': ['办理说明', 'Instructions'],
  'help.instructions': ['显示在办理页面顶部，告诉办理人要做什么', 'Shown at the top of the task page'],
  'label.startVariables': ['发起时可带入的数据', 'Start variables'],
  'help.startVariables': ['流程变量名，用逗号分隔，如 title,category', 'Process variable names, comma-separated, e.g. title,category'],
  'label.candidateGroups': ['候选用户组', 'Candidate groups'],
  'help.candidateGroups': ['不填则按泳道设置；多个组用逗号分隔，如 reviewers,office', 'Empty: as the lane says; several groups comma-separated'],
  'label.assignee': ['办理人（流程变量）', 'Assignee (process variable)'],
  'help.assignee': ['存放办理人用户名的流程变量名；填写后覆盖泳道设置', 'The variable holding the username; overrides the lane'],
  'label.dueIn': ['办理期限', 'Due in'],
  'help.dueIn': ['ISO 8601 时长，如 P3D（3 天）、PT4H（4 小时）、P2W（2 周）。', 'ISO 8601 duration, e.g. P3D (3 days), PT4H (4 hours), P2W (2 weeks).'],
  'label.timeout': ['超时时间', 'Timeout'],
  'help.timeout': ['无人办理多久后按下面的方式处理；格式同办理期限。', 'After how long without action the step is handled as below; same format.'],
  'label.timeoutAction': ['超时后', 'When it times out'],
  'help.timeoutAction': ['', ''],
  'choice.timeoutAction.default': ['提醒办理人（默认）', 'Remind (default)'],
  'choice.timeoutAction.remind': ['提醒办理人', 'Remind'],
  'choice.timeoutAction.approve': ['自动通过', 'Approve automatically'],
  'choice.timeoutAction.reject': ['自动驳回', 'Reject automatically'],
  'label.ccGroups': ['办结后抄送用户组', 'Copy to groups when done'],
  'help.ccGroups': ['多个组用逗号分隔', 'Comma-separated groups'],

  'label.approvalMode': ['审批方式', 'Approval mode'],
  'help.approvalMode': ['多人审批时，需要多少人同意才通过', 'How many of several signers must approve'],
  'choice.approvalMode.none': ['一人办理', 'One person'],
  'choice.approvalMode.all': ['会签（全部同意）', 'All must approve'],
  'choice.approvalMode.any': ['或签（一人同意即可）', 'Any one approves'],
  'choice.approvalMode.sequential': ['依次审批', 'One after another'],
  'choice.approvalMode.ratio': ['按比例通过', 'A share must approve'],
  'label.ratio': ['通过比例', 'Share needed'],
  'help.ratio': ['0 到 1 之间，如 0.6 表示 60% 的人同意即通过', 'Between 0 and 1, e.g. 0.6 for 60%'],
  'label.approvers': ['审批人（流程变量）', 'Signers (process variable)'],
  'help.approvers': ['存放审批人用户名列表的流程变量名；不填则为候选人', 'The variable listing the signers; empty: the candidates'],
  'label.onReject': ['有人驳回时', 'When one signer rejects'],
  'help.onReject': ['', ''],
  'choice.onReject.default': ['整体驳回（默认）', 'Reject the step (default)'],
  'choice.onReject.reject': ['整体驳回', 'Reject the step'],
  'choice.onReject.return': ['退回上一步', 'Return to the previous step'],
  'label.rejectDecision': ['驳回时的决定值', 'Decision value on rejection'],
  'help.rejectDecision': ['驳回时写入 decision 的值，默认 reject', 'Written to decision on rejection; default reject'],

  'label.autoApprove': ['自动审批', 'Auto-approve'],
  'help.autoApprove': ['同一人已审批过时是否自动通过（退回过的步骤从不自动通过）', 'Approve for someone who already approved (never a returned step)'],
  'choice.autoApprove.default': ['从不（默认）', 'Never (default)'],
  'choice.autoApprove.never': ['从不', 'Never'],
  'choice.autoApprove.same_person': ['同一人审批过即自动通过', 'When the same person approved before'],
  'choice.autoApprove.consecutive': ['连续两步同一人时自动通过', 'When the same person approved the step before'],
  'label.laneKind': ['泳道「{lane}」由谁办理', 'Who works lane "{lane}"'],
  'help.laneKind': ['', ''],
  'choice.lane.default': ['默认：用户组 {group}', 'Default: group {group}'],
  'choice.lane.group': ['用户组', 'A group'],
  'choice.lane.user': ['指定用户', 'One user'],
  'choice.lane.data': ['流程变量中的人', 'The person in a variable'],
  'choice.lane.post': ['单位职务的任职者', 'The holders of a post'],
  'choice.lane.starter': ['流程发起人', 'The starter'],
  'label.laneTarget.group': ['用户组名', 'Group'],
  'label.laneTarget.user': ['用户名', 'Username'],
  'label.laneTarget.data': ['流程变量名', 'Variable'],
  'label.laneTarget.post': ['职务@单位（如 书记@data:unit、书记@starter、镇长@parent-of:data:unit）',
    'Post@unit (e.g. 书记@data:unit, 书记@starter, 镇长@parent-of:data:unit)'],

  'err.variable': ['须为流程变量名（字母、数字、下划线）', 'Must be a variable name (letters, digits, _)'],
  'err.post': ['须为 职务@data:变量名、职务@starter 或 职务@parent-of:data:变量名',
    'Must be POST@data:VARIABLE, POST@starter or POST@parent-of:data:VARIABLE'],
  'err.variables': ['须列出流程变量名，如 title,category', 'Must list variable names, such as title,category'],
  'err.groups': ['须至少列出一个用户组', 'Must list at least one group'],
  'err.duration': ['须为 ISO 8601 时长，如 P14D、PT2H', 'Must be an ISO 8601 duration such as P14D or PT2H'],
  'err.form': ['须为不含目录的 .json 文件名', 'Must be a .json file name without a folder'],
  'err.ratio': ['须为大于 0、不超过 1 的数，如 0.6', 'Must be a number above 0 and at most 1, such as 0.6'],
  'err.decision': ['须为一个决定值，如 reject', 'Must be a decision value such as reject'],
  'err.laneTarget': ['请填写办理对象', 'Say who'],

  'diff.type': ['类型', 'Type'],
  'diff.name': ['名称', 'Name'],
  'diff.condition': ['条件', 'Condition'],
  'diff.script': ['脚本', 'Script'],
  'diff.timer': ['定时', 'Timer'],
  'diff.default': ['默认流', 'Default flow'],
  'diff.source': ['起点', 'From'],
  'diff.target': ['终点', 'To'],
  'diff.calledElement': ['调用的流程', 'Called process'],
  'diff.instructions': ['办理说明', 'Instructions'],
  'diff.multiInstance': ['多实例', 'Multi-instance'],
  'diff.loopCollection': ['多实例集合', 'Multi-instance collection'],

  'group.condition': ['流转条件', 'Jiebang: condition'],
  'label.condition': ['条件（Python 表达式）', 'Condition (Python expression)'],
  'help.condition': ['为真时走这条线，如 decision == \'approve\'；留空则无条件', "Taken when true, e.g. decision == 'approve'; empty: always"],
  'group.script': ['脚本', 'Jiebang: script'],
  'label.script': ['脚本（Python）', 'Script (Python)'],
  'help.script': ['在沙箱中运行；可用 now()、add_duration()、to_utc()', 'Runs in the sandbox; now(), add_duration() and to_utc() are at hand'],

  'duration.Y': ['年', 'years'],
  'duration.M': ['个月', 'months'],
  'duration.W': ['周', 'weeks'],
  'duration.D': ['天', 'days'],
  'duration.H': ['小时', 'hours'],
  'duration.TM': ['分钟', 'minutes'],
  'duration.S': ['秒', 'seconds'],
  'duration.is': ['即', 'that is']
};

/** One of Jiebang's panel strings in the page's language, ``{name}`` filled from ``params``. */
export function text(key, params) {
  const pair = WORDS[key];
  let out = pair ? pair[language === 'en' ? 1 : 0] : key;
  Object.keys(params || {}).forEach((k) => { out = out.replace(`{${k}}`, params[k]); });
  return out;
}

/** ``P1DT2H`` -> ``即 1 天 2 小时``: what a duration means, under the field that holds it. */
export function describeDuration(iso) {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m) return '';
  const parts = [];
  ['Y', 'M', 'W', 'D', 'H', 'TM', 'S'].forEach((unit, i) => {
    if (m[i + 1]) parts.push(`${m[i + 1]} ${text(`duration.${unit}`)}`);
  });
  return parts.length ? `${text('duration.is')} ${parts.join(' ')}` : '';
}

// bpmn-js, diagram-js and the properties panel through their translate service.
const BUILT_IN = {
  'Activate hand tool': '抓手工具（拖动画布）',
  'Activate lasso tool': '框选工具',
  'Activate create/remove space tool': '插入/删除空间',
  'Activate global connect tool': '连线工具',
  'Create start event': '新建开始事件',
  'Create intermediate/boundary event': '新建中间/边界事件',
  'Create end event': '新建结束事件',
  'Create gateway': '新建网关',
  'Create task': '新建任务',
  'Create expanded sub-process': '新建子流程',
  'Create data object reference': '新建数据对象',
  'Create data store reference': '新建数据存储',
  'Create pool/participant': '新建泳池',
  'Create group': '新建分组',
  'Append end event': '追加结束事件',
  'Append gateway': '追加网关',
  'Append task': '追加任务',
  'Append intermediate/boundary event': '追加中间事件',
  'Append message intermediate catch event': '追加消息捕获事件',
  'Append timer intermediate catch event': '追加定时事件',
  'Append conditional intermediate catch event': '追加条件事件',
  'Append signal intermediate catch event': '追加信号捕获事件',
  'Append receive task': '追加接收任务',
  'Append compensation activity': '追加补偿活动',
  'Add text annotation': '添加注释',
  'Add lane above': '在上方添加泳道',
  'Add lane below': '在下方添加泳道',
  'Divide into two lanes': '分为两条泳道',
  'Divide into three lanes': '分为三条泳道',
  'Change element': '更改类型',
  'Change type': '更改类型',
  'Delete': '删除',
  'Connect to other element': '连接到其他元素',
  'Connect using association': '用关联连接',
  'Connect using data input association': '用数据输入关联连接',
  'Toggle non-interrupting': '切换为不中断',
  'Parallel multi-instance': '并行多实例',
  'Sequential multi-instance': '串行多实例',
  'Loop': '循环',
  'Collection': '集合',
  'Participant multiplicity': '参与者多重性',
  'Search in diagram': '在图中搜索',
  // properties panel
  'Select an element to edit its properties.': '选择一个元素以编辑其属性。',
  'Multiple elements are selected. Select a single one to edit its properties.': '选中了多个元素，请只选一个以编辑其属性。',
  'General': '基本信息',
  'Name': '名称',
  'ID': '标识',
  'Documentation': '说明文档',
  'Element documentation': '元素说明',
  'Process documentation': '流程说明',
  'Process name': '流程名称',
  'Process ID': '流程标识',
  'Participant Name': '泳池名称',
  'Participant ID': '泳池标识',
  'Executable': '可执行',
  'Version tag': '版本标签',
  'Condition': '条件',
  'Condition expression': '条件表达式',
  'Type': '类型',
  'Value': '值',
  'Timer': '定时器',
  'Date': '日期',
  'Duration': '时长',
  'Cycle': '周期',
  'Message': '消息',
  'Signal': '信号',
  'Error': '错误',
  'Escalation': '升级',
  'Script': '脚本',
  'Format': '格式',
  'Inline script': '内联脚本',
  'Multi-instance': '多实例',
  'Loop cardinality': '循环次数',
  'Completion condition': '完成条件',
  'Inputs': '输入',
  'Outputs': '输出',
  'Data object': '数据对象',
  'Data object reference': '数据对象引用',
  'Global message reference': '全局消息',
  'Global signal reference': '全局信号',
  'Global error reference': '全局错误',
  'Global escalation reference': '全局升级',
  'Link': '链接',
  'Compensation': '补偿',
  'Called element': '被调用元素',
  'Create new ...': '新建…',
  '<none>': '（无）',
  'Open documentation': '打开文档',
  'Time to live': '保留时间',
  'Expression': '表达式',
  'Item definition': '数据定义',
  'Element template': '元素模板',
  // element types shown in the panel header
  'Start Event': '开始事件',
  'End Event': '结束事件',
  'Message Start Event': '消息开始事件',
  'Timer Start Event': '定时开始事件',
  'Intermediate Throw Event': '中间抛出事件',
  'Message Intermediate Catch Event': '消息捕获事件',
  'Timer Intermediate Catch Event': '定时捕获事件',
  'Timer Boundary Event': '定时边界事件',
  'Timer Boundary Event (non-interrupting)': '定时边界事件（不中断）',
  'Message Boundary Event': '消息边界事件',
  'Task': '任务',
  'User Task': '用户任务',
  'Script Task': '脚本任务',
  'Service Task': '服务任务',
  'Business Rule Task': '业务规则任务',
  'Send Task': '发送任务',
  'Receive Task': '接收任务',
  'Manual Task': '人工任务',
  'Call Activity': '调用活动',
  'Sub Process': '子流程',
  'Sub Process (collapsed)': '子流程（折叠）',
  'Sub Process (expanded)': '子流程（展开）',
  'Exclusive Gateway': '排他网关',
  'Parallel Gateway': '并行网关',
  'Inclusive Gateway': '包容网关',
  'Event based Gateway': '事件网关',
  'Sequence Flow': '顺序流',
  'Default Flow': '默认流',
  'Conditional Flow': '条件流',
  'Lane': '泳道',
  'Participant': '泳池',
  'Process': '流程',
  'Collaboration': '协作图',
  'Participant documentation': '泳池说明',
  'Text Annotation': '注释',
  'Group': '分组',
  'Data Object Reference': '数据对象',
  'Data Store Reference': '数据存储',
  'Empty pool/participant': '空泳池',
  'Expanded pool/participant': '展开的泳池',
  'Collapsed pool/participant': '折叠的泳池'
};

// Event names the panel header composes ("Timer Boundary Event (Non Interrupting)"), word by word.
const EVENT_KIND = {
  'Message': '消息', 'Timer': '定时', 'Signal': '信号', 'Error': '错误', 'Escalation': '升级',
  'Conditional': '条件', 'Compensate': '补偿', 'Link': '链接', 'Terminate': '终止', 'Cancel': '取消'
};
const EVENT_PLACE = {
  'Start Event': '开始事件', 'End Event': '结束事件', 'Boundary Event': '边界事件',
  'Intermediate Catch Event': '捕获事件', 'Intermediate Throw Event': '抛出事件'
};
const EVENT = /^(?:(\w+) )?(Start Event|End Event|Boundary Event|Intermediate Catch Event|Intermediate Throw Event)( \(Non Interrupting\))?$/;

function chinese(template) {
  if (BUILT_IN[template]) return BUILT_IN[template];
  const m = EVENT.exec(template);
  if (m && (!m[1] || EVENT_KIND[m[1]])) {
    return (m[1] ? EVENT_KIND[m[1]] : '') + EVENT_PLACE[m[2]] + (m[3] ? '（不中断）' : '');
  }
  return template;
}

/** diagram-js's translate service: Chinese for the built-in strings, ``{name}`` placeholders filled. */
export function translate(template, replacements) {
  let out = language === 'zh' ? chinese(template) : template;
  Object.keys(replacements || {}).forEach((k) => { out = out.replace(new RegExp(`{${k}}`, 'g'), replacements[k]); });
  return out;
}
