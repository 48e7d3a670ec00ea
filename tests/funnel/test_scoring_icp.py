"""ICP tiers and the lead score on the default definitions, figures worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.icp import Firmographics, icp_tier
from pipelines.funnel.scoring import Engagement, PersonFacts, lead_score, score_reached_at

DEFS = load_definitions()
NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("firm", "tier"),
    [
        # Tier A: tech/fin, 200-5000 employees, >= 20M revenue, US/CA/GB/DE. Raw values of either CRM work.
        (Firmographics("Technology", 800, 50e6, "United States"), "A"),
        (Firmographics("COMPUTER_SOFTWARE", 800, 50e6, "US"), "A"),
        (Firmographics("financial_services", 200, 20e6, "deutschland"), "A"),  # bounds inclusive, case ignored
        # Revenue unknown: A's revenue rule cannot match, B (no revenue rule) does.
        (Firmographics("Technology", 800, None, "Canada"), "B"),
        # France is B country, not A.
        (Firmographics("Technology", 800, 50e6, "France"), "B"),
        # Retail is in no industry list: falls to C (only employees >= 20).
        (Firmographics("Retail", 800, 50e6, "United States"), "C"),
        (Firmographics("Retail", 19, 50e6, "United States"), None),
        (Firmographics(None, None, None, None), None),
        # Unknown country spelling does not match a tier that names countries.
        (Firmographics("Technology", 800, 50e6, "Atlantis"), "C"),
    ],
)
def test_icp_tier_first_matching_tier_wins(firm: Firmographics, tier: str | None) -> None:
    assert icp_tier(firm, DEFS) == tier


def test_fit_only_score() -> None:
    # "VP of Marketing" -> first rule (vp) 25; 800 employees -> 200-999 band 15; technology 15. Total 55: warm.
    s = lead_score(PersonFacts("VP of Marketing", 800, "Technology"), [], NOW, DEFS)
    assert (s.fit, s.engagement, s.total, s.band, s.is_mql) == (55, 0, 55, "warm", False)


def test_title_keywords_are_whole_words_and_first_rule_wins() -> None:
    # "Marketing Operations Manager" -> "manager" (12); "MVP Evangelist" has no whole-word keyword -> 0;
    # "Director, Head of Growth" -> rule 1 (head of) before rule 2 (director): 25; "Student" -> -15.
    def score(title: str) -> float:
        return lead_score(PersonFacts(title), [], NOW, DEFS).fit

    assert score("Marketing Operations Manager") == 12
    assert score("MVP Evangelist") == 0
    assert score("Director, Head   of Growth") == 25
    assert score("Student") == -15


def test_engagement_decays_by_half_life_and_caps() -> None:
    # demo request 30 days ago: 40 * 0.5 = 20; form fill today 12; webinar 60 days ago 15 * 0.25 = 3.75;
    # 40 page views today = 40 but capped at 15; a future email reply is ignored. 20 + 12 + 3.75 + 15 = 50.75.
    engagements = [
        Engagement("demo_request", NOW - timedelta(days=30)),
        Engagement("form_fill", NOW),
        Engagement("webinar", NOW - timedelta(days=60)),
        Engagement("page_view", NOW, count=40),
        Engagement("email_reply", NOW + timedelta(days=1)),
    ]
    s = lead_score(PersonFacts(), engagements, NOW, DEFS)
    assert s.engagement == pytest.approx(50.75) and s.band == "warm" and not s.is_mql


def test_mql_threshold_and_hot_band() -> None:
    # Fit 55 (as above) + one fresh email reply 10 = 65 >= 60: MQL, hot.
    s = lead_score(PersonFacts("VP of Marketing", 800, "Technology"), [Engagement("email_reply", NOW)], NOW, DEFS)
    assert (s.total, s.band, s.is_mql) == (65, "hot", True)
    # Fit 55 + a 35-day-old reply: 10 * 0.5 ** (35/30) = 4.45 -> 59.45, below 60: warm, not an MQL.
    old = lead_score(
        PersonFacts("VP of Marketing", 800, "Technology"),
        [Engagement("email_reply", NOW - timedelta(days=35))],
        NOW,
        DEFS,
    )
    assert old.total == pytest.approx(55 + 10 * 0.5 ** (35 / 30)) and old.band == "warm" and not old.is_mql


def test_negative_fit_lands_in_the_lowest_band_and_unknown_kinds_are_refused() -> None:
    assert lead_score(PersonFacts("Student"), [], NOW, DEFS).band == "cold"
    with pytest.raises(ValueError, match="unknown engagement kind"):
        lead_score(PersonFacts(), [Engagement("tweet", NOW)], NOW, DEFS)


def test_score_reached_at_is_the_first_peak_at_or_above_the_threshold() -> None:
    """Fit: Director 20 + 1000+ employees 20 + technology 15 = 55 (threshold 60, half-life 30 days)."""
    defs = load_definitions()
    fit = PersonFacts(title="Director of IT", employees=1500, industry="technology")
    created = datetime(2026, 9, 1, 12, tzinfo=UTC)
    as_of = datetime(2026, 11, 2, 15, tzinfo=UTC)
    day = timedelta(days=1)

    # 55 + a form fill (12) at creation = 67: reached when the record was created.
    assert score_reached_at(fit, [Engagement("form_fill", created)], created, as_of, defs) == created
    # 55 alone stays below; a reply (10) ten days later lifts it to 65 at that instant.
    reply = Engagement("email_reply", created + 10 * day)
    assert score_reached_at(fit, [reply], created, as_of, defs) == created + 10 * day
    # Fit 35 (no size band): a demo request (40) on day 5 gives 75 then, faded to ~46 by as_of: it still
    # reached the threshold on day 5, though today's score is below it.
    small = PersonFacts(title="Director of IT", industry="technology")
    demo = Engagement("demo_request", created + 5 * day)
    assert lead_score(small, [demo], as_of, defs).is_mql is False
    assert score_reached_at(small, [demo], created, as_of, defs) == created + 5 * day
    # 35 + form fill 12 = 47 never reaches 60; an action after as_of is not knowable yet.
    assert score_reached_at(small, [Engagement("form_fill", created)], created, as_of, defs) is None
    late = Engagement("demo_request", as_of + day)
    assert score_reached_at(small, [late], created, as_of, defs) is None
    # Fit alone at or above the threshold: reached when the fit became known.
    top = PersonFacts(title="VP Marketing", employees=1500, industry="technology")
    assert score_reached_at(top, [], created, as_of, defs) == created
