"""International addresses and phones: street words, house numbers, postcodes, free-text
layouts, cities, and the phone table against libphonenumber (`phonenumbers`).

Each test builds one DataFrame holding all its cases and collects it once."""

from __future__ import annotations

import random
import re

import phonenumbers
from pyspark.sql import functions as F

from jobs import normalise as N


def collect(spark, rows, schema, *columns):
    """Rows -> the given builders' values, one tuple per row, in order."""
    df = spark.createDataFrame(rows, schema)
    return [tuple(r) for r in df.select(*columns).collect()]


def address_keys(spark, norm_conf, pairs):
    """(street, postcode) pairs -> address_key(fold_street, normalise_postcode)."""
    got = collect(
        spark,
        [*pairs, (None, "10115"), ("Main Street 1", None)],
        "s string, p string",
        N.address_key(
            N.fold_street(F.col("s"), norm_conf.abbreviations), N.normalise_postcode(F.col("p"))
        ),
    )
    assert got[-2:] == [(None,), (None,)]
    return [k for (k,) in got[:-2]]


# (full form, abbreviated form, their common key): sellers write either side.
STREET_PAIRS = [
    # Russian, Ukrainian
    ("улица Ленина, дом 5", "ул. Ленина, д. 5", "5|ул ленина"),
    ("переулок Мира 3", "пер. Мира 3", "3|пер мира"),
    ("бульвар Победы 7", "б-р Победы 7", "7|бул победы"),
    ("бульвар Победы 7", "бул. Победы 7", "7|бул победы"),
    ("аллея Героев 2", "алл. Героев 2", "2|алл героев"),
    ("проспект Мира 10", "пр-т Мира 10", "10|пр мира"),
    ("проспект Мира 10", "просп. Мира 10", "10|пр мира"),
    ("проспект Мира 10", "пр. Мира 10", "10|пр мира"),
    ("площадь Победы 1", "пл. Победы 1", "1|пл победы"),
    ("Варшавское шоссе 12", "Варшавское ш. 12", "12|варшавское ш"),
    ("набережная Фонтанки 20", "наб. Фонтанки 20", "20|наб фонтанки"),
    ("проезд Серебрякова 4", "пр-д Серебрякова 4", "4|прд серебрякова"),
    ("тупик Лесной 3", "туп. Лесной 3", "3|туп лесной"),
    ("город Шатура, улица Мира 1", "г. Шатура, ул. Мира 1", "1|г шатура ул мира"),
    ("посёлок Красный, ул. Мира 1", "пос. Красный, ул. Мира 1", "1|п красный ул мира"),
    ("поселок Красный, ул. Мира 1", "п. Красный, ул. Мира 1", "1|п красный ул мира"),
    ("село Ивановка, ул. Мира 1", "с. Ивановка, ул. Мира 1", "1|с ивановка ул мира"),
    ("станица Каневская, ул. Мира 1", "ст-ца Каневская, ул. Мира 1", "1|ст каневская ул мира"),
    ("станица Каневская, ул. Мира 1", "ст. Каневская, ул. Мира 1", "1|ст каневская ул мира"),
    ("деревня Ивановка 12", "д. Ивановка 12", "12|д ивановка"),
    ("колхоз Заря 3", "клх Заря 3", "3|клх заря"),
    ("микрорайон Южный 5", "мкр. Южный 5", "5|мкр южный"),
    ("вулиця Хрещатик 22", "вул. Хрещатик 22", "22|вул хрещатик"),
    ("провулок Тихий 2", "пров. Тихий 2", "2|пров тихий"),
    ("проспект Перемоги 5", "просп. Перемоги 5", "5|пр перемоги"),
    ("площа Свободи 1", "пл. Свободи 1", "1|пл свободи"),
    # Turkish
    ("Gül Sokak No: 5", "Gül Sk. No 5", "5|gul sk"),
    ("Gül Sokağı 5", "Gül Sok. 5", "5|gul sk"),
    ("Atatürk Caddesi No: 12", "Atatürk Cad. No 12", "12|ataturk cd"),
    ("Atatürk Cadde 12", "Atatürk Cd. 12", "12|ataturk cd"),
    ("Atatürk Bulvarı 3", "Atatürk Blv. 3", "3|ataturk bd"),
    ("Atatürk Bulvar 3", "Atatürk Bulv. 3", "3|ataturk bd"),
    ("Çamlık Mahallesi, Gül Sokak 5", "Çamlık Mah. Gül Sk. 5", "5|camlik mh gul sk"),
    ("Çamlık Mahalle 5", "Çamlık Mh. 5", "5|camlik mh"),
    ("Gül Apartmanı, Gül Sokak 5", "Gül Apt. Gül Sk. 5", "5|gul apt gul sk"),
    # Italian
    ("Via Roma 12", "V. Roma 12", "12|via roma"),
    ("Viale Monza 3", "V.le Monza 3", "3|vle monza"),
    ("Piazza Duomo 1", "P.za Duomo 1", "1|pl duomo"),
    ("Piazza Duomo 1", "P.zza Duomo 1", "1|pl duomo"),
    ("Piazza Duomo 1", "Pza Duomo 1", "1|pl duomo"),
    ("Corso Buenos Aires 5", "C.so Buenos Aires 5", "5|cso buenos aires"),
    ("Largo Augusto 2", "L.go Augusto 2", "2|lgo augusto"),
    ("Vicolo Stretto 4", "Vic. Stretto 4", "4|vic stretto"),
    ("Strada Statale 9", "Str. Statale 9", "9|str statale"),
    # Spanish
    ("Calle Mayor 7", "C/ Mayor, 7", "7|c mayor"),
    ("Calle Mayor 7", "Cl. Mayor 7", "7|c mayor"),
    ("Avenida de América 3", "Avda. de América 3", "3|av de america"),
    ("Avenida de América 3", "Av. de América 3", "3|av de america"),
    ("Plaza Mayor 1", "Pza. Mayor 1", "1|pl mayor"),
    ("Plaza Mayor 1", "Pl. Mayor 1", "1|pl mayor"),
    ("Paseo de la Castellana 5", "Pº de la Castellana 5", "5|pso de la castellana"),
    ("Paseo de la Castellana 5", "Pso. de la Castellana 5", "5|pso de la castellana"),
    ("Carretera de Valencia 8", "Ctra. de Valencia 8", "8|ctra de valencia"),
    ("Camino Real 6", "Cno. Real 6", "6|cno real"),
    # Portuguese, Brazilian
    ("Rua Augusta 100", "R. Augusta 100", "100|r augusta"),
    ("Avenida Paulista 900", "Av. Paulista 900", "900|av paulista"),
    ("Travessa do Carmo 2", "Tv. do Carmo 2", "2|tv do carmo"),
    ("Travessa do Carmo 2", "Trav. do Carmo 2", "2|tv do carmo"),
    ("Praça da Sé 1", "Pç. da Sé 1", "1|pl da se"),
    ("Praça da Sé 1", "Pc. da Sé 1", "1|pl da se"),
    ("Alameda Santos 3", "Al. Santos 3", "3|al santos"),
    ("Estrada Velha 9", "Estr. Velha 9", "9|estr velha"),
    ("Rodovia Anhanguera 1000", "Rod. Anhanguera 1000", "1000|rod anhanguera"),
    # Dutch: compounds and separate words
    ("Hoofdstraat 12", "Hoofdstr. 12", "12|hoofdstr"),
    ("Stationslaan 4", "Stationsln. 4", "4|stationsln"),
    ("Marktplein 1", "Marktpln. 1", "1|marktpl"),
    ("Keizersgracht 100", "Keizersgr. 100", "100|keizersgr"),
    ("Prins Hendrikkade 5", "Prins Hendrikkd. 5", "5|prins hendrikkd"),
    ("Van Baerlestraat 7", "Van Baerle straat 7", None),  # one word or two: not folded
    ("Oude Straat 3", "Oude Str. 3", "3|oude str"),
    # German
    ("Berliner Straße 5", "Berliner Str. 5", "5|berliner str"),
    ("Hauptstrasse 5", "Hauptstr. 5", "5|hauptstr"),
    ("Marktplatz 2", "Marktpl. 2", "2|marktpl"),
    ("Lindenallee 3", "Lindenallee 3", "3|lindenallee"),
    ("Sankt-Georg-Straße 1", "St.-Georg-Str. 1", "1|st georg str"),
    # French
    ("12 rue de la Paix", "12 r. de la Paix", "12|r de la paix"),
    ("3 avenue Foch", "3 av. Foch", "3|av foch"),
    ("5 boulevard Haussmann", "5 bd Haussmann", "5|bd haussmann"),
    ("5 boulevard Haussmann", "5 boul. Haussmann", "5|bd haussmann"),
    ("1 place Vendôme", "1 pl. Vendôme", "1|pl vendome"),
    ("4 chemin des Vignes", "4 ch. des Vignes", "4|ch des vignes"),
    ("2 impasse des Lilas", "2 imp. des Lilas", "2|imp des lilas"),
    ("6 allée des Pins", "6 all. des Pins", "6|al des pins"),
    ("7 route de Lyon", "7 rte de Lyon", "7|rte de lyon"),
    ("8 cours Mirabeau", "8 crs Mirabeau", "8|crs mirabeau"),
    ("9 quai Voltaire", "9 Quai Voltaire", "9|quai voltaire"),
    ("1 rue Saint-Denis", "1 rue St-Denis", "1|r st denis"),
    # Polish
    ("ulica Okrężna 776", "ul. Okrężna 776", "776|ul okrezna"),
    ("aleja Jana Pawła II 5", "al. Jana Pawła II 5", "5|al jana pawla ii"),
    ("plac Zbawiciela 3", "pl. Zbawiciela 3", "3|pl zbawiciela"),
    ("osiedle Tysiąclecia 12", "os. Tysiąclecia 12", "12|os tysiaclecia"),
    # English
    ("12 Main Street", "12 Main St.", "12|main st"),
    ("12 Mill Road", "12 Mill Rd", "12|mill rd"),
    ("12 Park Avenue", "12 Park Ave", "12|park av"),
    ("12 Park Avenue", "12 Park Av.", "12|park av"),
    ("12 Church Lane", "12 Church Ln", "12|church ln"),
    ("12 Ocean Drive", "12 Ocean Dr.", "12|ocean dr"),
    ("12 Kings Court", "12 Kings Ct", "12|kings ct"),
    ("12 Hyde Place", "12 Hyde Pl", "12|hyde pl"),
    ("12 Berkeley Square", "12 Berkeley Sq.", "12|berkeley sq"),
    ("12 Royal Crescent", "12 Royal Cres.", "12|royal cres"),
    ("12 Mill Close", "12 Mill Cl.", "12|mill c"),
    ("12 Albert Terrace", "12 Albert Tce", "12|albert tce"),
    ("12 Albert Terrace", "12 Albert Terr.", "12|albert tce"),
    ("12 Sunset Boulevard", "12 Sunset Blvd", "12|sunset bd"),
    ("12 Pacific Highway", "12 Pacific Hwy", "12|pacific hwy"),
    ("12 Garden State Parkway", "12 Garden State Pkwy", "12|garden state pkwy"),
    ("12 Mount Pleasant", "12 Mt Pleasant", "12|mt pleasant"),
    ("12 Kensington Gardens", "12 Kensington Gdns", "12|kensington gdns"),
    ("12 Holly Grove", "12 Holly Gr.", "12|holly gr"),
    ("12 Saint Johns Road", "12 St. Johns Rd", "12|st johns rd"),
]


