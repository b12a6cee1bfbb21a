"""The authorization matrix: every route, as everyone who must be refused, changes nothing.

Routes are read from ``app.url_map`` and their scope from ``app.web.access.RULES``, so a
route added later is walked without editing this file (see ``tests/support/routes.py``).
A positive control on fresh databases shows the same URLs and form bodies do work for
the rightful users of structure B, so the refusals seen in the walk mean something.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule as UrlRule

from app.domain.enums import Role
from app.extensions import db
from app.models import Membership, MembershipRole, Team
from app.queries import people
from app.web.access import PUBLIC, RULES, Rule, Scope
from tests.support.routes import (
    ANONYMOUS,
    DENIED,
    QUERY_ARGS,
    Attempt,
    MissingParamSource,
    Target,
    Visitor,
    b_member,
    changed_tables,
    fill_url,
    methods_of,
    rules_of,
    snapshot,
    structure_a_id,
    structure_b,
    table_problems,
    targets,
    violations,
    visitor,
    walk,
)
from tests.support.world import B_PEOPLE, STAFF_SECRET, WORKER_SECRET

#: Who walks structure B's routes: every role of structure A, the platform, nobody.
OUTSIDERS = [
    "claire.admin",
    "marc.encadrant",
    "sophie.cip",
    "nadia.validatrice",
    "karim",
    "super.admin",
    ANONYMOUS,
]
B_STAFF = ["b.admin", "b.encadrant", "b.cip", "b.validateur"]
WORKERS = {"karim", "julie", "b.salarie"}
#: What of julie (or of B's worker) must never show in karim's own space.
OTHER_WORKERS_TRACES = ("Julie", "Moreau", "julie", "b.salarie", "Salarie Bois")


def visitor_for(app: Flask, who: str) -> Visitor:
    """``who`` signed in (with an API token when the app has an API), or anonymous."""
    if who == ANONYMOUS:
        return visitor(app, who, "")
    return visitor(app, who, WORKER_SECRET if who in WORKERS else STAFF_SECRET)


def rules_walked_by(app: Flask, who: str) -> list[UrlRule]:
    """The routes ``who`` has no right to when filled with structure B's ids.

    Person-scoped pages without ids are one's own space (see the karim test below); with
    ids in the URL or in their query string, they name another person's records and must
    be refused too.
    """
    if who == ANONYMOUS:
        return rules_of(app, Scope.STRUCTURE, Scope.PERSON, Scope.PLATFORM)
    scopes = (Scope.STRUCTURE,) if who == "super.admin" else (Scope.STRUCTURE, Scope.PLATFORM)
    return rules_of(app, *scopes) + [r for r in rules_of(app, Scope.PERSON) if names_ids(r)]


def names_ids(rule: UrlRule) -> bool:
    """A person-scoped route that names records: ids in its URL or in its query string."""
    return bool(rule.arguments) or rule.endpoint in QUERY_ARGS


def readable_text(response) -> str:  # type: ignore[no-untyped-def]
    """What a person reads in an answer: a page, or the text files of a ZIP download."""
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.endswith((".txt", ".json"))
            )
    if response.mimetype.startswith("text/"):
        return response.get_data(as_text=True)
    return ""


def rightful_logins(rule: Rule) -> list[str]:
    """Who may use a route of ``rule`` on structure B."""
    if rule.scope is Scope.STRUCTURE:
        return [login for login in [*B_STAFF, "b.salarie"] if B_PEOPLE[login] & rule.roles]
    return {
        Scope.PERSON: ["b.salarie"],
        Scope.PLATFORM: ["super.admin"],
        Scope.PUBLIC: [ANONYMOUS],
    }[rule.scope]


def target_of(app: Flask, endpoint: str, method: str) -> Target:
    """The request to ``endpoint`` with ``method``, filled with structure B's ids."""
    url_rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return next(t for t in targets(app, url_rules) if t.method == method)


# --- The table ------------------------------------------------------------------------


