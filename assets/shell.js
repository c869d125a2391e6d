/* The big-screen scale: the root font grows with the viewport (theme.css);
 * --ui-scale carries the same factor to things drawn in pixels (the map). */
(function () {
  function setScale() {
    const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    document.documentElement.style.setProperty("--ui-scale", String(Math.max(1, px / 16)));
  }
  setScale();
  window.addEventListener("resize", setScale);
})();

/* Client-side callbacks of the shell: the clock ticks in the browser (no
 * server round trip per second), the active scene link follows the URL, and
 * data changes are pushed by a tiny version check. */
let lastVersion;
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  shanting: {
    clock: function () {
      const parts = new Intl.DateTimeFormat("en-CA", {
        timeZone: "Asia/Shanghai", hourCycle: "h23",
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      }).formatToParts(new Date());
      const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    },
    activeNav: function (pathname, hrefs) {
      return hrefs.map((href) => (href === pathname ? "nav-link active" : "nav-link"));
    },
    langHref: function (pathname, href) {
      const base = (href || "").split("?")[0];
      return `${base}?next=${encodeURIComponent(pathname || "/")}`;
    },
    // Bumps the refresh counter when the server's data version moved, so every
    // panel listening to it refreshes now. Offline or restarting: nothing
    // happens, the page keeps its last data and its periodic refresh.
    pushVersion: async function (_tick, refreshes) {
      const none = window.dash_clientside.no_update;
      try {
        const resp = await fetch("/api/v1/version", { cache: "no-store", credentials: "same-origin" });
        if (!resp.ok) return none;
        const version = (await resp.json()).version;
        const seen = lastVersion;
        lastVersion = version;
        return seen === undefined || seen === version ? none : (refreshes || 0) + 1;
      } catch (err) {
        return none;
      }
    },
  },
});
