"""`python -m rasa_runtime run` takes the API token and the CORS origin from settings, not the command line."""
from __future__ import annotations

import pytest
from rasa.__main__ import create_argument_parser

from bot.config import load_settings
from rasa_runtime.arguments import run_arguments

PROCFILE_LIKE = ["run", "--model", "models/assistant.tar.gz", "--enable-api", "--port", "5005",
                 "--endpoints", "var/endpoints.yml", "--credentials", "var/credentials.yml"]


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_API_TOKEN", "-starts-with-a-dash")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://pay.lender.example/help/chat")
    return load_settings()


def test_a_token_beginning_with_a_dash_reaches_rasa(settings):
    parser = create_argument_parser()
    with pytest.raises(SystemExit):  # what the Procfile's `--auth-token ${RASA_API_TOKEN}` did (issue 9, item 8)
        parser.parse_args(["run", "--auth-token", settings.rasa_api_token])
    parsed = parser.parse_args(run_arguments(PROCFILE_LIKE, settings))
    assert parsed.auth_token == "-starts-with-a-dash"
    assert parsed.enable_api and parsed.port == 5005


def test_cors_is_the_web_apps_origin_not_every_origin(settings):
    parsed = create_argument_parser().parse_args(run_arguments(PROCFILE_LIKE, settings))
    assert parsed.cors == ["https://pay.lender.example"]


def test_what_the_caller_gives_explicitly_is_kept(settings):
    argv = [*PROCFILE_LIKE, "-t", "given", "--cors", "http://a.example", "http://b.example"]
    parsed = create_argument_parser().parse_args(run_arguments(argv, settings))
    assert parsed.auth_token == "given" and parsed.cors == ["http://a.example", "http://b.example"]


@pytest.mark.parametrize("argv", [["run", "actions", "--port", "5055"], ["train"], ["data", "validate"]])
def test_other_commands_are_left_alone(settings, argv):
    assert run_arguments(argv, settings) == argv

