"""The follow service's web app at FOLLOW_ENDPOINT ("/volg/"): sign up, confirm, unsubscribe.

Every answer is a page the build pre-rendered in the site's look
(``output/volg/pagina/<key>.html``), or ``{"status": key, "ok": ...}`` for a client
that prefers JSON. The app never shows or logs who subscribes:

- a sign-up answers the same, in the same time, for a new, a known, a confirmed and
  an unsubscribed address, because every accepted sign-up does the same work and its
  mail goes through the outbox (``service.outbox``), sent by a worker, not the request;
- a refusal is logged with its reason and a short keyed hash of the client's IP
  address, never the email address;
- links in mails change nothing on GET (mail scanners open them); only the button's
  POST confirms or unsubscribes.

Forms of the service's own pages carry a signed form time ``t``; a post with ``t``
must be signed, older than SERVICE_MIN_FORM_SECONDS and younger than a day. The
follow forms on the static pages cannot know when they were opened (no JavaScript),
so a post without ``t`` is accepted when everything else is right.
"""

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

import email_validator
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .config import ServiceConfig
from .logs import service_logger
from .mailer import subscriber_address, transactional_message
from .store import CONFIRMED, PENDING, UNKNOWN_ADDRESS, Store, StoreError, utcnow

logger = service_logger(__name__)

