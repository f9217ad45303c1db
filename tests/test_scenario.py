"""Scenario files: composition, overrides, and every validation error path."""

import datetime as dt
import typing

import pytest
from pydantic import BaseModel

from conftest import SCENARIOS, write
from povsim.cli import main
from povsim.scenario import InputError, Scenario, load_scenario, scenario_hash
from povsim.scenario.schema import Section

UNIT_TOKENS = (
    "_vnd",
    "_per_",
    "_share",
    "_count",
    "_log_sd",
    "_months",
    "_multiplier",
    "_ratio",
    "_date",
    "_m2",
    "_seed",
    "_offset",
    "_multiple",
    "_persons",
    "_years",
    "_month",
)
UNITLESS = {"enabled", "eligible_groups", "name", "description", "communes", "measure", "scheduled", "file"}


def leaf_fields(model: type[BaseModel] = Scenario, prefix: str = ""):
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaf_fields(annotation, f"{prefix}{name}.")
            continue
        if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
            yield from leaf_fields(inner[0], f"{prefix}{name}[].")
        yield f"{prefix}{name}", field


def problems_of(excinfo) -> list:
    return excinfo.value.problems


def test_baseline_file_matches_schema_defaults(baseline):
    assert baseline.name == "baseline"
    assert baseline.model_dump(exclude={"description"}) == Scenario().model_dump(exclude={"description"})


def test_every_parameter_has_unit_range_default_and_source():
    paths = []
    for path, field in leaf_fields():
        paths.append(path)
        if path in {"name", "description"}:
            continue
        name = path.split(".")[-1]
        assert field.json_schema_extra, path
        assert field.description, path
        if not path.startswith("disasters.scheduled[]"):
            assert field.json_schema_extra.get("source"), path
        if path.startswith("deprivation_weights.") or name in UNITLESS:
            continue  # relative weights (unitless by definition), switches, names and lists
        assert any(token in name for token in UNIT_TOKENS), f"{path} has no unit in its name"
        if field.annotation in (int, float):
            bounds = {type(m).__name__ for m in field.metadata}
            assert {"Ge", "Le"} <= bounds, f"{path} has no closed valid range"
    assert "instruments.preferential_loans.poor_rate_per_year" in paths
    assert "disasters.scheduled[].damaged_houses_count" in paths


def test_sections_forbid_unknown_keys_and_loose_types():
    for cls in Section.__subclasses__():
        assert cls.model_config["extra"] == "forbid"
        assert cls.model_config["strict"] is True


def test_extends_merges_child_over_parent(tmp_path):
    parent = write(
        tmp_path / "parent.toml",
        'name = "p"\n[economy]\nnominal_income_growth_per_year = 0.05\nmonthly_income_noise_log_sd = 0.2\n',
    )
    write(
        tmp_path / "child.toml",
        'extends = "parent.toml"\nname = "c"\n[economy]\nnominal_income_growth_per_year = 0.07\n',
    )
    child = load_scenario(tmp_path / "child.toml")
    assert child.name == "c"
    assert child.economy.nominal_income_growth_per_year == 0.07
    assert child.economy.monthly_income_noise_log_sd == 0.2
    assert load_scenario(parent).economy.nominal_income_growth_per_year == 0.05


def test_extends_resolves_relative_to_the_naming_file(tmp_path, monkeypatch):
    (tmp_path / "deep").mkdir()
    write(tmp_path / "base.toml", 'name = "b"\n[run]\nreplicate_count = 7\n')
    write(tmp_path / "deep" / "child.toml", 'extends = "../base.toml"\nname = "c"\n')
    monkeypatch.chdir(tmp_path / "deep")
    assert load_scenario("child.toml").run.replicate_count == 7


def test_dotted_overrides_from_strings_and_mappings(baseline):
    s = load_scenario(
        SCENARIOS / "baseline.toml",
        [
            "run.replicate_count=4",
            "economy.nominal_income_growth_per_year = 0.11",
            "calendar.end_date=2028-12-31",
            'name="x"',
        ],
    )
    assert s.run.replicate_count == 4
    assert s.economy.nominal_income_growth_per_year == 0.11
    assert s.calendar.end_date == dt.date(2028, 12, 31)
    assert s.name == "x"
    m = load_scenario(None, {"shocks__illness_prob_per_month": 0.02})
    assert m.shocks.illness_prob_per_month == 0.02