def test_every_route_is_in_the_access_table_and_every_parameter_has_a_source(world_app):
    assert table_problems(world_app) == []
    with world_app.app_context():
        for rule in world_app.url_map.iter_rules():
            fill_url(rule, db.session)  # raises, naming the route, when a source is missing
    for scope in Scope:
        assert rules_of(world_app, scope), f"no {scope} route: the walk would prove nothing"


# --- The walk -------------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_one_outside_structure_b_reaches_it_nor_changes_anything(world_app, who):
    outsider = visitor_for(world_app, who)  # signed in before the snapshot: nothing to except
    url_rules = rules_walked_by(world_app, who)
    planned = targets(world_app, url_rules)
    # B's objects behind A's own structure id: a view must look them up within A only.
    with world_app.app_context():
        a_id = structure_a_id(db.session)
    with_objects = [
        r
        for r in url_rules
        if RULES[r.endpoint].scope is Scope.STRUCTURE and set(r.arguments) - {"structure_id"}
    ]
    planned += targets(world_app, with_objects, {"structure_id": a_id})
    before = snapshot(world_app)

    attempts = walk(world_app, outsider, planned)

    assert violations(attempts) == []
    assert changed_tables(before, snapshot(world_app)) == ()
    assert {a.endpoint for a in attempts} == {r.endpoint for r in url_rules}
    assert {a.method for a in attempts} >= {"GET", "POST"}


def test_a_worker_never_sees_another_workers_own_space(world_app):
    julie = visitor_for(world_app, "julie").client  # her sign-in is in the audit trail now
    karim = visitor_for(world_app, "karim").client
    own_space = [r for r in rules_of(world_app, Scope.PERSON) if not names_ids(r)]
    pages = [t for t in targets(world_app, own_space) if t.method == "GET"]
    assert pages
    for page in pages:
        assert julie.get(page.url).status_code == 200
        response = karim.get(page.url)
        assert response.status_code == 200, page.url
        text = readable_text(response)
        shown = [trace for trace in OTHER_WORKERS_TRACES if trace in text]
        assert shown == [], f"karim sees {shown} on {page.url}"
    # The check above would see a leak: the same traces are on julie's own page.
    assert "Julie" in julie.get("/moi/").get_data(as_text=True)


# --- Positive control -----------------------------------------------------------------


def test_rightful_users_get_every_get_url_of_structure_b(world_app):
    logins = B_STAFF + ["b.salarie", "super.admin", ANONYMOUS]
    visitors = {login: visitor_for(world_app, login) for login in logins}
    failures, checked = [], set()
    for url_rule in rules_of(world_app, *Scope):
        if "GET" not in methods_of(url_rule):
            continue
        page = target_of(world_app, url_rule.endpoint, "GET")
        rule = RULES[url_rule.endpoint]
        for login in rightful_logins(rule):
            response = visitors[login].send(page)
            response.close()
            if not 200 <= response.status_code < 300:
                failures.append(
                    f"{login}: GET {page.url} ({page.endpoint}) -> {response.status_code}"
                )
            checked.add((rule.scope, login))
    assert failures == [], "a page needing a query string gets one from QUERY_ARGS (routes.py)"
    assert {scope for scope, _ in checked} == set(Scope)
    assert {login for _, login in checked} == set(logins)


def test_a_rightful_post_redirects_and_changes_what_it_should(world_app):
    admin = visitor_for(world_app, "b.admin")

    create = target_of(world_app, "admin.create_team", "POST")
    response = admin.send(create)
    assert response.status_code == 302
    with world_app.app_context():
        team = db.session.scalars(select(Team).where(Team.name == create.body["name"])).one()
        assert team.structure_id == structure_b(db.session).id
        assert response.headers["Location"].endswith(f"/equipes/{team.public_id}")

    roles = target_of(world_app, "admin.member_roles", "POST")
    response = admin.send(roles)
    assert response.status_code == 302
    with world_app.app_context():
        validateur = b_member(db.session, "b.validateur")
        assert roles.url.split("/")[-2] == validateur.public_id
        assert validateur.role_set == {Role.ADMIN}


