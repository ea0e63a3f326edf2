"""Fast checks of the demo generator: small sizes, no Spark."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow.parquet as pq
import pytest

from tools.demo import (
    COUNTRIES,
    FIELDS,
    FORMATS,
    PATTERNS,
    PHONE,
    STYLES,
    draw_phones,
    format_phones,
    generate,
    name_key,
    names_match,
)
from tools.demo.intl import FILES
from tools.demo.locales import COUNTRY_NAMES

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
    s = s.strip().casefold().replace("ı", "i")
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


# --- the multinational sample --------------------------------------------------------------

INTL_LINES = 1500
# street-type words a normaliser must fold, (full, abbreviated), written out independently of
# the generator's tables
TYPE_PAIRS = {
    "RU": [("улица", "ул."), ("переулок", "пер."), ("бульвар", "бул."), ("аллея", "алл."),
           ("проспект", "пр-т")],
    "TR": [("sokak", "sk."), ("caddesi", "cd."), ("bulvari", "blv.")],
    "IT": [("piazza", "p.za"), ("viale", "v.le"), ("via", "v.")],
    "ES": [("calle", "c/")],
    "BR": [("rua", "r."), ("avenida", "av.")],
    "FR": [("avenue", "av."), ("boulevard", "bd")],
    "PL": [("ulica", "ul.")],
    "GB": [("street", "st"), ("road", "rd"), ("avenue", "ave"), ("lane", "ln")],
    "DE": [("strasse", "str.")],  # casefold: ß -> ss
    "NL": [("straat", "str.")],
}  # fmt: skip
TYPE_PAIRS["US"] = TYPE_PAIRS["CA"] = TYPE_PAIRS["GB"]
GLUED = {"DE", "NL"}


def canon_line1(s: str, country: str) -> str:
    """Street line folded: case, dotless i, type words in full, house letter joined."""
    s = " ".join(s.casefold().replace("ı", "i").split())
    for full, short in TYPE_PAIRS.get(country, []):
        before = r"(?<=\S)" if country in GLUED else r"(?<!\S)"
        s = re.sub(before + re.escape(short) + r"(?!\S)", full, s)
    return re.sub(r"(?<!\S)(\d+) ([^\W\d_])(?!\S)", r"\1\2", s)


def compact(postcode: str) -> str:
    return re.sub(r"[\s-]", "", postcode).upper()


def country_of(text: str) -> str | None:
    """ISO alpha-2 of a written country name or code, or None."""
    for iso, (alpha3, english, local) in COUNTRY_NAMES.items():
        if text.strip().casefold() in {x.casefold() for x in (iso, alpha3, *english, *local)}:
            return iso
    return None


def intl_e164(raw: str, country: str) -> str:
    return to_e164(raw.replace("(0)", ""), country)


@pytest.fixture(scope="module")
def intl(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("intl")
    summary = _gen(out, sample_lines=INTL_LINES, planted_share=0.5, fuzzy_share=0.1,
                   multinational=True)  # fmt: skip
    truth = pd.read_csv(out / "truth.csv", dtype=str, keep_default_na=False)
    specs = {name: (delim, header) for name, delim, header, _ in FILES}
    files = {p.name: p.read_bytes().split(b"\n")[:-1] for p in (out / "sample").iterdir()}
    rows = []
    for _, t in truth.iterrows():
        raw = files[t.source_file][int(t.line_number) - 1]
        delim, header = specs[t.source_file]
        fields = None
        if t.kind != "broken":
            fields = next(csv.reader([raw.decode()], delimiter=delim))
            fields = dict(
                zip(("name", "email", "phone", "address", "country"), fields, strict=False)
            )
        rows.append((t, raw, fields))
    wh = {
        t: pq.read_table(out / "warehouse" / t).to_pandas()
        for t in ("customers", "addresses", "orders")
    }
    return {"out": out, "summary": summary, "truth": truth, "files": files, "rows": rows,
            "specs": specs, "wh": wh, "cust": wh["customers"].set_index("customer_id"),
            "addr": wh["addresses"].groupby("customer_id")}  # fmt: skip


def _data(intl: dict, kind: str | None = None):
    return [(t, f) for t, _, f in intl["rows"] if t.kind != "broken" and kind in (None, t.kind)]


def test_intl_files_headers_and_truth_lines(intl: dict) -> None:
    files, truth = intl["files"], intl["truth"]
    assert set(files) == {name for name, *_ in FILES} and len(truth) == INTL_LINES
    assert files["sample-leak.csv"][0] == b'"Full Name","E-mail","Tel","Address"'
    assert files["sample-kunden.tsv"][0] == b"Name\tE-Mail-Adresse\tTelefonnummer\tAnschrift"
    assert files["sample-crm.csv"][0] == b"Nom;Correo;Telefon;Adresse;Pays"
    with_country = {n for n, (_, header) in intl["specs"].items() if len(header) == 5}
    assert with_country and with_country != set(files)
    for name, lines in files.items():  # every physical line but the header has one truth row
        numbers = sorted(int(x) for x in truth["line_number"][truth["source_file"] == name])
        assert numbers == list(range(2, len(lines) + 1)), name
    for t, raw, fields in intl["rows"]:
        if t.kind == "broken":
            continue
        assert len(fields) == len(intl["specs"][t.source_file][1])
        if t.source_file == "sample-leak.csv":
            assert re.fullmatch(rb'"[^"]*"(,"[^"]*")*', raw) and raw.count(b'","') == 3
    assert set(truth["broken_reason"][truth["kind"] == "broken"]) == {
        "empty", "invalid_utf8", "unclosed_quote", "wrong_field_count"
    }  # fmt: skip
    summary = json.loads((intl["out"] / "truth.json").read_text())
    assert summary["files"] == truth["source_file"].value_counts().to_dict()
    assert summary["kinds"] == truth["kind"].value_counts().to_dict()
    data = truth[truth["kind"] != "broken"]
    assert summary["countries"] == data["country"].value_counts().to_dict()
    for iso, by in summary["countries_by_source"].items():
        assert by == data["country_written"][data["country"] == iso].value_counts().to_dict()


def test_intl_has_many_countries_told_by_column_address_or_not_at_all(intl: dict) -> None:
    cust = intl["cust"]
    countries, told = set(), {"column": 0, "address": 0, "none": 0}
    for t, f in _data(intl):
        countries.add(t.country)
        if t.kind == "planted":
            assert cust.loc[int(t.customer_id), "country"] == t.country
        column = country_of(f["country"]) if "country" in f else None
        segments = f["address"].split(", ")
        segment = country_of(segments[-1]) if len(segments) > 2 else None
        written = "column" if column else "address" if segment else "none"
        assert written == t.country_written, (t.country_written, f)
        assert (column or segment or t.country) == t.country
        told[written] += 1
    assert len(countries) >= 12
    assert min(told.values()) >= 0.05 * INTL_LINES, told


def test_intl_phones_are_mostly_national_and_only_where_the_country_shows(intl: dict) -> None:
    cust = intl["cust"]
    wh = {to_e164(p, c) for p, c in zip(cust["phone"], cust["country"], strict=True)}
    national = styles = 0
    for t, f in _data(intl):
        phone = f["phone"].strip()
        if not phone:
            assert t.phone_style == ""
            continue
        styles += 1
        is_national = not phone.startswith(("+", "00"))
        assert is_national == (t.phone_style in ("national", "national_alt")), (
            t.phone_style,
            phone,
        )
        if is_national:
            national += 1
            assert t.country_written in ("column", "address")
        e164 = intl_e164(phone, t.country)
        if t.kind == "planted":
            c = cust.loc[int(t.customer_id)]
            assert e164 == to_e164(c.phone, c.country), (phone, c.phone)
        else:
            assert e164 not in wh
    assert national / styles >= 0.35, national / styles
    kinds = set(intl["truth"]["phone_style"])
    assert {"national", "national_alt", "e164", "intl", "intl00", "intl_trunk"} <= kinds
    written = " ".join(f["phone"] for _, f in _data(intl))
    assert re.search(r"\+\d+ \(0\) \d", written) and re.search(r"(^| )06-\d{8}", written)
    assert re.search(r"8 \(9\d\d\) \d{3}-\d\d-\d\d", written)


def test_intl_planted_values_fold_to_their_customer(intl: dict) -> None:
    cust, addr = intl["cust"], intl["addr"]
    seen = set()
    for t, f in _data(intl, "planted"):
        c = cust.loc[int(t.customer_id)]
        for field in FIELDS:
            value = f[field].strip()
            assert (value == "") == (t[field] == "absent"), (field, t[field], f)
            if t[field] == "absent":
                continue
            seen.add((field, t[field]))
            if field == "name":
                same = names_match(value, c.first_name, c.last_name, c.first_name_latin,
                                   c.last_name_latin)  # fmt: skip
            elif field == "email":
                same = norm_email(value) == norm_email(c.email)
            elif field == "phone":
                continue  # see the phone test
            else:
                line1, rest = value.split(", ", 1)
                same = any(
                    canon_line1(line1, c.country) == canon_line1(a.line1, c.country)
                    and compact(a.postcode) in compact(rest)
                    for a in addr.get_group(int(t.customer_id)).itertuples()
                )
            assert same == (t[field] == "exact"), (field, t[field], value)
    assert {("name", "fuzzy"), ("address", "fuzzy"), ("address", "exact")} <= seen


def test_intl_japanese_and_korean_names(intl: dict) -> None:
    cust = intl["cust"]
    forms = defaultdict(set)
    kr = cust[cust["country"] == "KR"]
    korean = [sorted(a + b) for a, b in zip(kr["first_name"], kr["last_name"], strict=True)]
    for t, f in _data(intl):
        name = f["name"]
        if not name or t.country not in ("JP", "KR"):
            continue
        hangul = re.fullmatch(r"[\uac00-\ud7af]+( [\uac00-\ud7af]+)?", name)
        if t.country == "KR" and hangul and t.name_form == "native_resplit":
            # a customer's syllables with other word boundaries (윤 은지 -> 은 윤지)
            assert t.kind == "fabricated" and t.name_collides == "False"
            assert sorted(name.replace(" ", "")) in korean
            forms["KR", "resplit"].add(name)
        elif t.country == "KR" and hangul and t["name"] != "fuzzy":
            assert t.name_form == ("native" if " " in name else "native_nospace")
            if t.kind == "planted" or t.name_collides == "False":
                forms["KR", t.kind, "spaced" if " " in name else "solid"].add(name)
        if name.isascii() and t["name"] != "fuzzy":
            assert t.name_form == "romanised"
            forms[t.country, "romanised", "upper" if name.split()[0].isupper() else ""].add(name)
        if t.kind != "planted" or t["name"] != "exact":
            continue
        c = cust.loc[int(t.customer_id)]
        if name.isascii():
            assert name_key(name) == name_key(f"{c.first_name_latin} {c.last_name_latin}")
            forms[t.country, "romanised planted"].add(name)
        else:
            assert name.replace(" ", "") == c.last_name + c.first_name
    assert forms["JP", "romanised", ""] and forms["JP", "romanised", "upper"]
    assert forms["KR", "romanised", ""] and forms["KR", "romanised", "upper"]
    assert forms["JP", "romanised planted"] and forms["KR", "romanised planted"]
    for kind in ("planted", "fabricated"):  # fabricated: none of them a customer's name
        assert forms["KR", kind, "spaced"] and forms["KR", kind, "solid"], kind
    assert len(forms["KR", "resplit"]) >= 3


def test_names_match_rules() -> None:
    assert names_match("윤은지", "은지", "윤") and names_match("윤 은지", "은지", "윤")
    assert names_match("은지 윤", "은지", "윤") and not names_match("은 윤지", "은지", "윤")
    assert not names_match("윤은 지", "은지", "윤")
    assert names_match("田中太郎", "太郎", "田中") and names_match("TANAKA Taro", "太郎", "田中",
                                                               "Taro", "Tanaka")  # fmt: skip
    assert not names_match("Taro Tanaka", "太郎", "田中")
    assert names_match("AYDIN, Ayşe", "Ayşe", "Aydın") and names_match(
        "muller jurgen", "Jürgen", "Müller"
    )


def test_intl_fabricated_lines_miss_the_warehouse(intl: dict) -> None:
    cust, addresses = intl["wh"]["customers"], intl["wh"]["addresses"]
    emails = {norm_email(e) for e in cust["email"]}
    native = {
        name_key(f"{a} {b}") for a, b in zip(cust["first_name"], cust["last_name"], strict=True)
    }
    romanised = cust.dropna(subset=["first_name_latin"])
    latin = {
        name_key(f"{a} {b}")
        for a, b in zip(romanised["first_name_latin"], romanised["last_name_latin"], strict=True)
    }
    solid = {b + a for a, b in zip(cust["first_name"], cust["last_name"], strict=True)}
    solid |= {a + b for a, b in zip(cust["first_name"], cust["last_name"], strict=True)}
    country = dict(zip(cust["customer_id"], cust["country"], strict=True))
    places = defaultdict(set)  # folded street line -> postcodes
    for a in addresses.itertuples():
        places[canon_line1(a.line1, country[a.customer_id])].add(compact(a.postcode))
    collides = 0
    for t, f in _data(intl, "fabricated"):
        name = f["name"]
        if f["email"].strip():
            assert norm_email(f["email"]) not in emails
        if name:
            cjk_solid = re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]+", name)
            expect = name in solid if cjk_solid else name_key(name) in native | latin
            assert t.name_collides == str(expect), (name, t.name_collides)
            collides += expect
        else:
            assert t.name_collides == "False"
        if f["address"]:
            line1, rest = f["address"].split(", ", 1)
            postcodes = places.get(canon_line1(line1, t.country), ())
            assert not any(p in compact(rest) for p in postcodes), f
    assert collides < 0.1 * INTL_LINES


def _has_word(s: str, word: str, glued: bool) -> bool:
    before = r"(?<=\S)" if glued else r"(?<!\S)"
    return re.search(before + re.escape(word) + r"(?!\S)", s) is not None


def _spelling(postcode: str, text: str) -> str | None:
    """How a stored postcode is written in the address text."""
    for name, form in (
        ("stored", postcode),
        ("lower", postcode.lower()),
        ("compact", compact(postcode)),
        ("compact_lower", compact(postcode).lower()),
    ):
        if re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text):
            return name
    return None


def test_intl_postcodes_streets_and_houses_spelled_differently(intl: dict) -> None:
    addr = intl["addr"]
    spelled = defaultdict(set)  # country -> how stored postcodes were written
    flips = defaultdict(set)  # country -> {"abbreviated", "expanded"}
    lettered, settlements = set(), set()
    for t, f in _data(intl, "planted"):
        if t.address != "exact":
            continue
        line1, rest = f["address"].split(", ", 1)
        a = next(
            a
            for a in addr.get_group(int(t.customer_id)).itertuples()
            if canon_line1(line1, t.country) == canon_line1(a.line1, t.country)
        )
        if f["address"] not in (f["address"].upper(), f["address"].lower()):
            spelled[t.country].add(_spelling(a.postcode, rest))
        stored, wrote = (x.casefold().replace("ı", "i") for x in (a.line1, line1))
        for full, short in TYPE_PAIRS.get(t.country, []):
            glued = t.country in GLUED
            if _has_word(stored, full, glued) and _has_word(wrote, short, glued):
                flips[t.country].add("abbreviated")
                assert t.street_form == "abbreviated"
            if _has_word(stored, short, glued) and _has_word(wrote, full, glued):
                flips[t.country].add("expanded")
                assert t.street_form == "expanded"
        if t.country in ("NL", "DE", "RU") and re.search(r"\d [^\W\d_](?!\S)", line1):
            lettered.add(t.country)
        if t.country == "RU" and re.search(r"(^| )(г|п|с|д|ст|к)\. ", rest):
            settlements.add(rest)
    for country in ("NL", "GB", "CA", "JP", "BR"):
        assert {"stored", "compact"} <= spelled[country], (country, spelled[country])
    for country in ("NL", "GB", "CA"):
        assert spelled[country] & {"lower", "compact_lower"}, (country, spelled[country])
    for country in ("RU", "TR", "IT"):
        assert flips[country] == {"abbreviated", "expanded"}, (country, flips[country])
    assert lettered == {"NL", "DE", "RU"} and settlements
    forms = intl["truth"]["street_form"].value_counts()
    assert forms["abbreviated"] > 20 and forms["expanded"] > 20


def test_warehouse_locales_and_postcode_layouts(demo: dict) -> None:
    cust, addr = demo["wh"]["customers"], demo["wh"]["addresses"]
    assert len(set(cust["country"])) >= 15 and {"NL", "TR", "CA", "BR"} <= set(cust["country"])
    layouts = {
        "NL": r"\d{4} [A-Z]{2}", "GB": r"[A-Z0-9]{2,4} \d[A-Z]{2}", "CA": r"[A-Z]\d[A-Z] \d[A-Z]\d",
        "JP": r"\d{3}-\d{4}", "BR": r"\d{5}-\d{3}", "PL": r"\d{2}-\d{3}", "TR": r"\d{5}",
    }  # fmt: skip
    for country, layout in layouts.items():
        pcs = addr["postcode"][addr["country"] == country]
        assert len(pcs) and pcs.str.fullmatch(layout).all(), country
    for country, words in (
        ("RU", ("улица", "ул.")),
        ("TR", ("Sokak", "Sk.")),
        ("IT", ("Via", "V.")),
    ):
        lines = " ".join(addr["line1"][addr["country"] == country])
        assert all(f"{w} " in lines for w in words), country


@pytest.mark.parametrize("country", ["NL", "TR", "CA", "BR"])
def test_new_locale_phones_are_valid(country: str) -> None:
    c = COUNTRIES.index(country)
    cidx = np.full(60, c)
    full = draw_phones(np.random.default_rng(1), cidx)
    for style in ("e164", "national", "intl", "intl00", "national_alt", "intl_trunk"):
        if style not in PATTERNS[country]:
            continue
        written = format_phones(full, cidx, np.full(60, STYLES.index(style))).to_pylist()
        for number, raw in zip(full, written, strict=True):
            # 00 is not every country's international prefix (CA dials 011): read it as +
            parsed = phonenumbers.parse(re.sub(r"^00", "+", raw.replace("(0)", "")), country)
            assert phonenumbers.is_valid_number(parsed), (style, raw)
            assert phonenumbers.region_code_for_number(parsed) == country
            assert (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                == f"+{number}"
            )
            assert intl_e164(raw, country) == str(number)


def test_intl_same_seed_same_bytes_across_processes(tmp_path: Path) -> None:
    """Also under another hash seed: no pool may depend on set order."""
    a, b = tmp_path / "a", tmp_path / "b"
    args = dict(customers=500, sample_lines=200, broken=6, seed=3, multinational=True)
    _gen(a, **args)
    code = f"from tests.unit.test_demo import _gen; _gen({str(b)!r}, **{args!r})"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parents[2])
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 8
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
