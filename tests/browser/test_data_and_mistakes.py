"""The data view and the mistakes panel in real JupyterLab: counts and lazily loaded
thumbnails of the digits and of an image folder with a corrupt file and an RGBA PNG;
after two epochs the top losses show, a confusion-matrix cell shows exactly its
images, and a heat map toggles on. Screenshots light and dark."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_training_monitor import no_horizontal_scroll

DIGITS = (
    "import numpy as np\n"
    "from transfer_widgets import DataView, FineTuneController, Mistakes, TransferConfig, datasets\n"
    "from transfer_widgets.data.datasets import small_cnn\n"
    "x, y = datasets.load_digits(image_size=(16, 16))\n"
    "c = TransferConfig()\n"
    "c.preprocessing.mode = 'none'\n"
    "c.head.layers = c.head.layers[:1]\n"
    "c.training.seed = 0\n"
    "c.training.learning_rate = 3e-3\n"
    "c.head.class_names = [f'digit {i}' for i in range(10)]\n"
    "ctl = FineTuneController(small_cnn((16, 16, 3)), num_classes=10, train_data=(x[:1000], y[:1000]),\n"
    "                         validation_data=(x[1000:1400], y[1000:1400]), config=c)\n"
    "ctl.unfreeze_all()"
)

FOLDER = (
    "import os, tempfile, numpy as np, keras, tensorflow as tf\n"
    "from transfer_widgets import DataView, datasets\n"
    "root = datasets.write_image_folder(os.path.join(tempfile.mkdtemp(), 'pets'), per_class=5,\n"
    "                                   image_size=(24, 24), classes=(0, 1))\n"
    "open(os.path.join(root, 'digit_0', 'corrupt.png'), 'wb').write(b'\\x89PNG\\r\\n\\x1a\\nbroken')\n"
    "rgba = np.zeros((24, 24, 4), np.uint8); rgba[..., 0] = 220; rgba[..., 3] = 255\n"
    "tf.io.write_file(os.path.join(root, 'digit_1', 'rgba.png'), tf.io.encode_png(rgba))\n"
    "ds = keras.utils.image_dataset_from_directory(root, image_size=(24, 24), batch_size=4, seed=0)\n"
    "view = DataView(ds)\n"
    "view"
)


def test_data_view_digits_and_a_broken_folder(open_nb, artifacts_dir, console_log):
    nb = open_nb([DIGITS, "DataView(ctl, page_size=6)", FOLDER])
    nb.run_all()
    view = nb.cell_output(1).locator(".tw-data-view")
    expect(view).to_be_visible()
    counts = view.get_by_role("table")
    expect(counts.get_by_role("rowheader", name="digit 3")).to_be_visible()
    expect(view.locator(".tw-dv-count")).to_have_count(20)  # 10 classes, train and validation
    assert view.locator(".tw-dv-count").first.text_content() == str(nb_count(nb, "(y[:1000] == 0).sum()"))

    rows = view.locator(".tw-dv-class-row")
    expect(rows.first.locator("img")).to_have_count(6)  # the first class is in view: its first page
    last = rows.nth(9)
    assert last.locator("img").count() == 0  # not scrolled to yet: nothing sent
    last.scroll_into_view_if_needed()
    expect(last.locator("img")).to_have_count(6)
    last.get_by_role("button", name="More images of digit 9").click()
    expect(last.locator("img")).to_have_count(12)
    expect(view.get_by_text("No exact duplicates between training and validation")).to_be_visible()
    rows.first.scroll_into_view_if_needed()
    view.locator(".tw-header").scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "data-view-digits-light.png"))

    folder = nb.cell_output(2).locator(".tw-data-view")
    expect(folder.get_by_text(re.compile(r"Folder problems \(\d\)"))).to_be_visible()
    problems = folder.locator(".tw-dv-problems li")
    expect(problems.filter(has_text="corrupt.png")).to_contain_text("unreadable image")
    expect(problems.filter(has_text="rgba.png")).to_contain_text("RGBA (most are RGB)")
    folder.locator(".tw-dv-class-row").first.scroll_into_view_if_needed()
    first = folder.locator(".tw-dv-class-row").first
    expect(first.locator(".tw-thumb")).to_have_count(6)  # five digits and the corrupt file, listed
    expect(first.locator(".tw-thumb-bad")).to_have_count(1)
    expect(first.locator("img")).to_have_count(5)
    second = folder.locator(".tw-dv-class-row").nth(1)
    second.scroll_into_view_if_needed()
    expect(second.locator("img")).to_have_count(6)  # the RGBA one shows
    folder.screenshot(path=str(artifacts_dir / "data-view-folder-light.png"))
    assert console_log.errors == []


def nb_count(nb, expr: str) -> int:
    return int(nb.python(f"print(int({expr}))"))


def test_mistakes_after_two_epochs(open_nb, artifacts_dir, console_log):
    nb = open_nb([DIGITS, "panel = Mistakes(ctl)\npanel", "ctl.fit(2, block=True)"], theme="dark")
    nb.run_all()
    panel = nb.cell_output(1).locator(".tw-mistakes")
    expect(panel).to_be_visible()
    gallery = panel.get_by_role("list", name="Top losses")
    expect(gallery.get_by_role("listitem")).to_have_count(12)  # the first page of top losses
    expect(panel.locator(".tw-mi-heading").first).to_contain_text("Top losses (400 images)")

    pair = nb.python("t, p, n = panel.interpretation.most_confused()[0]; print(t, p, n)").split()
    t, p, n = (int(v) for v in pair)
    names = [f"digit {i}" for i in range(10)]
    panel.get_by_role("button", name=f"true {names[t]}, predicted {names[p]}: {n} images").click()
    expect(panel.locator(".tw-mi-heading").first).to_have_text(
        f"Top losses — true {names[t]}, predicted {names[p]} ({n} images)"
    )
    cards = gallery.get_by_role("listitem")
    expect(cards).to_have_count(min(n, 12))
    for i in range(min(n, 12)):
        expect(cards.nth(i)).to_contain_text(f"true: {names[t]}")
        expect(cards.nth(i)).to_contain_text(f"pred: {names[p]}")

    toggle = cards.first.get_by_role("button", name=re.compile("^Heat map"))
    before = cards.first.locator("img").get_attribute("src")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert cards.first.locator("img").get_attribute("src") != before
    nb.page.screenshot(path=str(artifacts_dir / "mistakes-dark.png"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert cards.first.locator("img").get_attribute("src") == before

    panel.get_by_role("button", name="Find likely label errors").click()
    doubted = panel.get_by_text(re.compile(r"\d+ of 1000 training labels doubted"))
    expect(doubted).to_be_visible(timeout=120_000)
    expect(panel.get_by_role("button", name="Download CSV")).to_be_visible()
    doubted.scroll_into_view_if_needed()
    nb.page.screenshot(path=str(artifacts_dir / "mistakes-label-issues-dark.png"))
    assert console_log.errors == []


def test_a_monitor_cell_click_shows_its_images(open_nb, artifacts_dir, console_log):
    cells = [
        DIGITS,
        "from transfer_widgets import TrainingMonitor\nmonitor = TrainingMonitor(ctl)\nmonitor",
        "panel = Mistakes(ctl)\npanel.follow_monitor(monitor)\npanel",
        "ctl.fit(2, block=True)",
    ]
    nb = open_nb(cells)
    nb.run_all()
    heat_cells = nb.cell_output(1).locator("rect.heatmapcell")
    expect(heat_cells).to_have_count(100)
    t, p, n = (
        int(v) for v in nb.python("t, p, n = panel.interpretation.most_confused()[0]; print(t, p, n)").split()
    )
    heat_cells.nth(t * 10 + p).click()
    nb.wait_for_python("print(panel.cell)", f"[{t}, {p}]")
    panel = nb.cell_output(2).locator(".tw-mistakes")
    expect(panel.locator(".tw-mi-heading").first).to_have_text(
        f"Top losses — true digit {t}, predicted digit {p} ({n} images)"
    )
    expect(panel.get_by_role("list", name="Top losses").get_by_role("listitem")).to_have_count(min(n, 12))
    nb.page.screenshot(path=str(artifacts_dir / "mistakes-from-monitor-light.png"))
    assert console_log.errors == []


TRAINED = [
    DIGITS + "\nctl.fit(2, block=True)",
    "view = DataView(ctl, page_size=6)\nview",
    "panel = Mistakes(ctl)\npanel",
]


def test_both_panels_light_and_dark_at_900_and_1400_px(open_nb, artifacts_dir, console_log):
    nb = open_nb(TRAINED)
    nb.run_all()
    view = nb.cell_output(1).locator(".tw-data-view")
    panel = nb.cell_output(2).locator(".tw-mistakes")
    expect(view.locator(".tw-dv-class-row").first.locator("img")).to_have_count(6)
    cards = panel.get_by_role("list", name="Top losses").get_by_role("listitem")
    expect(cards).to_have_count(12)
    for i in range(2):  # two heat maps on, so the screenshots show them over their images
        toggle = cards.nth(i).get_by_role("button", name=re.compile("^Heat map for image"))
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    for theme in ("light", "dark"):
        nb.set_theme(theme)
        for width in (900, 1400):
            nb.page.set_viewport_size({"width": width, "height": 1400})
            nb.page.wait_for_timeout(800)
            for name, widget in (("data-view", view), ("mistakes", panel)):
                assert no_horizontal_scroll(widget), f"{name}: horizontal scroll at {width} px, {theme}"
                widget.scroll_into_view_if_needed()
                widget.screenshot(path=str(artifacts_dir / f"{name}-{theme}-{width}.png"))
    assert console_log.errors == []


def test_both_panels_by_keyboard_alone(open_nb, artifacts_dir, console_log):
    nb = open_nb(TRAINED)
    nb.run_all()
    page = nb.page
    view = nb.cell_output(1).locator(".tw-data-view")
    panel = nb.cell_output(2).locator(".tw-mistakes")
    expect(panel.get_by_role("list", name="Top losses").get_by_role("listitem")).to_have_count(12)

    # Data view: from its first control, Tab reaches the validation images and Enter shows them.
    view.get_by_role("button", name="Training images").focus()
    page.keyboard.press("Tab")
    expect(view.get_by_role("button", name="Validation images")).to_be_focused()
    page.keyboard.press("Enter")
    expect(view.get_by_role("button", name="Validation images")).to_have_attribute("aria-pressed", "true")
    expect(view.get_by_role("button", name="Validation images")).to_be_focused()  # kept through the re-render
    more = view.get_by_role("button", name="More images of digit 0")
    expect(more).to_be_visible()  # the first validation page came
    page.keyboard.press("Tab")
    expect(view.get_by_role("region", name="Images per class")).to_be_focused()
    page.keyboard.press("Tab")  # the first class's "More" button
    expect(more).to_be_focused()
    page.keyboard.press("Space")
    expect(view.locator(".tw-dv-class-row").first.locator("img")).to_have_count(12)

    # Mistakes: Tab from Refresh lands on the matrix (one stop); arrows pick the most confused cell.
    t, p, n = (int(v) for v in nb.python("print(*panel.interpretation.most_confused()[0])").split())
    panel.get_by_role("button", name="Refresh").focus()
    page.keyboard.press("Tab")
    expect(panel.get_by_role("button", name="true digit 0, predicted digit 0", exact=False)).to_be_focused()
    for _ in range(t):
        page.keyboard.press("ArrowDown")
    for _ in range(p):
        page.keyboard.press("ArrowRight")
    cell = panel.get_by_role("button", name=f"true digit {t}, predicted digit {p}: {n} images")
    expect(cell).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.locator(".tw-mi-heading").first).to_have_text(
        f"Top losses — true digit {t}, predicted digit {p} ({n} images)"
    )
    expect(page.locator(".jp-Notebook.jp-mod-editMode")).to_have_count(0)  # Enter was the cell's, not Lab's

    # Tab on to the first image's heat-map toggle; Space shows it, Enter hides it again.
    first = panel.get_by_role("list", name="Top losses").get_by_role("listitem").first
    index = int(nb.python(f"print(panel.interpretation.top_losses(1, true={t}, predicted={p})[0].index)"))
    toggle = first.get_by_role("button", name=f"Heat map for image #{index}")
    for _ in range(40):
        page.keyboard.press("Tab")
        if toggle.evaluate("(el) => el === document.activeElement"):
            break
    expect(toggle).to_be_focused()
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.scroll_into_view_if_needed()
    panel.screenshot(path=str(artifacts_dir / "mistakes-keyboard-light.png"))
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert console_log.errors == []
