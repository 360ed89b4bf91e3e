"""What a registered model looks like: its task, feature schema, prediction and label types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "FEATURE_NAME_PATTERN",
    "MAX_FEATURES",
    "MODEL_NAME_PATTERN",
    "VERSION_PATTERN",
    "FeatureName",
    "FeatureSpec",
    "FeatureType",
    "ModelName",
    "ModelSpec",
    "ModelUpdate",
    "Task",
    "VersionName",
]

FEATURE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
MAX_FEATURES = 1000

FeatureName = Annotated[str, StringConstraints(pattern=FEATURE_NAME_PATTERN)]
ModelName = Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
VersionName = Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]


class FeatureType(StrEnum):
    """How a column's values are compared: numeric, categorical or boolean."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class Task(StrEnum):
    """What the model predicts."""

    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"

    def default_output_type(self) -> FeatureType:
        """The type of predictions and labels when the registration does not say."""
        if self is Task.REGRESSION:
            return FeatureType.NUMERIC
        return FeatureType.CATEGORICAL


class FeatureSpec(BaseModel):
    """One input feature of a model."""

    model_config = ConfigDict(extra="forbid")

    name: FeatureName
    type: FeatureType
    key: bool = Field(False, description="A drift on a key feature alerts on its own.")
    description: str | None = Field(None, max_length=1000)


def _check_unique(features: list[FeatureSpec]) -> None:
    seen: set[str] = set()
    for feature in features:
        if feature.name in seen:
            raise ValueError(f"feature {feature.name!r} is listed twice")
        seen.add(feature.name)


class ModelSpec(BaseModel):
    """A model registration: ``POST /v1/models``."""

    model_config = ConfigDict(extra="forbid")

    name: ModelName
    task: Task
    features: list[FeatureSpec] = Field(min_length=1, max_length=MAX_FEATURES)
    prediction_type: FeatureType | None = Field(
        None,
        description="Type of the prediction; default numeric for regression, else categorical.",
    )
    label_type: FeatureType | None = Field(
        None, description="Type of the label; default: the prediction type."
    )
    version: VersionName = Field("1", description="The first version, created with the model.")
    description: str | None = Field(None, max_length=10_000)

    @model_validator(mode="after")
    def _fill_defaults(self) -> Self:
        _check_unique(self.features)
        if self.prediction_type is None:
            self.prediction_type = self.task.default_output_type()
        if self.label_type is None:
            self.label_type = self.prediction_type
        return self


class ModelUpdate(BaseModel):
    """``PATCH /v1/models/{name}``: new features may be added, existing ones re-described.

    A feature's type cannot change once events may have been stored with the old type.
    """

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=10_000)
    features: list[FeatureSpec] | None = Field(None, min_length=1, max_length=MAX_FEATURES)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if self.features is not None:
            _check_unique(self.features)
        return self
