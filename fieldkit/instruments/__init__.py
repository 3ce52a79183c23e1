"""What a session is run with: interview guides, tag schemes, and the timeline events they write."""
