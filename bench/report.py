"""Figures and their goals, written to ``docs/benchmarks.json`` and ``docs/benchmarks.md``."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.assessments import AGGREGATES as _AGGREGATES

_COMPARE: dict[str, Callable[[float, float], bool]] = {"≥": operator.ge, "≤": operator.le}


@dataclass(frozen=True)
class Figure:
    """One measured ratio and its goal; ``met`` is computed, a missed goal stays visible."""

    name: str
    title: str
    value: float
    goal_op: str
    goal_value: float
    unit: str = "ratio"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def goal(self) -> str:
        return f"{self.goal_op} {self.goal_value:g}"

    @property
    def met(self) -> bool:
        return _COMPARE[self.goal_op](self.value, self.goal_value)

    def as_json(self) -> dict[str, Any]:
        """The figure as written to the JSON file."""
        return {
            "name": self.name,
            "value": round(self.value, 3)
            if abs(self.value) >= 0.01
            else float(f"{self.value:.3g}"),
            "goal": self.goal,
            "goal_op": self.goal_op,
            "goal_value": self.goal_value,
            "met": self.met,
            "unit": self.unit,
            "title": self.title,
            "details": self.details,
        }


METHOD = """\
Every figure is a ratio between two measurements taken in the same run, on the same
machine, because absolute times move 2–3× from one run to the next here (2 cores, shared).
The absolute numbers in the context column are there to read the ratios, not goals.

- **Capture throughput.** A fresh SQLite database is migrated and seeded through the
  services; the server (Werkzeug, threaded, on 127.0.0.1) runs in a process of its own and
  client threads with keep-alive connections ({connections} at once, then one at a time)
  send {requests} POST requests per round to each endpoint. The real endpoint is
  `POST /api/v1/structures/<sid>/observations` with a bearer token, a new
  `Idempotency-Key` and one item per request, everything included (access checks,
  validation, the capture, observation, version and audit rows, the commit, the JSON
  answer). The baseline is a bench-only endpoint on the same server with the same access
  rule (the same token, structure and membership checks run before it) that inserts one
  row and commits on the same database. Both are measured in turn (bare, real, bare,
  real…) for {rounds} rounds after a warm-up; the figure is the median of the per-round
  ratios real ÷ bare, the context gives the median requests/s of each and the server
  process's CPU time per request (read from `/proc`, which the machine's load hardly moves).
- **Team page.** The measured team has {team_size} workers with {per_worker} observations
  each; bulk SQL filler observations (of {filler_workers} other workers, in the same
  structure and {others} others, on the same competences, each with its first version) bring
  the database to {small} observations, and a copy of that file to {large}; `ANALYZE` runs
  after filling. `GET /s/<sid>/equipe`, signed in as the encadrant, is timed on both
  databases alternately ({page_rounds} requests each after a warm-up, in-process test
  client, whole request); the figure is median(large) ÷ median(small).

- **Recompute of one worker.** `services.assessments.recompute_worker` (every current badge
  template, each of its tiers, with `apply` as after a capture: statuses stored, proposals
  checked) for the measured team's worker with the most observations at level 3 or more,
  on both databases alternately ({recompute_rounds} calls each after a warm-up, each rolled
  back so that every call starts from the same stored statuses). Python and SQLite run in
  this process on one thread, so the time kept is its CPU time (user + system), which the
  machine's load hardly moves; the figure is median(large) ÷ median(small), wall times are
  in the context.
