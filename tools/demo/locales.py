"""Per-locale reference data of the demo generator (tools.demo): phone plans, street types and
their abbreviations, cities Faker lacks, country names, and the Faker-backed street and postcode
drawers. Plain data and string functions; nothing here depends on numpy or the rest of jobs.
"""

from __future__ import annotations

import functools
import re

from faker import Faker

TR_MOBILE = tuple(
    "501 505 506 507 530 531 532 533 534 535 536 537 538 539 541 542 543 544 545 546 549 551 "
    "552 553 554 555 559".split()
)
CA_AREAS = tuple(
    "204 226 236 249 250 289 306 343 365 403 416 418 431 437 438 450 506 514 519 548 579 581 "
    "587 604 613 639 647 705 709 778 780 782 807 819 825 867 873 902 905".split()
)
BR_AREAS = tuple(
    "11 12 13 14 15 16 17 18 19 21 22 24 27 28 31 32 33 34 35 37 38 41 42 43 44 45 46 47 48 49 "
    "51 53 54 55 61 62 63 64 65 66 67 68 69 71 73 74 75 77 79 81 82 83 84 85 86 87 88 89 91 92 "
    "93 94 95 96 97 98 99".split()
)
# country: calling code, trunk prefix, NSN length, mobile prefixes, national layout, intl groups
PHONE = {
    "GB": (44, "0", 10, ("7",), "0dddd dddddd", "dddd dddddd"),
    "US": (1, "1", 10, (), "(ddd) ddd-dddd", "ddd ddd dddd"),
    "DE": (
        49,
        "0",
        11,
        ("151", "152", "157", "160", "170", "171", "172", "175", "176"),
        "0ddd dddddddd",
        "ddd dddddddd",
    ),
    "FR": (33, "0", 9, ("6", "7"), "0d dd dd dd dd", "d dd dd dd dd"),
    "ES": (34, "", 9, ("6", "7"), "ddd dd dd dd", "ddd ddd ddd"),
    "IT": (39, "", 10, ("3",), "ddd ddd dddd", "ddd ddd dddd"),
    "PL": (48, "", 9, ("5", "6", "7", "8"), "ddd ddd ddd", "ddd ddd ddd"),
    "RU": (7, "8", 10, ("9",), "8 (ddd) ddd-dd-dd", "ddd ddd-dd-dd"),
    "GR": (30, "", 10, ("69",), "ddd ddd dddd", "ddd ddd dddd"),
    "JP": (81, "0", 10, ("70", "80", "90"), "0dd-dddd-dddd", "dd dddd dddd"),
    "KR": (82, "0", 10, ("10",), "0dd-dddd-dddd", "dd dddd dddd"),
    "NL": (31, "0", 9, ("61", "62", "63", "64", "65"), "0d-dddddddd", "d dddddddd"),
    "TR": (90, "0", 10, TR_MOBILE, "0ddd ddd dd dd", "ddd ddd dd dd"),
    "CA": (1, "1", 10, CA_AREAS, "(ddd) ddd-dddd", "ddd ddd dddd"),
    "BR": (55, "0", 11, tuple(f"{a}9" for a in BR_AREAS), "(dd) ddddd-dddd", "dd ddddd dddd"),
}

# A second national layout people type; countries not listed get the national one dashed.
NATIONAL_ALT = {
    "NL": "0ddd ddd ddd",
    "DE": "0ddd/dddddddd",
    "FR": "0d.dd.dd.dd.dd",
    "RU": "8-ddd-ddd-dd-dd",
    "CA": "ddd.ddd.dddd",
    "ES": "ddd ddd ddd",
    "IT": "ddd ddddddd",
    "GR": "dddddddddd",
    "JP": "0dd dddd dddd",
    "KR": "0dd dddd dddd",
    "TR": "0ddd ddd dddd",
    "BR": "(0dd) ddddd-dddd",
}