# Every page key with its HTTP status (see the build's service pages).
PAGE_STATUS = {
    "index": 200, "bijna-klaar": 200, "bevestigen": 200, "bevestigd": 200,
    "link-verlopen": 400, "afmelden": 200, "afmelden-verstuurd": 200, "afmelden-knop": 200,
    "afgemeld": 200, "ongeldig-adres": 400, "ongeldige-invoer": 400,
    "verouderd-formulier": 400, "te-snel": 400, "te-vaak": 429, "geweigerd": 400,
    "storing": 503, "niet-gevonden": 404,
}
FORM_FILE = "formulier.json"
PAGES_FOLDER = "pagina"
FORM_FORMAT = 1
FORM_TIME_MARKER = "__FORMULIER_TIJD__"
# A form page older than this is stale: its consent text may have changed since.
FORM_TIME_MAX_AGE = datetime.timedelta(hours=24)
RATE_WINDOW = datetime.timedelta(hours=1)
# The forms hold a few short fields; anything bigger is not one of them.
MAX_BODY_BYTES = 16 * 1024
REACTION_BODY_BYTES = 64 * 1024
MAX_FORM_PARTS = 20
FIELD_MAX_LENGTHS = {"email": 254, "scope": 100, "consent": 64, "website": 254, "t": 100}
# Tokens are 43 characters; a longer path segment is no token of ours.
MAX_TOKEN_LENGTH = 100
DEFAULT_SCOPE = "site"
# Characters that would let an address add header lines to a mail.
FORBIDDEN_IN_ADDRESS = re.compile(r"[\r\n\0]")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    # Confirmation and unsubscribe tokens are in the URLs: never pass them on.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# The pages load the site's CSS and images; their forms post to the service itself.
PAGE_POLICY = ("default-src 'none'; style-src 'self'{styles}; img-src 'self'; "
               "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
PLAIN_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
# Readers see this; the operator's log says which file is missing (never shown: paths).
NOT_BUILT_TEXT = ("Deze pagina is even niet beschikbaar. Probeer het over een paar minuten "
                  "opnieuw.\n\nThis page is not available right now; the operator's log "
                  "says why.\n")


class SiteNotBuilt(Exception):
    """The build output the service needs is missing or unusable; the message says which."""


class CannotMail(Exception):
    """A mail cannot be made from the settings and the build; the message says why."""


@dataclasses.dataclass(frozen=True)
class Page:
    html: str
    policy: str


@dataclasses.dataclass(frozen=True)
class FormSettings:
    """What ``formulier.json`` of the last build says the forms offer."""

    path: Path
    consent_version: str
    consent_text: str
    scopes: dict[str, str]
    mails: dict

    def mail(self, kind: str) -> tuple[str, str]:
        """Subject and text of the mail ``kind`` ("confirm", "unsubscribe")."""
        mail = self.mails.get(kind) if isinstance(self.mails, dict) else None
        subject = mail.get("subject") if isinstance(mail, dict) else None
        text = mail.get("text") if isinstance(mail, dict) else None
        if not (isinstance(subject, str) and subject and isinstance(text, str)
                and "{link}" in text):
            raise CannotMail(
                f"{self.path} has no mails.{kind} with a subject and a text holding {{link}}; "
                "the build of this adviesblog version writes it")
        return subject, text


def page_policy(html: str) -> str:
    """The Content-Security-Policy of a page: the site's own files, plus its inline styles."""
    hashes = sorted({
        "'sha256-" + base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
        + "'" for style in INLINE_STYLE.findall(html)})
    return PAGE_POLICY.format(styles="".join(f" {value}" for value in hashes))


class BuildOutput:
    """The pages and data files of the last build in one endpoint's folder, read again
    when a build changes them; ``statuses`` gives each page's HTTP status.

    The site is rebuilt while the service runs, so each use compares the file's stat
    (a build replaces files atomically, which changes the inode) with the cached one.
    """

    def __init__(self, folder: Path, statuses: dict[str, int]):
        self.folder = folder
        self.statuses = statuses
        self._cache: dict[Path, tuple[tuple, object]] = {}
        self._lock = threading.Lock()

    def _cached(self, path: Path, load: Callable[[Path], object]):
        cached = self._cache.get(path)
        try:
            status = path.stat()
            stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
            if cached and cached[0] == stamp:
                return cached[1]
            with self._lock:
                value = load(path)
                self._cache[path] = (stamp, value)
            return value
        except (OSError, SiteNotBuilt) as error:
            # While a build replaces the output, or after one that failed, the files
            # can be missing for a moment: the last good version still serves readers.
            if cached:
                return cached[1]
            if isinstance(error, SiteNotBuilt):
                raise
            raise SiteNotBuilt(f"{path} is missing ({error.strerror})") from error

    def page(self, key: str) -> Page:
        return self._cached(self.folder / PAGES_FOLDER / f"{key}.html", self._load_page)

    def data(self, name: str, load: Callable[[Path], object]):
        """A data file of the build in this folder, read by ``load`` (cached the same way)."""
        return self._cached(self.folder / name, load)

    @staticmethod
    def _load_page(path: Path) -> Page:
        try:
            html = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SiteNotBuilt(f"{path} cannot be read: {error}") from error
        return Page(html, page_policy(html))



def read_json(path: Path):
    """A JSON file of the build; SiteNotBuilt, naming the file, if it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SiteNotBuilt(f"{path} cannot be read: {error}") from error


def parse_form(data, path: Path) -> FormSettings:
    def wrong(what: str) -> SiteNotBuilt:
        return SiteNotBuilt(f"{path}: {what}; rebuild the site with this adviesblog version")

    if not isinstance(data, dict) or data.get("format") != FORM_FORMAT:
        raise wrong(f"expected an object with \"format\": {FORM_FORMAT}")
    consent = data.get("consent")
    if not (isinstance(consent, dict) and isinstance(consent.get("version"), str)
            and consent["version"] and isinstance(consent.get("text"), str) and consent["text"]):
        raise wrong("\"consent\" needs a \"version\" and a \"text\"")
    scopes = data.get("scopes")
    if not (isinstance(scopes, list) and scopes and all(
            isinstance(item, dict) and isinstance(item.get("scope"), str)
            and isinstance(item.get("name"), str) for item in scopes)):
        raise wrong("\"scopes\" needs a list of {\"scope\", \"name\"}")
    return FormSettings(path=path, consent_version=consent["version"],
                        consent_text=consent["text"],
                        scopes={item["scope"]: item["name"] for item in scopes},
                        mails=data.get("mails") or {})


# --- signing and hashing -------------------------------------------------------------

def _signature(secret_key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret_key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time; anything a reader sends may hold non-ASCII characters."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def sign(secret_key: bytes, purpose: str, value: str) -> str:
    """``<value>.<signature>``: a value a reader may carry back, and cannot change."""
    return f"{value}.{_signature(secret_key, purpose, value)}"


def signed_value(secret_key: bytes, purpose: str, signed: str) -> str | None:
    """The value of ``signed`` if this service signed it for ``purpose``, else None."""
    value, _, signature = signed.rpartition(".")
    if not value or not same_secret(signature, _signature(secret_key, purpose, value)):
        return None
    return value


def timestamp(value: str) -> datetime.datetime | None:
    """The moment of a signed stamp (whole seconds since 1970), or None if it is none."""
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        return None
    return datetime.datetime.fromtimestamp(int(value), datetime.UTC)


def sign_form_time(secret_key: bytes, moment: datetime.datetime) -> str:
    """The value of a form's ``t`` field: when the form was served, signed."""
    return sign(secret_key, "form-time", str(int(moment.timestamp())))


def form_time(secret_key: bytes, value: str) -> datetime.datetime | None:
    """When a form was served, or None when ``value`` was not signed by this service."""
    stamp = signed_value(secret_key, "form-time", value)
    return timestamp(stamp) if stamp is not None else None


def keyed_hash(secret_key: bytes, purpose: str, value: str) -> str:
    """A hash of ``value`` that nobody without the secret key can reverse by trying values."""
    return hmac.new(secret_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# --- requests and answers ----------------------------------------------------------

class FormRequest(Request):
    # Werkzeug refuses bigger bodies with RequestEntityTooLarge before reading them.
    max_content_length = MAX_BODY_BYTES
    max_form_memory_size = MAX_BODY_BYTES
    max_form_parts = MAX_FORM_PARTS


class Refused(Exception):
    """A form the service does not accept: ``key`` is the page, ``reason`` goes to the log.

    ``pages`` is the build output the page comes from: the follow pages when None.
    """

    def __init__(self, key: str, reason: str, pages: "BuildOutput | None" = None):
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.pages = pages


@dataclasses.dataclass(frozen=True)
class Client:
    ip_hash: str
    user_agent_hash: str

    @property
    def tag(self) -> str:
        """A short, keyed tag of the IP address for log lines."""
        return self.ip_hash[:10]


def wants_json(request: Request) -> bool:
    return request.accept_mimetypes.best_match(
        ("text/html", "application/json"), default="text/html") == "application/json"


class FollowService:
    """The WSGI app; ``create_app`` builds it."""

    def __init__(self, config: ServiceConfig, store: Store, clock: Callable[[], datetime.datetime],
                 on_mail_queued: Callable[[], None] | None = None):
        self.config = config
        self.store = store
        self.clock = clock
        self.on_mail_queued = on_mail_queued or (lambda: None)
        self.output = BuildOutput(config.pages_path, PAGE_STATUS)
        endpoint = config.endpoint
        rules = [
            Rule(endpoint, endpoint=self.subscribe, methods=["GET", "POST"]),
            Rule(f"{endpoint}bevestig/<token>/", endpoint=self.confirm, methods=["GET", "POST"]),
            Rule(f"{endpoint}afmelden/", endpoint=self.unsubscribe_request,
                 methods=["GET", "POST"]),
            Rule(f"{endpoint}afmelden/<token>/", endpoint=self.unsubscribe,
                 methods=["GET", "POST"]),
        ]
        self.reactions = None
        if config.reactions_endpoint:
            from .reactions import ReactionDesk

            self.reactions = ReactionDesk(self)
            rules += self.reactions.rules(config.reactions_endpoint)
        self.routes = Map(rules, strict_slashes=False, merge_slashes=False)

    def form(self) -> FormSettings:
        """What formulier.json of the last build says the follow forms offer."""
        return self.output.data(FORM_FILE, self._load_form)

    def _load_form(self, path: Path) -> FormSettings:
        form = parse_form(read_json(path), path)
        # Remember every consent text a build ever offered, so a subscriber's proof holds
        # the text they saw, and a page opened before a rebuild is still accepted.
        self.store.remember_consent_text(form.consent_version, form.consent_text, self.clock())
        logger.info("service: read %s (consent version %s, %d scopes)", path,
                    form.consent_version, len(form.scopes))
        return form

    # --- WSGI ---------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = FormRequest(environ)
        if self.reactions is not None and self.reactions.owns(request):
            # A reaction is longer than a sign-up: 4,000 characters, each up to nine bytes
            # once URL-encoded.
            request.max_content_length = request.max_form_memory_size = REACTION_BODY_BYTES
        response = self.respond(request)
        response.headers.update(SECURITY_HEADERS)
        response.headers.setdefault("Content-Security-Policy", PLAIN_POLICY)
        response.headers.remove("Set-Cookie")
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        # Match the whole path, so the app works mounted at the endpoint (SCRIPT_NAME
        # "/volg") as well as behind a proxy that passes the full path.
        path = request.root_path + request.path
        adapter = self.routes.bind("service", path_info=path)
        try:
            route, arguments = adapter.match(method=request.method)
        except MethodNotAllowed as error:
            return Response("405 Method Not Allowed\n", status=405, mimetype="text/plain",
                            headers={"Allow": ", ".join(sorted(error.valid_methods or []))})
        except NotFound:
            return self.answer(request, "niet-gevonden", self.pages_of(request))
        except HTTPException as error:  # pragma: no cover - the map redirects nothing
            return error.get_response()
        try:
            return route(request, **arguments)
        except Refused as refusal:
            logger.info("service: %s %s refused (%s): %s, client %s", request.method,
                        route.__name__, refusal.key, refusal.reason, self.client(request).tag)
            return self.answer(request, refusal.key, refusal.pages)
        except (StoreError, CannotMail) as error:
            logger.error("service: %s", error)
            return self.answer(request, "storing", self.pages_of(request))
        except SiteNotBuilt as error:
            return self.not_built(request, error)

    def pages_of(self, request: Request) -> "BuildOutput":
        """The pages that answer this address: the reaction pages under their endpoint."""
        if self.reactions is not None and self.reactions.owns(request):
            return self.reactions.output
        return self.output

    def answer(self, request: Request, key: str, pages: "BuildOutput | None" = None,
               status: int | None = None, fill: Callable[[str], str] | None = None) -> Response:
        """The pre-rendered page ``key``; ``fill`` puts in what only this answer knows."""
        pages = pages or self.output
        status = status or pages.statuses[key]
        if wants_json(request):
            return Response(json.dumps({"status": key, "ok": status < 400}), status=status,
                            mimetype="application/json")
        try:
            page = pages.page(key)
        except SiteNotBuilt as error:
            return self.not_built(request, error)
        html = page.html
        if fill is not None:
            html = fill(html)
        elif FORM_TIME_MARKER in html:
            html = html.replace(FORM_TIME_MARKER,
                                sign_form_time(self.config.secret_key, self.clock()))
        return Response(html, status=status, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": page.policy})

    def not_built(self, request: Request, error: SiteNotBuilt) -> Response:
        logger.error("service: cannot answer %s %s: %s", request.method, request.path, error)
        if wants_json(request):
            return Response(json.dumps({"status": "storing", "ok": False}), status=503,
                            mimetype="application/json")
        return Response(NOT_BUILT_TEXT, status=503, mimetype="text/plain")

    # --- reading forms ------------------------------------------------------------

    def client(self, request: Request) -> Client:
        key = self.config.secret_key
        return Client(ip_hash=keyed_hash(key, "ip", request.remote_addr or ""),
                      user_agent_hash=keyed_hash(key, "user-agent",
                                                 request.user_agent.string or ""))

    def fields(self, request: Request, names, lengths=None, pages: "BuildOutput | None" = None,
               refusal: str = "ongeldige-invoer") -> dict[str, str]:
        """The form's fields, each once and within its length; refuse anything else."""
        lengths = lengths or FIELD_MAX_LENGTHS
        if (request.content_length or 0) > request.max_content_length:
            raise Refused(refusal, "body too large", pages)
        try:
            form = request.form
        except RequestEntityTooLarge as error:
            raise Refused(refusal, "body too large", pages) from error
        values = {}
        for name in names:
            given = form.getlist(name)
            if len(given) > 1:
                raise Refused(refusal, f"field {name} given {len(given)} times", pages)
            if given and len(given[0]) > lengths[name]:
                raise Refused(refusal, f"field {name} is too long", pages)
            if given:
                values[name] = given[0]
        return values

    def check_person(self, fields: dict[str, str], now: datetime.datetime) -> None:
        """Refuse the honeypot and forms posted faster than a person fills them in."""
        if fields.get("website", "").strip():
            raise Refused("geweigerd", "honeypot filled in")
        if "t" not in fields:
            return  # a static page's form: it cannot be timed (see the module docstring)
        served = form_time(self.config.secret_key, fields["t"])
        if served is None:
            raise Refused("te-snel", "form time not signed by this service")
        age = now - served
        if age > FORM_TIME_MAX_AGE:
            raise Refused("te-snel", "form time older than a day")
        if age < datetime.timedelta(seconds=self.config.min_form_seconds):
            raise Refused("te-snel", f"posted {age.total_seconds():.1f} s after it was served")

    @staticmethod
    def address(fields: dict[str, str]) -> str:
        """The normalized email address of the form, or a refusal."""
        given = fields.get("email", "")
        if not given.strip():
            raise Refused("ongeldige-invoer", "no email address")
        if FORBIDDEN_IN_ADDRESS.search(given):
            raise Refused("ongeldig-adres", "line break or NUL in the address")
        try:
            return subscriber_address(given.strip())
        except email_validator.EmailNotValidError as error:
            raise Refused("ongeldig-adres", f"address not valid: {error}") from error
        except ValueError as error:
            raise Refused("ongeldig-adres", "address not accepted by the mailer") from error

    def check_rate(self, action: str, client: Client, address: str,
                   now: datetime.datetime) -> None:
        """Refuse more than the set number of requests per IP and per address an hour."""
        key = self.config.secret_key
        limits = [(f"{action}-ip", client.ip_hash, self.config.signups_per_ip_per_hour),
                  (f"{action}-address", keyed_hash(key, "email", address),
                   self.config.signups_per_address_per_hour)]
        used_up = self.store.take_allowance(limits, now - RATE_WINDOW, now)
        if used_up is not None:
            raise Refused("te-vaak", f"more than the hourly limit ({used_up})")

    def mail(self, form: FormSettings, kind: str, recipient: str, link: str,
             scope_name: str = "") -> bytes:
        subject, text = form.mail(kind)

        def fill(template: str) -> str:
            return template.replace("{scope_name}", scope_name).replace("{link}", link)

        try:
            return transactional_message(
                mail_from=self.config.mail_from, recipient=recipient, subject=fill(subject),
                text=fill(text), message_id_domain=self.config.host, dkim=self.config.dkim)
        except ValueError as error:
            raise CannotMail(f"the {kind} mail cannot be made ({error}); check "
                             f"SERVICE_MAIL_FROM and mails.{kind} in {form.path}") from error

    # --- routes --------------------------------------------------------------------

    def subscribe(self, request: Request) -> Response:
        if request.method != "POST":  # GET or HEAD
            try:
                self.form()  # reads formulier.json, so its consent text is remembered
            except StoreError as error:
                # The page needs no database; the sign-up will say so if it is still down.
                logger.error("service: %s", error)
            return self.answer(request, "index")
        now = self.clock()
        form = self.form()
        fields = self.fields(request, ("email", "scope", "consent", "website", "t"))
        self.check_person(fields, now)
        address = self.address(fields)
        scope = fields.get("scope", DEFAULT_SCOPE)
        if scope not in form.scopes:
            raise Refused("ongeldige-invoer", "unknown scope")
        version = fields.get("consent", "")
        if not version:
            raise Refused("ongeldige-invoer", "no consent")
        if version == form.consent_version:
            consent_text = form.consent_text
        else:
            consent_text = self.store.consent_text(version)
            if consent_text is None:
                raise Refused("verouderd-formulier", "unknown consent version")
        client = self.client(request)
        self.check_rate("signup", client, address, now)
        token = new_token()
        message = self.mail(form, "confirm", address, self.config.url(f"bevestig/{token}/"),
                            scope_name=form.scopes[scope])
        # The same work for every address, known or not: nothing in the answer or its
        # timing tells whether this address was already subscribed.
        self.store.request_subscription(
            address, scope, version, consent_text, client.ip_hash, client.user_agent_hash,
            token_hash(token), now + datetime.timedelta(hours=self.config.confirm_hours),
            now, new_unsubscribe_token=new_token(), confirmation_mail=message)
        self.on_mail_queued()
        logger.info("service: sign-up for %s accepted, client %s", scope, client.tag)
        return self.answer(request, "bijna-klaar")

    def confirm(self, request: Request, token: str) -> Response:
        hashed = token_hash(token) if len(token) <= MAX_TOKEN_LENGTH else None
        now = self.clock()
        if request.method != "POST":  # GET or HEAD
            # Only shows the button: mail scanners open links, and must confirm nothing.
            found = hashed and self.store.confirmation(hashed)
            if found and found.state == CONFIRMED:
                return self.answer(request, "bevestigd")
            if found and found.state == PENDING and found.expires_at \
                    and found.expires_at >= now:
                return self.answer(request, "bevestigen")
            return self.answer(request, "link-verlopen")
        outcome = self.store.confirm(hashed, now) if hashed else "unknown"
        if outcome in ("confirmed", "already"):
            logger.info("service: sign-up %s", "confirmed" if outcome == "confirmed"
                        else "confirmed again (link used before)")
            return self.answer(request, "bevestigd")
        logger.info("service: confirmation refused: %s link", outcome)
        return self.answer(request, "link-verlopen")

    def unsubscribe_request(self, request: Request) -> Response:
        if request.method != "POST":  # GET or HEAD
            return self.answer(request, "afmelden")
        now = self.clock()
        form = self.form()
        fields = self.fields(request, ("email", "website", "t"))
        self.check_person(fields, now)
        address = self.address(fields)
        self.check_rate("unsubscribe", self.client(request), address, now)
        subscriber = self.store.subscriber_by_email(address)
        known = subscriber is not None and self.store.is_subscribed(subscriber.id)
        # Known or not, the same work: a message made and one outbox row written, so the
        # time of the answer does not tell whether the address subscribes. The worker
        # drops the row of an unknown address without sending anything.
        token = subscriber.unsubscribe_token if known else new_token()
        message = self.mail(form, "unsubscribe", address, self.config.url(f"afmelden/{token}/"))
        self.store.queue_mail("unsubscribe" if known else UNKNOWN_ADDRESS, address, message, now)
        self.on_mail_queued()
        return self.answer(request, "afmelden-verstuurd")

    def unsubscribe(self, request: Request, token: str) -> Response:
        if request.method != "POST":  # GET or HEAD
            # The same page for every token: the link tells nobody whether it is valid.
            return self.answer(request, "afmelden-knop")
        # The page's button and RFC 8058's one-click POST ("List-Unsubscribe=One-Click")
        # both end up here; either one unsubscribes, and the answer never differs.
        if len(token) <= MAX_TOKEN_LENGTH and self.store.unsubscribe(token, self.clock()):
            logger.info("service: unsubscribed")
        return self.answer(request, "afgemeld")


def create_app(config: ServiceConfig, store: Store,
               clock: Callable[[], datetime.datetime] = utcnow,
               on_mail_queued: Callable[[], None] | None = None):
    """The service as a WSGI callable; ``on_mail_queued`` wakes the outbox worker."""
    app = FollowService(config, store, clock, on_mail_queued)
    if config.trusted_proxies > 0:
        # Only then is X-Forwarded-For the client's address and not a forgery.
        return ProxyFix(app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies)
    return app

