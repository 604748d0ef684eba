"""Files with a header of ``Key: value`` lines, a blank line, then a body.

Comment files, author and series files and imported articles all use this shape.
``format_header`` writes it and ``split_header`` reads it back, so what one writes
the other reads the same way.
"""

from dataclasses import dataclass, field


@dataclass
class Header:
    """The parsed header: ``fields`` by lower-case key, with their line numbers."""

    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    # (line number, text) of every header line that is not ``Key: value``.
    malformed: list[tuple[int, str]] = field(default_factory=list)
    # (line number, key) of every key given a second time; the first value is kept.
    repeated: list[tuple[int, str]] = field(default_factory=list)


def split_header(text: str) -> tuple[Header, str]:
    """The header and the body of ``text``; the header ends at the first blank line."""
    # Windows (CR LF) and old Mac (CR) line endings read as the Unix ones.
    head, _, body = text.replace("\r\n", "\n").replace("\r", "\n").partition("\n\n")
    header = Header()
    for number, line in enumerate(head.split("\n"), start=1):
        key, separator, value = line.partition(":")
        key = key.strip().lower()
        if not separator or not key or " " in key:
            header.malformed.append((number, line))
        elif key in header.fields:
            header.repeated.append((number, key))
        else:
            header.fields[key] = value.strip()
            header.lines[key] = number
    return header, body


def format_header(fields: dict[str, object], body: str) -> str:
    """``Key: value`` lines, a blank line and the body; empty values are left out.

    Each value is put on one line, so that no value can add a field of its own.
    """
    head = "".join(f"{key}: {' '.join(str(value).split())}\n"
                   for key, value in fields.items() if value and str(value).strip())
    return f"{head}\n{body}"
