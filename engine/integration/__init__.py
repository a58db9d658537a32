"""The engine's edges to other systems: idempotent requests, the webhook outbox, login links."""
