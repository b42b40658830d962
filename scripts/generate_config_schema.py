"""Write the JSON Schema of a saved TransferConfig, shipped in the package for
editors (completion, hover docs, checking of a config file).

The schema comes from the annotations and field docstrings in
``transfer_widgets/config.py`` (:meth:`TransferConfig.json_schema`) and is written to
``transfer_widgets/schema/transfer_config.schema.json``.

    python scripts/generate_config_schema.py          # (re)write the schema
    python scripts/generate_config_schema.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "transfer_widgets" / "schema" / "transfer_config.schema.json"


def render() -> str:
    """The schema file's text, as generated now."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from transfer_widgets.config import TransferConfig

    return json.dumps(TransferConfig.json_schema(), indent=2, ensure_ascii=False) + "\n"


def check(path: Path) -> bool:
    """Whether ``path`` holds the schema as generated now."""
    return path.is_file() and path.read_text(encoding="utf-8") == render()


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when the schema file is out of date")
    args = parser.parse_args(argv)
    shown = SCHEMA.relative_to(ROOT) if SCHEMA.is_relative_to(ROOT) else SCHEMA
    if args.check:
        if check(SCHEMA):
            out(f"{shown} is up to date")
            return 0
        out(f"{shown} is out of date: run `python scripts/generate_config_schema.py`")
        return 1
    SCHEMA.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA.write_text(render(), encoding="utf-8")
    out(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
