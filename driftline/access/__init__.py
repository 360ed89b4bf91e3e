"""Who may do what: API keys, their scopes and per-key rate limits (no web framework here)."""
