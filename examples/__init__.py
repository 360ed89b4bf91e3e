"""Examples that use Driftline as users do: a model server with the SDK and a retraining job."""
