# Shortcuts for people who have make; the scripts work without it. CONTRIBUTING.md explains each.
VENV ?= .venv
PYTEST = $(VENV)/bin/python -m pytest
# the fast lane: everything but real-time audio, PostgreSQL, whole-study journeys and slow tests
# (real models), in parallel; with bytecode caches (gitignored), as each worker would otherwise
# compile fieldkit and rewrite every test module again
FAST = -n auto -m "not audio and not team and not journey and not slow" -q -p no:cacheprovider

.PHONY: run setup dev test test-fast
run:
	./scripts/quickstart
setup:            # for development: system packages, virtualenv, models and the test tools
	./scripts/quickstart --no-run --dev
dev:              # the app on the demo project in a throwaway data folder (never your real one)
	@home=$$(mktemp -d -t fieldkit-dev-XXXXXX); echo "data folder for this run: $$home"; \
	FIELDKIT_HOME=$$home $(VENV)/bin/fieldkit --project demo
test:             # the full suite, as CI runs it
	./scripts/test
test-fast:        # the fast lane (meant to stay under 90 s on an idle 2-core laptop)
	env -u PYTHONDONTWRITEBYTECODE $(PYTEST) $(FAST)
