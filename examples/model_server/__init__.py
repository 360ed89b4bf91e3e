"""An example credit-scoring model server (FastAPI + scikit-learn) that logs with the SDK."""
