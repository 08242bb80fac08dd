"""End to end in a real browser: ``depthzoo demo`` on a free local port, driven by headless Chromium (Playwright).

Needs the demo extra, Playwright and Debian's Chromium (``.ci/run`` installs them); each missing piece is a skip
that names how to install it.
"""

from __future__ import annotations

import io
import os
import re
import socket
import time

import numpy as np
import pytest
from demo_helpers import chromium, launch_browser, save_smooth_tiny_model
from PIL import Image

from depthzoo.demo.examples import example_paths

pytest.importorskip("gradio", reason="the demo extra is not installed: pip install 'depthzoo[demo]'")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory):
    """``depthzoo demo`` with a tiny model, built and served by the command's own code on a free local port.

    It runs in this process (the command's ``build_page`` and ``launch``, not blocking), which saves starting a
    second Python with torch and Gradio; ``tests/cli/test_demo_command.py`` runs the command itself.
    """
    chromium()  # skip before starting anything when there is no browser
    from depthzoo.cli.demo import build_page, demo_parser, launch

    folder = tmp_path_factory.mktemp("demo")
    model = save_smooth_tiny_model(folder)
    port = free_port()
    args = demo_parser().parse_args(["--model", str(model), "--model", str(folder / "gone.pt"), "--only-given",
                                     "--port", str(port), "--max-frames", "3"])
    page = build_page(args)
    launch(page, args, block=False)
    try:
        yield f"http://127.0.0.1:{port}", str(model)
    finally:
        page.close()


def decoded(page, selector: str) -> list[np.ndarray]:
    """The pictures shown in ``selector``'s <img> elements, fetched from the demo and decoded."""
    sources = page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.src)")
    return [np.asarray(Image.open(io.BytesIO(page.request.get(src).body())).convert("RGB")) for src in sources]


def test_upload_an_example_and_see_depth_3d_and_downloads(demo_url, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    url, _ = demo_url
    example = example_paths()[0]
    height, width = np.asarray(Image.open(example)).shape[:2]
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        outside = []  # the page must work offline: every request stays on this machine

        def local_only(route) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)
        page.goto(url)
        page.set_input_files("#input-image input[type=file]", str(example))
        page.click("#run")
        page.wait_for_function(
            "() => { const imgs = [...document.querySelectorAll('#slider img')];"
            " return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
            timeout=90_000,
        )
        shown, depth = decoded(page, "#slider img")
        assert shown.shape[:2] == (height, width)
        assert depth.shape[:2] == (height, width)  # the input's size, so its aspect ratio
        assert depth.reshape(-1, 3).std(axis=0).max() > 20 and len(np.unique(depth.reshape(-1, 3), axis=0)) > 50
        assert "metric depth in metres" in page.inner_text("#status")
        background = np.array([242, 242, 242])  # the view's clear colour (0.95 grey)
        drawn, deadline = 0.0, time.monotonic() + 60
        while drawn <= 0.05 and time.monotonic() < deadline:  # the viewer draws the mesh once it has loaded it
            time.sleep(0.5)
            shot = page.locator("#model3d canvas").screenshot()
            canvas = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))
            drawn = (np.abs(canvas.astype(int) - background).max(axis=-1) > 10).mean()
        assert drawn > 0.05, f"the 3-D view drew {drawn:.1%} of its canvas"
        names = page.inner_text("#downloads").replace("\n", "")  # the page breaks names before the suffix
        assert all(name in names for name in ("room_a_depth_mm.png", "room_a_depth_m.npy", "room_a_points_m.ply"))
        # measure: two clicks on the depth map give the distance between the two scene points
        page.locator("#measure img").click(position={"x": 40, "y": 60})
        page.get_by_text("Click a second point").wait_for(timeout=30_000)
        page.locator("#measure img").click(position={"x": 250, "y": 180})
        page.get_by_text("Distance between pixels").wait_for(timeout=30_000)
        found = re.search(r"\((\d+), (\d+)\) and \((\d+), (\d+)\): ([\d.]+) m", page.inner_text("#distance"))
        u1, v1, u2, v2 = (int(found.group(i)) for i in range(1, 5))
        assert abs(u1 - 40) <= 1 and abs(v1 - 60) <= 1 and abs(u2 - 250) <= 1 and abs(v2 - 180) <= 1
        npy = page.get_attribute("#downloads a[href*='.npy']", "href")
        metres = np.load(io.BytesIO(page.request.get(npy).body()))
        focal = width / 2 / np.tan(np.radians(30))  # no focal length given: the default 60° field of view
        ends = [np.array([(u - (width - 1) / 2) / focal, (v - (height - 1) / 2) / focal, 1.0]) * metres[v, u]
                for u, v in ((u1, v1), (u2, v2))]
        assert float(found.group(5)) == pytest.approx(np.linalg.norm(ends[0] - ends[1]), abs=0.006)
        page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        target = os.environ.get("DEPTHZOO_DEMO_SCREENSHOT")
        if target:
            page.screenshot(path=target, full_page=False)
        assert outside == []
        browser.close()
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def test_bad_input_and_a_broken_model_are_messages_and_the_page_keeps_working(demo_url, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    url, model = demo_url
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are notes, not a picture")
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(url)
        page.set_input_files("#input-image input[type=file]", str(not_an_image))
        page.click("#run")
        page.get_by_text(re.compile("cannot be read as an image")).first.wait_for(timeout=60_000)
        page.click("#model input")
        page.get_by_role("option", name=re.compile("gone.pt")).click()
        page.set_input_files("#input-image input[type=file]", str(example_paths()[1]))
        page.click("#run")
        page.get_by_text(re.compile(r"model '.*gone.pt' could not be loaded")).first.wait_for(timeout=60_000)
        browser.close()


def test_concurrent_requests_are_queued_and_all_answered(demo_url) -> None:
    from gradio_client import Client, handle_file

    url, model = demo_url
    client = Client(url, verbose=False)
    jobs = [client.submit(model, handle_file(str(path)), None, api_name="/on_image") for path in example_paths()]
    results = [job.result(timeout=120) for job in jobs]
    assert len(results) == 3 and all("metric depth in metres" in result[5] for result in results)
