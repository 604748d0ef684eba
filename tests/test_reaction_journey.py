"""The whole "reageren" journey, in Chromium with JavaScript off, on the published sample site.

A reader reacts to an article and asks to hear of replies; the moderator approves
from the caught mail; another reader answers through "Beantwoorden"; the site is
rebuilt and shows both, threaded; the first reader gets exactly one notification,
stops them with one click, and hears nothing of the next reply. Everything is real:
the publish build, site and service on one HTTP server (as ``make serve`` composes
them), SQLite, an SMTP server, the outbox worker and Chromium.
"""

import io
import json
import re
import time
import urllib.request

import pytest

from service.moderation import approve
from tests.test_follow_journey import Journey, caught, text_of, wait_for

pytestmark = pytest.mark.browser

FIRST = "ineke@voorbeeld.nl"
# The service's form page must be older than this when it is posted; the test waits it out.
MIN_FORM_SECONDS = 1


@pytest.fixture
def journey(tmp_path):
    started = Journey(tmp_path, min_form_seconds=MIN_FORM_SECONDS)
    started.publish()
    started.thread.start()
    yield started
    started.close()


def quiet_article(journey) -> str:
    """The address of a sample article that takes reactions and has none yet."""
    data = json.loads((journey.output / "reactie" / "reacties.json").read_text())
    for _slug, article in sorted(data["articles"].items()):
        if article["comments"] == "open" and not article["known"]:
            return article["url"]
    raise AssertionError("every open sample article already has comments")


def mails_to(journey, address: str) -> list:
    return [mail for mail in caught(journey.maildir) if mail["To"] == address]


def moderate(journey, count: int) -> str:
    """Wait for the ``count``-th moderation mail and approve its reaction as the moderator."""
    moderator = journey.config.moderator
    mails = wait_for(lambda: mails_to(journey, moderator)[count - 1:],
                     what=f"moderation mail {count}")
    reaction_id = re.search(r"invoke reactions approve -r (site-[a-z0-9]+)",
                            text_of(mails[0])).group(1)
    out = io.StringIO()
    assert approve(journey.config, journey.store, out,
                   journey.store.reaction(reaction_id)) == 0, out.getvalue()
    return reaction_id


def place(page) -> None:
    """Post the service's form page like a person who reads it first."""
    time.sleep(MIN_FORM_SECONDS + 0.2)
    page.locator("main form.reaction-form button[type=submit]").click()


def test_react_reply_approve_notify_and_stop(journey, browser):
    page = browser.new_context(java_script_enabled=False).new_page()
    article = quiet_article(journey)

    # A reader reacts under the article and asks to hear of replies.
    page.goto(article)
    form = page.locator("form.reaction-form")
    form.locator("[name=naam]").fill("Ineke de Vries")
    form.locator("[name=reactie]").fill(
        "Dit herken ik.\n\nBij ons hielp het om eerst te vragen wat de ander nodig heeft.")
    form.locator("[name=email]").fill(FIRST)
    form.locator("[name=melding]").check()
    form.locator("[name=toestemming]").check()
    form.locator("button[type=submit]").click()
    # The service shows the reaction as it will look, and takes it from that page.
    assert "Dit herken ik." in page.locator(".reaction-preview").inner_text()
    place(page)
    assert "Bedankt! Je reactie verschijnt na moderatie." in page.locator("main").inner_text()

    # She confirms the notifications from her mail: opening the link changes nothing.
    [confirmation] = wait_for(lambda: mails_to(journey, FIRST), what="the confirmation")
    link = re.search(r"https?://\S+/reactie/melding/\S+/", text_of(confirmation)).group(0)
    page.goto(link)
    first_id = moderate(journey, 1)
    assert journey.store.reaction(first_id).notify == "pending"
    page.locator("main form button").click()
    assert journey.store.reaction(first_id).notify == "confirmed"
    journey.publish()

    # Another reader answers her through "Beantwoorden", on the service's page.
    page.goto(article)
    page.locator(f"#reactie-{first_id}").get_by_role("link", name="Beantwoorden").click()
    assert "Ineke de Vries" in page.locator("blockquote.reaction-quote").inner_text()
    reply = page.locator("main form.reaction-form")
    reply.locator("[name=naam]").fill("Karel Smit")
    reply.locator("[name=reactie]").fill("Goed punt. Vragen kost een minuut en scheelt een week.")
    reply.locator("[name=toestemming]").check()
    place(page)
    assert "Bedankt! Je reactie verschijnt na moderatie." in page.locator("main").inner_text()
    reply_id = moderate(journey, 2)

    # Rebuilt, the article shows both, threaded.
    journey.publish()
    page.goto(article)
    assert page.locator("#reacties-titel").inner_text() == "Reacties (2)"
    assert page.locator(f"li#reactie-{first_id}").get_attribute("class").endswith("depth-1")
    assert page.locator(f"li#reactie-{reply_id}").get_attribute("class").endswith("depth-2")

    # Exactly one notification; its one-click link stops the next.
    notification = wait_for(lambda: mails_to(journey, FIRST)[1:], what="the notification")[0]
    assert "Karel Smit" in text_of(notification)
    time.sleep(2.5)  # the outbox worker's next rounds: nothing more comes
    assert len(mails_to(journey, FIRST)) == 2
    stop = re.search(r"<(https?://[^>]+/reactie/stop/[^>]+)>",
                     notification["List-Unsubscribe"]).group(1)
    request = urllib.request.Request(stop, data=b"List-Unsubscribe=One-Click", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert journey.store.reaction(first_id).notify == ""
    assert journey.store.subscriber_by_email(FIRST) is None

    page.goto(article)
    page.locator(f"#reactie-{first_id}").get_by_role("link", name="Beantwoorden").click()
    third = page.locator("main form.reaction-form")
    third.locator("[name=naam]").fill("Els Bakker")
    third.locator("[name=reactie]").fill("Ik sluit me aan bij Karel.")
    third.locator("[name=toestemming]").check()
    place(page)
    moderate(journey, 3)
    time.sleep(2.5)
    assert len(mails_to(journey, FIRST)) == 2
