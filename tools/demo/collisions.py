"""Which invented names are nonetheless names the warehouse holds: the truth's name_collides."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.demo.arrays import isin_sorted
from tools.demo.names import LATIN, NATIVE, name_key, solid_cjk
from tools.demo.vocab import Vocab


def _hits(
    owner: list[int],
    cands: list[int],
    cust: dict[str, np.ndarray],
    nl: int,
    k: int,
    ship_names: bool = True,
):
    """Which of k sample names (owner -> candidate pair codes) are a name the warehouse holds:
    a customer's own, or (`ship_names`) an order's ship-to name of another person, which the
    warehouse keeps in its own script only."""
    shipped = cust.get("ship_names", []) if ship_names else []
    others = np.concatenate([np.zeros((2, 0), np.int64), *shipped], axis=1)
    wh = np.sort(
        np.concatenate(
            [
                cust["fg"].astype(np.int64) * nl + cust["lg"],
                others[0].astype(np.int64) * nl + others[1],
            ]
        )
    )
    hit = np.zeros(k, bool)
    hit[np.asarray(owner, np.int64)[isin_sorted(np.asarray(cands, np.int64), wh)]] = True
    return hit


def pair_collisions(
    vocab: Vocab, cust: dict[str, np.ndarray], fg: np.ndarray, lg: np.ndarray
) -> np.ndarray:
    """Whether each (first, last), written in its own script, names some warehouse customer
    (names_match, native or romanised).

    Per distinct sample name, every vocabulary pair with the same words is looked up among the
    warehouse's pairs, so no Python work scales with the number of customers.
    """
    ix = vocab.names
    codes = fg.astype(np.int64) * ix.nl + lg
    pairs = np.sort(codes)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
    words = [ix.toks["first"][c // ix.nl] + ix.toks["last"][c % ix.nl] for c in pairs.tolist()]
    hit = _held(ix, cust, lambda k, scripts: ix.by_words(words[k], scripts), len(pairs))
    return hit[np.searchsorted(pairs, codes)]


def _held(ix, cust: dict[str, np.ndarray], lookup, k: int) -> np.ndarray:
    """Which of k names the warehouse holds: `lookup(i, scripts)` gives name i's candidate
    pair codes in those scripts; native ones are looked up among customers and ship-to
    names, romanised ones among customers only (ship-to names have no romanised form)."""
    hit = np.zeros(k, bool)
    for scripts, ships in ((NATIVE, True), (LATIN, False)):
        cands, owner = [], []
        for i in range(k):
            found = lookup(i, scripts)
            cands += found
            owner += [i] * len(found)
        hit |= _hits(owner, cands, cust, ix.nl, k, ship_names=ships)
    return hit


def name_collisions(
    vocab: Vocab, cust: dict[str, np.ndarray], names: Sequence[str] | np.ndarray
) -> np.ndarray:
    """Whether each written name (any script, spacing or romanisation) is some warehouse
    customer's name, by names_match's rules."""
    ix = vocab.names
    distinct = list(dict.fromkeys(names))
    solids = [solid_cjk(name) for name in distinct]

    def lookup(i: int, scripts) -> list[int]:
        if solids[i] is not None:  # CJK run together: native script only
            return ix.by_solid(solids[i]) if scripts == NATIVE else []
        return ix.by_words(name_key(distinct[i]).split(), scripts)

    hit = _held(ix, cust, lookup, len(distinct))
    at = {name: k for k, name in enumerate(distinct)}
    return np.array([hit[at[name]] for name in names], bool)
