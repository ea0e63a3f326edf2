"""The report's `linkage` section: the run's trained model and a few links explained field by
field, from `linkage_model` and `line_links` rows alone (no Spark here).

A link's match weight is the prior's log-odds plus, per field, the weight of the level its pair
reached (`jobs.match.linkage.match_weight`); a field either side lacks ("missing") weighs
nothing. Shown term by term, the weights add up to the link's match weight, so a reader can see
which fields carried it over the threshold. Line numbers, field and level names and numbers
only: no customer id, no value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

EXAMPLES = 5  # links explained: the strongest, and the rest nearest the threshold
WEIGHT_DIGITS = 4  # weights in bits; probabilities to 6 decimals, m and u to 6 significant digits
MISSING = "missing"
MISSING_LEVEL = -1


def _bits(x: float) -> float:
    return round(float(x), WEIGHT_DIGITS)


def _sig(x: float) -> float:
    return float(f"{float(x):.6g}")


def log_odds(p: float) -> float:
    """A probability as bits of evidence, as the model weighs its prior: log2(p / (1 - p))."""
    return math.log2(p / (1.0 - p))


def pick_examples(links: Iterable[Mapping[str, Any]], n: int = EXAMPLES) -> list[Mapping[str, Any]]:
    """The linked lines worth explaining: the strongest link, then the `n - 1` weakest (nearest
    the threshold, where a single field decides), weakest first; ties go to the lower line
    number, so a re-run shows the same lines."""
    rows = list({r["line_number"]: r for r in links}.values())
    if not rows or n <= 0:
        return []
    strongest = min(rows, key=lambda r: (-r["match_weight"], r["line_number"]))
    rest = sorted(
        (r for r in rows if r is not strongest),
        key=lambda r: (r["match_weight"], r["line_number"]),
    )
    return [strongest, *rest[: n - 1]]


def _levels(model_rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[int, Mapping[str, Any]]]:
    by_field: dict[str, dict[int, Mapping[str, Any]]] = {}
    for r in model_rows:
        by_field.setdefault(r["field"], {})[int(r["level"])] = r
    return by_field


def _ordered(fields: Iterable[str], order: Sequence[str]) -> list[str]:
    """The fields in conf order; any the conf no longer lists after them, by name."""
    rank = {f: i for i, f in enumerate(order)}
    return sorted(fields, key=lambda f: (rank.get(f, len(rank)), f))


def _term(field: str, level: int | None, levels: Mapping[int, Mapping[str, Any]]) -> dict:
    """One field's part of a link's weight, unrounded. A missing side, or a level the model
    does not hold, weighs nothing, as in the weight the link was scored with."""
    row = levels.get(level) if level is not None and level >= 0 else None
    if row is None:
        return {"field": field, "level": MISSING_LEVEL, "level_name": MISSING, "weight": 0.0}
    return {"field": field, "level": level, "level_name": row["level_name"],
            "weight": float(row["weight"])}  # fmt: skip


def explain_link(
    link: Mapping[str, Any],
    model: Mapping[str, Mapping[int, Mapping[str, Any]]],
    fields: Sequence[str],
    prior_weight: float,
) -> dict:
    """A link as the terms of its match weight: the prior, then each field's level and weight.
    `link["levels"]`: field -> the pair's level (its gamma column; None when not recorded).

    The terms are summed in the order the link was scored in, and each is shown as the step
    between two rounded running totals: the shown terms then add up to the shown match weight
    exactly (a term may differ from the model table's weight in its last digit)."""
    levels = link.get("levels") or {}
    exact, shown = prior_weight, _bits(prior_weight)
    terms = []
    for f in fields:
        term = _term(f, levels.get(f), model[f])
        exact += term["weight"]
        term["weight"] = _bits(_bits(exact) - shown)
        shown = _bits(exact)
        terms.append(term)
    return {
        "line_number": int(link["line_number"]),
        "match_probability": round(float(link["match_probability"]), 6),
        "match_weight": _bits(link["match_weight"]),
        "prior_weight": _bits(prior_weight),
        "fields": terms,
    }


def linkage_section(
    model_rows: Sequence[Mapping[str, Any]],
    links: Iterable[Mapping[str, Any]],
    threshold: float,
    order: Sequence[str] = (),
    corroborated: tuple[float, int] | None = None,
    examples: int = EXAMPLES,
) -> dict[str, Any]:
    """`linkage_model` rows of a run and its linked lines (line_number, match_weight,
    match_probability, levels) -> the report section; {} when the run trained no model.

    The model table lists each field's levels best first, as conf does. Only the keys named
    here are copied from the rows: whatever else they hold (a customer id) stays out."""
    if not model_rows:
        return {}
    model = _levels(model_rows)
    fields = _ordered(model, order)
    first = model_rows[0]
    prior = float(first["prior"])
    prior_weight = log_odds(prior)
    table = [
        {"field": f, "level": lv, "level_name": r["level_name"], "m": _sig(r["m"]),
         "u": _sig(r["u"]), "weight": _bits(r["weight"])}
        for f in fields
        for lv, r in sorted(model[f].items(), reverse=True)
    ]  # fmt: skip
    chosen = pick_examples(links, examples)
    return {
        "threshold": threshold,
        "threshold_weight": _bits(log_odds(threshold)) if 0 < threshold < 1 else None,
        "corroborated_threshold": corroborated[0] if corroborated else None,
        "corroborating_fields": corroborated[1] if corroborated else None,
        "prior": _sig(prior),
        "prior_weight": _bits(prior_weight),
        "em_iterations": int(first["em_iterations"] or 0),
        "model": table,
        "examples": [explain_link(r, model, fields, prior_weight) for r in chosen],
    }


def waterfall_steps(example: Mapping[str, Any]) -> list[tuple[str, str, float, float, float]]:
    """(label, level name, weight, running total before, after) for the prior and each field:
    what the Markdown table and the chart of one link both draw."""
    total = float(example["prior_weight"])
    steps = [("prior", "", total, 0.0, total)]
    for t in example["fields"]:
        before, total = total, _bits(total + float(t["weight"]))
        steps.append((t["field"], t["level_name"], float(t["weight"]), before, total))
    return steps
