#!/usr/bin/env python3
"""The host owners' page (crates/core/src/ddns/page.rs) in a real browser:
Debian's headless chromium driven by its chromium-driver through selenium,
against the function URL of the real bootstrap (tests/browser.rs starts it
behind `cargo lambda watch`, with the strict moto behind it).

One line per step, then `N passed, M failed`; the exit status is 1 when a
step failed (the steps after it are not run: each needs the one before).
Writes OUT/page-360.png and OUT/page-1280.png: the signed-in page after its
change is in sync, at 360 and 1280 CSS pixels wide.

    PAGE_SECRET=... page.py --url http://127.0.0.1:PORT/lambda-url/_/ \
        --login router --host home.corp.example --record 198.51.100.20 \
        --moto http://127.0.0.1:5301 --out target
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback
import urllib.request
from typing import Any, Callable

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


class Failed(Exception):
    """A step's check that did not hold."""


def check(condition: Any, what: str) -> None:
    if not condition:
        raise Failed(what)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the function URL (ends with /)")
    parser.add_argument("--login", required=True, help="the host's dyndns2 login")
    parser.add_argument("--host", required=True, help="the host the login opens")
    parser.add_argument("--record", required=True, help="the host's A record before the test")
    parser.add_argument("--moto", required=True, help="the strict moto launcher (its control endpoint)")
    parser.add_argument("--out", default="target", help="where the screenshots go")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    args.secret = os.environ.get("PAGE_SECRET", "")
    if not args.secret:
        parser.error("PAGE_SECRET (the host's secret) is not set")
    return args