def test_street_words_fold_both_ways(spark, norm_conf):
    pairs = [(s, "X1") for full, short, _ in STREET_PAIRS for s in (full, short)]
    keys = address_keys(spark, norm_conf, pairs)
    for i, (full, short, expected) in enumerate(STREET_PAIRS):
        got_full, got_short = keys[2 * i], keys[2 * i + 1]
        if expected is None:
            assert got_full != got_short, (full, short)
            continue
        assert got_full == got_short == f"{expected}|X1", (full, short, got_full, got_short)


def test_different_streets_stay_different(spark, norm_conf):
    different = [
        ("12 Main Street", "12 Main Road"),
        ("12 Main Street", "12 High Street"),
        ("Via Roma 12", "Viale Roma 12"),
        ("Via Roma 12", "Via Roma 14"),
        ("Piazza Duomo 1", "Corso Duomo 1"),
        ("ул. Ленина 5", "пр. Ленина 5"),
        ("ул. Ленина 5", "пер. Ленина 5"),
        ("пр-т Мира 5", "пр-д Мира 5"),
        ("Gül Sokak 5", "Gül Caddesi 5"),
        ("Hauptstraße 5", "Hauptplatz 5"),
        ("12 rue de la Paix", "12 avenue de la Paix"),
        ("Calle Mayor 7", "Plaza Mayor 7"),
        ("Hauptstr. 12a", "Hauptstr. 12b"),
        ("Hauptstr. 12", "Hauptstr. 12a"),
        ("Hauptstr. 12", "Hauptstr. 12-14"),
        ("ул. Ленина, д. 5 к. 2", "ул. Ленина, д. 5 к. 3"),
        ("12 bis rue X", "12 rue X"),
        ("Keizersgracht 10", "Keizerslaan 10"),
    ]
    keys = address_keys(spark, norm_conf, [(s, "X1") for pair in different for s in pair])
    for i, pair in enumerate(different):
        assert keys[2 * i] != keys[2 * i + 1], pair


