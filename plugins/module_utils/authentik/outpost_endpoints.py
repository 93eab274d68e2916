# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The outpost, provider and application endpoints of Authentik's API.

Providers and applications are read as plain JSON: their models change between Authentik
releases (fields come and go), and a client a release ahead of or behind the server would
refuse the answer. Only the fields the summaries of applications.py name are used.
"""

from __future__ import annotations

import importlib

from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.errors import AuthentikError
from ansible_collections.homelab.mlflow.plugins.module_utils.authentik.transport import json_answer


class OutpostEndpoints:
    """Outposts (read and extended), proxy providers and applications (read only); mixed into AuthentikClient."""

    # -- the APIs, loaded on first use ------------------------------------------------------------

    @property
    def outposts(self):
        return self._lazy_api("outposts_api", "OutpostsApi")

    @property
    def providers(self):
        return self._lazy_api("providers_api", "ProvidersApi")

    @property
    def core(self):
        return self._lazy_api("core_api", "CoreApi")

    def _lazy_api(self, module, name):
        """The authentik-client API class `name` of authentik_client.api.`module`, for this connection.

        Imported on first use: the outposts API alone takes a third of a second to load, and a
        module run needs few of them (an action plugin has them loaded already: sdk.load_read_apis).
        """
        if name not in self._apis:
            api_class = getattr(importlib.import_module(f"authentik_client.api.{module}"), name)
            self._apis[name] = api_class(self._api_client)
        return self._apis[name]

    # -- outposts -------------------------------------------------------------------------------

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

    def find_proxy_provider(self, name):
        """The proxy provider called `name` (a dict, as the API gives it), or None."""
        page = self.call(
            f"find proxy provider {name!r}",
            json_answer(self.providers.providers_proxy_list_without_preload_content),
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
                json_answer(self.providers.providers_proxy_retrieve_without_preload_content),
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
            json_answer(self.core.core_applications_list_without_preload_content),
            slug=slug,
            superuser_full_list=True,
            page_size=100,
        )
        return next((app for app in page.get("results") or [] if app.get("slug") == slug), None)