def test_every_form_body_is_accepted_from_a_rightful_user(world_app, world_app_with):
    """The walk's POST bodies would write if a check were missing: each does, when rightful."""
    forms = [
        (r.endpoint, method)
        for r in rules_of(world_app, Scope.STRUCTURE, Scope.PERSON, Scope.PLATFORM)
        for method in methods_of(r)
        if method != "GET"
    ]
    assert forms
    failures = []
    for endpoint, method in forms:
        app = world_app_with()  # a fresh world for each: forms do not disturb one another
        rightful = visitor_for(app, rightful_logins(RULES[endpoint])[0])
        form = target_of(app, endpoint, method)
        before = snapshot(app)
        response = rightful.send(form)
        wrote = changed_tables(before, snapshot(app))
        if response.status_code >= 400 or not wrote:
            failures.append(f"{endpoint}: {method} -> {response.status_code}, wrote {wrote}")
    assert failures == [], "add or fix an entry of POST_BODIES in tests/support/routes.py"


# --- The matrix catches what it must --------------------------------------------------


def test_the_checker_reports_a_leak_a_write_a_crash_and_a_stray_redirect():
    attempts = [
        Attempt("claire.admin", "GET", "/s/b/", "staff.home", 404),
        Attempt("claire.admin", "GET", "/s/b/admin/personnes", "admin.members", 200),
        Attempt(ANONYMOUS, "GET", "/moi/", "me.index", 302, "/connexion?next=/moi/"),
        Attempt(ANONYMOUS, "POST", "/moi/code", "me.secret", 302, "/"),
        Attempt("karim", "POST", "/s/b/admin/equipes", "admin.create_team", 302, "/", ("teams",)),
        Attempt("nadia.validatrice", "GET", "/s/b/salaries", "staff.workers", 500, error="Boom"),
        Attempt("marc.encadrant", "POST", "/s/b/salaries/w/code", "staff.reset_code", 429),
    ]
    found = violations(attempts)
    assert len(found) == 4
    for endpoint in ("admin.members", "me.secret", "admin.create_team", "staff.workers"):
        assert any(endpoint in line for line in found), endpoint
    assert DENIED == {302, 401, 403, 404, 429}


def test_the_walk_catches_a_forgotten_membership_check(world_app, monkeypatch):
    claire = visitor_for(world_app, "claire.admin")

    def anyone_is_admin(session, user, structure):  # the bug: never asks who is asking
        return session.scalars(
            select(Membership)
            .join(MembershipRole)
            .where(Membership.structure_id == structure.id, MembershipRole.role == Role.ADMIN)
        ).first()

    monkeypatch.setattr(people, "current_membership", anyone_is_admin)
    url_rules = rules_of(world_app, Scope.STRUCTURE)
    attempts = walk(world_app, claire, targets(world_app, url_rules))
    found = violations(attempts)
    leaked = {a.endpoint for a in attempts if a.method == "GET" and 200 <= a.status < 300}
    admin_pages = {
        r.endpoint
        for r in url_rules
        if "GET" in methods_of(r) and Role.ADMIN in RULES[r.endpoint].roles
    }
    assert admin_pages and leaked == admin_pages
    assert any("admin.create_team" in line and "changed table(s)" in line for line in found)


def test_a_route_without_a_rule_a_mis_scoped_rule_or_an_unknown_parameter_fails(
    world_app, monkeypatch
):
    world_app.add_url_rule(
        "/s/<structure_id>/badges/<badge_id>", "badges.show", lambda structure_id, badge_id: ""
    )
    assert "badges.show: route missing from RULES" in table_problems(world_app)
    monkeypatch.setitem(RULES, "badges.show", RULES["staff.worker"])
    assert table_problems(world_app) == []
    monkeypatch.setitem(RULES, "admin.members", PUBLIC)
    assert any(line.startswith("admin.members: scope public") for line in table_problems(world_app))
    badge = next(r for r in world_app.url_map.iter_rules() if r.endpoint == "badges.show")
    with world_app.app_context(), pytest.raises(MissingParamSource, match="PARAM_SOURCES"):
        fill_url(badge, db.session)
