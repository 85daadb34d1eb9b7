from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from toolkit.conf import (
    CQRS_DEFAULTS,
    EVENTSOURCING_DEFAULTS,
    PATTERN_DEFAULTS,
    toolkit_settings,
    validate,
)
from toolkit.eventsourcing.config import es_settings, settings_problems


def test_defaults_are_the_seed_defaults() -> None:
    assert PATTERN_DEFAULTS == {
        "audit": False,
        "cache_backend": "default",
        "event_bus": "default",
        "event_store_backend": "django",
        "plugin_group": "toolkit.plugins",
    }


def test_unknown_key_is_rejected_with_valid_keys_listed() -> None:
    [problem] = validate({"patterns": {"audti": True}})
    assert problem.id == "toolkit.E001"
    assert problem.msg == (
        "Unknown key 'audti' in TOOLKIT['patterns']; valid keys are: 'audit', 'cache_backend', "
        "'event_bus', 'event_store_backend', 'plugin_group'."
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "event_bus",
            "kafka",
            "TOOLKIT['patterns']['event_bus'] is 'kafka'; valid choices are: 'celery', 'default'.",
        ),
        (
            "event_store_backend",
            "mongo",
            "TOOLKIT['patterns']['event_store_backend'] is 'mongo'; valid choices are: "
            "'django', 'memory', 'redis'.",
        ),
        (
            "audit",
            "yes",
            "TOOLKIT['patterns']['audit'] is 'yes'; valid choices are: False, True.",
        ),
        (
            "cache_backend",
            "",
            "TOOLKIT['patterns']['cache_backend'] is ''; it must be a non-empty string.",
        ),
    ],
    ids=["event_bus", "event_store_backend", "audit", "cache_backend"],
)
def test_bad_values_name_the_value_and_the_choices(key: str, value: object, message: str) -> None:
    [problem] = validate({"patterns": {key: value}})
    assert (problem.id, problem.msg) == ("toolkit.E002", message)


def test_unknown_section_is_rejected() -> None:
    [problem] = validate({"pattern": {}})
    assert problem.id == "toolkit.E001"
    assert "Unknown TOOLKIT section 'pattern'" in problem.msg


def test_valid_setting_has_no_problems() -> None:
    assert validate({"patterns": dict(PATTERN_DEFAULTS)}) == []
    assert validate(None) == []


def test_system_check_reports_problems() -> None:
    with override_settings(TOOLKIT={"patterns": {"event_bus": "kafka"}}):
        errors = [e for e in checks.run_checks() if e.id and e.id.startswith("toolkit.")]
    assert [e.id for e in errors] == ["toolkit.E002"]


def test_override_settings_reloads_values() -> None:
    with override_settings(TOOLKIT={"patterns": {"audit": True}}):
        assert toolkit_settings.patterns["audit"] is True
        assert toolkit_settings.patterns["cache_backend"] == "default"
    assert toolkit_settings.patterns["audit"] is True  # the demo settings enable audit


def test_one_validator_covers_the_eventsourcing_section_with_its_check_ids() -> None:
    problems = validate(
        {"eventsourcing": {"projection_batch_size": 0, "redis_urls": "x"}, "patterns": {}}
    )
    assert [(p.id, p.msg) for p in problems] == [
        (
            "toolkit.E101",
            "Unknown key 'redis_urls' in TOOLKIT['eventsourcing']; valid keys are: "
            + ", ".join(repr(k) for k in sorted(EVENTSOURCING_DEFAULTS))
            + ".",
        ),
        (
            "toolkit.E102",
            "TOOLKIT['eventsourcing']['projection_batch_size'] is 0; "
            "it must be a positive integer.",
        ),
    ]
    assert settings_problems({"projection_batch_size": 0, "redis_urls": "x"}) == [
        (p.id, p.msg) for p in problems
    ]


def test_eventsourcing_defaults_are_read_through_the_one_settings_module() -> None:
    assert toolkit_settings.eventsourcing == EVENTSOURCING_DEFAULTS
    with override_settings(TOOLKIT={"eventsourcing": {"projection_max_lag": 7}}):
        assert es_settings() == {**EVENTSOURCING_DEFAULTS, "projection_max_lag": 7}


