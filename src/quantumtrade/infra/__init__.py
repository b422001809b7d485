"""Infrastructure adapters: cache, message bus and rate limiting over Redis or memory."""
