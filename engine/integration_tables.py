"""Storage for integration concerns (webhooks, deliveries, idempotency keys, login links)."""

from __future__ import annotations

from .tables import Base  # noqa: F401 - tables below register on the shared metadata
