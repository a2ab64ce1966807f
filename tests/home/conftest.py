from tests.files.conftest import root  # noqa: F401 (a fresh files root, with a sibling and an outside secret)
