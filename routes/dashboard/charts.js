// The live charts (uPlot): each keeps the last HISTORY seconds, one point per stats event.
// Lines differ in dash pattern as well as colour, and each chart prints its latest values as text.

/* global uPlot */

/** Points kept per series: five minutes at one event per second. */
export const HISTORY = 300;

const COLOURS = ["#1f6fd1", "#d1461f", "#2e8b3e", "#8e44ad", "#b8860b", "#00838f", "#555"];
const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 5], [12, 6]];

/** Change of a counter per second between two events (a reset reads as 0, not negative). */
const rate = (name) => (cur, prev, seconds) =>
  prev === null ? null : Math.max(0, cur.stats[name] - prev.stats[name]) / seconds;
const rateOf = (names) => (cur, prev, seconds) =>
  prev === null
    ? null
    : Math.max(0, names.reduce((sum, n) => sum + cur.stats[n] - prev.stats[n], 0)) / seconds;
const level = (name) => (cur) => cur.stats[name] ?? null;

function hitRatio(cur, prev) {
  if (prev === null) return null;
  const hits = cur.stats.get_hits - prev.stats.get_hits;
  const misses = cur.stats.get_misses - prev.stats.get_misses;
  return hits + misses <= 0 ? null : (100 * hits) / (hits + misses);
}

export function formatCount(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(a < 10 ? 1 : 0);
}

export function formatBytes(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? String(Math.round(v)) : v.toFixed(1)) + " " + units[i];
}

/** Tick steps for byte axes: powers of two, so ticks fall on whole KiB, MiB, GiB. */
const BYTE_STEPS = Array.from({ length: 48 }, (_, i) => 2 ** i);

/** Time ticks in seconds: one label a line (uPlot's default adds a date row that overlaps). */
const TIME_STEPS = [10, 15, 30, 60, 120, 300];
const clockTime = (t) =>
  new Date(t * 1000).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });

const perSecond = (v) => formatCount(v) + "/s";
const percent = (v) => (v === null ? "–" : v.toFixed(1) + "%");
const bytesPerSecond = (v) => formatBytes(v) + "/s";

const CHARTS = [
  {
    id: "ops",
    title: "Operations per second by command",
    format: perSecond,
    series: [
      ["get", rate("cmd_get")],
      ["set", rate("cmd_set")],
      ["delete", rateOf(["delete_hits", "delete_misses"])],
      ["incr/decr", rateOf(["incr_hits", "incr_misses", "decr_hits", "decr_misses"])],
      ["cas", rateOf(["cas_hits", "cas_misses", "cas_badval"])],
      ["touch", rate("cmd_touch")],
      ["HTTP", rate("http_requests")],
    ],
  },
  {
    id: "hits",
    title: "Hit ratio of gets",
    format: percent,
    range: [0, 100],
    series: [["hits", hitRatio]],
  },
  {
    id: "memory",
    title: "Memory used against the limit",
    format: formatBytes,
    steps: BYTE_STEPS,
    series: [
      ["items' bytes", level("bytes")],
      ["limit", level("limit_maxbytes")],
      ["pages", (cur) => cur.slabs.total_malloced ?? null],
    ],
  },
  { id: "items", title: "Items", format: formatCount, series: [["items", level("curr_items")]] },
  {
    id: "evictions",
    title: "Evictions and reclaims per second",
    format: perSecond,
    series: [
      ["evictions", rate("evictions")],
      ["reclaimed", rate("reclaimed")],
      ["expired unfetched", rate("expired_unfetched")],
    ],
  },
  {
    id: "conns",
    title: "Connections",
    format: formatCount,
    series: [["open", level("curr_connections")], ["new/s", rate("total_connections")]],
  },
  {
    id: "bytes",
    title: "Network bytes per second",
    format: bytesPerSecond,
    steps: BYTE_STEPS,
    series: [["in", rate("bytes_read")], ["out", rate("bytes_written")]],
  },
];

/** Builds the charts inside `container`; returns the function that adds one stats event. */
export function createCharts(container) {
  const times = [];
  const charts = CHARTS.map((def) => {
    const figure = document.createElement("figure");
    figure.className = "chart";
    figure.id = `chart-${def.id}`;
    const caption = document.createElement("figcaption");
    caption.textContent = def.title;
    const now = document.createElement("p");
    now.className = "now";
    now.textContent = "waiting for data…";
    const plot = document.createElement("div");
    plot.setAttribute("role", "img");
    plot.setAttribute("aria-label", `${def.title}, last ${HISTORY / 60} minutes`);
    figure.append(caption, now, plot);
    container.append(figure);
    const data = [times, ...def.series.map(() => [])];
    const u = new uPlot(
      {
        width: plotWidth(figure),
        height: 170,
        series: [
          { label: "time" },
          ...def.series.map(([label], i) => ({
            label,
            stroke: COLOURS[i],
            dash: DASHES[i],
            width: 2,
            value: (_u, v) => def.format(v),
          })),
        ],
        // The x axis always spans the whole history, so a young chart fills in from the right.
        scales: {
          x: { time: true, range: (_u, _min, max) => [max - HISTORY, max] },
          y: def.range ? { range: def.range } : {},
        },
        // The latest values are printed above the chart; the legend names the lines.
        legend: { live: false },
        axes: [
          { space: 70, incrs: TIME_STEPS, values: (_u, ticks) => ticks.map(clockTime) },
          { size: 84, incrs: def.steps, values: (_u, ticks) => ticks.map(def.format) },
        ],
      },
      data,
      plot,
    );
    drawLegendLines(u, def.series.length);
    return { def, data, u, figure, now };
  });

  new ResizeObserver(() => {
    for (const c of charts) c.u.setSize({ width: plotWidth(c.figure), height: 170 });
  }).observe(container);

  let previous = null;
  return (event) => {
    const seconds = previous === null ? 1 : Math.max(0.001, (event.at - previous.at) / 1000);
    times.push(event.at / 1000);
    if (times.length > HISTORY) times.shift();
    for (const c of charts) {
      const latest = [];
      c.def.series.forEach(([label, value], i) => {
        const column = c.data[i + 1];
        const v = value(event, previous, seconds);
        column.push(v);
        if (column.length > HISTORY) column.shift();
        latest.push(`${label} ${c.def.format(v)}`);
      });
      c.now.textContent = latest.join(" · ");
      c.figure.dataset.points = String(times.length);
      c.u.setData(c.data);
    }
    previous = event;
  };
}

/** Legend markers drawn as the lines themselves (colour and dash), not as coloured squares. */
function drawLegendLines(u, count) {
  // The time series has a legend row but no marker: markers[i] belongs to series i + 1.
  const markers = u.root.querySelectorAll(".u-legend .u-series .u-marker");
  for (let i = 0; i < count && i < markers.length; i++) {
    const marker = markers[i];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="10">` +
      `<line x1="0" y1="5" x2="28" y2="5" stroke="${COLOURS[i]}" stroke-width="2.5" ` +
      `stroke-dasharray="${DASHES[i].join(" ")}"/></svg>`;
    marker.style.border = "none";
    marker.style.width = "28px";
    marker.style.background = `url("data:image/svg+xml,${
      encodeURIComponent(svg)
    }") no-repeat center`;
  }
}

function plotWidth(figure) {
  return Math.max(200, figure.clientWidth - 16);
}
