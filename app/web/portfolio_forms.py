"""Forms of the earner's badge pages: one button per choice, each a CSRF-protected POST."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, DataRequired, Optional

from app.domain.consent import EarnerName

#: The choices over one badge, each the ``value`` of the button that sends it.
ACCEPT_SHOW, ACCEPT_PRIVATE, DECLINE = "accept_show", "accept_private", "decline"
SHOW, HIDE, NAME, WITHDRAW = "show", "hide", "name", "withdraw"
BADGE_ACTIONS = (ACCEPT_SHOW, ACCEPT_PRIVATE, DECLINE, SHOW, HIDE, NAME, WITHDRAW)
PUBLISH, UNPUBLISH = "publish", "unpublish"


class BadgeChoiceForm(FlaskForm):
    """What the earner (or the conseiller beside them) chose for one badge."""

    action = StringField(validators=[DataRequired(), AnyOf(BADGE_ACTIONS)])
    # Only with the "name" action: how the badge's public page names its earner.
    earner_name = StringField(validators=[Optional(), AnyOf([c.value for c in EarnerName])])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        if not super().validate(extra_validators):
            return False
        if self.action.data == NAME and not self.earner_name.data:
            self.earner_name.errors = [*self.earner_name.errors, "missing"]
            return False
        return True


class ProfileForm(FlaskForm):
    """Publish or withdraw the public profile."""

    action = StringField(validators=[DataRequired(), AnyOf((PUBLISH, UNPUBLISH))])
