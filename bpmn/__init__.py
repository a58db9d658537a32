"""Shipped BPMN/DMN diagrams."""

import pathlib

PATH = pathlib.Path(__file__).parent
