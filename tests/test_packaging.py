"""pyproject.toml and environment.yml must pin the same things."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req):
    return re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].strip().lower()


def _spec(req):
    return req[len(_name(req)):].replace(" ", "")


def test_environment_yml_matches_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-]+[^#]*)$", line)
        if m and not m.group(1).startswith(("-e", "pip")) and not m.group(1).endswith(":"):
            req = m.group(1).strip()
            env[_name(req)] = _spec(req)
    for req in deps:
        assert _name(req) in env, f"{_name(req)} missing from environment.yml"
        assert env[_name(req)] == _spec(req), f"{_name(req)}: pyproject {_spec(req)!r}, environment.yml {env[_name(req)]!r}"
    assert env["python"].lstrip("=") .startswith("3.11")


def test_torch_is_pinned_everywhere():
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text()
    assert "torch==2.13.0" in (ROOT / "Makefile").read_text()
