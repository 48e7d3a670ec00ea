"""The touch rules of ``pipelines.funnel.touches`` as SQL boolean expressions, generated from the definitions.

Each configured list becomes an IN-list of literals. The Python rules compare trimmed text and read a missing
value as ""; every expression here trims its input and reads NULL and blanks as '' the same way, so it takes
any text expression (a raw column as stored, or already cleaned) and is never NULL itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.funnel.model import FunnelDefinitions

# The HubSpot properties each engagement type's rule reads (notes and tasks never count).
HUBSPOT_TOUCH_PROPERTIES: dict[str, tuple[str, ...]] = {
    "calls": ("hs_call_direction", "hs_call_status"),
    "emails": ("hs_email_direction",),
    "meetings": ("hs_meeting_outcome",),
    "notes": (),
    "tasks": (),
}


def _value(ctx: SqlContext, expr: str) -> str:
    """What ``touches._text`` compares: trimmed text, '' when missing."""
    return f"COALESCE({ctx.clean(expr)}, '')"


def _listed(ctx: SqlContext, expr: str, options: Iterable[str]) -> str:
    values = sorted(options)
    if not values:
        return "FALSE"
    return f"({_value(ctx, expr)} IN ({', '.join(literal(v) for v in values)}))"


def salesforce_task_touch(ctx: SqlContext, defs: FunnelDefinitions, subtype: str, status: str, call_type: str) -> str:
    """``salesforce_task_is_touch`` over the Task's TaskSubtype, Status and CallType expressions: a call counts
    when its call type is listed or blank."""
    rules = defs.sla.touches.salesforce
    call_type_ok = f"({_value(ctx, call_type)} = '' OR {_listed(ctx, call_type, rules.call_types)})"
    return (
        f"({_listed(ctx, subtype, rules.task_subtypes)} AND {_listed(ctx, status, rules.task_statuses)} "
        f"AND ({_value(ctx, subtype)} <> 'Call' OR {call_type_ok}))"
    )


def salesforce_event_touch(defs: FunnelDefinitions) -> str:
    """``salesforce_event_is_touch``: every Event counts, or none, by the definitions' switch."""
    return literal(defs.sla.touches.salesforce.events)


def hubspot_engagement_touch(ctx: SqlContext, defs: FunnelDefinitions, object_type: str, alias: str = "") -> str:
    """``hubspot_engagement_is_touch`` for one engagement type (v3 name: calls, emails, meetings, notes, tasks),
    reading the properties of ``HUBSPOT_TOUCH_PROPERTIES`` as columns of that name (qualified by ``alias``)."""
    rules = defs.sla.touches.hubspot
    prefix = f"{alias}." if alias else ""
    if object_type == "calls":
        return (
            f"({_listed(ctx, prefix + 'hs_call_direction', rules.call_directions)} "
            f"AND {_listed(ctx, prefix + 'hs_call_status', rules.call_statuses)})"
        )
    if object_type == "emails":
        return _listed(ctx, prefix + "hs_email_direction", rules.email_directions)
    if object_type == "meetings":
        return _listed(ctx, prefix + "hs_meeting_outcome", rules.meeting_outcomes)
    return "FALSE"
