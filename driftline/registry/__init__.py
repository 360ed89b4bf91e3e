"""The model registry: models, their versions and their reference datasets."""
