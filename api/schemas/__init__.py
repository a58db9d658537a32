"""Marshmallow schemas: the wire shapes of the REST contract, one module per resource."""
