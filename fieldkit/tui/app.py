def run_app(data_dir=None, project=None):
    raise SystemExit("TUI not yet")
