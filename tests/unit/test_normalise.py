"""Each normaliser on the tricky international cases, as one-column DataFrames."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.sql import functions as F

from jobs import normalise as N
from jobs.match.secrets import with_hash_key


def apply(spark, values, builder, *extra_cols, hash_key=None):
    """Run a column builder over a list of inputs (tuples when it takes several columns),
    with the key's columns for a keyed one."""
    rows = [v if isinstance(v, tuple) else (v,) for v in values]
    width = len(rows[0])
    df = spark.createDataFrame(rows, ", ".join(f"c{i} string" for i in range(width)))
    df = df if hash_key is None else with_hash_key(df, hash_key)
    out = df.select(builder(*[F.col(f"c{i}") for i in range(width)]).alias("out"))
    return [r.out for r in out.collect()]


def test_email_canonical_forms(spark, norm_conf):
    values = [
        "  J.Doe+news@GoogleMail.com ",
        "jdoe@gmail.com",
        "J.D.O.E@gmail.com",
        "Anna.Smith+promo@outlook.com",
        "anna.smith@web.de",
        "mailto:<Bob@Example.ORG>",
        "ｊｄｏｅ＠ｇｍａｉｌ．ｃｏｍ",  # full-width
        "bad@@example.com",
        "no-at-sign.example.com",
        "",
        None,
    ]
    got = apply(spark, values, lambda c: N.normalise_email(c, norm_conf))
    assert got == [
        "jdoe@gmail.com",
        "jdoe@gmail.com",
        "jdoe@gmail.com",
        "anna.smith@outlook.com",  # plus tag dropped, dots kept (outlook keeps dots)
        "anna.smith@web.de",
        "bob@example.org",
        "jdoe@gmail.com",
        None,
        None,
        None,
        None,
    ]


def test_email_problem_reason(spark):
    got = apply(
        spark, ["x@y", "ok@example.com", "", None], lambda c: N.email_problem(N.clean_email(c))
    )
    assert got == ["email_invalid", None, None, None]


