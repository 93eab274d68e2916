"""The API clients the operator stand-ins' tests read and write the test cluster with."""

from __future__ import annotations

import pytest
from kubernetes import client


@pytest.fixture
def custom(k8s):
    return client.CustomObjectsApi(k8s)


@pytest.fixture
def core(k8s):
    return client.CoreV1Api(k8s)
