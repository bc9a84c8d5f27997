"""placeholder replaced below"""


def load(path: str):  # noqa: ANN201
    return None
