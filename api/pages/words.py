"""The engine's vocabulary in the page's language: statuses, challenge phases, lanes, history events,
decisions and timer kinds. Built per request (``gettext`` needs the request's locale); a word the
table does not know is shown as stored rather than hidden."""

from __future__ import annotations

from flask_babel import gettext as _

from engine import Event


def instance_statuses() -> dict[str, str]:
    return {
        "running": _("进行中"),
        "completed": _("已办结"),
        "cancelled": _("已撤销"),
        "error": _("出错"),
    }


def task_statuses() -> dict[str, str]:
    return {
        "open": _("待办理"),
        "waiting": _("等待会签"),
        "completed": _("已完成"),
        "cancelled": _("已取消"),
        "suspended": _("已暂停"),
        "returned": _("已退回"),
        "withdrawn": _("已撤回"),
        "superseded": _("已失效"),
        "skipped": _("已跳过"),
        "removed": _("已减签"),
    }


def phases() -> dict[str, str]:
    """An instance's phase (``data.phase``, set by the shipped diagrams' scripts)."""
    return {
        "collecting": _("征集中"),
        "selecting": _("评审中"),
        "merging": _("定榜中"),
        "discussing": _("公示讨论中"),
        "published": _("揭榜中"),
        "in_progress": _("攻坚中"),
        "under_acceptance": _("验收中"),
        "rectifying": _("整改中"),
        "accepted": _("已验收"),
        "failed": _("未通过"),
        "rejected": _("未立项"),
        # 三好创争 (sanhao)
        "planning": _("创争规划"),
        "supervision": _("月度督导"),
        "self_report": _("年度述职"),
        "ranking": _("量化计分"),
        "selection": _("研究论证"),
        "publicity": _("公示中"),
        "awarded": _("已表彰"),
        # 五个一线 (frontline)
        "pool": _("人才库中"),
        "appraising": _("研判中"),
        "not_selected": _("未选派"),
        "on_post": _("锻炼中"),
        "assessed": _("已鉴定"),
        "closed": _("已结束"),
        # 总队长制 (village_appointment, village_problem)
        "appointed": _("已任命"),
        "triage": _("分级研判中"),
        "dispatched": _("已交办"),
        "returned": _("已退回"),
        "solved": _("已解决"),
    }


def lanes() -> dict[str, str]:
    """The shipped diagram's lanes (named in English in the BPMN) as people call them."""
    return {
        "Submitter": _("申报人"),
        "TaskForce": _("专班"),
        "Committee": _("党委研判"),
        "Claimant": _("揭榜方"),
        "Evaluator": _("考评组"),
        "Organiser": _("组织部门"),  # the annual list's lanes
        "Unit": _("报送单位"),
        "Panel": _("评审组"),
        "Town": _("镇街班子"),  # 三好创争
    }


def groups() -> dict[str, str]:
    """The shipped process's groups (a candidate group is shown as who it is, not its key)."""
    return {"taskforce": _("专班"), "committee": _("党委研判组"), "evaluator": _("考评组")}


def events() -> dict[str, str]:
    """What a history row says happened."""
    return {
        Event.INSTANCE_START: _("发起流程"),
        Event.INSTANCE_COMPLETED: _("流程办结"),
        Event.INSTANCE_CANCEL: _("撤销流程"),
        Event.INSTANCE_ERROR: _("流程出错"),
        Event.INSTANCE_RESUMED: _("修复后重新运行"),
        Event.INSTANCE_VARIABLES_SET: _("管理员修改流程数据"),
        Event.INSTANCE_MIGRATED: _("管理员迁移到新版本"),
        Event.INCIDENT_RETRIED: _("重试后台任务"),
        Event.INSTANCE_WITHDRAW: _("撤回"),
        Event.INSTANCE_CC: _("抄送"),
        Event.TASK_CREATED: _("任务到达"),
        Event.TASK_CLAIM: _("签收"),
        Event.TASK_UNCLAIM: _("退回组待办"),
        Event.TASK_COMPLETE: _("办理完成"),
        Event.TASK_CANCELLED: _("任务取消"),
        Event.TASK_COMMENTED: _("填写意见"),
        Event.TASK_RETURN: _("退回"),
        Event.TASK_URGE: _("催办"),
        Event.TASK_DELEGATE: _("委托"),
        Event.TASK_DELEGATE_DONE: _("委托办理完成"),
        Event.TASK_TRANSFER: _("转办"),
        Event.TASK_ADD_SIGNERS: _("加签"),
        Event.TASK_REMOVE_SIGNER: _("减签"),
        Event.TASK_SIGN: _("会签"),
        Event.TASK_TIMEOUT: _("超时"),
        Event.TASK_AUTO_APPROVE: _("超时自动通过"),
        Event.TASK_RELEASED: _("退回组待办（办理人已停用）"),
        Event.TASK_HOLDER_DEACTIVATED: _("办理人已停用"),
        Event.MESSAGE_RECEIVED: _("收到消息"),
        Event.TIMER_FIRED: _("定时触发"),
        Event.SCORE_AWARDED: _("记入积分"),
        Event.ASSIGNMENT_UNRESOLVED: _("无人担任该职务，任务待分派"),
        Event.ASSIGNMENT_RESOLVED: _("随职务转交"),
        Event.CAMPAIGN_IMPORTED: _("列入年度榜单"),
        Event.CAMPAIGN_LISTED: _("经征集评审列入年度榜单"),
        Event.CAMPAIGN_PUBLISHED: _("随年度榜单统一发榜"),
        Event.CAMPAIGN_ASSESSMENT_OPENED: _("年终考评已开启"),
        Event.CAMPAIGN_CARRIED_OVER: _("由上年度榜单结转"),
        Event.ATTACHMENT_UPLOADED: _("上传附件"),
    }


