"""An SMTP server that keeps what it gets: for tests, the newsletter bench and ``make serve``.

Run it with ``plugins/`` on the path::

    PYTHONPATH=plugins python -m service.smtp_sink --port 0 --maildir DIR --log FILE

It prints ``listening on HOST:PORT`` once it takes connections (with the real port
when asked for port 0). Every accepted message is written whole as one ``.eml``
file in the maildir (names sort by arrival), and one ``recipient<TAB>message-id``
line per recipient is appended to the log and flushed, both before the 250 reply.
Options make it misbehave on purpose, to test a sender: a 451 for the first N
messages, a 550 for given recipients, and a connection dropped without a reply
after the data of message K.

Tests start one in-process with ``start_sink`` (an aiosmtpd ``Controller``).
"""

import argparse
import asyncio
import datetime
import os
import re
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from adviesblog_common.files import write_atomically

SERVER_NAME = "smtp-sink"
MAX_LINE_OCTETS = 998  # RFC 5321 4.5.3.1.6, without the CRLF
FAIL_STAGES = ("rcpt", "data")
# The plain <local@domain> of MAIL FROM and RCPT TO, with the parameters after it.
_ANGLE_ADDRESS = re.compile(r"<([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9.-]+)>(.*)\Z", re.S)
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)


def message_id_of(content: bytes) -> str:
    """The Message-ID header of a raw message, or ``-`` when it has none."""
    end = content.find(b"\r\n\r\n")
    head = content[:end if end >= 0 else len(content)]
    head = re.sub(rb"\r?\n[ \t]+", b" ", head)  # unfold
    match = _MESSAGE_ID.search(head.replace(b"\r\n", b"\n"))
    if not match:
        return "-"
    return " ".join(match.group(1).decode("ascii", "replace").split()) or "-"


class SinkHandler:
    """aiosmtpd handler: stores accepted messages, or misbehaves as it was told to.

    ``fail_first``: answer 451 to the first N recipients at RCPT TO (``fail_stage="rcpt"``,
    as greylisting does) or to the first N messages after their data (``"data"``).
    ``refuse``: answer 550 to these recipients. ``drop_after``: close the connection
    without a reply once the data of the K-th message (counting every data transfer,
    1-based) has arrived; ``keep_dropped`` stores that message first, as a server does
    that queued it and then crashed.
    The counters ``accepted`` and ``sessions`` (EHLO/HELO seen) are for tests.
    """

    def __init__(self, *, maildir: Path | None = None, log: Path | None = None,
                 fail_first: int = 0, fail_stage: str = "rcpt", refuse: Iterable[str] = (),
                 drop_after: int | None = None, keep_dropped: bool = False):
        if fail_stage not in FAIL_STAGES:
            raise ValueError(f"fail_stage is {fail_stage!r}; expected rcpt or data")
        self.maildir = Path(maildir) if maildir is not None else None
        if self.maildir is not None:
            self.maildir.mkdir(parents=True, exist_ok=True)
        self.log = open(log, "a", encoding="utf-8") if log is not None else None
        self.fail_first = fail_first
        self.fail_stage = fail_stage
        self.refuse = {address.lower() for address in refuse}
        self.drop_after = drop_after
        self.keep_dropped = keep_dropped
        self.accepted = 0
        self.sessions = 0
        self.recipients_seen = 0
        self.transfers = 0

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        # aiosmtpd reads commands from a buffer, so pipelined commands (RFC 2920) work;
        # saying so lets a sender save two round trips per message, as with Postfix.
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_HELO(self, server, session, envelope, hostname):
        self.sessions += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        self.recipients_seen += 1
        if self.fail_stage == "rcpt" and self.recipients_seen <= self.fail_first:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.transfers += 1
        if self.transfers == self.drop_after:
            if self.keep_dropped:
                self.store(envelope.original_content, envelope.rcpt_tos)
            # aiosmtpd writes the reply returned below to a closed transport: it is lost.
            server.transport.abort()
            return "421 4.3.0 gone"
        if self.fail_stage == "data" and self.transfers <= self.fail_first:
            return "451 4.3.0 try again later"
        self.store(envelope.original_content, envelope.rcpt_tos)
        return "250 2.0.0 OK: queued"

    def store(self, content: bytes, recipients: list[str]) -> None:
        self.accepted += 1
        if self.maildir is not None:
            now = datetime.datetime.now(datetime.UTC)
            name = f"{now:%Y%m%d-%H%M%S-%f}-{self.accepted:06d}-{os.getpid()}.eml"
            write_atomically(self.maildir / name, content)
        if self.log is not None:
            message_id = message_id_of(content)
            self.log.write("".join(f"{recipient}\t{message_id}\n" for recipient in recipients))
            self.log.flush()


