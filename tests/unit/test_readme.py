"""The README stays true: its example configuration is accepted as written."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.settings import load_settings
from dashboard.sources import build_sources

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    (example,) = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    path = tmp_path / "shanting.toml"
    path.write_text(example.replace('data_dir = "data"', f'data_dir = "{tmp_path}"'), encoding="utf-8")
    settings = load_settings(path)
    assert settings.tiles is not None and settings.environment.episode_hours == 2
    assert settings.tourism.capacities["spot-04"].capacities() == (3500, 21000)  # LB/T 034: 2500 + 1000, × ⌊9.5/1.5⌋
    assert settings.video.grid_m == 500 and settings.video.min_population == 50
    build_sources(settings)


def test_the_readme_names_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


def test_every_test_the_faults_table_cites_exists() -> None:
    """A renamed or deleted fault test must not leave the README claiming a proof that is gone."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Faults and what the product does", 1)[1].split("\n## ", 1)[0]
    cited = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", table)
    assert len(cited) >= 10
    for path, name in cited:
        source = (README.parent / path).read_text(encoding="utf-8")
        assert not name or f"def {name}(" in source, f"README cites {path}::{name}, which does not exist"