def messages() -> dict[str, str]:
    """Messages a process waits for, by name: what their arrival means to a reader."""
    return {"claim_submitted": _("提交揭榜申请")}


def decisions() -> dict[str, str]:
    """The decision values of the shipped forms, as the history quotes them."""
    return {
        "approve": _("通过"),
        "return": _("退回修改"),
        "reject": _("不予立项"),
        "pass": _("通过"),
        "fail": _("不通过"),
        "rectify": _("限期整改"),
        "extend": _("延期"),
        "terminate": _("终止"),
        "accept_late": _("按逾期验收"),
        "assign": _("组织指派"),
        "republish": _("重新发布"),
    }


def job_kinds() -> dict[str, str]:
    """Every kind of job an instance can have waiting, as its page names it."""
    return {
        "timer": _("定时器"),
        "webhook": _("消息推送"),
        "notification": _("通知发送"),
        "notification_due": _("到期提醒"),
        "task_timeout": _("超时处理"),
        "village_snapshot": _("清单快照"),
    }


def element_types() -> dict[str, str]:
    """BPMN element types as a process owner calls them (the version comparison lists them)."""
    return {
        "process": _("流程"),
        "participant": _("泳池"),
        "lane": _("泳道"),
        "userTask": _("人工任务"),
        "manualTask": _("人工任务"),
        "task": _("任务"),
        "scriptTask": _("脚本任务"),
        "serviceTask": _("服务任务"),
        "businessRuleTask": _("决策任务"),
        "sendTask": _("发送任务"),
        "receiveTask": _("接收任务"),
        "callActivity": _("调用子流程"),
        "subProcess": _("子流程"),
        "startEvent": _("开始事件"),
        "endEvent": _("结束事件"),
        "intermediateCatchEvent": _("中间捕获事件"),
        "intermediateThrowEvent": _("中间抛出事件"),
        "boundaryEvent": _("边界事件"),
        "exclusiveGateway": _("排他网关"),
        "parallelGateway": _("并行网关"),
        "inclusiveGateway": _("包容网关"),
        "eventBasedGateway": _("事件网关"),
        "sequenceFlow": _("连线"),
        "messageFlow": _("消息流"),
        "message": _("消息"),
    }


def diff_properties() -> dict[str, str]:
    """What may change on an element between two versions, in words (a ``property:x`` not listed
    here shows as the property's own name)."""
    return {
        "type": _("元素类型"),
        "name": _("名称"),
        "condition": _("条件"),
        "script": _("脚本"),
        "timer": _("定时"),
        "lane": _("所在泳道"),
        "event": _("事件类型"),
        "message": _("消息"),
        "default": _("默认流"),
        "sourceRef": _("起点"),
        "targetRef": _("终点"),
        "calledElement": _("调用的流程"),
        "attachedToRef": _("所附环节"),
        "interrupting": _("是否中断"),
        "multiInstance": _("多实例（会签）"),
        "loop": _("循环"),
        "form content": _("表单内容"),
        "instructionsForEndUser": _("办理说明"),
        "calledDecisionId": _("决策表"),
        "preScript": _("前置脚本"),
        "postScript": _("后置脚本"),
        "property:formJsonSchemaFilename": _("表单"),
        "property:name_en": _("英文名称"),
        "property:candidateGroups": _("候选用户组"),
        "property:assignee": _("办理人（流程变量）"),
        "property:dueIn": _("办理期限"),
        "property:approvalMode": _("审批方式"),
        "property:approvers": _("审批人（流程变量）"),
        "property:timeout": _("超时时间"),
        "property:timeoutAction": _("超时后"),
        "property:ccGroups": _("办结后抄送用户组"),
        "property:onReject": _("有人驳回时"),
        "property:rejectDecision": _("驳回时的决定值"),
        "property:autoApprove": _("自动审批"),
        "property:assignment": _("办理人规则"),
        "property:startVariables": _("发起时可带入的数据"),
    }
