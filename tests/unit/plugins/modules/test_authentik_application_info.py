"""homelab.mlflow.authentik_application_info run by ansible-playbook against the fake Authentik API
(tools/standins/authentik/), which holds every request and response to Authentik's OpenAPI document
and applies blueprints to its own store (Authentik's default flows seeded).
"""

from __future__ import annotations

import json

from authentik_module_plays import authentik_play
from fake_authentik import TEST_TOKEN as TOKEN

BLUEPRINT = """\
version: 1
metadata:
  name: mlflow
entries:
  - model: authentik_providers_proxy.proxyprovider
    id: provider
    identifiers: {name: mlflow}
    attrs:
      name: mlflow
      mode: proxy
      external_host: https://mlflow.example.com
      internal_host: http://mlflow.mlflow.svc.cluster.local
      authorization_flow: !Find [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
      invalidation_flow: !Find [authentik_flows.flow, [slug, default-provider-invalidation-flow]]
      authentication_flow: !Find [authentik_flows.flow, [slug, FLOW]]
      skip_path_regex: ^/health$
  - model: authentik_core.application
    identifiers: {slug: mlflow}
    attrs: {name: MLflow, slug: mlflow, provider: !KeyOf provider, meta_launch_url: "https://mlflow.example.com"}
  - model: authentik_outposts.outpost
    identifiers: {name: mlflow}
    attrs:
      name: mlflow
      type: proxy
      providers: [!KeyOf provider]
      config: {kubernetes_namespace: authentik}
"""


def play(tasks: str) -> str:
    return authentik_play("Authentik application info", tasks, blueprint_waits=True)


READ = play(
    """\
    - name: Nothing yet
      homelab.mlflow.authentik_application_info:
        slug: mlflow
        blueprint: mlflow
      register: before

    - name: Apply the blueprint
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        content: "{{ blueprint | replace('FLOW', 'default-authentication-flow') }}"

    - name: Read what it made
      homelab.mlflow.authentik_application_info:
        slug: mlflow
        outpost: authentik Embedded Outpost
        blueprint: mlflow
      register: after
      check_mode: true

    - name: Linked as the blueprint says
      ansible.builtin.assert:
        that:
          - before is not changed
          - not before.exists
          - before.application == {} and before.provider == {} and before.outposts == []
          - before.blueprint == {}
          - after is not changed
          - after.exists
          - after.application.name == 'MLflow'
          - after.application.launch_url == 'https://mlflow.example.com'
          - after.application.provider == after.provider.pk
          - after.provider.name == 'mlflow'
          - after.provider.mode == 'proxy'
          - after.provider.internal_host == 'http://mlflow.mlflow.svc.cluster.local'
          - after.provider.intercept_header_auth
          - after.provider.skip_path_regex == '^/health$'
          - after.provider.assigned_application_slug == 'mlflow'
          - after.outposts | map(attribute='name') | list == ['mlflow']
          - after.outposts[0].providers == [after.provider.pk]
          - after.outpost.name == 'authentik Embedded Outpost'
          - after.outpost.providers == []
          - after.blueprint.status == 'successful'
"""
)

MISSING_FLOW = play(
    """\
    - name: A blueprint that names a flow Authentik does not have
      homelab.mlflow.authentik_blueprint:
        name: mlflow
        content: >-
          {{ blueprint | replace('FLOW', 'default-authentication-flow')
             | replace('default-provider-authorization-implicit-consent', 'no-such-flow') }}
      register: failed_apply
      ignore_errors: true

    - name: Nothing of it stays
      homelab.mlflow.authentik_application_info:
        slug: mlflow
        blueprint: mlflow
      register: after

    - name: As expected
      ansible.builtin.assert:
        that:
          - failed_apply is failed
          - not after.exists
          - after.blueprint.status == 'error'
"""
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def extra_vars(fake):
    return json.dumps({"authentik_url": fake.url, "authentik_token": TOKEN, "blueprint": BLUEPRINT})


def test_reads_the_application_its_provider_and_outposts_against_fake_authentik_api(
    fake_authentik, run_ansible, play_recap, tmp_path
):
    run = run_ansible("ansible-playbook", write(tmp_path, "read.yml", READ), "-e", extra_vars(fake_authentik))

    assert run.returncode == 0, run.stdout
    assert play_recap(run.stdout, "localhost")["changed"] == 1
    # Only the blueprint wrote.
    assert {r["path"].split("/")[3] for r in fake_authentik.writes()} == {"managed"}
    provider = fake_authentik.provider("mlflow")
    assert provider["authentication_flow"] == fake_authentik.flow("default-authentication-flow")["pk"]
    assert fake_authentik.flow("default-authentication-flow")["designation"] == "authentication"


def test_a_flow_that_is_not_found_fails_the_apply_and_nothing_stays_against_fake_authentik_api(
    fake_authentik, run_ansible, tmp_path
):
    run = run_ansible(
        "ansible-playbook", write(tmp_path, "missing.yml", MISSING_FLOW), "-e", extra_vars(fake_authentik)
    )

    assert run.returncode == 0, run.stdout
    # Authentik's importer log line, in the failure.
    assert "(authentik_providers_proxy.proxyprovider) authorization_flow: This field may not be null." in run.stdout
    assert fake_authentik.provider("mlflow") is None
    assert fake_authentik.outpost("mlflow") is None
