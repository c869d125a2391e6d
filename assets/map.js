/* Map styling functions, referenced by name from layouts/map.py
 * (dash_extensions.javascript.Namespace("shanting", "map")). */
(function () {
  const STATUS = { online: "#2ecc71", offline: "#8a94a6", fault: "#ff4d4f" };
  const CONGESTION = ["#5d6d7e", "#2ECC71", "#A3D977", "#F5B041", "#E67E22", "#C0392B"];
  const CROWDING = ["#2ecc71", "#2ecc71", "#a3d977", "#f5b041", "#e67e22", "#c0392b"];
  const LEVEL = { ok: "#1f9d55", warn: "#d4a017", bad: "#c0392b", none: "#34495e" };
  const BLIND = { cell: "#ff8c42", place: "#ff4d4f", site: "#35c2ff" };
  const WATER = [null, "#5ec8f2", "#1e90ff", "#2ecc71", "#f1c40f", "#f39c12", "#e74c3c"];
  // Accident severity 1 轻微 … 4 特大; parking occupancy below 70 % / 90 % / full.
  const SEVERITY = [null, "#f1c40f", "#e67e22", "#e74c3c", "#b03cff"];
  const PARKING = (rate) => rate == null ? "#5d6d7e" : rate >= 0.9 ? "#ff4d4f" : rate >= 0.7 ? "#f5b041" : "#2ecc71";

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }

  // WGS84 → GCJ-02 (the published offset algorithm), for Gaode/Tencent tiles.
  function tLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
    r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
    return r;
  }
  function tLng(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
    r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
    r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
    return r;
  }
  function toGcj02(coords) {
    const lng = coords[0], lat = coords[1];
    const a = 6378245.0, ee = 0.00669342162296594323;
    let dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    const radLat = (lat / 180) * Math.PI;
    let magic = Math.sin(radLat);
    magic = 1 - ee * magic * magic;
    const sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180) / (((a * (1 - ee)) / (magic * sqrtMagic)) * Math.PI);
    dLng = (dLng * 180) / ((a / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return L.latLng(lat + dLat, lng + dLng);
  }

  // A layer's data can arrive after its map was torn down (the page navigated
  // while the fetch was in flight); Leaflet then reads the removed map pane's
  // position and throws. A removed map has no pane: report the origin instead.
  function guardRemovedMaps() {
    if (!window.L || !L.Map || L.Map.prototype.__shantingGuarded) return;
    const panePos = L.Map.prototype._getMapPanePos;
    L.Map.prototype._getMapPanePos = function () {
      return this._mapPane ? panePos.call(this) : L.point(0, 0);
    };
    L.Map.prototype.__shantingGuarded = true;
    // The newest map, for checks from the browser (tests, the console); only
    // one is kept, so a screen that navigates for days holds no old maps.
    L.Map.addInitHook(function () { window.shanting.lastMap = this; });
  }
  guardRemovedMaps();
  document.addEventListener("DOMContentLoaded", guardRemovedMaps);

  window.shanting = Object.assign({}, window.shanting, {
    map: {
      toGcj02: toGcj02,
      outlineStyle: () => ({ color: "#35c2ff", weight: 2.5, fill: true, fillColor: "#0d2038", fillOpacity: 0.55 }),
      riverStyle: (f) => f.properties.kind === "reservoir"
        ? { color: "#2e86de", weight: 1, fillColor: "#1b4f8a", fillOpacity: 0.8 }
        : { color: "#2e86de", weight: 2.5, opacity: 0.9 },
      roadStyle: (f) => ({
        color: "#7f8c9d", opacity: 0.55,
        weight: f.properties.road_class === "expressway" ? 3 : f.properties.road_class === "arterial" ? 2 : 1,
      }),
      townStyle: (f) => ({
        color: f.properties.selected ? "#35c2ff" : "#9fb3c8", weight: f.properties.selected ? 3 : 1,
        dashArray: "4 3", fillColor: LEVEL[f.properties.level] || LEVEL.none, fillOpacity: 0.28,
      }),
      townHover: () => ({ weight: 3, color: "#35c2ff", fillOpacity: 0.4 }),
      townTooltip: (f, layer) => {
        const v = f.properties.value;
        layer.bindTooltip(`${esc(f.properties.name)}${v == null ? "" : " · " + (Math.round(v * 1000) / 1000)}`,
          { sticky: true, className: "map-tip" });
      },
      villagePoint: (f, latlng) => L.circleMarker(latlng, {
        radius: f.properties.selected ? 7 : 4, weight: f.properties.selected ? 3 : 1,
        color: f.properties.selected ? "#35c2ff" : "#cfd8e3", fillColor: "#9fb3c8", fillOpacity: 0.7,
      }).bindTooltip(`${esc(f.properties.name)} · ${f.properties.population}人`, { className: "map-tip" }),
      segmentStyle: (f) => ({ color: CONGESTION[f.properties.level] || CONGESTION[0], weight: 4, opacity: 0.95 }),
      segmentTooltip: (f, layer) => layer.bindTooltip(
        `${esc(f.properties.name)} ${f.properties.speed == null ? "" : f.properties.speed + " km/h"}`,
        { sticky: true, className: "map-tip" }),
      heatStyle: (f) => ({ stroke: false, fillColor: "#ff4d4f", fillOpacity: 0.15 + 0.6 * f.properties.heat }),
      cameraPoint: (f, latlng) => L.circleMarker(latlng, {
        radius: 4, weight: 1, color: "#0b1526", fillOpacity: 0.95, fillColor: STATUS[f.properties.status] || "#999",
      }),
      // A cluster shows its size and its status mix as a ring (green/grey/red).
      cameraCluster: (feature, latlng, index) => {
        const leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
        const n = { online: 0, offline: 0, fault: 0 };
        leaves.forEach((l) => { n[l.properties.status] = (n[l.properties.status] || 0) + 1; });
        const total = leaves.length, on = (100 * n.online) / total, off = on + (100 * n.offline) / total;
        const ring = `conic-gradient(${STATUS.online} 0 ${on}%, ${STATUS.offline} ${on}% ${off}%, ${STATUS.fault} ${off}% 100%)`;
        const size = 26 + Math.min(26, Math.log2(total) * 3);
        return L.marker(latlng, {
          icon: L.divIcon({
            className: "cam-cluster", iconSize: L.point(size, size),
            html: `<div class="ring" style="background:${ring}"><span>${total}</span></div>`,
          }),
        });
      },
      busPoint: (f, latlng) => L.circleMarker(latlng, {
        radius: 5, weight: 1.5, color: "#e6eef8", fillOpacity: 1,
        fillColor: f.properties.load >= 0.9 ? "#ff4d4f" : f.properties.load >= 0.7 ? "#f5b041" : "#35c2ff",
      }).bindTooltip(`${esc(f.properties.line)} · ${Math.round(f.properties.load * 100)}%`, { className: "map-tip" }),
      busLineStyle: () => ({ color: "#35c2ff", weight: 2, opacity: 0.45, dashArray: "6 4" }),
      busLineTooltip: (f, layer) => layer.bindTooltip(esc(f.properties.name), { sticky: true, className: "map-tip" }),
      parkingPoint: (f, latlng) => L.marker(latlng, {
        icon: L.divIcon({
          className: "parking-icon", iconSize: L.point(22, 22),
          html: `<div style="background:${PARKING(f.properties.rate)}">P</div>`,
        }),
      }).bindTooltip(`${esc(f.properties.name)} · ${f.properties.free == null ? "—" : f.properties.free}/${f.properties.capacity}`,
        { className: "map-tip" }),
      accidentPoint: (f, latlng) => L.circleMarker(latlng, {
        radius: 3 + 2 * f.properties.severity, weight: 1, color: "#0b1526", fillOpacity: 0.9,
        fillColor: SEVERITY[f.properties.severity] || SEVERITY[1],
      }).bindTooltip(`${esc(f.properties.time)} · ${f.properties.severity}`, { className: "map-tip" }),
      airPoint: (f, latlng) => L.marker(latlng, {
        zIndexOffset: 1000,  // above camera clusters: air quality is read from across the room
        icon: L.divIcon({
          className: "air-icon", iconSize: L.point(38, 24),
          html: `<div style="background:${f.properties.colour || "#5d6d7e"}">${f.properties.aqi == null ? "—" : f.properties.aqi}</div>`,
        }),
      }).bindTooltip(`${esc(f.properties.name)} ${esc(f.properties.category || "")} ${esc(f.properties.primary || "")}`,
        { className: "map-tip" }),
      // Ⅰ–Ⅱ blue, Ⅲ green, Ⅳ yellow, Ⅴ orange, 劣Ⅴ red (the usual map convention;
      // GB 3838 prescribes none). A red ring marks a section missing its target.
      waterPoint: (f, latlng) => L.circleMarker(latlng, {
        radius: 7, weight: f.properties.meets === false ? 3 : 1.5,
        color: f.properties.meets === false ? "#ff4d4f" : "#e6eef8", fillOpacity: 0.95,
        fillColor: WATER[f.properties.grade] || "#5d6d7e",
      }).bindTooltip(`${esc(f.properties.name)} ${esc(f.properties.label || "—")}（目标 ${f.properties.target}）`,
        { className: "map-tip" }),
      // Blind spots: populated cells without a working camera (hatched orange, darker with more people)
      // and uncovered key places (red-ringed diamonds) on top.
      blindStyle: (f) => ({
        className: "blind-cell", color: BLIND.cell, weight: 0.8, opacity: 0.8, dashArray: "2 2", fillColor: BLIND.cell,
        fillOpacity: Math.min(0.55, 0.12 + 0.08 * Math.log10(1 + (f.properties.population || 0))),
      }),
      blindPoint: (f, latlng) => L.marker(latlng, {
        zIndexOffset: 900,
        icon: L.divIcon({ className: "blind-place", iconSize: L.point(12, 12), html: "<i></i>" }),
      }),
      blindTooltip: (f, layer) => {
        const p = f.properties;
        const text = p.kind === "cell"
          ? `监控盲区 · 约 ${p.population} 人`
          : `${esc(p.name)} · 未覆盖${p.distance == null ? "" : " · 最近在线 " + p.distance + " m"}`;
        layer.bindTooltip(text, { sticky: p.kind === "cell", className: "map-tip" });
      },
      // The placement advisor's sites: numbered in order, with what each adds; places they newly cover as rings.
      sitePoint: (f, latlng) => {
        const p = f.properties;
        if (p.kind === "covers") {
          return L.circleMarker(latlng, { radius: 5, weight: 2, color: BLIND.site, fill: false, interactive: false });
        }
        return L.marker(latlng, {
          zIndexOffset: 2000,
          icon: L.divIcon({ className: "site-icon", iconSize: L.point(26, 26), html: `<div>${p.rank}</div>` }),
        }).bindTooltip(`#${p.rank} ${esc(p.name)} · 新增覆盖 +${p.gain} 处 · 覆盖率 ${p.after}`,
          { className: "map-tip" });
      },
      scenicPoint: (f, latlng) => L.circleMarker(latlng, {
        radius: 8 + 14 * Math.min(1.2, f.properties.ratio), weight: 2, color: "#e6eef8",
        fillColor: CROWDING[f.properties.level] || CROWDING[1], fillOpacity: 0.85,
      }).bindTooltip(`${esc(f.properties.name)} ${Math.round(f.properties.ratio * 100)}% ${esc(f.properties.band)}`,
        { className: "map-tip" }),
    },
  });
})();
