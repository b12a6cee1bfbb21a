"""Observing at work on a phone (issue #5): three taps, a team at once, without network,
a shared phone, no JavaScript, page weight and accessibility.

Marc leads « Espaces verts » (Karim, Julie, Ousmane) and « Chantier de Espaces verts » is
open with four competences; Paul leads « Maraîchage ». Screenshots land in
``docs/screenshots/`` and illustrate ``docs/guide-encadrant.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.accounts import Membership, User
from app.models.observations import Observation
from app.models.referentials import Competence
from tests.browser.conftest import PHONE, STAFF_SECRET, Browse, format_violations

pytestmark = pytest.mark.browser

PENDING = "[data-pending]"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_PAGE_BYTES = 100 * 1024
QUEUE = "jalon.capture.queue.v1"  # capture.js keeps waiting captures there
PARIS = ZoneInfo("Europe/Paris")  # the demo structure's time zone

Row = tuple[str, str, int | None]  # worker login, competence public id, level


def observations_by(live_server, author: str) -> list[Row]:  # type: ignore[no-untyped-def]
    """Every observation ``author`` recorded, in order: (worker login, competence, level)."""
    worker_user, author_user = aliased(User), aliased(User)
    with live_server.app.app_context():
        rows = db.session.execute(
            select(worker_user.login, Observation.competence_id, Observation.level)
            .join(Membership, Observation.worker_id == Membership.id)
            .join(worker_user, Membership.user_id == worker_user.id)
            .join(author_user, Observation.author_id == author_user.id)
            .where(author_user.login == author)
            .order_by(Observation.id)
        ).all()
        ids = dict(db.session.execute(select(Competence.id, Competence.public_id)).all())
        return [(login, ids[competence], level) for login, competence, level in rows]


def sign_in_to_team(browse: Browse, page: Page, login: str = "marc.encadrant") -> str:
    """Sign in and open « Mon équipe »; returns ``/s/<structure_id>``."""
    browse.login(page, login, STAFF_SECRET)
    base = browse.structure_path(page)
    page.goto(f"{base}/equipe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon équipe")
    return base


def open_capture(page: Page, name: str) -> None:
    """From « Mon équipe », tap a worker's row: the capture page for that person."""
    with page.expect_navigation():
        page.locator("a.person", has_text=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Observer {name}")


def flashed(page: Page, text: str) -> Locator:
    """The status message that says ``text``."""
    return page.get_by_role("status").filter(has_text=text)


def choose(page: Page, group: str, index: int) -> str:
    """Tap the ``index``-th tile of a radio group (its label); returns the chosen value."""
    tile = page.locator(f"input[name={group}]").nth(index)
    page.locator(f"label[for='{tile.get_attribute('id')}']").click()
    expect(tile).to_be_checked()
    return tile.get_attribute("value") or ""


def test_an_individual_observation_takes_three_taps(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browse.page(PHONE)
    sign_in_to_team(browse, page)
    browse.screenshot(page, "team-encadrant")
    before = observations_by(live_server, "marc.encadrant")
    open_capture(page, "Julie Moreau")

    taps = [choose(page, "competence", 1), choose(page, "level", 2)]
    competence, level = taps
    browse.screenshot(page, "capture-individual")
    with page.expect_navigation():
        page.get_by_role("button", name="3. Enregistrer").click()
    taps.append("Enregistrer")

    assert len(taps) <= 3  # each choose() is one tap on a tile
    expect(flashed(page, "Observation enregistrée.")).to_be_visible()
    assert page.url.endswith("/equipe")
    after = observations_by(live_server, "marc.encadrant")
    assert after[: len(before)] == before
    assert after[len(before) :] == [("julie", competence, int(level))]


def test_the_capture_page_is_light_and_stays_on_this_server(browse: Browse) -> None:
    page = browse.page(PHONE)
    hosts: list[str] = []
    page.context.on("request", lambda request: hosts.append(urlsplit(request.url).hostname or ""))
    sign_in_to_team(browse, page)
    page.wait_for_load_state("networkidle")  # the team page is done before we start counting

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # count CSS and JS too
    sent: dict[str, str] = {}  # request id: URL, for the capture page's own requests
    finished: dict[str, int] = {}  # request id: bytes received

    def will_be_sent(event: dict) -> None:  # type: ignore[type-arg]
        # The team page may still ask for its icon while it is left: that request is cancelled
        # by the navigation and belongs to the page before, so only the capture page's count.
        if urlsplit(event["documentURL"]).path.endswith("/saisie"):
            sent[event["requestId"]] = event["request"]["url"]

    cdp.on("Network.requestWillBeSent", will_be_sent)
    cdp.on(
        "Network.loadingFinished",
        lambda e: finished.update({e["requestId"]: e["encodedDataLength"]}),
    )
    responses = []
    page.on("response", lambda response: responses.append(response))

    open_capture(page, "Karim Benali")
    page.wait_for_load_state("networkidle")

    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url in sent.values()}
    assert {"css", "js"} <= kinds, sent  # the stylesheet and the script were fetched again
    assert set(sent) <= set(finished), "a request of the page did not finish"
    transferred = sum(finished.values())  # bodies and headers, as they crossed the wire
    bodies = sum(len(r.body()) for r in responses)
    assert 0 < bodies <= transferred < MAX_PAGE_BYTES, (bodies, transferred, sent)
    assert hosts and set(hosts) <= LOOPBACK, set(hosts) - LOOPBACK


def test_a_team_observation_with_one_adjusted_level(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browse.page(PHONE)
    sign_in_to_team(browse, page)
    before = observations_by(live_server, "marc.encadrant")
    for name in ("Karim Benali", "Julie Moreau", "Ousmane Diallo"):
        pick = page.locator("label.pick", has=page.get_by_label(f"Choisir {name}"))
        box = pick.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box  # a finger's size
        pick.click(position={"x": 4, "y": 4})  # the corner of the area, not the box itself
        expect(page.get_by_label(f"Choisir {name}")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Observer les personnes cochées").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Observer 3 personnes")

    competence = choose(page, "competence", 0)
    common = choose(page, "level", 1)
    page.get_by_text("Ajuster pour une personne").click()
    adjusted = page.get_by_label("Ousmane Diallo")
    expect(adjusted).to_be_visible()
    own = adjusted.locator("option").nth(4).get_attribute("value") or ""
    assert own not in ("", common)
    adjusted.select_option(own)
    browse.screenshot(page, "capture-collective")
    with page.expect_navigation():
        page.get_by_role("button", name="3. Enregistrer").click()

    expect(flashed(page, "3 observations enregistrées.")).to_be_visible()
    new = observations_by(live_server, "marc.encadrant")[len(before) :]
    assert sorted(new) == sorted(
        [
            ("karim", competence, int(common)),
            ("julie", competence, int(common)),
            ("ousmane", competence, int(own)),
        ]
    )


def queue_offline(
    page: Page, competence: int = 0, level: int = 2, queued: int = 1
) -> tuple[str, int | None]:
    """On a capture page, cut the network, choose two tiles and save: the capture waits on
    the phone (``queued`` in all). Returns the chosen competence and level."""
    page.context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False
    chosen = choose(page, "competence", competence), choose(page, "level", level)
    page.get_by_role("button", name="3. Enregistrer").click()
    pending = page.locator(PENDING)
    expect(pending).to_contain_text("Pas de réseau")
    waiting = "1 observation pas encore envoyée." if queued == 1 else f"{queued} observations"
    expect(pending).to_contain_text(waiting)
    expect(pending).to_be_in_viewport()  # seen from the save button, at the bottom
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)  # ready for the next
    return chosen[0], None if chosen[1] == "non_observe" else int(chosen[1])


def observed_times(live_server, author: str) -> list[datetime]:  # type: ignore[no-untyped-def]
    """When each observation of ``author`` was seen, in the order of ``observations_by``."""
    with live_server.app.app_context():
        return list(
            db.session.scalars(
                select(Observation.observed_at)
                .join(User, Observation.author_id == User.id)
                .where(User.login == author)
                .order_by(Observation.id)
            )
        )


def test_offline_captures_are_sent_once_when_the_network_returns(  # type: ignore[no-untyped-def]
    browse: Browse, live_server
) -> None:
    # The phone is set to another time zone than the structure (Europe/Paris).
    context = browse.browser.new_context(
        viewport=PHONE, base_url=browse.base_url, locale="fr-FR", timezone_id="America/Cayenne"
    )
    browse.contexts.append(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    base = sign_in_to_team(browse, page)
    before = observations_by(live_server, "marc.encadrant")
    open_capture(page, "Ousmane Diallo")
    capture_url = page.url
    first = queue_offline(page)
    browse.screenshot(page, "capture-offline-pending")
    queued = page.evaluate(f"localStorage.getItem('{QUEUE}')")

    # Seen yesterday at 14:30, structure time; then one with a comment the server refuses.
    yesterday = datetime.now(PARIS) - timedelta(days=1)
    seen = yesterday.replace(hour=14, minute=30, second=0, microsecond=0)
    page.get_by_text("Observé à un autre moment ?").click()
    page.get_by_label("Observé le").fill(seen.strftime("%Y-%m-%dT%H:%M"))
    second = queue_offline(page, competence=1, level=0, queued=2)
    page.get_by_text("Ajouter un commentaire").click()
    comment = page.get_by_label("Commentaire (facultatif)")
    expect(comment).to_have_value("")
    comment.fill("Il m'a parlé de son divorce.")
    queue_offline(page, competence=2, queued=3)
    expect(comment).to_have_value("")  # nothing of a queued capture carries over
    assert observations_by(live_server, "marc.encadrant") == before
    page.close()

    context.set_offline(False)
    page = context.new_page()
    page.goto(f"{base}/equipe")
    pending = page.locator(PENDING)
    expect(pending).to_contain_text("2 observations envoyées.")
    expect(pending).to_contain_text(
        "Pas enregistrée, à refaire : Ousmane Diallo — "  # then the competence, and why
    )
    expect(pending).to_contain_text("« divorce »")
    after = observations_by(live_server, "marc.encadrant")
    assert after[: len(before)] == before
    assert after[len(before) :] == [("ousmane", *first), ("ousmane", *second)]
    assert observed_times(live_server, "marc.encadrant")[-1] == seen.astimezone(UTC)
    assert page.evaluate(f"localStorage.getItem('{QUEUE}')") == "[]"

    # The answer was lost on the way back and the item is sent again: same key, no double.
    page.evaluate(f"q => localStorage.setItem('{QUEUE}', q)", queued)
    with page.expect_response(lambda r: "/api/v1/" in r.url) as resend:
        page.goto(capture_url)
    assert resend.value.status == 200  # already stored, not created again
    expect(page.locator(PENDING)).to_have_text("1 observation envoyée.")
    assert observations_by(live_server, "marc.encadrant") == after
    assert page.evaluate(f"localStorage.getItem('{QUEUE}')") == "[]"


def test_on_a_shared_phone_a_capture_waits_for_its_author(  # type: ignore[no-untyped-def]
    browse: Browse, live_server
) -> None:
    page = browse.page(PHONE)
    context = page.context
    sign_in_to_team(browse, page)
    before = observations_by(live_server, "marc.encadrant")
    paul_before = observations_by(live_server, "paul.encadrant")
    open_capture(page, "Karim Benali")
    # The network comes back but the server cannot be reached: the capture stays queued.
    context.route("**/jeton-saisie", lambda route: route.abort("internetdisconnected"))
    queue_offline(page)
    with page.expect_request("**/jeton-saisie"):
        context.set_offline(False)  # the « online » event tries to send, and fails
    expect(page.locator(PENDING)).to_have_text("1 observation pas encore envoyée.")

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    assert len(dialogs) == 1 and "pas encore envoyée" in dialogs[0]
    context.unroute("**/jeton-saisie")

    sends: list[str] = []
    context.on("request", lambda r: sends.append(r.url) if r.method == "POST" else None)
    browse.login(page, "paul.encadrant", STAFF_SECRET)
    expect(page.locator(PENDING)).to_have_text(
        "1 saisie attend une autre personne sur ce téléphone."
    )
    page.goto(f"{browse.structure_path(page)}/equipe")  # another page, another chance
    expect(page.locator(PENDING)).to_contain_text("attend une autre personne")
    assert [u for u in sends if "/connexion" not in u] == []  # nothing sent in Paul's name
    assert observations_by(live_server, "marc.encadrant") == before
    assert observations_by(live_server, "paul.encadrant") == paul_before

    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    assert len(dialogs) == 1  # Paul had nothing waiting: no question
    browse.login(page, "marc.encadrant", STAFF_SECRET)
    expect(page.locator(PENDING)).to_have_text("1 observation envoyée.")
    after = observations_by(live_server, "marc.encadrant")
    assert len(after) == len(before) + 1 and after[-1][0] == "karim"
    page.reload()
    expect(page.locator(PENDING)).to_be_hidden()
    assert observations_by(live_server, "marc.encadrant") == after


def test_capture_pages_have_no_serious_accessibility_violation(browse: Browse) -> None:
    page = browse.page(PHONE, axe=True)
    base = sign_in_to_team(browse, page)

    def audit(label: str) -> None:
        violations = browse.blocking_violations(page)
        assert violations == [], f"{label}:\n{format_violations(violations)}"
        assert browse.overflowing(page) == [], label

    audit("équipe")
    open_capture(page, "Karim Benali")
    audit("saisie individuelle")
    page.goto(f"{base}/equipe")
    with page.expect_navigation():
        page.get_by_role("link", name="Toute l'équipe").click()
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    choose(page, "competence", 0)
    choose(page, "level", 0)
    audit("saisie collective")
    page.goto(f"{base}/situations")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    audit("situations")
    page.goto(f"{base}/equipe")
    worker_id = page.get_by_label("Choisir Karim Benali").get_attribute("value")
    page.goto(f"{base}/salaries/{worker_id}")
    expect(page.get_by_text("Travail soigné et rangé.")).to_be_visible()  # an observation
    audit("fiche salarié·e")


def test_an_observation_is_recorded_without_javascript(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browse.page(PHONE, javascript=False)
    sign_in_to_team(browse, page)
    before = observations_by(live_server, "marc.encadrant")
    open_capture(page, "Karim Benali")
    competence = choose(page, "competence", 3)
    level = choose(page, "level", 0)
    with page.expect_navigation():
        page.get_by_role("button", name="3. Enregistrer").click()
    expect(flashed(page, "Observation enregistrée.")).to_be_visible()
    after = observations_by(live_server, "marc.encadrant")
    assert after == before + [("karim", competence, int(level))]
