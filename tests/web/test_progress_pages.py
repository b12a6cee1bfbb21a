"""Progress pages: self-assessment, « Mon parcours », journeys, points d'étape, the chart.

Figures on the pages are checked against counts computed here, straight from the
database; who may read and write is checked for the worker, their conseiller, other staff
and another structure; worker pages are checked for short sentences and §5 words.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.domain.enums import WithdrawalReason
from app.domain.wording import blocked_terms
from app.extensions import db
from app.models import (
    Competence,
    FileReadLog,
    Membership,
    Observation,
    ProgressReview,
    Referential,
    ReviewComment,
    SelfAssessment,
    User,
    WorkSituation,
)
from app.services import observations as obs_service
from app.web.charts import OBSERVATION, SELF, ChartPoint, progress_svg
from tests.support.routes import changed_tables, snapshot
from tests.support.world import STAFF_SECRET, WORKER_SECRET

CLOCK = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TODAY = CLOCK.date()
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "td", "th", "caption", "label", "legend",
          "button", "option", "summary", "dt", "dd", "title", "desc", "text", "br", "div",
          "section", "article", "ul", "ol", "form", "table", "tr", "nav", "header", "footer",
          "main", "figure", "fieldset", "textarea", "select"}  # fmt: skip
VOID = {"img", "input", "br", "meta", "link", "hr"}


class _Text(HTMLParser):
    """Visible text as blocks (block elements end a block), or the text of one element."""

    def __init__(self, element_id: str | None = None) -> None:
        super().__init__()
        self.element_id, self.depth, self.skip = element_id, 0, 0
        self.blocks: list[str] = [""]

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip += 1
        if self.element_id is not None and tag not in VOID:
            if self.depth or dict(attrs).get("id") == self.element_id:
                self.depth += 1
        if tag in BLOCKS:
            self.blocks.append("")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip -= 1
        if self.depth:
            self.depth -= 1
        if tag in BLOCKS:
            self.blocks.append("")

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self.skip and (self.element_id is None or self.depth):
            self.blocks[-1] += data


def blocks(html: str, element_id: str | None = None) -> list[str]:
    parser = _Text(element_id)
    parser.feed(html)
    return [" ".join(b.split()) for b in parser.blocks if b.strip()]


def text_of(html: str, element_id: str) -> str:
    found = " ".join(blocks(html, element_id))
    assert found, f"no element #{element_id}"
    return found


def visible(html: str) -> str:
    return " ".join(blocks(html))


def sentences(html: str) -> list[str]:
    return [s for b in blocks(html) for s in re.split(r"(?<=[.!?…])\s+", b) if s.strip()]


# --- Setting the scene ------------------------------------------------------------------


@pytest.fixture
def app(world_app_with):  # type: ignore[no-untyped-def]
    return world_app_with(NOW=lambda: CLOCK)


def sign_in(app, login: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    worker = login in {"karim", "julie", "ousmane", "lea", "b.salarie"}
    secret = WORKER_SECRET if worker else STAFF_SECRET
    response = client.post("/connexion", data={"login": login, "secret": secret})
    assert response.status_code == 302
    return client


def member(login: str) -> Membership:
    return db.session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


def urls(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        karim = member("karim")
        s, k = karim.structure.public_id, karim.public_id
        return {
            "sid": s,
            "mine": f"/s/{s}/mon-parcours",
            "self": f"/s/{s}/auto-evaluation",
            "focus": f"/s/{s}/point-fort",
            "journey": f"/s/{s}/salaries/{k}/parcours",
            "assisted": f"/s/{s}/salaries/{k}/auto-evaluation",
            "reviews": f"/s/{s}/salaries/{k}/points-etape",
        }


def observe(app, tag: str = "progress-test") -> None:  # type: ignore[no-untyped-def]
    """Observations of karim by two people in two situations, one withdrawn, one not seen."""
    with app.app_context():
        situations = {
            s.name: s for s in db.session.scalars(select(WorkSituation)).all() if s.team_id
        }
        park = situations["Tonte et taille au parc des Tilleuls"]
        site = situations["Chantier de Espaces verts"]
        codes = {c.code: c.public_id for s in (park, site) for c in s.competences}
        plan = [
            ("marc.encadrant", park, "organiser", 2, 12),
            ("marc.encadrant", park, "organiser", 4, 5),
            ("sophie.cip", park, "organiser", 3, 2),
            ("sophie.cip", park, "travailler-en-equipe", 4, 3),
            ("marc.encadrant", site, "s-adapter", 5, 1),
            ("marc.encadrant", site, "planifier", None, 1),
            ("marc.encadrant", park, "tondre-et-debroussailler", 4, 1),
        ]
        for n, (login, situation, code, level, days) in enumerate(plan):
            obs_service.record_capture(
                db.session,
                author=member(login),
                situation_id=situation.public_id,
                observed_at=CLOCK - timedelta(days=days),
                items=[obs_service.CaptureItem(member("karim").public_id, codes[code], level)],
                idempotency_key=f"{tag}-{n}",
                now=CLOCK,
            )
        withdrawn = obs_service.record_capture(
            db.session,
            author=member("marc.encadrant"),
            situation_id=park.public_id,
            observed_at=CLOCK - timedelta(days=1),
            items=[obs_service.CaptureItem(member("karim").public_id, codes["organiser"], 5)],
            idempotency_key=f"{tag}-withdrawn",
            now=CLOCK,
        )
        obs_service.withdraw_observation(
            db.session,
            observation=withdrawn.observations[0],
            actor=member("marc.encadrant"),
            reason=WithdrawalReason.DUPLICATE,
            now=CLOCK,
        )
        db.session.commit()


def counted(app) -> dict[str, tuple[int, int, int, date]]:  # type: ignore[no-untyped-def]
    """Per soft skill of karim, straight from the tables: count, observers, situations, last."""
    with app.app_context():
        rows = db.session.execute(
            select(
                Competence.code,
                func.count(Observation.id),
                func.count(func.distinct(Observation.author_id)),
                func.count(func.distinct(Observation.situation_id)),
                func.max(Observation.observed_at),
            )
            .join(Competence, Competence.id == Observation.competence_id)
            .join(Referential, Referential.id == Competence.referential_id)
            .where(
                Observation.worker_id == member("karim").id,
                Observation.withdrawn_at.is_(None),
                Observation.level.is_not(None),
                Referential.code == "bunk",
            )
            .group_by(Competence.code)
        ).all()
    return {code: (n, who, where, last.date()) for code, n, who, where, last in rows}


# --- Side by side -----------------------------------------------------------------------


def test_side_by_side_figures_equal_counts_taken_from_the_database(app):
    observe(app)
    expected = counted(app)
    # The scene gives figures worth checking: several records, people and situations.
    assert expected["organiser"][0] >= 3 and expected["organiser"][1] >= 2
    u = urls(app)
    journey = sign_in(app, "sophie.cip").get(u["journey"]).get_data(as_text=True)
    mine = sign_in(app, "karim").get(u["mine"]).get_data(as_text=True)
    for code, (n, who, where, last) in expected.items():
        row = f"cmp-bunk-{code}"
        cells = [text_of(journey, f"{row}-{c}") for c in ("count", "observers", "situations")]
        assert cells == [str(n), str(who), str(where)]
        assert text_of(journey, f"{row}-last") == f"{last:%d/%m/%Y}"
        card = text_of(mine, row)
        people = "une personne" if who == 1 else f"{who} personnes"
        places = "une situation" if where == 1 else f"{where} situations"
        assert f"Observé {n} fois par {people}." in card
        assert f"Dans {places} de travail." in card
        assert f"C'était le {last:%d/%m/%Y}." in card
    # Not observed, withdrawn and trade competences count for nothing on the soft skills.
    assert "planifier" not in expected and "cmp-bunk-planifier" not in mine
    assert text_of(journey, "cmp-bunk-planifier-count") == "0"
    with app.app_context():
        levels = Counter(
            db.session.scalars(
                select(Observation.level)
                .join(Competence, Competence.id == Observation.competence_id)
                .where(
                    Observation.worker_id == member("karim").id,
                    Observation.withdrawn_at.is_(None),
                    Observation.level.is_not(None),
                    Competence.code == "organiser",
                )
            )
        )
    shown = ", ".join(f"niv. {lv} × {n}" for lv, n in sorted(levels.items()))
    assert text_of(journey, "cmp-bunk-organiser-levels") == shown


# --- Self-assessment --------------------------------------------------------------------


def answer_names(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'name="(a-[^"]+)"', html)))


def test_the_worker_answers_in_words_and_pictograms_and_sees_it_beside_observations(app):
    observe(app)
    u = urls(app)
    karim = sign_in(app, "karim")
    page = karim.get(u["self"]).get_data(as_text=True)
    names = answer_names(page)
    assert len(names) == 16 and page.count('type="radio"') == 16 * 3
    for picture in ("seedling", "thumbs-up", "star"):
        assert f"/static/pictos/{picture}.svg" in page
    assert 'data-read-aloud="q-' in page and "read-aloud.js" in page
    before = counted(app)
    with app.app_context():
        organiser = next(c for c in _grid() if c.code == "organiser")
        field = f"a-{organiser.public_id}"
    response = karim.post(u["self"], data={field: "je-sais-faire"})
    assert response.status_code == 302 and response.headers["Location"] == u["mine"]
    with app.app_context():
        (record,) = db.session.scalars(select(SelfAssessment)).all()[-1:]
        assert record.is_baseline and record.confirmed_at and record.assisted_by_id is None
    mine = karim.get(u["mine"]).get_data(as_text=True)
    assert "Mon avis Je sais faire" in text_of(mine, "cmp-bunk-organiser")
    assert counted(app) == before  # one view never overwrites the other (SELF-02)
    nothing = karim.post(u["self"], data={})
    assert nothing.status_code == 400
    assert "Répondez au moins à une question." in nothing.get_data(as_text=True)


def _grid() -> list[Competence]:
    from app.queries.progress import soft_skills

    return soft_skills(db.session)


def test_the_structure_setting_changes_the_workers_answers(app):
    u = urls(app)
    admin = sign_in(app, "claire.admin")
    settings_url = f"/s/{u['sid']}/admin/structure"
    form = admin.get(settings_url).get_data(as_text=True)
    assert 'name="self_assessment_format"' in form
    with app.app_context():
        structure = member("karim").structure
        body = {
            "name": structure.name,
            "kind": structure.kind.value,
            "model": structure.model.value,
            "timezone": structure.timezone,
            "country": structure.country,
            "self_assessment_format": "levels5",
        }
    assert admin.post(settings_url, data=body).status_code == 302
    page = sign_in(app, "karim").get(u["self"]).get_data(as_text=True)
    assert page.count('type="radio"') == 16 * 5
    assert "Je fais seul·e et je trouve comment mieux faire" in page
    assert "/static/pictos/seedling.svg" not in page
    labels = [b for b in blocks(page) if b.startswith(("Je ", "J'"))]
    assert labels and not any(ch.isdigit() for label in labels for ch in label)
    with app.app_context():
        assert member("karim").structure.self_assessment_format == "levels5"


def test_an_assisted_self_assessment_is_marked_and_confirmed_by_the_worker(app):
    u = urls(app)
    sophie = sign_in(app, "sophie.cip")
    names = answer_names(sophie.get(u["assisted"]).get_data(as_text=True))
    response = sophie.post(u["assisted"], data={names[0]: "je-fais-seul"})
    assert response.status_code == 302 and response.headers["Location"] == u["journey"]
    with app.app_context():
        record = db.session.scalars(select(SelfAssessment).order_by(SelfAssessment.id)).all()[-1]
        assert record.assisted_by.login == "sophie.cip" and record.confirmed_at is None
        public_id = record.public_id
    assert "à confirmer par la personne" in sophie.get(u["journey"]).get_data(as_text=True)
    julie = sign_in(app, "julie")
    confirm = f"/s/{u['sid']}/auto-evaluation/{public_id}/confirmer"
    assert julie.post(confirm).status_code == 404
    karim = sign_in(app, "karim")
    mine = karim.get(u["mine"]).get_data(as_text=True)
    assert "Vous avez répondu avec Sophie Bernard." in text_of(mine, "a-confirmer")
    assert karim.post(confirm).status_code == 302
    with app.app_context():
        record = db.session.scalars(select(SelfAssessment).filter_by(public_id=public_id)).one()
        assert record.confirmed_at is not None and record.assisted_by.login == "sophie.cip"
    assert "a-confirmer" not in karim.get(u["mine"]).get_data(as_text=True)


# --- Points d'étape ---------------------------------------------------------------------


def competence_ids(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {c.code: c.public_id for c in _grid()}


def record_review(client, u, held_on: date, next_on: date, steps: str, goals: list) -> str:  # type: ignore[no-untyped-def]
    body = {"held_on": held_on.isoformat(), "next_review_on": next_on.isoformat()}
    body["next_steps"] = steps
    for n, (competence, kind, target, text) in enumerate(goals):
        body |= {f"goals-{n}-competence": competence, f"goals-{n}-kind": kind}
        body |= {f"goals-{n}-target": target, f"goals-{n}-text": text}
    response = client.post(u["reviews"], data=body)
    assert response.status_code == 302, blocks(response.get_data(as_text=True))
    return client.get(u["reviews"]).get_data(as_text=True)


def latest_review_id(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalars(
            select(ProgressReview.public_id).order_by(ProgressReview.id.desc())
        ).first()


def test_a_review_shows_what_changed_since_the_previous_one(app):
    u, ids = urls(app), competence_ids(app)
    sophie = sign_in(app, "sophie.cip")
    first = record_review(
        sophie, u, TODAY - timedelta(days=30), TODAY - timedelta(days=2), "Ranger le poste.",
        [(ids["organiser"], "professionnel", "3", ""), (ids["prioriser"], "personnel", "", "")],
    )  # fmt: skip
    card = text_of(first, f"etape-{latest_review_id(app)}")
    assert "C'est le premier point d'étape." in card
    goals = [
        (ids["organiser"], "professionnel", "4", ""),
        (ids["communiquer"], "accompagnement", "", "Dire bonjour"),
    ]
    page = record_review(
        sophie, u, TODAY, TODAY + timedelta(days=30), "Préparer le matériel.", goals
    )
    card = text_of(page, f"etape-{latest_review_id(app)}")
    changes = card.split("Ce qui a changé depuis le point précédent", 1)[1]
    assert "Nouvel objectif : communiquer" in changes
    assert "Objectif retiré : prioriser" in changes
    assert "Objectif modifié : organiser" in changes
    assert "Les prochaines étapes ont changé." in changes
    assert "La date du prochain point a changé." in changes
    journey = sophie.get(u["journey"]).get_data(as_text=True)
    assert "Objectif modifié : organiser" in journey
    assert "Prochain point d'étape : le" in journey


def test_a_review_with_a_broken_rule_is_refused_in_french_and_records_nothing(app):
    u, ids = urls(app), competence_ids(app)
    sophie = sign_in(app, "sophie.cip")
    with app.app_context():
        before = db.session.scalar(select(func.count(ProgressReview.id)))
    response = sophie.post(
        u["reviews"],
        data={
            "held_on": (TODAY + timedelta(days=1)).isoformat(),
            "goals-0-competence": ids["organiser"],
            "goals-0-kind": "professionnel",
        },
    )
    assert response.status_code == 400
    assert "La date du point d'étape ne peut pas être dans le futur." in visible(
        response.get_data(as_text=True)
    )
    sensitive = sophie.post(
        u["reviews"], data={"held_on": TODAY.isoformat(), "next_steps": "Voir avec le SPIP."}
    )
    assert sensitive.status_code == 422 and "« SPIP »" in visible(sensitive.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count(ProgressReview.id))) == before


def test_the_worker_reads_a_review_and_comments_it(app):
    u, ids = urls(app), competence_ids(app)
    record_review(
        sign_in(app, "sophie.cip"), u, TODAY, TODAY + timedelta(days=20),
        "Préparer le matériel.", [(ids["organiser"], "professionnel", "4", "")],
    )  # fmt: skip
    review_id = latest_review_id(app)
    karim = sign_in(app, "karim")
    mine = karim.get(u["mine"]).get_data(as_text=True)
    assert "Préparer le matériel." in text_of(mine, "etape")
    assert f"le {TODAY + timedelta(days=20):%d/%m/%Y}" in text_of(mine, "etape")
    assert "Visé : Je fais seul·e" in text_of(mine, f"etape-{review_id}")  # worker words
    comment_url = f"/s/{u['sid']}/points-etape/{review_id}/commentaire"
    refused = karim.post(comment_url, data={"text": "J'étais chez le médecin."})
    assert refused.status_code == 422
    assert "J'étais chez le médecin." in visible(refused.get_data(as_text=True))  # kept
    assert karim.post(comment_url, data={"text": "Je suis d'accord."}).status_code == 302
    with app.app_context():
        comments = db.session.scalars(select(ReviewComment)).all()
        assert [(c.text, c.author.login) for c in comments] == [("Je suis d'accord.", "karim")]
    staff_page = sign_in(app, "sophie.cip").get(u["reviews"]).get_data(as_text=True)
    assert "« Je suis d'accord. »" in visible(staff_page)
    # Julie cannot comment karim's review, even with its id.
    assert sign_in(app, "julie").post(comment_url, data={"text": "Bonjour"}).status_code == 404


# --- Focus ------------------------------------------------------------------------------


def test_the_worker_keeps_one_focus_and_may_replace_it(app):
    u, ids = urls(app), competence_ids(app)
    karim = sign_in(app, "karim")
    assert karim.post(u["focus"], data={"competence": ids["organiser"]}).status_code == 302
    assert karim.post(u["focus"], data={"competence": ids["communiquer"]}).status_code == 302
    assert karim.post(u["focus"], data={"competence": "inconnue"}).status_code == 302
    point = text_of(karim.get(u["mine"]).get_data(as_text=True), "point")
    assert "Je parle poliment" in point or "communiquer" in point.lower()
    with app.app_context():
        from app.models import FocusCompetence

        rows = db.session.scalars(select(FocusCompetence)).all()
        assert [r.competence.code for r in rows] == ["communiquer"]
    assert "communiquer" in sign_in(app, "sophie.cip").get(u["journey"]).get_data(as_text=True)


# --- Who may read and write -------------------------------------------------------------

STAFF_PAGES = ("journey", "assisted", "reviews")


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("sophie.cip", {"journey": 200, "assisted": 200, "reviews": 200}),  # their conseillère
        ("marc.encadrant", {"journey": 200, "assisted": 403, "reviews": 403}),  # leads the team
        ("paul.encadrant", {"journey": 404, "assisted": 403, "reviews": 403}),  # another team
        ("claire.admin", {"journey": 200, "assisted": 403, "reviews": 403}),
        ("karim", {"journey": 403, "assisted": 403, "reviews": 403}),  # staff pages
        ("b.cip", {"journey": 404, "assisted": 404, "reviews": 404}),  # another structure
    ],
)
def test_staff_pages_of_a_worker_open_only_to_the_staff_who_follow_them(app, login, expected):
    u, ids = urls(app), competence_ids(app)
    client = sign_in(app, login)
    assert {page: client.get(u[page]).status_code for page in STAFF_PAGES} == expected
    with app.app_context():
        before = db.session.scalar(select(func.count(ProgressReview.id)))
    body = {"held_on": TODAY.isoformat(), "goals-0-competence": ids["organiser"]}
    body["goals-0-kind"] = "professionnel"
    written = client.post(u["reviews"], data=body).status_code
    assert (written == 302) == (login == "sophie.cip")
    with app.app_context():
        after = db.session.scalar(select(func.count(ProgressReview.id)))
    assert after - before == (1 if login == "sophie.cip" else 0)


@pytest.mark.parametrize(
    ("login", "status"),
    [
        ("karim", 200),
        ("julie", 200),
        ("sophie.cip", 403),
        ("claire.admin", 403),
        ("b.salarie", 404),
    ],
)
def test_a_workers_own_pages_are_theirs_alone(app, login, status):
    u = urls(app)
    client = sign_in(app, login)
    assert client.get(u["mine"]).status_code == status
    assert client.get(u["self"]).status_code == status


def test_a_worker_sees_only_their_own_records(app):
    observe(app)
    u = urls(app)
    julie_page = sign_in(app, "julie").get(u["mine"]).get_data(as_text=True)
    assert "Observé" not in julie_page  # karim's observations are not hers
    assert "cmp-bunk-organiser" not in julie_page


# --- The staff-read log -----------------------------------------------------------------


def test_reading_a_journey_writes_one_read_log_row_and_nothing_else(app):
    observe(app)
    u = urls(app)
    sophie = sign_in(app, "sophie.cip")  # the sign-in is audited before the snapshot
    before = snapshot(app)
    assert sophie.get(u["journey"]).status_code == 200
    assert changed_tables(before, snapshot(app)) == ("file_read_logs",)
    with app.app_context():
        rows = db.session.scalars(select(FileReadLog)).all()
        assert [(r.reader_id, r.worker_id, r.page) for r in rows] == [
            (member("sophie.cip").user_id, member("karim").id, "parcours")
        ]
    refused = sign_in(app, "paul.encadrant")
    before = snapshot(app)
    assert refused.get(u["journey"]).status_code == 404
    assert changed_tables(before, snapshot(app)) == ()


# --- The conseiller's home --------------------------------------------------------------


def test_the_conseillers_home_lists_reviews_due_soon_or_late(app):
    u = urls(app)
    sophie = sign_in(app, "sophie.cip")
    with app.app_context():
        workers = {login: member(login).public_id for login in ("karim", "julie", "ousmane")}
    plan = {"karim": 3, "julie": -4, "ousmane": 25}
    for login, days in plan.items():
        url = f"/s/{u['sid']}/salaries/{workers[login]}/points-etape"
        body = {"held_on": (TODAY - timedelta(days=40)).isoformat()}
        body["next_review_on"] = (TODAY + timedelta(days=days)).isoformat()
        assert sophie.post(url, data=body).status_code == 302
    section = text_of(sophie.get(f"/s/{u['sid']}/").get_data(as_text=True), "points-etape")
    assert f"Julie Moreau En retard prévu le {TODAY - timedelta(days=4):%d/%m/%Y}" in section
    assert f"Karim Benali Prévu le {TODAY + timedelta(days=3):%d/%m/%Y}" in section
    assert "Ousmane" not in section
    assert section.index("Julie") < section.index("Karim")


# --- Plain language and §5 words on worker pages ----------------------------------------


def rich_scene(app, tag: str = "progress-test") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Everything a worker page can show: observations, answers, reviews, a comment."""
    observe(app, tag)
    u, ids = urls(app), competence_ids(app)
    sophie, karim = sign_in(app, "sophie.cip"), sign_in(app, "karim")
    karim.post(u["self"], data={f"a-{ids['organiser']}": "je-sais-faire"})
    karim.post(u["self"], data={f"a-{ids['organiser']}": "je-fais-seul"})
    sophie.post(u["assisted"], data={f"a-{ids['communiquer']}": "je-decouvre"})
    record_review(
        sophie, u, TODAY - timedelta(days=30), TODAY - timedelta(days=1), "Ranger le poste.",
        [(ids["organiser"], "professionnel", "3", "")],
    )  # fmt: skip
    goals = [
        (ids["organiser"], "professionnel", "4", "Ranger seul"),
        (ids["communiquer"], "accompagnement", "", ""),
    ]
    record_review(sophie, u, TODAY, TODAY + timedelta(days=30), "Préparer le matériel.", goals)
    karim.post(
        f"/s/{u['sid']}/points-etape/{latest_review_id(app)}/commentaire",
        data={"text": "Je suis d'accord."},
    )
    karim.post(u["focus"], data={"competence": ids["communiquer"]})
    return u


