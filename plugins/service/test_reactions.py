"""Reactions through the site over real HTTP, with a real SMTP server, on SQLite and PostgreSQL.

The service serves the sample site's build (its reaction pages and ``reacties.json``);
approval writes into a private copy of the sample content, which is then built again
to see the comment on the article page.
"""

import dataclasses
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import urllib.parse

import pytest
from bs4 import BeautifulSoup

from service.admin import export
from service.conftest import Service
from service.moderation import approve, decline
from service.reactions import NAME_AS_LINK, reaction_html
from service.store import APPROVED, AWAITING, QUEUED, REJECTED, SPAM, utcnow
from tests.support import ROOT, build_site, copy_content

NAME = "Ineke de Vries"
TEXT = "Herkenbaar verhaal.\n\nBij ons begon het ook met één vergadering per week."
ADDRESS = "ineke@voorbeeld.nl"


@pytest.fixture
def reactions(make_service, tmp_path):
    """The service on the sample site, timing checks off, approving into a content copy."""
    content = copy_content(tmp_path / "content")
    return make_service(min_form_seconds=0, content_path=content)


def manifest(service: Service) -> dict:
    return json.loads((service.config.reaction_pages_path / "reacties.json").read_text())


def open_article(service: Service) -> tuple[str, str]:
    """(slug, id of a shown comment) of a sample article that takes reactions."""
    for slug, article in sorted(manifest(service)["articles"].items()):
        if article["comments"] == "open" and article["known"]:
            return slug, sorted(article["known"])[0]
    raise AssertionError("the sample site has no open article with comments")


def fields(service: Service, **changes) -> dict:
    """What the form under an article posts (no form time)."""
    slug, _ = open_article(service)
    values = {"artikel": slug, "ouder": "", "naam": NAME, "site": "", "reactie": TEXT,
              "email": "", "toestemming": manifest(service)["consent"]["version"], "website": ""}
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def form_of(page: str) -> dict:
    """The fields the service's form page would post, as a browser sends them."""
    form = BeautifulSoup(page, "html.parser").find("form", method="post")
    values = {}
    for field in form.find_all(["input", "textarea"]):
        name = field.get("name")
        if not name:
            continue
        if field.name == "textarea":
            values[name] = field.get_text()
        elif field.get("type") == "checkbox":
            if field.has_attr("checked"):
                values[name] = field.get("value", "on")
        else:
            values[name] = field.get("value", "")
    return values


def send(service: Service, **changes):
    """Post the article's form, then the service's form page: both steps of a reader."""
    preview = service.post(endpoint(service), fields(service, **changes))
    assert preview.status == 200, preview.body
    return service.post(endpoint(service), form_of(preview.body))


def endpoint(service: Service, path: str = "") -> str:
    return service.config.reactions_endpoint + path


def message_text(service: Service, key: str, **values) -> str:
    text = manifest(service)["messages"][key]
    for name, value in values.items():
        text = text.replace(f"{{{name}}}", str(value))
    return text


def page_text(body: str) -> str:
    return " ".join(BeautifulSoup(body, "html.parser").get_text().split())


def slug_url(service: Service) -> str:
    slug, _ = open_article(service)
    return manifest(service)["articles"][slug]["url"].lstrip("/")


def only_reaction(service: Service):
    [reaction] = service.store.reactions()
    return reaction


def link_in(mail, kind: str, service: Service) -> str:
    text = mail.get_body(("plain",)).get_content()
    links = re.findall(rf"http://127\.0\.0\.1:\d+{endpoint(service)}{kind}/[A-Za-z0-9_/-]+/",
                       text)
    assert len(links) == 1, text
    return urllib.parse.urlsplit(links[0]).path