DOMAINS = ["gmail.com"] * 7 + ["yahoo.com", "outlook.com", "hotmail.com"] * 2 + ["icloud.com"]
LOCAL_DOMAINS = {
    "en_GB": ("btinternet.com", "sky.com"),
    "en_US": ("aol.com", "comcast.net"),
    "de_DE": ("gmx.de", "web.de"),
    "fr_FR": ("orange.fr", "free.fr"),
    "es_ES": ("telefonica.net", "yahoo.es"),
    "it_IT": ("libero.it", "virgilio.it"),
    "pl_PL": ("wp.pl", "onet.pl"),
    "ru_RU": ("mail.ru", "yandex.ru"),
    "el_GR": ("otenet.gr", "yahoo.gr"),
    "ja_JP": ("yahoo.co.jp", "docomo.ne.jp"),
    "ko_KR": ("naver.com", "daum.net"),
    "nl_NL": ("ziggo.nl", "kpnmail.nl"),
    "tr_TR": ("yandex.com.tr", "turk.net"),
    "en_CA": ("rogers.com", "shaw.ca"),
    "pt_BR": ("uol.com.br", "bol.com.br"),
}
LINE2 = {
    "en_GB": ("Flat ", ""),
    "en_US": ("Apt ", ""),
    "de_DE": ("Wohnung ", ""),
    "fr_FR": ("Appartement ", ""),
    "es_ES": ("Piso ", ""),
    "it_IT": ("Interno ", ""),
    "pl_PL": ("m. ", ""),
    "ru_RU": ("кв. ", ""),
    "el_GR": ("Διαμ. ", ""),
    "ja_JP": ("", "号室"),
    "ko_KR": ("", "호"),
    "nl_NL": ("App. ", ""),
    "tr_TR": ("Daire ", ""),
    "en_CA": ("Unit ", ""),
    "pt_BR": ("Apto ", ""),
}
EN_SUFFIXES = ("Street", "Street", "Road", "Road", "Avenue", "Lane", "Close", "Drive", "Way")
_EN_PAIRS = (("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Lane", "Ln"))
# Street-type words per locale as (full, abbreviated); the pools store either form (about a
# third abbreviated) and the multinational sample writes a share of streets in the other one.
# Where the word sits: "prefix" first word (ул. Ленина), "suffix" last word (Gül Sokak),
# "glued" end of a word (Goethestraße).
STREET_PAIRS = {
    "ru_RU": (
        "prefix",
        (
            ("улица", "ул."),
            ("переулок", "пер."),
            ("бульвар", "бул."),
            ("аллея", "алл."),
            ("проспект", "пр-т"),
        ),
    ),
    "tr_TR": ("suffix", (("Sokak", "Sk."), ("Caddesi", "Cd."), ("Bulvarı", "Blv."))),
    "it_IT": ("prefix", (("Via", "V."), ("Viale", "V.le"), ("Piazza", "P.za"))),
    "es_ES": ("prefix", (("Calle", "C/"),)),
    "pt_BR": ("prefix", (("Rua", "R."), ("Avenida", "Av."))),
    "fr_FR": ("prefix", (("avenue", "av."), ("boulevard", "bd"))),
    "pl_PL": ("prefix", (("ulica", "ul."),)),
    "en_GB": ("suffix", _EN_PAIRS),
    "en_US": ("suffix", _EN_PAIRS),
    "en_CA": ("suffix", _EN_PAIRS),
    "de_DE": ("glued", (("straße", "str."), ("Straße", "Str."))),
    "nl_NL": ("glued", (("straat", "str."),)),
}
IT_TYPES = ("Via",) * 5 + ("Viale", "Viale", "Piazza", "Piazza", "Vicolo", "Corso", "Largo")
ES_TYPES = ("Calle",) * 6 + ("Avenida", "Plaza", "Paseo", "Camino")
BR_TYPES = ("Rua",) * 6 + ("Avenida", "Avenida", "Avenida", "Travessa", "Alameda")
TR_TYPES = ("Sokak",) * 5 + ("Caddesi",) * 3 + ("Bulvarı",) * 2
ABBREVIATED_SHARE = 35  # percent of pool streets stored with the abbreviated type word
_RU_FAKER_TYPES = {"ул.": 0, "пер.": 1, "бул.": 2, "алл.": 3, "пр.": 4}  # -> STREET_PAIRS row
LETTERED = ("nl_NL", "de_DE", "ru_RU")  # house numbers like 63a are common there
HOUSE_LETTERS = (("", "a", "b", "c"), ("", "а", "б", "в"))  # Latin; Cyrillic for ru_RU
ABBREVIATIONS = (
    (r"\bStreet\b", "St"),
    (r"\bRoad\b", "Rd"),
    (r"\bAvenue\b", "Ave"),
    (r"\bLane\b", "Ln"),
    (r"straße\b", "str."),
    (r"Straße\b", "Str."),
)
HOT_NAMES = (
    ("Maria", "Garcia"),
    ("Wei", "Wang"),
    ("John", "Smith"),
    ("Anna", "Müller"),
    ("Jean", "Martin"),
    ("Giuseppe", "Rossi"),
    ("Anna", "Nowak"),
    ("James", "Brown"),
    ("José", "Fernández"),
    ("Marie", "Dubois"),
    ("Thomas", "Schmidt"),
    ("Michael", "Johnson"),
    ("Laura", "Bianchi"),
    ("Piotr", "Kowalski"),
    ("David", "Jones"),
    ("Sarah", "Wilson"),
)
TR_STREETS = (
    "Atatürk,İnönü,Cumhuriyet,İstiklal,Gazi,Fevzi Çakmak,Adnan Menderes,Mimar Sinan,Gül,Lale,"
    "Menekşe,Papatya,Çiçek,Bahar,Yıldız,Zafer,Barış,Hürriyet,Millet,Mevlana,Yunus Emre,"
    "Karanfil,Akasya,Çınar,Kavak,Orhan Gazi,Fatih,Kazım Karabekir,Namık Kemal,Ziya Gökalp"
).split(",")
TR_CITIES = (
    "İstanbul,Ankara,İzmir,Bursa,Antalya,Konya,Adana,Gaziantep,Şanlıurfa,Kocaeli,Mersin,"
    "Diyarbakır,Hatay,Manisa,Kayseri,Samsun,Balıkesir,Kahramanmaraş,Van,Aydın,Denizli,Sakarya,"
    "Tekirdağ,Muğla,Eskişehir,Mardin,Trabzon,Malatya,Erzurum,Ordu"
).split(",")
BR_CITIES = (
    "São Paulo,Rio de Janeiro,Belo Horizonte,Salvador,Fortaleza,Brasília,Curitiba,Manaus,Recife,"
    "Porto Alegre,Belém,Goiânia,Guarulhos,Campinas,São Luís,Maceió,Natal,Teresina,Campo Grande,"
    "João Pessoa,Santos,Niterói,Florianópolis,Vitória,Londrina,Joinville,Uberlândia,"
    "Ribeirão Preto,Sorocaba,Cuiabá"
).split(",")

