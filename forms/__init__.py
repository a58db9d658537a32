"""Shipped JSON Schema forms, one per user task."""

import pathlib

PATH = pathlib.Path(__file__).parent
