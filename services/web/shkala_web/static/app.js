// The workspace's few scripts: live updates (SSE from notify through /live), the trend chart
// (ECharts) and the upload with progress. Everything else is server-rendered HTML + htmx.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const fmt = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("ru-RU", { maximumFractionDigits: 1 }));

  // ---- live: an event about the page's data re-renders the affected fragment
  function startLive() {
    const body = document.body;
    const kind = body.dataset.live;
    if (!kind || !window.EventSource) return;
    const params = new URLSearchParams();
    if (body.dataset.municipality) params.append("municipalities", body.dataset.municipality);
    if (body.dataset.school) params.append("schools", body.dataset.school);
    const status = document.getElementById("live-status");
    const source = new EventSource("/live?" + params.toString());
    let timer = null;
    // the feed's own state never hides a failed refresh (stale figures stay announced)
    const feedSays = (text) => {
      status.hidden = false;
      if (!status.classList.contains("failed")) status.textContent = text;
    };
    source.onopen = () => feedSays("обновления в реальном времени включены");
    source.onerror = () => feedSays("нет связи с лентой, переподключение…");
    source.onmessage = handle;
    ["ru.shkala.indicators.value_changed.v1", "ru.shkala.indicators.list_membership_changed.v1",
     "ru.shkala.indicators.objectivity_flag_raised.v1", "ru.shkala.plans.roadmap_row_status_changed.v1",
     "ru.shkala.plans.roadmap_created.v1", "ru.shkala.plans.measure_taken.v1",
     "ru.shkala.plans.recommendation_issued.v1", "ru.shkala.plans.effectiveness_evaluated.v1",
     "ru.shkala.plans.roadmap_row_overdue.v1"].forEach((t) => source.addEventListener(t, handle));
    function handle(ev) {
      let ce = {};
      try { ce = JSON.parse(ev.data); } catch (e) { return; }
      const feed = document.getElementById("feed");
      if (feed) {
        const li = document.createElement("li");
        li.textContent = new Date().toLocaleTimeString("ru-RU") + " — " + (ce.text || ce.type);
        feed.prepend(li);
      }
      if ((ce.type || "").startsWith("ru.shkala.indicators.") && kind !== "feed") {
        clearTimeout(timer);  // a batch of changes → one refresh
        timer = setTimeout(() => { document.body.dispatchEvent(new Event("shkala:changed")); }, 400);
      }
    }
  }

  // ---- the school card's trend chart
  function startChart() {
    const el = document.getElementById("trend-chart");
    if (!el || !window.echarts) return;
    const charts = JSON.parse(el.dataset.charts || "{}");
    const select = document.getElementById("trend-select");
    const chart = echarts.init(el, null, { locale: "RU" });
    function draw(id) {
      const c = charts[id];
      if (!c) return;
      const series = [{ name: c.name, type: "line", data: c.values, symbolSize: 8, label: { show: true, formatter: (p) => fmt(p.value) } }];
      if (c.threshold !== null && c.threshold !== undefined) {
        series[0].markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#b42318" }, label: { formatter: "порог " + fmt(c.threshold) }, data: [{ yAxis: c.threshold }] };
      }
      chart.setOption({ title: { text: c.name, textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis", valueFormatter: fmt },
        xAxis: { type: "category", data: c.periods }, yAxis: { type: "value", axisLabel: { formatter: fmt } }, series: series, animation: false }, true);
      el.dataset.drawn = id;
    }
    if (select) { select.addEventListener("change", () => draw(select.value)); draw(select.value); }
    window.addEventListener("resize", () => chart.resize());
  }

  // ---- upload with progress
  function startUpload() {
    const form = document.getElementById("upload-form");
    if (!form) return;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const file = document.getElementById("file").files[0];
      if (!file) return;
      const bar = document.getElementById("upload-progress");
      const state = document.getElementById("upload-state");
      const result = document.getElementById("upload-result");
      const data = new FormData();
      data.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/uploads/" + encodeURIComponent(form.dataset.kind));
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      bar.hidden = false; bar.value = 0; result.innerHTML = ""; state.textContent = "передача файла…";
      xhr.upload.onprogress = (p) => { if (p.lengthComputable) bar.value = Math.round((100 * p.loaded) / p.total); };
      xhr.upload.onload = () => { bar.value = 100; state.textContent = "файл передан, идёт проверка строк…"; };
      xhr.onload = () => { state.textContent = ""; result.innerHTML = xhr.responseText; };
      xhr.onerror = () => { state.textContent = "не удалось передать файл: нет связи"; };
      xhr.send(data);
    });
  }

  // ---- a live refresh that fails says so (the page keeps the figures it had, marked stale)
  function watchRefreshes() {
    const status = document.getElementById("live-status");
    const failing = new Set();  // the parts of the page showing stale figures
    const say = (el, text) => {
      status.hidden = false; status.classList.add("failed"); status.textContent = text;
      if (el) { el.classList.add("stale"); failing.add(el); }
    };
    document.body.addEventListener("htmx:responseError", (e) => {
      const code = e.detail.xhr ? e.detail.xhr.status : "";
      say(e.detail.elt, "не удалось обновить данные (ошибка " + code + "), показаны прежние значения");
    });
    document.body.addEventListener("htmx:sendError", (e) => {
      say(e.detail.elt, "не удалось обновить данные: нет связи с сервером, показаны прежние значения");
    });
    document.body.addEventListener("htmx:afterSwap", (e) => {
      e.detail.elt.classList.remove("stale");
      failing.delete(e.detail.elt);
      // "updated" only once every part that failed has refreshed
      if (failing.size === 0 && status.classList.contains("failed")) {
        status.classList.remove("failed"); status.textContent = "данные обновлены";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => { watchRefreshes(); startLive(); startChart(); startUpload(); });
})();
