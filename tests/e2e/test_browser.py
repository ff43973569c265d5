"""The whole wizard in headless Chromium: upload, pairs (an edit kept through a refused save, a pair
moved to evaluation, a replacement confirmed), training, loss plot, report, chat, "pairs changed
since this model was trained", share; the share demo, behind its request guard, logging in and answering;
and a teacher endpoint (``dab serve`` on 127.0.0.1) set up with Test connection and generated with.

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

from ..support import depot_project, free_port, make_run, start_dab_serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WAIT_S = 60
EXAMPLE_QUESTIONS = ["Where can I park a cargo bike?", "When does the depot open?", "Who repairs flat tyres?"]


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
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads"),
                                              "download.prompt_for_download": False})
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
        evaluate_and_download_the_report(page, project.root.parent.parent / "downloads")
        chat_and_see_it_stream(page)
        page.open_tab("Pairs")
        move_a_pair(page, project, row=2)
        page.text_appears("#progress", "pairs changed since this model was trained")
        switch_project_and_back(page)
        page.open_tab("Share")
        page.text_appears("#share-status", "No demo is running")
        page.shot("05-share")
    except Exception:
        print(f"failure screenshot: {page.shot('failure')}")
        raise
    print(f"screenshots in {artifacts}")
    assert len(list(artifacts.glob("0[0-5]-*.png"))) == 7


def upload_documents(page: Page) -> None:
    files = page.driver.find_element(page.By.CSS_SELECTOR, "input[type=file]")
    files.send_keys("\n".join(str(p) for p in sample_documents()))
    page.text_appears("body", "staff-handbook")  # the upload widget lists the chosen files
    page.button("Add documents").click()
    page.text_appears("#documents-table", "terms-of-membership.pdf")
    page.text_appears("#progress", "1 of 5 steps done")
    page.shot("01-documents")


def cell(page: Page, row: int, column: int) -> str:
    return f"#pairs-table [data-testid='cell-{row}-{column}']"


def type_into_cell(page: Page, row: int, column: int, text: str) -> None:
    """Double-click a cell of the pairs table, replace its text, press Enter."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(10):  # a double click while the table is still updating may not open the editor
        ActionChains(page.driver).double_click(page.css(cell(page, row, column))).perform()
        editors = page.driver.find_elements(page.By.CSS_SELECTOR, "#pairs-table textarea[aria-label='Edit cell']")
        if editors:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"cell {row},{column} of the pairs table did not open for editing")
    editor = editors[0]
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(text, Keys.ENTER)


def generate_and_edit_pairs(page: Page, project: Project) -> None:
    """Generate; a status cannot be typed and an emptied question refuses the save without losing
    the other edit; a clicked pair shows its passage and moves to evaluation; replacing asks first."""
    from selenium.webdriver.common.action_chains import ActionChains

    page.open_tab("Pairs")
    page.button("Generate pairs").click()
    page.text_appears("#pairs-table", "pending")
    page.text_appears("#pairs-coverage", "informative statements")
    edited = page.text_of(cell(page, 0, 4)).strip() + " (checked by staff)"
    type_into_cell(page, 0, 4, edited)
    ActionChains(page.driver).double_click(page.css(cell(page, 1, 1))).send_keys("Reject").perform()
    assert not page.driver.find_elements(page.By.CSS_SELECTOR, "#pairs-table textarea[aria-label='Edit cell']"), \
        "the status column takes no typing: status changes through buttons"
    question = page.text_of(cell(page, 2, 3)).strip()
    type_into_cell(page, 2, 3, "")
    before = (project.root / "pairs.jsonl").read_bytes()
    page.button("Save my edits").click()
    refused = page.text_appears("#pairs-notice", "Nothing was saved")
    assert "row 3" in refused and "question cannot be empty" in refused and "row 1" not in refused
    assert (project.root / "pairs.jsonl").read_bytes() == before
    assert "(checked by staff)" in page.text_of("#pairs-table"), "the other edit is still in the table"
    assert page.text_of(cell(page, 1, 1)).strip() == "pending"
    type_into_cell(page, 2, 3, question)
    page.button("Save my edits").click()
    page.text_appears("#pairs-notice", "1 change(s) saved")
    page.wait.until(lambda d: any(p.answer == edited and p.status == "edited" for p in project.pairs()))
    page.shot("02-pairs", focus="#pairs-table")
    replace_after_confirming(page, project, edited, *move_a_pair(page, project))


