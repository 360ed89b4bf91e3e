"""A stand-in retraining job: receives Driftline's webhooks, verifies them, logs them."""
