"""README shows the screenshots that exist, and the script makes every one of them in both sets."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "screenshots"
SMALL = SHOTS / "80x24"


def linked() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"\((screenshots/[^)\s]+\.svg)\)", readme))


def test_every_screenshot_readme_links_exists() -> None:
    assert linked(), "README links no screenshot"
    assert sorted(path for path in linked() if not (ROOT / path).is_file()) == []


def test_readme_links_every_screenshot_of_the_main_set_and_one_of_the_small_set() -> None:
    main_set = {f"screenshots/{path.name}" for path in SHOTS.glob("*.svg")}
    assert sorted(main_set - linked()) == []
    assert any(path.startswith("screenshots/80x24/") for path in linked())


def test_the_small_set_has_every_screen_of_the_main_set_at_80x24() -> None:
    main_names = {path.name for path in SHOTS.glob("*.svg")}
    assert {path.name for path in SMALL.glob("*.svg")} == main_names


def view_box(path: Path) -> tuple[float, ...]:
    found = re.search(r'viewBox="([^"]*)"', path.read_text(encoding="utf-8")[:2000])
    assert found, path.name
    return tuple(round(float(number), 1) for number in found.group(1).split())


def test_each_set_is_taken_at_its_size() -> None:
    # Textual's export sizes the picture by the terminal: 12.2 px a column plus 18, 24.4 px a row plus 50.
    assert {path.name: view_box(path) for path in SHOTS.glob("*.svg")} == {
        path.name: (0, 0, 1482, 928.4) for path in SHOTS.glob("*.svg")
    }
    assert {path.name: view_box(path) for path in SMALL.glob("*.svg")} == {
        path.name: (0, 0, 994, 635.6) for path in SMALL.glob("*.svg")
    }
