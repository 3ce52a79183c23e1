# Shortcuts for people who have make; the scripts work without it.
.PHONY: run setup test
run:
	./scripts/quickstart
setup:
	./scripts/quickstart --no-run
test:
	./scripts/test
