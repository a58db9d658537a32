"""The ``jiebang`` command: users, tokens, deploy, validate, db upgrade, configuration, where the data
lives, the first run, and a ``--help`` that answers at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api import config as api_config
from api import config_from_env
from api.cli import main
from api.config import data_dir
from engine import Engine
from tests.server import jiebang, serving

DATA = Path(__file__).parent / "data"
MODELERS = Path(__file__).parent.parent / "data" / "modelers"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # the CLI is backend-agnostic
    return f"sqlite:///{tmp_path}/cli.sqlite3"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_tokens_passwords(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIEBANG_DATABASE_URL", database_url)
    monkeypatch.setenv("JIEBANG_PASSWORD", "correct-horse")
    assert (
        run(
            capsys,
            "user",
            "add",
            "zhao",
            "--group",
            "taskforce",
            "--group",
            "committee",
            "--display-name",
            "赵",
            "--password",
        )[0]
        == 0
    )
    assert run(capsys, "user", "add", "zhao", "--role", "admin")[0] == 0  # re-running keeps the groups
    code, out, _ = run(capsys, "token", "create", "zhao")
    token = out.split()[-1]
    engine = Engine(database_url, deploy_shipped=False)
    user = engine.authenticate(token)
    assert (
        code == 0
        and user is not None
        and user.groups == ["committee", "taskforce"]
        and user.roles == ["admin"]
    )
    assert engine.check_password("zhao", "correct-horse") is not None
    monkeypatch.setenv("JIEBANG_PASSWORD", "another-horse")
    assert run(capsys, "user", "passwd", "zhao")[0] == 0
    assert engine.check_password("zhao", "another-horse") is not None
    code, _, err = run(capsys, "token", "create", "ghost")
    assert code == 2 and "ghost" in err
    engine.store.dispose()


def test_deploy_validate_upgrade(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIEBANG_DATABASE_URL", database_url)
    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "validate", str(DATA / "ping.bpmn"))
    assert code == 0 and out.strip() == "ok"
    code, out, _ = run(capsys, "validate", str(MODELERS / "xsd_invalid.bpmn"))
    assert code == 1 and out.startswith("Activity_a:") and "Flow_2:" in out
    code, out, _ = run(capsys, "deploy", str(DATA / "ping.bpmn"))
    assert code == 0 and "ping version 1" in out
    code, _, err = run(capsys, "deploy", str(MODELERS / "xsd_invalid.bpmn"))
    assert code == 2 and "Activity_a" in err


def test_configuration_from_environment() -> None:
    config = config_from_env(
        {
            "JIEBANG_WEBHOOK_ALLOW_LOOPBACK": "1",
            "JIEBANG_MAX_CONTENT_LENGTH": "1024",
            "JIEBANG_JOB_LEASE_SECONDS": "2.5",
            "JIEBANG_LANE_GROUPS": '{"TaskForce": "zb"}',
            "JIEBANG_DATABASE_URL": "sqlite:///x",
            "HOME": "/root",
        }
    )
    assert config == {
        "WEBHOOK_ALLOW_LOOPBACK": True,
        "MAX_CONTENT_LENGTH": 1024,
        "JOB_LEASE_SECONDS": 2.5,
        "LANE_GROUPS": {"TaskForce": "zb"},
        "DATABASE_URL": "sqlite:///x",
    }


def test_a_county_set_up_from_the_command_line(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's 设置一个县 steps: a tenant, its units, a person in a post, an import."""
    monkeypatch.setenv("JIEBANG_DATABASE_URL", database_url)
    assert run(capsys, "unit", "add", "pingli", "--name", "平利县", "--kind", "county")[0] == 0
    assert (
        run(capsys, "unit", "add", "chengguan", "--name", "城关镇", "--kind", "town", "--parent", "pingli")[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "unit", "add", "jiangxi", "--name", "蒋家坪村", "--kind", "village", "--parent", "chengguan",
        "--attr", "村类别=深度贫困村",
    )  # fmt: skip
    assert code == 0 and "tenant=pingli" in out
    code, out, _ = run(
        capsys, "user", "add", "chen", "--display-name", "陈书记", "--post", "chengguan:书记:科级"
    )
    assert code == 0 and "posts=chengguan:书记:科级" in out
    code, out, _ = run(capsys, "unit", "list")
    assert out.splitlines() == [
        "pingli  平利县  county",
        "  chengguan  城关镇  town",
        "    jiangxi  蒋家坪村  village  村类别=深度贫困村",
        "3 unit(s)",
    ]
    template = tmp_path / "org.xlsx"
    assert run(capsys, "org", "template", str(template))[0] == 0
    code, out, _ = run(capsys, "org", "import", str(template), "--dry-run")
    assert code == 0 and out.startswith("would import: units created=0 updated=3")
    people = tmp_path / "people.csv"
    people.write_text("用户名,姓名,单位编码,职务,职级,分组\nwu,吴主任,nowhere,主任,,\n", encoding="utf-8")
    code, _, err = run(capsys, "org", "import", str(people))
    assert code == 2 and "人员 第2行 单位编码: 单位 nowhere 不存在" in err
    assert run(capsys, "user", "add", "chen", "--post", "nocolon")[0] == 2
    assert run(capsys, "unit", "add", "x", "--name", "某", "--kind", "town", "--parent", "nowhere")[0] == 2
    engine = Engine(database_url, deploy_shipped=False)
    assert [(p.unit, p.post, p.rank) for p in engine.posts_of("chen")] == [("chengguan", "书记", "科级")]


def test_the_database_is_found_by_configuration_not_by_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JIEBANG_DATABASE_URL", raising=False)
    monkeypatch.setenv("JIEBANG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEBANG_PASSWORD", "correct-horse")
    for where in ("here", "elsewhere"):  # two shells in two folders see one database
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        assert run(capsys, "user", "add", f"user-{where}", "--password")[0] == 0
    assert (tmp_path / "data" / "jiebang.sqlite3").is_file()
    assert not list((tmp_path / "here").iterdir()) and not list((tmp_path / "elsewhere").iterdir())
    engine = Engine(api_config.database_url(config_from_env()), deploy_shipped=False)
    assert [u.username for u in engine.list_users()] == ["user-elsewhere", "user-here"]
    engine.store.dispose()


def test_the_default_data_dir_is_var_in_a_checkout_else_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = Path(__file__).resolve().parents[2]
    assert data_dir({}) == checkout / "var"
    assert data_dir({"JIEBANG_DATA_DIR": str(tmp_path)}) == tmp_path
    assert (
        api_config.database_url({"DATABASE_URL": "postgresql+psycopg://db/jiebang"})
        == "postgresql+psycopg://db/jiebang"
    )
    monkeypatch.setattr(api_config, "PROJECT", tmp_path / "site-packages")  # installed from a wheel
    assert data_dir({"XDG_DATA_HOME": str(tmp_path / "share")}) == tmp_path / "share" / "jiebang"
    assert api_config.database_url({}, {"XDG_DATA_HOME": str(tmp_path / "share")}) == (
        f"sqlite:///{tmp_path / 'share' / 'jiebang' / 'jiebang.sqlite3'}"
    )
    assert (tmp_path / "share" / "jiebang").is_dir()


def test_serve_on_an_empty_database_says_how_to_create_the_first_admin(tmp_path: Path) -> None:
    env = {**os.environ, "JIEBANG_DATA_DIR": str(tmp_path / "data")}
    env.pop("JIEBANG_DATABASE_URL", None)
    with (tmp_path / "serve.log").open("w") as log, serving(env, tmp_path, log=log):
        pass
    said = (tmp_path / "serve.log").read_text()
    assert "还没有管理员账号" in said and "user add admin --role admin" in said and "--password" in said
    assert str(tmp_path / "data" / "jiebang.sqlite3") in said  # and where the data is

    env["JIEBANG_PASSWORD"] = "correct-horse"
    made = subprocess.run(
        jiebang("user", "add", "root", "--role", "admin", "--password"),
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    with (tmp_path / "serve2.log").open("w") as log, serving(env, tmp_path, log=log):
        pass
    assert "还没有管理员账号" not in (tmp_path / "serve2.log").read_text()


def test_help_loads_neither_flask_nor_the_engine() -> None:
    """``jiebang --help`` must answer at once: it imports no web framework, workflow library or database layer."""
    probe = (
        "import sys\n"
        "from api.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'flask', 'SpiffWorkflow', 'sqlalchemy', 'engine', 'gunicorn', 'lxml'}\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: jiebang" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


def test_validate_opens_no_database_and_loads_no_web_framework(tmp_path: Path) -> None:
    """``jiebang validate`` checks a diagram as deploy would, but needs neither a database nor Flask,
    so a modeler's check answers in well under a second."""
    probe = (
        "import sys\n"
        "from api.cli import main\n"
        f"code = main(['--database-url', 'sqlite:///{tmp_path}/never.sqlite3', 'validate', {str(DATA / 'ping.bpmn')!r}])\n"
        "heavy = {'flask', 'sqlalchemy', 'alembic', 'gunicorn'}\n"
        "print('EXIT', code, 'LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["ok", "EXIT 0 LOADED []"]
    assert not (tmp_path / "never.sqlite3").exists()