def test_hash_changes_with_any_value(baseline):
    other = load_scenario(None, {"review.indicator_misscoring_prob_per_review": 0.03})
    assert scenario_hash(baseline) == scenario_hash(load_scenario(SCENARIOS / "baseline.toml"))
    assert scenario_hash(baseline) != scenario_hash(other)


# Each case: file text, the key path named, words that must appear in the message.
BAD_FILES = {
    "typo": (
        "[economy]\nnominal_income_growth_per_yr = 0.1\n",
        "economy.nominal_income_growth_per_yr",
        ["did you mean 'nominal_income_growth_per_year'"],
    ),
    "unknown_section": ("[economics]\nx = 1\n", "economics", ["unknown key", "did you mean 'economy'"]),
    "string_for_number": (
        '[economy]\nnominal_income_growth_per_year = "0.1"\n',
        "economy.nominal_income_growth_per_year",
        ["'0.1'", "a number from"],
    ),
    "float_for_integer": ("[run]\nreplicate_count = 2.5\n", "run.replicate_count", ["an integer"]),
    "bool_for_integer": ("[run]\nreplicate_count = true\n", "run.replicate_count", ["an integer"]),
    "probability_above_one": (
        "[shocks]\nillness_prob_per_month = 1.5\n",
        "shocks.illness_prob_per_month",
        ["1.5", "from 0.0 to 0.5"],
    ),
    "negative_count": ("[run]\nhousehold_count = -5\n", "run.household_count", ["-5", "from 100"]),
    "absurd_size": ("[run]\nhousehold_count = 100_000_000\n", "run.household_count", ["2,000,000"]),
    "line_in_millions": (
        "[standards]\ndecree_07_rural_line_vnd_per_person_month = 1.5\n",
        "standards.decree_07_rural_line_vnd_per_person_month",
        ["100,000"],
    ),
    "bad_measure": ('[targets]\nmeasure = "near_poor"\n', "targets.measure", ["'poor_or_near_poor'"]),
    "string_for_date": ('[calendar]\nend_date = "2030-12-31"\n', "calendar.end_date", ["a date"]),
    "end_before_start": (
        "[calendar]\nend_date = 2021-06-30\n",
        "calendar.end_date",
        ["before the first simulated review", "2022-12-31"],
    ),
    "switch_before_decree_07": (
        "[standards]\ndecree_351_first_review_date = 2020-12-31\n",
        "standards.decree_351_first_review_date",
        ["Decree 07"],
    ),
    "table_for_value": ("[run]\nreplicate_count = {a = 1}\n", "run.replicate_count", ["an integer"]),
    "value_for_table": ("economy = 3\n", "economy", ["a table [economy]"]),
    "impossible_minority_ratio": (
        "[targets]\nethnic_minority_rate_ratio = 4.9\n",
        "targets.ethnic_minority_rate_ratio",
        ["ethnic-minority households"],
    ),
    "ratio_too_large_for_share": (
        "[population]\nethnic_minority_household_share = 0.9\n",
        "targets.ethnic_minority_rate_ratio",
        ["other households"],
    ),
    "instrument_dates_reversed": (
        "[instruments.housing_support]\nstart_date = 2025-01-01\nend_date = 2023-12-31\n",
        "instruments.housing_support.end_date",
        ["is before instruments.housing_support.start_date"],
    ),
    "instrument_without_group": (
        "[instruments.food_aid]\neligible_groups = []\n",
        "instruments.food_aid.eligible_groups",
        ["names no eligible group"],
    ),
    "unknown_group": (
        '[instruments.food_aid]\neligible_groups = ["the_poor"]\n',
        "instruments.food_aid.eligible_groups.0",
        ["'poor'"],
    ),
    "bad_crop_gap_month": (
        "[instruments.food_aid]\ncrop_gap_months = [2, 13]\n",
        "instruments.food_aid.crop_gap_months",
        ["from 1 to 12"],
    ),
    "unknown_scheduled_commune": (
        '[[disasters.scheduled]]\ncommunes = ["Quyet Thangg"]\n',
        "disasters.scheduled.0.communes",
        ["did you mean 'Quyet Thang'"],
    ),
    "scheduled_typo_key": (
        "[[disasters.scheduled]]\ndamaged_house_count = 5\n",
        "disasters.scheduled.0.damaged_house_count",
        ["did you mean 'damaged_houses_count'"],
    ),
    "age_shares_too_large": (
        "[population]\nunder6_member_share = 0.3\nage6_15_member_share = 0.4\nage60plus_member_share = 0.3\n",
        "population.age60plus_member_share",
        ["at most 0.9"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_values_name_file_key_value_and_expectation(tmp_path, case):
    text, key_path, words = BAD_FILES[case]
    path = write(tmp_path / f"{case}.toml", text)
    with pytest.raises(InputError) as excinfo:
        load_scenario(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert key_path in message
    for word in words:
        assert word in message, message


def test_all_problems_reported_at_once(tmp_path):
    path = write(tmp_path / "two.toml", "[run]\nreplicate_count = 0\nhousehold_count = 1\n")
    with pytest.raises(InputError) as excinfo:
        load_scenario(path)
    assert {p.key_path for p in problems_of(excinfo)} == {"run.replicate_count", "run.household_count"}


def test_error_names_the_file_that_set_the_value(tmp_path):
    write(tmp_path / "base.toml", "[shocks]\nillness_prob_per_month = 0.9\n")
    write(tmp_path / "child.toml", 'extends = "base.toml"\nname = "c"\n')
    with pytest.raises(InputError) as excinfo:
        load_scenario(tmp_path / "child.toml")
    assert problems_of(excinfo)[0].file.endswith("base.toml")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["is empty"]),
        (b"   \n# only a comment\n\n", ["is empty"]),
        (b"[run\nreplicate_count = 3\n", ["not valid TOML", "line 1"]),
        (b'name = "caf\xe9"\n', ["not UTF-8", "offset 11"]),
        (b"a = 1\na = 2\n", ["not valid TOML"]),
    ],
)
def test_unreadable_files(tmp_path, content, words):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(InputError) as excinfo:
        load_scenario(path)
    for word in words:
        assert word in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="is a folder"):
        load_scenario(tmp_path)


