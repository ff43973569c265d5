"""The whole wizard in headless Chromium: upload, pairs, an edit, training, loss plot, report, chat, share;
and the share demo, behind its request guard, logging in and answering.

    .venv/bin/python -m pytest tests/e2e/test_browser.py -q        # needs Debian's chromium + chromium-driver

Drives Debian's Chromium through Selenium and /usr/bin/chromedriver (scripts/install-browser.sh
installs both); skips with a reason when they are missing. A screenshot of every step is saved
to ``$DAB_ARTIFACTS_DIR`` (default: a pytest tmp folder, printed at the end). The project trains
the tiny test model; ``DAB_E2E_BASE_MODEL=bundled`` runs the same steps with the bundled model
(a few minutes; that is how the README screenshots are made).
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from builder.project import Project
from builder.templates import sample_documents

from ..support import free_port, make_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WAIT_S = 60


@pytest.fixture()
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed (run scripts/install-browser.sh as root)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1100", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


@pytest.fixture()
def wizard_url(tmp_path, tiny_model_dir):
    from ui.app import launch

    project = Project.create(tmp_path / "projects" / "cycle-commons")
    cfg = project.load_config()
    cfg.train.base_model = os.environ.get("DAB_E2E_BASE_MODEL") or str(tiny_model_dir)
    cfg.chat.max_new_tokens = 40
    if cfg.train.base_model != str(tiny_model_dir):  # a real model (README screenshots): keep it short
        cfg.train.micro_batch, cfg.train.max_seq_tokens, cfg.pairs.eval_fraction = 1, 256, 0.03
        cfg.train.eval_every_steps = cfg.train.checkpoint_every_steps = 4
    project.save_config(cfg)
    app, url = launch(project=project.root, port=free_port(), block=False)
    yield url, project
    app.close()


@pytest.fixture()
def artifacts(tmp_path) -> Path:
    folder = Path(os.environ.get("DAB_ARTIFACTS_DIR") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Page:
    """Small helpers over the Selenium driver for this app."""

    def __init__(self, driver, artifacts: Path):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.artifacts, self.By = driver, artifacts, By
        self.wait = WebDriverWait(driver, WAIT_S)

    def css(self, selector: str):
        return self.wait.until(lambda d: d.find_element(self.By.CSS_SELECTOR, selector))

    def button(self, text: str):
        xpath = f"//button[starts-with(normalize-space(), '{text}')]"
        return self.wait.until(lambda d: next((b for b in d.find_elements(self.By.XPATH, xpath) if b.is_displayed()), None))

    def open_tab(self, label: str):
        xpath = f"//button[@role='tab'][contains(normalize-space(), '{label}')]"
        tab = self.wait.until(lambda d: next((t for t in d.find_elements(self.By.XPATH, xpath)
                                              if t.is_enabled() and t.get_attribute("aria-disabled") != "true"), None))
        tab.click()

    def text_of(self, selector: str) -> str:
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector)

    def text_appears(self, selector: str, text: str, timeout_s: float = WAIT_S) -> str:
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout_s).until(lambda d: text in self.text_of(selector))
        return self.text_of(selector)

    def shot(self, name: str, focus: str | None = None) -> Path:
        if focus:
            self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", focus)
            time.sleep(0.3)
        path = self.artifacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


def test_wizard_in_a_real_browser(browser, wizard_url, artifacts):
    url, project = wizard_url
    page = Page(browser, artifacts)
    browser.get(url)
    page.text_appears("#progress", "0 of 5 steps done")
    page.shot("00-start")

    try:
        upload_documents(page)
        generate_and_edit_pairs(page, project)
        train_and_see_the_loss(page)
        chat_and_see_it_stream(page)
        page.open_tab("Share")
        page.text_appears("#share-status", "No demo is running")
        page.shot("05-share")
    except Exception:
        print(f"failure screenshot: {page.shot('failure')}")
        raise
    print(f"screenshots in {artifacts}")
    assert len(list(artifacts.glob("0[0-5]-*.png"))) == 6


def upload_documents(page: Page) -> None:
    files = page.driver.find_element(page.By.CSS_SELECTOR, "input[type=file]")
    files.send_keys("\n".join(str(p) for p in sample_documents()))
    page.text_appears("body", "staff-handbook")  # the upload widget lists the chosen files
    page.button("Add documents").click()
    page.text_appears("#documents-table", "terms-of-membership.pdf")
    page.text_appears("#progress", "1 of 5 steps done")
    page.shot("01-documents")


def generate_and_edit_pairs(page: Page, project: Project) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page.open_tab("Pairs")
    page.button("Generate pairs").click()
    page.text_appears("#pairs-table", "pending")
    cell = page.css("#pairs-table [data-testid='cell-0-3']")  # first row, answer column
    edited = page.text_of("#pairs-table [data-testid='cell-0-3']").strip() + " (checked by staff)"
    ActionChains(page.driver).double_click(cell).perform()
    editor = page.css("#pairs-table textarea[aria-label='Edit cell']")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(edited, Keys.ENTER)
    page.button("Save my edits").click()
    page.wait.until(lambda d: any(p.answer == edited and p.status == "edited" for p in project.pairs()))
    page.text_appears("#pairs-table", "(checked by staff)")
    page.shot("02-pairs", focus="#pairs-table")


def train_and_see_the_loss(page: Page) -> None:
    page.open_tab("Train")
    page.button("Advanced settings").click()
    steps = page.wait.until(lambda d: next((e for e in d.find_elements(page.By.XPATH, "//label[contains(., 'Max steps')]//input")
                                            if e.is_displayed()), None))
    steps.clear()
    steps.send_keys("4")
    page.button("Start training").click()
    page.text_appears("#train-status", "completed", timeout_s=600)
    page.wait.until(lambda d: d.find_elements(page.By.CSS_SELECTOR, "#loss-plot canvas, #loss-plot svg"))
    time.sleep(2.5)  # one more poll so the plot holds the eval point too
    page.shot("03-train", focus="#train-status")


def chat_and_see_it_stream(page: Page) -> None:
    page.open_tab("Evaluate")
    page.button("Evaluate on held-out questions").click()
    page.text_appears("#report-table", "token_f1", timeout_s=600)
    box = page.css("#chat-input textarea")
    page.driver.execute_script("""
        window.__lengths = [];
        const target = document.querySelector('#chat-tuned');
        new MutationObserver(() => window.__lengths.push(target.innerText.length))
            .observe(target, {subtree: true, childList: true, characterData: true});""")
    box.send_keys("How much does a day pass cost?")
    page.button("Send").click()
    page.wait.until(lambda d: d.find_elements(page.By.CSS_SELECTOR, "#chat-base .message, #chat-base [data-testid='bot']"))
    page.text_appears("#chat-tuned", "How much does a day pass cost?")
    time.sleep(2)
    lengths = page.driver.execute_script("return window.__lengths")
    assert len(set(lengths)) > 3, f"the answer did not stream: {lengths}"
    page.text_appears("#chat-tuned", "Source 1: fees-and-passes.html")  # its sources, under the answer
    page.shot("04-chat", focus="#chat-tuned")


def test_demo_in_a_real_browser(browser, tmp_path, tiny_model_dir, tiny_adapter, artifacts):
    """The demo refuses file and upload routes and foreign Host headers; its page still logs in and chats."""
    from selenium.webdriver.common.keys import Keys

    from ui.steps.share import start_demo, stop_demo

    project = Project.create(tmp_path / "projects" / "demo")
    cfg = project.load_config()
    cfg.train.base_model, cfg.chat.max_new_tokens = str(tiny_model_dir), 8
    project.save_config(cfg)
    info = start_demo(project, make_run(project, tiny_adapter), "correct-horse-battery", False, 10)
    page = Page(browser, artifacts)
    try:
        browser.get(info["local_url"])
        page.css("input[type=password]")
        username = next(e for e in browser.find_elements(page.By.CSS_SELECTOR, "input, textarea")
                        if e.is_displayed() and e.get_attribute("type") != "password")
        username.send_keys("demo")
        page.css("input[type=password]").send_keys("correct-horse-battery", Keys.ENTER)
        box = page.css("textarea")
        box.send_keys("Where can I park a cargo bike?", Keys.ENTER)
        page.wait.until(lambda d: d.find_elements(page.By.CSS_SELECTOR, "[data-testid='bot']"))
        page.wait.until(lambda d: page.text_of("[data-testid='bot']").strip())
        page.shot("06-demo")
    except Exception:
        print(f"failure screenshot: {page.shot('demo-failure')}")
        raise
    finally:
        stop_demo(project)
