"""The development mail catcher: the mail the SMTP sink caught, readable in a browser.

``make serve`` mounts ``make_mailcatcher(maildir)`` at ``/_mail/``: a list of the
caught ``.eml`` files, newest first, and a page per message with the headers that
matter, the text part with its links clickable and the HTML part in a sandboxed
frame. A caught message is hostile input: everything in it is escaped before it is
shown, its HTML runs without scripts in a frame of its own origin, and a message
name in the URL is matched against a strict pattern, so it cannot leave the folder.
"""

import datetime
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html import escape
from pathlib import Path

from werkzeug.wrappers import Request, Response

LISTED_AT_MOST = 500
# The catcher's own pages need no script, and the HTML part of a message, which
# inherits this policy in its srcdoc frame, may show images but run nothing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src http: https: data:; "
                               "style-src 'unsafe-inline'; form-action 'none'; "
                               "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id",
                 "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\Z")
_LINK = re.compile(r"https?://[^\s<>\"'`]+")
_HEAD_TAG = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
# A link in the HTML part opens in a tab of its own, outside the sandbox, so that
# following a confirmation or unsubscribe link works as it does in a mail program.
FRAME_BASE = '<base target="_blank">'
STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ccc; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 1rem; }
iframe { width: 100%; height: 70vh; border: 1px solid #ccc; }
"""


def make_mailcatcher(maildir: Path, prefix: str = "/_mail/"):
    """The WSGI app showing the ``.eml`` files in ``maildir`` under the URL ``prefix``."""
    return MailCatcher(Path(maildir), "/" + prefix.strip("/") + "/")


class MailCatcher:
    """Routes on the full path (script root and path), so it works mounted or not."""

    def __init__(self, maildir: Path, prefix: str):
        self.maildir = maildir
        self.prefix = prefix

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.respond(request)
        response.headers.update(SECURITY_HEADERS)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("Alleen GET.\n", status=405, headers={"Allow": "GET, HEAD"},
                            mimetype="text/plain")
        path = request.script_root + request.path
        if path == self.prefix:
            return page("Gevangen mail", self.listing())
        rest = path[len(self.prefix):] if path.startswith(self.prefix) else ""
        if rest.endswith("/") and self.message_path(rest[:-1]):
            return self.show(rest[:-1])
        if rest.endswith(".eml") and self.message_path(rest[:-4]):
            return Response(self.message_path(rest[:-4]).read_bytes(),
                            content_type="text/plain; charset=utf-8")
        return page("Niet gevonden", f'<p>Dit bericht is er niet. '
                    f'<a href="{escape(self.prefix)}">Naar de lijst</a>.</p>', status=404)

    def message_path(self, name: str) -> Path | None:
        """The file of message ``name``; ``None`` unless it is a plain name in the folder."""
        if not _NAME.match(name):
            return None
        path = self.maildir / f"{name}.eml"
        if path.parent.resolve() != self.maildir.resolve() or not path.is_file():
            return None
        return path

    def caught(self) -> list[Path]:
        """The caught messages, newest first."""
        if not self.maildir.is_dir():
            return []
        files = []
        for path in self.maildir.glob("*.eml"):
            try:
                if _NAME.match(path.stem):
                    files.append((path.stat().st_mtime_ns, path.name, path))
            except FileNotFoundError:  # deleted while the folder was read
                continue
        files.sort(reverse=True)
        return [path for _, _, path in files[:LISTED_AT_MOST]]

    def listing(self) -> str:
        files = self.caught()
        if not files:
            return (f"<p>Nog geen mail gevangen. Mail die de dienst verstuurt, staat hier "
                    f"(map <code>{escape(str(self.maildir))}</code>).</p>")
        rows = []
        for path in files:
            message = read_message(path, headers_only=True)
            rows.append(
                f'<tr><td>{escape(date_text(message))}</td>'
                f'<td>{escape(header(message, "To"))}</td>'
                f'<td><a href="{escape(self.prefix + path.stem)}/">'
                f'{escape(header(message, "Subject") or "(geen onderwerp)")}</a></td></tr>')
        return ('<table><caption>Nieuwste eerst</caption><thead><tr><th scope="col">Datum</th>'
                '<th scope="col">Aan</th><th scope="col">Onderwerp</th></tr></thead><tbody>'
                + "".join(rows) + "</tbody></table>")

    def show(self, name: str) -> Response:
        message = read_message(self.message_path(name))
        fields = "".join(f"<dt>{escape(field)}</dt><dd>{escape(header(message, field))}</dd>"
                         for field in SHOWN_HEADERS if field in message)
        signed = "ja" if "DKIM-Signature" in message else "nee"
        parts = [f"<dl>{fields}<dt>DKIM-handtekening</dt><dd>{signed}</dd></dl>"]
        text = body_text(message, "plain")
        if text is not None:
            parts.append(f"<h2>Tekst</h2><pre>{linkified(text)}</pre>")
        html_part = body_text(message, "html")
        if html_part is not None:
            parts.append('<h2>HTML</h2><iframe sandbox="allow-popups '
                         'allow-popups-to-escape-sandbox" title="HTML-deel van het bericht" '
                         f'srcdoc="{escape(framed(html_part))}"></iframe>')
        parts.append(f'<p><a href="{escape(self.prefix + name)}.eml">Bron</a> · '
                     f'<a href="{escape(self.prefix)}">Terug naar de lijst</a></p>')
        return page(header(message, "Subject") or "(geen onderwerp)", "".join(parts))


def read_message(path: Path, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)


def header(message: EmailMessage, name: str) -> str:
    """A header decoded to text; a malformed one as it stands, never an exception."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError, LookupError):  # the parser could not read it
        value = next((raw for key, raw in message.raw_items() if key.lower() == name.lower()),
                     None)
    return " ".join(str(value).split()) if value is not None else ""


def date_text(message: EmailMessage) -> str:
    try:
        date = parsedate_to_datetime(header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return header(message, "Date")
    if date.tzinfo is None:
        return f"{date:%Y-%m-%d %H:%M:%S}"
    return f"{date.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC"


def body_text(message: EmailMessage, kind: str) -> str | None:
    """The decoded text/``kind`` part, or ``None`` when the message has none."""
    try:
        part = message.get_body(preferencelist=(kind,))
    except (KeyError, TypeError, ValueError):
        return None
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, ValueError, KeyError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def linkified(text: str) -> str:
    """``text`` escaped, with its http(s) URLs as links.

    The text is split into URLs and what lies between before anything is shown, and
    every piece is escaped on its own: a URL is only ever the escaped text of an
    ``href``, so no markup in the message can survive.
    """
    pieces = []
    position = 0
    for match in _LINK.finditer(text):
        url = match.group().rstrip(".,;:!?)")
        end = match.start() + len(url)
        pieces.append(escape(text[position:match.start()]))
        pieces.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)


def framed(markup: str) -> str:
    """The HTML part with a ``<base>`` that opens its links in a new tab."""
    head = _HEAD_TAG.search(markup)
    if head is None:
        return FRAME_BASE + markup
    return markup[:head.end()] + FRAME_BASE + markup[head.end():]


def page(title: str, content: str, status: int = 200) -> Response:
    markup = (f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
              f'<meta name="viewport" content="width=device-width, initial-scale=1">'
              f'<meta name="robots" content="noindex">'
              f"<title>{escape(title)} · mailcatcher</title><style>{STYLE}</style></head>"
              f"<body><main><h1>{escape(title)}</h1>{content}</main></body></html>\n")
    return Response(markup, status=status, content_type="text/html; charset=utf-8")
