"""Load and validate the shared funnel definitions file into ``model.FunnelDefinitions``.

Every mistake is reported as ``file:line:col: message`` (see ``yaml_source``). Sections are checked
independently so one run reports the mistakes of every section; sections that others refer to (industries,
countries, disqualification reasons) are checked first, and the rest only once those are sound, so a typo
in one place is never reported a second time as a knock-on "unknown name" elsewhere.

The content hash is the SHA-256 of the normalised document (keys sorted, comments and layout dropped), so it
changes if and only if a setting changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from holidays.registry import EntityLoader

from pipelines.funnel.model import (
    ALERT_CHANNELS,
    DURATION_UNITS,
    ENGAGEMENT_KINDS,
    FIRST_TOUCH_CLOCKS,
    HUBSPOT_WRITEBACK_VALUES,
    ICP_TIERS,
    MQL_SOURCES,
    SALESFORCE_WRITEBACK_VALUES,
    STAGES,
    WEEKDAYS,
    AcceptRejectPolicy,
    CalendarSpec,
    DisqualificationPolicy,
    Duration,
    Escalation,
    FirstTouchClock,
    FirstTouchPolicy,
    FunnelDefinitions,
    HubSpotTouchRules,
    IcpTier,
    Industry,
    LeadScoreDefs,
    MqlCommitment,
    MqlSource,
    NumberRange,
    Reason,
    SalesforceTouchRules,
    ScoreBand,
    SizeBand,
    SlaPolicy,
    StageMappings,
    TitleRule,
    TouchRules,
    WritebackDefs,
    WritebackField,
)
from pipelines.funnel.yaml_source import DefinitionsError, Node, Problem, compose, plain

DEFAULT_PATH = Path(__file__).with_name("definitions.yaml")
PATH_ENV = "CRM_LOOP_DEFINITIONS"
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HUBSPOT_PROPERTY = re.compile(r"^[a-z][a-z0-9_]*$")
# Custom fields only: crm-loop must never overwrite a standard field sales relies on.
_SALESFORCE_CUSTOM_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*__c$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
T = TypeVar("T")


def definitions_path() -> Path:
    """``$CRM_LOOP_DEFINITIONS`` when set, else the repository default next to this module."""
    return Path(os.environ.get(PATH_ENV) or DEFAULT_PATH)


def load_definitions(path: str | os.PathLike[str] | None = None) -> FunnelDefinitions:
    """Parsed once per process per content: every check step of a run loads the file, and an edit between
    runs is still picked up (the key is what the file holds, not when it was read)."""
    file = Path(path) if path is not None else definitions_path()
    return _parsed(file.read_text(encoding="utf-8"), file.name)


@lru_cache(maxsize=8)
def _parsed(text: str, source: str) -> FunnelDefinitions:
    # FunnelDefinitions is deeply immutable (frozen dataclasses, frozensets, read-only mappings): safe to share.
    return parse_definitions(text, source=source)


def parse_definitions(text: str, source: str = "definitions.yaml") -> FunnelDefinitions:
    root = compose(text, source)
    top = root.fields(
        ("version", "industries", "countries", "icp", "lead_score", "stages", "disqualification_reasons", "sla"),
        ("writeback",),
    )
    problems: list[Problem] = []
    version = _collect(problems, lambda: top["version"].string())
    industries = _collect(problems, lambda: _industries(top["industries"]))
    countries = _collect(problems, lambda: _countries(top["countries"]))
    reasons = _collect(problems, lambda: _reasons(top["disqualification_reasons"]))
    if problems:
        raise DefinitionsError(problems)
    assert version is not None and industries is not None and countries is not None and reasons is not None
    icp_tiers = _collect(problems, lambda: _icp(top["icp"], industries, countries))
    lead_score = _collect(problems, lambda: _lead_score(top["lead_score"], industries))
    stages = _collect(problems, lambda: _stages(top["stages"]))
    sla = _collect(problems, lambda: _sla(top["sla"], reasons))
    writeback = _collect(problems, lambda: _writeback(top["writeback"])) if "writeback" in top else None
    if problems:
        raise DefinitionsError(problems)
    assert icp_tiers is not None and lead_score is not None and stages is not None and sla is not None
    normalised = json.dumps(plain(root.node), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return FunnelDefinitions(
        version=version,
        content_sha256=hashlib.sha256(normalised.encode("utf-8")).hexdigest(),
        source=source,
        industries=industries,
        countries=countries,
        icp_tiers=icp_tiers,
        lead_score=lead_score,
        stages=stages,
        reasons=reasons,
        sla=sla,
        writeback=writeback,
    )


def _collect(problems: list[Problem], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except DefinitionsError as exc:
        problems.extend(exc.problems)
        return None


# --- shared vocabularies -----------------------------------------------------------------------------------
def _key(at: Node, what: str) -> None:
    name = at.path.rsplit(".", 1)[-1]
    if not _KEY.match(name):
        raise at.problem(f"{what} name '{name}' must be lower_snake_case (letters, digits, _)")


def _unique_values(seen: dict[str, str], values: tuple[str, ...], owner: str, at: Node) -> None:
    """A raw CRM value may belong to one canonical name only, or mapping it would be ambiguous."""
    for value in values:
        folded = value.casefold()
        if folded in seen and seen[folded] != owner:
            raise at.problem(f"{at.path}: '{value}' is already mapped to '{seen[folded]}'")
        seen[folded] = owner


def _industries(at: Node) -> MappingProxyType[str, Industry]:
    out: dict[str, Industry] = {}
    seen: dict[str, str] = {}
    for name, key_at, value in at.entries():
        _key(key_at, "industry")
        f = value.fields(("salesforce", "hubspot"))
        industry = Industry(name, f["salesforce"].string_list(), f["hubspot"].string_list())
        _unique_values(seen, industry.salesforce + industry.hubspot, name, value)
        out[name] = industry
    if not out:
        raise at.problem("industries must list at least one industry")
    return MappingProxyType(out)


def _countries(at: Node) -> MappingProxyType[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for code, key_at, value in at.entries():
        if not _COUNTRY.match(code):
            raise key_at.problem(f"country code '{code}' must be two capital letters (ISO 3166, e.g. US, DE)")
        names = value.string_list()
        _unique_values(seen, (code, *names), code, value)
        out[code] = names
    return MappingProxyType(out)


def _reasons(at: Node) -> MappingProxyType[str, Reason]:
    out: dict[str, Reason] = {}
    seen_sf: dict[str, str] = {}
    seen_hs: dict[str, str] = {}
    seen_status: dict[str, str] = {}
    for name, key_at, value in at.entries():
        _key(key_at, "reason")
        if name == "unmapped":
            raise key_at.problem("'unmapped' is reserved for CRM values this file does not map")
        f = value.fields(("label",), ("salesforce", "hubspot", "hubspot_lead_status"))
        reason = Reason(
            key=name,
            label=f["label"].string(),
            salesforce=f["salesforce"].string_list() if "salesforce" in f else (),
            hubspot=f["hubspot"].string_list() if "hubspot" in f else (),
            hubspot_lead_status=f["hubspot_lead_status"].string_list() if "hubspot_lead_status" in f else (),
        )
        _unique_values(seen_sf, reason.salesforce, name, value)
        _unique_values(seen_hs, reason.hubspot, name, value)
        _unique_values(seen_status, reason.hubspot_lead_status, name, value)
        out[name] = reason
    if not out:
        raise at.problem("disqualification_reasons must list at least one reason")
    return MappingProxyType(out)


# --- ICP ---------------------------------------------------------------------------------------------------
def _range(at: Node, *, integer: bool) -> NumberRange:
    return _range_of(at, at.fields((), ("min", "max")), integer=integer)


def _range_of(at: Node, f: dict[str, Node], *, integer: bool) -> NumberRange:
    read = (lambda n: float(n.integer())) if integer else (lambda n: n.number())
    lo = read(f["min"]) if "min" in f else None
    hi = read(f["max"]) if "max" in f else None
    if lo is None and hi is None:
        raise at.problem(f"{at.path} needs a min, a max or both")
    if lo is not None and hi is not None and lo > hi:
        raise f["max"].problem(f"{at.path}: max {hi:g} is below min {lo:g}")
    return NumberRange(lo, hi)


def _names(at: Node, known: Iterable[str], what: str) -> frozenset[str]:
    allowed = tuple(known)
    return frozenset(item.choice(allowed, what) for item in at.items())


def _icp(at: Node, industries: Iterable[str], countries: Iterable[str]) -> tuple[IcpTier, ...]:
    tiers: list[IcpTier] = []
    for item in at.fields(("tiers",))["tiers"].items():
        f = item.fields(("tier",), ("industries", "employees", "annual_revenue", "countries"))
        tier = f["tier"].choice(ICP_TIERS, "ICP tier")
        if any(t.tier == tier for t in tiers):
            raise f["tier"].problem(f"{f['tier'].path}: tier {tier} is defined twice")
        tiers.append(
            IcpTier(
                tier=tier,
                industries=_names(f["industries"], industries, "industry") if "industries" in f else None,
                employees=_range(f["employees"], integer=True) if "employees" in f else None,
                annual_revenue=_range(f["annual_revenue"], integer=False) if "annual_revenue" in f else None,
                countries=_names(f["countries"], countries, "country (add it under countries:)")
                if "countries" in f
                else None,
            )
        )
    return tuple(tiers)


# --- lead score --------------------------------------------------------------------------------------------
def _lead_score(at: Node, industries: Iterable[str]) -> LeadScoreDefs:
    f = at.fields(("fit", "engagement", "mql_threshold", "bands"))
    fit = f["fit"].fields((), ("titles", "company_size", "industries"))
    titles = tuple(
        TitleRule(tuple(k.casefold() for k in r["keywords"].string_list()), r["points"].number())
        for r in (item.fields(("keywords", "points")) for item in (fit["titles"].items() if "titles" in fit else []))
    )
    sizes: list[SizeBand] = []
    for item in fit["company_size"].items() if "company_size" in fit else []:
        f_band = item.fields(("points",), ("min", "max"))
        band = SizeBand(_range_of(item, f_band, integer=True), f_band["points"].number())
        for earlier in sizes:
            if earlier.employees.overlaps(band.employees):
                raise item.problem(f"{item.path} overlaps another company_size band ({_show(earlier.employees)})")
        sizes.append(band)
    industry_points: dict[str, float] = {}
    if "industries" in fit:
        known = tuple(industries)
        for name, key_at, value in fit["industries"].entries():
            key_at.choice(known, "industry")
            industry_points[name] = value.number()
    engagement = f["engagement"].fields(("half_life_days", "points"), ("caps",))
    half_life = engagement["half_life_days"].number()
    if half_life <= 0:
        raise engagement["half_life_days"].problem(f"{engagement['half_life_days'].path} must be more than 0")
    points = _kind_numbers(engagement["points"])
    caps = _kind_numbers(engagement["caps"]) if "caps" in engagement else {}
    return LeadScoreDefs(
        title_rules=titles,
        size_bands=tuple(sizes),
        industry_points=MappingProxyType(industry_points),
        engagement_points=MappingProxyType(points),
        engagement_caps=MappingProxyType(caps),
        half_life_days=half_life,
        mql_threshold=f["mql_threshold"].number(),
        bands=_bands(f["bands"]),
    )


def _show(r: NumberRange) -> str:
    return f"{'' if r.min is None else f'{r.min:g}'}..{'' if r.max is None else f'{r.max:g}'}"


def _kind_numbers(at: Node) -> dict[str, float]:
    out = {}
    for _name, key_at, value in at.entries():
        out[key_at.choice(ENGAGEMENT_KINDS, "engagement kind")] = value.number()
    return out


def _bands(at: Node) -> tuple[ScoreBand, ...]:
    bands: list[tuple[ScoreBand, Node]] = []
    for item in at.items():
        f = item.fields(("band",), ("min", "below"))
        band = ScoreBand(
            f["band"].string(), f["min"].number() if "min" in f else None, f["below"].number() if "below" in f else None
        )
        if band.min is not None and band.below is not None and band.min >= band.below:
            raise item.problem(
                f"{item.path}: band '{band.name}' is empty (min {band.min:g} is not below {band.below:g})"
            )
        bands.append((band, item))
    if not bands:
        raise at.problem(f"{at.path} must list at least one band")
    ordered = sorted(bands, key=lambda b: float("-inf") if b[0].min is None else b[0].min)
    lowest, lowest_at = ordered[0]
    if lowest.min is not None:
        raise lowest_at.problem(
            f"{lowest_at.path}: no band covers scores below {lowest.min:g} (leave out min on the lowest band)"
        )
    for (prev, _), (band, band_at) in zip(ordered, ordered[1:]):
        prev_end = float("inf") if prev.below is None else prev.below
        if band.min is None or band.min < prev_end:
            raise band_at.problem(f"{band_at.path}: band '{band.name}' overlaps band '{prev.name}'")
        if band.min > prev_end:
            raise band_at.problem(f"{band_at.path}: scores from {prev_end:g} to {band.min:g} are in no band")
    highest, highest_at = ordered[-1]
    if highest.below is not None:
        raise highest_at.problem(
            f"{highest_at.path}: no band covers scores from {highest.below:g} up (leave out below on the highest band)"
        )
    names = [b.name for b, _ in bands]
    for band, band_at in bands:
        if names.count(band.name) > 1:
            raise band_at.problem(f"{band_at.path}: band name '{band.name}' is used twice")
    return tuple(b for b, _ in bands)


# --- stages ------------------------------------------------------------------------------------------------
def _stage_map(at: Node, allowed: tuple[str, ...] = STAGES) -> MappingProxyType[str, str | None]:
    out: dict[str, str | None] = {}
    for name, _key_at, value in at.entries():
        out[name] = None if value.is_null() else value.choice(allowed, "stage")
    return MappingProxyType(out)


def _stages(at: Node) -> StageMappings:
    f = at.fields(("hubspot", "salesforce"))
    hs = f["hubspot"].fields(("lifecycle", "lead_status"), ("deal_stages",))
    sf = f["salesforce"].fields(("lead_status", "converted", "opportunity_stages"))
    return StageMappings(
        hubspot_lifecycle=_stage_map(hs["lifecycle"]),
        hubspot_lead_status=_stage_map(hs["lead_status"]),
        hubspot_deal_stages=_stage_map(hs["deal_stages"]) if "deal_stages" in hs else MappingProxyType({}),
        salesforce_lead_status=_stage_map(sf["lead_status"]),
        salesforce_converted=sf["converted"].choice(STAGES, "stage"),
        salesforce_opportunity_stages=_stage_map(sf["opportunity_stages"]),
    )


# --- SLA ---------------------------------------------------------------------------------------------------
def _duration(at: Node) -> Duration:
    entries = at.entries()
    if len(entries) != 1:
        raise at.problem(
            f"{at.path} must name exactly one unit, e.g. {{business_hours: 1}} ({', '.join(DURATION_UNITS)})"
        )
    unit, key_at, value = entries[0]
    key_at.choice(DURATION_UNITS, "duration unit")
    amount = value.number()
    if amount < 0:
        raise value.problem(f"{value.path} must not be negative, got {amount:g}")
    return Duration(amount, unit)  # type: ignore[arg-type]


def _hours(at: Node) -> tuple[tuple[time, time], ...]:
    text = at.string().strip()
    if text.casefold() == "closed":
        return ()
    spans: list[tuple[time, time]] = []
    for part in text.split(","):
        m = _HOURS.match(part)
        if not m:
            raise at.problem(
                f"{at.path} must look like 09:00-17:00 (several separated by commas) or closed, got '{text}'"
            )
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise at.problem(f"{at.path}: '{part.strip()}' is not a time of day")
        start, end_minutes = time(h1, m1), h2 * 60 + m2
        if end_minutes <= h1 * 60 + m1:
            raise at.problem(f"{at.path}: '{part.strip()}' ends before it starts")
        if spans and h1 * 60 + m1 < _minutes(spans[-1][1]):
            raise at.problem(f"{at.path}: '{part.strip()}' overlaps or precedes the hours before it")
        spans.append((start, time(0) if end_minutes == 24 * 60 else time(h2, m2)))
    return tuple(spans)


def _minutes(t: time) -> int:
    return 24 * 60 if t == time(0) else t.hour * 60 + t.minute


def _calendar(at: Node) -> CalendarSpec:
    f = at.fields(("timezone", "working_hours"), ("holidays",))
    tz_at = f["timezone"]
    tz = tz_at.string()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        hint = [z for z in sorted(available_timezones()) if z.casefold() == tz.casefold()]
        raise tz_at.problem(
            f"{tz_at.path}: unknown time zone '{tz}'"
            + (f"; did you mean '{hint[0]}'?" if hint else " (use an IANA name such as America/New_York)")
        ) from None
    days = f["working_hours"].fields(WEEKDAYS)
    weekly = tuple(_hours(days[d]) for d in WEEKDAYS)
    if not any(weekly):
        raise f["working_hours"].problem(f"{f['working_hours'].path}: the team must work at least one day")
    country = subdivision = None
    extra: frozenset[date] = frozenset()
    if "holidays" in f:
        h = f["holidays"].fields((), ("country", "subdivision", "extra_dates"))
        # Codes from holidays' registry, and only the chosen country's module for its subdivisions:
        # ``list_supported_countries`` imports all 200 of them, a third of a second of every process's start.
        if "country" in h:
            country = h["country"].choice(tuple(EntityLoader.get_country_codes()), "country for public holidays")
        if "subdivision" in h:
            if country is None:
                raise h["subdivision"].problem(f"{h['subdivision'].path} needs a holidays country")
            subdivisions = tuple(getattr(holidays, country).subdivisions)
            subdivision = h["subdivision"].choice(subdivisions, f"subdivision of {country}")
        if "extra_dates" in h:
            extra = frozenset(item.day() for item in h["extra_dates"].items())
    return CalendarSpec(tz, weekly, country, subdivision, extra)


def _non_negative_int(at: Node) -> int:
    value = at.integer()
    if value < 0:
        raise at.problem(f"{at.path} must not be negative, got {value}")
    return value


def _clock(at: Node) -> FirstTouchClock:
    return "mql" if at.choice(FIRST_TOUCH_CLOCKS, "first-touch clock") == "mql" else "assignment"


def _mql_source(at: Node) -> MqlSource:
    source = at.choice(MQL_SOURCES, "MQL source")
    return "score" if source == "score" else "earliest" if source == "earliest" else "crm"


def _sla(at: Node, reasons: Iterable[str]) -> SlaPolicy:
    f = at.fields(
        ("calendar", "first_touch", "accept_reject", "disqualification", "touches", "mql_commitment", "escalation"),
        ("mql_source",),
    )
    ft = f["first_touch"].fields(("inside_hours", "outside_hours"), ("clock", "reassignment_restarts_clock"))
    ar = f["accept_reject"].fields(("deadline", "reason_required"))
    dq = f["disqualification"].fields(("min_contact_attempts",), ("exempt_reasons", "reasons"))
    if "reasons" in dq:
        # The key's meaning was inverted (it listed the reasons that need attempts): a file still using it
        # must not silently get the opposite rule.
        raise dq["reasons"].problem(
            f"{dq['reasons'].path} was replaced by exempt_reasons: every disqualification needs the minimum "
            "contact attempts except for the reasons listed under exempt_reasons"
        )
    touches = f["touches"].fields(("salesforce", "hubspot"))
    sf = touches["salesforce"].fields(("task_subtypes", "task_statuses", "call_types", "events"))
    hs = touches["hubspot"].fields(("call_directions", "call_statuses", "email_directions", "meeting_outcomes"))
    mc = f["mql_commitment"].fields(("monthly_count", "min_score"))
    esc = f["escalation"].fields(("consecutive_breaches", "channel"))
    return SlaPolicy(
        calendar=_calendar(f["calendar"]),
        first_touch=FirstTouchPolicy(
            _duration(ft["inside_hours"]),
            _duration(ft["outside_hours"]),
            _clock(ft["clock"]) if "clock" in ft else "assignment",
            ft["reassignment_restarts_clock"].boolean() if "reassignment_restarts_clock" in ft else False,
        ),
        accept_reject=AcceptRejectPolicy(_duration(ar["deadline"]), ar["reason_required"].boolean()),
        disqualification=DisqualificationPolicy(
            _non_negative_int(dq["min_contact_attempts"]),
            _names(dq["exempt_reasons"], reasons, "disqualification reason") if "exempt_reasons" in dq else frozenset(),
        ),
        touches=TouchRules(
            SalesforceTouchRules(
                frozenset(sf["task_subtypes"].string_list()),
                frozenset(sf["task_statuses"].string_list()),
                frozenset(sf["call_types"].string_list()),
                sf["events"].boolean(),
            ),
            HubSpotTouchRules(
                frozenset(hs["call_directions"].string_list()),
                frozenset(hs["call_statuses"].string_list()),
                frozenset(hs["email_directions"].string_list()),
                frozenset(hs["meeting_outcomes"].string_list()),
            ),
        ),
        mql_commitment=MqlCommitment(_non_negative_int(mc["monthly_count"]), mc["min_score"].number()),
        escalation=Escalation(
            _non_negative_int(esc["consecutive_breaches"]), esc["channel"].choice(ALERT_CHANNELS, "alert channel")
        ),
        mql_source=_mql_source(f["mql_source"]) if "mql_source" in f else "crm",
    )


# --- write-back --------------------------------------------------------------------------------------------
def _writeback_fields(
    at: Node, system: str, object: str, values: tuple[str, ...], name_rule: re.Pattern[str], rule: str
) -> list[WritebackField]:
    out: list[WritebackField] = []
    for name, key_at, value in at.entries():
        if not name_rule.match(name):
            raise key_at.problem(f"{at.path}: field '{name}' {rule}")
        out.append(WritebackField(system, object, name, value.choice(values, "write-back value")))
    return out


def _writeback(at: Node) -> WritebackDefs:
    f = at.fields((), ("hubspot", "salesforce"))
    fields: list[WritebackField] = []
    group = "crm_loop"
    if "hubspot" in f:
        hs = f["hubspot"].fields(("contacts",), ("property_group",))
        if "property_group" in hs:
            group = hs["property_group"].string()
            if not _HUBSPOT_PROPERTY.match(group):
                raise hs["property_group"].problem(f"{hs['property_group'].path} must be lower_snake_case")
        fields += _writeback_fields(
            hs["contacts"],
            "hubspot",
            "contacts",
            tuple(HUBSPOT_WRITEBACK_VALUES),
            _HUBSPOT_PROPERTY,
            "must be a lower_snake_case HubSpot property name",
        )
    if "salesforce" in f:
        sf = f["salesforce"].fields((), ("Lead", "Contact"))
        for object in ("Lead", "Contact"):
            if object in sf:
                fields += _writeback_fields(
                    sf[object],
                    "salesforce",
                    object,
                    tuple(SALESFORCE_WRITEBACK_VALUES),
                    _SALESFORCE_CUSTOM_FIELD,
                    "must be a custom field (Name__c): crm-loop never writes standard fields",
                )
    return WritebackDefs(group, tuple(fields))
