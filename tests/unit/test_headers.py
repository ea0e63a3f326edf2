"""Header synonyms in several languages, explicit overrides and headerless inference."""

from __future__ import annotations

from jobs.sample.headers import fold_header, infer_columns, map_columns
from jobs.settings import load_config

HEADERS = load_config().headers


def test_fold_header():
    assert fold_header(" E-Mail-Adresse ") == "e mail adresse"
    assert fold_header("Téléphone") == "telephone"
    assert fold_header("\ufeffNom") == "nom"


def test_maps_headers_in_several_languages():
    assert map_columns(["Nom", "Correo", "Telefon", "Adresse", "Pays"], HEADERS) == {
        "name": 0, "email": 1, "phone": 2, "address": 3, "country": 4,
    }  # fmt: skip
    assert (
        map_columns(["Name", "E-Mail-Adresse", "Telefonnummer", "Anschrift", "Land"], HEADERS)[
            "email"
        ]
        == 1
    )
    assert map_columns(["Имя", "Фамилия", "Телефон", "Почта"], HEADERS) == {
        "first_name": 0, "last_name": 1, "phone": 2, "email": 3,
    }  # fmt: skip
    got = map_columns(["氏名", "メールアドレス", "電話番号", "住所"], HEADERS)
    assert got == {"name": 0, "email": 1, "phone": 2, "address": 3}


def test_nom_prenom_is_last_and_first_name():
    got = map_columns(["Prénom", "Nom", "Mobile"], HEADERS)
    assert got == {"first_name": 0, "last_name": 1, "phone": 2}


def test_explicit_mapping_wins_and_unknown_columns_are_ignored():
    got = map_columns(["Col A", "Tel", "password"], HEADERS, {"Col A": "email"})
    assert got == {"email": 0, "phone": 1}


def test_infer_headerless_columns_from_values():
    rows = [
        ["anna@example.com", "Anna Smith", "+44 20 7946 0958", "GB"],
        ["bob@example.org", "Bob Jones", "020 7946 0959", "GB"],
        ["carl@example.net", "Carl Weiss", "0151 2345678", "DE"],
        ["", None or "", "", ""],
    ]
    got = infer_columns(rows)
    assert got["email"] == 0 and got["name"] == 1 and got["phone"] == 2 and got["country"] == 3


def test_infer_finds_nothing_in_noise():
    assert not {"email", "phone"} & set(infer_columns([["x1", "y"], ["x2", "z"]]))