def moto_control(moto: str, method: str, path: str, body: dict | None = None) -> Any:
    """The strict launcher's control endpoint (tests/emulator/strict_moto.py)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(moto.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


class Page:
    """The browser, and what it saw on the network (chromedriver's performance log)."""

    def __init__(self, args: argparse.Namespace) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,800", "--no-first-run", "--password-store=basic"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=args.chromedriver))
        self.driver.set_page_load_timeout(60)
        self.url = args.url
        self.documents: list[dict[str, Any]] = []
        self.redirects: list[dict[str, Any]] = []
        self.extra: dict[str, dict[str, str]] = {}

    def quit(self) -> None:
        self.driver.quit()

    def width(self, metrics: dict[str, Any]) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)

    def find(self, css: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[Any]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        """The first match's rendered text, read in one script call (no element
        goes stale between finding it and reading it while a page loads)."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : ''", css)

    def wait(self, what: str, condition: Callable[[Any], Any], seconds: float = 30) -> Any:
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.2,
                                 ignored_exceptions=[StaleElementReferenceException]).until(condition)
        except TimeoutException:
            raise Failed(f"{what}: not after {seconds:.0f} s; the page says {self.text('main')!r}") from None

    def wait_heading(self, heading: str) -> None:
        self.wait(f"the heading {heading!r}", lambda d: self.text("h1") == heading)

    def drain(self) -> None:
        """The documents loaded since the last call, with their status and headers."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.responseReceived" and params.get("type") == "Document":
                response = params["response"]
                self.documents.append({
                    "id": params.get("requestId"),
                    "url": response["url"],
                    "status": response["status"],
                    "headers": {k.lower(): v for k, v in response.get("headers", {}).items()},
                })
            elif message.get("method") == "Network.requestWillBeSent" and "redirectResponse" in params:
                response = params["redirectResponse"]
                self.redirects.append({"from": response["url"], "status": response["status"],
                                       "to": params["request"]["url"]})
            elif message.get("method") == "Network.responseReceivedExtraInfo":
                self.extra[params.get("requestId", "")] = {
                    k.lower(): v for k, v in params.get("headers", {}).items()}

    def last_document(self) -> dict[str, Any]:
        self.drain()
        check(self.documents, "no document was loaded")
        return self.documents[-1]

    def no_horizontal_scroll(self) -> str:
        scroll, inner = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        check(scroll <= inner, f"scrolls sideways: scrollWidth {scroll} > innerWidth {inner}")
        return f"scrollWidth {scroll} <= innerWidth {inner}"

    def controls_labelled(self) -> int:
        """Every visible input has a <label for> (or aria-label), every button its words."""
        unlabelled = self.driver.execute_script("""
            const bad = [];
            for (const i of document.querySelectorAll('input:not([type=hidden])')) {
              const label = i.id && document.querySelector('label[for="' + CSS.escape(i.id) + '"]');
              if (!(label && label.textContent.trim()) && !i.getAttribute('aria-label')) bad.push(i.outerHTML);
            }
            for (const b of document.querySelectorAll('button'))
              if (!b.textContent.trim() && !b.getAttribute('aria-label')) bad.push(b.outerHTML);
            return bad;""")
        check(not unlabelled, f"controls without a label: {unlabelled}")
        return len(self.finds("input:not([type=hidden]), button"))

    def records(self) -> str:
        return self.text("section dd.records")

    def screenshot(self, metrics: dict[str, Any], path: str) -> None:
        """The whole page at `metrics`' width (its height grown to the page's)."""
        self.width(metrics)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.width({**metrics, "height": max(metrics["height"] // 2, int(height))})
        self.driver.get_screenshot_as_file(path)
        self.width(metrics)


def run(args: argparse.Namespace) -> int:
    os.makedirs(args.out, exist_ok=True)
    page = Page(args)
    results = {"passed": 0, "failed": 0, "not run": 0}
    state: dict[str, Any] = {}

    def step(name: str, body: Callable[[], str]) -> None:
        if results["failed"]:
            results["not run"] += 1
            return
        try:
            said = body()
        except Exception as error:  # noqa: BLE001: every failure is reported as the step's
            results["failed"] += 1
            detail = str(error) if isinstance(error, Failed) else traceback.format_exc()
            print(f"{name}: FAILED: {detail}", flush=True)
            return
        results["passed"] += 1
        print(f"{name}: {said}", flush=True)

    def sign_in(secret: str) -> None:
        page.find("#login").clear()
        page.find("#login").send_keys(args.login)
        page.find("#secret").clear()
        page.find("#secret").send_keys(secret)
        page.find("form.signin button[type=submit]").click()

    def sign_in_page() -> str:
        page.width(PHONE)
        page.driver.get(args.url)
        page.wait_heading("Sign in")
        doc = page.last_document()
        check(doc["status"] == 200, f"status {doc['status']}")
        labelled = page.controls_labelled()
        return f"{labelled} controls, each labelled; {page.no_horizontal_scroll()} at 360 px"

    def wrong_secret() -> str:
        sign_in(args.secret[::-1] + "x")
        page.wait("the refusal", lambda d: "The login or the secret is wrong." in page.text("main"))
        doc = page.last_document()
        check(doc["status"] == 401, f"status {doc['status']}, not 401")
        check(page.text("h1") == "Sign in", "not the sign-in form again")
        check(not page.driver.get_cookies(), f"cookies kept: {page.driver.get_cookies()}")
        return "refused (401 page: 'The login or the secret is wrong.'), no cookie"

    def right_secret() -> str:
        sign_in(args.secret)
        page.wait_heading("Your hosts")
        doc = page.last_document()
        check(doc["status"] == 200, f"status {doc['status']}")
        check(doc["url"].rstrip("/") == args.url.rstrip("/"), f"landed on {doc['url']}, not the page")
        check(any(r["status"] == 303 and r["from"].endswith("/signin") and r["to"] == doc["url"]
                  for r in page.redirects), f"no 303 from signin to the page: {page.redirects}")
        cookies = {c["name"]: c for c in page.driver.get_cookies()}
        session = cookies.get("ec2ddns_session")
        check(session, f"no session cookie kept: {list(cookies)}")
        check(session.get("httpOnly") is True, f"not HttpOnly: {session}")
        check(session.get("secure") is True, f"not Secure: {session}")
        check(session.get("sameSite") == "Strict", f"not SameSite=Strict: {session}")
        check(args.secret not in session["value"], "the secret is in the cookie")
        seen = page.driver.execute_script("return document.cookie")
        check("ec2ddns_session" not in seen, f"a script reads the session: {seen!r}")
        return ("accepted (303 to the hosts); the session cookie kept HttpOnly, Secure, "
                "SameSite=Strict, unreadable by script")

    def host_and_record() -> str:
        sections = page.finds("section")
        names = [s.find_element(By.CSS_SELECTOR, "h2").text for s in sections]
        check(names == [args.host], f"hosts shown: {names}, not [{args.host}]")
        records = page.records()
        check(records == f"A {args.record}", f"records {records!r}, not 'A {args.record}'")
        source = page.text("#source")
        check(source, "the request's address is not shown")
        state["source"] = source
        button = page.find(f"#set-here-{args.host.replace('.', '-')}")
        check(button.text == f"Set to this address ({source})", f"the button says {button.text!r}")
        return f"{names[0]}, records now {records!r}, your address {source}"

    def signed_in_phone() -> str:
        page.width(PHONE)
        labelled = page.controls_labelled()
        summary = page.find("details summary")
        summary.click()
        check(page.find("details").get_attribute("open") is not None, "the last updates did not open")
        return f"{labelled} controls, each labelled; {page.no_horizontal_scroll()} (last updates open)"

    def headers() -> str:
        doc = page.last_document()
        got = {**doc["headers"], **page.extra.get(doc["id"], {})}
        for name, value in HEADERS.items():
            check(got.get(name) == value, f"{name}: {got.get(name)!r}, not {value!r}")
        csp = got.get("content-security-policy", "")
        nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
        check(nonce and "unsafe-inline" not in csp and "default-src 'none'" in csp
              and "frame-ancestors 'none'" in csp, f"CSP {csp!r}")
        script_nonce = page.driver.execute_script("return document.scripts[0].nonce")
        check(script_nonce == nonce.group(1), "the page's script does not carry the header's nonce")
        return "CSP (default-src 'none', a nonce, frame-ancestors 'none'), " + ", ".join(
            f"{n} {v}" for n, v in HEADERS.items())

    def injected_script() -> str:
        outcome = page.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            let violated = '';
            document.addEventListener('securitypolicyviolation', e => { violated = e.violatedDirective; });
            const s = document.createElement('script');
            s.textContent = 'window.__injected = 1';
            document.body.appendChild(s);
            setTimeout(() => done([window.__injected === 1, violated]), 300);""")
        check(outcome[0] is False, "an injected inline script ran")
        check(outcome[1].startswith("script-src"), f"no CSP violation reported: {outcome[1]!r}")
        return f"blocked by the CSP ({outcome[1]})"

    def forged() -> str:
        page.driver.execute_script("""
            const f = document.createElement('form');
            f.method = 'post'; f.action = 'set';
            const h = document.createElement('input');
            h.type = 'hidden'; h.name = 'host'; h.value = arguments[0];
            f.appendChild(h); document.body.appendChild(f); f.submit();""", args.host)
        page.wait_heading("Refused")
        doc = page.last_document()
        check(doc["status"] == 403, f"status {doc['status']}, not 403")
        check("security token is missing or wrong" in page.text("main"), page.text("main"))
        page.driver.get(args.url)
        page.wait_heading("Your hosts")
        records = page.records()
        check(records == f"A {args.record}", f"the record changed: {records!r}")
        return f"refused (403 'Refused' page), the record still {records!r}"

    def set_here() -> str:
        moto_control(args.moto, "POST", "/_ec2ddns/route53-changes", {"pending_reads": 2})
        page.find(f"#set-here-{args.host.replace('.', '-')}").click()
        page.wait("the update's notice", lambda d: d.find_elements(By.CSS_SELECTOR, "#propagation"))
        doc = page.last_document()
        check(doc["status"] == 200, f"status {doc['status']}")
        notice = page.text("p.notice")
        source = state["source"]
        check(notice == f"{args.host} has been updated to {source}", f"notice {notice!r}")
        records = page.records()
        check(records == f"A {source}", f"records now {records!r}, not 'A {source}'")
        propagation = page.find("#propagation")
        state["change"] = propagation.get_attribute("data-change")
        check(propagation.text.startswith("Propagating to Route 53"), f"{propagation.text!r}")
        return f"{notice!r}, records now {records!r}, {propagation.text!r}"

    def in_sync() -> str:
        said = page.wait("'In sync after'", lambda d: (
            lambda t: t if t.startswith("In sync after") else False)(page.text("#propagation")), 90)
        check("ok" in page.find("#propagation").get_attribute("class"), "not shown as done")
        changes = moto_control(args.moto, "GET", "/_ec2ddns/route53-changes")["changes"]
        bare = (state["change"] or "").rsplit("/", 1)[-1]
        reads = [c["reads"] for c in changes if c["id"] == bare]
        check(reads == [["PENDING", "PENDING", "INSYNC"]], f"GetChange of {bare} answered {reads}")
        return f"{said!r} (GetChange answered PENDING, PENDING, INSYNC)"

    def screenshots() -> str:
        if page.find("details").get_attribute("open") is None:
            page.find("details summary").click()
        page.width(PHONE)
        phone = page.no_horizontal_scroll()
        shots = []
        for metrics, name in ((PHONE, "page-360.png"), (DESKTOP, "page-1280.png")):
            path = os.path.join(args.out, name)
            page.screenshot(metrics, path)
            check(os.path.getsize(path) > 1000, f"{path} is empty")
            shots.append(path)
        return f"{' and '.join(shots)} written; {phone} at 360 px"

    def sign_out() -> str:
        page.find("header form button[type=submit]").click()
        page.wait_heading("Sign in")
        check(not page.driver.get_cookies(), f"cookies kept: {page.driver.get_cookies()}")
        page.driver.get(args.url)
        page.wait_heading("Sign in")
        return "back to the sign-in form, the cookie gone, the page signed out"

    try:
        step("sign-in page at 360 px", sign_in_page)
        step("sign-in with a wrong secret", wrong_secret)
        step("sign-in with the right secret", right_secret)
        step("the host and its record", host_and_record)
        step("signed-in page at 360 px", signed_in_phone)
        step("the page's headers, as the browser got them", headers)
        step("an inline script injected into the page", injected_script)
        step("a forged set without the CSRF token", forged)
        step("'set to this address' clicked", set_here)
        step("then", in_sync)
        step("screenshots of the signed-in page", screenshots)
        step("sign-out", sign_out)
    finally:
        try:
            moto_control(args.moto, "POST", "/_ec2ddns/route53-changes", {"pending_reads": 0})
        finally:
            page.quit()
    skipped = f", {results['not run']} not run" if results["not run"] else ""
    print(f"{results['passed']} passed, {results['failed']} failed{skipped}", flush=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(run(arguments()))
