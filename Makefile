# The two commands: `make serve` (run Jiebang on SQLite) and `make test` (run every test).
.PHONY: serve test lint bench

serve:
	scripts/setup serve
	.venv/bin/jiebang serve

test:
	scripts/setup test
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/vulture engine api tests/vulture_whitelist.py --min-confidence 80
	.venv/bin/python -m pytest -n 2 --dist loadgroup -q --durations=25

lint:
	.venv/bin/ruff format .
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/vulture engine api tests/vulture_whitelist.py --min-confidence 80

bench:
	.venv/bin/python bench/engine_step.py