def test_system_check_shows_an_eventsourcing_problem_once() -> None:
    with override_settings(TOOLKIT={"eventsourcing": {"database": ""}}):
        messages = [m for m in checks.run_checks() if m.id == "toolkit.E102"]
    assert [m.msg for m in messages] == [
        "TOOLKIT['eventsourcing']['database'] is ''; it must be a database alias."
    ]


def test_the_cqrs_section_is_validated_by_the_one_settings_module() -> None:
    problems = validate({"cqrs": {"max_retries": True, "meta_function": 3, "exchang": "x"}})
    assert [(p.id, p.msg) for p in problems] == [
        (
            "toolkit.E060",
            "Unknown key 'exchang' in TOOLKIT['cqrs']; valid keys are: "
            + ", ".join(repr(k) for k in sorted(CQRS_DEFAULTS))
            + ".",
        ),
        ("toolkit.E060", "TOOLKIT['cqrs']['max_retries'] is True; it must be an integer >= 0."),
        (
            "toolkit.E060",
            "TOOLKIT['cqrs']['meta_function'] is 3; it must be a callable, a dotted path or None.",
        ),
    ]
    assert validate({"cqrs": "x"})[0].msg == "TOOLKIT['cqrs'] must be a dict, not 'x'."
    assert validate({"cqrs": {"transport": "toolkit.conf.NoSuchTransport"}})[0].msg == (
        "TOOLKIT['cqrs']['transport'] is 'toolkit.conf.NoSuchTransport'; it cannot be imported "
        '(Module "toolkit.conf" does not define a "NoSuchTransport" attribute/class).'
    )


def test_django_cqrs_setting_is_an_alias_of_the_cqrs_section() -> None:
    from toolkit.cqrs.conf import cqrs_settings

    legacy = {"url": "amqp://legacy", "replica": {"CQRS_MAX_RETRIES": 5}}
    with override_settings(CQRS=legacy, TOOLKIT={"cqrs": {"max_retries": 2}}):
        assert toolkit_settings.cqrs == {
            **CQRS_DEFAULTS,
            "broker_url": "amqp://legacy",
            "max_retries": 2,
        }
        assert (cqrs_settings().broker_url, cqrs_settings().max_retries) == ("amqp://legacy", 2)
    assert toolkit_settings.cqrs["broker_url"] == ""
    with override_settings(CQRS={"replica": {"CQRS_MAX_RETRIES": None}}):
        messages = [(m.id, m.obj, m.msg) for m in checks.run_checks() if m.id == "toolkit.E060"]
    assert messages == [
        (
            "toolkit.E060",
            "settings.CQRS",
            "CQRS (read as TOOLKIT['cqrs'])['max_retries'] is None; it must be an integer >= 0.",
        )
    ]


def test_dmr_toolkit_setting_is_an_alias_of_the_patterns_section() -> None:
    with override_settings(DMR_TOOLKIT={"patterns": {"cache_backend": "other"}}, TOOLKIT={}):
        assert toolkit_settings.patterns["cache_backend"] == "other"
    with override_settings(
        DMR_TOOLKIT={"patterns": {"cache_backend": "other"}},
        TOOLKIT={"patterns": {"cache_backend": "default"}},
    ):
        assert toolkit_settings.patterns["cache_backend"] == "default"
    assert toolkit_settings.patterns["cache_backend"] == "default"
    with override_settings(DMR_TOOLKIT={"patterns": {"event_bus": "kafka"}}):
        messages = [
            (m.id, m.obj, m.msg) for m in checks.run_checks() if m.obj == "settings.DMR_TOOLKIT"
        ]
    assert messages == [
        (
            "toolkit.E002",
            "settings.DMR_TOOLKIT",
            "DMR_TOOLKIT (read as TOOLKIT['patterns'])['event_bus'] is 'kafka'; "
            "valid choices are: 'celery', 'default'.",
        )
    ]
    with override_settings(DMR_TOOLKIT={"plugins": {}}):
        (message,) = [m for m in checks.run_checks() if m.obj == "settings.DMR_TOOLKIT"]
    assert message.msg == (
        "DMR_TOOLKIT is {'plugins': {}}; dmr-toolkit's setting holds one section, "
        "{'patterns': {...}}, read as TOOLKIT['patterns']."
    )