def move_a_pair(page: Page, project: Project, row: int = 1) -> tuple[str, str]:
    """Click a pair: its passage shows with the evidence marked; move it to the other use. Returns
    (pair id, the split it moved to)."""
    pair_id = page.text_of(cell(page, row, 0)).strip()
    page.css(cell(page, row, 3)).click()
    page.text_appears("#pairs-detail", pair_id)
    assert "Source:" in page.text_of("#pairs-detail")
    assert page.driver.find_elements(page.By.CSS_SELECTOR, "#pairs-detail mark"), "the evidence is highlighted"
    use = "evaluation" if page.text_of(cell(page, row, 2)).strip() == "training" else "training"
    page.button(f"Use for {use}").click()
    page.text_appears("#pairs-notice", "held out for evaluation" if use == "evaluation" else "used for training")
    page.wait.until(lambda d: page.text_of(cell(page, row, 2)).strip() == use)
    split = "eval" if use == "evaluation" else "train"
    assert next(p for p in project.pairs() if p.id == pair_id).split == split
    return pair_id, split


def replace_after_confirming(page: Page, project: Project, edited: str, moved: str, split: str) -> None:
    page.css("#pairs-replace input[type=checkbox]").click()
    page.button("Generate pairs").click()
    asked = page.text_appears("#pairs-confirm-text", "unreviewed pairs?")
    going = sum(p.status == "pending" and not p.split for p in project.pairs())
    assert f"Replace {going} unreviewed pairs?" in asked
    page.shot("02b-replace", focus="#pairs-confirm-text")
    page.button("Replace them and generate").click()
    page.text_appears("#pairs-generated", f"{going} unreviewed pairs replaced")
    kept = {p.id: p for p in project.pairs()}
    assert any(p.answer == edited for p in kept.values()) and kept[moved].split == split, "reviewed pairs stay"
    page.css("#pairs-replace input[type=checkbox]").click()


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
    page.shot("03-train", focus="#loss-plot")


def evaluate_and_download_the_report(page: Page, downloads: Path) -> None:
    """The verdict comes first, the charts stay legible in an 800 px window, the report downloads."""
    page.open_tab("Evaluate")
    page.button("Evaluate on held-out questions").click()
    page.text_appears("#report-verdict", "The tuned model answered", timeout_s=600)
    page.text_appears("#report-table", "right facts")
    assert "What the measures mean" in page.text_of("#report-glossary")
    page.driver.set_window_size(800, 1100)
    time.sleep(1)
    widths = page.driver.execute_script(
        "return [...document.querySelectorAll('.report-chart')].map(e => e.getBoundingClientRect().width)")
    assert len(widths) == 3 and min(widths) >= 300, widths  # one per measure, wrapped rather than squeezed
    page.shot("04-report", focus="#report-verdict")
    page.driver.set_window_size(1400, 1100)
    page.css("#report-md").click()
    page.wait.until(lambda d: (downloads / "eval.md").is_file())
    assert (downloads / "eval.md").read_text().startswith("# Evaluation\n\nThe tuned model answered")


def chat_and_see_it_stream(page: Page) -> None:
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
    page.text_appears("#chat-tuned", "Sources (")  # its sources, in one collapsed box under the answer
    xpath = "//*[@id='chat-tuned']//*[starts-with(normalize-space(text()), 'Sources (')]"
    page.driver.execute_script("arguments[0].click()", page.driver.find_element(page.By.XPATH, xpath))
    page.text_appears("#chat-tuned", "Source 1: fees-and-passes.html")  # opened, the box lists them
    page.shot("04-chat", focus="#chat-tuned")


def switch_project_and_back(page: Page) -> None:
    """Another project shows its own (empty) views; coming back shows this one's report again."""
    new_name = page.css("textarea[placeholder='e.g. support-handbook'], input[placeholder='e.g. support-handbook']")
    new_name.send_keys("second")
    page.button("Create project").click()
    page.text_appears("#progress", "Project second")
    page.wait.until(lambda d: "day pass" not in page.text_of("#chat-tuned").lower())
    page.text_appears("#report-verdict", "No report yet")
    page.button("Delete project").click()
    page.button("Yes, delete it for good").click()
    page.text_appears("#progress", "Project cycle-commons")
    page.text_appears("#report-verdict", "The tuned model answered")


