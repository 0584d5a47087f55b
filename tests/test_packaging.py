"""The conda environment and pyproject.toml must name the same runtime packages."""

import re
from importlib import metadata
from pathlib import Path

import yaml

import snnlab

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAME = {"torch": "pytorch"}  # pip name -> conda-forge name, where they differ


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def _runtime_requirements() -> list[str]:
    """The installed snnlab's requirements that no extra (like `dev`) is needed for."""
    return [r for r in metadata.requires("snnlab") if "extra ==" not in r]


def test_environment_yml_has_every_runtime_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "snnlab"
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    runtime = {_name(r) for r in _runtime_requirements()}
    assert "torch" in runtime and len(runtime) == 9
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    from_pip = {_name(line) for line in pip_section if not line.startswith("-")}
    missing = sorted(n for n in runtime if CONDA_NAME.get(n, n) not in conda | from_pip)
    assert not missing, f"environment.yml lacks runtime dependencies from pyproject: {missing}"
    assert {"python", "nbval", "ffmpeg"} <= conda
    assert any(line.startswith("-e .") for line in pip_section), "pip must install snnlab editable"


def test_version_matches_pyproject():
    assert snnlab.__version__ == metadata.version("snnlab")


def test_snnlab_never_imports_the_reference_libraries():
    for module in (ROOT / "snnlab").rglob("*.py"):
        text = module.read_text()
        for reference in ("snntorch", "spikingjelly"):
            assert not re.search(rf"^\s*(import|from)\s+{reference}", text, re.M), (
                f"{module.name} imports {reference}; snnlab must not depend on it"
            )
