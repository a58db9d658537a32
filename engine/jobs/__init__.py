"""Background jobs (timers, webhook deliveries): leasing a due job and retrying it later."""
