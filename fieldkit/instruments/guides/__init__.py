"""Interview guides: the text format, versions with stable ids, and coverage."""
