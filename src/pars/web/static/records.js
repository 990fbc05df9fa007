// Comfort for the records forms; each works without it (the server does the same on submit).
// - Statute fields (data-statute-search) are comboboxes: matching statutes from /catalog/statutes
//   as you type, ArrowDown/ArrowUp through every suggestion, Enter takes the one shown active, a
//   live region says how many match; choosing one offers that statute's grades, the usual first.
// - "Add a charge" and each row's "Remove" change the rows in place.
// - A page with errors puts the focus on its error summary.
(() => {
  const compact = (text) => text.replace(/\s+/g, "").replace(/\*$/, "").toUpperCase();

  async function search(text) {
    const reply = await fetch(`/catalog/statutes?q=${encodeURIComponent(text)}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!reply.ok) return [];
    return (await reply.json()).items;
  }

  function setGrades(input, item) {
    const select = document.getElementById(input.dataset.grade);
    const hint = document.getElementById(input.dataset.describe);
    if (hint) hint.textContent = item.description;
    if (!select) return;
    const current = select.value.toUpperCase();
    const rare = new Set(item.rare || []);
    select.replaceChildren(new Option("Grade…", ""));
    for (const grade of item.grades) {
      const words = rare.has(grade) ? `${grade} (rare for this offense)` : grade;
      select.add(new Option(words, grade, false, grade === current));
    }
    if (item.grades.length === 1) select.value = item.grades[0];
  }

  function attach(input) {
    if (input.dataset.attached) return;
    input.dataset.attached = "1";
    const field = input.closest(".field");
    const list = document.createElement("ul");
    list.className = "statute-results";
    list.id = `${input.id}-results`;
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching statutes");
    const status = document.createElement("p");
    status.className = "visually-hidden";
    status.id = `${input.id}-count`;
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    field.append(list, status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    let timer = null;
    let asked = "";
    let items = [];
    let active = -1;

    const options = () => Array.from(list.querySelectorAll('[role="option"]'));
    const activate = (index) => {
      const all = options();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const choose = (item) => { input.value = item.statute; setGrades(input, item); close(); };

    async function refresh() {
      const text = input.value.trim();
      asked = text;
      if (text.length < 2) { close(); status.textContent = ""; return; }
      const found = await search(text);
      if (asked !== text) return; // a newer keystroke is on its way
      items = found;
      list.replaceChildren();
      items.forEach((item, i) => {
        const option = document.createElement("li");
        option.id = `${list.id}-${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = `${item.statute} — ${item.description} (${item.grades.join(", ")})`;
        option.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
        option.addEventListener("click", () => { choose(item); document.getElementById(input.dataset.grade)?.focus(); });
        list.append(option);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      status.textContent = items.length
        ? `${items.length} statute${items.length === 1 ? "" : "s"} found; use the down arrow to go through them`
        : "No statute matches";
      list.hidden = !items.length;
      input.setAttribute("aria-expanded", String(!list.hidden));
      const exact = items.find((item) => compact(item.statute) === compact(text));
      if (exact) setGrades(input, exact);
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    input.addEventListener("blur", () => setTimeout(close, 150));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !list.hidden) { event.preventDefault(); close(); }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden && items.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (list.hidden) return;
        event.preventDefault();
        activate(event.key === "ArrowDown" ? active + 1 : (active < 0 ? -1 : active - 1));
      }
      if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(items[active]);
      }
    });
  }

  // --- charge rows added and removed in place -----------------------------------------------------

  const NUMBERED = /(charge_(?:statute|grade|counts))-\d+/g;

  function renumber(rows) {
    Array.from(rows.children).forEach((row, i) => {
      for (const element of row.querySelectorAll("*")) {
        for (const name of ["id", "for", "aria-describedby", "aria-controls", "aria-activedescendant", "data-grade", "data-describe"]) {
          const value = element.getAttribute(name);
          if (value) element.setAttribute(name, value.replace(NUMBERED, `$1-${i}`));
        }
        if (element.tagName === "LABEL" && element.htmlFor.startsWith("charge_statute-")) {
          element.textContent = `Charge ${i + 1}: statute`;
        }
        if (element.matches("[data-remove-charge]")) {
          element.value = `remove-${i}`;
          element.setAttribute("aria-label", `Remove charge ${i + 1}`);
        }
      }
    });
  }

  function blankRow(rows) {
    const row = rows.lastElementChild.cloneNode(true);
    for (const element of row.querySelectorAll(".field-error, .statute-results, [role=status], .lookup")) element.remove();
    for (const element of row.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
    for (const element of row.querySelectorAll("[aria-describedby]")) {
      const kept = element.getAttribute("aria-describedby").split(/\s+/).filter((id) => !id.endsWith("-error"));
      if (kept.length) element.setAttribute("aria-describedby", kept.join(" "));
      else element.removeAttribute("aria-describedby");
    }
    const statute = row.querySelector("input[data-statute-search]");
    for (const name of ["role", "aria-expanded", "aria-controls", "aria-autocomplete", "aria-activedescendant", "data-attached"]) {
      statute.removeAttribute(name);
    }
    statute.value = "";
    const hint = row.querySelector(".statute .hint");
    if (hint) hint.textContent = "";
    const select = row.querySelector("select");
    const all = (rows.dataset.allGrades || "").split(" ").filter(Boolean);
    if (select && all.length) {
      select.replaceChildren(new Option("Grade…", ""));
      for (const grade of all) select.add(new Option(grade, grade));
    } else if (select) {
      select.value = "";
    }
    const counts = row.querySelector('input[name="charge_counts"]');
    if (counts) counts.value = "1";
    return row;
  }

  function chargeButtons() {
    document.addEventListener("click", (event) => {
      const add = event.target.closest("[data-add-charge]");
      const remove = event.target.closest("[data-remove-charge]");
      if (!add && !remove) return;
      const form = event.target.closest("form");
      const rows = form?.querySelector("[data-charge-rows]");
      if (!rows || !rows.lastElementChild) return;
      event.preventDefault();
      if (add) {
        const row = blankRow(rows);
        rows.append(row);
        renumber(rows);
        const input = row.querySelector("input[data-statute-search]");
        attach(input);
        input.focus();
        return;
      }
      const row = remove.closest("[data-charge-row]");
      const next = row.nextElementSibling || row.previousElementSibling;
      if (rows.children.length === 1) {
        const fresh = blankRow(rows);
        rows.append(fresh);
        attach(fresh.querySelector("input[data-statute-search]"));
      }
      row.remove();
      renumber(rows);
      (next?.querySelector("input[data-statute-search]") || form.querySelector("[data-add-charge]"))?.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const input of document.querySelectorAll("input[data-statute-search]")) attach(input);
    chargeButtons();
    const summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });
})();
