"""fieldkit: record, tag, transcribe and export qualitative research interviews."""

__version__ = "0.1.0"