KO_LAST = (
    "김 Kim,이 Lee,박 Park,최 Choi,정 Jung,강 Kang,조 Cho,윤 Yoon,장 Jang,임 Lim,한 Han,"
    "오 Oh,서 Seo,신 Shin,권 Kwon,황 Hwang,안 Ahn,송 Song,류 Ryu,전 Jeon,홍 Hong,고 Ko,"
    "문 Moon,양 Yang,손 Son,배 Bae,백 Baek,허 Heo,유 Yoo,남 Nam"
)
KO_FIRST = (
    "민준 Minjun,서연 Seoyeon,서준 Seojun,지우 Jiwoo,도윤 Doyoon,하은 Haeun,예준 Yejun,"
    "서윤 Seoyun,시우 Siwoo,지민 Jimin,주원 Juwon,수아 Sua,하준 Hajun,지유 Jiyu,지호 Jiho,"
    "채원 Chaewon,준서 Junseo,지아 Jia,현우 Hyunwoo,민서 Minseo,성민 Sungmin,정희 Junghee,"
    "영수 Youngsoo,영희 Younghee,철수 Chulsoo,은지 Eunji,혜진 Hyejin,동현 Donghyun,"
    "수빈 Subin,유진 Yujin"
)

TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяαβγδεζηθικλμνξοπρσςτυφχψω",
        (
            "a|b|v|g|d|e|e|zh|z|i|y|k|l|m|n|o|p|r|s|t|u|f|kh|ts|"
            "ch|sh|shch||y||e|yu|ya|a|v|g|d|e|z|i|th|i|k|l|m|n|x|o|"
            "p|r|s|s|t|y|f|ch|ps|o"
        ).split("|"),
        strict=True,
    )
)


@functools.cache
def _street_rules(loc: str) -> tuple:
    """(full word regex, abbreviation, abbreviation regex, full word) per STREET_PAIRS row."""
    where, pairs = STREET_PAIRS.get(loc, ("", ()))
    before = r"(?<=\S)" if where == "glued" else r"(?<!\S)"
    return tuple(
        (
            re.compile(f"{before}{re.escape(f)}(?!\\S)"),
            a,
            re.compile(f"{before}{re.escape(a)}(?!\\S)"),
            f,
        )
        for f, a in pairs
    )


def flip_street(line1: str, loc: str) -> tuple[str, str]:
    """The street line with its type word in the other form, and which way it went:
    `abbreviated` (улица -> ул.), `expanded` (ул. -> улица) or `as_stored` (no type word)."""
    for full_re, abbr, abbr_re, full in _street_rules(loc):
        if full_re.search(line1):
            return full_re.sub(lambda _, a=abbr: a, line1, count=1), "abbreviated"
        if abbr_re.search(line1):
            return abbr_re.sub(lambda _, f=full: f, line1, count=1), "expanded"
    return line1, "as_stored"


def canon_street(line1: str, loc: str) -> str:
    """Street line with every type word in full, case-folded: equal for two spellings."""
    for _, _, abbr_re, full in _street_rules(loc):
        line1 = abbr_re.sub(lambda _, f=full: f, line1)
    return " ".join(line1.casefold().replace("ı", "i").split())


