"""Fast checks of the demo generator: small sizes, no Spark."""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from jobs.demo import FORMATS, PHONE, generate, name_key

N = 3000


def _gen(out: Path, **kw) -> dict:
    args = {
        "customers": N,
        "sample_lines": 600,
        "planted_share": 0.4,
        "broken": 12,
        "fuzzy_share": 0.2,
        "hot_names": 2,
        "fabricated_only": False,
        "seed": 7,
        "sample_format": "semicolon",
        "gzip": False,
    }
    return generate(out, **{**args, **kw})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    summary = _gen(out)
    wh = {
        t: pq.read_table(out / "warehouse" / t).to_pandas()
        for t in ("customers", "addresses", "orders")
    }
    lines = Path(summary["sample"]).read_bytes().split(b"\n")
    assert lines[-1] == b""
    truth = pd.read_csv(out / "truth.csv", dtype={"broken_reason": str}, keep_default_na=False)
    return {"out": out, "summary": summary, "wh": wh, "lines": lines[:-1], "truth": truth}


def to_e164(raw: str, country: str) -> str:
    """Digits of the E.164 form of any phone layout the generator writes."""
    cc, trunk, length = PHONE[country][:3]
    raw = raw.strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        return digits
    if raw.startswith("00"):
        return digits[2:]
    if trunk and len(digits) == length + len(trunk) and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    return f"{cc}{digits}"


def norm_email(raw: str) -> str:
    local, domain = raw.strip().lower().rsplit("@", 1)
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.split("+")[0].replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def norm_line1(s: str) -> str:
    s = s.strip().casefold()
    for short, full in (("st", "street"), ("rd", "road"), ("ave", "avenue"), ("ln", "lane")):
        s = re.sub(rf"\b{short}\b", full, s)
    return re.sub(r"str\.", "strasse", s)


def _folds_to(field: str, value: str, c: pd.Series, line1s: set[str]) -> bool:
    """Whether an exact normaliser maps the dump value onto the customer's stored value."""
    if field == "name":
        return name_key(value) == name_key(f"{c.first_name} {c.last_name}")
    if field == "email":
        return norm_email(value) == norm_email(c.email)
    if field == "phone":
        return to_e164(value, c.country) == to_e164(c.phone, c.country)
    return norm_line1(value.split(",")[0]) in {norm_line1(v) for v in line1s}


def _rows(demo: dict, kind: str) -> list[tuple[pd.Series, list[str]]]:
    """Truth rows of one kind with their parsed sample fields."""
    sel = demo["truth"][demo["truth"]["kind"] == kind]
    parsed = []
    for _, t in sel.iterrows():
        line = demo["lines"][t.line_number - 1].decode()
        parsed.append((t, next(csv.reader([line], delimiter=";"))))
    return parsed


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        _gen(out, customers=400, sample_lines=120, gzip=True)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 6
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    _gen(b, customers=400, sample_lines=120, gzip=True, seed=8)
    assert (a / "truth.csv").read_bytes() != (b / "truth.csv").read_bytes()


def test_warehouse_shapes_and_uniqueness(demo: dict) -> None:
    cust, addr, orders = demo["wh"]["customers"], demo["wh"]["addresses"], demo["wh"]["orders"]
    assert len(cust) == N and list(cust["customer_id"]) == list(range(1, N + 1))
    assert cust["email"].is_unique
    e164 = [to_e164(p, c) for p, c in zip(cust["phone"], cust["country"], strict=False)]
    assert len(set(e164)) == N
    assert set(cust["country"]) == set(PHONE)
    latin = cust["first_name_latin"].notna()
    assert (
        set(cust.loc[latin, "country"]) == {"JP", "KR"}
        and latin.sum() == cust["country"].isin(["JP", "KR"]).sum()
    )
    assert set(addr["customer_id"]) == set(cust["customer_id"]) and addr["address_id"].is_unique
    assert 1.1 < len(addr) / N < 1.3 and 1.3 < len(orders) / N < 1.7
    assert not addr["line1"].str.contains(",").any()
    assert addr["postcode"].str.contains(r"\d").all()
    assert addr["line1"].str.contains(r"\d").all()
    assert set(orders["customer_id"]) <= set(cust["customer_id"]) and orders["order_id"].is_unique


def test_truth_covers_every_data_line(demo: dict) -> None:
    truth, lines = demo["truth"], demo["lines"]
    assert lines[0].decode() == ";".join(FORMATS["semicolon"][2])
    assert len(truth) == len(lines) - 1 == 600
    assert list(truth["line_number"]) == list(range(2, len(lines) + 1))
    counts = truth["kind"].value_counts().to_dict()
    assert counts == {"fabricated": 353, "planted": 235, "broken": 12}
    summary = json.loads((demo["out"] / "truth.json").read_text())
    assert summary["kinds"] == counts and summary["lines"] == 600


