"""The follow service's settings: SERVICE_* keys beside the site's own, secrets from the environment.

The service reads the same settings file as the build (``publishconf.py`` in
production, ``pelicanconf.py`` under ``make serve``), so the site's name, address,
contact and follow endpoint are set once. Its own keys carry the ``SERVICE_`` prefix,
with their defaults below; an unknown ``SERVICE_`` key is reported. Passwords and
keys are never in a settings file: they come from the environment (see the README).
"""

import dataclasses
import os
import secrets
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from adviesblog_common.settings import apply_defaults
from comments.reactions import DEFAULTS as REACTION_DEFAULTS

from .logs import service_logger
from .mailer import DkimKey, SmtpSettings
from .store import data_folder

logger = service_logger(__name__)

DEFAULTS = {
    # Folder for the database and the generated secret key: outside output/ and git.
    "SERVICE_DATA_PATH": "var",
    # "sqlite:///path" or "postgresql://user@host/db"; empty: SQLite in SERVICE_DATA_PATH.
    # $ADVIESBLOG_DATABASE_URL wins, so a password never sits in a settings file.
    "SERVICE_DATABASE_URL": "",
    # The public address of the site and the service; empty: SITEURL.
    "SERVICE_SITE_URL": "",
    # Sender of every mail, "Name <address>"; empty: SITENAME and SITE_CONTACT's email.
    "SERVICE_MAIL_FROM": "",
    # Where the mailto: of List-Unsubscribe goes (a person reads it); empty: SITE_CONTACT.
    "SERVICE_UNSUBSCRIBE_MAILTO": "",
    # The List-Id of the newsletter; empty: "nieuwsbrief.<host of the site>".
    "SERVICE_LIST_ID": "",
    # The SMTP relay; $ADVIESBLOG_SMTP_HOST/_PORT override, $ADVIESBLOG_SMTP_PASSWORD is the password.
    "SERVICE_SMTP_HOST": "127.0.0.1",
    "SERVICE_SMTP_PORT": 25,
    # "none", "starttls" or "ssl".
    "SERVICE_SMTP_SECURITY": "none",
    "SERVICE_SMTP_USERNAME": "",
    "SERVICE_SMTP_TIMEOUT": 30,
    # DKIM signing when both are set; the private key is $ADVIESBLOG_DKIM_PRIVATE_KEY
    # (PEM text) or the file named by $ADVIESBLOG_DKIM_KEY_FILE.
    "SERVICE_DKIM_DOMAIN": "",
    "SERVICE_DKIM_SELECTOR": "",
    # Abuse limits: sign-ups per IP address and per email address per hour.
    "SERVICE_SIGNUPS_PER_IP_PER_HOUR": 5,
    "SERVICE_SIGNUPS_PER_ADDRESS_PER_HOUR": 3,
    # A form of the service's own pages posted sooner than this was not filled in by a person.
    "SERVICE_MIN_FORM_SECONDS": 3,
    # How long a confirmation link works.
    "SERVICE_CONFIRM_HOURS": 48,
    # Reverse proxies in front of the service whose X-Forwarded-For is trusted (0: none).
    "SERVICE_TRUSTED_PROXIES": 0,
}
SECURITY_CHOICES = ("none", "starttls", "ssl")
SECRET_KEY_FILE = "secret-key"
DEVELOPMENT_SITE_URL = "http://127.0.0.1:8000"


class ConfigError(ValueError):
    """A setting or environment variable the service cannot work with."""


