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