def test_broken_lines_are_broken_and_others_parse(demo: dict) -> None:
    reasons = set()
    for _, t in demo["truth"].iterrows():
        raw = demo["lines"][t.line_number - 1]
        if t.kind != "broken":
            assert len(next(csv.reader([raw.decode()], delimiter=";"))) == 5
            continue
        reasons.add(t.broken_reason)
        if t.broken_reason == "empty":
            assert raw == b""
        elif t.broken_reason == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode()
        elif t.broken_reason == "unclosed_quote":
            assert raw.startswith(b'"') and raw.count(b'"') == 1
        else:
            assert len(next(csv.reader([raw.decode()], delimiter=";"))) != 5
    assert reasons == {"empty", "invalid_utf8", "unclosed_quote", "wrong_field_count"}


def test_planted_lines_fold_to_their_customer(demo: dict) -> None:
    cust = demo["wh"]["customers"].set_index("customer_id")
    addr = demo["wh"]["addresses"].groupby("customer_id")
    rows = _rows(demo, "planted")
    assert len({int(t.customer_id) for t, _ in rows}) == len(rows)
    seen = set()
    for t, (name, email, phone, address, country) in rows:
        c = cust.loc[int(t.customer_id)]
        assert country.upper() == c.country
        values = dict(
            zip(("name", "email", "phone", "address"), (name, email, phone, address), strict=False)
        )
        line1s = set(addr.get_group(int(t.customer_id))["line1"])
        for field, value in values.items():
            seen.add((field, t[field]))
            assert (value == "") == (t[field] == "absent"), (field, t[field], value)
            if t[field] != "absent":
                same = _folds_to(field, value, c, line1s)
                assert same == (t[field] == "exact"), (field, t[field], value)
    assert ("name", "fuzzy") in seen and ("address", "fuzzy") in seen
    assert ("email", "absent") in seen or ("phone", "absent") in seen


def test_fabricated_lines_never_hit_the_warehouse(demo: dict) -> None:
    cust = demo["wh"]["customers"]
    emails = {norm_email(e) for e in cust["email"]}
    phones = {to_e164(p, c) for p, c in zip(cust["phone"], cust["country"], strict=False)}
    keys = {
        name_key(f"{f} {la}") for f, la in zip(cust["first_name"], cust["last_name"], strict=False)
    }
    rows = _rows(demo, "fabricated")
    assert rows
    for t, (name, email, phone, _, country) in rows:
        assert email == "" or norm_email(email) not in emails
        assert phone == "" or to_e164(phone, country.upper()) not in phones
        assert str(t.name_collides) == str(name != "" and name_key(name) in keys)


def test_fabricated_only_has_no_planted_lines(tmp_path: Path) -> None:
    s = _gen(tmp_path, customers=500, sample_lines=100, fabricated_only=True)
    truth = pd.read_csv(tmp_path / "truth.csv")
    assert s["planted"] == 0 and "planted" not in set(truth["kind"]) and len(truth) == 100


def test_hot_names_cover_about_one_percent_each(demo: dict) -> None:
    cust = demo["wh"]["customers"]
    top = cust.groupby(["first_name", "last_name"]).size().sort_values(ascending=False)
    assert 0.009 <= top.iloc[0] / N <= 0.02 and 0.009 <= top.iloc[1] / N <= 0.02
    assert top.iloc[2] < top.iloc[1] / 2


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("gz", [False, True])
def test_every_format_is_readable(tmp_path: Path, fmt: str, gz: bool) -> None:
    s = _gen(tmp_path, customers=300, sample_lines=80, broken=6, sample_format=fmt, gzip=gz)
    delim, ext, header = FORMATS[fmt]
    path = Path(s["sample"])
    assert path.name == f"sample.{ext}" + (".gz" if gz else "")
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    lines = raw.split(b"\n")[:-1]
    truth = pd.read_csv(tmp_path / "truth.csv", keep_default_na=False)
    assert len(truth) == 80 and len(lines) == 80 + bool(delim)
    for _, t in truth.iterrows():
        line = lines[t.line_number - 1]
        if t.kind == "broken":
            if t.broken_reason == "invalid_json":
                with pytest.raises(ValueError):
                    json.loads(line)
            continue
        if delim is None:
            assert list(json.loads(line)) == header
        else:
            assert len(next(csv.reader([line.decode()], delimiter=delim))) == 5
    if delim:
        assert next(csv.reader([lines[0].decode()], delimiter=delim)) == header
