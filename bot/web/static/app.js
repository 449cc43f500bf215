// dutybot board: live refresh without a reload, and the event picker. No framework.
// Every 2 s the page asks /web/live for the event's change stamp; when it moved, the page
// fetches itself and swaps <main>, unless someone is typing in a form on it.
(function () {
  "use strict";
  const body = document.body;
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  const event = body.dataset.event;
  if (!event) return;
  let stamp = body.dataset.stamp, busy = false, lastSwap = Date.now();
  function typing() {
    const a = document.activeElement;
    return a && a.form && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") && a.value !== a.defaultValue;
  }
  async function refresh() {
    const r = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { location.reload(); return; }
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = doc.getElementById("live"), main = document.getElementById("live");
    if (fresh && main) { main.replaceWith(fresh); }
    const foot = doc.querySelector(".foot"), oldFoot = document.querySelector(".foot");
    if (foot && oldFoot) oldFoot.replaceWith(foot);
    stamp = doc.body.dataset.stamp || stamp;
    lastSwap = Date.now();
  }
  async function tick() {
    if (busy) return;
    busy = true;
    try {
      const r = await fetch("/web/live?event=" + encodeURIComponent(event), { credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) { location.reload(); return; }
      const d = await r.json();
      const d2 = document.querySelector(".livedot");
      if (d2) d2.classList.remove("off");
      // A minute without changes still refreshes: "overdue by" and the run-of-show move with the clock.
      if ((d.stamp !== stamp || Date.now() - lastSwap > 60000) && !typing()) await refresh();
    } catch (e) {
      const d2 = document.querySelector(".livedot");
      if (d2) d2.classList.add("off");
    } finally { busy = false; }
  }
  setInterval(tick, 2000);
})();
