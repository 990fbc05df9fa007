// Comfort for the booking form; it works without it (the server refuses a second booking of one form).
// - Enter in a text field does nothing (the statute list's own Enter, in records.js, still picks a
//   statute); only the explicit buttons send the form.
// - After "Book the arrest" is pressed, the form is sent once: its buttons are disabled and a
//   second press (a double click, an impatient one) sends nothing.
(() => {
  const typing = (el) => el instanceof HTMLInputElement && !["submit", "button", "checkbox", "radio", "file", "image", "reset"].includes(el.type);

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-once]")) {
      form.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && typing(event.target) && !event.defaultPrevented) event.preventDefault();
      });
      form.addEventListener("submit", (event) => {
        if (form.dataset.sending) { event.preventDefault(); return; }
        if (event.defaultPrevented) return;
        form.dataset.sending = "true";
        // After this turn: a button disabled now would not be sent with the form.
        setTimeout(() => {
          for (const button of form.querySelectorAll("button[type=submit]")) {
            button.disabled = true;
            if (button.value === "book") { button.dataset.label = button.textContent; button.textContent = "Booking…"; }
          }
        }, 0);
      });
      // Back to this page from the browser's cache: the form may be sent again (the server
      // still books it only once).
      window.addEventListener("pageshow", (event) => {
        if (!event.persisted) return;
        delete form.dataset.sending;
        for (const button of form.querySelectorAll("button[type=submit]")) {
          button.disabled = false;
          if (button.dataset.label) button.textContent = button.dataset.label;
        }
      });
    }
  });
})();
