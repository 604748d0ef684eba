"""Mail the service sends, and the one SMTP session it goes out through.

``EditionMessage`` turns one edition into a message per subscriber. Everything that
is the same for every subscriber (headers, MIME frame, the normalised bodies) is
built and checked once; a render only puts the subscriber's address and link in,
quoted-printable encodes the two bodies (``binascii``, in C) and joins bytes, so a
newsletter to 10,000 people is not held up by building its messages.
``transactional_message`` builds the one-off mails of the web app (confirmation,
unsubscribe link).

Every header value is checked before it is written: a line break or another control
character is refused with a ``ValueError`` that names the header, so no caller can
inject a header, however hostile the value it passes.

``SmtpSession`` sends over one reused connection, retrying temporary failures with a
back-off, and tells "not delivered" (``TemporaryFailure``, ``PermanentFailure``) apart
from "may have been delivered" (``UncertainDelivery``): the connection was lost after
the final ``.`` of the data went out, so only the server knows.
"""

import binascii
import datetime
import re
import secrets
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from email.utils import format_datetime
from html import escape

import dkim
import dkim.crypto
import email_validator

SECURITY_MODES = ("none", "starttls", "ssl")
MAX_BACKOFF_SECONDS = 60.0
# QP keeps body lines at 76; a header line must stay under RFC 5322's hard limit.
MAX_LINE_OCTETS = 998
MAX_URL_LENGTH = 900
# Covered by the DKIM signature, each twice: a header named more often than it occurs
# is "over-signed", so one added later (a second List-Unsubscribe, a second From)
# breaks the signature instead of riding on it. RFC 8058 requires the signature to
# cover List-Unsubscribe and List-Unsubscribe-Post.
SIGNED_HEADERS = tuple(
    name
    for header in ("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Id",
                   "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted",
                   "MIME-Version", "Content-Type", "Content-Transfer-Encoding")
    for name in (header, header)
)
# RFC 3834: this mail comes from a program, not a person. Out-of-office and other
# auto-responders then stay silent, so an edition to thousands of readers does not
# flood the author named in Reply-To with automatic answers, and a confirmation
# mail sent to a forged address cannot start a loop with a responder. A person who
# replies is not affected.
AUTO_SUBMITTED = "Auto-Submitted: auto-generated\r\n"
PART_HEADERS = ('Content-Type: text/{kind}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n")

# Any C0 control character but tab, and DEL: CR and LF would start a new header.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A bare addr-spec, ASCII only: a dot-atom local part and a host name. Quoted local
# parts, address literals and non-ASCII addresses are refused; the web app accepts
# only addresses that fit (email-validator with allow_smtputf8=False).
_HOST_NAME_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_HOST_NAME = re.compile(_HOST_NAME_PATTERN + r"\Z")
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@" + _HOST_NAME_PATTERN + r"\Z")
_DNS_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\Z")
# RFC 2919: a list id is a dot-atom with at least one dot.
_LIST_ID = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+\Z")
# Only the characters RFC 3986 allows in a URI: no space, quote, angle bracket or
# control character can reach a header or an HTML attribute through a link.
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+\Z")
_MESSAGE_ID = re.compile(r"<?([!-;=?-~]+@[!-;=?-~]+?)>?\Z")  # printable ASCII but < and >
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*\Z")


# -- errors ---------------------------------------------------------------------------


class MailError(Exception):
    """A message could not be sent; ``code`` is the SMTP reply code, if there was one."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class PermanentFailure(MailError):
    """The server refused the message for good (5xx): it was not delivered."""


class TemporaryFailure(MailError):
    """The server stayed unavailable or kept answering 4xx through every retry: not delivered."""


class UncertainDelivery(MailError):
    """The connection was lost after the whole message was sent: it may have been delivered."""


class SmtpSetupError(MailError):
    """The server refused the session itself (greeting, EHLO, STARTTLS, login, certificate).

    Retrying does not help and no message can go out until the settings change, so
    a sender should stop rather than mark its recipients as failed.
    """


# -- settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server; ``backoff`` is the first wait in seconds."""

    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0

    def __post_init__(self):
        if self.security not in SECURITY_MODES:
            raise ValueError(f"SMTP security is {self.security!r}; expected one of "
                             f"{', '.join(SECURITY_MODES)}")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port is {self.port}; expected 1 to 65535")
        if self.retries < 0 or self.backoff < 0 or self.timeout <= 0:
            raise ValueError("SMTP retries and backoff must be 0 or more, and timeout above 0")
        if self.password and not self.username:
            raise ValueError("SMTP password is set without a username")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DkimKey:
    """A DKIM signing key: the record is published at ``<selector>._domainkey.<domain>``."""

    domain: str
    selector: str
    private_key: bytes = field(repr=False)

    def __post_init__(self):
        if not _HOST_NAME.match(self.domain):
            raise ValueError(f"DKIM domain {self.domain!r} is not a host name")
        if not all(_DNS_LABEL.match(label) for label in self.selector.split(".")):
            raise ValueError(f"DKIM selector {self.selector!r} is not a DNS name")
        try:
            dkim.crypto.parse_pem_private_key(self.private_key)
        except (dkim.crypto.UnparsableKeyError, ValueError, TypeError) as error:
            raise ValueError(f"DKIM private key for {self.domain}: not a PEM RSA key "
                             f"({error})") from None


# -- header values --------------------------------------------------------------------


def _text(header: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{header}: expected text, got {type(value).__name__}")
    if _CONTROL.search(value):
        raise ValueError(f"{header}: the value holds a line break or another control "
                         f"character; refused, as it could inject a header")
    return value


def checked_address(header: str, value) -> str:
    """``value`` if it is a bare ASCII address; a ``ValueError`` naming ``header`` if not."""
    if not _ADDRESS.match(_text(header, value)) or len(value) > 254:
        raise ValueError(f"{header}: {value!r} is not a plain ASCII email address")
    return value


def subscriber_address(given: str) -> str:
    """``given`` as the service keeps a subscriber's address: valid, ASCII and lowercase.

    Raises ``ValueError``: email_validator's ``EmailNotValidError``, or one naming
    "address" when the mailer could not put it in a header. No SMTPUTF8, so an address
    this mail cannot reach is refused now, not lost later; lowercase, because mail
    systems ignore case in practice, and "Jan@" and "jan@" are one subscriber.
    """
    valid = email_validator.validate_email(given, check_deliverability=False,
                                           allow_smtputf8=False)
    return checked_address("address", (valid.ascii_email or valid.normalized).lower())


def _url(header: str, value) -> str:
    if not _URL.match(_text(header, value)) or len(value) > MAX_URL_LENGTH:
        raise ValueError(f"{header}: {value!r} is not an http(s) URL of URI characters "
                         f"up to {MAX_URL_LENGTH} long")
    return value


def _phrase(header: str, text: str) -> str:
    """``text`` as a display name: plain, quoted, or RFC 2047 encoded words."""
    text = " ".join(_text(header, text).split())
    if not text.isascii() or "=?" in text:
        return Header(text, "utf-8", header_name=header).encode(linesep="\r\n")
    if _ATOMS.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_mailbox(header: str, value: str) -> tuple[str, str]:
    """The display name (unquoted) and the address of ``Name <address>`` or ``address``."""
    value = _text(header, value).strip()
    if not value.endswith(">"):
        return "", checked_address(header, value)
    name, _, address = value[:-1].rpartition("<")
    name = name.strip()
    if len(name) > 1 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name, checked_address(header, address.strip())


def _mailbox(header: str, value: str) -> str:
    """``Name <address>`` or a bare address, formatted for ``header``."""
    name, address = _split_mailbox(header, value)
    return f"{_phrase(header, name)} <{address}>" if name else address


def _unstructured(header: str, value: str) -> str:
    value = " ".join(_text(header, value).split())
    if not value:
        raise ValueError(f"{header}: empty")
    if not value.isascii() or "=?" in value:
        return Header(value, "utf-8", header_name=header).encode(linesep="\r\n")
    return Header(value, "us-ascii", header_name=header).encode(linesep="\r\n")


def _message_id(value) -> str:
    match = _MESSAGE_ID.match(_text("Message-ID", value))
    if not match:
        raise ValueError(f"Message-ID: {value!r} is not <unique@domain>")
    return f"<{match.group(1)}>"


def _date(value: datetime.datetime | None) -> str:
    if value is None:
        return format_datetime(datetime.datetime.now(datetime.UTC))
    if value.tzinfo is None:
        raise ValueError("Date: a naive datetime has no time zone; pass an aware one")
    return format_datetime(value)


def new_message_id(domain: str) -> str:
    """A fresh ``<random@domain>``; render it in and keep it to find the message again."""
    return f"<{secrets.token_hex(16)}@{domain}>"


def _host_name(header: str, value) -> str:
    if not _HOST_NAME.match(_text(header, value)):
        raise ValueError(f"{header}: {value!r} is not a host name")
    return value


def _list_headers(*, list_id: str | None, list_name: str | None, unsubscribe_url: str | None,
                  unsubscribe_mailto: str | None) -> str:
    lines = []
    if list_id is not None:
        if not _LIST_ID.match(_text("List-Id", list_id)):
            raise ValueError(f"List-Id: {list_id!r} is not a dot-atom like news.example.nl")
        name = _phrase("List-Id", list_name or "")
        lines.append(f"List-Id: {name} <{list_id}>\r\n" if name else f"List-Id: <{list_id}>\r\n")
    targets = []
    if unsubscribe_url is not None:
        targets.append(f"<{_url('List-Unsubscribe', unsubscribe_url)}>")
    if unsubscribe_mailto is not None:
        address = checked_address("List-Unsubscribe", unsubscribe_mailto)
        targets.append(f"<mailto:{address}?subject=afmelden>")
    if targets:
        lines.append("List-Unsubscribe: " + ",\r\n ".join(targets) + "\r\n")
    if unsubscribe_url is not None:
        # RFC 8058: a POST to the https URL unsubscribes, with no page to click through.
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    return "".join(lines)


def _check_lines(headers: str) -> str:
    for line in headers.split("\r\n"):
        if len(line.encode("utf-8")) > MAX_LINE_OCTETS:
            raise ValueError(f"{line.partition(':')[0]}: a header line longer than "
                             f"{MAX_LINE_OCTETS} octets")
    return headers


# -- bodies ---------------------------------------------------------------------------


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _quoted_printable(body: str) -> bytes:
    """``body`` (CRLF line ends) as quoted-printable UTF-8 with CRLF lines of at most 76.

    ``b2a_qp`` uses the line end of the first line for its soft breaks, so a body with
    no line end gets one for the encoding, taken off again after.
    """
    if body.endswith("\r\n"):
        return binascii.b2a_qp(body.encode("utf-8"), istext=True)
    return binascii.b2a_qp((body + "\r\n").encode("utf-8"), istext=True)[:-2]


def _template(body: str, placeholder: str) -> tuple[bytes | str, ...]:
    """``body`` split at line ends: lines without ``placeholder`` encoded once, the rest kept.

    Quoted-printable encodes line by line, so the encoded lines of a body are the
    encoded lines of its pieces; a render then only encodes the few lines with the
    link, whatever the size of the edition.
    """
    pieces: list[bytes | str] = []
    static: list[str] = []
    lines = body.split("\r\n")
    for number, line in enumerate(lines, start=1):
        line_end = "\r\n" if number < len(lines) else ""
        if placeholder in line:
            if static:
                pieces.append(_quoted_printable("".join(static)))
                static = []
            pieces.append(line + line_end)
        elif line or line_end:
            static.append(line + line_end)
    if static:
        pieces.append(_quoted_printable("".join(static)))
    return tuple(pieces)


def _filled(template: tuple[bytes | str, ...], placeholder: str, value: str) -> list[bytes]:
    return [piece if isinstance(piece, bytes) else
            _quoted_printable(piece.replace(placeholder, value)) for piece in template]


def _signed(message: bytes, key: DkimKey) -> bytes:
    signature = dkim.sign(message, key.selector.encode("ascii"), key.domain.encode("ascii"),
                          key.private_key, canonicalize=(b"relaxed", b"relaxed"),
                          signature_algorithm=b"rsa-sha256",
                          include_headers=[name.encode("ascii") for name in SIGNED_HEADERS],
                          linesep=b"\r\n")
    return signature + message


# -- messages -------------------------------------------------------------------------


class EditionMessage:
    """One edition, rendered per subscriber as a multipart/alternative message.

    ``text`` and ``html`` (CSS already inlined) contain ``placeholder``, the generic
    unsubscribe URL; a render puts the subscriber's own link in its place, in both
    parts and in ``List-Unsubscribe``. ``list_name`` is the name shown in ``List-Id``
    (default: the display name of ``mail_from``). Bodies keep their text exactly, with
    CRLF line ends; both are quoted-printable, so no line exceeds 76 octets.
    """

    def __init__(self, *, mail_from: str, subject: str, text: str, html: str, placeholder: str,
                 list_id: str, unsubscribe_mailto: str, message_id_domain: str,
                 reply_to: str | None = None, dkim: DkimKey | None = None,
                 list_name: str | None = None):
        _url("placeholder", placeholder)
        self.placeholder = placeholder
        self.html_placeholder = escape(placeholder)
        text = _crlf(_text_body("text", text))
        html = _crlf(_text_body("html", html))
        if placeholder not in text:
            raise ValueError(f"the text part does not contain the placeholder {placeholder}")
        if self.html_placeholder not in html:
            raise ValueError(f"the HTML part does not contain the placeholder {placeholder}")
        self.text = _template(text, placeholder)
        self.html = _template(html, self.html_placeholder)
        self.message_id_domain = _host_name("message_id_domain", message_id_domain)
        self.dkim = dkim
        self.unsubscribe_mailto = checked_address("List-Unsubscribe", unsubscribe_mailto)
        if list_name is None:
            list_name = _display_name(mail_from)
        boundary = "=_" + secrets.token_hex(12)  # "=_" never occurs in quoted-printable
        self.sender = _check_lines(f"From: {_mailbox('From', mail_from)}\r\n")
        self.subject = _check_lines(f"Subject: {_unstructured('Subject', subject)}\r\n")
        reply = f"Reply-To: {_mailbox('Reply-To', reply_to)}\r\n" if reply_to else ""
        self.middle = _check_lines(reply + _list_headers(
            list_id=list_id, list_name=list_name, unsubscribe_url=None, unsubscribe_mailto=None))
        self.tail = (
            f"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n{AUTO_SUBMITTED}"
            f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"'
            f"\r\n\r\n--{boundary}\r\n{PART_HEADERS.format(kind='plain')}")
        self.between = f"\r\n--{boundary}\r\n{PART_HEADERS.format(kind='html')}".encode("ascii")
        self.closing = f"\r\n--{boundary}--\r\n".encode("ascii")

    def new_message_id(self) -> str:
        return new_message_id(self.message_id_domain)

    def render(self, recipient: str, unsubscribe_url: str, message_id: str | None = None,
               date: datetime.datetime | None = None) -> bytes:
        """The message for ``recipient`` with ``unsubscribe_url`` as their link, as bytes."""
        checked_address("To", recipient)
        _url("List-Unsubscribe", unsubscribe_url)
        message_id = self.new_message_id() if message_id is None else _message_id(message_id)
        head = (f"{self.sender}To: {recipient}\r\n{self.subject}Date: {_date(date)}\r\n"
                f"Message-ID: {message_id}\r\n{self.middle}"
                f"List-Unsubscribe: <{unsubscribe_url}>,\r\n"
                f" <mailto:{self.unsubscribe_mailto}?subject=afmelden>\r\n{self.tail}")
        message = b"".join((
            head.encode("ascii"),
            *_filled(self.text, self.placeholder, unsubscribe_url),
            self.between,
            *_filled(self.html, self.html_placeholder, escape(unsubscribe_url)),
            self.closing,
        ))
        return message if self.dkim is None else _signed(message, self.dkim)


def _text_body(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"the {name} part: expected text, got {type(value).__name__}")
    return value


def _display_name(mailbox: str) -> str:
    return _split_mailbox("From", mailbox)[0]


def transactional_message(*, mail_from: str, recipient: str, subject: str, text: str,
                          message_id_domain: str, unsubscribe_url: str | None = None,
                          unsubscribe_mailto: str | None = None, list_id: str | None = None,
                          list_name: str | None = None, reply_to: str | None = None,
                          message_id: str | None = None, date: datetime.datetime | None = None,
                          dkim: DkimKey | None = None) -> bytes:
    """A single text/plain message (quoted-printable UTF-8), such as a confirmation mail.

    The list headers are added for those of ``unsubscribe_url``, ``unsubscribe_mailto``
    and ``list_id`` that are given (List-Unsubscribe-Post with an https/http URL only).
    """
    _host_name("message_id_domain", message_id_domain)
    if list_id is not None and list_name is None:
        list_name = _display_name(mail_from)
    message_id = new_message_id(message_id_domain) if message_id is None else \
        _message_id(message_id)
    headers = "".join((
        f"From: {_mailbox('From', mail_from)}\r\n",
        f"To: {checked_address('To', recipient)}\r\n",
        f"Subject: {_unstructured('Subject', subject)}\r\n",
        f"Date: {_date(date)}\r\n",
        f"Message-ID: {message_id}\r\n",
        f"Reply-To: {_mailbox('Reply-To', reply_to)}\r\n" if reply_to else "",
        _list_headers(list_id=list_id, list_name=list_name, unsubscribe_url=unsubscribe_url,
                      unsubscribe_mailto=unsubscribe_mailto),
        AUTO_SUBMITTED,
        "MIME-Version: 1.0\r\n",
        PART_HEADERS.format(kind="plain"),
    ))
    message = (_check_lines(headers).encode("utf-8")
               + _quoted_printable(_crlf(_text_body("text", text))))
    return message if dkim is None else _signed(message, dkim)


# -- sending --------------------------------------------------------------------------


class _Retry(Exception):
    """A failure worth another try; ``dropped`` when the connection went with it."""

    def __init__(self, reason: str, code: int | None = None, dropped: bool = False):
        super().__init__(reason)
        self.code = code
        self.dropped = dropped


def _reply_text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def wire_form(message: bytes) -> bytes:
    """``message`` ready for DATA: CRLF line ends, ending in CRLF, dot-stuffed.

    The final ``.`` line is not part of it (``SmtpSession.send`` sends that last).
    """
    lines = message.count(b"\r\n")
    if message.count(b"\n") != lines or message.count(b"\r") != lines:
        message = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    message = message.replace(b"\r\n.", b"\r\n..")
    return b"." + message if message.startswith(b".") else message


class SmtpSession:
    """One SMTP connection, opened on the first ``send`` and reused until ``close``.

    A 4xx reply or a lost connection before the message is complete is retried
    ``settings.retries`` times, waiting ``settings.backoff`` seconds, doubled each time
    up to a minute (``sleep`` is injectable for tests). A connection found dead when
    it is reused is reopened at once, without counting as a retry.
    """

    def __init__(self, settings: SmtpSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSession":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT and close; a connection that is already gone is just dropped."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.quit()
            except OSError:  # smtplib's errors are OSErrors too
                connection.close()

    def abandon(self) -> None:
        """Close without QUIT: a server discards a transaction left unfinished."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def send(self, envelope_from: str, recipient: str, message: bytes,
             before_commit: Callable[[], None] | None = None) -> None:
        """Deliver ``message`` to ``recipient`` or raise a ``MailError`` that says how it failed.

        ``before_commit`` runs when the whole message but the final ``.`` is with the
        server: once it returns, the message may be delivered. If it raises, the
        connection is dropped without the ``.`` (so the server discards the message)
        and its exception propagates. It runs again if the server answers the ``.``
        with a 4xx and the message is retried, so it must be idempotent.
        """
        checked_address("envelope sender", envelope_from)
        checked_address("recipient", recipient)
        data = wire_form(message)
        delay = self.settings.backoff
        failures = 0
        while True:
            reused = self.connection is not None
            try:
                connection = self.connection or self.open()
                self.transfer(connection, envelope_from, recipient, data)
                if before_commit is not None:
                    try:
                        before_commit()
                    except BaseException:
                        self.abandon()
                        raise
                self.commit(connection, recipient)
                return
            except _Retry as problem:
                self.reset(problem.dropped)
                if reused and problem.dropped and failures == 0:
                    continue  # a server may close an idle connection; open a new one now
                if failures >= self.settings.retries:
                    raise TemporaryFailure(f"{problem}; gave up after {failures + 1} "
                                           f"attempts", problem.code) from None
                self.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                failures += 1
            except PermanentFailure:
                self.reset(False)
                raise

    def open(self) -> smtplib.SMTP:
        settings = self.settings
        where = settings.address
        connection = None
        try:
            if settings.security == "ssl":
                connection = smtplib.SMTP_SSL(settings.host, settings.port,
                                              timeout=settings.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            # Each message ends with a small write (the final "."): without this, Nagle's
            # algorithm can hold it back until the server's delayed ACK, for every message.
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, settings.password)
        except smtplib.SMTPResponseException as error:
            _close_quietly(connection)
            message = (f"SMTP server {where} answered {error.smtp_code} while opening the "
                       f"session: {_reply_text(error.smtp_error)}")
            if 400 <= error.smtp_code < 500:
                raise _Retry(message, error.smtp_code, dropped=True) from None
            raise SmtpSetupError(message, error.smtp_code) from None
        except smtplib.SMTPServerDisconnected as error:
            _close_quietly(connection)
            raise _Retry(f"SMTP server {where} closed the connection while opening the "
                         f"session: {error}", dropped=True) from None
        except (smtplib.SMTPException, ssl.SSLCertVerificationError) as error:
            # No STARTTLS or AUTH on offer, or a certificate that does not verify.
            _close_quietly(connection)
            raise SmtpSetupError(f"SMTP server {where}: {error}") from None
        except OSError as error:
            _close_quietly(connection)
            raise _Retry(f"SMTP server {where} cannot be reached: {error}",
                         dropped=True) from None
        self.connection = connection
        return connection

    def transfer(self, connection: smtplib.SMTP, envelope_from: str, recipient: str,
                 data: bytes) -> None:
        """MAIL, RCPT, DATA and the message, all but the final ``.``."""
        try:
            if connection.has_extn("pipelining"):
                replies = self.pipelined_envelope(connection, envelope_from, recipient)
            else:
                replies = [connection.mail(envelope_from), connection.rcpt(recipient)]
                replies.append(connection.docmd("data"))
            (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = replies
            if data_code == 354 and not (200 <= mail_code < 300 and 200 <= rcpt_code < 300):
                # Only a server that broke RFC 2920 opens DATA after refusing the envelope.
                connection.send(b".\r\n")
                connection.getreply()
            self.expect("MAIL FROM", mail_code, mail_reply)
            self.expect(f"RCPT TO <{recipient}>", rcpt_code, rcpt_reply)
            if data_code != 354:
                self.expect("DATA", data_code, data_reply, unexpected=True)
            connection.send(data)
        except OSError as error:  # including SMTPServerDisconnected
            raise _Retry(f"SMTP server {self.settings.address} dropped the connection while "
                         f"the message to {recipient} was sent: {error}", dropped=True) from None

    @staticmethod
    def pipelined_envelope(connection: smtplib.SMTP, envelope_from: str,
                           recipient: str) -> list[tuple[int, bytes]]:
        """MAIL, RCPT and DATA in one write, then their three replies (RFC 2920).

        Four round trips per message become two; on a fast link the waiting, not the
        work, is what limits a newsletter run.
        """
        connection.send(f"MAIL FROM:{smtplib.quoteaddr(envelope_from)}\r\n"
                        f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\nDATA\r\n".encode("ascii"))
        return [connection.getreply() for _ in range(3)]

    def commit(self, connection: smtplib.SMTP, recipient: str) -> None:
        """Send the final ``.`` and read the server's verdict on the message."""
        where = self.settings.address
        try:
            connection.send(b".\r\n")
        except OSError as error:  # the "." did not leave: the server cannot have the message
            raise _Retry(f"SMTP server {where} dropped the connection before the end of the "
                         f"message to {recipient}: {error}", dropped=True) from None
        try:
            code, reply = connection.getreply()
        except OSError as error:
            self.abandon()
            raise UncertainDelivery(f"SMTP server {where}: the connection was lost after the "
                                    f"message to {recipient} was sent, so it may or may not "
                                    f"have been delivered ({error})") from None
        self.expect(f"end of the message to {recipient}", code, reply)

    def expect(self, step: str, code: int, reply: bytes, unexpected: bool = False) -> None:
        """Raise for a reply that is not a 2xx (or for any reply, if ``unexpected``)."""
        if 200 <= code < 300 and not unexpected:
            return
        message = (f"SMTP server {self.settings.address} answered {code} to {step}: "
                   f"{_reply_text(reply)}")
        if 500 <= code < 600:
            raise PermanentFailure(message, code)
        # 4xx, and anything this client does not understand (smtplib's -1 for a garbled
        # reply, a 2xx to DATA), is worth another try on a clean transaction.
        raise _Retry(message, code, dropped=code == 421)

    def reset(self, dropped: bool) -> None:
        """Leave a clean state for the next transaction: RSET, or a new connection."""
        if dropped or self.connection is None:
            self.abandon()
            return
        try:
            code, _ = self.connection.rset()
        except OSError:
            code = 0
        if code != 250:
            self.abandon()


def _close_quietly(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()
