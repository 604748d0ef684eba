"""The database fixtures give real, separate, empty databases, and say why when they cannot."""

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from service.conftest import PostgresUnavailable, find_postgres_binaries, give_up


def sqlite_path(database_url):
    # As service.store reads it: what follows "sqlite:///" is the path, so an absolute path
    # gives four slashes.
    return Path(database_url.removeprefix("sqlite:///"))


def connect(database_url):
    if database_url.startswith("sqlite:///"):
        return sqlite3.connect(sqlite_path(database_url))
    return psycopg.connect(database_url)


def test_postgres_url_reaches_a_postgresql_server(postgres_url):
    with psycopg.connect(postgres_url) as connection:
        database, version = connection.execute(
            "SELECT current_database(), current_setting('server_version_num')::int"
        ).fetchone()
    assert database == urlsplit(postgres_url).path.lstrip("/")
    assert version >= 130000


def test_postgres_url_listens_on_loopback_only(postgres_url):
    with psycopg.connect(postgres_url) as connection:
        (listen_addresses,) = connection.execute("SHOW listen_addresses").fetchone()
    assert urlsplit(postgres_url).hostname == "127.0.0.1"
    assert listen_addresses == "127.0.0.1"


def test_fresh_database_holds_a_table(database_url):
    connection = connect(database_url)
    try:
        connection.execute("CREATE TABLE subscriber (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        connection.execute("INSERT INTO subscriber (id, email) VALUES (1, 'lezer@example.nl')")
        connection.commit()
        rows = connection.execute("SELECT id, email FROM subscriber").fetchall()
    finally:
        connection.close()
    assert [tuple(row) for row in rows] == [(1, "lezer@example.nl")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_variant_is_a_new_file_in_the_tests_own_folder(database_url, tmp_path):
    path = sqlite_path(database_url)
    assert path.is_absolute()
    assert path.parent == tmp_path
    assert not path.exists()


def test_two_postgresql_databases_are_separate(make_postgres_database):
    first, second = make_postgres_database(), make_postgres_database()
    assert first != second
    with psycopg.connect(first) as connection:
        connection.execute("CREATE TABLE only_in_first (id integer)")
    with psycopg.connect(second) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == []


def test_other_tests_databases_are_dropped(postgres_url, make_postgres_database):
    own = urlsplit(make_postgres_database()).path.lstrip("/")
    with psycopg.connect(postgres_url) as connection:
        databases = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
    session = urlsplit(postgres_url).path.lstrip("/")
    assert databases == {"postgres", "template0", "template1", session, own}


def test_missing_binaries_name_what_is_missing_and_the_package(tmp_path):
    with pytest.raises(PostgresUnavailable) as missing:
        find_postgres_binaries(environ={"PG_BIN": str(tmp_path)})
    assert "initdb and pg_ctl" in str(missing.value)
    assert "apt-get install postgresql" in str(missing.value)


def test_no_debian_postgresql_names_the_package(tmp_path):
    with pytest.raises(PostgresUnavailable) as missing:
        find_postgres_binaries(environ={}, root=tmp_path)
    assert "apt-get install postgresql" in str(missing.value)


def test_newest_debian_version_wins(tmp_path):
    for version in ("9.6", "15", "13"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "initdb").touch()
        (bin_dir / "pg_ctl").touch()
    assert find_postgres_binaries(environ={}, root=tmp_path) == tmp_path / "15" / "bin"


def test_ci_fails_where_a_developer_skips(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no initdb"):
        give_up("no initdb")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no initdb"):
        give_up("no initdb")
