"""The Docker stack: docker-compose.yaml, Dockerfile and .dockerignore.

No Docker engine is needed (and ``docker compose`` is not used): the files are parsed and
checked against each other and against the project itself: the pins in requirements.txt,
the demo store registry, the CLI's argument parser, the SP-API simulator (started for real on
127.0.0.1 to answer the sandbox's health check), Airflow's own connection reader and the
project's SP-API credential and warehouse URL parsing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import urllib.request
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
REQUIREMENTS = ROOT / "requirements.txt"

REQUIRED = {"postgres", "redis", "warehouse", "spapi-sandbox", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "airflow-init"}
LONG_RUNNING_AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                        "airflow-triggerer", "flower")
ONE_SHOT = {"airflow-init", "airflow-cli"}
OPTIONAL = {"flower": "flower", "dovecot": "mail", "airflow-cli": "debug"}  # service -> profile
# what a service may add to (never change in) the common environment
EXTRA_ENV = {"airflow-worker": {"DUMB_INIT_SETSID"}, "airflow-cli": {"CONNECTION_CHECK_MAX_COUNT"},
             "airflow-init": {"_AIRFLOW_WWW_USER_USERNAME", "_AIRFLOW_WWW_USER_PASSWORD", "SELLER_INBOX_DEMO_MAIL"}}


# ----------------------------------------------------------------------------- helpers
_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str] | None = None):
    """Compose's variable substitution (``${X:-d}``, ``${X-d}``, ``${X}``, ``$X``, ``$$``), recursively."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(1):
            return "$"
        name, op, default = m.group(2) or m.group(5), m.group(3), m.group(4)
        val = env.get(name)
        if op == ":-":
            return val if val else default
        if op == "-":
            return default if val is None else val
        if op in (":?", "?") and not val:
            raise ValueError(f"{name} is required: {default}")
        return val or ""

    return _VAR.sub(sub, value)


def _strings(node, where=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{where}[{i}]")
    elif isinstance(node, str):
        yield where, node


def _mounts(service: dict) -> list[tuple[str, str, str]]:
    """(source, target, mode) of each short-syntax volume entry."""
    out = []
    for v in service.get("volumes", []):
        parts = v.split(":")
        out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return out


def _host_path(container_path: str, service: dict) -> Path | None:
    """The host path a bind mount of ``service`` puts at ``container_path`` (None if not bind-mounted)."""
    best = None
    for src, dst, _ in _mounts(service):
        if src.startswith((".", "/")) and (container_path == dst or container_path.startswith(dst.rstrip("/") + "/")):
            if best is None or len(dst) > len(best[1]):
                best = (src, dst)
    if best is None:
        return None
    return (ROOT / best[0]).resolve() / PurePosixPath(container_path).relative_to(best[1])


def _named_volume_at(container_path: str, service: dict) -> tuple[str, str] | None:
    for src, dst, _ in _mounts(service):
        if not src.startswith((".", "/")) and (container_path == dst or container_path.startswith(dst + "/")):
            return src, dst
    return None


def _container_port(service: dict, published: int | None = None) -> set[int]:
    ports = set()
    for p in service.get("ports", []):
        host, _, cont = str(p).rpartition(":")
        if published is None or (host and int(host) == published):
            ports.add(int(cont))
    return ports


def _health_url(service: dict) -> str:
    test = service["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    m = re.search(r"https?://[^\s'\"]+", text)
    assert m, f"no URL in the health check {test!r}"
    return m.group(0)


def _conn_env(env: dict) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}


@pytest.fixture(scope="module")
def raw_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw(raw_text) -> dict:
    return yaml.safe_load(raw_text)


@pytest.fixture(scope="module")
def compose(raw) -> dict:
    """The file as Compose sees it with no .env: every variable at its default."""
    return interpolate(raw)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose) -> dict:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def env(common) -> dict:
    return common["environment"]


@pytest.fixture(scope="module")
def registry():
    from seller_inbox.config import load_registry

    return load_registry(ROOT / "include" / "stores.yaml")


@pytest.fixture()
def airflow_conns(env, monkeypatch):
    """The compose file's AIRFLOW_CONN_* in this process's environment (Airflow reads them from there)."""
    for k in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(k)
    monkeypatch.delenv("SELLER_INBOX_WAREHOUSE_URL", raising=False)
    for k, v in _conn_env(env).items():
        monkeypatch.setenv(k, v)
    from airflow.sdk import BaseHook

    return BaseHook.get_connection


