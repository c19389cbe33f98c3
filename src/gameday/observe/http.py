"""How gameday talks HTTP to a system's Prometheus and Alertmanager: bearer token or
basic auth, a custom CA, a client certificate. Values are resolved by the target
(from the environment or Chaos Toolkit secrets) and never printed: `repr` hides them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests


class _Session(requests.Session):
    """A session whose own `verify` (a target's CA file) is not overridden by
    $REQUESTS_CA_BUNDLE or $CURL_CA_BUNDLE: requests lets those win over `Session.verify`
    for every request that does not pass `verify=` itself (psf/requests#3829)."""

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if verify is None and self.verify is not True:
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


@dataclass(frozen=True)
class HttpSettings:
    """Credentials and TLS for one endpoint; the default is plain, unauthenticated HTTP."""

    bearer_token: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}

    @property
    def verify(self) -> bool | str:
        return self.ca_file or True

    @property
    def cert(self) -> str | tuple[str, str] | None:
        if self.cert_file and self.key_file:
            return (self.cert_file, self.key_file)
        return self.cert_file

    def session(self) -> requests.Session:
        """A session that sends these credentials with every request."""
        session = _Session()
        session.headers.update(self.headers)
        if self.basic_auth is not None:
            session.auth = self.basic_auth
        session.verify = self.verify
        if self.cert is not None:
            session.cert = self.cert
        return session

    def secret_values(self) -> list[str]:
        """What a report or log must never show."""
        values = [self.bearer_token] if self.bearer_token else []
        if self.basic_auth is not None:
            values.append(self.basic_auth[1])
        return values


PLAIN = HttpSettings()