- **Full recompute ÷ SQL aggregate.** Every worker of the measured structure (the team and
  the structure's filler workers) recomputed as `flask assessments recompute --structure
  <id>` does it (dry run: every worker × current template × tier evaluated and explained,
  nothing written), against one SQL statement over the same observations (below). Both
  are credited with the same worker × competence pairs (workers × templates, each template
  recognising one competence), so the figure, throughput(recompute) ÷ throughput(SQL), is
  CPU time(SQL) ÷ CPU time(recompute), medians of {full_rounds} runs taken in turn. The
  statement runs as written (the planner's plan) and through the structure index
  (`INDEXED BY`): the faster is the baseline, so that a poor plan never flatters the
  recompute. The recompute (`services.assessments.recompute_workers`) reads the evidence,
  self-assessments, stored statuses and proposals of up to 500 workers in four statements,
  then evaluates every worker × template × tier in Python (every level of every observation,
  empty pairs included), each worker's evidence sorted and dated once; the SQL reads the
  rows once and only counts them.

- **Bulk issuance.** A copy of the small database gets a few hundred approved decisions
  ({issue_batch} per timed batch; Proposal rows written directly, for the measured team ×
  current templates × tiers, each citing {evidence} of the worker's observations as evidence; a
  third of the team has an email, a third a telephone, the rest their identity URL), the
  issuer's key and every BadgeClass needed (artwork rendered before timing: a class's first
  badge pays it once, shown in the context). A batch is what `flask badges issue --apply`
  does: read the decisions, `services.badges.issue_all` (per batch: workers, templates,
  classes, evidence and the issuer's key read once, each class URL, key verification object
  and person's normalised identity made once; per badge: recipient hashed, evidence
  narrative, assertion document built from the row's values, RS256 JWS written with
  `cryptography` (the bytes PyJWT wrote); assertion rows in one multi-row insert returning
  them, audit rows in another), one commit.
  The baseline is {sign_batch} bare RSA-2048 signatures (`cryptography`, PKCS#1 v1.5,
  SHA-256) of a real JWS signing input with the same key. Both run in this process in
  turn for {issue_rounds} rounds after a warm-up; the figure is the median of the
  per-round ratios badges/s ÷ signatures/s (wall time; CPU per item in the context).
- **PNG baking.** One BadgeClass PNG (400×400 artwork as issued) and the hosted JSON of a
  badge as payload, baked in turn by what the download route does per request,
  `services.badges.bake_class_png` on the app's database session (the class layouts of
  that session's database found, then the class's layout by class id: a class image is
  written once and never updated, so it is read from the database, its deferred column, and
  cut with every CRC checked on the first bake only; the iTXt chunk made; the SHA-256 ETag
  digest of the image digest and payload; the parts streamed, never joined), by
  `openbadges-bakery` 2.0.0's `bake` (pypng, chunk by chunk; a bench-only dependency) and
  by Pillow (decode, save with a `PngInfo` iTXt chunk), both given the image bytes in
  memory. Each output is first read back by both `unbake_png` and the bakery's `unbake`,
  and ours must equal `bake_png`'s bytes (CRCs checked). Each method's count per
  round is fixed first so that a round lasts about {bake_seconds:g} s; {bake_rounds} rounds,
  order rotated; the figures are medians of per-round ratios of bakes/s. The Pillow
  figure is informational (goal: simply faster than re-encoding).
- **Hosted assertion JSON.** The issued badges are first accepted by their earners
  (`services.consent.accept`, not shown on the profile): since issue #10 a badge's address,
  its baked downloads and its verification answer only once accepted. The issuance database
  is then copied and filled by SQL (one `INSERT … SELECT` over a recursive sequence, one
  transaction) with copies of its issued assertions (their consent included), new random
  public ids and one pre-signed JWS reused, to {assertions_small}
  assertions, and a copy of that to {assertions_large}; `ANALYZE` after filling.
  `GET /badges/<id>.json` (in-process test client, whole request: lookup, document built
  from the rows, ETag) for a different random badge each time, alternating between the two
  databases ({json_rounds} requests each after a warm-up); median(large) ÷ median(small).

- **Verification ÷ RSA.** A copy of the issuance database in which {revoked_sample} badges
  are withdrawn through `services.revocations.revoke`, so that the issuer's revocation list
  is not empty. One of its signed badges (the JWS as issued) is verified by
  `app.openbadges.verify` with a fetch that returns the documents already built (BadgeClass,
  Issuer, CryptographicKey, RevocationList, made once by `LocalResolver.fetch`) from a dict:
  every check runs (JWS parsed and RS256-verified with the key's PEM, each document checked,
  key owner and revocation, the list looked through, dates). The baseline is one bare
  RSA-2048 PKCS#1 v1.5 SHA-256 verification (`cryptography`) of the same signing input with
  the same public key, already loaded. Each side's count per round is fixed first so that it
  lasts about {library_seconds:g} s; {library_rounds} rounds in turn; both run on one thread
  of this process, so the figure is the median of per-round ratios of verifications per CPU
  second (the wall-clock ratio is in the context).
- **`verify_badge` ÷ the official validator.** Three live badges of that database (recipient
  by email, telephone and identity URL), each in five forms: its JWS and its baked PNG and
  SVG downloads, hosted and signed (`badge.png`, `badge.png?variante=signee`, …), fetched
  once: 15 inputs. Jalon's side is `services.verification.verify_badge`, the code path of
  `flask badges verify` and of an employer's check: this instance's documents and
  revocations resolved from the database by `LocalResolver`, one new session per
  verification. The other side is badgecheck 1.2.0 (`.venv-badgecheck`, `make validator`),
  started once in a subprocess (`bench/validator_rounds.py`, with the offline shims of
  `tests/conformance/badgecheck_runner.py`): it is served the same public documents, as the
  app answers badgecheck's `Accept` header, from an in-memory dict at its `requests` adapter
  (no HTTP server; the OB v2 context from badgecheck's own copy), and it times its own
  `verify()` calls in its interpreter, start-up and imports excluded. Every input must be
  valid on both sides before timing starts (no recipient given to either).
  {validator_rounds} rounds in turn: one pass over the 15 inputs in the validator, and on our
  side enough passes to last about {ours_seconds:g} s. Each side is one single-threaded
  process, so the figure is the median of per-round ratios of verifications per CPU second
  of each (the wall-clock ratio is in the context).
- **Employer's page ÷ `verify_badge`.** The baked PNG download of one live badge of that
  database (`/badges/<id>/badge.png`, the hosted variant, recipient by email), fetched once.
  `POST /verifier` with that file as `fichier` (multipart, in-process test client, whole
  request: form read, the upload recognised as a baked PNG, `services.verification.check`,
  the page rendered), in an app of its own with the form's CSRF check and the rate limit
  off (`WTF_CSRF_ENABLED` and `RATELIMIT_ENABLED` false). Each POST also counts the
  verification: one `badge_verifications` row (badge and month) added and committed, a
  write to the SQLite file on every answer, which is part of the page's real cost and is
  kept in. The baseline is `verify_badge` on the same PNG bytes, in an app context of the
  same app and database, one new session per call. Every answer must say « Valide » and
  one POST must add exactly one row before timing starts. Each side's count per round is
  fixed first so that it lasts about {verifier_seconds:g} s; {verifier_rounds} rounds in
  turn; the figure is the median of per-round ratios of answers per second (wall time,
  since the commit waits on the disk; the CPU-time ratio is in the context).
- **Verification with revoked badges listed.** The issuance database copied and filled by
  SQL as for the hosted JSON figure, but with every filler assertion withdrawn (`revoked_at`
  set, one of the staff's reasons): {assertions_small} revoked assertions beside the live
  badges, and a copy of that filled to {assertions_large}; `ANALYZE` after filling.
  `verify_badge` on the JWS of a random live badge (new session each time, whole call, wall
  time), alternating between the two databases ({revoked_rounds} calls each after a
  warm-up); median(large) ÷ median(small). Its revocation check is
  `LocalResolver.revocation`, one indexed lookup of the assertion, not a read of the list.

- **Worker's badge list.** A copy of the issuance database, filled by SQL as for the hosted
  JSON figure to {portfolio_assertions} assertions of the measured team; then two new workers
  of the measured structure, signed in with a password, get {many} and {few} badges: an
  approved decision each (cycling through the current templates × tiers, each citing the
  same four observations), issued by `services.badges.issue` a day apart (real JWS, artwork
  of new classes rendered then) and accepted through `services.consent.accept` (every other
  one shown on the profile). `GET /moi/badges` (in-process test client, whole request: the
  session, the badge query, every card rendered, the passport's checkboxes) is timed for
  each worker alternately ({list_rounds} requests each after a warm-up; each page must show
  exactly its number of cards); the figure is median({many}) ÷ median({few}). The SQL
  statements of one request are counted for both (an N+1 would make the count grow) and the
  list query's plan is shown below. The same is timed, for context, on the issuance database
  not filled (the same two workers added). Goal ≤ 10, half the growth of the badges: a page is a
  fixed part F (session, layout, its few statements) and a part c per card (one joined row,
  one card rendered); (F + {many}c) ÷ (F + {few}c) ≤ 10 gives each card at most about 9 % of
  F, which a row read and a card rendered fit in, and a cost per badge that grows with the
  rest of the database (a scan per badge) does not.
- **Passport ÷ one PDF per badge.** The first {passport_badges} accepted badges of the
  worker with {many}, made into sheets once (`badge_pdf.sheet_for`); then, in turn,
  `badge_pdf.passport_pdf` of the {passport_badges} ({per_page} badges per A4 page) and
  `badge_pdf.badge_pdf` of each of them, {pdf_rounds} rounds. Pure Python on one thread of
  this process, so the time kept is CPU time; the figure is the median of per-round ratios
  (the wall-clock ratio is in the context). Goal ≤ 1: printing the chosen badges together
  must not cost more than printing each apart. The statements of `GET
  /moi/badges/passeport.pdf?badge=…` for the same badges are counted too.
- **ZIP export.** The first {export_badges} accepted badges of the same worker, loaded once
  as the route loads them (`queries.portfolio.earner_badges`). `badge_export.export_archive`
  of all of them (per badge: baked PNG and SVG, one-page PDF, assertion and BadgeClass JSON,
  JWS; then a passport of all and `LISEZMOI.txt`) against {export_badges} exports of one
  badge each (the same badges, each its own archive with its passport and guide), and an
  export of the first {export_sizes} for the cost per badge as the archive grows; order
  rotated, {export_rounds} rounds, CPU time, median of per-round ratios. Each archive is
  checked first (its entries, their CRCs), and the statements run while it is built from
  loaded badges are counted (none: nothing is read per badge). Goal ≤ 1.2: linear or
  better, nothing growing with the square of the badges.

Run with `make bench` (not part of `make test`; no test is timed; it builds the validator's
virtualenv first). Database: SQLite only.
"""


def _value(value: float) -> str:
    """Two decimals; two significant digits below 0.1, so that a far miss stays readable."""
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.2g}"


def _n(count: int) -> str:
    return f"{count:,}".replace(",", " ")


def _recompute_context(d: dict[str, Any]) -> str:
    if "worker_observations" in d:
        return (
            f"{d['small_ms']:g} ms at {_n(d['small'])} vs {d['large_ms']:g} ms at "
            f"{_n(d['large'])} (CPU; wall {d['small_wall_ms']:g} vs {d['large_wall_ms']:g} ms); "
            f"{d['statements_small']} vs {d['statements_large']} SQL statements per call; "
            f"{d['worker_observations_at_3_or_more']} of the worker's "
            f"{d['worker_observations']} observations at level 3 or more"
        )
    other = "structure_index" if d["sql_plan_used"] == "planner" else "planner"
    return (
        f"recompute {_n(d['recompute_pairs_per_s'])} pairs/s ({d['workers']} workers × "
        f"{d['templates']} templates in {d['recompute_s']:g} s CPU), SQL "
        f"{_n(d['sql_pairs_per_s'])} pairs/s ({d['sql_ms']:g} ms CPU, {d['sql_rows']} rows, "
        f"{_PLANS[d['sql_plan_used']]}; {_PLANS[other]}: {d[f'sql_{other}_ms']:g} ms); "
        f"{d['statements']} SQL statements for the {d['workers']} workers"
    )


_PLANS = {"planner": "planner's plan", "structure_index": "through the structure index"}


def _openbadges_context(d: dict[str, Any]) -> str:
    if "issued_per_s" in d:
        kinds = ", ".join(f"{v} {k}" for k, v in d["recipients"].items())
        return (
            f"{d['issued_per_s']:g} badges/s vs {d['signatures_per_s']:g} signatures/s "
            f"(CPU {d['cpu_ms_issue']:g} vs {d['cpu_ms_sign']:g} ms each); "
            f"{d['statements_per_badge']} SQL statements to issue a batch of one; "
            f"JWS {d['jws_bytes']} bytes; "
            f"recipients {kinds}; artwork of a new BadgeClass {d['artwork_ms_median']:g} ms"
        )
    if "jalon_per_s" in d:
        return (
            f"Jalon {_n(round(d['jalon_per_s']))}/s, openbadges-bakery "
            f"{_n(round(d['bakery_per_s']))}/s, Pillow {_n(round(d['pillow_per_s']))}/s; "
            f"PNG {d['png_size']}, {_n(d['png_bytes'])} bytes, payload {d['payload_bytes']} bytes"
        )
    return (
        f"{d['small_ms']:g} ms at {_n(d['assertions_small'])} vs {d['large_ms']:g} ms at "
        f"{_n(d['assertions_large'])} assertions ({_n(d['small_db_mb'])} vs "
        f"{_n(d['large_db_mb'])} MB files); {d['statements_small']} vs "
        f"{d['statements_large']} SQL statements per request"
    )


def _verification_context(d: dict[str, Any]) -> str:
    if "page_per_s" in d:
        return (
            f"`/verifier` {d['page_per_s']:g} answers/s, `verify_badge` "
            f"{d['verify_badge_per_s']:g}/s (CPU {d['cpu_ms_page']:g} vs "
            f"{d['cpu_ms_verify_badge']:g} ms each; CPU ratio {_value(d['cpu_ratio'])}); "
            f"{d['statements_page']} vs {d['statements_verify_badge']} SQL statements; "
            f"{d['variant']} baked PNG, {_n(d['png_bytes'])} bytes; "
            f"{_n(d['verifications_counted'])} verifications counted"
        )
    if "library_per_s" in d:
        return (
            f"{_n(round(d['library_per_s']))} verifications/s vs {_n(round(d['rsa_per_s']))} "
            f"RSA verifications/s (CPU {d['cpu_us_library']:g} vs {d['cpu_us_rsa']:g} µs each; "
            f"wall-clock ratio {_value(d['wall_ratio'])}); JWS {d['jws_bytes']} bytes, "
            f"{d['documents']} documents in memory, revocation list of "
            f"{d['revocation_list_entries']} entries"
        )
    if "validator_per_s" in d:
        return (
            f"`verify_badge` {d['ours_per_s']:g}/s, validator {d['validator_per_s']:g}/s (CPU "
            f"{d['cpu_ms_ours']:g} vs {d['cpu_ms_validator']:g} ms each; wall-clock ratio "
            f"{_value(d['wall_ratio'])}); {len(d['inputs'])} inputs; "
            f"{d['statements_jws']} SQL statements to verify a JWS"
        )
    return (
        f"{d['small_ms']:g} ms at {_n(d['revoked_small'])} vs {d['large_ms']:g} ms at "
        f"{_n(d['revoked_large'])} revoked ({_n(d['small_db_mb'])} vs "
        f"{_n(d['large_db_mb'])} MB files); {d['statements_small']} vs "
        f"{d['statements_large']} SQL statements per verification"
    )


def _portfolio_context(d: dict[str, Any]) -> str:
    if "many_ms" in d:
        return (
            f"{d['many_ms']:g} ms with {d['many']} badges vs {d['few_ms']:g} ms with "
            f"{d['few']} ({d['per_badge_ms']:g} ms more per badge); {d['statements_many']} vs "
            f"{d['statements_few']} SQL statements per request; "
            f"{d['image_bytes_many'] / 2**20:.1f} MB of class artwork read for {d['many']} "
            f"badges; with {_n(d['issued_assertions'])} assertions stored: "
            f"{d['issued_many_ms']:g} vs {d['issued_few_ms']:g} ms "
            f"(ratio {_value(d['issued_ratio'])})"
        )
    if "passport_ms" in d:
        return (
            f"passport {d['passport_ms']:g} ms ({d['passport_pages']} pages, "
            f"{_n(d['passport_bytes'])} bytes) vs {d['pages_ms']:g} ms for {d['badges']} "
            f"one-page PDFs ({_n(d['pages_bytes'])} bytes), CPU; wall-clock ratio "
            f"{_value(d['wall_ratio'])}; {d['statements_passport']} SQL statements per "
            "passport request"
        )
    per_badge = ", ".join(f"{n}: {ms:g} ms" for n, ms in d["per_badge_ms"].items())
    return (
        f"{_n(round(d['all_ms']))} ms for {d['badges']} badges vs {_n(round(d['alone_ms']))} "
        f"ms one at a time (CPU; wall-clock ratio {_value(d['wall_ratio'])}); per badge "
        f"with {per_badge}; {d['statements_archive']} SQL statements while the archive is "
        f"built, {d['statements_route_few']} per export request ({d['few']} badges)"
    )


def _context(figure: Figure) -> str:
    d = figure.details
    if {"many_ms", "passport_ms", "alone_ms"} & d.keys():
        return _portfolio_context(d)
    if {"page_per_s", "library_per_s", "validator_per_s", "revoked_small"} & d.keys():
        return _verification_context(d)
    if {"issued_per_s", "jalon_per_s", "assertions_small"} & d.keys():
        return _openbadges_context(d)
    if "worker_observations" in d or "recompute_s" in d:
        return _recompute_context(d)
    if "real_per_s" in d:
        cpu = (
            f"; server CPU {d['server_cpu_ms_real']:g} vs {d['server_cpu_ms_bare']:g} ms/request"
            if "server_cpu_ms_real" in d
            else ""
        )
        return (
            f"real {d['real_per_s']:g}/s, bare {d['bare_per_s']:g}/s{cpu}; "
            f"{d['statements_real']} vs {d['statements_bare']} SQL statements per request"
        )
    if "small_ms" in d:
        return (
            f"{d['small_ms']:g} ms at {d['small']:,} vs {d['large_ms']:g} ms at {d['large']:,}; "
            f"{d['statements_small']} vs {d['statements_large']} SQL statements per page"
        ).replace(",", " ")
    return ""


def _short_query(query: str) -> str:
    """The statement without its long column list, one clause a line."""
    start = query.find(" FROM ")
    if start < 0:
        return query
    text = "SELECT … " + query[start + 1 :]
    for clause in (" LEFT OUTER JOIN ", " WHERE ", " ORDER BY "):
        text = text.replace(clause, "\n" + clause.strip() + " ")
    return text


def markdown(figures: list[Figure], run: dict[str, Any], method: dict[str, Any]) -> str:
    """The Markdown report: the table, the run's context, the method."""
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` on {run['date']} ({run['python']}, SQLite {run['sqlite']}, "
        f"{run['cores']} cores, load average {run['load']} at the start, {run['seconds']:.0f} s)."
        " Do not edit by hand.",
        "",
        "| Figure | Value | Goal | Met | Context |",
        "|---|---|---|---|---|",
    ]
    for f in figures:
        met = "yes" if f.met else "**MISSED**"
        lines.append(f"| {f.title} | {_value(f.value)} | {f.goal} | {met} | {_context(f)} |")
    lines += ["", "## Method", "", METHOD.format(**method)]
    for f in figures:
        plan = f.details.get("counts_plan")
        if plan:
            lines += [
                "## Query plan of the team page's counts (large database)",
                "",
                "```sql",
                f.details.get("counts_query") or "",
                "```",
                "",
                *[f"    {step}" for step in plan],
                "",
            ]
        listing = f.details.get("list_plan")
        if listing:
            lines += [
                "## Query plan of the worker's badge list "
                f"({_n(f.details['assertions'])} assertions)",
                "",
                "```sql",
                _short_query(f.details.get("list_query") or ""),
                "```",
                "",
                *[f"    {step}" for step in listing],
                "",
                f"With {_n(f.details['issued_assertions'])} assertions stored:",
                "",
                *[f"    {step}" for step in f.details.get("issued_plan", [])],
                "",
            ]
        for name, plan in f.details.get("aggregate_plans", {}).items():
            lines += [
                f"## Full recompute's SQL aggregate, {_PLANS[name]} "
                f"({_n(f.details['observations'])} observations)",
                "",
                "```sql",
                _AGGREGATES[name],
                "```",
                "",
                *[f"    {step}" for step in plan],
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def write(out: Path, figures: list[Figure], run: dict[str, Any], method: dict[str, Any]) -> None:
    """Write ``benchmarks.json`` and ``benchmarks.md`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = [f.as_json() for f in figures]
    (out / "benchmarks.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "benchmarks.md").write_text(markdown(figures, run, method), encoding="utf-8")