# Ways of writing one house: every street of a group gives the group's key.
HOUSE_NUMBERS = [
    (["Hauptstr. 63a", "Hauptstr. 63 a", "Hauptstr. 63A", "Hauptstr. 63-a", "63a Hauptstr."],
     "63a|hauptstr"),
    (["Calle Mayor 12-14", "Calle Mayor 12/14", "C/ Mayor, 12 - 14", "12-14 Calle Mayor"],
     "12-14|c mayor"),
    (["12 bis rue X", "12bis rue X", "rue X 12 bis", "12 Bis, rue X"], "12bis|r x"),
    (["Atatürk Cad. No: 12", "Atatürk Cad. No 12", "Atatürk Cad. No:12", "Atatürk Cad. 12",
      "Atatürk Cad. Nº 12"], "12|ataturk cd"),
    (["ул. Ленина, д. 5", "ул. Ленина, д.5", "ул. Ленина, дом 5", "ул. Ленина 5"],
     "5|ул ленина"),
    (["ул. Ленина, д.5 к.2", "ул. Ленина, д. 5, корп. 2", "ул. Ленина 5к2",
      "ул. Ленина, д. 5 корпус 2", "ул. Ленина 5 к2"], "5к2|ул ленина"),
    (["ул. Ленина, д. 5, корп. 2, стр. 1", "ул. Ленина 5к2с1"], "5к2с1|ул ленина"),
    (["ул. Ленина, д. 5а", "ул. Ленина 5 а", "ул. Ленина, д. 5-А"], "5а|ул ленина"),
    (["Via Roma n. 12", "Via Roma 12", "Via Roma nr. 12"], "12|via roma"),
    (["Hauptstr. 12 c", "Hauptstr. 12c", "Hauptstr. 12 C"], "12c|hauptstr"),
]  # fmt: skip