def words(sentence: str) -> list[str]:
    return re.findall(r"[\w·'’-]*\w[\w·'’-]*", sentence)


def test_worker_pages_use_short_sentences_and_no_stigmatising_word(app):
    u = rich_scene(app)
    karim = sign_in(app, "karim")
    pages = {name: karim.get(u[name]).get_data(as_text=True) for name in ("mine", "self")}
    assert "Mes points forts" in pages["mine"] and "Visé :" in pages["mine"]
    assert "a-confirmer" in pages["mine"] and "<svg" in pages["mine"]
    for name, html in pages.items():
        long = [s for s in sentences(html) if len(words(s)) > 15]
        assert long == [], f"{name}: sentences of more than 15 words: {long}"
        text = visible(html)
        assert blocked_terms(text) == [], name
        assert "niv." not in text and not re.search(r"\b[1-5]\s*/\s*5\b", text)
        for staff_words in ("Très peu développée", "pas encore mobilisable", "Mobilisable"):
            assert staff_words not in text, name
    # The check sees a long sentence when there is one (here, written by a conseillère).
    steps = (
        "Venir le lundi matin avec les chaussures de sécurité et la tenue pour le chantier du parc."
    )
    record_review(sign_in(app, "sophie.cip"), u, TODAY, TODAY + timedelta(days=9), steps, [])
    mine = karim.get(u["mine"]).get_data(as_text=True)
    assert [s for s in sentences(mine) if len(words(s)) > 15] == [steps, steps]


