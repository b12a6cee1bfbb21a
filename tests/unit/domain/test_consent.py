"""The earner's choices over a badge: which change each state allows, and what it says."""

from __future__ import annotations

import pytest

from app.domain.consent import Consent, ConsentRefused, check_accepted, check_decision

STATES = [(c.value, revoked) for c in Consent for revoked in (False, True)]


@pytest.mark.parametrize(("current", "revoked"), STATES)
def test_accepting_or_declining_needs_a_badge_in_force_not_yet_accepted(current, revoked):
    if revoked or current == Consent.ACCEPTED:
        with pytest.raises(ConsentRefused) as refused:
            check_decision(current, revoked=revoked)
        expected = "retiré" if revoked else "déjà accepté"
        assert expected in refused.value.message
    else:
        check_decision(current, revoked=revoked)


@pytest.mark.parametrize(("current", "revoked"), STATES)
def test_showing_hiding_or_withdrawing_needs_an_accepted_badge_in_force(current, revoked):
    if not revoked and current == Consent.ACCEPTED:
        check_accepted(current, revoked=revoked)
        return
    with pytest.raises(ConsentRefused) as refused:
        check_accepted(current, revoked=revoked)
    # A withdrawn badge is said to be withdrawn, never « accept it first »: it cannot be.
    expected = "déjà été retiré" if revoked else "Acceptez d'abord"
    assert expected in refused.value.message