def test_house_numbers_written_differently(spark, norm_conf):
    pairs = [(s, "X1") for streets, _ in HOUSE_NUMBERS for s in streets]
    keys = iter(address_keys(spark, norm_conf, pairs))
    for streets, expected in HOUSE_NUMBERS:
        for street in streets:
            assert next(keys) == f"{expected}|X1", street


def test_house_number_keeps_the_street_after_a_street_letter(spark, norm_conf):
    """ "12 r. de la Paix": "r" is the street word rue, not the house's letter."""
    got = collect(
        spark,
        [("12 r de la Paix",), ("12 c Mayor",), ("63 a Main Street",), ("No 12",), (None,)],
        "s string",
        N.fold_street(F.col("s"), norm_conf.abbreviations),
    )
    assert got == [("12 r de la paix",), ("12 c mayor",), ("63a main st",), ("12",), (None,)]


# Postcodes of each shape, written the ways people write them -> one canonical form.
POSTCODES = [
    (["1234 AB", "1234ab", "1234  AB", "1234AB", "NL-1234 AB"], "1234AB"),  # NL
    (["SW1A 1AA", "SW1A1AA", "sw1a 1aa"], "SW1A1AA"),  # GB
    (["M1 1AE", "m1 1ae", "M11AE"], "M11AE"),
    (["K1A 0B1", "k1a0b1"], "K1A0B1"),  # CA
    (
        ["123-4567", "1234567", "〒123-4567", "１２３－４５６７", "〒１２３４５６７"],
        "1234567",
    ),  # JP
    (["01305-000", "01305000"], "01305000"),  # BR
    (["12-345", "12345", "PL-12-345"], "12345"),  # PL
    (["10115", "D-10115", "DE-10115"], "10115"),  # DE, also FR, ES, IT, TR, KR
    (["90210", "90210-1234", "902101234", "90210 1234"], "90210"),  # US: ZIP+4 -> ZIP
    (["123456"], "123456"),  # RU
    (["105 63", "10563"], "10563"),  # GR
]


