"""Where signing keys live, without Flask in the services (the agreements' PDFs are in
the database: portal/storage).

create_app() registers its configuration per database engine; a service finds the
settings from its session (``settings_for(session)``), read when asked (``portal demo``
sets SECRET_KEY after the app is made), so the workflow can issue an
agreement inside the transaction that approves a request, whoever calls it (a page,
the API, the CLI, a test), and two apps in one process never mix their folders.
"""

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.db import engine_of


@dataclass(frozen=True)
class AgreementSettings:
    instance_path: Path
    # Encrypts the CA key and the signers' keys: PORTAL_CA_PASSPHRASE, else SECRET_KEY.
    secret: str | None
    # Configured CA files (PORTAL_CA_KEY, PORTAL_CA_CERT); empty: <instance>/ca/, made on first use.
    ca_key_path: Path | None = None
    ca_cert_path: Path | None = None

    @property
    def ca_dir(self) -> Path:
        return self.instance_path / "ca"


_by_engine: "weakref.WeakKeyDictionary[Engine, Mapping]" = weakref.WeakKeyDictionary()


def configure(engine: Engine, config: Mapping) -> None:
    """Let sessions on ``engine`` find the app's settings (create_app calls this)."""
    _by_engine[engine] = config


def from_config(config: Mapping) -> AgreementSettings:
    secret = config.get("CA_PASSPHRASE") or config.get("SECRET_KEY")
    key, cert = config.get("CA_KEY_PATH"), config.get("CA_CERT_PATH")
    return AgreementSettings(
        instance_path=Path(config["INSTANCE_PATH"]),
        secret=secret,
        ca_key_path=Path(key) if key else None,
        ca_cert_path=Path(cert) if cert else None,
    )


def settings_for(session: Session) -> AgreementSettings:
    return from_config(config_for(session))


def config_for(session: Session) -> Mapping:
    """The app's configuration, for a service that has only its session."""
    try:
        return _by_engine[engine_of(session)]
    except KeyError:
        raise RuntimeError(
            "no agreement settings for this database: create the app with create_app()"
        ) from None
