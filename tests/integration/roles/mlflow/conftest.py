"""The MLflow release the role deploys, in a virtualenv of its own (session fixture `mlflow_runtime`)."""

from __future__ import annotations

import pytest
from mlflow_runtime import MlflowRuntime, ensure_runtime


@pytest.fixture(scope="session")
def mlflow_runtime() -> MlflowRuntime:
    try:
        return ensure_runtime()
    except RuntimeError as err:
        pytest.fail(str(err))
