"""Forms (Flask-WTF: every form carries a CSRF token). Labels are plain French."""

from __future__ import annotations

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from app.domain.enums import DEFAULT_ROLE_TITLES, STRUCTURE_KIND_LABELS, Role, SituationType

REQUIRED = _l("Ce champ est obligatoire.")


def _stripped(value: str | None) -> str | None:
    """A filter: the text without the spaces around it (a pasted id often has some)."""
    return value.strip() if isinstance(value, str) else value


def _as_select_choices(value):  # type: ignore[no-untyped-def]
    """(value, label) pairs as WTForms ``SelectChoice`` objects (tuples are deprecated)."""
    if value is None:
        return None
    return [
        SelectChoice(str(item[0]), item[1]) if isinstance(item, tuple) else item for item in value
    ]


class _ChoicesFromPairs:
    """Lets forms and views keep writing choices as (value, label) pairs."""

    def __init__(self, *args, choices=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, choices=_as_select_choices(choices), **kwargs)

    @property
    def choices(self):  # type: ignore[no-untyped-def]
        return self._choices

    @choices.setter
    def choices(self, value) -> None:  # type: ignore[no-untyped-def]
        self._choices = _as_select_choices(value)


class SelectField(_ChoicesFromPairs, wtforms.SelectField):
    pass


class RadioField(_ChoicesFromPairs, wtforms.RadioField):
    pass


