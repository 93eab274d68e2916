# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Authentik API client that homelab.mlflow's modules and plugins share.

It wraps authentik-client (the generated Python client of Authentik's API) with what every
caller needs: the connection options (`AUTHENTIK_COMMON_ARGS`, documented once in the doc
fragment `homelab.mlflow.authentik`), bounded retries with exponential backoff on 5xx, 429,
timeouts and connection errors, and errors that say what went wrong (`AuthentikError`): a token
that Authentik rejects, a token without permission, an unreachable host (named), a blueprint
Authentik refuses or fails to apply (with Authentik's own log lines).

On top of the client sit the operations of the `authentik_blueprint` module
(`ensure_blueprint_present`, `ensure_blueprint_absent`), so the module stays a thin shell, the
outpost helper that adds a provider to an existing (shared or embedded) outpost
(`ensure_outpost_provider`, for `authentik_outpost_provider`), and the read-only view of an
application, its proxy provider and the outposts serving it (`application_info`, for
`authentik_application_info`).

Authentik applies a blueprint in a background task: `POST .../apply/` only queues it. The task
(`authentik.blueprints.v1.tasks.apply_blueprint`, related to the instance) is followed through
the tasks API, which also holds the task's log lines; the instance's `status`, `last_applied`
and `last_applied_hash` (sha512 of the content) say how it ended.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
import time
import traceback
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core on the controller
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()


def _import_lazily(name, subpackages=("api", "models")):
    """Import the installed package `name` without running the __init__.py of it and its subpackages.

    authentik-client's __init__ files import every API class and all ~900 models, and pydantic
    builds validators for each at import time: 15 s and more on every module run. Registered
    here instead, the package and its `api` and `models` subpackages load a name on first access
    (PEP 562 module __getattr__), found in the `from ... import ...` lines of their __init__.py.
    A layout this does not understand gets the plain import. ImportError when not installed.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise ImportError(f"No module named {name!r}")
    packages = (name, *(f"{name}.{child}" for child in subpackages))
    try:
        modules = [
            _lazy_module(package, os.path.join(spec.submodule_search_locations[0], *package.split(".")[1:]))
            for package in packages
        ]
    except (OSError, TypeError, ValueError):
        importlib.import_module(name)
        return
    for module in modules:
        sys.modules[module.__name__] = module
        if "." in module.__name__:
            parent, child = module.__name__.rsplit(".", 1)
            setattr(sys.modules[parent], child, module)


def _lazy_module(package, directory):
    init = os.path.join(directory, "__init__.py")
    with open(init, encoding="utf-8") as source:
        text = source.read()
    exports = {
        (alias or attribute): (module, attribute)
        for module, attribute, alias in re.findall(
            r"^from ([\w.]+) import (\w+)(?: as (\w+))?[ \t]*$", text, flags=re.MULTILINE
        )
    }
    if not exports:
        raise ValueError(f"no imports to load lazily in {init}")
    spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[directory])
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attribute):
        if attribute not in exports:
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
        source, original = exports[attribute]
        value = getattr(importlib.import_module(source), original)
        setattr(module, attribute, value)
        return value

    module.__getattr__ = __getattr__
    return module


try:
    _import_lazily("authentik_client")
    import urllib3
    from authentik_client.api.managed_api import ManagedApi
    from authentik_client.api.tasks_api import TasksApi
    from authentik_client.api_client import ApiClient
    from authentik_client.configuration import Configuration
    from authentik_client.exceptions import ApiException
    from authentik_client.models.blueprint_instance_request import BlueprintInstanceRequest

    HAS_AUTHENTIK_CLIENT = True
    AUTHENTIK_CLIENT_IMPORT_ERROR = None
except ImportError:
    HAS_AUTHENTIK_CLIENT = False
    AUTHENTIK_CLIENT_IMPORT_ERROR = traceback.format_exc()

# The APIs the read-only checks use beyond the blueprint's: loaded on first use by a module, which
# needs none of them; loaded at once by the action plugins (see load_read_apis).
READ_APIS = ("authentik_client.api.core_api", "authentik_client.api.providers_api", "authentik_client.api.outposts_api")


def load_read_apis():
    """Import the API classes of READ_APIS now.

    An action plugin calls this when it is loaded, which Ansible does once, in its main process,
    before it forks a worker per task and target: every worker then finds them imported. Imported
    in each worker instead, they would cost about a second of CPU per task and target (pydantic
    builds a validator for each of their methods).
    """
    if HAS_AUTHENTIK_CLIENT:
        for name in READ_APIS:
            importlib.import_module(name)


API_PATH = "/api/v3"
USER_AGENT = "homelab.mlflow"

# Connection options shared by every module and plugin that talks to Authentik; documented in
# plugins/doc_fragments/authentik.py.
AUTHENTIK_COMMON_ARGS = {
    "host": {"type": "str", "required": True, "fallback": (env_fallback, ["AUTHENTIK_HOST"])},
    "token": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, ["AUTHENTIK_TOKEN"])},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "request_timeout": {"type": "float", "default": 30.0},
    "retries": {"type": "int", "default": 5},
    "retry_delay": {"type": "float", "default": 1.0},
}


# Statuses worth another try: the server or a proxy in front of it is overloaded or restarting.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# Longest pause between two tries, whatever the backoff or a Retry-After header asks for.
MAX_RETRY_DELAY = 30.0

# The blueprint task and the values the tasks API knows it by.
APPLY_ACTOR = "authentik.blueprints.v1.tasks.apply_blueprint"
BLUEPRINT_APP_LABEL = "authentik_blueprints"
BLUEPRINT_MODEL = "blueprintinstance"
# BlueprintInstanceStatusEnum: `unknown` until the first apply ends; the rest are final.
STATUS_SUCCESSFUL = "successful"
BLUEPRINT_FINAL_STATUSES = frozenset(("successful", "warning", "error", "orphaned"))
# TaskAggregatedStatusEnum values of a task that has ended (the others are queued or running).
TASK_FINAL_STATUSES = frozenset(("rejected", "done", "info", "warning", "error"))

# Details of the 403 answers Authentik (Django REST framework) gives when the token itself is
# refused, as opposed to a valid token whose user lacks a permission.
TOKEN_REFUSED_DETAILS = (
    "token invalid",
    "authentication credentials were not provided",
    "unsupported authentication type",
    "malformed header",
)


class AuthentikError(Exception):
    """A failed Authentik operation, with a message meant for the person running the play.

    `log` holds Authentik's own log lines when it gave any (a refused or failed blueprint),
    `status` the HTTP status when there was one, `blueprint` the instance when known.
    """

    def __init__(self, message, log=None, status=None, blueprint=None):
        super().__init__(message)
        self.message = message
        self.log = list(log or [])
        self.status = status
        self.blueprint = blueprint


def api_url(host):
    """The API base URL for a host given as `https://auth.example.com` (with or without /api/v3)."""
    url = (host or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthentikError(f"host must be an http(s) URL such as https://authentik.example.com, got {host!r}")
    if not url.endswith(API_PATH):
        url += API_PATH
    return url


class AuthentikClient:
    """One Authentik API connection, with retries and readable errors around every call."""

    def __init__(
        self,
        host,
        token,
        validate_certs=True,
        ca_path=None,
        request_timeout=30.0,
        retries=5,
        retry_delay=1.0,
        sleep=time.sleep,
    ):
        if not HAS_AUTHENTIK_CLIENT:
            raise AuthentikError("the Python package authentik-client is required (pip install authentik-client)")
        if not token:
            raise AuthentikError("no Authentik API token: set token or the environment variable AUTHENTIK_TOKEN")
        self.api_url = api_url(host)
        self.host = urlsplit(self.api_url).netloc
        self.request_timeout = float(request_timeout)
        self.retries = max(0, int(retries))
        self.retry_delay = max(0.0, float(retry_delay))
        self._sleep = sleep

        configuration = Configuration(host=self.api_url, access_token=token)
        configuration.verify_ssl = bool(validate_certs)
        configuration.ssl_ca_cert = ca_path
        # Retries are ours (bounded, with backoff and readable errors), not urllib3's.
        configuration.retries = False
        if not validate_certs:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._api_client = ApiClient(configuration)
        self._api_client.user_agent = USER_AGENT
        self.managed = ManagedApi(self._api_client)
        self.tasks = TasksApi(self._api_client)
        self._outposts = None
        self._providers = None
        self._core = None

    # -- the call wrapper -----------------------------------------------------------------------

    def call(self, what, func, *args, **kwargs):
        """Call one API method, retrying what is worth retrying; `what` names the action in errors.

        Retries (at most `retries` more tries, waiting retry_delay, then twice as long each time,
        at most MAX_RETRY_DELAY) on 429 and 5xx answers, timeouts and connection errors.
        """
        attempt = 0
        while True:
            try:
                return func(*args, _request_timeout=self.request_timeout, **kwargs)
            except ApiException as exc:
                if exc.status in RETRY_STATUSES and attempt < self.retries:
                    self._backoff(attempt, _retry_after(exc))
                    attempt += 1
                    continue
                raise self._api_error(what, exc, attempt) from None
            except urllib3.exceptions.HTTPError as exc:
                if attempt < self.retries:
                    self._backoff(attempt)
                    attempt += 1
                    continue
                raise AuthentikError(
                    f"cannot reach Authentik at {self.host} to {what} ({_tries(attempt)}): {_connection_reason(exc)}. "
                    "Check host, and that Authentik runs and this machine can reach it."
                ) from None
            except ValueError as exc:
                # pydantic's ValidationError: mostly an answer the client cannot read.
                raise AuthentikError(
                    f"authentik-client could not handle the request to {what} at {self.host} or its answer "
                    f"(an Authentik version the client does not match?): {exc}"
                ) from None

    def _backoff(self, attempt, retry_after=None):
        delay = self.retry_delay * (2**attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._sleep(min(delay, MAX_RETRY_DELAY))

    def _api_error(self, what, exc, attempt):
        status = exc.status
        detail = _error_detail(exc)
        if status == 0 and (exc.reason or "").startswith("SSLError"):
            # authentik-client turns TLS failures into status 0, the error's name first.
            return AuthentikError(
                f"TLS connection to Authentik at {self.host} failed while trying to {what}: "
                f"{(exc.reason or '').strip()}. Set ca_path to the CA that signed Authentik's certificate "
                "(or validate_certs: false, for testing only).",
                status=status,
            )
        if status == 401 or (status == 403 and _token_refused(detail)):
            return AuthentikError(
                f"Authentik at {self.host} refused the API token (HTTP {status}: {detail or exc.reason}). "
                "The token is invalid, expired or not an API token: set token (or AUTHENTIK_TOKEN) to an API "
                "token (intent API) of a user with the permissions this needs.",
                status=status,
            )
        if status == 403:
            return AuthentikError(
                f"the token's user may not {what} in Authentik at {self.host} (HTTP 403: {detail or exc.reason}). "
                "Grant it the permission (for example a role with the blueprint and outpost permissions).",
                status=status,
            )
        if status == 400:
            lines = _validation_lines(exc)
            return AuthentikError(
                f"Authentik at {self.host} refused the request to {what} (HTTP 400):\n" + "\n".join(lines),
                log=lines,
                status=status,
            )
        if status in RETRY_STATUSES:
            return AuthentikError(
                f"Authentik at {self.host} kept failing the request to {what} ({_tries(attempt)}, "
                f"last answer HTTP {status} {exc.reason}){': ' + detail if detail else ''}",
                status=status,
            )
        return AuthentikError(
            f"Authentik at {self.host} answered the request to {what} with HTTP {status} {exc.reason}"
            f"{': ' + detail if detail else ''}",
            status=status,
        )

    # -- blueprint instances --------------------------------------------------------------------

    def check_access(self):
        """Prove the host answers and the token may read blueprint instances (a one-item list)."""
        self.call("list blueprint instances", self.managed.managed_blueprints_list, page_size=1)

    def find_blueprint(self, name):
        """The BlueprintInstance called `name`, or None."""
        page = self.call(
            f"find blueprint instance {name!r}", self.managed.managed_blueprints_list, name=name, page_size=100
        )
        for instance in page.results:
            if instance.name == name:
                return instance
        return None

    def blueprints(self):
        """Every BlueprintInstance, all pages."""
        found, page = [], 1
        while page:
            answer = self.call(
                "list blueprint instances", self.managed.managed_blueprints_list, page=page, page_size=100
            )
            found.extend(answer.results)
            page = answer.pagination.next if answer.pagination else 0
        return found

    def get_blueprint(self, pk):
        try:
            return self.call(f"read blueprint instance {pk}", self.managed.managed_blueprints_retrieve, pk)
        except AuthentikError as err:
            if err.status == 404:
                return None
            raise

    def create_blueprint(self, name, content, context, enabled):
        request = BlueprintInstanceRequest(name=name, path="", content=content, context=context, enabled=enabled)
        what = f"create blueprint instance {name!r}"
        try:
            return self.call(what, self.managed.managed_blueprints_create, request)
        except AuthentikError as err:
            # A try that timed out may have created it after all: then the retry is refused
            # as a duplicate, and the instance is there to use.
            if err.status == 400:
                existing = self.find_blueprint(name)
                if existing is not None and existing.content == content:
                    return existing
            raise

    def update_blueprint(self, pk, name, content, context, enabled):
        # PUT with every field: Authentik refuses a partial update that leaves out content.
        request = BlueprintInstanceRequest(name=name, path="", content=content, context=context, enabled=enabled)
        return self.call(f"update blueprint instance {name!r}", self.managed.managed_blueprints_update, pk, request)

    def delete_blueprint(self, pk, name):
        try:
            self.call(f"delete blueprint instance {name!r}", self.managed.managed_blueprints_destroy, pk)
        except AuthentikError as err:
            if err.status != 404:
                raise

    def apply_blueprint(self, pk, name):
        """Queue the apply task; Authentik answers with the instance as it was before."""
        return self.call(f"apply blueprint {name!r}", self.managed.managed_blueprints_apply_create, pk)

    def blueprint_tasks(self, pk):
        """The apply tasks of a blueprint instance, newest first; None if the token may not see tasks."""
        try:
            page = self.call(
                "list the blueprint's apply tasks",
                self.tasks.tasks_tasks_list,
                actor_name=APPLY_ACTOR,
                rel_obj_content_type__app_label=BLUEPRINT_APP_LABEL,
                rel_obj_content_type__model=BLUEPRINT_MODEL,
                rel_obj_id=str(pk),
                ordering="-mtime",
                page_size=20,
            )
        except AuthentikError as err:
            if err.status == 403:
                return None
            raise
        return list(page.results)

    def apply_and_wait(self, instance, wait=True, timeout=120.0, interval=1.0):
        """Apply a blueprint instance and wait until Authentik has finished applying it.

        Returns (instance, log lines). Raises AuthentikError, with Authentik's log lines, when
        the apply ends in any status but `successful` or does not end within `timeout`.
        """
        name, pk = instance.name, instance.pk
        tasks_before = self.blueprint_tasks(pk)
        # Tasks that had ended before this apply cannot be its task; one still queued may be,
        # when Authentik folds the new request into it.
        finished_before = {t.message_id for t in tasks_before or [] if _task_status(t) in TASK_FINAL_STATUSES}
        self.apply_blueprint(pk, name)
        if not wait:
            return self.get_blueprint(pk) or instance, []

        deadline = time.monotonic() + timeout
        task = None
        while True:
            current = self.get_blueprint(pk)
            if current is None:
                raise AuthentikError(f"blueprint instance {name!r} disappeared while Authentik applied it")
            if tasks_before is not None:
                task = _newest_task(self.blueprint_tasks(pk) or [], finished_before)
                if task is not None and _task_status(task) in TASK_FINAL_STATUSES:
                    # The worker saves the instance before it marks the task done: read it again.
                    current = self.get_blueprint(pk) or current
                    break
            # The worker saves the instance (last_applied is auto_now) when it is done with it, but
            # before it has written the task's log: while the task is visible, wait for the task.
            saved = current.last_applied != instance.last_applied or (
                current.status != instance.status and current.status in BLUEPRINT_FINAL_STATUSES
            )
            if saved and task is None:
                break
            if time.monotonic() >= deadline:
                raise AuthentikError(
                    f"Authentik did not finish applying blueprint {name!r} within {timeout:g} s "
                    f"(status {_status(current)}, task {_task_state(task, tasks_before)}). "
                    "Is its worker running? Raise wait_timeout if it is just slow.",
                    log=_task_log(task),
                    blueprint=current,
                )
            self._sleep(interval)

        log = _task_log(task)
        if _status(current) != STATUS_SUCCESSFUL or (task is not None and _task_status(task) == "rejected"):
            if log:
                detail = "Authentik's log of the apply task:\n" + "\n".join(f"  {line}" for line in log)
            elif tasks_before is None:
                detail = (
                    "Authentik's log of the apply task is not readable with this token (no permission to view tasks)."
                )
            else:
                detail = "Authentik logged nothing for the apply task."
            raise AuthentikError(
                f"Authentik could not apply blueprint {name!r}: status {_status(current)}"
                f"{', task ' + _task_status(task) if task is not None else ''}. {detail}",
                log=log,
                blueprint=current,
            )
        return current, log

    # -- outposts -------------------------------------------------------------------------------

    @property
    def outposts(self):
        # Imported on first use: the outposts API alone takes a third of a second to load.
        if self._outposts is None:
            from authentik_client.api.outposts_api import OutpostsApi

            self._outposts = OutpostsApi(self._api_client)
        return self._outposts

    def find_outpost(self, name):
        """The outpost called `name` (Authentik compares outpost names case-insensitively), or None."""
        page = self.call(
            f"find outpost {name!r}", self.outposts.outposts_instances_list, name__iexact=name, page_size=100
        )
        for outpost in page.results:
            if outpost.name.lower() == name.lower():
                return outpost
        return None

    def outpost_providers(self, name):
        """The provider pks of the outpost called `name`."""
        return list(self._require_outpost(name).providers)

    def add_outpost_provider(self, name, provider_pk, check_mode=False):
        """Add a provider to an existing outpost, keeping the providers it already serves.

        Returns (changed, outpost) with the outpost as it is (or would be, in check mode).
        Shared outposts (the embedded one, say) serve other applications too: the list is
        read and extended, never replaced.
        """
        outpost = self._require_outpost(name)
        providers = list(outpost.providers)
        if provider_pk in providers:
            return False, outpost
        merged = [*providers, provider_pk]
        if check_mode:
            return True, outpost.model_copy(update={"providers": merged})
        from authentik_client.models.patched_outpost_request import PatchedOutpostRequest

        request = PatchedOutpostRequest(providers=merged)
        updated = self.call(
            f"add provider {provider_pk} to outpost {name!r}",
            self.outposts.outposts_instances_partial_update,
            outpost.pk,
            request,
        )
        return True, updated

    def require_outpost(self, name):
        """The outpost called `name`; AuthentikError when Authentik has none."""
        return self._require_outpost(name)

    def _require_outpost(self, name):
        outpost = self.find_outpost(name)
        if outpost is None:
            raise AuthentikError(f"Authentik at {self.host} has no outpost named {name!r}")
        return outpost

    def outposts_of_provider(self, provider_pk):
        """The outposts that serve the provider `provider_pk`."""
        page = self.call(
            f"list the outposts of provider {provider_pk}",
            self.outposts.outposts_instances_list,
            providers_by_pk=[provider_pk],
            page_size=100,
        )
        return [outpost for outpost in page.results if provider_pk in outpost.providers]

    # -- providers and applications (read only) -------------------------------------------------

    @property
    def providers(self):
        if self._providers is None:
            from authentik_client.api.providers_api import ProvidersApi

            self._providers = ProvidersApi(self._api_client)
        return self._providers

    @property
    def core(self):
        if self._core is None:
            from authentik_client.api.core_api import CoreApi

            self._core = CoreApi(self._api_client)
        return self._core

    # Providers and applications are read as plain JSON: their models change between Authentik
    # releases (fields come and go), and a client a release ahead of or behind the server would
    # refuse the answer. Only the fields the summaries below name are used.

    def find_proxy_provider(self, name):
        """The proxy provider called `name` (a dict, as the API gives it), or None."""
        page = self.call(
            f"find proxy provider {name!r}",
            _json_answer(self.providers.providers_proxy_list_without_preload_content),
            name__iexact=name,
            page_size=100,
        )
        results = page.get("results") or []
        exact = [provider for provider in results if provider.get("name") == name]
        return (exact or results or [None])[0]

    def get_proxy_provider(self, pk):
        """The proxy provider with primary key `pk` (a dict), or None."""
        try:
            return self.call(
                f"read proxy provider {pk}",
                _json_answer(self.providers.providers_proxy_retrieve_without_preload_content),
                pk,
            )
        except AuthentikError as err:
            if err.status == 404:
                return None
            raise

    def find_application(self, slug):
        """The application with the slug `slug` (a dict), or None; every application, whoever may open it."""
        page = self.call(
            f"find application {slug!r}",
            _json_answer(self.core.core_applications_list_without_preload_content),
            slug=slug,
            superuser_full_list=True,
            page_size=100,
        )
        return next((app for app in page.get("results") or [] if app.get("slug") == slug), None)


def _json_answer(method):
    """Call an API method's `_without_preload_content` variant; its answer as parsed JSON.

    Error answers raise ApiException as the plain method does, so `call` retries and explains them.
    """

    def read(*args, **kwargs):
        response = method(*args, **kwargs)
        body = response.data.decode("utf-8") if response.data else ""
        if not 200 <= response.status <= 299:
            ApiException.from_response(http_resp=response, body=body, data=None)
        try:
            return json.loads(body) if body else {}
        except ValueError as exc:
            raise ValueError(f"the answer is not JSON: {exc}") from None

    return read


# -- blueprint content ----------------------------------------------------------------------------


class TaggedValue:
    """A value with one of Authentik's custom YAML tags (`!Find`, `!KeyOf`, `!Context`, ...), kept as written."""

    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, TaggedValue) and (self.tag, self.value) == (other.tag, other.value)

    def __hash__(self):
        return hash(self.tag)

    def __repr__(self):
        return f"TaggedValue({self.tag!r}, {self.value!r})"


if HAS_YAML:

    class BlueprintLoader(yaml.SafeLoader):
        """Safe loading that keeps Authentik's custom tags instead of refusing them."""

    class BlueprintDumper(yaml.SafeDumper):
        """Block-style YAML with multi-line strings as literal blocks and the custom tags kept."""

        def choose_scalar_style(self):
            # `!Context mode` rather than `!Context 'mode'`: PyYAML quotes every scalar with a tag
            # of its own, although a plain one reads back the same.
            if self.analysis is None:
                self.analysis = self.analyze_scalar(self.event.value)
            if (
                not self.event.style
                and (self.event.tag or "").startswith("!")
                and not self.analysis.empty
                and not self.analysis.multiline
                and (self.analysis.allow_flow_plain if self.flow_level else self.analysis.allow_block_plain)
            ):
                return ""
            return super().choose_scalar_style()

    def _construct_tagged(loader, tag_suffix, node):
        tag = "!" + tag_suffix
        if isinstance(node, yaml.ScalarNode):
            return TaggedValue(tag, loader.construct_scalar(node))
        if isinstance(node, yaml.SequenceNode):
            return TaggedValue(tag, loader.construct_sequence(node, deep=True))
        return TaggedValue(tag, loader.construct_mapping(node, deep=True))

    def _represent_tagged(dumper, data):
        if isinstance(data.value, list):
            # `!Find [model, [field, value]]` reads best on one line, as Authentik's docs write it.
            return dumper.represent_sequence(data.tag, data.value, flow_style=True)
        if isinstance(data.value, dict):
            return dumper.represent_mapping(data.tag, data.value)
        return dumper.represent_scalar(data.tag, "" if data.value is None else str(data.value))

    def _represent_str(dumper, data):
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    BlueprintLoader.add_multi_constructor("!", _construct_tagged)
    BlueprintDumper.add_representer(TaggedValue, _represent_tagged)
    BlueprintDumper.add_representer(str, _represent_str)


def _dump_yaml(data):
    return yaml.dump(
        data, Dumper=BlueprintDumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000
    )


def _builtin_type(value):
    """The name of the built-in type a value is (list, not Ansible's _AnsibleTaggedList), for messages."""
    return next(kind.__name__ for kind in type(value).__mro__ if kind.__module__ == "builtins")


def load_blueprint_content(content):
    """Parse blueprint content (YAML text, Authentik's tags allowed, or an already parsed dict)."""
    if not HAS_YAML:
        raise AuthentikError("the Python package PyYAML is required")
    if isinstance(content, dict):
        return content
    if not isinstance(content, str):
        raise AuthentikError(f"content must be YAML text or a dictionary, got {_builtin_type(content)}")
    try:
        data = yaml.load(content, Loader=BlueprintLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise AuthentikError(f"content is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise AuthentikError("content must be a blueprint: a YAML mapping with version, metadata and entries")
    return data


def normalize_blueprint_content(content):
    """The blueprint as YAML text, the same for the same blueprint however it was written.

    Keys keep their order (entries are applied in order), layout is fixed: so a blueprint
    given the same way every run compares equal to what Authentik stores.
    """
    return _dump_yaml(load_blueprint_content(content))


def content_hash(content):
    """What Authentik stores as last_applied_hash after applying this content successfully."""
    return hashlib.sha512(content.encode("utf-8")).hexdigest()


def blueprint_summary(instance):
    """The fields of a BlueprintInstance the module returns (no content, no context: it may hold secrets)."""
    if instance is None:
        return {}
    return {
        "pk": str(instance.pk),
        "name": instance.name,
        "status": _status(instance),
        "enabled": _enabled(instance),
        "last_applied": instance.last_applied.isoformat() if instance.last_applied else None,
        "last_applied_hash": instance.last_applied_hash,
    }


def blueprint_diff_text(name, content, context, enabled):
    """A readable YAML rendering of what the module manages, for --diff."""
    document = {"name": name, "enabled": enabled, "context": context or {}}
    text = _dump_yaml(document)
    try:
        parsed = load_blueprint_content(content)
    except AuthentikError:
        parsed = content
    return text + _dump_yaml({"content": parsed})


def _remote_state(instance):
    try:
        content = normalize_blueprint_content(instance.content or "")
    except AuthentikError:
        # Stored content this module cannot parse never equals what it would write.
        content = instance.content or ""
    return {"content": content, "context": instance.context or {}, "enabled": _enabled(instance)}


def _needs_apply(instance):
    """Whether Authentik has not yet applied the instance's current content successfully."""
    if _status(instance) != STATUS_SUCCESSFUL:
        return True
    content = instance.content or ""
    # Authentik's hash also covers files that `!File` tags read: it cannot be recomputed here.
    if "!File" in content:
        return False
    return instance.last_applied_hash != content_hash(content)


def ensure_blueprint_present(
    client,
    name,
    content,
    context=None,
    enabled=True,
    apply="on_change",
    wait=True,
    wait_timeout=120.0,
    wait_sleep=1.0,
    check_mode=False,
):
    """Make the blueprint instance `name` hold content, context and enabled, and apply it.

    `changed` is true when the instance was created or its content, context or enabled state
    changed, or when Authentik had not applied its current content successfully and this run
    applied it. With apply=always an unchanged, applied blueprint is applied again (restoring
    objects changed by hand), which is not reported as a change.
    """
    desired_content = normalize_blueprint_content(content)
    desired_context = dict(context or {})
    desired = {"content": desired_content, "context": desired_context, "enabled": bool(enabled)}
    result = {"changed": False, "applied": False, "log": [], "blueprint": {}}

    existing = client.find_blueprint(name)
    if existing is None:
        before = None
        update_needed = True
    else:
        before = _remote_state(existing)
        update_needed = before != desired or (existing.path or "") != ""
    result["diff"] = {
        "before_header": f"Authentik blueprint {name}",
        "after_header": f"Authentik blueprint {name}",
        "before": "" if before is None else blueprint_diff_text(name, **before),
        "after": blueprint_diff_text(name, **desired),
    }

    apply_wanted = desired["enabled"] and (
        update_needed or apply == "always" or (existing is not None and _needs_apply(existing))
    )
    result["changed"] = update_needed or (apply_wanted and (existing is None or _needs_apply(existing)))
    if check_mode:
        result["applied"] = apply_wanted
        result["blueprint"] = blueprint_summary(existing)
        return result

    instance = existing
    if existing is None:
        instance = client.create_blueprint(name, desired_content, desired_context, desired["enabled"])
    elif update_needed:
        instance = client.update_blueprint(existing.pk, name, desired_content, desired_context, desired["enabled"])

    if apply_wanted:
        instance, result["log"] = client.apply_and_wait(instance, wait=wait, timeout=wait_timeout, interval=wait_sleep)
        result["applied"] = True
    result["blueprint"] = blueprint_summary(instance)
    return result


def ensure_blueprint_absent(client, name, check_mode=False):
    """Delete the blueprint instance `name` if it exists.

    Authentik keeps the objects a blueprint created when the instance goes; a blueprint whose
    entries say `state: absent` removes them.
    """
    existing = client.find_blueprint(name)
    result = {"changed": existing is not None, "applied": False, "log": [], "blueprint": {}}
    if existing is None:
        result["diff"] = {"before": "", "after": ""}
        return result
    before = _remote_state(existing)
    result["diff"] = {
        "before_header": f"Authentik blueprint {name}",
        "after_header": f"Authentik blueprint {name}",
        "before": blueprint_diff_text(name, **before),
        "after": "",
    }
    result["blueprint"] = blueprint_summary(existing)
    if not check_mode:
        client.delete_blueprint(existing.pk, name)
    return result


# -- outposts and applications ---------------------------------------------------------------------


def outpost_summary(outpost):
    """The fields of an outpost the modules return (its config holds no secret)."""
    if outpost is None:
        return {}
    return {
        "pk": str(outpost.pk),
        "name": outpost.name,
        "type": getattr(outpost.type, "value", outpost.type),
        "managed": outpost.managed,
        "providers": list(outpost.providers),
        "provider_names": [provider.name for provider in outpost.providers_obj or []],
        "config": dict(outpost.config or {}),
    }


def provider_summary(provider):
    """The fields of a proxy provider (a dict, as the API gives it) the modules return."""
    if not provider:
        return {}
    fields = (
        "pk",
        "name",
        "mode",
        "external_host",
        "internal_host",
        "intercept_header_auth",
        "skip_path_regex",
        "authorization_flow",
        "invalidation_flow",
        "authentication_flow",
        "assigned_application_slug",
    )
    return {field: provider.get(field) for field in fields}


def application_summary(application):
    """The fields of an application (a dict, as the API gives it) the modules return."""
    if not application:
        return {}
    fields = ("pk", "slug", "name", "group", "meta_launch_url", "launch_url", "provider")
    return {field: application.get(field) for field in fields}


def _outpost_diff(outpost, names):
    return _dump_yaml({"outpost": outpost.name, "providers": names})


def ensure_outpost_provider(
    client, outpost, provider, check_mode=False, wait_timeout=0.0, interval=5.0, clock=time.monotonic, sleep=time.sleep
):
    """Make the outpost called `outpost` serve the proxy provider called `provider`.

    Only adds: the providers the outpost serves already stay (a shared outpost serves other
    applications). Changed only when the provider was (or, in check mode, would be) added. In
    check mode a provider that does not exist yet (its blueprint not applied) counts as added.
    A provider that is not there yet is looked for again for up to `wait_timeout` seconds: a
    blueprint that Authentik's sidecar applies (the configmap delivery) creates it in its own time.
    """
    current = client.require_outpost(outpost)
    found = client.find_proxy_provider(provider)
    deadline = clock() + (0 if check_mode else wait_timeout)
    while found is None and clock() < deadline:
        sleep(min(interval, max(0.0, deadline - clock())))
        found = client.find_proxy_provider(provider)
    before = [item.name for item in current.providers_obj or []]
    result = {"changed": False, "outpost": outpost_summary(current), "provider": provider_summary(found)}
    if found is None:
        if not check_mode:
            raise AuthentikError(
                f"Authentik at {client.host} has no proxy provider named {provider!r} to add to outpost "
                f"{current.name!r}: apply the blueprint that creates it first"
            )
        result["changed"] = True
        after = [*before, provider]
    else:
        result["changed"], updated = client.add_outpost_provider(current.name, found["pk"], check_mode=check_mode)
        after = before if not result["changed"] else [*before, found["name"]]
        result["outpost"] = outpost_summary(updated)
        if result["changed"] and check_mode:
            result["outpost"]["provider_names"] = after
    result["diff"] = {
        "before_header": f"Authentik outpost {current.name}",
        "after_header": f"Authentik outpost {current.name}",
        "before": _outpost_diff(current, before),
        "after": _outpost_diff(current, after),
    }
    return result


def application_info(client, slug, outpost=None, blueprint=None):
    """What Authentik has for the application `slug`: it, its proxy provider, the outposts that serve
    the provider; with `outpost`, that outpost; with `blueprint`, that blueprint instance. Reads only."""
    application = client.find_application(slug)
    provider = None
    if application is not None and application.get("provider") is not None:
        provider = client.get_proxy_provider(application["provider"])
    serving = client.outposts_of_provider(provider["pk"]) if provider is not None else []
    result = {
        "exists": application is not None,
        "application": application_summary(application),
        "provider": provider_summary(provider),
        "outposts": [outpost_summary(item) for item in serving],
        "outpost": {},
        "blueprint": {},
    }
    if outpost:
        result["outpost"] = outpost_summary(client.find_outpost(outpost))
    if blueprint:
        result["blueprint"] = blueprint_summary(client.find_blueprint(blueprint))
    return result


# -- helpers ----------------------------------------------------------------------------------------


def _status(instance):
    status = getattr(instance, "status", None)
    return getattr(status, "value", status)


def _enabled(instance):
    # The API leaves `enabled` out when unset; Authentik's default is enabled.
    return True if instance.enabled is None else bool(instance.enabled)


def _task_status(task):
    status = getattr(task, "aggregated_status", None)
    return getattr(status, "value", status)


def _task_state(task, tasks_before):
    if tasks_before is None:
        return "not visible to this token"
    if task is None:
        return "not started"
    return _task_status(task)


def _newest_task(tasks, finished_before):
    for task in tasks:
        if task.message_id not in finished_before:
            return task
    return None


def _task_log(task):
    if task is None:
        return []
    lines = []
    for event in task.logs or []:
        level = getattr(event.log_level, "value", event.log_level)
        lines.append(f"{level}: {event.event}")
    return lines


def _retry_after(exc):
    headers = exc.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _tries(attempt):
    return "1 try" if attempt == 0 else f"{attempt + 1} tries"


def _connection_reason(exc):
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    # urllib3 prefixes the connection object's repr: keep the part after it.
    if "): " in text:
        text = text.split("): ", 1)[1]
    return text


def _json_body(exc):
    try:
        return json.loads(exc.body) if exc.body else None
    except (TypeError, ValueError):
        return None


def _error_detail(exc):
    body = _json_body(exc)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return ""


def _token_refused(detail):
    return any(marker in detail.lower() for marker in TOKEN_REFUSED_DETAILS)


def _validation_lines(exc):
    """Authentik's validation errors ({field: [messages]}) as lines: `field: message`."""
    body = _json_body(exc)
    if not isinstance(body, dict):
        return [(exc.body or exc.reason or "").strip()]
    lines = []
    for field, messages in body.items():
        if field == "code":
            continue
        for message in messages if isinstance(messages, list) else [messages]:
            prefix = "" if field in ("non_field_errors", "detail") else f"{field}: "
            lines.append(f"{prefix}{message}")
    return lines


def client_from_params(params):
    """An AuthentikClient from a module's AUTHENTIK_COMMON_ARGS options."""
    return AuthentikClient(**{name: params[name] for name in AUTHENTIK_COMMON_ARGS})
