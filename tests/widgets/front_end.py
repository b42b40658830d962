"""A stand-in for a widget's front end in Python-side widget tests."""

from __future__ import annotations


class FrontEnd:
    """Collects what a widget sends and sends it messages as the browser would."""

    def __init__(self, widget):
        self.widget = widget
        self.sent: list[dict] = []
        widget.send = lambda msg, buffers=None: self.sent.append(msg)

    def click(self, **msg) -> dict:
        """Send one message through the comm handler; return the widget's last reply."""
        self.widget._on_front_end_msg(self.widget, msg, [])
        return self.sent[-1]