@dataclasses.dataclass(frozen=True)
class ServiceConfig:
    site_url: str
    site_name: str
    output_path: Path
    data_path: Path
    database_url: str
    secret_key: bytes
    mail_from: str
    envelope_from: str
    unsubscribe_mailto: str
    list_id: str
    smtp: SmtpSettings = SmtpSettings()
    dkim: DkimKey | None = None
    endpoint: str = "/volg/"
    signups_per_ip_per_hour: int = 5
    signups_per_address_per_hour: int = 3
    min_form_seconds: float = 3
    confirm_hours: float = 48
    trusted_proxies: int = 0
    settings_file: Path | None = None
    # Reactions (REACTIONS_* settings, shared with the build); "" endpoint: none taken.
    reactions_endpoint: str = "/reactie/"
    content_path: Path | None = None
    comments_folder: str = "comments"
    moderator: str = ""
    rebuild_command: str = ""
    max_name_length: int = 80
    max_text_length: int = 4000
    max_links: int = 3
    reactions_per_ip_per_hour: int = 5

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.site_url).hostname or "localhost"

    @property
    def pages_path(self) -> Path:
        """Where the build wrote the service's pages and formulier.json."""
        return self.output_path / self.endpoint.strip("/")

    def url(self, path: str) -> str:
        """The absolute URL of a path under the endpoint, e.g. ``afmelden/<token>/``."""
        return f"{self.site_url}{self.endpoint}{path}"

    @property
    def reaction_pages_path(self) -> Path:
        """Where the build wrote the reaction pages and reacties.json."""
        return self.output_path / self.reactions_endpoint.strip("/")

    def reaction_url(self, path: str) -> str:
        """The absolute URL of a path under the reactions endpoint, e.g. ``stop/<id>/<token>/``."""
        return f"{self.site_url}{self.reactions_endpoint}{path}"

    @classmethod
    def for_tests(cls, folder: Path, **overrides) -> "ServiceConfig":
        """A complete configuration in ``folder``, as a test needs it."""
        values = {
            "site_url": "http://127.0.0.1:8000", "site_name": "Testsite",
            "output_path": folder / "output", "data_path": folder / "data",
            "database_url": f"sqlite:///{folder / 'data' / 'volg.sqlite3'}",
            "secret_key": b"test-secret-key-of-32-bytes-long",
            "mail_from": "Testsite <nieuwsbrief@testsite.example>",
            "envelope_from": "nieuwsbrief@testsite.example",
            "unsubscribe_mailto": "afmelden@testsite.example", "list_id": "nieuwsbrief.testsite.example",
            "content_path": folder / "content", "moderator": "redactie@testsite.example",
        }
        values.update(overrides)
        return cls(**values)


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def secret_key(environ: Mapping[str, str], data_path: Path) -> bytes:
    """$ADVIESBLOG_SECRET_KEY, or a random key kept in the data folder (made on first use).

    The key signs form times and hashes IP addresses; losing it only means old form
    pages are refused and old hashes can no longer be matched.
    """
    from_environment = _env(environ, "ADVIESBLOG_SECRET_KEY")
    if from_environment:
        if len(from_environment) < 32:
            raise ConfigError("ADVIESBLOG_SECRET_KEY is shorter than 32 characters; "
                              "make one with: python -c 'import secrets; "
                              "print(secrets.token_urlsafe(48))'")
        return from_environment.encode("utf-8")
    path = data_folder(data_path) / SECRET_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with open(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    logger.info("service: made a new secret key in %s", path)
    return path.read_bytes().strip()


def dkim_key(settings: Mapping, environ: Mapping[str, str]) -> DkimKey | None:
    domain, selector = settings["SERVICE_DKIM_DOMAIN"], settings["SERVICE_DKIM_SELECTOR"]
    pem = _env(environ, "ADVIESBLOG_DKIM_PRIVATE_KEY").encode("ascii")
    key_file = _env(environ, "ADVIESBLOG_DKIM_KEY_FILE")
    if key_file:
        try:
            pem = Path(key_file).read_bytes()
        except OSError as error:
            raise ConfigError(f"ADVIESBLOG_DKIM_KEY_FILE {key_file}: {error.strerror}") from error
    if not (domain or selector or pem):
        return None
    if not (domain and selector and pem):
        raise ConfigError("DKIM needs SERVICE_DKIM_DOMAIN, SERVICE_DKIM_SELECTOR and a key in "
                          "$ADVIESBLOG_DKIM_PRIVATE_KEY or $ADVIESBLOG_DKIM_KEY_FILE; "
                          "set all three, or none")
    return DkimKey(domain=domain, selector=selector, private_key=pem)


def smtp_settings(settings: Mapping, environ: Mapping[str, str]) -> SmtpSettings:
    security = settings["SERVICE_SMTP_SECURITY"]
    if security not in SECURITY_CHOICES:
        raise ConfigError(f"SERVICE_SMTP_SECURITY is {security!r}; expected one of "
                          f"{', '.join(SECURITY_CHOICES)}")
    port = _env(environ, "ADVIESBLOG_SMTP_PORT") or settings["SERVICE_SMTP_PORT"]
    try:
        port = int(port)
    except ValueError as error:
        raise ConfigError(f"the SMTP port is {port!r}; expected a number") from error
    return SmtpSettings(host=_env(environ, "ADVIESBLOG_SMTP_HOST") or settings["SERVICE_SMTP_HOST"],
                        port=port, security=security,
                        username=settings["SERVICE_SMTP_USERNAME"],
                        password=environ.get("ADVIESBLOG_SMTP_PASSWORD", ""),
                        timeout=float(settings["SERVICE_SMTP_TIMEOUT"]))


def bare_address(mail_from: str) -> str:
    import email.utils

    address = email.utils.parseaddr(mail_from)[1]
    if "@" not in address:
        raise ConfigError(f"SERVICE_MAIL_FROM is {mail_from!r}; expected 'Name <address>'")
    return address


def from_settings(settings: dict, environ: Mapping[str, str] = os.environ,
                  root: Path | None = None) -> ServiceConfig:
    """The service configuration from Pelican settings (as read_settings returns them)."""
    apply_defaults(settings, "SERVICE_", DEFAULTS)
    apply_defaults(settings, "REACTIONS_", REACTION_DEFAULTS)
    root = Path(root or os.getcwd())
    contact = (settings.get("SITE_CONTACT") or {}).get("email", "")
    site_name = settings.get("SITENAME", "")
    site_url = (_env(environ, "ADVIESBLOG_SERVICE_URL") or settings["SERVICE_SITE_URL"]
                or settings.get("SITEURL") or DEVELOPMENT_SITE_URL).rstrip("/")
    endpoint = settings.get("FOLLOW_ENDPOINT", "/volg/")
    if not (endpoint.startswith("/") and endpoint.endswith("/")):
        raise ConfigError(f"FOLLOW_ENDPOINT is {endpoint!r}: the service runs only at a path "
                          "of this site, like '/volg/'")
    data_path = root / (_env(environ, "ADVIESBLOG_DATA") or settings["SERVICE_DATA_PATH"])
    database_url = (_env(environ, "ADVIESBLOG_DATABASE_URL") or settings["SERVICE_DATABASE_URL"]
                    or f"sqlite:///{data_path / 'volg.sqlite3'}")
    mail_from = settings["SERVICE_MAIL_FROM"] or f"{site_name} <{contact}>"
    reactions_endpoint = settings["REACTIONS_ENDPOINT"] or ""
    if reactions_endpoint and not (reactions_endpoint.startswith("/")
                                   and reactions_endpoint.endswith("/")
                                   and reactions_endpoint.strip("/")):
        raise ConfigError(f"REACTIONS_ENDPOINT is {reactions_endpoint!r}: the service takes "
                          "reactions only at a path of this site, like '/reactie/', or set it "
                          "to '' for none")
    host = urllib.parse.urlsplit(site_url).hostname or "localhost"
    return ServiceConfig(
        site_url=site_url, site_name=site_name,
        output_path=root / settings.get("OUTPUT_PATH", "output"), data_path=data_path,
        database_url=database_url, secret_key=secret_key(environ, data_path),
        mail_from=mail_from, envelope_from=bare_address(mail_from),
        unsubscribe_mailto=settings["SERVICE_UNSUBSCRIBE_MAILTO"] or contact,
        list_id=settings["SERVICE_LIST_ID"] or f"nieuwsbrief.{host}",
        smtp=smtp_settings(settings, environ), dkim=dkim_key(settings, environ),
        endpoint=endpoint,
        signups_per_ip_per_hour=int(settings["SERVICE_SIGNUPS_PER_IP_PER_HOUR"]),
        signups_per_address_per_hour=int(settings["SERVICE_SIGNUPS_PER_ADDRESS_PER_HOUR"]),
        min_form_seconds=float(settings["SERVICE_MIN_FORM_SECONDS"]),
        confirm_hours=float(settings["SERVICE_CONFIRM_HOURS"]),
        trusted_proxies=int(settings["SERVICE_TRUSTED_PROXIES"]),
        settings_file=Path(settings["SETTINGS_FILE"]) if settings.get("SETTINGS_FILE") else None,
        reactions_endpoint=reactions_endpoint,
        content_path=root / settings.get("PATH", "content"),
        comments_folder=settings.get("COMMENTS_PATH", "comments"),
        moderator=settings["REACTIONS_MODERATOR"] or contact,
        rebuild_command=settings["REACTIONS_REBUILD_COMMAND"] or "",
        max_name_length=int(settings["REACTIONS_MAX_NAME_LENGTH"]),
        max_text_length=int(settings["REACTIONS_MAX_TEXT_LENGTH"]),
        max_links=int(settings["REACTIONS_MAX_LINKS"]),
        reactions_per_ip_per_hour=int(settings["REACTIONS_PER_IP_PER_HOUR"]),
    )


def read_project_settings(settings_file: str | os.PathLike) -> dict:
    """Pelican's settings from a file such as publishconf.py, with the file's own path."""
    from pelican.settings import read_settings

    path = Path(settings_file).resolve()
    settings = read_settings(str(path))
    settings["SETTINGS_FILE"] = str(path)
    return settings


def load(settings_file: str | os.PathLike, environ: Mapping[str, str] = os.environ
         ) -> ServiceConfig:
    """The configuration from a settings file such as publishconf.py."""
    return from_project_settings(read_project_settings(settings_file), environ)


def from_project_settings(settings: dict, environ: Mapping[str, str] = os.environ
                          ) -> ServiceConfig:
    """The configuration from what ``read_project_settings`` returned."""
    return from_settings(settings, environ, root=Path(settings["SETTINGS_FILE"]).parent)
