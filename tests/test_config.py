"""Settings from the environment: production refuses a weak key, development makes one."""

from __future__ import annotations

import pytest

from forum.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_strong_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_ENV", "production")
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="FORUM_SECRET_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("FORUM_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="FORUM_SECRET_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("FORUM_SECRET_KEY", "k" * 48)
    assert load_config(tmp_path)["SECRET_KEY"] == "k" * 48


def test_development_generates_one_secret_key_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("FORUM_ENV", raising=False)
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert (tmp_path / "secret_key").read_text() == first
    assert load_config(tmp_path)["SECRET_KEY"] == first


def test_environment_settings_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1/forum")
    monkeypatch.setenv("FORUM_SECURE_COOKIES", "1")
    monkeypatch.setenv("FORUM_POSTS_PER_PAGE", "50")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["FORUM_POSTS_PER_PAGE"] == 50
    monkeypatch.setenv("FORUM_POSTS_PER_PAGE", "beaucoup")
    with pytest.raises(ConfigError, match="FORUM_POSTS_PER_PAGE"):
        load_config(tmp_path)


def test_worker_settings_are_read_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_WORKER_POLL", "0.25")
    monkeypatch.setenv("FORUM_WORKER_LEASE", "60")
    config = load_config(tmp_path)
    assert (config["FORUM_WORKER_POLL"], config["FORUM_WORKER_LEASE"]) == (0.25, 60)
    for wrong in ("souvent", "0", "-1"):
        monkeypatch.setenv("FORUM_WORKER_POLL", wrong)
        with pytest.raises(ConfigError, match="FORUM_WORKER_POLL"):
            load_config(tmp_path)
