"""conf/matching.yaml: the fuzzy blocking rules and their comparators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.settings.files import CONF_DIR, read_yaml

KEYS = {
    "token_prefix": "name",
    "token_soundex": "name",
    "postcode_number": "address",
    "street_number": "address",
    "street_city": "address",
    "email_local": "email",
    "phone_tail": "phone",
    "birth_initial": "date_of_birth",
}
REFINES = {
    "other_token_initial": "name",
    "street_initials": "address",
}
COMPARATORS = ("name_tokens", "dice", "differs", "birth")
PARTS = "parts"  # the method of a level reached by several parts of one value together
NEAR = "near"  # the method of a pair under its rule's threshold kept as a linkage candidate


@dataclass(frozen=True)
class BlockRule:
    """One blocking rule with its comparator: which values meet, how they are scored."""

    name: str
    field: str
    key: str
    comparator: str
    threshold: float
    method: str = "fuzzy"
    refine: str | None = None
    pair_budget: int = 5_000_000
    per_country: bool = False
    length: int = 3  # token_prefix, street_number, street_city: characters of a token
    digits: int = 9  # phone_tail
    min_length: int = 1  # email_local
    # pairs scoring at least this, under `threshold`, are kept as record-linkage candidates
    # (method `near`): never a match on their own, but every field of them gets compared
    candidate_threshold: float | None = None


@dataclass(frozen=True)
class LevelRule:
    """One agreeing level of a field in record linkage: evidence of `method` scoring at least
    `min_score`. `m`: EM's start (and fallback) for its share among matches; `u`: its share
    among non-matches, for levels other than exact (whose u comes from key frequencies); for
    name and address-part levels measured on random warehouse pairs, this is the fallback."""

    name: str
    method: str
    min_score: float = 1.0
    m: float = 0.5
    u: float | None = None
    # method `parts`: reached when each named part scores at least its minimum; the parts of
    # one value (an address) are judged together, as they are not independent of each other
    parts: tuple[tuple[str, float], ...] = ()
    # ... and not reached when one of these parts, held by both sides, scores under its value:
    # the same street and number in another town is another address
    unless: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class LinkageConf:
    """Record linkage: levels per field (best first), the probability a link needs, the
    share of lines assumed to be someone's (the prior: that share / customers), EM's limits
    and the one-to-one option."""

    fields: tuple[tuple[str, tuple[LevelRule, ...]], ...] = ()
    threshold: float = 0.95
    corroborated_threshold: float = 0.5  # enough where `corroborating_fields` fields agree
    corroborating_fields: int = 2
    matched_share: float = 1.0
    m_pseudo_pairs: float = 50.0
    min_matches: float = 10.0
    max_iterations: int = 100
    one_to_one: bool = False
    chance_seed: int = 1  # the permutation of the chance baseline (`linkage.chance`)
    near_max_customers: int = 50  # a line's `near` candidates of one field and rule, at most
    u_pairs: int = 40_000  # random customer pairs the compared levels' u is measured on
    cap_else: bool = True  # EM never makes "else" likelier among matches than conf's m says
    broadcast_lines: int = 1_000_000  # a sample of at most this many lines: its payloads broadcast
    every_mask_share: float = 0.01  # lines per customer from which every held mask is read
    u_refresh_share: float = 0.05  # customers refreshed since u was measured, at most, to keep it

    @property
    def levels(self) -> dict[str, tuple[LevelRule, ...]]:
        return dict(self.fields)

    def broadcasts(self, lines: int) -> bool:
        """Whether a sample of `lines` lines has its payloads and masks broadcast."""
        return lines <= self.broadcast_lines

    def reads_every_mask(self, lines: int, customers: int) -> bool:
        """Whether a sample of `lines` lines against `customers` customers reads every
        customer's held mask rather than its candidates' (a semi-join that shuffles both)."""
        return lines >= self.every_mask_share * customers


@dataclass(frozen=True)
class MatchingConf:
    rules: tuple[BlockRule, ...]
    initial_score: float = 0.85
    heaviest_keys: int = 5
    linkage: LinkageConf = LinkageConf()

    def for_field(self, field: str) -> tuple[BlockRule, ...]:
        return tuple(r for r in self.rules if r.field == field)


def _rule(raw: Mapping[str, Any], default_budget: int) -> BlockRule:
    name = str(raw.get("name") or "")
    where = f"matching.rules[{name or '?'}]"
    known = set(BlockRule.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}")
    key = raw.get("key")
    if not name or key not in KEYS:
        raise ConfigError(f"{where}: needs a name and a key among {sorted(KEYS)}")
    field = raw.get("field", KEYS[key])
    if field != KEYS[key]:
        raise ConfigError(f"{where}: key {key} works on {KEYS[key]}, not {field}")
    refine = raw.get("refine")
    refine = None if refine in (None, "none", "") else str(refine)
    if refine is not None and REFINES.get(refine) != field:
        raise ConfigError(f"{where}: refine {refine} does not apply to {field}")
    comparator = raw.get("comparator")
    if comparator not in COMPARATORS:
        raise ConfigError(f"{where}: comparator must be one of {list(COMPARATORS)}")
    if comparator == "name_tokens" and field != "name":
        raise ConfigError(f"{where}: name_tokens compares names only")
    if (comparator == "birth") != (field == "date_of_birth"):
        raise ConfigError(f"{where}: dates of birth are compared by `birth`, and only they")
    threshold = float(raw.get("threshold", 1.0))
    candidate = raw.get("candidate_threshold")
    candidate = None if candidate is None else float(candidate)
    if candidate is not None and (comparator == "differs" or candidate > threshold):
        raise ConfigError(f"{where}: candidate_threshold needs a scoring comparator, <= threshold")
    return BlockRule(
        name=name,
        field=field,
        key=key,
        comparator=comparator,
        threshold=threshold,
        candidate_threshold=candidate,
        method=str(raw.get("method", "fuzzy")),
        refine=refine,
        pair_budget=int(raw.get("pair_budget", default_budget)),
        per_country=bool(raw.get("per_country", False)),
        length=int(raw.get("length", 3)),
        digits=int(raw.get("digits", 9)),
        min_length=int(raw.get("min_length", 1)),
    )


def _level(raw: Mapping[str, Any], where: str) -> LevelRule:
    known = set(LevelRule.__dataclass_fields__)
    named = {("name" if k == "level" else k): v for k, v in raw.items()}
    unknown = set(named) - known
    if unknown or "name" not in named or "method" not in named:
        raise ConfigError(f"{where}: a level needs `level` and `method`, knows {sorted(known)}")
    parts = named.get("parts") or {}
    level = LevelRule(
        name=str(named["name"]),
        method=str(named["method"]),
        min_score=float(named.get("min_score", 1.0)),
        m=float(named.get("m", 0.5)),
        u=None if named.get("u") is None else float(named["u"]),
        parts=tuple((str(k), float(v)) for k, v in parts.items()),
        unless=tuple((str(k), float(v)) for k, v in (named.get("unless") or {}).items()),
    )
    if (level.method == PARTS) != bool(level.parts) or (level.unless and not level.parts):
        raise ConfigError(f"{where}.{level.name}: method {PARTS}, `parts` and `unless` go together")
    if not 0 < level.m < 1 or (level.u is not None and not 0 < level.u < 1):
        raise ConfigError(f"{where}.{level.name}: m and u are probabilities between 0 and 1")
    if level.method != "exact" and level.u is None:
        raise ConfigError(f"{where}.{level.name}: a level other than exact needs its u")
    return level


def linkage_conf(raw: Mapping[str, Any]) -> LinkageConf:
    """The `linkage` section -> LinkageConf; each field's m must leave room for "else"."""
    fields = []
    for field, levels in (raw.get("fields") or {}).items():
        where = f"matching.linkage.fields.{field}"
        parsed = tuple(_level(lv, where) for lv in levels or [])
        if not parsed or sum(lv.m for lv in parsed) >= 1:
            raise ConfigError(f"{where}: needs levels whose m add up to less than 1")
        fields.append((str(field), parsed))
    threshold = float(raw.get("threshold", 0.95))
    corroborated = float(raw.get("corroborated_threshold", 0.5))
    corroborating = int(raw.get("corroborating_fields", 2))
    if not 0 < corroborated <= threshold <= 1 or corroborating < 2:
        raise ConfigError("matching.linkage: needs 0 < corroborated_threshold <= threshold <= 1 "
                          "and corroborating_fields >= 2")  # fmt: skip
    return LinkageConf(
        fields=tuple(fields),
        threshold=threshold,
        corroborated_threshold=corroborated,
        corroborating_fields=corroborating,
        matched_share=float(raw.get("matched_share", 1.0)),
        m_pseudo_pairs=float(raw.get("m_pseudo_pairs", 50.0)),
        min_matches=float(raw.get("min_matches", 10.0)),
        max_iterations=int(raw.get("max_iterations", 100)),
        one_to_one=bool(raw.get("one_to_one", False)),
        chance_seed=int(raw.get("chance_seed", 1)),
        u_pairs=int(raw.get("u_pairs", 40_000)),
        near_max_customers=int(raw.get("near_max_customers", 50)),
        cap_else=bool(raw.get("cap_else", True)),
        broadcast_lines=int(raw.get("broadcast_lines", 1_000_000)),
        every_mask_share=float(raw.get("every_mask_share", 0.01)),
        u_refresh_share=float(raw.get("u_refresh_share", 0.05)),
    )


def matching_conf(raw: Mapping[str, Any]) -> MatchingConf:
    """Parsed YAML (a mapping) -> MatchingConf, with every rule validated."""
    budget = int(raw.get("pair_budget", 5_000_000))
    rules = tuple(_rule(r, budget) for r in raw.get("rules") or [])
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigError("matching.rules: rule names must be unique")
    return MatchingConf(
        rules=rules,
        initial_score=float(raw.get("initial_score", 0.85)),
        heaviest_keys=int(raw.get("heaviest_keys", 5)),
        linkage=linkage_conf(raw.get("linkage") or {}),
    )


def load_matching(path: str | Path | None = None) -> MatchingConf:
    """conf/matching.yaml (or `path`) -> MatchingConf."""
    return matching_conf(read_yaml(Path(path) if path else CONF_DIR / "matching.yaml"))