def test_postcode_shapes(spark):
    values = [v for written, _ in POSTCODES for v in written]
    got = collect(
        spark,
        [(v,) for v in [*values, "", "  ", None]],
        "p string",
        N.normalise_postcode(F.col("p")),
    )
    assert got[-3:] == [(None,), (None,), (None,)]
    got = iter(got)
    for written, expected in POSTCODES:
        for v in written:
            assert next(got) == (expected,), v


# (text, country given) -> (line1, postcode as written, city, country)
LAYOUTS = [
    ("12 Main Street, London SW1A 1AA, United Kingdom", None,
     ("12 Main Street", "SW1A1AA", "london", "GB")),
    ("12 Main Street, London SW1A 1AA, UK", None, ("12 Main Street", "SW1A1AA", "london", "GB")),
    ("12 Main Street, London SW1A 1AA", None, ("12 Main Street", "SW1A1AA", "london", None)),
    ("12 Main Street, London SW1A 1AA", "gb", ("12 Main Street", "SW1A1AA", "london", "GB")),
    ("Hauptstr. 5, 10115 Berlin, Germany", None, ("Hauptstr. 5", "10115", "berlin", "DE")),
    ("Hauptstr. 5, 10115 Berlin, Deutschland", None, ("Hauptstr. 5", "10115", "berlin", "DE")),
    ("Hauptstr. 5, 10115 Berlin, DEU", None, ("Hauptstr. 5", "10115", "berlin", "DE")),
    ("Hauptstr. 5, 10115 Berlin, DE", None, ("Hauptstr. 5", "10115", "berlin", "DE")),
    ("Hauptstr. 5, 10115 Berlin", None, ("Hauptstr. 5", "10115", "berlin", None)),
    ("ul. Okrężna 776, Ostrowiec, 13-500", None, ("ul. Okrężna 776", "13-500", "ostrowiec", None)),
    ("ul. Okrężna 776, Ostrowiec, 13-500, Polska", None,
     ("ul. Okrężna 776", "13-500", "ostrowiec", "PL")),
    ("Dorpsstraat 12, 2235 NT Valkenburg, Nederland", None,
     ("Dorpsstraat 12", "2235NT", "valkenburg", "NL")),
    ("Dorpsstraat 12, Valkenburg 2235 NT", "NL", ("Dorpsstraat 12", "2235NT", "valkenburg", "NL")),
    ("Dorpsstraat 12, 2235NT Valkenburg", None, ("Dorpsstraat 12", "2235NT", "valkenburg", None)),
    ("ул. Ленина, д. 5, корп. 2, Москва 2, 123456, Россия", None,
     ("ул. Ленина, д. 5, корп. 2", "123456", "москва 2", "RU")),
    ("ул. Ленина, д. 5, Москва 2, 123456", "RU", ("ул. Ленина, д. 5", "123456", "москва 2", "RU")),
    ("ул. Ленина 5, Москва 2", "RU", ("ул. Ленина 5", None, "москва 2", "RU")),
    ("ул. Ленина 5, Москва 2", None, ("ул. Ленина 5", None, "москва 2", None)),
    ("г. Москва, ул. Ленина, д. 5, 123456", None,
     ("ул. Ленина, д. 5", "123456", "г. москва", None)),
    ("123456, Московская обл., г. Химки, ул. Ленина, д. 5", "RU",
     ("ул. Ленина, д. 5", "123456", "г. химки", "RU")),
    ("ул. Мира 1, п. Шатура, 140700, RU", None, ("ул. Мира 1", "140700", "п. шатура", "RU")),
    ("ул. Мира 1, с. Ивановка, 123456, Российская Федерация", None,
     ("ул. Мира 1", "123456", "с. ивановка", "RU")),
    ("Calle Mayor, 7, 28013 Madrid, España", None, ("Calle Mayor, 7", "28013", "madrid", "ES")),
    ("Via Roma 12, 00184 Roma RM, Italia", None, ("Via Roma 12", "00184", "roma rm", "IT")),
    ("1-2-3 Roppongi, Minato-ku, Tokyo 〒106-0032, Japan", None,
     ("1-2-3 Roppongi", "106-0032", "minato-ku", "JP")),
    ("100 Main St, Springfield, IL 62704-1234, USA", None,
     ("100 Main St", "62704-1234", "springfield", "US")),
    ("Rua Augusta 100, São Paulo, 01305-000, Brasil", None,
     ("Rua Augusta 100", "01305-000", "sao paulo", "BR")),
    ("Odos Ermou 5, Athina 105 63, Greece", None, ("Odos Ermou 5", "10563", "athina", "GR")),
    ("1 Yonge St, Toronto M5E 1E5, CAN", None, ("1 Yonge St", "M5E1E5", "toronto", "CA")),
    ("Atatürk Cad. No: 12, 34000 İstanbul, Türkiye", None,
     ("Atatürk Cad. No: 12", "34000", "istanbul", "TR")),
    # a house number of the postcode's shape before it; a number alone before the street
    ("1304, berwick, 2228", "AU", ("1304", "2228", "berwick", "AU")),
    ("2000, Main St, Springfield, 62704", "US", ("2000 Main St", "62704", "springfield", "US")),
    ("12, rue de la Paix, 75002 Paris", None, ("12 rue de la Paix", "75002", "paris", None)),
    ("5, Main St, Springfield, IL 62704", None, ("5 Main St", "62704", "springfield", None)),
    ("124, wantirna, 3046", "AU", ("124", "3046", "wantirna", "AU")),
    ("12, London, NW1 6XF", None, ("12", "NW16XF", "london", None)),
    # a flat number alone in a segment is line2: neither the street nor the town
    ("Flat 3, 12 High St, London, NW1 6XF", "GB", ("12 High St", "NW16XF", "london", "GB")),
    ("12 High St, Apt 4B, Springfield, 62704", "US", ("12 High St", "62704", "springfield", "US")),
    ("ул. Ленина, д. 5, кв. 12, г. Москва, 123456", "RU",
     ("ул. Ленина, д. 5", "123456", "г. москва", "RU")),
    ("東京都港区六本木1-2-3, 502号室, 106-0032", "JP",
     ("東京都港区六本木1-2-3", "106-0032", None, "JP")),
    ("no commas here 12", None, ("no commas here 12", None, None, None)),
    ("", None, (None, None, None, None)),
    (None, "DE", (None, None, None, "DE")),
]  # fmt: skip


