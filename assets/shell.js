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
    clock: function (_tick, at) {
      const parts = new Intl.DateTimeFormat("en-CA", {
        timeZone: "Asia/Shanghai", hourCycle: "h23",
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      }).formatToParts(at || new Date());
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
    // A big screen's poll (/screen/<id>): report what it shows, get what it should show, navigate when they
    // differ. While the server does not answer, the screen keeps its last data, marked stale, and stops its
    // periodic refresh; the first answer after that refreshes everything at once. The state kept here has a
    // fixed size (no growth over days of running).
    screenSync: async function (ticks, pathname, search, refreshes) {
      const none = window.dash_clientside.no_update;
      // Parts of the screen frame come as lists: one of each on a screen, none on other pages.
      const parts = (root, mode, now, since) =>
        [root, mode, now, since].map((v) => (v === none ? none : (ticks || []).map(() => v)));
      const answer = (go, root, mode, now, since, disabled, bump) =>
        [go, ...parts(root, mode, now, since), disabled, bump];
      if (!ticks || !ticks.length) return answer(none, none, none, none, none, none, none);
      const link = (window.shantingScreen = window.shantingScreen || { fails: 0, lastOk: null });
      const id = (pathname || "").split("/")[2] || "";
      const shown = new URLSearchParams(search || "");
      try {
        const resp = await fetch(`/api/v1/screens/${encodeURIComponent(id)}/sync`, {
          method: "POST",
          cache: "no-store",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ scene: shown.get("scene"), scope: shown.get("scope") }),
        });
        if (resp.status === 404) return answer(none, "shell screen", none, none, none, false, none);
        if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
        const body = await resp.json();
        const wasOffline = link.fails >= SCREEN_OFFLINE_AFTER;
        link.fails = 0;
        link.lastOk = new Date();
        const go = sameQuery(body.search, search) ? none : body.search;
        return answer(go, "shell screen", body.label, body.now, "", false, wasOffline ? (refreshes || 0) + 1 : none);
      } catch (err) {
        link.fails += 1;
        if (link.fails < SCREEN_OFFLINE_AFTER) return answer(none, none, none, none, none, none, none);
        const since = link.lastOk ? window.dash_clientside.shanting.clock(null, link.lastOk) : "—";
        return answer(none, "shell screen offline", none, none, since, true, none);
      }
    },
  },
});

/* Two missed polls in a row (2 s) and the screen says it is offline. */
const SCREEN_OFFLINE_AFTER = 2;

function sameQuery(a, b) {
  const norm = (q) => {
    const p = new URLSearchParams(q || "");
    const kept = ["scene", "scope", "alarm"].map((k) => `${k}=${p.get(k) || ""}`);
    return kept.join("&");
  };
  return norm(a) === norm(b);
}
