// Comfort for the case form; it works without this ("Add a subject" asks the server for a row).
// Here the button adds an empty subject row in place and moves the focus to its last name.
(() => {
  function addRow(list) {
    const rows = list.querySelectorAll("li.subject-row");
    const last = rows[rows.length - 1];
    if (!last) return;
    const index = rows.length;
    const row = last.cloneNode(true);
    for (const el of row.querySelectorAll("[id]")) el.id = el.id.replace(/^subject-\d+-/, `subject-${index}-`);
    for (const label of row.querySelectorAll("label[for]")) {
      label.htmlFor = label.htmlFor.replace(/^subject-\d+-/, `subject-${index}-`);
      label.textContent = label.textContent.replace(/^Subject \d+:/, `Subject ${index + 1}:`);
    }
    for (const input of row.querySelectorAll("input")) {
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    for (const message of row.querySelectorAll(".field-error")) message.remove();
    list.append(row);
    row.querySelector("input")?.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const list = document.getElementById("subjects");
    const button = document.getElementById("add-subject");
    if (!list || !button) return;
    button.addEventListener("click", (event) => { event.preventDefault(); addRow(list); });
  });
})();