def test_split_address_layouts(spark, norm_conf):
    line1, city, postcode, country = N.address_parts(F.col("a"), F.col("c"), norm_conf)
    split = N.split_address(F.col("a"), F.col("c"), norm_conf)
    without = N.split_address(F.col("a"))  # keys.py's call: no country, the shipped conf
    got = collect(
        spark,
        [(text, given) for text, given, _ in LAYOUTS],
        "a string, c string",
        line1, postcode, city, country, *split, *without,
    )  # fmt: skip
    for (text, given, expected), row in zip(LAYOUTS, got, strict=True):
        assert row[:4] == expected, (text, given, row)
        assert row[4:6] == expected[:2], text
        if given is None or expected[3] == given.upper():
            assert row[6:] == expected[:2], text


def test_normalise_city_drops_administrative_words(spark, norm_conf):
    groups = [
        (["г. Москва", "Москва г.", "город Москва", "Москва", "г Москва"], "москва"),
        (["п. Шатура", "пос. Шатура", "посёлок Шатура", "пгт Шатура"], "шатура"),
        (["с. Ивановка", "село Ивановка", "д. Ивановка", "деревня Ивановка"], "ивановка"),
        (["ст. Каневская", "станица Каневская"], "каневская"),
        (["клх Заря", "колхоз Заря"], "заря"),
        (["мкр. Южный", "микрорайон Южный"], "южный"),
        (["City of London", "London"], "london"),
        (["Gemeente Amsterdam", "Amsterdam"], "amsterdam"),
        (["Stadt Wien", "Wien"], "wien"),
        (["Comune di Roma", "Roma"], "roma"),
        (["Ciudad de México", "Mexico"], "mexico"),
        (["Stadt"], "stadt"),  # nothing but the word: kept
    ]
    values = [v for written, _ in groups for v in written]
    got = collect(
        spark,
        [(v,) for v in [*values, "", None]],
        "c string",
        N.normalise_city(F.col("c"), norm_conf),
    )
    assert got[-2:] == [(None,), (None,)]
    got = iter(got)
    for written, expected in groups:
        for v in written:
            assert next(got) == (expected,), v


