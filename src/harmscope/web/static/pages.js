// Draws a page's charts (vendored Vega-Lite through vega-embed) and maps (vendored Leaflet, no
// tiles): the same drawing as the report's (report/templates/report.html.j2), read from the
// page's JSON blocks. Each drawn element gets data-rendered="1" ("error" when it failed), and
// <body> counts them (data-charts-done / data-charts-failed) so a browser test can wait on it.
(function () {
  "use strict";
  var body = document.body;
  function bump(attr) { body.dataset[attr] = String(Number(body.dataset[attr] || 0) + 1); }
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : {};
  }
  var specs = readJson("harmscope-specs");
  var refs = readJson("harmscope-map-refs");
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  function fmt(v, d) {
    if (v === null || v === undefined) { return "[c]"; }
    if (typeof v === "number") { return v.toLocaleString("en-GB", {maximumFractionDigits: d === undefined ? 1 : d, minimumFractionDigits: d === undefined ? 0 : d}); }
    return String(v);
  }
  function tipHtml(row, fields) {
    return '<table class="hs-tip">' + (fields || []).map(function (f) {
      var v = row[f[0]];
      if (v === undefined || v === "") { return ""; }
      return "<tr><th>" + esc(f[1]) + "</th><td>" + esc(fmt(v, f[2])) + "</td></tr>";
    }).join("") + "</table>";
  }
  function choropleth(ly, data) {
    var byKey = {};
    ly.values.forEach(function (r) { byKey[r[ly.row_key]] = r; });
    var colour = function (v) {
      if (v === null || v === undefined) { return ly.missing_color; }
      var k = 0; while (k < ly.edges.length && v >= ly.edges[k]) { k++; }
      return ly.colors[Math.min(k, ly.colors.length - 1)];
    };
    return L.geoJSON(data, {
      style: function (f) {
        var r = byKey[f.properties[ly.key]] || {};
        return {fillColor: colour(r[ly.field]), fillOpacity: 0.75, color: "#ffffff", weight: 0.4};
      },
      onEachFeature: function (f, l) {
        var r = byKey[f.properties[ly.key]];
        if (r) { l.bindTooltip(tipHtml(r, ly.tooltip), {sticky: true}); }
      }
    });
  }
  function cells(ly) {
    var feats = ly.values.map(function (r) { return {type: "Feature", geometry: r.geometry, properties: r}; });
    return L.geoJSON(feats, {
      style: function (f) {
        return {fillColor: ly.colors[f.properties[ly.field]] || "#999", fillOpacity: 0.6, color: "#5b6670", weight: 0.5};
      },
      onEachFeature: function (f, l) { l.bindTooltip(tipHtml(f.properties, ly.tooltip), {sticky: true}); }
    });
  }
  function streets(data, renderer) {
    var layer = L.layerGroup(data.points.map(function (p) {
      var m = L.circleMarker([p[1], p[0]], {renderer: renderer, radius: 2.5, stroke: false, fillColor: "#4f5a64", fillOpacity: 0.5});
      if (p[2] >= 0) { m.bindTooltip(esc(data.names[p[2]]), {direction: "top"}); }
      return m;
    }));
    return layer;
  }
  function towns(data) {
    return L.layerGroup(data.map(function (f) {
      var c = f.geometry.coordinates;
      return L.marker([c[1], c[0]], {interactive: false, keyboard: false,
        icon: L.divIcon({className: "hs-town", html: esc(f.properties.name), iconSize: null})});
    }));
  }
  function makeLayer(ly, data, renderer) {
    if (ly.kind === "outline") {
      return L.geoJSON(data, {style: {color: ly.style.color, weight: ly.style.weight, fill: false, opacity: 0.9}, interactive: false});
    }
    if (ly.kind === "choropleth") { return choropleth(ly, data); }
    if (ly.kind === "cells") { return ly.values.length ? cells(ly) : null; }
    if (ly.kind === "streets" && data) { return streets(data, renderer); }
    if (ly.kind === "towns" && data) { return towns(data); }
    return null;
  }
  function addLegend(map, legendSpec) {
    if (!legendSpec || !legendSpec.items || !legendSpec.items.length) { return; }
    var legend = L.control({position: "bottomright"});
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "hs-legend");
      div.innerHTML = "<strong>" + esc(legendSpec.title || "") + "</strong><br>" + legendSpec.items.map(function (it) {
        return '<i style="background:' + esc(it[0]) + '"></i>' + esc(it[1]);
      }).join("<br>");
      return div;
    };
    legend.addTo(map);
  }
  function drawMap(el, spec) {
    el.classList.add("hsmap");
    el.style.height = (spec.height || 520) + "px";
    var renderer = L.canvas({padding: 0});
    var map = L.map(el, {zoomSnap: 0.5, attributionControl: false, renderer: renderer});
    var bounds = L.latLngBounds([]);
    var overlays = {};
    var zoomLayers = [];
    var outlines = [];
    spec.layers.forEach(function (ly) {
      var data = ly.ref ? refs[ly.ref] : (ly.features || null);
      var layer = makeLayer(ly, data, renderer);
      if (!layer) { return; }
      overlays[ly.name] = layer;
      if (ly.kind === "choropleth" || ly.kind === "cells") { bounds.extend(layer.getBounds()); }
      if (ly.kind === "outline" && data && data.length) { outlines.push(layer); }
      if (ly.min_zoom) { zoomLayers.push([layer, ly.min_zoom]); }
      else if (ly.show !== false) { layer.addTo(map); }
    });
    if (!bounds.isValid()) { outlines.forEach(function (o) { bounds.extend(o.getBounds()); }); }
    map.fitBounds(bounds.isValid() ? bounds : L.latLngBounds([[50.9, 0.0], [51.5, 1.5]]));
    function showByZoom() {
      zoomLayers.forEach(function (z) {
        var on = map.getZoom() >= z[1];
        if (on && !map.hasLayer(z[0])) { z[0].addTo(map); }
        if (!on && map.hasLayer(z[0])) { map.removeLayer(z[0]); }
      });
      el.dataset.zoom = String(map.getZoom());
    }
    map.on("zoomend", showByZoom);
    showByZoom();
    L.control.scale({imperial: false}).addTo(map);
    L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    addLegend(map, spec.legend);
    el.harmscopeMap = map;  // for browser tests: zoom in and out from the page
  }
  function failed(el, what, err) {
    el.dataset.rendered = "error";
    el.textContent = what + " could not be drawn: " + err;
    console.error(what + " " + el.id + ": " + err);
    bump("chartsFailed");
  }
  Object.keys(specs).forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (specs[id].harmscope_map) {
      try { drawMap(el, specs[id]); el.dataset.rendered = "1"; bump("chartsDone"); }
      catch (err) { failed(el, "Map", err); }
      return;
    }
    vegaEmbed(el, specs[id], {actions: false, renderer: "svg"}).then(function () {
      el.dataset.rendered = "1";
      bump("chartsDone");
    }).catch(function (err) { failed(el, "Chart", err); });
  });
}());
