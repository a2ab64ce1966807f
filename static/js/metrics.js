// Metrics history charts (uPlot) for <section data-metrics> blocks: the home page, an app's page, the Storage page.
// The chart library is loaded only when a block comes into view, so the home page stays light. Data comes from
// GET /api/system/metrics/?range=…[&app=…]; live points ("metrics.point", every 10 s) arrive as JSON over the
// page's own socket (htmx's websocket extension hands us the message first; we keep it from being swapped), or
// over data-metrics-socket where the page has no socket that carries them.
(function () {
  "use strict";
  const EVENT = "metrics.point";
  const HEIGHT = 150;
  const COLORS = ["#2f7fd1", "#e0662c", "#2aa876", "#a259c4", "#d64b6b", "#b8941f", "#4aa3b5", "#7a8290"];
  const TITLES = {
    cpu: gettext("CPU and memory"),
    memory: gettext("Memory"),
    temperature: gettext("CPU temperature"),
    network: gettext("Network"),
    disk_io: gettext("Disk activity"),
    disk_use: gettext("Disk use"),
  };
  let uplotLoading = null;

  function loadUplot(block) {
    if (window.uPlot) { return Promise.resolve(); }
    if (!uplotLoading) {
      uplotLoading = new Promise(function (resolve, reject) {
        const css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = block.dataset.uplotCss;
        document.head.appendChild(css);
        const script = document.createElement("script");
        script.src = block.dataset.uplotJs;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return uplotLoading;
  }

  function language() { return document.documentElement.lang || undefined; }

  function formatBytes(value, perSecond) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let v = Math.abs(value);
    let i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
    const number = new Intl.NumberFormat(language(), { maximumFractionDigits: v < 10 && i > 0 ? 1 : 0 }).format(v);
    return number + " " + units[i] + (perSecond ? "/s" : "");
  }

  function formatValue(value, unit) {
    if (value === null || value === undefined) { return "–"; }
    if (unit === "B" || unit === "B/s") { return formatBytes(value, unit === "B/s"); }
    const number = new Intl.NumberFormat(language(), { maximumFractionDigits: 1 }).format(value);
    return unit ? number + " " + unit : number;
  }

  function themeColor(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function chartOptions(title, series, width, step) {
    const text = themeColor("--pico-muted-color", "#777");
    const grid = themeColor("--pico-muted-border-color", "rgba(128,128,128,.25)");
    const unit = series[0].unit;
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return {
      title: title,
      width: width,
      padding: [8, 24, 0, 0],  // room for the last time label at the right edge
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { y: unit === "%" ? { range: [0, 100] } : { range: function (u, min, max) { return [0, Math.max(max, 1)]; } } },
      axes: [
        Object.assign({}, axis, { space: 60 }),
        Object.assign({}, axis, { size: 70, values: function (u, ticks) { return ticks.map(function (t) { return formatValue(t, unit); }); } }),
      ],
      series: [{ value: function (u, t) { return t === null ? "–" : new Date(t * 1000).toLocaleString(language(), step >= 1800 ? { dateStyle: "short", timeStyle: "short" } : { timeStyle: "short" }); } }].concat(
        series.map(function (s, i) {
          return {
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            spanGaps: false,
            points: { show: false },
            value: function (u, v) { return formatValue(v, s.unit); },
          };
        })
      ),
    };
  }

  function charts(block) {
    return (block.dataset.metricsCharts || "cpu,network").split(",");
  }

  function render(block, body) {
    const box = block.querySelector("[data-metrics-box]");
    (block._plots || []).forEach(function (p) { p.plot.destroy(); });
    box.replaceChildren();
    block._plots = [];
    block._body = body;
    const width = Math.max(box.clientWidth, 200);
    charts(block).forEach(function (chart) {
      const series = body.series.filter(function (s) { return s.chart === chart; });
      if (!series.length) { return; }
      const figure = document.createElement("figure");
      figure.className = "metrics-chart";
      figure.dataset.chart = chart;
      box.appendChild(figure);
      const data = [body.times].concat(series.map(function (s) { return s.values; }));
      const title = series.length === 1 ? series[0].label : TITLES[chart] || chart;
      const plot = new window.uPlot(chartOptions(title, series, width, body.step), data, figure);
      block._plots.push({ plot: plot, chart: chart, keys: series.map(function (s) { return s.key; }) });
    });
    block.querySelector("[data-metrics-empty]").hidden = block._plots.length > 0;
  }

  function url(block) {
    const params = new URLSearchParams({ range: block.dataset.range || "1h" });
    if (block.dataset.metricsApp) { params.set("app", block.dataset.metricsApp); }
    return block.dataset.metricsUrl + "?" + params.toString();
  }

  function load(block) {
    block.setAttribute("aria-busy", "true");
    block._fetchedAt = Date.now();
    return Promise.all([loadUplot(block), fetch(url(block), { credentials: "same-origin", headers: { Accept: "application/json" } })])
      .then(function (done) {
        if (!done[1].ok) { throw new Error(done[1].status); }
        return done[1].json();
      })
      .then(function (body) { render(block, body); block.dataset.loaded = block.dataset.range; })
      .catch(function (error) {
        block.querySelector("[data-metrics-error]").hidden = false;
        console.error("metrics history:", error);
      })
      .finally(function () { block.removeAttribute("aria-busy"); });
  }

  // A live point: appended to the last hour's charts; the longer ranges are fetched again once per step.
  function addPoint(block, point) {
    const body = block._body;
    if (!body || block.dataset.range !== "1h") {
      if (body && Date.now() - block._fetchedAt > body.step * 1000) { load(block); }
      return;
    }
    if (point.time <= body.times[body.times.length - 1]) { return; }
    body.times.push(point.time);
    body.series.forEach(function (s) { s.values.push(point.points[s.key] === undefined ? null : point.points[s.key]); });
    const cut = body.times.length - 361;
    if (cut > 0) {
      body.times.splice(0, cut);
      body.series.forEach(function (s) { s.values.splice(0, cut); });
    }
    block._plots.forEach(function (p) {
      const values = p.keys.map(function (key) { return body.series.find(function (s) { return s.key === key; }).values; });
      p.plot.setData([body.times].concat(values));
    });
  }

  function deliver(point) {
    document.querySelectorAll("[data-metrics]").forEach(function (block) {
      if (String(point.app || "") === (block.dataset.metricsApp || "")) { addPoint(block, point); }
    });
  }

  function parse(text) {
    if (typeof text !== "string" || text.charAt(0) !== "{") { return null; }
    try {
      const message = JSON.parse(text);
      return message.event === EVENT ? message.data : null;
    } catch (e) { return null; }
  }

  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    const point = parse(event.detail.message);
    if (point) { event.preventDefault(); deliver(point); }  // JSON, not a fragment: htmx has nothing to swap
  });

  function ownSocket(path) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let socket;
    function open() {
      socket = new WebSocket(scheme + location.host + path);
      socket.onmessage = function (event) { const point = parse(event.data); if (point) { deliver(point); } };
      socket.onclose = function () { setTimeout(open, 5000); };
    }
    open();
  }

  function chooseRange(block, button) {
    block.dataset.range = button.dataset.range;
    block.querySelectorAll("[data-range]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    load(block);
  }

  function resize(block) {
    const box = block.querySelector("[data-metrics-box]");
    (block._plots || []).forEach(function (p) { p.plot.setSize({ width: Math.max(box.clientWidth, 200), height: HEIGHT }); });
  }

  function start(block) {
    if (block.dataset.started) { return; }
    block.dataset.started = "1";
    block.dataset.range = block.dataset.range || "1h";
    load(block);
    if (block.dataset.metricsSocket) { ownSocket(block.dataset.metricsSocket); }
  }

  function setUp() {
    const blocks = document.querySelectorAll("[data-metrics]");
    if (!blocks.length) { return; }
    const seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { if (entry.isIntersecting) { seen.unobserve(entry.target); start(entry.target); } });
    }, { rootMargin: "200px" });
    blocks.forEach(function (block) {
      seen.observe(block);
      block.addEventListener("click", function (event) {
        const button = event.target.closest("button[data-range]");
        if (button) { chooseRange(block, button); }
      });
    });
    let timer;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { blocks.forEach(resize); }, 150);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
})();
