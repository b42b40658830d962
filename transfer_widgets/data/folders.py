"""Check an image folder (one subfolder per class) before any training.

``keras.utils.image_dataset_from_directory`` takes an empty class folder as a
class with no samples, a single class folder as a one-class problem, images in
nested folders as part of the class above them, and reports a zero-byte or
corrupt image only when a batch reaches it, without its file name. These checks
run first and name the folder or file at fault.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import ConfigError

#: The extensions Keras reads from an image folder.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
#: The first bytes of each format (a text file renamed ``.jpg`` fails here).
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def class_folders(directory: str | os.PathLike[str] | None) -> list[Path]:
    """The class folders of ``directory`` in the order Keras numbers them."""
    if not directory:
        raise ConfigError(["data.directory must be the path of a folder of class folders, got None"])
    root = Path(directory)
    if not root.is_dir():
        what = "a file" if root.exists() else "not there"
        raise ConfigError(
            [f"data.directory {str(root)!r} is {what}: pass a folder with one subfolder per class"]
        )
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name)


def check_image_folder(directory: str | os.PathLike[str] | None, num_classes: int | None = None) -> list[str]:
    """Raise :class:`ConfigError` naming the folder or file for a class folder that is
    empty or nested, fewer than two classes, a ``num_classes`` that differs from the
    class folders, or an image that is empty or not an image. Returns the class names."""
    folders = class_folders(directory)
    if not folders:
        raise ConfigError(
            [f"data.directory {str(directory)!r} has no class folders: put each class's images in a "
             "subfolder named after the class"]
        )  # fmt: skip
    problems: list[str] = []
    for folder in folders:
        images = 0
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                problems.append(
                    f"data.directory: {str(path)!r} is a folder inside class {folder.name!r}; Keras would "
                    "read its images as that class: move them up, or make it a class folder of its own"
                )
            elif path.suffix.lower() in IMAGE_EXTENSIONS:
                images += 1
                problem = _image_problem(path)
                if problem:
                    problems.append(f"data.directory: {str(path)!r} {problem}: remove or replace it")
        if images == 0:
            problems.append(
                f"data.directory: class folder {str(folder)!r} has no images "
                f"({', '.join(IMAGE_EXTENSIONS)}): add some or remove the folder"
            )
        if len(problems) >= 20:
            break
    if problems:
        raise ConfigError(problems)
    names = [f.name for f in folders]
    if len(names) < 2:
        raise ConfigError(
            [f"data.directory {str(directory)!r} has one class folder ({names[0]!r}): a classifier needs "
             "at least two, one subfolder per class"]
        )  # fmt: skip
    if num_classes is not None and num_classes != len(names):
        raise ConfigError(
            [f"head.num_classes is {num_classes} but data.directory has {len(names)} class folders "
             f"({', '.join(map(repr, names))}): set num_classes to {len(names)} or leave it out"]
        )  # fmt: skip
    return names


def _image_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an image, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not head:
        return "is empty (0 bytes)"
    if not head.startswith(SIGNATURES):
        return "is not a BMP, GIF, JPEG or PNG image (its first bytes say otherwise)"
    try:
        from PIL import Image

        with Image.open(path) as image:
            image.load()  # a full decode: verify() passes a truncated JPEG that fails in training
    except ImportError:
        return None
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a damaged file
        return f"is damaged ({type(exc).__name__}: {exc})"
    return None
