"""plugins/module_utils/drift/markdown.py: the report as Markdown, per target, role, object and field."""

from __future__ import annotations

from ansible_collections.homelab.mlflow.plugins.module_utils.drift import markdown
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.model import FieldDrift, ObjectDrift
from ansible_collections.homelab.mlflow.plugins.module_utils.drift.report import DriftReport
from ansible_collections.homelab.mlflow.plugins.module_utils.kube.compare import ABSENT

MLFLOW = "homelab.mlflow.mlflow"
DEPLOYMENT = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "ns", "name": "mlflow"}
ROUTE = {"api_version": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "namespace": "ns", "name": "mlflow"}


def test_the_markdown_names_target_role_object_field_expected_and_found():
    report = DriftReport(mode="detect", run_id="run-1")
    report.target("local").drift += [
        ObjectDrift(
            MLFLOW,
            "Apply the MLflow Deployment",
            "modified",
            DEPLOYMENT,
            [
                FieldDrift("spec.replicas", expected=2, found=3),
                FieldDrift(
                    "spec.template.spec.containers[name=mlflow].image",
                    expected="docker.io/burakince/mlflow:3.17.2",
                    found="docker.io/burakince/mlflow:3.0.0",
                ),
                FieldDrift(
                    "spec.template.spec.containers[name=mlflow].args",
                    expected=["--a|b", "--workers=1"],
                    found=["--a|b", "--workers=4"],
                ),
            ],
        ),
        ObjectDrift(MLFLOW, "Apply the Service and routing objects", "missing", ROUTE, message="missing"),
        ObjectDrift(MLFLOW, "Apply the backend store Secret", "withheld", message="the task handles secret values"),
    ]
    report.finish({})

    text = markdown.render_markdown(report.to_json())

    assert text.startswith("# Drift report: drift found\n")
    assert "- Run: run-1, " in text
    assert "## Target local: drift" in text
    assert "### Role mlflow" in text
    assert "- **Deployment ns/mlflow**: differs" in text
    assert "| `spec.replicas` | `2` | `3` |" in text
    assert "| `spec.template.spec.containers[name=mlflow].image` | `docker.io/burakince/mlflow:3.17.2` |" in text
    # Of a list of values only the items that differ.
    assert "| `spec.template.spec.containers[name=mlflow].args` | `--workers=1` | `--workers=4` |" in text
    assert "- **HTTPRoute ns/mlflow**: missing" in text
    assert "- **task Apply the backend store Secret**: differs; details withheld" in text


def test_the_markdown_escapes_table_cells():
    item = FieldDrift("spec.x", expected="a|b", found=ABSENT).to_json()

    assert markdown._cells(item) == ("`a\\|b`", "(absent)")


def test_a_corrected_object_and_a_refused_one_say_so():
    report = DriftReport(mode="correct", run_id="r")
    corrected = ObjectDrift(MLFLOW, "t", "missing", ROUTE, message="missing", corrected=True)
    refused = ObjectDrift(
        MLFLOW, "t", "refused", DEPLOYMENT, [FieldDrift("spec.selector", message="field is immutable")], attempted=True
    )
    report.target("local").drift += [corrected, refused]
    report.finish({})

    text = markdown.render_markdown(report.to_json())

    assert "- **HTTPRoute ns/mlflow**: missing: created" in text
    assert "- **Deployment ns/mlflow**: refused by the API server: needs a person" in text
    assert "  - `spec.selector`: field is immutable" in text