# ----------------------------------------------------------------------------- services
def test_required_services_present(services):
    missing = REQUIRED - set(services)
    assert not missing, f"services missing from docker-compose.yaml: {sorted(missing)}"
    for name in REQUIRED:
        assert "profiles" not in services[name], f"{name} must start with a plain `docker compose up`"


def test_optional_services_sit_behind_profiles(services):
    for name, profile in OPTIONAL.items():
        assert name in services, f"optional service {name} missing"
        assert services[name].get("profiles") == [profile], f"{name} must be optional (profile {profile})"
    assert services["dovecot"]["image"] == "dovecot/dovecot:2.3.21"
    assert services["flower"]["command"] == "celery flower"
    # a default `up` must not need an optional service
    for name, svc in services.items():
        if "profiles" in svc:
            continue
        for dep in svc.get("depends_on", {}):
            assert "profiles" not in services[dep], f"{name} depends on optional service {dep}"


def test_airflow_services_merge_the_common_anchor(raw_text):
    """Every Airflow service is `<<: *airflow-common` (the very same node), not a copy."""
    root = yaml.compose(raw_text)
    top = {k.value: v for k, v in root.value}
    anchor_node = top["x-airflow-common"]
    svc_nodes = {k.value: v for k, v in top["services"].value}
    for name in (*LONG_RUNNING_AIRFLOW, *ONE_SHOT):
        merges = [v for k, v in svc_nodes[name].value if k.tag == "tag:yaml.org,2002:merge"]
        assert any(m is anchor_node for m in merges), f"{name} does not merge <<: *airflow-common"


def test_airflow_services_share_image_build_volumes_and_environment(services, common):
    assert common["build"]["context"] == "."
    assert (ROOT / common["build"].get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    for name in (*LONG_RUNNING_AIRFLOW, *ONE_SHOT):
        svc = services[name]
        assert svc["image"] == common["image"], name
        assert svc["build"] == common["build"], name
        assert svc["volumes"] == common["volumes"], name
        env = svc["environment"]
        for key, value in common["environment"].items():
            assert env.get(key) == value, f"{name}: {key} differs from the common environment"
        extra = set(env) - set(common["environment"])
        assert extra <= EXTRA_ENV.get(name, set()), f"{name} adds unexpected environment: {sorted(extra)}"
        expected_user = "0:0" if name == "airflow-init" else common["user"]
        assert svc["user"] == expected_user, name
    assert common["user"] == "50000:0"  # AIRFLOW_UID default, group 0 as the official image requires


def test_common_environment_celery_postgres_redis(env, services):
    assert all(isinstance(v, str) for v in env.values()), "environment values must be strings"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    pg = services["postgres"]["environment"]

    db = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert db.scheme.startswith("postgresql") and db.hostname == "postgres"
    assert (db.username, db.password, db.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])

    rb = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert rb.scheme.startswith("db+postgresql") and rb.hostname == "postgres"
    assert (rb.username, rb.password, rb.path.lstrip("/")) == (db.username, db.password, db.path.lstrip("/"))

    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert (broker.port or 6379) in {int(p) for p in services["redis"]["expose"]}

    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    par = int(env["AIRFLOW__CORE__PARALLELISM"])
    assert 1 <= par <= 16, "parallelism should stay modest on one Docker host"
    assert 1 <= int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]) <= par

    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and api.path.rstrip("/") == "/execution"
    assert api.port in _container_port(services["airflow-apiserver"])
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"], "all components need the same JWT secret"
    ui = urlsplit(env["SELLER_INBOX_UI_URL"])  # links in alerts lead to the published UI
    assert ui.port in {int(str(p).rpartition(":")[0]) for p in services["airflow-apiserver"]["ports"]}


