// Live updates for the run page: follows each job's log over server-sent events and refreshes the
// statuses from the API. Text is only ever inserted with textContent / text nodes, never as HTML.
(function () {
  'use strict';
  const FINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];

  function setStatus(el, status) {
    if (!el || el.dataset.status === status) return;
    el.dataset.status = status;
    el.textContent = status;
    el.className = 'status status-' + status;
  }

  // Follows one job's log. The stream can drop while the job runs (server restart, a proxy's idle
  // timeout); EventSource would then reconnect to the same URL, i.e. from offset 0, and append the whole
  // log again. So reconnect ourselves, from the byte offset already shown.
  function followLog(pre) {
    let offset = 0;
    let ended = false;
    let delay = 1000;
    function open() {
      const url = new URL(pre.dataset.logUrl, location.href);
      url.searchParams.set('offset', String(offset));
      const source = new EventSource(url);
      source.addEventListener('log', (e) => {
        const page = JSON.parse(e.data);
        delay = 1000;
        if (page.offset !== offset) return; // not the continuation of what is shown
        if (page.text) {
          const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
          pre.appendChild(document.createTextNode(page.text));
          if (atBottom && pre.dataset.follow !== 'off') pre.scrollTop = pre.scrollHeight;
        }
        offset = page.nextOffset;
      });
      source.addEventListener('end', () => { ended = true; source.close(); });
      source.onerror = () => {
        source.close();
        if (ended) return;
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
  }

  async function refreshRun(section) {
    const id = section.dataset.runId;
    try {
      const res = await fetch('/api/v1/runs/' + encodeURIComponent(id), { credentials: 'same-origin' });
      if (!res.ok) return;
      const run = await res.json();
      setStatus(section.querySelector(':scope > p .status'), run.status);
      for (const stage of run.stages) {
        const stageEl = [...section.querySelectorAll('.stage')].find((s) => s.dataset.stage === stage.name);
        if (!stageEl) continue;
        setStatus(stageEl.querySelector('h2 .status'), stage.status);
        for (const job of stage.jobs) {
          const jobEl = [...stageEl.querySelectorAll('.job')].find((j) => j.dataset.job === job.name);
          if (jobEl) setStatus(jobEl.querySelector('h3 .status'), job.status);
        }
      }
      if (FINAL.includes(run.status)) {
        if (section.dataset.reloaded !== 'yes') { section.dataset.reloaded = 'yes'; setTimeout(() => location.reload(), 1500); }
        return;
      }
    } catch (e) { /* transient: try again */ }
    setTimeout(() => refreshRun(section), 1000);
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('pre.log[data-log-url]').forEach(followLog);
    const run = document.getElementById('run');
    if (run) {
      const status = run.querySelector(':scope > p .status');
      if (!status || !FINAL.includes(status.dataset.status)) refreshRun(run);
    }
  });
})();
