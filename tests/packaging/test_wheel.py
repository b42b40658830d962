"""The wheel a user installs carries the built front end and the JupyterLab plugin."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_bundles_and_prebuilt_labextension(tmp_path):
    # --no-isolation: reuse the venv's hatchling/jupyterlab instead of downloading them again.
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = tmp_path.glob("transfer_widgets-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "transfer_widgets-0.1.0.data/data/share/jupyter/labextensions/transfer-widgets"
    for widget in ("layer_tree", "head_designer", "snapshot_guard"):
        assert f"transfer_widgets/static/{widget}.js" in names
        assert f"transfer_widgets/static/{widget}.css" in names
    assert "transfer_widgets/static/training_monitor.css" in names  # the monitor's style, theme inlined
    assert f"{data}/package.json" in names
    assert f"{data}/install.json" in names
    assert any(n.startswith(f"{data}/static/remoteEntry.") for n in names), sorted(
        n for n in names if data in n
    )