def approved_with_notifications(service: Service):
    """A reaction whose writer asked for reply notifications and confirmed, approved."""
    send(service, melding="ja", email=ADDRESS)
    reaction = only_reaction(service)
    confirmation = [m for m in service.mails(2) if m["To"] == ADDRESS][0]
    assert service.post(link_in(confirmation, "melding", service), {}).status == 200
    approve_now(service, reaction.id)
    return reaction


def approve_now(service: Service, reaction_id: str) -> str:
    out = io.StringIO()
    assert approve(service.config, service.store, out,
                   service.store.reaction(reaction_id)) == 0, out.getvalue()
    return out.getvalue()


# --- the two steps of the form -----------------------------------------------------------

def test_the_static_form_gets_a_preview_and_nothing_is_stored(reactions):
    answer = reactions.post(endpoint(reactions), fields(
        reactions, reactie="Lees https://voorbeeld.nl/artikel eens.\nTweede regel."))
    assert answer.status == 200
    soup = BeautifulSoup(answer.body, "html.parser")
    preview = soup.select_one(".reaction-preview .comment__body")
    link = preview.find("a")
    assert link["href"] == "https://voorbeeld.nl/artikel"
    assert link["rel"] == ["nofollow", "ugc", "noopener"]
    assert preview.find("br") is not None
    assert message_text(reactions, "controleer") in page_text(answer.body)
    assert soup.select_one(".reaction-preview h2").get_text() == "Zo ziet je reactie eruit"
    posted = form_of(answer.body)
    assert posted["reactie"].startswith("Lees https://voorbeeld.nl/artikel eens.")
    assert posted["naam"] == NAME and posted["t"].count(".") == 2
    assert reactions.store.reactions() == [] and reactions.store.stats()["outbox"] == 0


def test_the_second_step_stores_a_pending_reaction_and_mails_the_moderator(reactions):
    answer = send(reactions)
    assert answer.status == 200
    assert "Bedankt! Je reactie verschijnt na moderatie." in page_text(answer.body)
    reaction = only_reaction(reactions)
    assert (reaction.status, reaction.author, reaction.text) == (AWAITING, NAME, TEXT)
    assert reaction.html == ("<p>Herkenbaar verhaal.</p>\n"
                             "<p>Bij ons begon het ook met één vergadering per week.</p>")
    [mail] = reactions.mails(1)
    assert mail["To"] == reactions.config.moderator
    body = mail.get_body(("plain",)).get_content()
    slug, _ = open_article(reactions)
    assert manifest(reactions)["articles"][slug]["title"] in mail["Subject"] + body
    assert "één vergadering per week" in body
    for action in ("show", "approve", "reject", "spam"):
        assert f".venv/bin/invoke reactions {action} -r {reaction.id}" in body
    # The article's address is absolute: a mail client has no page to resolve it against.
    assert f"{reactions.config.site_url}/{slug_url(reactions)}" in body


def test_a_reply_link_opens_the_form_with_the_comment_it_answers(reactions):
    slug, comment_id = open_article(reactions)
    answer = reactions.get(endpoint(reactions, f"antwoord/{slug}/{comment_id}/"))
    assert answer.status == 200
    soup = BeautifulSoup(answer.body, "html.parser")
    known = manifest(reactions)["articles"][slug]["known"][comment_id]
    quote = soup.select_one("blockquote.reaction-quote")
    assert known["author"] in quote.get_text() and known["date_text"] in quote.get_text()
    assert form_of(answer.body)["ouder"] == comment_id
    # The form page carries its own time: its post is stored at once.
    posted = form_of(answer.body) | {"naam": NAME, "reactie": "Eens!",
                                     "toestemming": manifest(reactions)["consent"]["version"]}
    assert reactions.post(endpoint(reactions), posted).status == 200
    assert only_reaction(reactions).parent == comment_id


# --- bad input and abuse: a clear Dutch answer, nothing stored -------------------------------

