"""A running instance: the step (unit of work), the runner over Spiff, its saved state and clock.

Imports nothing: the sandbox worker loads ``engine.runtime.taskdata`` without the rest.
"""
