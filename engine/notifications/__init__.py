"""Notifications: telling people of their tasks (任务待办, 催办, 即将到期, 已超期) by e-mail and group robots.

``tables`` (channels, preferences, deliveries), ``templates`` (what a message says, escaped per
channel), ``channels`` (SMTP, 钉钉 and 企业微信 robots), ``outbox`` (who is told, when, and the
delivery jobs), ``service`` (``NotificationsMixin``: the façade's methods).
"""

from .service import ChannelRecord, NotificationDeliveryRecord, NotificationsMixin, PreferenceRecord
from .templates import NotifyEvent

__all__ = [
    "ChannelRecord",
    "NotificationDeliveryRecord",
    "NotificationsMixin",
    "NotifyEvent",
    "PreferenceRecord",
]