FIXABLE = [
    ("leeg", {"reactie": "  \n\n "}, {}),
    ("te-lang", {"reactie": "woord " * 900}, {"max": 4000}),
    ("te-veel-links", {"reactie": "https://a.nl https://b.nl www.c.nl d.nl/x"}, {"max": 3}),
    ("naam-leeg", {"naam": "   "}, {}),
    ("naam-is-link", {"naam": "https://goedkope-pillen.example"}, {}),
    ("naam-is-link", {"naam": "goedkoop.shop"}, {}),
    ("naam-is-link", {"naam": "jan@voorbeeld.nl"}, {}),
    ("ongeldige-site", {"site": "javascript:alert(1)"}, {}),
    ("melding-zonder-adres", {"melding": "ja"}, {}),
    ("ongeldig-adres", {"melding": "ja", "email": "geen-adres"}, {}),
    ("geen-toestemming", {"toestemming": None}, {}),
    ("verouderd-formulier", {"toestemming": "oude-versie"}, {}),
]


@pytest.mark.parametrize("key, changes, values", FIXABLE,
                         ids=[f"{key}-{number}" for number, (key, _, _) in enumerate(FIXABLE)])
def test_a_fixable_problem_shows_the_form_again_with_the_text_kept(reactions, key, changes,
                                                                   values):
    answer = reactions.post(endpoint(reactions), fields(reactions, **changes))
    assert answer.status == 400
    soup = BeautifulSoup(answer.body, "html.parser")
    alert = soup.select_one(".reaction-message--error[role=alert]")
    assert alert.get_text() == message_text(reactions, key, **values)
    posted = form_of(answer.body)
    assert posted["reactie"] == fields(reactions, **changes)["reactie"]
    assert reactions.store.reactions() == [] and reactions.store.stats()["outbox"] == 0


def test_unknown_and_closed_articles_and_wrong_parents_are_refused(reactions, tmp_path):
    slug, comment_id = open_article(reactions)
    other = next(name for name, article in manifest(reactions)["articles"].items()
                 if name != slug and article["comments"] == "open")
    cases = [
        ({"artikel": "bestaat-niet"}, 404, "onbekend-artikel"),
        ({"ouder": "wxr-999"}, 404, "onbekende-reactie"),
        ({"artikel": other, "ouder": comment_id}, 404, "onbekende-reactie"),
        ({"ouder": "../../etc"}, 404, "onbekende-reactie"),
        ({"website": "https://spam.example"}, 400, "geweigerd"),
    ]
    for changes, status, key in cases:
        answer = reactions.post(endpoint(reactions), fields(reactions, **changes),
                                headers={"Accept": "application/json"})
        assert (answer.status, answer.json()["status"]) == (status, key), changes
    page = reactions.post(endpoint(reactions), fields(reactions, artikel="bestaat-niet"))
    expected = (reactions.config.reaction_pages_path / "pagina" / "onbekend-artikel.html"
                ).read_text(encoding="utf-8")
    assert page.body == expected
    assert reactions.store.reactions() == [] and reactions.store.stats()["outbox"] == 0


def test_a_closed_article_takes_no_reaction(make_service, sample_site, tmp_path):
    output = tmp_path / "output"
    shutil.copytree(sample_site.output, output)
    path = output / "reactie" / "reacties.json"
    data = json.loads(path.read_text())
    slug = sorted(data["articles"])[0]
    data["articles"][slug]["comments"] = "closed"
    path.write_text(json.dumps(data))
    service = make_service(output_path=output, min_form_seconds=0)
    answer = service.post(endpoint(service), fields(service, artikel=slug),
                          headers={"Accept": "application/json"})
    assert (answer.status, answer.json()["status"]) == (403, "gesloten")
    assert service.get(endpoint(service, f"antwoord/{slug}/x/")).status == 403
    assert service.store.reactions() == []


