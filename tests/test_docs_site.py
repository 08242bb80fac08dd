"""The documentation site: its generated pages follow the code, it builds strictly, and it loads cleanly in a browser.

The build takes a while, so ``.ci/run`` builds the site once (``mkdocs build --strict``) and passes its folder in
``DEPTHZOO_DOCS_SITE``; without it the test builds one itself (skipped without the docs extra).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from demo_helpers import chromium, launch_browser

import depthzoo
from depthzoo.weights.manifest import checkpoint_info, list_checkpoints

ROOT = Path(__file__).resolve().parent.parent


def load_docs_module(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_zoo_page_lists_every_registered_part_and_checkpoint() -> None:
    page = load_docs_module("hooks").model_zoo_page()
    for name in depthzoo.list_decoders() + depthzoo.list_losses():
        assert f"| `{name}` |" in page, name
    for name in list_checkpoints():
        info = checkpoint_info(name)
        row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
        assert info["license"].split(" ")[0] in row and info["architecture"]["encoder"] in row
        kind = "relative_disparity" if info["architecture"]["decoder_kwargs"].get("activation") == "relu" else "metric"
        assert f"| {kind} |" in row, name
    architecture = dict(checkpoint_info("dav2_vits")["architecture"])
    model = depthzoo.create_model(**{k: v for k, v in architecture.items() if k != "decoder_kwargs"},
                                  **architecture["decoder_kwargs"])  # built for real, not on the meta device
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert f"| `dav2_vits` | `vit_small_patch14_dinov2` + `dpt` | relative_disparity | {count:.1f}M |" in page


def test_root_pages_link_to_site_pages_and_bring_the_pictures_they_show() -> None:
    hooks = load_docs_module("hooks")
    assets: set[str] = set()
    text = ("See [the figures](BENCHMARKS.md#compare), ![demo](docs/images/demo.png), "
            "![grid](benchmarks/figures/compare_synthetic.png), [web](https://example.org) and [here](#top).")
    assert hooks.root_page(text, assets) == (
        "See [the figures](benchmarks.md#compare), ![demo](images/demo.png), "
        "![grid](benchmarks/figures/compare_synthetic.png), [web](https://example.org) and [here](#top)."
    )
    assert assets == {"benchmarks/figures/compare_synthetic.png"}
    pages = hooks.api_pages()
    assert all(f"::: {module}\n" in pages[f"api/{module}.md"] for module in hooks.API_PAGES)


def test_doctest_examples_become_code_blocks() -> None:
    pytest.importorskip("griffe", reason="the docs extra is not installed: pip install 'depthzoo[docs]'")
    fence = load_docs_module("griffe_doctest").fence_doctests
    text = "Intro.\n\n>>> 1 + 1\n2\n\nArgs:\n    x: y.\n\n    >>> f(\n    ... )\n\n```\n>>> kept\n```"
    assert fence(text) == (
        "Intro.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nArgs:\n    x: y.\n\n    ```pycon\n    >>> f(\n    ... )\n    ```"
        "\n\n```\n>>> kept\n```"
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DEPTHZOO_DOCS_SITE")
    if given:
        return Path(given)
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install 'depthzoo[docs]'")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    return out


def test_the_built_site_loads_in_a_browser_without_console_errors(site: Path) -> None:
    chromium()
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
            page.goto(f"{url}/", wait_until="networkidle")
            assert "depthzoo" in page.title() and page.locator("img[src*='demo.png']").count() == 1
            page.goto(f"{url}/api/depthzoo.geometry/", wait_until="networkidle")
            assert page.locator("[id='depthzoo.geometry.depth_to_points']").count() == 1
            examples = page.locator("pre").all_inner_texts()  # the docstring's doctest, shown as code
            assert any(">>> depth = np.full((2, 3), 2.0)" in text for text in examples)
            page.goto(f"{url}/model-zoo/", wait_until="networkidle")
            assert page.locator("td code", has_text="fast_upproj").count() >= 1
            browser.close()
    finally:
        server.shutdown()
    assert problems == []