@pytest.mark.parametrize(
    ("phone", "country", "expected"),
    [
        ("+44 20 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0044 (20) 7946-0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("1-415-555-0123", "US", "+14155550123"),
        ("+1 415 555 0123 ext 12", None, "+14155550123"),
        ("8 (916) 123-45-67", "RU", "+79161234567"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("347 123 4567", "IT", "+393471234567"),
        ("090-1234-5678", "JP", "+819012345678"),
        ("010-1234-5678", "KR", "+821012345678"),
        ("694 660 3734", "GR", "+306946603734"),
        ("+81 90 1234 5678", "JP", "+819012345678"),
        ("020 7946 0958", None, None),  # national form, no country: cannot be keyed
        ("12", "GB", None),
        (None, "GB", None),
    ],
)
def test_phone_e164(spark, norm_conf, phone, country, expected):
    got = apply(
        spark,
        [(phone, country)],
        lambda p, c: N.normalise_phone(p, N.normalise_country(c), norm_conf),
    )
    assert got == [expected]


def test_phone_agrees_with_libphonenumber(spark, norm_conf):
    """Against Google's phone library on numbers it validates, written three ways."""
    phonenumbers = pytest.importorskip("phonenumbers")
    examples = []
    for region in ("GB", "US", "DE", "FR", "ES", "IT", "PL", "RU", "GR", "JP", "KR", "NL", "AU"):
        num = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        for fmt in (
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.E164,
        ):
            examples.append((phonenumbers.format_number(num, fmt), region, e164))
    got = apply(
        spark,
        [(p, r) for p, r, _ in examples],
        lambda p, c: N.normalise_phone(p, N.normalise_country(c), norm_conf),
    )
    assert got == [e for _, _, e in examples]


def test_name_folds_order_case_accents_scripts(spark):
    values = [
        "Müller, Jürgen",
        "JURGEN MULLER",
        "  jürgen   müller ",
        "Strauß, Anna-Lena",
        "ANNA LENA STRAUSS",
        "Παπαδόπουλος Γιώργος",
        "ΓΙΏΡΓΟΣ ΠΑΠΑΔΌΠΟΥΛΟΣ",
        "Иванов Пётр",
        "ПЁТР ИВАНОВ",
        "木村淳",
        "淳 木村",
        "김 민준",
        "민준 김",
        "Łukasz Zięcik",
        "",
        None,
    ]
    got = apply(spark, values, N.normalise_name)
    assert got[0] == got[1] == got[2] == "jurgen muller"
    assert got[3] == got[4] == "anna lena strauss"
    assert got[5] == got[6]
    assert got[7] == got[8] == "иванов петр"
    assert got[9] == "木村淳" and got[10] == "木村 淳"  # CJK tokens keep their boundaries
    assert got[11] == got[12] == "김 민준"
    assert got[13] == "lukasz ziecik"
    assert got[14] is None and got[15] is None


def test_address_key(spark, norm_conf):
    values = [
        ("12 Main Street", "SW1A 1AA"),
        ("12, main st.", "sw1a1aa"),
        ("Hauptstraße 5", "10115"),
        ("HAUPTSTR. 5", "10 115"),
        ("5 Hauptstrasse", "10115"),
        ("Calle Mayor 7", "28013"),
        ("C/ Mayor, 7", "28013"),
        ("12 Main Street", None),
        (None, None),
    ]
    got = apply(spark, values, lambda l1, pc: N.normalise_address(l1, pc, norm_conf))
    assert got[0] == got[1] == "12|main st|SW1A1AA"
    assert got[2] == got[3] == got[4] == "5|hauptstr|10115"
    assert got[5] == got[6] == "7|c mayor|28013"
    assert got[7] is None and got[8] is None


def test_split_free_text_address(spark):
    rows = [
        ("12 Main Street, London SW1A 1AA",),
        ("Hauptstr. 5, 10115 Berlin",),
        ("ul. Okrężna 776, Ostrowiec, 13-500",),
        ("no commas here 12",),
        (None,),
    ]
    df = spark.createDataFrame(rows, "a string")
    line1, postcode = N.split_address(F.col("a"))
    got = [tuple(r) for r in df.select(line1, postcode).collect()]
    assert got == [
        ("12 Main Street", "SW1A1AA"),
        ("Hauptstr. 5", "10115"),
        ("ul. Okrężna 776", "13-500"),
        ("no commas here 12", None),
        (None, None),
    ]


def test_keyed_hash_is_hmac_sha256(spark):
    key = "s3cret-key"
    values = ["jdoe@gmail.com", "+442079460958", "ünïcødé 名前", None]
    got = apply(spark, values, N.keyed_hash, hash_key=key)
    for value, h in zip(values, got, strict=False):
        if value is None:
            assert h is None
            continue
        digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]
        expected = int(digest, 16)
        expected -= (1 << 64) if expected >= (1 << 63) else 0
        assert h == expected
    assert apply(spark, ["jdoe@gmail.com"], N.keyed_hash, hash_key="other") != got[:1]


def test_country(spark):
    got = apply(spark, [" gb", "UK", "Germany", "de", None], N.normalise_country)
    assert got == ["GB", "GB", None, "DE", None]


def sequential_fold_street(col, abbreviations):
    """The rule-by-rule regex form of fold_street: the reference the token map must equal
    (then the same house-number step)."""
    s = N.clean_name(col)
    for pattern, repl in abbreviations.items():
        s = F.regexp_replace(s, rf"(?<=^| )(?:{pattern})(?= |$)", repl)
    return N.fold_house_number(s, abbreviations)


def test_street_fold_token_map_equals_rule_by_rule(spark, norm_conf):
    from tools.demo import _vocab

    rules = norm_conf.abbreviations
    words = [w for pattern in rules for w in pattern.split("|")]
    streets = list(_vocab(3).obj["street"][::7]) + [
        "12 Main Street", "Rue de la Paix", "Avenue Boulevard Road", "street", "Hauptstraße",
        "Lindengasse 4", "gasse", "strasse platz", "c/ Mayor 7", "v. Roma", "p.zza Duomo",
        "проспект Мира", "пр-т Мира", "οδός Ερμού", "Blvd. Haussmann", "Allee Platz", "",
        "V.le Monza 3", "C.so Como 1 c", "пр-д Серебрякова, д. 5 к. 2", "Hoofdstraat 63 a",
        "12 r. de la Paix", "No: 12 bis", "Marktplatz 12/14", "St.-Georg-Str. 1",
        *words, *[f"x {w} y" for w in words], *[f"{w}{w}" for w in words],
    ]  # fmt: skip
    streets.append(None)
    old = apply(spark, streets, lambda c: sequential_fold_street(c, rules))
    new = apply(spark, streets, lambda c: N.fold_street(c, rules))
    diff = [(s, o, n) for s, o, n in zip(streets, old, new, strict=True) if o != n]
    assert not diff
    assert len(streets) > 300 and old[-1] is None


def test_street_regexps_run_only_where_their_literals_are(spark, norm_conf):
    plan = N.abbreviation_plan(tuple(norm_conf.abbreviations.items()))[1]
    regexps, literals = N.regexp_guard(plan)
    # Words joined by a space (dotted forms that cleaning splits: "P.za" -> "p za") and suffix
    # rules stay regexps, guarded by their literals; a space between words survives cleaning.
    assert "p za|p zza" in [p for p, _ in regexps]
    assert [p for p, _ in regexps if " " not in p] == [
        r"(\p{L}*)(?:platz|plein|pln)",
        r"(\p{L}*)(?:strasse|straße|straat)",
        r"(\p{L}*)gasse",
        r"(\p{L}*)laan",
        r"(\p{L}*)gracht",
        r"(\p{L}*)kade",
    ]
    assert {"p za", "p zza", "пр т", "strasse", "straat", "gasse", "kade"} <= set(literals)
    assert not {"c/", "p.zza"} & set(literals)  # a slash or dot never survives cleaning
    # A rule of another shape (a character class) has no literal: every rule then runs.
    rules = {"road": "rd", "(\\p{L}*)weg": "$1w", "r[uo]e": "r", "x\\.y": "z"}
    regexps, literals = N.regexp_guard(N.abbreviation_plan(tuple(rules.items()))[1])
    assert literals is None and len(regexps) == 3
    assert N.regexp_guard((("(\\p{L}*)weg", "$1w"), ("x\\.y", "z")))[1] == ("weg",)
    streets = ["Rue Road", "Birkenweg 3", "rue de weg", "x.y", "Road Strasse", "", None]
    for rule_set in [rules, {"road": "rd", "(\\p{L}*)weg": "$1w"}]:
        old = apply(spark, streets, lambda c, r=rule_set: sequential_fold_street(c, r))
        new = apply(spark, streets, lambda c, r=rule_set: N.fold_street(c, r))
        assert new == old
    assert old[:3] == ["rue rd", "birkenw 3", "rue de w"]


def test_warehouse_names_keyed_spaceless_and_romanised(spark):
    """A warehouse name's keys: its own, its romanised form's, and a CJK/Hangul name's
    tokens run together both ways; the sample side's one key must be among them exactly
    when the written name is the customer's."""
    warehouse = [("은지 윤", None), ("太郎 田中", "Taro Tanaka"), ("Anna Müller", None)]
    df = spark.createDataFrame(warehouse, "name string, latin string")
    keys = [
        sorted(r.k)
        for r in df.select(
            N.name_keys(N.clean_name(F.col("name")), N.clean_name(F.col("latin"))).alias("k")
        ).collect()
    ]
    assert keys == [
        sorted(["윤 은지", "은지윤", "윤은지"]),
        sorted(["太郎 田中", "太郎田中", "田中太郎", "tanaka taro"]),
        ["anna muller"],
    ]
    written = [
        "윤은지",
        "윤 은지",
        "은지 윤",
        "은 윤지",
        "윤은 지",
        "田中太郎",
        "TANAKA Taro",
        None,
    ]
    got = apply(spark, written, N.normalise_name)
    wanted = [True, True, True, False, False, True, True, False]
    found = [g is not None and (g in keys[0] or g in keys[1]) for g in got]
    assert found == wanted