def test_a_replayed_form_is_refused(reactions):
    preview = reactions.post(endpoint(reactions), fields(reactions))
    form = form_of(preview.body)
    assert reactions.post(endpoint(reactions), form).status == 200
    again = reactions.post(endpoint(reactions), form)
    assert again.status == 409
    assert again.body == (reactions.config.reaction_pages_path / "pagina" /
                          "al-ontvangen.html").read_text(encoding="utf-8")
    assert len(reactions.store.reactions()) == 1
    assert len(reactions.mails(1)) == 1


def test_a_post_faster_than_a_person_and_a_forged_time_are_refused(make_service, tmp_path):
    service = make_service(min_form_seconds=30, content_path=tmp_path)
    preview = service.post(endpoint(service), fields(service))
    form = form_of(preview.body)
    for t, key in ((form["t"], "te-snel"), (form["t"][:-2] + "xx", "formulier-verlopen"),
                   ("1.abc.def", "formulier-verlopen")):
        answer = service.post(endpoint(service), form | {"t": t})
        assert answer.status == 400
        assert (BeautifulSoup(answer.body, "html.parser").select_one(".reaction-message--error")
                .get_text() == message_text(service, key))
        assert form_of(answer.body)["reactie"] == TEXT  # the text is not lost
    assert service.store.reactions() == []


def test_too_many_reactions_from_one_address_an_hour(make_service, tmp_path):
    service = make_service(min_form_seconds=0, reactions_per_ip_per_hour=2,
                           content_path=tmp_path)
    answers = [send(service, reactie=f"Reactie {n}") for n in range(3)]
    assert [answer.status for answer in answers] == [200, 200, 429]
    assert form_of(answers[2].body)["reactie"] == "Reactie 2"  # kept, to send later
    assert (BeautifulSoup(answers[2].body, "html.parser").select_one(".reaction-message--error")
            .get_text() == message_text(service, "te-vaak"))
    assert len(service.store.reactions()) == 2


def test_hostile_text_is_escaped_and_cleaned_before_storage(reactions):
    send(reactions, naam="<b>Mallory</b>",
         reactie='<script>alert(1)</script> <img src=x onerror=alert(1)> '
                 'javascript:alert(1) mail me: jan@voorbeeld.nl of 10.0.0.1')
    reaction = only_reaction(reactions)
    assert "<script" not in reaction.html and "<img" not in reaction.html
    assert "&lt;script&gt;" in reaction.html
    assert "jan@voorbeeld.nl" not in reaction.text + reaction.html
    assert "10.0.0.1" not in reaction.text + reaction.html
    assert "[e-mailadres verwijderd]" in reaction.html
    assert reaction.author == "<b>Mallory</b>"  # text, escaped wherever it is shown


def test_names_that_are_links_and_names_that_are_not():
    for name in ("https://x.nl", "www.koopnu.nl", "koopnu.com", "Kijk op www.x.nl",
                 "casino.example", "Koop op pillen.nl nu"):
        assert NAME_AS_LINK.search(name), name
    for name in ("Ineke de Vries", "J.P. Balkenende", "Anne-Marie van Dijk", "dr. A. Bakker",
                 "Bakker & Co.", "ir. K. de Boer"):
        assert not NAME_AS_LINK.search(name), name


def test_reaction_html_links_only_web_addresses():
    from linkify_it import LinkifyIt

    html = reaction_html(LinkifyIt(), "zie www.voorbeeld.nl.\nof ftp://x.nl en mailto:a@b.nl")
    soup = BeautifulSoup(html, "html.parser")
    assert [a["href"] for a in soup.find_all("a")] == ["http://www.voorbeeld.nl"]


# --- moderation ----------------------------------------------------------------------------