def test_demo_in_a_real_browser(browser, tmp_path, tiny_model_dir, tiny_adapter, artifacts):
    """The demo looks like the project's assistant (title, description, example questions from the
    evaluation), refuses file and upload routes and foreign Host headers, logs in and chats."""
    from selenium.webdriver.common.keys import Keys

    from builder.pairs.base import new_pair
    from builder.splits import Splits
    from ui.steps.share import start_demo, stop_demo

    project = Project.create(tmp_path / "projects" / "bike-depot")
    cfg = project.load_config()
    cfg.train.base_model, cfg.chat.max_new_tokens = str(tiny_model_dir), 8
    cfg.description = "Opening hours and parking at the depot."
    project.save_config(cfg)
    run = make_run(project, tiny_adapter)
    run.save_heldout(Splits(recall=[new_pair(q, "Behind the depot.", "test") for q in EXAMPLE_QUESTIONS]))
    info = start_demo(project, run, "correct-horse-battery", False, 10)
    page = Page(browser, artifacts)
    try:
        browser.get(info["local_url"])
        page.css("input[type=password]")
        username = next(e for e in browser.find_elements(page.By.CSS_SELECTOR, "input, textarea")
                        if e.is_displayed() and e.get_attribute("type") != "password")
        username.send_keys("demo")
        page.css("input[type=password]").send_keys("correct-horse-battery", Keys.ENTER)
        page.text_appears("h1", "Bike depot assistant")
        page.text_appears("body", "Opening hours and parking at the depot.")
        page.text_appears("body", EXAMPLE_QUESTIONS[0])  # the examples, from the evaluation questions
        assert "Evaluate" not in page.text_of("body") and "Train" not in page.text_of("body")  # nothing of the wizard
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


@pytest.fixture()
def served_teacher(tmp_path, tiny_model_dir, tiny_adapter):
    """The tiny random model served by ``dab serve`` on 127.0.0.1 as "teacher": a real OpenAI-compatible endpoint."""
    process, url = start_dab_serve(tmp_path, "teacher", tiny_model_dir, tiny_adapter)
    yield url
    process.terminate()
    process.wait(10)


def test_teacher_setup_in_a_real_browser(browser, served_teacher, tmp_path, artifacts):
    """Set up an endpoint teacher: a model name the endpoint does not serve is named; Test connection
    lists the served model, picks and saves it; generating with a teacher whose replies hold no pair list
    says so and leaves the pairs as they were."""
    from ui.app import launch

    project = depot_project(tmp_path / "depot")
    app, url = launch(project=project.root, port=free_port(), block=False)
    page = Page(browser, artifacts)
    try:
        browser.get(url)
        page.text_appears("#progress", "2 of 5 steps done")
        page.open_tab("Pairs")
        page.text_appears("#pairs-table", "pending")  # the page has loaded the project's settings
        choose(page, "#pairs-generator", "OpenAI-compatible endpoint")
        clear(page, "#teacher-base-url textarea, #teacher-base-url input")  # it suggests Ollama's address
        page.css("#teacher-base-url textarea, #teacher-base-url input").send_keys(served_teacher)
        clear(page, "#teacher-key-env textarea, #teacher-key-env input")  # a local server needs no key
        page.css("#teacher-api-model input").send_keys("other")
        page.button("Test connection").click()
        page.text_appears("#teacher-verdict", "does not serve a model named 'other'; it serves: teacher")
        clear(page, "#teacher-api-model input")
        page.button("Test connection").click()
        page.text_appears("#teacher-verdict", "1 model(s) served (teacher)")
        page.wait.until(lambda d: page.css("#teacher-api-model input").get_attribute("value") == "teacher")
        saved = project.load_config().pairs
        assert (saved.generator, saved.base_url, saved.api_model) == ("openai", served_teacher, "teacher")
        page.shot("02c-teacher", focus="#teacher-verdict")

        before = (project.root / "pairs.jsonl").read_bytes()
        page.button("Generate pairs").click()
        failed = page.text_appears("#pairs-generated", "Your pairs were not changed", timeout_s=180)
        assert "no usable pair for any of the 1 passages" in failed
        assert (project.root / "pairs.jsonl").read_bytes() == before
        assert "pending" in page.text_of("#pairs-table"), "the table still shows the pairs"
    except Exception:
        print(f"failure screenshot: {page.shot('teacher-failure')}")
        raise
    finally:
        app.close()


def choose(page: Page, dropdown: str, label: str) -> None:
    """Open a Gradio dropdown and click the option whose text holds ``label``."""
    page.css(f"{dropdown} input").click()
    xpath = f"//ul[@role='listbox']//li[contains(normalize-space(), '{label}')]"
    page.wait.until(lambda d: next((o for o in d.find_elements(page.By.XPATH, xpath) if o.is_displayed()), None)).click()
    page.wait.until(lambda d: page.css(f"{dropdown} input").get_attribute("value").startswith(label))


def clear(page: Page, selector: str) -> None:
    from selenium.webdriver.common.keys import Keys

    page.css(selector).send_keys(Keys.CONTROL, "a")
    page.css(selector).send_keys(Keys.DELETE)
