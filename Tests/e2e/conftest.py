import shutil
import tempfile
from pathlib import Path

import pytest

import harness


@pytest.fixture(scope="module")
def workdir():
    directory = Path(tempfile.mkdtemp(prefix="backup-e2e-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def server(workdir):
    data = workdir / "data"
    data.mkdir()
    harness.seed_database(data / "app.sqlite")
    server = harness.Server(data, workdir / "server.log")
    yield server
    server.stop()


@pytest.fixture
def downloads(workdir):
    directory = Path(tempfile.mkdtemp(prefix="downloads-", dir=workdir))
    return directory


@pytest.fixture
def browser(downloads, request):
    marker = request.node.get_closest_marker("viewport")
    width, height = marker.args if marker else (1280, 1000)
    driver = harness.chromium(downloads, width=width, height=height)
    yield driver
    driver.quit()