class SinkSMTP(SMTP):
    """aiosmtpd's server with two fast paths, so a bench measures the sender, not the sink.

    aiosmtpd awaits every line of a message's data separately, and parses each plain
    ``<address>`` of MAIL and RCPT with the email package's header parser; together
    they cost more than the rest of a transaction. Here the data is read in blocks
    (a line over 998 octets is refused, as RFC 5321 says), and a plain address is
    taken by a regular expression, anything else by aiosmtpd.
    """

    def _getaddr(self, arg: str):
        match = _ANGLE_ADDRESS.match(arg.lstrip())
        if match:
            return match.group(1), match.group(2)
        return super()._getaddr(arg)

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = bytearray()
        while True:
            try:
                block = await self._reader.read(65536)
            except asyncio.CancelledError:  # the connection was lost
                self._writer.close()
                raise
            if not block:
                self._writer.close()
                return
            searched = max(0, len(data) - 4)
            data += block
            if data.startswith(b".\r\n"):
                end = 0
                break
            end = data.find(b"\r\n.\r\n", searched)
            if end >= 0:
                end += 2
                break
        rest = data[end + 3:]
        if rest:  # a client that did not wait for the reply; aiosmtpd reads it next
            self._reader._buffer[:0] = rest
        content = bytes(data[:end]).replace(b"\r\n..", b"\r\n.")
        if content.startswith(b".."):
            content = content[1:]
        if max(map(len, content.split(b"\r\n"))) > MAX_LINE_OCTETS:
            self._set_post_data_state()
            await self.push("500 Line too long (see RFC5321 4.5.3.1.6)")
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        if self.transport is not None and not self.transport.is_closing():  # not dropped
            await self.push(status)


class SinkController(Controller):
    """An aiosmtpd ``Controller`` that can listen on port 0; ``port`` is the real one."""

    def _create_server(self):
        return self._bind()

    async def _bind(self):
        server = await super()._create_server()
        self.port = server.sockets[0].getsockname()[1]
        return server

    def factory(self):
        return SinkSMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False):
        super().stop(no_assert)
        self.handler.close()


# The server name is given so that aiosmtpd does not look up the host's FQDN.
SMTP_OPTIONS = {"decode_data": False, "enable_SMTPUTF8": False}


def start_sink(host: str = "127.0.0.1", port: int = 0, **options) -> SinkController:
    """A running sink in a thread of this process; ``options`` go to ``SinkHandler``.

    Stop it with ``.stop()``; ``.port`` is the port it listens on, ``.handler`` the handler.
    """
    controller = SinkController(SinkHandler(**options), hostname=host, port=port,
                                server_hostname=SERVER_NAME, **SMTP_OPTIONS)
    controller.start()
    return controller


async def serve(handler: SinkHandler, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, after printing ``listening on HOST:PORT``."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SinkSMTP(handler, hostname=SERVER_NAME, **SMTP_OPTIONS), host, port)
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await stop.wait()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m service.smtp_sink", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525, help="0 picks a free port")
    parser.add_argument("--maildir", type=Path, help="write each message as an .eml file here")
    parser.add_argument("--log", type=Path, help="append 'recipient<TAB>message-id' lines here")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N",
                        help="answer 451 to the first N messages")
    parser.add_argument("--fail-stage", choices=FAIL_STAGES, default="rcpt",
                        help="where --fail-first answers 451: at RCPT TO or after the data")
    parser.add_argument("--refuse", action="append", default=[], metavar="ADDRESS",
                        help="answer 550 to this recipient (repeatable)")
    parser.add_argument("--drop-after", type=int, metavar="K",
                        help="drop the connection, without a reply, after the data of message K")
    parser.add_argument("--keep-dropped", action="store_true",
                        help="store the message of --drop-after before dropping")
    arguments = parser.parse_args(argv)
    if arguments.maildir is None and arguments.log is None:
        parser.error("give --maildir, --log or both: a sink that keeps nothing proves nothing")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    handler = SinkHandler(maildir=arguments.maildir, log=arguments.log,
                          fail_first=arguments.fail_first, fail_stage=arguments.fail_stage,
                          refuse=arguments.refuse, drop_after=arguments.drop_after,
                          keep_dropped=arguments.keep_dropped)
    try:
        asyncio.run(serve(handler, arguments.host, arguments.port))
    except OSError as error:
        print(f"smtp_sink: cannot listen on {arguments.host}:{arguments.port}: {error}",
              file=sys.stderr)
        return 1
    finally:
        handler.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