def test_missing_extends(tmp_path):
    path = write(tmp_path / "child.toml", 'extends = "gone.toml"\n')
    with pytest.raises(InputError) as excinfo:
        load_scenario(path)
    problem = problems_of(excinfo)[0]
    assert problem.key_path == "extends"
    assert problem.value == "gone.toml"
    assert "does not exist" in problem.message


@pytest.mark.parametrize("chain", [["a"], ["a", "b"], ["a", "b", "c"]])
def test_circular_extends(tmp_path, chain):
    for here, there in zip(chain, chain[1:] + chain[:1], strict=True):
        write(tmp_path / f"{here}.toml", f'extends = "{there}.toml"\n')
    with pytest.raises(InputError) as excinfo:
        load_scenario(tmp_path / "a.toml")
    assert "circular extends" in str(excinfo.value)


def test_extends_must_be_a_file_name(tmp_path):
    with pytest.raises(InputError, match="expected the name of a TOML file"):
        load_scenario(write(tmp_path / "x.toml", "extends = 3\n"))


@pytest.mark.parametrize(
    ("assignment", "key_path", "words"),
    [
        ("run.replicate_cont=3", "run.replicate_cont", ["did you mean 'replicate_count'"]),
        ("run.replicate_count=three", "run.replicate_count", ["'three'", "an integer"]),
        ("replicate_count", "replicate_count", ["expected dotted.key=value"]),
        ("name.sub=1", "name", ["is a value, not a table"]),
    ],
)
def test_bad_command_line_overrides(assignment, key_path, words):
    with pytest.raises(InputError) as excinfo:
        load_scenario(SCENARIOS / "baseline.toml", [assignment])
    problem = problems_of(excinfo)[0]
    assert problem.file == "--set"
    assert problem.key_path == key_path
    for word in words:
        assert word in str(problem)


def test_validate_command_exit_codes(tmp_path, capsys):
    assert main(["validate", str(SCENARIOS / "baseline.toml")]) == 0
    assert "valid scenario 'baseline'" in capsys.readouterr().out
    bad = write(tmp_path / "bad.toml", "[shocks]\nillness_prob_per_month = 1.5\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"povsim: error: {bad}: shocks.illness_prob_per_month = 1.5:")
    assert "Traceback" not in err


def test_every_shipped_scenario_validates():
    files = sorted(SCENARIOS.glob("*.toml"))
    assert files
    for path in files:
        assert isinstance(load_scenario(path), Scenario)


def test_literal_choices_are_listed():
    assert typing.get_args(Scenario.model_fields["targets"].annotation.model_fields["measure"].annotation)
