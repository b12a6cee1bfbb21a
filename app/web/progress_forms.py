"""Forms of the progress pages: self-assessment (one question per competence), focus,
comment, and the point d'étape with its goals. Labels are plain French."""

from __future__ import annotations

from collections.abc import Sequence

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FieldList, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.domain.progress import GOAL_KINDS, Choice
from app.models import Competence
from app.web.forms import REQUIRED, RadioField, SelectField
from app.web.i18n import localized

MAX_GOALS = 3
KIND_LABELS = {
    "accompagnement": _l("Accompagnement"),
    "professionnel": _l("Professionnel"),
    "personnel": _l("Personnel"),
}
assert set(KIND_LABELS) == set(GOAL_KINDS)


def answer_field_name(competence: Competence) -> str:
    """The form field of one competence's answer."""
    return f"a-{competence.public_id}"


def self_assessment_form(
    competences: Sequence[Competence], choices: Sequence[Choice], locale: str
) -> FlaskForm:
    """One optional question per competence, answered with one of ``choices``."""

    class SelfAssessmentForm(FlaskForm):
        pass

    pairs = [(c.code, localized(c.label, locale)) for c in choices]
    for competence in competences:
        setattr(
            SelfAssessmentForm,
            answer_field_name(competence),
            RadioField(
                localized(competence.statement, locale) or localized(competence.name, locale),
                choices=pairs,
                validators=[Optional()],
            ),
        )
    return SelfAssessmentForm()


class FocusForm(FlaskForm):
    competence = SelectField(
        _l("Le point que je choisis"),
        choices=[],
        validators=[DataRequired(_l("Choisissez un point."))],
    )


class CommentForm(FlaskForm):
    text = TextAreaField(
        _l("Mon commentaire"),
        validators=[
            DataRequired(_l("Écrivez votre commentaire.")),
            Length(max=500, message=_l("500 caractères au plus.")),
        ],
    )


class GoalForm(wtforms.Form):
    """One goal of a review; a row left without a competence is ignored."""

    competence = SelectField(_l("Compétence"), choices=[], validators=[Optional()])
    kind = SelectField(
        _l("Type d'objectif"),
        choices=[(k, label) for k, label in KIND_LABELS.items()],
        validators=[Optional()],
    )
    target = SelectField(_l("Niveau visé (facultatif)"), choices=[], validators=[Optional()])
    text = StringField(
        _l("L'objectif en quelques mots"),
        validators=[Optional(), Length(max=300, message=_l("300 caractères au plus."))],
    )


class ReviewForm(FlaskForm):
    held_on = DateField(_l("Date du point d'étape"), validators=[DataRequired(REQUIRED)])
    next_steps = TextAreaField(
        _l("Prochaines étapes convenues ensemble"),
        validators=[Optional(), Length(max=2000, message=_l("2000 caractères au plus."))],
    )
    next_review_on = DateField(_l("Date du prochain point (facultative)"), validators=[Optional()])
    adjusted = BooleanField(_l("Plan ajusté : le rythme ou les objectifs ont changé"))
    goals = FieldList(FormField(GoalForm), min_entries=MAX_GOALS, max_entries=MAX_GOALS)


def prepare_review_form(
    form: ReviewForm, competences: Sequence[Competence], level_words: dict[int, str], locale: str
) -> ReviewForm:
    """Fill the choices of every goal row (competences of the grid, levels in words)."""
    competence_choices = [("", _l("— Pas d'objectif —"))] + [
        (c.public_id, localized(c.name, locale)) for c in competences
    ]
    level_choices = [("", _l("—"))] + [(str(n), w) for n, w in sorted(level_words.items())]
    for entry in form.goals:
        entry.form.competence.choices = competence_choices
        entry.form.target.choices = level_choices
    return form