def test_reference_names_are_written_as_cleaned(spark, norm_conf):
    """City and region words are looked up after `clean_name`: they must be written in that
    form in conf/normalise.yaml, or they never match (country names are folded when loaded:
    tests/unit/test_country.py)."""
    words = [*norm_conf.city_prefixes, *norm_conf.region_words]
    got = collect(spark, [(w,) for w in words], "w string", N.clean_name(F.col("w")))
    assert [w for w, (c,) in zip(words, got, strict=True) if c != w] == []


# ---- phones ---------------------------------------------------------------------------------

PNF = phonenumbers.PhoneNumberFormat


def test_phone_table_matches_libphonenumber(norm_conf):
    """Every country of `phone_countries` and `phone_numbering` against phonenumbers'
    metadata: calling code, trunk prefix, national number lengths and pattern, and the
    international call prefix where it is a plain one other than 00."""
    assert set(norm_conf.phone_lengths) == set(norm_conf.phone_countries)
    for country, (cc, trunk) in norm_conf.phone_countries.items():
        meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
        assert cc == str(phonenumbers.country_code_for_region(country)), country
        assert trunk == (meta.national_prefix or ""), country
        assert norm_conf.phone_lengths[country] == meta.general_desc.possible_length, country
        pattern = meta.general_desc.national_number_pattern
        assert norm_conf.phone_patterns[country] == pattern, country
        idd = (meta.preferred_international_prefix or meta.international_prefix).replace("~", "")
        plain = re.fullmatch("[0-9]+", idd) and idd != "00"
        assert norm_conf.phone_idd.get(country) == (idd if plain else None), country


# Where our reading and phonenumbers' differ on purpose: (country, format) -> why. Our value is
# then the number's own E.164 ("e164"), or only known to differ ("differs").
IDD_NOT_00 = (
    "00 starts an international number everywhere (numbers are copied between countries); "
    "phonenumbers reads it as national where the country dials another prefix"
)
LONG_AFTER_CODE = (
    "a full national number after the calling code is read as written with the code "
    "(4915733131601); phonenumbers reads it as national, as national numbers there can be "
    "that long"
)
BY_DESIGN = {
    **{(c, "00"): ("e164", IDD_NOT_00) for c in (
        "US", "CA", "RU", "KZ", "JP", "KR", "TW", "HK", "SG", "AU", "BR", "TH", "ID", "NG", "KE",
    )},
    **{(c, "code, 9+ digits"): ("e164", LONG_AFTER_CODE) for c in ("DE", "CZ", "ID", "PK", "NG")},
    ("AR", "national", "mobile"): (
        "differs", "a mobile's national form inserts 15 after the area code, which "
        "phonenumbers rewrites to 9 after the calling code: not modelled"),
}  # fmt: skip