# --- The chart --------------------------------------------------------------------------


def test_the_chart_is_an_accessible_svg_readable_without_colour():
    points = [
        ChartPoint("bunk:organiser", date(2026, 1, 5), SELF, 1, 2),
        ChartPoint("bunk:organiser", date(2026, 2, 1), OBSERVATION, 3, 3),
        ChartPoint("bunk:organiser", date(2026, 3, 1), OBSERVATION, 4, 4),
        ChartPoint("bunk:prioriser", date(2026, 3, 2), SELF, 3, 3),
    ]
    names = {"bunk:organiser": "<organiser>", "bunk:prioriser": "prioriser", "bunk:x": "absent"}
    levels = {n: f"Niveau en mots {n}" for n in range(1, 6)}
    svg = str(
        progress_svg(
            points, title="Progression", competence_names=names, level_names=levels,
            legend=("Observation", "Auto-évaluation"), description="Ronds et carrés.",
            baseline=date(2026, 1, 5), start_label="Départ", chart_id="c1",
        )
    )  # fmt: skip
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Progression</title>' in svg
    assert '<desc id="c1-desc">Ronds et carrés.</desc>' in svg
    # Shapes, not colours: one filled circle per observation, one square per answer (+ legend).
    assert svg.count('<circle class="mark-observation"') == 2 + 1
    assert svg.count('<rect class="mark-self"') == 2 + 1
    assert svg.count('class="mark-range"') == 1  # « Je découvre, j'apprends » spans 1–2
    assert "&lt;organiser&gt;" in svg and "<organiser>" not in svg
    assert "absent" not in svg and "Départ" in svg and "05/01/2026" in svg
    assert all(f"Niveau en mots {n}" in svg for n in range(1, 6))
    empty = progress_svg(
        [], title="t", competence_names=names, level_names=levels, legend=("a", "b"),
        description="d",
    )  # fmt: skip
    assert str(empty) == ""


