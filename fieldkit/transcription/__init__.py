"""Transcription with faster-whisper: models, settings, engine, batch and live jobs."""
