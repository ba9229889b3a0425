"""The release archives: ``python -m build`` makes a wheel and an sdist that ``twine check`` accepts,
and the wheel installed into a fresh virtual environment holding only Airflow (the version this
suite runs on) is a provider Airflow finds: ``airflow providers list`` shows it, ``airflow providers
hooks`` its four connection types, and every hook, operator, sensor and trigger imports.

The fresh environment is made with ``uv`` and its cache (``UV_CACHE_DIR``, else ``~/.cache/uv``):
cold, it downloads Airflow and its dependencies once; warm, it installs offline from the cache in
seconds. Every package is pinned to the version this suite's ``.venv`` holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import Parser
from importlib.metadata import distributions, version
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_dialers.get_provider_info import DOCUMENTATION_URL, get_provider_info

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_dialers"
DIST_NAME = "airflow-provider-dialers"
CONN_TYPES = {"expertflow_ecm", "maxcontact", "sinch_obi", "ameyo"}
#: What the sdist must never carry: the environments, caches, run output and the repository's
#: own test and benchmark machinery (they need the repository's set-up).
SDIST_FORBIDDEN = (".venv/", ".airflow", "__pycache__", ".pyc", ".pytest_cache", ".uv", ".git/", "/dist/",
                   "/build/", ".rejects.csv", "/tests/", "/bench/", "/scripts/")
#: Test tools that must not be in the fresh environment (it holds Airflow and the provider only).
TEST_ONLY = ("pytest", "responses", "requests-mock", "build", "twine")

#: Run in the fresh environment: import every hook, operator, sensor and trigger the provider
#: declares or exports, and read what Airflow's providers manager knows of it.
PROBE = """
import importlib, json
from pathlib import Path
import airflow_provider_dialers
from airflow.providers_manager import ProvidersManager
from airflow_provider_dialers.get_provider_info import get_provider_info

info = get_provider_info()
names = []
for kind in ("hooks", "operators", "sensors", "triggers"):
    for group in info[kind]:
        for module in group["python-modules"]:
            importlib.import_module(module)
for kind in ("operators", "sensors", "triggers"):
    package = importlib.import_module("airflow_provider_dialers." + kind)
    for name in package.__all__:
        obj = getattr(package, name)
        names.append(obj.__module__ + "." + obj.__qualname__)
for conn in info["connection-types"]:
    module, _, name = conn["hook-class-name"].rpartition(".")
    names.append(module + "." + getattr(importlib.import_module(module), name).__name__)
provider = ProvidersManager().providers["airflow-provider-dialers"]
print(json.dumps({
    "classes": sorted(names),
    "documentation_url": provider.data["documentation-url"],
    "package_dir": str(Path(airflow_provider_dialers.__file__).parent),
    "py_typed": (Path(airflow_provider_dialers.__file__).parent / "py.typed").is_file(),
}))
"""


def run(*args: Any, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a command and answer its output, failing the test with it if the command fails."""
    result = subprocess.run([str(arg) for arg in args], check=False, capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=600)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def in_venv(venv: Path, command: str, *args: Any) -> Any:
    """The JSON a command of ``venv`` prints (Airflow may print log lines before it), run from
    outside this tree with a fresh ``AIRFLOW_HOME``."""
    stdout = run(venv / "bin" / command, *args, env=clean_env(venv.parent / "airflow-home"), cwd=venv.parent)
    start = min(index for index in (stdout.find("["), stdout.find("{")) if index >= 0)
    return json.loads(stdout[start:])


def wheel_metadata(wheel_path: Path) -> Message:
    """The wheel's ``METADATA``."""
    with zipfile.ZipFile(wheel_path) as wheel:
        name = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
        return Parser().parsestr(wheel.read(name).decode())


def clean_env(airflow_home: Path) -> dict[str, str]:
    """This process's environment less its Airflow, Python and virtualenv settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "PYTEST", "UV_PYTHON"))}
    env.update(AIRFLOW_HOME=str(airflow_home), UV_PYTHON_DOWNLOADS="never")
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and the sdist, built from this tree by ``python -m build``."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--installer", "uv", "--outdir", out, ROOT, env=clean_env(out))
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


@pytest.fixture(scope="module")
def fresh_venv(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new virtual environment with Airflow (this suite's version) and the wheel, nothing else."""
    base = tmp_path_factory.mktemp("fresh")
    venv, env = base / "venv", clean_env(base / "airflow-home")
    constraints = base / "constraints.txt"
    pins = {each.metadata["Name"].lower(): each.version for each in distributions() if each.metadata["Name"]}
    pins.pop(DIST_NAME, None)
    constraints.write_text("".join(f"{name}=={pinned}\n" for name, pinned in sorted(pins.items())))
    uv = (sys.executable, "-m", "uv")
    run(*uv, "venv", "--quiet", "--python", sys.executable, venv, env=env)
    install = (*uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
               "--constraint", constraints, f"apache-airflow=={version('apache-airflow')}", dist["wheel"])
    offline = subprocess.run([str(arg) for arg in (*install, "--offline")], check=False, capture_output=True,
                             env=env)
    if offline.returncode != 0:  # not all in uv's cache yet: download what is missing
        run(*install, env=env)
    yield venv
    shutil.rmtree(base, ignore_errors=True)  # uv links from its cache, but copies across file systems


