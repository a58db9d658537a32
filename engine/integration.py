"""What the OA system integrates with beyond steps: webhooks, idempotent retries, login links."""

from __future__ import annotations


class IntegrationMixin:
    """Façade methods for integration concerns; mixed into ``Engine``."""