def test_approving_writes_the_comment_file_once_and_the_build_shows_it(reactions, tmp_path):
    send(reactions, site="www.ineke.example")
    reaction = only_reaction(reactions)
    approve_now(reactions, reaction.id)
    slug, _ = open_article(reactions)
    path = reactions.config.content_path / "comments" / slug / f"{reaction.id}.md"
    text = path.read_text(encoding="utf-8")
    header = dict(line.split(": ", 1) for line in text.split("\n\n", 1)[0].splitlines())
    assert header == {"id": reaction.id, "author": NAME, "author_url": "https://www.ineke.example",
                      "date": reaction.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "type": "comment", "status": "approved", "source": "site",
                      "source_id": reaction.id}
    assert "één vergadering per week" in text
    # Approving again writes nothing and is no error; the state file records the write.
    assert "approved before" in approve_now(reactions, reaction.id)
    assert path.read_text(encoding="utf-8") == text
    assert f"site:comment:{reaction.id}" in (
        reactions.config.content_path / ".migrate" / "state.json").read_text()
    assert reactions.store.reaction(reaction.id).status == APPROVED

    site = build_site("pelicanconf.py", tmp_path / "built", PATH=str(reactions.config.content_path))
    article_url = manifest(reactions)["articles"][slug]["url"].lstrip("/")
    page = site.soup(article_url)
    shown = page.find("li", id=f"reactie-{reaction.id}")
    assert shown.select_one(".comment__meta a")["href"] == "https://www.ineke.example"
    assert "één vergadering per week" in shown.select_one(".comment__body").get_text()


def test_approval_never_overwrites_a_file_in_the_way(reactions):
    send(reactions)
    reaction = only_reaction(reactions)
    slug, _ = open_article(reactions)
    path = reactions.config.content_path / "comments" / slug / f"{reaction.id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id: iets-anders\nauthor: Redactie\ndate: 2024-01-01\n\nEigen tekst.\n")
    out = io.StringIO()
    with pytest.raises(Exception, match="not written by this importer"):
        approve(reactions.config, reactions.store, out, reaction)
    assert path.read_text().endswith("Eigen tekst.\n")
    assert reactions.store.reaction(reaction.id).status == AWAITING


@pytest.mark.parametrize("status", [REJECTED, SPAM])
def test_rejecting_forgets_the_text_and_the_address(reactions, status):
    send(reactions, melding="ja", email=ADDRESS)
    reaction = only_reaction(reactions)
    assert decline(reactions.store, io.StringIO(), reaction, status) == 0
    kept = reactions.store.reaction(reaction.id)
    assert (kept.status, kept.text, kept.author, kept.notify) == (status, "", "", "")
    assert reactions.store.matching_addresses(ADDRESS) in ([], [ADDRESS])  # the queued mail
    assert reactions.store.subscriber_by_email(ADDRESS) is None
    assert not list(reactions.config.content_path.glob(f"comments/*/{reaction.id}.md"))


def test_a_rebuild_command_runs_after_an_approval(make_service, tmp_path):
    marker = tmp_path / "rebuilt"
    service = make_service(min_form_seconds=0, content_path=copy_content(tmp_path / "c"),
                           rebuild_command=f"touch {marker}")
    send(service)
    out = approve_now(service, only_reaction(service).id)
    assert marker.exists() and "Rebuilding" in out


# --- reply notifications ---------------------------------------------------------------------