def phone_formats(cc: str, trunk: str, num) -> dict[str, str]:
    """One number written the ways people write it."""
    nsn = phonenumbers.national_significant_number(num)
    out = {
        "national": phonenumbers.format_number(num, PNF.NATIONAL),
        "international": phonenumbers.format_number(num, PNF.INTERNATIONAL),
        "e164": phonenumbers.format_number(num, PNF.E164),
        "00": f"00 {cc} {nsn}",
        # the calling code without +
        "code, 9+ digits" if len(nsn) >= 9 else "code": cc + nsn,
        "nsn": nsn,  # national without the trunk prefix
        "dotted": ".".join([trunk + nsn[:3], nsn[3:6], nsn[6:]]),
        "parenthesised": f"({trunk}{nsn[:3]}) {nsn[3:6]}-{nsn[6:]}",
    }
    if trunk:
        out["trunk"] = trunk + nsn
        out["(0)"] = f"+{cc} ({trunk}) {nsn[:3]} {nsn[3:]}"
    return out


def libphonenumber_e164(written: str, country: str) -> str | None:
    try:
        return phonenumbers.format_number(phonenumbers.parse(written, country), PNF.E164)
    except phonenumbers.NumberParseException:  # e.g. "00 82 ..." in KR: 008 is a carrier's
        return None


def phone_cases(norm_conf):
    """(written, country, kind, format, phonenumbers' E.164, the number's own E.164) for
    every country of the table: its example mobile and fixed-line numbers, and numbers of
    random digits of the same length (and first digit) that phonenumbers calls invalid."""
    rng = random.Random(20240601)
    cases = []
    for country, (cc, trunk) in norm_conf.phone_countries.items():
        numbers = []
        types = phonenumbers.PhoneNumberType
        for kind, type_ in (("mobile", types.MOBILE), ("fixed line", types.FIXED_LINE)):
            example = phonenumbers.example_number_for_type(country, type_)
            if example is None:
                continue
            numbers.append((kind, example))
            nsn = phonenumbers.national_significant_number(example)
            for _ in range(2):
                for _attempt in range(100):
                    digits = nsn[0] + "".join(rng.choice("0123456789") for _ in nsn[1:])
                    num = phonenumbers.parse(f"+{cc}{digits}")
                    if phonenumbers.national_significant_number(num) != digits:
                        continue
                    if not phonenumbers.is_valid_number(num):
                        numbers.append((kind, num))
                        break
        for kind, num in numbers:
            own = phonenumbers.format_number(num, PNF.E164)
            for fmt, written in phone_formats(cc, trunk, num).items():
                theirs = libphonenumber_e164(written, country)
                cases.append((written, country, kind, fmt, theirs, own))
    return cases


def test_phone_e164_agrees_with_libphonenumber(spark, norm_conf):
    cases = phone_cases(norm_conf)
    assert len({c for _, c, _, _, _, _ in cases}) == len(norm_conf.phone_countries)
    extra = [("+44 (0)20 7946 0958", None), (None, "GB"), ("tel: +49 (0) 157 33131601", "DE")]
    got = collect(
        spark,
        [(w, c) for w, c, _, _, _, _ in cases] + extra,
        "p string, c string",
        N.phone_e164(N.clean_phone(F.col("p")), F.col("c"), norm_conf),
    )
    assert got[-3:] == [("+442079460958",), (None,), ("+4915733131601",)]
    wrong, seen = [], set()
    for (written, country, kind, fmt, theirs, own), (ours,) in zip(cases, got, strict=False):
        key = (country, fmt, kind) if (country, fmt, kind) in BY_DESIGN else (country, fmt)
        expect, _ = BY_DESIGN.get(key, ("theirs", None))
        if expect == "theirs" and ours != theirs:
            wrong.append((country, fmt, written, ours, theirs))
        if expect == "e164" and ours != own:
            wrong.append((country, fmt, written, ours, own))
        if expect == "differs" and ours == theirs:
            wrong.append((country, fmt, written, ours, "(expected to differ)"))
        if expect != "theirs" and ours != theirs:
            seen.add(key)
    assert wrong == [], "\n".join(map(str, wrong))
    assert set(BY_DESIGN) == seen  # every exception is still needed
