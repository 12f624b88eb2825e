"""What the pages share: their session state in one typed place, and their JavaScript and CSS."""

from pathlib import Path

ASSETS = Path(__file__).with_name("assets")


def asset(name: str) -> str:
    """The text of a file in ui/assets/ (a component's JavaScript or CSS)."""
    return (ASSETS / name).read_text(encoding="utf-8")
