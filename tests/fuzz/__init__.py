"""Property-based fuzzing of the webhook: nothing is a 5xx, every error has the documented shape."""