def test_the_journey_chart_has_a_data_table_with_one_row_per_point(app):
    u = rich_scene(app)
    journey = sign_in(app, "sophie.cip").get(u["journey"]).get_data(as_text=True)
    observed = sum(n for n, *_ in counted(app).values())
    answers = 2  # karim's two confirmed answers; the assisted one waits for him
    table = journey.split('class="table chart-table"', 1)[1].split("</table>", 1)[0]
    assert "<caption>Progression : les données du graphique</caption>" in table
    assert table.count("<tr>") == 1 + observed + answers
    svg = journey.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert svg.count('<circle class="mark-observation"') == observed + 1
    assert svg.count('<rect class="mark-self"') == answers + 1


def test_my_space_links_to_my_journey(app):
    u = urls(app)
    page = sign_in(app, "karim").get("/moi/").get_data(as_text=True)
    assert f'href="{u["mine"]}"' in page and f'href="{u["self"]}"' in page
    assert u["mine"] not in sign_in(app, "sophie.cip").get("/moi/").get_data(as_text=True)


def test_the_journey_reads_a_bounded_number_of_queries(app):
    from sqlalchemy import event

    u = rich_scene(app)
    sophie = sign_in(app, "sophie.cip")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def queries_for_one_read() -> int:
        statements.clear()
        assert sophie.get(u["journey"]).status_code == 200
        return len(statements)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        few = queries_for_one_read()
        rich_scene(app, "progress-again")  # as many records again, and more reviews and answers
        assert queries_for_one_read() == few
    finally:
        event.remove(engine, "before_cursor_execute", count)
