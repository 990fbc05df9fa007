// Comfort for the records forms; each works without it ("Look up" asks the server instead).
// Statute fields (data-statute-search) list matching statutes as you type, from
// /catalog/statutes; choosing one fills the field and offers only that statute's grades.
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
    select.replaceChildren(new Option("Grade…", ""));
    for (const grade of item.grades) select.add(new Option(grade, grade, false, grade === current));
    if (item.grades.length === 1) select.value = item.grades[0];
  }

  function attach(input) {
    const list = document.createElement("ul");
    list.className = "statute-results";
    list.id = `${input.id}-results`;
    list.hidden = true;
    list.setAttribute("aria-label", "Matching statutes");
    input.closest(".field").append(list);
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    let timer = null;
    let asked = "";

    const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); };
    const choose = (item) => { input.value = item.statute; setGrades(input, item); close(); };

    async function refresh() {
      const text = input.value.trim();
      asked = text;
      if (text.length < 2) { close(); return; }
      const items = await search(text);
      if (asked !== text) return; // a newer keystroke is on its way
      list.replaceChildren();
      for (const item of items) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = `${item.statute} — ${item.description} (${item.grades.join(", ")})`;
        button.addEventListener("click", () => { choose(item); document.getElementById(input.dataset.grade)?.focus(); });
        const li = document.createElement("li");
        li.append(button);
        list.append(li);
      }
      if (!items.length) list.append(Object.assign(document.createElement("li"), { textContent: "No statute matches." }));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      const exact = items.find((item) => compact(item.statute) === compact(text));
      if (exact) setGrades(input, exact);
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "ArrowDown" && !list.hidden) { event.preventDefault(); list.querySelector("button")?.focus(); }
      if (event.key === "Enter" && !list.hidden) {
        const first = list.querySelector("button");
        if (first) { event.preventDefault(); first.click(); }
      }
    });
    list.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { close(); input.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const input of document.querySelectorAll("input[data-statute-search]")) attach(input);
  });
})();