def test_the_wheel_holds_the_package_its_type_marker_and_license_only(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
    metadata = wheel_metadata(dist["wheel"])
    dist_info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
    assert [n for n in names if not n.startswith((f"{PACKAGE}/", f"{dist_info}/"))] == []
    assert f"{PACKAGE}/py.typed" in names and f"{dist_info}/licenses/LICENSE" in names
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / PACKAGE).rglob("*.py")
               if "__pycache__" not in path.parts}
    assert sources - set(names) == set(), "modules missing from the wheel"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_project_urls_name_files_of_this_repository(dist):
    urls = dict(entry.split(", ", 1) for entry in wheel_metadata(dist["wheel"]).get_all("Project-URL"))
    assert set(urls) >= {"Documentation", "Source", "Changelog"}
    # Airflow's Providers page links to "Documentation"; the integration's doc link is the same page.
    assert urls["Documentation"] == DOCUMENTATION_URL
    assert {i["external-doc-url"] for i in get_provider_info()["integrations"]} == {DOCUMENTATION_URL}
    source = urls["Source"].rstrip("/")
    for name in ("Documentation", "Changelog"):
        assert urls[name].startswith(f"{source}/blob/main/"), urls[name]
        assert (ROOT / urls[name].removeprefix(f"{source}/blob/main/")).is_file(), urls[name]


def test_the_sdist_carries_sources_and_docs_but_no_environment_or_cache(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = [name.split("/", 1)[1] if "/" in name else "" for name in sdist.getnames()]
    assert [n for n in names if any(bad in f"/{n}/" for bad in SDIST_FORBIDDEN)] == []
    for required in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "PKG-INFO", "docs/index.md",
                     f"{PACKAGE}/py.typed", f"{PACKAGE}/get_provider_info.py"):
        assert required in names, required


def test_twine_accepts_both_archives(dist):
    output = run(sys.executable, "-m", "twine", "check", "--strict", dist["wheel"], dist["sdist"])
    assert output.count("PASSED") == 2, output


def test_airflow_lists_the_installed_provider_and_its_connection_types(dist, fresh_venv):
    providers = in_venv(fresh_venv, "airflow", "providers", "list", "-o", "json")
    assert {"package_name": DIST_NAME, "version": version(DIST_NAME)}.items() <= next(
        p for p in providers if p["package_name"] == DIST_NAME).items()
    hooks = in_venv(fresh_venv, "airflow", "providers", "hooks", "-o", "json")
    ours = {h["connection_type"]: h["class"] for h in hooks if h["package_name"] == DIST_NAME}
    expected = {c["connection-type"]: c["hook-class-name"] for c in get_provider_info()["connection-types"]}
    assert set(ours) == CONN_TYPES and ours == expected


def test_every_hook_operator_sensor_and_trigger_imports_from_the_installed_wheel(fresh_venv):
    installed = in_venv(fresh_venv, "python", "-c", PROBE)
    assert Path(installed["package_dir"]).is_relative_to(fresh_venv), installed["package_dir"]
    assert installed["py_typed"]
    assert installed["documentation_url"] == DOCUMENTATION_URL  # the Providers page's link
    # The same classes as this tree exports (the wheel is built from it), each really imported there.
    home = fresh_venv.parent / "airflow-home"
    here = run(sys.executable, "-c", PROBE, env=clean_env(home), cwd=fresh_venv.parent)
    assert installed["classes"] == json.loads(here[here.find("{"):])["classes"]
    kinds = {name.split(".")[1] for name in installed["classes"]}
    assert kinds == {"hooks", "operators", "sensors", "triggers"}
    for name in ("UploadContactsOperator", "CampaignCompletionSensor", "ContactStateTrigger", "AmeyoHook"):
        assert any(cls.endswith(f".{name}") for cls in installed["classes"]), name


def test_the_fresh_environment_holds_airflow_and_the_provider_only(fresh_venv):
    listed = run(sys.executable, "-m", "uv", "pip", "list", "--format", "json", "--python",
                 fresh_venv / "bin" / "python")
    names = {p["name"].lower() for p in json.loads(listed)}
    assert {"apache-airflow", DIST_NAME, "apache-airflow-providers-http", "phonenumbers"} <= names
    assert [tool for tool in TEST_ONLY if tool in names] == []
