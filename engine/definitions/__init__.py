"""A diagram before it runs: checking, rewriting and parsing BPMN, its forms and its policies.

Deploy goes xmlguard (hostile XML) → modelfix (rewrites Spiff accepts) → modelrules (what a
diagram may not hold) → policy (Jiebang's extension properties) → catalog (parsed versions).
"""
