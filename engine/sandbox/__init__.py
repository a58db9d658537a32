"""Diagram code (scripts, conditions, DMN cells) run under limits, in process and in worker processes.

Imports nothing: the worker process loads ``engine.sandbox.worker`` without the engine package.
"""
