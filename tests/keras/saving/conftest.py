"""Local pytest settings of the saving tests (the `slow` marker)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slow saving test (subprocesses, real Keras)")
