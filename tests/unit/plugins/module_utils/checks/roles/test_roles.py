"""plugins/module_utils/checks/roles/: each role's rules, on plain values (the roles' defaults with
their templates rendered are tests/unit/roles/hardening/test_validate_values.py)."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.mlflow.plugins.module_utils.checks.roles import (
    RULES,
    authentik,
    networkpolicy,
    postgres,
    storage,
)

SECRET = "s3cr3t-value"  # noqa: S105 (a stand-in, to prove it is never shown)


def variables_of(problems) -> list[str]:
    return [problem.variable for problem in problems]


STORAGE = {
    "storage_artifacts_pvc_name": "mlflow-artifacts",
    "storage_artifacts_size": "50Gi",
    "storage_recurring_jobs": [],
    "storage_recurring_job_groups": [],
    "storage_recurring_job_prefix": "mlflow-",
}


def test_every_role_with_value_checks_has_rules():
    from pathlib import Path

    roles = {path.parent.parent.name for path in Path(__file__).resolve().parents[6].glob("roles/*/tasks/validate.yml")}

    assert roles == set(RULES)


def test_storage_good_values_pass():
    jobs = [{"name": "snap", "task": "snapshot", "cron": "0 3 * * *", "retain": 7}]

    assert storage.problems({**STORAGE, "storage_recurring_jobs": jobs}) == []


@pytest.mark.parametrize(
    ("overrides", "variable", "says"),
    [
        ({"storage_artifacts_size": "50 GiB"}, "storage_artifacts_size", "positive Kubernetes quantity"),
        ({"storage_artifacts_size": "0Gi"}, "storage_artifacts_size", 'is "0Gi"'),
        ({"storage_artifacts_pvc_name": "Artifacts"}, "storage_artifacts_pvc_name", "lower-case letters"),
        ({"storage_recurring_job_groups": ["-x"]}, "storage_recurring_job_groups", "at most 63 characters"),
        (
            {"storage_recurring_jobs": [{"name": "snap", "cron": "hourly"}]},
            "storage_recurring_jobs",
            "five fields",
        ),
        (
            {"storage_recurring_jobs": [{"name": "snap", "cron": "61 * * * *"}]},
            "storage_recurring_jobs",
            "within its range",
        ),
        (
            {"storage_recurring_jobs": [{"name": "a" * 46, "cron": "0 3 * * *"}]},
            "storage_recurring_jobs",
            "at most 52 characters",
        ),
        (
            {"storage_recurring_jobs": [{"name": "a", "cron": "0 3 * * *"}, {"name": "a", "cron": "0 4 * * *"}]},
            "storage_recurring_jobs",
            "a name of its own",
        ),
    ],
)
def test_storage_bad_values_are_named(overrides, variable, says):
    (problem,) = storage.problems({**STORAGE, **overrides})

    assert problem.variable == variable
    assert variable in problem.message
    assert says in problem.message


def test_storage_reports_every_bad_value():
    found = storage.problems({**STORAGE, "storage_artifacts_pvc_name": "A", "storage_artifacts_size": "0"})

    assert variables_of(found) == ["storage_artifacts_pvc_name", "storage_artifacts_size"]


POSTGRES = {
    "postgres_cluster_name": "mlflow-postgres",
    "postgres_image": "ghcr.io/cloudnative-pg/postgresql:17.6",
    "postgres_image_digest": "",
    "postgres_instances": 1,
    "postgres_pod_anti_affinity_topology_key": "kubernetes.io/hostname",
    "postgres_storage_size": "20Gi",
    "postgres_database": "mlflow",
    "postgres_owner": "mlflow",
    "postgres_resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
    "postgres_credentials_secret": "mlflow-secrets",
    "postgres_credentials_source": "variables",
    "postgres_username": "mlflow",
    "postgres_onepassword_vault": "Secrets",
    "postgres_onepassword_item": "mlflow-secrets",
    "postgres_onepassword_username_field": "username",
    "postgres_onepassword_password_field": "password",
    "postgres_onepassword_timeout": 30,
    "postgres_onepassword_retries": 5,
    "postgres_onepassword_backends": {"onepassword_sdk": "sdk", "onepassword_connect": "connect"},
    "postgres_scheduled_backup_enabled": False,
    "postgres_backup_schedule": "0 0 3 * * *",
    "postgres_backup_method": "volumeSnapshot",
    "postgres_backup_configuration": {},
    "postgres_backup_plugin_configuration": {},
    "postgres_plugins": [],
    "postgres_password": SECRET,
}


def test_postgres_good_values_pass():
    assert postgres.problems(POSTGRES, environ={}) == []


@pytest.mark.parametrize(
    ("overrides", "variable", "says"),
    [
        ({"postgres_cluster_name": "MLflow_PG"}, "postgres_cluster_name", "DNS-1035"),
        ({"postgres_cluster_name": "a" * 51}, "postgres_cluster_name", "at most 50"),
        ({"postgres_owner": "postgres"}, "postgres_owner", "other than the superuser"),
        ({"postgres_instances": 0}, "postgres_instances", "at least 1"),
        ({"postgres_instances": -1}, "postgres_instances", "at least 1"),
        ({"postgres_storage_size": "20GB"}, "postgres_storage_size", "'20Gi'"),
        ({"postgres_resources": {"limits": {"memory": "lots"}}}, "postgres_resources", "Kubernetes quantities"),
        ({"postgres_resources": {"limits": {"cpu": "1"}}}, "postgres_resources", "memory limit"),
        (
            {"postgres_scheduled_backup_enabled": True, "postgres_backup_schedule": "0 3 * * *"},
            "postgres_backup_schedule",
            "six cron fields",
        ),
        ({"postgres_username": "other"}, "postgres_username", "must equal postgres_owner"),
        ({"postgres_password": ""}, "postgres_password", "set but empty"),
        (
            {"postgres_backup_method": "plugin", "postgres_backup_plugin_configuration": {"name": "barman"}},
            "postgres_backup_plugin_configuration",
            '"barman"',
        ),
    ],
)
def test_postgres_bad_values_are_named(overrides, variable, says):
    found = postgres.problems({**POSTGRES, **overrides}, environ={})

    assert variable in variables_of(found)
    assert any(says in problem.message for problem in found), found


def test_postgres_a_scheduled_backup_with_a_good_schedule_needs_its_method_section():
    values = {**POSTGRES, "postgres_scheduled_backup_enabled": True}

    assert variables_of(postgres.problems(values, environ={})) == ["postgres_backup_configuration"]
    configured = {**values, "postgres_backup_configuration": {"volumeSnapshot": {"className": "longhorn"}}}
    assert postgres.problems(configured, environ={}) == []


def test_postgres_password_sources():
    no_password = {key: value for key, value in POSTGRES.items() if key != "postgres_password"}

    assert "neither postgres_password nor" in postgres.problems(no_password, environ={})[0].message
    relative = {**no_password, "postgres_password_file": "secrets/password"}
    assert "absolute path" in postgres.problems(relative, environ={})[0].message
    assert postgres.problems({**no_password, "postgres_password_file": "~/password"}, environ={}) == []


def test_postgres_onepassword_settings_from_variables_or_the_environment():
    sdk = {**POSTGRES, "postgres_credentials_source": "onepassword_sdk"}

    assert variables_of(postgres.problems(sdk, environ={})) == ["onepassword_service_account_token"]
    assert postgres.problems(sdk, environ={"OP_SERVICE_ACCOUNT_TOKEN": SECRET}) == []
    assert postgres.problems({**sdk, "onepassword_service_account_token": SECRET}, environ={}) == []
    connect = {**POSTGRES, "postgres_credentials_source": "onepassword_connect"}
    assert variables_of(postgres.problems(connect, environ={"OP_CONNECT_TOKEN": SECRET})) == [
        "onepassword_connect_host"
    ]


def test_postgres_secrets_are_never_shown():
    values = {
        **POSTGRES,
        "postgres_cluster_name": "Bad",
        "postgres_credentials_source": "onepassword_connect",
        "onepassword_connect_token": SECRET,
        "postgres_onepassword_item": "a/b",
    }

    found = postgres.problems(values, environ={"OP_CONNECT_HOST": "http://connect"})

    assert len(found) == 2
    assert all(SECRET not in problem.message for problem in found)


AUTHENTIK = {
    "mlflow_external_host": "mlflow.example.com",
    "authentik_request_timeout": 30,
    "authentik_retries": 5,
    "authentik_host": "https://authentik.example.com",
    "authentik_token": SECRET,
    "authentik_delivery": "api",
    "authentik_outpost": "dedicated",
    "__authentik_api_needed": True,
    "authentik_application_launch_url": "https://mlflow.example.com",
    "authentik_verify_http": True,
    "authentik_verify_url": "https://mlflow.example.com",
    "authentik_application_slug": "",
    "authentik_authorization_flow_slug": "default-provider-authorization-implicit-consent",
    "authentik_invalidation_flow_slug": "default-provider-invalidation-flow",
    "authentik_authentication_flow_slug": "default-authentication-flow",
    "authentik_provider_name": "",
    "authentik_application_name": "MLflow",
    "authentik_blueprint_name": "",
    "authentik_dedicated_outpost_name": "",
    "authentik_outpost_namespace": "authentik",
    "authentik_blueprint_configmap_name": "",
    "authentik_blueprint_configmap_namespace": "authentik",
    "mlflow_gateway_name": "main-gateway",
    "mlflow_gateway_namespace": "cilium-system",
    "authentik_skip_path_regex": "^/health$\n^/metrics$",
    "authentik_provider_mode": "proxy",
    "mlflow_httproute_enabled": False,
}


def test_authentik_good_values_pass():
    assert authentik.problems(AUTHENTIK) == []


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"mlflow_external_host": "https://mlflow.example.com/"}, "mlflow_external_host"),
        ({"authentik_retries": 11}, "authentik_request_timeout"),
        ({"authentik_host": ""}, "authentik_host"),
        ({"authentik_verify_url": "mlflow.example.com"}, "authentik_verify_url"),
        ({"authentik_application_slug": "ML flow"}, "authentik_application_slug"),
        ({"authentik_application_name": " MLflow"}, "authentik_application_name"),
        ({"authentik_application_name": ""}, "authentik_application_name"),
        ({"authentik_provider_name": "x" * 256}, "authentik_provider_name"),
        ({"mlflow_gateway_namespace": "Cilium"}, "mlflow_gateway_namespace"),
        ({"authentik_skip_path_regex": "^/health$\n\n^/x$"}, "authentik_skip_path_regex"),
        ({"mlflow_httproute_enabled": True}, "mlflow_httproute_enabled"),
        ({"authentik_token": ""}, "authentik_token"),
    ],
)
def test_authentik_bad_values_are_named(overrides, variable):
    assert variables_of(authentik.problems({**AUTHENTIK, **overrides})) == [variable]


def test_authentik_the_token_is_only_needed_for_the_api():
    values = {**AUTHENTIK, "authentik_token": "", "authentik_host": "", "__authentik_api_needed": False}

    assert authentik.problems(values) == []


class Unreadable(dict):
    """Values of which one must not be read (as a lookup that is not needed)."""

    def __getitem__(self, name):
        if name == "authentik_token":
            raise AssertionError("authentik_token was read")
        return super().__getitem__(name)


def test_authentik_the_token_is_not_read_when_the_api_is_not_needed():
    assert authentik.problems(Unreadable({**AUTHENTIK, "__authentik_api_needed": False})) == []


def flow(name, **fields):
    return {"enabled": True, "name": name, "from": {}, "to": {"pods": {"app": "x"}}, "ports": [5000], **fields}


NETWORKPOLICY = {
    "mlflow_namespace": "mlflow",
    "networkpolicy_authentik_namespace": "authentik",
    "networkpolicy_authentik_outpost_pod_labels": {"goauthentik.io/outpost-type": "proxy"},
    "mlflow_gateway_namespace": "cilium-system",
    "networkpolicy_gateway_pod_labels": {},
    "networkpolicy_cnpg_operator_namespace": "cnpg-system",
    "networkpolicy_cnpg_operator_pod_labels": {"app.kubernetes.io/name": "cloudnative-pg"},
    "networkpolicy_dns_namespace": "kube-system",
    "networkpolicy_dns_pod_labels": {"k8s-app": "kube-dns"},
    "networkpolicy_monitoring_namespace": "",
    "networkpolicy_monitoring_pod_labels": {},
    "networkpolicy_gateway_cilium_entity": "ingress",
    "networkpolicy_api_server_ports": [443, 6443],
    "networkpolicy_api_server_cidrs": [],
    "networkpolicy_mlflow_egress_extra": [],
    "networkpolicy_flows_extra": [],
    "__networkpolicy_stack_flows": [flow("dns"), flow("database-to-api-server")],
    "__networkpolicy_all_flows": [flow("dns")],
    "__networkpolicy_flows": [flow("dns")],
}


def networkpolicy_values(**overrides):
    values = {**NETWORKPOLICY, **overrides}
    extra = [{"from": {}, **item} for item in values["networkpolicy_flows_extra"]]
    # As vars/main.yml: the instances reach the API server at networkpolicy_api_server_cidrs.
    api_server = {"entity": "kube-apiserver", "cidrs": values["networkpolicy_api_server_cidrs"]}
    flows = [flow("dns"), flow("database-to-api-server", to=api_server)]
    flows += [{"enabled": True, **item} for item in extra]
    return {**values, "__networkpolicy_all_flows": flows, "__networkpolicy_flows": flows}


def test_networkpolicy_good_values_pass():
    extra = [{"name": "to-s3", "from": {}, "to": {"cidrs": ["192.0.2.0/24", "2001:db8::/32"]}, "ports": [443]}]

    assert networkpolicy.problems(networkpolicy_values(networkpolicy_flows_extra=extra)) == []


def test_the_pushgateway_flow_docs_drift_md_shows_is_a_valid_extra_flow():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[6] / "docs" / "drift.md").read_text()
    example = re.search(r"```yaml\n( *networkpolicy_flows_extra:\n.*?)```", text, re.DOTALL).group(1)
    extra = yaml.safe_load(example.replace("\n  ", "\n").strip())["networkpolicy_flows_extra"]

    assert networkpolicy.problems(networkpolicy_values(networkpolicy_flows_extra=extra)) == []


@pytest.mark.parametrize(
    ("overrides", "variable", "says"),
    [
        ({"networkpolicy_api_server_ports": [70000]}, "networkpolicy_api_server_ports", "1 to 65535"),
        ({"networkpolicy_api_server_ports": [0]}, "networkpolicy_api_server_ports", "1 to 65535"),
        ({"networkpolicy_api_server_ports": []}, "networkpolicy_api_server_ports", "1 to 65535"),
        ({"networkpolicy_api_server_cidrs": ["10.0.0.1"]}, "networkpolicy_api_server_cidrs", "CIDRs"),
        (
            {"networkpolicy_api_server_cidrs": ["10.96.0.1/12"]},
            "networkpolicy_api_server_cidrs",
            "Use the network, 10.96.0.0/12, or the address alone, 10.96.0.1/32",
        ),
        (
            {"networkpolicy_api_server_cidrs": ["fd00::1/64"]},
            "networkpolicy_api_server_cidrs",
            "Use the network, fd00::/64, or the address alone, fd00::1/128",
        ),
        ({"networkpolicy_gateway_cilium_entity": "gateway"}, "networkpolicy_gateway_cilium_entity", "ingress"),
        ({"networkpolicy_dns_namespace": ""}, "networkpolicy_dns_namespace", "namespace name"),
        ({"networkpolicy_dns_pod_labels": {"k8s app": "x"}}, "networkpolicy_dns_namespace", "label keys"),
        (
            {
                "networkpolicy_flows_extra": [
                    {"name": "x", "from": {"namespace": "a"}, "to": {"namespace": "b"}, "ports": [1]}
                ]
            },
            "networkpolicy_flows_extra",
            "At least one end is pods of mlflow",
        ),
        (
            {
                "networkpolicy_flows_extra": [
                    {"name": "x", "from": {}, "to": {"cidrs": ["10.0.0.0/8"], "pods": {}}, "ports": [1]}
                ]
            },
            "networkpolicy_flows_extra",
            "never both",
        ),
        (
            {
                "networkpolicy_flows_extra": [
                    {"name": "x", "from": {}, "to": {"pods": {}}, "ports": [{"port": 1, "protocol": "ICMP"}]}
                ]
            },
            "networkpolicy_flows_extra",
            "cannot be rendered",
        ),
        (
            {"networkpolicy_flows_extra": [{"name": "x", "to": {"pods": {}}, "ports": [1]}]},
            "networkpolicy_flows_extra",
            "has the item",
        ),
        (
            {"networkpolicy_flows_extra": [{"name": "a" * 41, "from": {}, "to": {"pods": {}}, "ports": [1]}]},
            "networkpolicy_flows_extra",
            "at most 40 characters",
        ),
        (
            {"networkpolicy_flows_extra": [{"name": "dns", "from": {}, "to": {"pods": {}}, "ports": [53]}]},
            "networkpolicy_flows_extra",
            "these are used twice: dns",
        ),
        (
            {
                "networkpolicy_flows_extra": [
                    {"name": "x", "from": {}, "to": {"cidrs": ["192.0.2.10/24"]}, "ports": [1]}
                ]
            },
            "networkpolicy_flows_extra",
            "A flow has the CIDR 192.0.2.10/24",
        ),
    ],
)
def test_networkpolicy_bad_values_are_named(overrides, variable, says):
    found = networkpolicy.problems(networkpolicy_values(**overrides))

    assert variable in variables_of(found), found
    assert any(says in problem.message for problem in found), found
