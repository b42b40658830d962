"""The reliability tier: faults injected into runs (tests/reliability)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "subprocess: runs a fresh Python process per case (real signals, interpreter exit); "
        "a few seconds each",
    )
