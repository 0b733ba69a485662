"""The shipped reference list of régions and départements."""

from __future__ import annotations

from forum.directory import territories


def test_eighteen_regions_and_one_hundred_and_one_departements():
    assert len(territories.regions()) == 18
    assert len(territories.departements()) == 101
    # Every région has at least one département; the five overseas ones exactly one.
    per_region: dict[str, int] = {}
    for departement in territories.departements().values():
        per_region[departement.region] = per_region.get(departement.region, 0) + 1
    assert set(per_region) == set(territories.regions())
    assert [per_region[code] for code in ("01", "02", "03", "04", "06")] == [1] * 5
    assert per_region["11"] == 8  # Paris and the petite and grande couronne


def test_known_pairs():
    deps, regs = territories.departements(), territories.regions()
    assert deps["93"].name == "Seine-Saint-Denis" and deps["93"].region == "11"
    assert regs["11"].name == "Île-de-France"
    assert (deps["2A"].name, deps["2B"].name) == ("Corse-du-Sud", "Haute-Corse")
    assert deps["2A"].region == deps["2B"].region == "94" and regs["94"].name == "Corse"
    assert [deps[c].name for c in ("971", "972", "973", "974", "976")] == [
        "Guadeloupe",
        "Martinique",
        "Guyane",
        "La Réunion",
        "Mayotte",
    ]
    assert "975" not in deps  # Saint-Pierre-et-Miquelon is a collectivité, not a département
    assert deps["69"].region == "84" and regs["84"].name == "Auvergne-Rhône-Alpes"
    assert territories.region_of("13") == "93"
    assert territories.region_name("93") == "Provence-Alpes-Côte d'Azur"
    assert territories.departement_name("75") == "Paris"
    assert territories.region_of("99") is None and territories.departement_name("") == ""
    assert deps["93"].label == "93 — Seine-Saint-Denis"