def test_auth_manager_and_admin_user(env, services, tmp_path, monkeypatch):
    """The configured auth manager exists in the pinned Airflow, and airflow-init's admin step works."""
    import importlib

    mod, _, cls = env["AIRFLOW__CORE__AUTH_MANAGER"].rpartition(".")
    manager = getattr(importlib.import_module(mod), cls)

    init = services["airflow-init"]
    script = init["command"][-1]
    m = re.search(r"<<'PY'\n(.*?)\nPY\n", script, re.S)
    assert m, "airflow-init writes the admin password with an inline Python step"
    pw_file = tmp_path / "config" / "simple_auth_manager_passwords.json"
    pw_file.parent.mkdir()
    pw_file.write_text(json.dumps({"someone-else": "x"}))  # an existing file keeps other users
    run_env = {**os.environ, **init["environment"], "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file)}
    subprocess.run(["python3", "-c", m.group(1)], env=run_env, check=True, timeout=30)

    user, password = init["environment"]["_AIRFLOW_WWW_USER_USERNAME"], init["environment"]["_AIRFLOW_WWW_USER_PASSWORD"]
    for k in ("AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"):
        monkeypatch.setenv(k, env[k])
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(pw_file))
    users = {u.username: u.role for u in manager.get_users()}
    assert users == {user: "admin"}
    assert manager.get_passwords() == {"someone-else": "x", user: password}
    # the password file is on a volume every Airflow service mounts (the api-server reads it)
    vol = _named_volume_at(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"], services["airflow-apiserver"])
    assert vol is not None and vol == _named_volume_at(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"], init)


# ----------------------------------------------------------------------------- the project
def test_project_folders_mounted_where_seller_inbox_expects_them(common, env):
    from seller_inbox import paths

    mounts = {dst: src for src, dst, _ in _mounts(common)}
    container_root = PurePosixPath("/opt/airflow")  # AIRFLOW_HOME of the official image
    for folder in (paths.DAGS, paths.PLUGINS, paths.INCLUDE):
        rel = folder.relative_to(paths.REPO_ROOT).as_posix()
        target = str(container_root / rel)
        assert mounts.get(target) == f"./{rel}", f"./{rel} must be mounted at {target}"
    assert (ROOT / "dags").is_dir() and (ROOT / "include" / "seller_inbox" / "__init__.py").is_file()
    # seller_inbox imports in every container: PYTHONPATH points into the mounted include/
    assert str(container_root / "include") in env["PYTHONPATH"].split(":")
    # the Airflow folders are not redirected elsewhere
    for key, rel in (("AIRFLOW__CORE__DAGS_FOLDER", "dags"), ("AIRFLOW__CORE__PLUGINS_FOLDER", "plugins")):
        assert env.get(key, str(container_root / rel)) == str(container_root / rel)


def test_store_registry_path_is_the_mounted_registry(env, common, registry):
    from seller_inbox.config import load_registry

    host = _host_path(env["SELLER_INBOX_STORES"], common)
    assert env["SELLER_INBOX_STORES"] == "/opt/airflow/include/stores.yaml"
    assert host == (ROOT / "include" / "stores.yaml").resolve() and host.is_file()
    assert [s.id for s in load_registry(host).stores] == [s.id for s in registry.stores]


def test_named_volumes_declared_and_state_shared(compose, services, env):
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for src, _, _ in _mounts(svc):
            if not src.startswith((".", "/")):
                assert src in declared, f"{name} uses undeclared volume {src}"
    home = env["SELLER_INBOX_HOME"]
    vols = {name: _named_volume_at(home, services[name]) for name in (*LONG_RUNNING_AIRFLOW, "airflow-init")}
    assert None not in vols.values() and len(set(vols.values())) == 1, \
        f"SELLER_INBOX_HOME must be one named volume shared by all Airflow services: {vols}"


def test_warehouse_service_and_connection(env, services, airflow_conns):
    from seller_inbox import warehouse

    wh = services["warehouse"]
    assert wh["image"].startswith("postgres:")
    assert _container_port(wh, published=5433) == {5432}
    conn = json.loads(env["AIRFLOW_CONN_WAREHOUSE"])
    assert conn["conn_type"] == "postgres"
    url = urlsplit(warehouse.dsn())  # the project's own resolution: env -> Airflow connection `warehouse`
    we = wh["environment"]
    assert url.hostname == "warehouse" and url.port == 5432
    assert (url.username, url.password, url.path.lstrip("/")) == (we["POSTGRES_USER"], we["POSTGRES_PASSWORD"], we["POSTGRES_DB"])


def test_warehouse_password_variable_feeds_both_sides(raw):
    with_pw = interpolate(raw, {"WAREHOUSE_PASSWORD": "s3cret-x"})
    conn = json.loads(with_pw["x-airflow-common"]["environment"]["AIRFLOW_CONN_WAREHOUSE"])
    assert conn["password"] == with_pw["services"]["warehouse"]["environment"]["POSTGRES_PASSWORD"] == "s3cret-x"


def test_demo_store_connections_point_at_the_simulator(env, services, registry, airflow_conns):
    from seller_inbox_dev.sandbox import CLIENT_ID, CLIENT_SECRET, refresh_token_for
    from seller_inbox_dev.sandbox.data import sellers
    from seller_inbox.spapi import SpApiCredentials

    sim = {s.seller_id: s for s in sellers()}
    sandbox_port = _sandbox_args(services).port
    assert registry.enabled_stores, "the demo registry has stores"
    for store in registry.enabled_stores:
        creds = SpApiCredentials.from_connection(airflow_conns(store.connections.spapi))
        assert (creds.client_id, creds.client_secret) == (CLIENT_ID, CLIENT_SECRET)
        assert creds.refresh_token == refresh_token_for(store.seller_id)
        assert creds.region == store.region == sim[store.seller_id].region
        base = urlsplit(creds.base_url)
        assert (base.hostname, base.port) == ("spapi-sandbox", sandbox_port), store.id
        assert creds.lwa_url == f"http://spapi-sandbox:{sandbox_port}/auth/o2/token"

        mailbox = airflow_conns(store.connections.mailbox)
        assert mailbox.conn_type == "maildir"
        assert mailbox.extra_dejson["path"] == f"{env['SELLER_INBOX_HOME']}/maildir/{store.id}"
    assert {k.lower().removeprefix("airflow_conn_") for k in _conn_env(env)} == (
        {"warehouse"} | {s.connections.spapi for s in registry.enabled_stores}
        | {s.connections.mailbox for s in registry.enabled_stores})


# ----------------------------------------------------------------------------- sandbox
def _sandbox_argv(services) -> list[str]:
    cmd = services["spapi-sandbox"]["command"]
    argv = shlex.split(cmd[-1]) if cmd[:2] == ["bash", "-c"] else (shlex.split(cmd) if isinstance(cmd, str) else list(cmd))
    return argv[1:] if argv[0] == "exec" else argv


def _sandbox_args(services):
    from seller_inbox.cli import build_parser

    argv = _sandbox_argv(services)
    assert argv[0] == "seller-inbox", argv
    return build_parser().parse_args(argv[1:])


def test_spapi_sandbox_service_serves_and_its_healthcheck_hits_a_real_route(services, common):
    from seller_inbox_dev.sandbox.server import start

    svc = services["spapi-sandbox"]
    assert _sandbox_argv(services) == ["seller-inbox", "sandbox", "serve", "--host", "0.0.0.0", "--port", "8900"]
    args = _sandbox_args(services)
    assert (args.command, args.sandbox_command, args.host, args.port) == ("sandbox", "serve", "0.0.0.0", 8900)
    assert (svc["image"], svc["build"]) == (common["image"], common["build"])
    assert args.port in _container_port(svc)
    url = urlsplit(_health_url(svc))
    assert url.hostname in ("localhost", "127.0.0.1") and url.port == args.port
    with start(host="127.0.0.1", port=0) as sim:
        with urllib.request.urlopen(f"{sim.url}{url.path}", timeout=10) as resp:
            assert resp.status == 200
            body = json.loads(resp.read())
    assert body["sellers"], "the health route answers with the simulated sellers"


# ----------------------------------------------------------------------------- health, order
def test_every_long_running_service_has_a_healthcheck(services):
    for name, svc in services.items():
        if name in ONE_SHOT:
            assert svc.get("restart") in (None, "no"), f"one-shot {name} must not restart"
            continue
        hc = svc.get("healthcheck")
        assert hc and not hc.get("disable"), f"{name} has no health check"
        test = hc["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test!r}"
        assert svc.get("restart") == "always", f"{name} should restart"
    api = services["airflow-apiserver"]
    url = urlsplit(_health_url(api))
    assert url.port in _container_port(api) and url.path == "/api/v2/monitor/health"
    assert urlsplit(_health_url(services["airflow-scheduler"])).port == 8974
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_depends_on_conditions(services):
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must use conditions, not a list"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            want = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert spec.get("condition") == want, f"{name} -> {dep}: condition {spec.get('condition')!r}, want {want}"
            if want == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no health check"
    for name in LONG_RUNNING_AIRFLOW:
        deps = services[name]["depends_on"]
        assert {"postgres", "redis", "warehouse", "airflow-init"} <= set(deps), name
    assert {"postgres", "redis", "warehouse"} <= set(services["airflow-init"]["depends_on"])
    assert "airflow-init" not in services["airflow-init"]["depends_on"]
    assert {"airflow-apiserver", "spapi-sandbox"} <= set(services["airflow-worker"]["depends_on"])


def test_init_migrates_airflow_creates_admin_and_migrates_the_warehouse(services, env):
    from seller_inbox.cli import build_parser

    init = services["airflow-init"]
    assert init["user"] == "0:0" and init["entrypoint"] == "/bin/bash" and init["command"][0] == "-c"
    script = init["command"][-1]
    subprocess.run(["bash", "-n", "-c", script], check=True, timeout=30)  # valid shell once Compose substituted it

    lines = [ln.strip() for ln in script.splitlines()]
    run = [ln for ln in lines if ln and not ln.startswith(("echo ", "#"))]  # what is executed, not announced
    cli = re.compile(r"^(?:[A-Z_]+=\S*\s+)*(?:/entrypoint\s+)?(?:seller-inbox|python -m seller_inbox)\s+(.+)$")

    def first(pred) -> int:
        return next((i for i, ln in enumerate(run) if pred(ln)), -1)

    db = first(lambda ln: re.search(r"\bairflow db migrate\b", ln) is not None)
    admin = first(lambda ln: "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in ln)
    parser = build_parser()
    parsed = [(i, parser.parse_args(shlex.split(m.group(1).replace("${SELLER_INBOX_HOME}", "/x"))))
              for i, ln in enumerate(run) if (m := cli.match(ln))]
    wh = next((i for i, a in parsed if (a.command, getattr(a, "action", None)) == ("warehouse", "migrate")), -1)
    assert -1 not in (db, admin, wh), f"missing step: db migrate {db}, admin {admin}, warehouse migrate {wh}"
    assert db < admin < wh, "db migrate, then the admin, then the warehouse migration"
    parsed = [a for _, a in parsed]
    demo = [a for a in parsed if a.command == "mail"]
    assert len(demo) == 1 and demo[0].out == "/x/maildir", "demo mail goes where the mailbox connections look"
    assert init["environment"]["_AIRFLOW_WWW_USER_USERNAME"] == env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")[0]


def test_dovecot_serves_the_same_maildirs(compose, services, env):
    dv = services["dovecot"]
    home_vol = _named_volume_at(env["SELLER_INBOX_HOME"], services["airflow-worker"])[0]
    mounted = {src: (dst, mode) for src, dst, mode in _mounts(dv)}
    assert home_vol in mounted, "dovecot serves the volume the mailbox connections and airflow-init use"
    (cfg,) = dv["configs"]
    assert cfg["target"].startswith("/etc/dovecot/conf.d/") and cfg["target"].endswith(".conf")
    content = compose["configs"][cfg["source"]]["content"]
    loc = re.search(r"^mail_location\s*=\s*maildir:([^:\s]+)", content, re.M).group(1)
    assert loc == f"{mounted[home_vol][0]}/maildir/%u", "one IMAP user per store id, same folders as the maildir connections"
    assert re.search(r"^disable_plaintext_auth\s*=\s*no", content, re.M)
    # Dovecot touches the files as the user that owns them (airflow-init chowns to AIRFLOW_UID)
    uid = int(re.search(r"^mail_uid\s*=\s*(\d+)", content, re.M).group(1))
    assert uid == int(services["airflow-worker"]["user"].split(":")[0])
    last = int(re.search(r"^last_valid_uid\s*=\s*(\d+)", content, re.M).group(1))
    first = int(re.search(r"^first_valid_uid\s*=\s*(\d+)", content, re.M).group(1))
    assert first <= uid and (last == 0 or uid <= last), "Dovecot would refuse the mail uid"


def test_every_variable_has_a_default_and_shell_dollars_are_escaped(raw):
    """`docker compose up` without a .env must work; shell `$X` must be written `$$X`."""
    for where, s in _strings(raw):
        for m in _VAR.finditer(s):
            if m.group(1):
                continue
            assert m.group(2) and m.group(3) in (":-", "-"), f"{where}: {m.group(0)} has no default (or is an unescaped shell variable)"


# ----------------------------------------------------------------------------- Dockerfile
def _dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def _pin(name: str) -> str:
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        m = re.match(rf"^{re.escape(name)}==([^\s;#]+)", line.strip(), re.I)
        if m:
            return m.group(1)
    raise AssertionError(f"{name} is not pinned in requirements.txt")


def test_dockerfile_from_matches_the_pinned_airflow(common):
    from packaging.specifiers import SpecifierSet

    froms = [rest for op, rest in _dockerfile() if op == "FROM"]
    assert len(froms) == 1
    m = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", froms[0])
    assert m, f"FROM {froms[0]!r} is not an apache/airflow:<version>-python<x.y> image"
    airflow_version, python = m.groups()
    assert airflow_version == _pin("apache-airflow"), "Dockerfile FROM and requirements.txt pin different Airflow versions"
    requires = re.search(r'requires-python\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert f"{python}.0" in SpecifierSet(requires), f"python{python} does not satisfy requires-python {requires}"
    assert common["image"].endswith(f":{airflow_version}"), "the built image's tag names the Airflow version"


def test_dockerfile_installs_requirements_with_the_project_editable(common):
    reqs = [line.strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    assert {"-e .", "--editable ."} & set(reqs), "requirements.txt installs the project itself (--editable .)"
    workdir, copied, installed = None, set(), False
    for op, rest in _dockerfile():
        if op == "WORKDIR":
            workdir = rest
        elif op == "COPY":
            srcs = [a for a in shlex.split(rest) if not a.startswith("--")][:-1]
            copied |= {s.rstrip("/") for s in srcs}
        elif op == "RUN" and re.search(r"\bpip install\b[^&;]*-r requirements\.txt\b", rest):
            assert workdir == "/opt/airflow", "`-e .` must resolve to /opt/airflow, where include/ is mounted"
            assert "." in copied or {"requirements.txt", "pyproject.toml", "include"} <= copied, \
                f"the project must be copied before `pip install -r requirements.txt` (copied: {copied})"
            assert re.search(r"\bpip check\b", rest), "a broken environment must fail the build"
            installed = True
    assert installed, "the Dockerfile never runs `pip install -r requirements.txt` with the project present"
    # the editable install points at the folder the compose file mounts
    mounts = {dst: src for src, dst, _ in _mounts(common)}
    assert mounts[f"{workdir}/include"] == "./include"


# ----------------------------------------------------------------------------- .dockerignore
def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins; a pattern matching a parent counts."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat[1:] if neg else pat
        pat = pat.strip("/")
        rx = re.escape(pat).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(rx, c) for c in candidates):
            ignored = not neg
    return ignored


def test_dockerignore_sends_the_project_and_nothing_else():
    patterns = [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.strip().startswith("#")]
    must_send = ["requirements.txt", "pyproject.toml", "include/stores.yaml", "dags/si_pipeline.py",
                 "plugins/seller_inbox_plugin.py"]
    for base in ("include/seller_inbox", "include/seller_inbox_dev"):  # the dev package: simulator, demo mail
        for p in (ROOT / base).rglob("*"):
            rel = p.relative_to(ROOT).as_posix()
            if p.is_file() and "__pycache__" not in rel and ".egg-info" not in rel:
                must_send.append(rel)
    for rel in must_send:
        assert not _docker_ignored(rel, patterns), f"{rel} is needed in the image but .dockerignore drops it"
    for rel in (".venv/bin/python", ".git/HEAD", ".seller-inbox/alias-salt", "tests/conftest.py",
                "include/seller_inbox/__pycache__/cli.cpython-311.pyc", "include/seller_inbox.egg-info/PKG-INFO",
                ".env", "docker-compose.yaml"):
        assert _docker_ignored(rel, patterns), f"{rel} should stay out of the build context"