class MultiCheckboxField(_ChoicesFromPairs, wtforms.SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EmptyForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class ClaimForm(FlaskForm):
    """The claim page (``/connexion/retrait``): prefilled from the QR code, posted to the
    sign-in form, so its fields are named like ``LoginForm``'s. The code is shown: it
    is printed on the sheet anyway."""

    login = StringField(
        _l("Identifiant"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    secret = StringField(
        _l("Code de retrait"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters"},
    )


class ClaimCodeForm(FlaskForm):
    """Print a claim sheet; optionally send its link by SMS or e-mail too."""

    send = BooleanField(_l("Envoyer aussi le lien par SMS ou par e-mail"))


class LoginForm(FlaskForm):
    login = StringField(
        _l("Identifiant ou adresse e-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    secret = PasswordField(
        _l("Mot de passe ou code"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class SecretForm(FlaskForm):
    new_secret = PasswordField(
        _l("Nouveau mot de passe ou code"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Le même, encore une fois"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_secret", _l("Les deux saisies ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


ROLE_CHOICES = [(r.value, DEFAULT_ROLE_TITLES[r]) for r in Role]


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(
        _l("Rôles"),
        choices=ROLE_CHOICES,
        validators=[DataRequired(_l("Choisissez au moins un rôle."))],
    )


class NewMemberForm(RolesForm):
    first_name = StringField(_l("Prénom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    login = StringField(
        _l("Identifiant de connexion (facultatif, proposé sinon)"),
        validators=[Optional(), Length(max=64)],
    )
    email = EmailField(_l("Adresse e-mail (facultative)"), validators=[Optional(), Length(max=254)])
    phone = StringField(
        _l("Téléphone (facultatif)"),
        validators=[Optional(), Length(max=30)],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    started_on = DateField(_l("Date d'arrivée"), validators=[Optional()])


class ContactForm(FlaskForm):
    """A worker's email and telephone, changed by staff (both optional: empty removes one).
    Checked and normalised by ``app.services.identities.change_contact``."""

    email = EmailField(
        _l("Adresse e-mail (facultative)"),
        filters=[_stripped],
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Téléphone (facultatif)"),
        filters=[_stripped],
        validators=[Optional(), Length(max=30)],
        render_kw={"type": "tel", "autocomplete": "off"},
    )


class ExistingMemberForm(RolesForm):
    login = StringField(
        _l("Identifiant de la personne (elle a déjà un compte)"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
    )


class FollowUpForm(FlaskForm):
    referent = SelectField(_l("Conseiller·ère référent·e"), choices=[], validate_choice=True)
    sees_all_workers = BooleanField(_l("Voit tous les salarié·es de la structure"))


class EndForm(FlaskForm):
    ended_on = DateField(_l("Date de fin"), validators=[DataRequired(REQUIRED)])


class TeamForm(FlaskForm):
    name = StringField(_l("Nom de l'équipe"), validators=[DataRequired(REQUIRED), Length(max=120)])


class TeamMembersForm(FlaskForm):
    leaders = MultiCheckboxField(_l("Encadrant·es"), choices=[])
    members = MultiCheckboxField(_l("Salarié·es"), choices=[])


TIMEZONES = [
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Rome",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "America/Cayenne",
    "America/Guadeloupe",
    "America/Martinique",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
]


class StructureForm(FlaskForm):
    name = StringField(_l("Nom affiché"), validators=[DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField(
        _l("Type de structure (interne, jamais sur un badge)"),
        choices=[(k.value, label) for k, label in STRUCTURE_KIND_LABELS.items()],
    )
    model = SelectField(
        _l("Modèle (interne, jamais sur un badge)"),
        choices=[
            ("tremplin", _l("Tremplin vers l'emploi")),
            ("integration_sociale", _l("Intégration sociale")),
        ],
    )
    timezone = SelectField(_l("Fuseau horaire"), choices=[(t, t) for t in TIMEZONES])
    country = StringField(
        _l("Pays (pour les numéros de téléphone, exemple : FR)"),
        validators=[DataRequired(REQUIRED), Length(min=2, max=2)],
    )


class StructureSettingsForm(StructureForm):
    email = EmailField(_l("Adresse e-mail de contact"), validators=[Optional(), Length(max=254)])
    url = StringField(_l("Site web"), validators=[Optional(), Length(max=500)])
    issuer_name = StringField(
        _l("Nom affiché sur les badges numériques (facultatif)"),
        validators=[Optional(), Length(max=200)],
    )
    issuer_description = TextAreaField(
        _l("Présentation sur la page publique de l'émetteur (facultative)"),
        validators=[Optional(), Length(max=1000)],
    )
    network_name = StringField(
        _l("Réseau auquel la structure appartient (facultatif)"),
        validators=[Optional(), Length(max=200)],
    )
    linkedin_organization_id = StringField(
        _l("Identifiant LinkedIn de la structure (organizationId)"),
        filters=[_stripped],
        validators=[
            Optional(),
            Regexp(
                r"^[0-9]{1,20}$",
                message=_l(
                    "Écrivez seulement des chiffres, par exemple 12345678. "
                    "Laissez vide si la structure n'a pas de page LinkedIn."
                ),
            ),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    title_admin = StringField(_l("Titre du rôle administrateur·rice"), validators=[Length(max=60)])
    title_encadrant = StringField(_l("Titre du rôle encadrant·e"), validators=[Length(max=60)])
    title_conseiller = StringField(_l("Titre du rôle conseiller·ère"), validators=[Length(max=60)])
    title_validateur = StringField(_l("Titre du rôle validateur·rice"), validators=[Length(max=60)])
    title_salarie = StringField(_l("Titre du rôle salarié·e"), validators=[Length(max=60)])
    four_eyes = BooleanField(
        _l(
            "Règle des quatre yeux : une personne qui valide ne peut pas valider seule "
            "ce qu'elle est seule à avoir observé"
        )
    )
    self_assessment_format = RadioField(
        _l("Réponses proposées aux salarié·es pour leur auto-évaluation"),
        choices=[
            ("pictos3", _l("3 choix avec des images (Je découvre, Je sais faire, Je fais seul·e)")),
            ("levels5", _l("Les 5 niveaux de l'échelle, en mots")),
        ],
    )


class FirstAdminForm(FlaskForm):
    first_name = StringField(_l("Prénom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    email = EmailField(_l("Adresse e-mail (facultative)"), validators=[Optional(), Length(max=254)])


class CompetenceForm(FlaskForm):
    name = StringField(
        _l("Nom de la compétence"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    description = TextAreaField(
        _l("Description courte"), validators=[DataRequired(REQUIRED), Length(max=400)]
    )
    indicators = TextAreaField(
        _l("Indicateurs observables (un par ligne : une action visible au travail)"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
    )
    group = SelectField(_l("Famille"), choices=[])


class SituationForm(FlaskForm):
    name = StringField(
        _l("Nom de la situation"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    type = SelectField(
        _l("Type de situation"),
        choices=[
            (SituationType.PRODUCTION.value, _l("Production")),
            (SituationType.MISE_EN_SITUATION.value, _l("Mise en situation")),
            (SituationType.IMMERSION.value, _l("Immersion / PMSMP")),
            (SituationType.FORMATION.value, _l("Formation")),
            (SituationType.ATELIER.value, _l("Atelier")),
        ],
    )
    competences = MultiCheckboxField(_l("Compétences que l'on peut y observer"), choices=[])


LEVEL_CHOICES_NOT_OBSERVED = "non_observe"


class CaptureForm(FlaskForm):
    """Quick capture: the worker(s) come from the URL; competence, level, save."""

    idempotency_key = HiddenField(validators=[DataRequired(REQUIRED), Length(min=8, max=80)])
    situation = HiddenField(validators=[DataRequired(REQUIRED)])
    competence = RadioField(
        _l("Compétence"), choices=[], validators=[DataRequired(_l("Choisissez une compétence."))]
    )
    level = RadioField(
        _l("Ce que vous avez vu"),
        choices=[],
        validators=[DataRequired(_l("Choisissez un niveau."))],
    )
    comment = TextAreaField(
        _l("Commentaire (facultatif)"),
        validators=[Optional(), Length(max=500, message=_l("500 caractères au plus."))],
    )
    observed_at = DateTimeLocalField(
        _l("Observé le"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )


class CorrectionForm(FlaskForm):
    level = RadioField(
        _l("Ce que vous avez vu"),
        choices=[],
        validators=[DataRequired(_l("Choisissez un niveau."))],
    )
    comment = TextAreaField(
        _l("Commentaire (facultatif)"),
        validators=[Optional(), Length(max=500, message=_l("500 caractères au plus."))],
    )
    observed_at = DateTimeLocalField(
        _l("Observé le"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[DataRequired(REQUIRED)],
    )


class WithdrawForm(FlaskForm):
    reason = SelectField(_l("Raison du retrait"), choices=[])


class WorkSituationForm(FlaskForm):
    name = StringField(
        _l("Chantier ou activité"), validators=[DataRequired(REQUIRED), Length(max=160)]
    )
    place = StringField(_l("Lieu (facultatif)"), validators=[Optional(), Length(max=160)])
    type = SelectField(_l("Type de situation"), choices=[])
    team = SelectField(_l("Équipe"), choices=[])
    starts_on = DateField(_l("Début"), validators=[DataRequired(REQUIRED)])
    ends_on = DateField(_l("Fin (facultative)"), validators=[Optional()])
    competences = MultiCheckboxField(_l("Compétences que l'on peut y observer"), choices=[])


class ApiTokenForm(FlaskForm):
    label = StringField(
        _l("Nom du jeton (par exemple : logiciel de suivi)"),
        validators=[DataRequired(REQUIRED), Length(max=100)],
    )


class DecisionForm(FlaskForm):
    comment = TextAreaField(
        _l("Commentaire (visible par l'équipe)"), validators=[Optional(), Length(max=2000)]
    )


class RevokeDecisionForm(FlaskForm):
    reason = SelectField(_l("Raison du retrait"), choices=[])
    comment = TextAreaField(_l("Commentaire"), validators=[Optional(), Length(max=2000)])


class ProposeForm(FlaskForm):
    badge = SelectField(_l("Badge numérique et niveau"), choices=[])
    justification = TextAreaField(
        _l("Pourquoi le proposer ? (ce que vous avez vu au travail)"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
    )