def test_a_confirmed_commenter_gets_one_notification_per_reply_until_they_stop(reactions):
    send(reactions, melding="ja", email=ADDRESS)
    first = only_reaction(reactions)
    moderation, confirmation = sorted(reactions.mails(2), key=lambda m: m["To"] == ADDRESS)
    assert confirmation["To"] == ADDRESS and moderation["To"] == reactions.config.moderator
    assert ADDRESS not in moderation.as_string()  # the moderator never sees the address
    link = link_in(confirmation, "melding", reactions)
    assert reactions.get(link).status == 200  # a mail scanner's GET confirms nothing
    assert reactions.store.reaction(first.id).notify == "pending"
    assert reactions.post(link, {}).status == 200
    assert reactions.store.reaction(first.id).notify == "confirmed"
    approve_now(reactions, first.id)

    slug, _ = open_article(reactions)
    send(reactions, ouder=first.id, naam="Karel", reactie="Mooi gezegd, Ineke.")
    reply = next(r for r in reactions.store.reactions() if r.id != first.id)
    approve_now(reactions, reply.id)
    approve_now(reactions, reply.id)
    mails = reactions.mails(4)
    [notification] = [m for m in mails[2:] if m["To"] == ADDRESS]
    body = notification.get_body(("plain",)).get_content()
    assert "Mooi gezegd, Ineke." in body and f"#reactie-{reply.id}" in body
    stop = link_in(notification, "stop", reactions)
    assert notification["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stop in notification["List-Unsubscribe"]
    [journal] = [d for d in reactions.store.deliveries([QUEUED, "sent"])
                 if d.edition_id == f"reply:{reply.id}"]
    assert journal.state == "sent"

    one_click = reactions.post(stop, {"List-Unsubscribe": "One-Click"})
    assert one_click.status == 200 and "Location" not in one_click.headers
    assert reactions.store.subscriber_by_email(ADDRESS) is None  # the address is gone
    send(reactions, ouder=first.id, naam="Els", reactie="Ik ook.")
    last = [r for r in reactions.store.reactions() if r.status == AWAITING][0]
    approve_now(reactions, last.id)
    assert len(reactions.mails(5)) == 5  # only the moderator's mail of Els's reply


def test_a_forged_stop_link_changes_nothing(reactions):
    send(reactions, melding="ja", email=ADDRESS)
    reaction = only_reaction(reactions)
    answer = reactions.post(endpoint(reactions, f"stop/{reaction.id}/{'0' * 40}/"), {})
    assert answer.status == 200
    assert reactions.store.reaction(reaction.id).notify == "pending"


def test_erasing_a_commenter_removes_their_pending_reactions(reactions):
    send(reactions, melding="ja", email=ADDRESS)
    reactions.mails(2)
    assert reactions.store.personal_data(ADDRESS)["reactions"] == 1
    assert reactions.store.erase(ADDRESS)
    assert reactions.store.reactions() == []
    assert reactions.store.matching_addresses(ADDRESS) == []


# --- the outbox never sends a mail twice ---------------------------------------------------

def test_a_mail_whose_sender_died_after_the_final_dot_is_not_sent_again(reactions):
    store = reactions.store
    now = utcnow()
    # One transaction: the outbox worker forgets a subscriber without subscriptions
    # or journal entries.
    with store.transaction():
        store.execute("INSERT INTO subscribers (email, unsubscribe_token, created_at) VALUES "
                      "(?, 'tok', ?)", (ADDRESS, now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        subscriber = store.subscriber_by_email(ADDRESS)
        store.execute("INSERT INTO deliveries (edition_id, subscriber_id, state, started_at) "
                      "VALUES ('reply:x', ?, ?, ?)", (subscriber.id, QUEUED,
                                                       now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
    mail_id = store.queue_mail("notification", ADDRESS, b"Subject: x\r\n\r\nx\r\n",
                               now - datetime.timedelta(hours=1), edition_id="reply:x")
    store.mail_in_flight(mail_id, now - datetime.timedelta(hours=1))
    assert store.due_mails(now) == []
    assert store.drop_stale_in_flight(now - datetime.timedelta(minutes=10)) == 1
    assert store.stats()["outbox"] == 0
    [delivery] = store.deliveries(["uncertain"])
    assert delivery.edition_id == "reply:x"
    assert reactions.caught() == 0


def test_reply_notifications_are_no_newsletter_subscription(reactions):
    send(reactions, melding="ja", email=ADDRESS)
    reaction = only_reaction(reactions)
    confirmation = [m for m in reactions.mails(2) if m["To"] == ADDRESS][0]
    assert reactions.post(link_in(confirmation, "melding", reactions), {}).status == 200
    assert reactions.store.reaction(reaction.id).notify == "confirmed"
    assert list(reactions.store.confirmed_subscriptions()) == []
    out = io.StringIO()
    export(reactions.store, out)
    assert ADDRESS not in out.getvalue()


# The payloads of the comments plugin's XSS tests, sent as a reader would type them.
HOSTILE = [
    ("<script>alert(1)</script>Mallory", "<script>alert(1)</script>tekst"),
    ("Img", '<img src=x onerror="alert(1)">'),
    ("Svg", '<svg onload="alert(1)"><circle/></svg>'),
    ("Link", '<a href="javascript:alert(1)">klik</a> javascript:alert(1)'),
    ("Stijl", '<p style="color:red">rood</p>'),
    ("Klik", '<a href="https://ok.example" onclick="x()">ok</a> [x](javascript:alert(1))'),
]


def test_what_the_form_produced_comes_out_inert_after_approval_and_build(make_service,
                                                                       tmp_path):
    service = make_service(min_form_seconds=0, reactions_per_ip_per_hour=len(HOSTILE),
                           content_path=copy_content(tmp_path / "content"))
    for name, text in HOSTILE:
        assert send(service, naam=name, reactie=text).status == 200
    stored = service.store.reactions()
    for reaction in stored:
        approve_now(service, reaction.id)
    site = build_site("pelicanconf.py", tmp_path / "built", PATH=str(service.config.content_path))
    slug, _ = open_article(service)
    page = site.soup(manifest(service)["articles"][slug]["url"].lstrip("/"))
    for reaction in stored:
        shown = page.find("li", id=f"reactie-{reaction.id}")
        assert shown is not None, reaction.id
        assert shown.find_all(["script", "img", "svg", "iframe", "style"]) == []
        for tag in shown.find_all(True):
            assert not [a for a in tag.attrs if a.startswith("on") or a == "style"], tag
            for attribute in ("href", "src"):
                assert not str(tag.get(attribute, "")).lower().startswith("javascript:"), tag
    first = page.find("li", id=f"reactie-{stored[0].id}")
    assert "<script>alert(1)</script>Mallory" in first.select_one(".comment__meta").get_text()
    assert "<script>alert(1)</script>tekst" in first.select_one(".comment__body").get_text()
    scripts = [s for s in page.find_all("script") if s.get("type") != "application/ld+json"]
    assert scripts == []


def test_the_moderation_commands_run_as_written_in_the_mail(tmp_path):
    """``invoke reactions show -r <id>`` and ``invoke reactions list``, typed as documented."""
    settings = tmp_path / "settings.py"
    settings.write_text(f"from pelicanconf import *\nPATH = {str(ROOT / 'content')!r}\n"
                        f"SERVICE_DATA_PATH = {str(tmp_path)!r}\n")
    for command in (["show", "-r", "site-abc"], ["list"], ["list", "--status", "all"]):
        finished = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "invoke"), "reactions", *command,
             "--settings", str(settings)], cwd=ROOT, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        # It reaches the database, which this settings file has not made yet.
        assert finished.returncode == 1, finished
        assert "no subscriber database here yet" in finished.stderr, finished.stderr


def test_notification_links_go_to_the_service_that_took_the_reaction(reactions):
    first = approved_with_notifications(reactions)
    send(reactions, ouder=first.id, naam="Karel", reactie="Eens.")
    reply = next(r for r in reactions.store.reactions() if r.id != first.id)
    # The moderator's command reads settings with another address (publishconf.py).
    elsewhere = dataclasses.replace(reactions.config, site_url="https://elders.example")
    out = io.StringIO()
    assert approve(elsewhere, reactions.store, out, reply) == 0
    [notification] = [m for m in reactions.mails(4)[2:] if m["To"] == ADDRESS]
    text = notification.get_body(("plain",)).get_content()
    assert "elders.example" not in text + notification["List-Unsubscribe"]
    assert reactions.config.site_url + "/" in text


# --- found by attacking it -------------------------------------------------------------------

def test_non_ascii_tokens_and_form_times_get_an_answer_not_a_crash(reactions):
    stop = reactions.post(endpoint(reactions, "stop/site-x/%C3%A9/"), {})
    assert stop.status == 200
    timed = reactions.post(endpoint(reactions), fields(reactions) | {"t": "1700000000.abc.é"})
    assert timed.status == 400
    follow = reactions.post(reactions.config.endpoint,
                            {"email": "a@b.nl", "consent": "x", "t": "1700000000.é"})
    assert follow.status == 400


def test_an_unconfirmed_address_in_a_reply_cannot_silence_the_notification(reactions):
    first = approved_with_notifications(reactions)
    # Someone else replies and types her address, which they cannot confirm.
    send(reactions, ouder=first.id, naam="Mallory", reactie="Nep.", melding="ja", email=ADDRESS)
    reply = next(r for r in reactions.store.reactions() if r.id != first.id)
    approve_now(reactions, reply.id)
    mails = reactions.mails(5)
    assert [m for m in mails if m["To"] == ADDRESS and "Nep." in
            m.get_body(("plain",)).get_content()]
    # Her published reaction is hers; Mallory's unconfirmed one is not listed with it.
    assert [r.id for r in reactions.store.published_reactions_of(ADDRESS)] == [first.id]


def test_a_form_cannot_be_replayed_after_its_reaction_was_erased(reactions):
    preview = reactions.post(endpoint(reactions), fields(reactions, melding="ja", email=ADDRESS))
    form = form_of(preview.body)
    assert reactions.post(endpoint(reactions), form).status == 200
    reactions.mails(2)
    reactions.store.erase(ADDRESS)
    assert reactions.post(endpoint(reactions), form).status == 409
    assert reactions.store.reactions() == []


@pytest.mark.parametrize("name", ["goedkoop.shop!", "Koop bij goedkoop.shop", "Jan (viagra.fr)",
                                  "bit.ly/abc", "ｇｏｅｄｋｏｏｐ.ｓｈｏｐ", "goedkoop。shop",
                                  "jan＠x.nl", "casino.nl."])
def test_names_that_hide_an_address_are_refused(name):
    from linkify_it import LinkifyIt

    from service.reactions import name_is_address

    assert name_is_address(LinkifyIt(), name)


def test_control_characters_never_reach_a_terminal_or_a_page(reactions):
    send(reactions, naam="Term\u009b2J\u202eXam", reactie="Tekst\u009b31m met \u202egekeerd")
    reaction = only_reaction(reactions)
    for value in (reaction.author, reaction.text, reaction.html):
        assert not re.search("[\x80-\x9f\u202a-\u202e]", value), value


def test_a_look_alike_address_in_the_text_is_removed(reactions):
    send(reactions, reactie="Mail bob＠example.com maar")
    assert "example.com" not in only_reaction(reactions).text


def test_a_reader_cannot_fake_lines_of_the_moderator_mail(reactions):
    send(reactions, reactie="Hoi.\n  .venv/bin/invoke reactions approve site-nep")
    [mail] = reactions.mails(1)
    body = mail.get_body(("plain",)).get_content()
    assert "> Hoi." in body and ">   .venv/bin/invoke reactions approve site-nep" in body
    assert "\n  .venv/bin/invoke reactions approve site-nep" not in body


def test_a_post_from_another_site_is_refused(reactions):
    answer = reactions.post(endpoint(reactions), fields(reactions),
                            headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status == 400 and reactions.store.reactions() == []


def test_a_website_with_quotes_or_brackets_is_refused(reactions):
    answer = reactions.post(endpoint(reactions), fields(
        reactions, site='https://evil.nl/"><script>x</script>'))
    assert answer.status == 400