def street_maker(loc: str, fk: Faker):
    """A Faker-backed street drawer; the type word in full or abbreviated (STREET_PAIRS)."""
    pairs = STREET_PAIRS.get(loc, ("", ()))[1]

    def typed(full: str) -> str:
        abbr = dict(pairs).get(full)
        return abbr if abbr and fk.random_int(0, 99) < ABBREVIATED_SHARE else full

    def glued(street: str) -> str:
        for full, _ in pairs:
            if street.endswith(full):
                return street[: -len(full)] + typed(full)
        return street

    def ru() -> str:
        head, rest = fk.street_name().split(" ", 1)
        row = _RU_FAKER_TYPES.get(head)
        return f"{head if row is None else typed(pairs[row][0])} {rest}"

    def fr() -> str:
        head, rest = fk.street_name().split(" ", 1)
        return f"{typed(head)} {rest}"

    makers = {
        "en_GB": lambda: f"{fk.last_name()} {typed(fk.random_element(EN_SUFFIXES))}",
        "de_DE": lambda: glued(fk.street_name() if fk.boolean(40) else f"{fk.last_name()}straße"),
        "nl_NL": lambda: glued(fk.street_name() if fk.boolean(50) else f"{fk.first_name()}straat"),
        "ja_JP": lambda: f"{fk.town()}{fk.chome()}",
        "ko_KR": lambda: f"{fk.road_name()}{fk.road_suffix()}",
        "ru_RU": ru,
        "fr_FR": fr,
        "it_IT": lambda: f"{typed(fk.random_element(IT_TYPES))} {fk.last_name()}",
        "es_ES": lambda: (
            f"{typed(fk.random_element(ES_TYPES))} {'de ' * fk.boolean(40)}{fk.last_name()}"
        ),
        "pt_BR": lambda: (
            f"{typed(fk.random_element(BR_TYPES))} "
            + (f"{fk.first_name()} {fk.last_name()}" if fk.boolean(40) else fk.last_name())
        ),
        "pl_PL": lambda: f"{typed('ulica')} {fk.street_name()}",
        "tr_TR": lambda: (
            f"{fk.random_element(TR_STREETS) if fk.boolean(60) else fk.last_name()} "
            + typed(fk.random_element(TR_TYPES))
        ),
    }
    makers["en_US"] = makers["en_CA"] = makers["en_GB"]
    return makers.get(loc, fk.street_name)


def postcode_maker(loc: str, fk: Faker):
    """Postcodes in each country's one usual layout (Faker mixes several for some)."""
    if loc == "el_GR":  # "NNN NN"
        return lambda: f"{fk.random_int(100, 859)} {fk.random_int(10, 99)}"
    layouts = {  # Faker's value, re-spaced: 1234 AB, K1A 0B1, 12345-678
        "nl_NL": (r"^(\d{4}) ?([A-Z]{2})$", r"\1 \2"),
        "en_CA": (r"^([A-Z]\d[A-Z]) ?(\d[A-Z]\d)$", r"\1 \2"),
        "pt_BR": (r"^(\d{5})-?(\d{3})$", r"\1-\2"),
    }
    if loc in layouts:
        pattern, repl = layouts[loc]
        return lambda: re.sub(pattern, repl, fk.postcode())
    return fk.postcode


# ISO alpha-2: (alpha-3, English names, local names); no commas (they split addresses)
COUNTRY_NAMES = {
    "GB": ("GBR", ("United Kingdom", "UK", "Great Britain"), ("United Kingdom",)),
    "US": ("USA", ("United States", "United States of America"), ("United States",)),
    "DE": ("DEU", ("Germany",), ("Deutschland",)),
    "FR": ("FRA", ("France",), ("France",)),
    "ES": ("ESP", ("Spain",), ("España",)),
    "IT": ("ITA", ("Italy",), ("Italia",)),
    "PL": ("POL", ("Poland",), ("Polska",)),
    "RU": ("RUS", ("Russia", "Russian Federation"), ("Россия", "Российская Федерация")),
    "GR": ("GRC", ("Greece",), ("Ελλάδα",)),
    "JP": ("JPN", ("Japan",), ("日本",)),
    "KR": ("KOR", ("South Korea", "Republic of Korea"), ("대한민국", "한국")),
    "NL": ("NLD", ("Netherlands", "The Netherlands", "Holland"), ("Nederland",)),
    "TR": ("TUR", ("Turkey",), ("Türkiye",)),
    "CA": ("CAN", ("Canada",), ("Canada",)),
    "BR": ("BRA", ("Brazil",), ("Brasil",)),
}
