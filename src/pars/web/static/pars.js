// Comfort only: every page works without it.
// Forms with data-confirm ask before sending (e.g. terminating an agreement).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
// Elements with data-countdown="<ISO instant>" show the time left until then.
function countdowns() {
  for (const el of document.querySelectorAll("[data-countdown]")) {
    const ms = Date.parse(el.getAttribute("data-countdown")) - Date.now();
    if (Number.isNaN(ms)) continue;
    if (ms <= 0) { el.textContent = "expired"; continue; }
    const days = Math.floor(ms / 86400000), hours = Math.floor((ms % 86400000) / 3600000);
    const minutes = Math.floor((ms % 3600000) / 60000);
    el.textContent = days > 0 ? `${days} d ${hours} h left` : `${hours} h ${minutes} min left`;
  }
}
document.addEventListener("DOMContentLoaded", () => { countdowns(); setInterval(countdowns, 60000); });

// A form shown again with errors: focus moves to its error summary, which is read out first and
// links to each field (the summary is `.error-summary`, or the records pages' `.error[role=alert]`).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("main .error-summary, main .error[role='alert']");
  if (!summary) return;
  if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
  summary.focus();
});

// The idle lock (30 minutes without a page): two minutes before it, a warning offers to stay
// signed in. It asks the server first, since another tab may have kept the session alive.
const WARN_BEFORE = 120;
function watchIdle() {
  const total = Number(document.body.dataset.idleSeconds);
  const box = document.getElementById("idle-warning");
  if (!total || !box) return;
  const left = box.querySelector("[data-idle-left]");
  const stay = box.querySelector("[data-stay-signed-in]");
  let timer = null, tick = null;
  function schedule(seconds) {
    clearTimeout(timer); clearInterval(tick);
    box.hidden = true;
    timer = setTimeout(check, Math.max(0, seconds - WARN_BEFORE) * 1000);
  }
  async function check() {
    let seconds = WARN_BEFORE;
    try {
      seconds = (await (await fetch("/session", { credentials: "same-origin" })).json()).seconds_left;
    } catch (error) { /* offline: warn anyway */ }
    if (seconds > WARN_BEFORE + 5) schedule(seconds); else warn(seconds);
  }
  function warn(seconds) {
    const end = Date.now() + seconds * 1000;
    box.hidden = false;
    stay.focus();
    const show = () => {
      const s = Math.max(0, Math.round((end - Date.now()) / 1000));
      left.textContent = s > 60 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
      if (s === 0) locked();
    };
    show();
    tick = setInterval(show, 1000);
  }
  function locked() {
    clearInterval(tick);
    box.hidden = false;
    box.querySelector("h2").textContent = "Your session has locked";
    box.querySelector("p").textContent =
      "Sign in again to go on. What you typed on this page is kept: send the form and sign in, and it comes back.";
    stay.hidden = true;
  }
  stay.addEventListener("click", async () => {
    const body = new FormData();
    body.append("csrf", document.querySelector('input[name="csrf"]')?.value || "");
    try {
      const reply = await fetch("/session/keepalive", { method: "POST", body, credentials: "same-origin" });
      const seconds = (await reply.json()).seconds_left;
      if (reply.ok) schedule(seconds); else locked();
    } catch (error) { locked(); }
  });
  schedule(total);
}
document.addEventListener("DOMContentLoaded", watchIdle);

// A form sent after the lock: the server sends the browser to sign in, then back to the page the
// form was on. The draft kept here (this tab only) while a form is sent puts the typed values
// back on that page; any other page load discards it, and signing out clears it.
const DRAFT = "pars-draft";
const SKIPPED = new Set(["hidden", "password", "submit", "button", "reset", "file", "image"]);
const draftable = (form) => [...form.elements].filter((el) => el.name && !SKIPPED.has(el.type) && !el.disabled);
document.addEventListener("submit", (event) => {
  const form = event.target;
  const action = form.getAttribute("action") || "";
  if (action === "/signout") { sessionStorage.removeItem(DRAFT); return; }
  if (event.defaultPrevented || form.method.toLowerCase() !== "post" || location.pathname.startsWith("/signin")) return;
  const values = draftable(form).map((el) =>
    [el.name, el.type === "checkbox" || el.type === "radio" ? (el.checked ? el.value : null) : el.value]);
  sessionStorage.setItem(DRAFT, JSON.stringify({ page: location.pathname + location.search, action, values }));
});
function restoreDraft() {
  const draft = JSON.parse(sessionStorage.getItem(DRAFT) || "null");
  if (!draft) return;
  if (location.pathname.startsWith("/signin")) {
    if (!draft.signingIn) sessionStorage.setItem(DRAFT, JSON.stringify({ ...draft, signingIn: true }));
    return;
  }
  sessionStorage.removeItem(DRAFT);
  if (!draft.signingIn || draft.page !== location.pathname + location.search) return;
  const form = [...document.querySelectorAll("form")].find((f) => (f.getAttribute("action") || "") === draft.action);
  if (!form) return;
  const fields = draftable(form);
  draft.values.forEach(([name, value], i) => {
    const el = fields[i];
    if (!el || el.name !== name) return;
    if (el.type === "checkbox" || el.type === "radio") el.checked = value !== null;
    else el.value = value;
  });
  const note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.tabIndex = -1;
  note.textContent = "You were signed out while filling in this form. What you typed is back: check it and send it again.";
  form.before(note);
  note.focus();
}
document.addEventListener("DOMContentLoaded", restoreDraft);

// Lists on a phone: a table that its template did not mark `stack` gets its column headings as
// each cell's label and the class, so that under 640 px its rows become cards (pars.css) instead
// of scrolling sideways. Without script such a table scrolls inside its box, as before.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("main table:not(.stack):not(.keep-columns)")) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!heads.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => {
        if (!cell.hasAttribute("data-label") && heads[i]) cell.setAttribute("data-label", heads[i]);
      });
    }
    table.classList.add("stack");
  }
});
