// Draws every <canvas data-chart="<id>"> from the JSON in <script id="<id>">, which
// addressbook/charts.py writes. No inline script runs under our CSP, so the numbers travel
// as data. A drawn canvas gets data-drawn="true": browser tests wait for it.
(() => {
  // One colour per source and channel on every chart, readable on white, distinct for
  // the common kinds of colour blindness (Okabe–Ito).
  const palette = {
    sms_keyword: "#0072B2",
    sms_reply: "#56B4E9",
    landing_page: "#E69F00",
    email_link: "#009E73",
    one_click: "#3A3A3A",
    api: "#CC79A7",
    admin: "#999999",
    dashboard: "#D55E00",
    import: "#6F4E7C",
    sms: "#0072B2",
    email: "#009E73",
    rate: "#D55E00",
  };
  const order = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#6F4E7C", "#999999"];

  function colour(series, index) {
    return palette[series.color] || order[index % order.length];
  }

  function config(spec) {
    const horizontal = spec.kind === "hbar";
    const doughnut = spec.kind === "doughnut";
    const unit = spec.unit || "";
    const datasets = spec.series.map((series, index) => ({
      label: series.label,
      data: series.values,
      backgroundColor: doughnut ? spec.labels.map((_, i) => order[i % order.length]) : colour(series, index),
      borderColor: doughnut ? "#fff" : colour(series, index),
      borderWidth: spec.kind === "line" ? 2 : doughnut ? 1 : 0,
      pointRadius: spec.kind === "line" ? 2 : undefined,
      // A ranking of two bars stays a ranking, not two slabs.
      maxBarThickness: 36,
      tension: 0.2,
    }));
    const valueAxis = {
      beginAtZero: true,
      stacked: spec.stacked,
      ticks: { precision: unit === "%" ? undefined : 0, callback: (v) => `${v}${unit}` },
    };
    const labelAxis = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } };
    return {
      type: doughnut ? "doughnut" : spec.kind === "line" ? "line" : "bar",
      data: { labels: spec.labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        scales: doughnut ? {} : horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        plugins: {
          legend: { display: doughnut || spec.series.length > 1, position: "bottom" },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${item.formattedValue}${unit}` } },
        },
        onClick: (_event, elements) => {
          const link = elements.length && spec.links[elements[0].index];
          if (link) {
            window.location.href = link;
          }
        },
        onHover: (event, elements) => {
          const link = elements.length && spec.links[elements[0].index];
          event.native.target.style.cursor = link ? "pointer" : "default";
        },
      },
    };
  }

  function draw(root) {
    root.querySelectorAll("canvas[data-chart]:not([data-drawn])").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source || !window.Chart) {
        return;
      }
      new window.Chart(canvas, config(JSON.parse(source.textContent)));
      canvas.dataset.drawn = "true";
    });
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));
  // Fragments swapped in by htmx (a filter changed) bring charts of their own.
  document.addEventListener("htmx:afterSettle", (event) => draw(event.target));
})();
