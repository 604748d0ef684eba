"""A generated WordPress export with many comments, to measure the importer.

Deterministic for a given seed. The comments mix everything a real export has:
threads (replies point to earlier *and* later comments), pending, spam, trash,
pingbacks, zero GMT dates, email and IP addresses. The file is written as it is
generated, so making a 200 MB export takes no more memory than a small one.

    python -m bench.wxr_export --comments 50000 --out /tmp/export.xml
    python -m bench.wxr_export --comments 50 --body-mb 200 --out /tmp/big.xml
    /usr/bin/time -v .venv/bin/invoke import-wordpress /tmp/export.xml --content /tmp/c
"""

import argparse
import random
from pathlib import Path
from xml.sax.saxutils import escape

from bench.corpus import _paragraph, _sentence

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Gegenereerd adviesblog</title>
<link>https://gegenereerd.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://gegenereerd.example</wp:base_site_url>
<wp:author><wp:author_login>auteur</wp:author_login><wp:author_email>auteur@gegenereerd.example</wp:author_email><wp:author_display_name>Eva de Boer</wp:author_display_name></wp:author>
"""
STATUSES = ["1"] * 85 + ["0"] * 7 + ["spam"] * 5 + ["trash"] * 3


def comment_xml(rng: random.Random, comment_id: int, first_id: int, post_date: str,
                body_paragraphs: int) -> str:
    parent = rng.randint(first_id, first_id + 40) if rng.random() < 0.35 else 0
    kind = "pingback" if rng.random() < 0.03 else ""
    gmt = "0000-00-00 00:00:00" if rng.random() < 0.01 else f"{post_date[:10]} {rng.randint(10, 23)}:00:00"
    text = "\n".join(_paragraph(rng) for _ in range(body_paragraphs))
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_author><![CDATA[{_sentence(rng)[:30]}]]></wp:comment_author>"
        f"<wp:comment_author_email>lezer{comment_id}@voorbeeld.example</wp:comment_author_email>"
        f"<wp:comment_author_url>https://lezer{comment_id}.example/</wp:comment_author_url>"
        f"<wp:comment_author_IP>192.0.2.{comment_id % 250}</wp:comment_author_IP>"
        f"<wp:comment_date>{post_date}</wp:comment_date>"
        f"<wp:comment_date_gmt>{gmt}</wp:comment_date_gmt>"
        f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
        f"<wp:comment_approved>{rng.choice(STATUSES)}</wp:comment_approved>"
        f"<wp:comment_type>{kind}</wp:comment_type>"
        f"<wp:comment_parent>{parent if parent != comment_id else 0}</wp:comment_parent>"
        "</wp:comment>\n"
    )


def write_large_body(out, rng: random.Random, characters: int) -> None:
    """A body of about ``characters`` characters, written in pieces as it is made."""
    written = 0
    while written < characters:
        paragraph = f"<p>{_paragraph(rng)}</p>\n"
        out.write(paragraph)
        written += len(paragraph)


def generate(path: Path, comments: int, comments_per_post: int = 50, seed: int = 7,
             body_paragraphs: int = 1, large_body: int = 0) -> Path:
    """``large_body``: characters in the first post's body (a pasted-in dump), if any."""
    rng = random.Random(seed)
    posts = max(1, comments // comments_per_post)
    comment_id = 1
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for post in range(1, posts + 1):
            date = f"20{10 + post % 14:02d}-{1 + post % 12:02d}-{1 + post % 28:02d} 09:00:00"
            title = escape(_sentence(rng)[:60])
            out.write(
                f"<item><title>{title}</title>"
                f"<link>https://gegenereerd.example/?p={post}</link>"
                f"<dc:creator>auteur</dc:creator>"
                f"<guid isPermaLink=\"false\">https://gegenereerd.example/?p={post}</guid>"
                f"<content:encoded><![CDATA[<p>{_paragraph(rng)}</p><p>{_paragraph(rng)}</p>"
            )
            if post == 1 and large_body:
                write_large_body(out, rng, large_body)
            out.write(
                "]]></content:encoded>"
                f"<wp:post_id>{post}</wp:post_id><wp:post_date>{date}</wp:post_date>"
                f"<wp:post_date_gmt>{date}</wp:post_date_gmt><wp:post_name>bericht-{post}</wp:post_name>"
                "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\n"
            )
            first_id = comment_id
            for _ in range(comments_per_post if post < posts else comments - comment_id + 1):
                out.write(comment_xml(rng, comment_id, first_id, date, body_paragraphs))
                comment_id += 1
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--per-post", type=int, default=50)
    parser.add_argument("--paragraphs", type=int, default=1, help="paragraphs per comment")
    parser.add_argument("--body-mb", type=float, default=0,
                        help="give the first post a body of this many million characters")
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    generate(arguments.out, arguments.comments, arguments.per_post,
             body_paragraphs=arguments.paragraphs, large_body=int(arguments.body_mb * 1e6))
    print(f"{arguments.out}: {arguments.out.stat().st_size / 1e6:.1f} MB, {arguments.comments} comments")


if __name__ == "__main__":
    main()
