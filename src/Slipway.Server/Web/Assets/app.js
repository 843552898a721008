// Live updates: follows each job's log over server-sent events, refreshes the run page's statuses from the
// API, and refreshes the live regions of other pages (the environments dashboard, a deployment) in place.
// Log text is only ever inserted with textContent / text nodes, never as HTML; a live region is replaced by
// the same region of the page as the server renders it again (same origin, escaped by Razor). An error page's
// "back" link goes back in the browser's history.
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
    if (pre.dataset.following === 'yes') return;
    pre.dataset.following = 'yes';
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

  // Whether the user is in the middle of something in this region: typing, or a field changed from what was rendered.
  function busy(region) {
    const active = document.activeElement;
    if (active && region.contains(active) && active.matches('input, textarea, select')) return true;
    for (const field of region.querySelectorAll('input, textarea')) {
      if (field.type === 'hidden') continue;
      if (field.type === 'checkbox' || field.type === 'radio') { if (field.checked !== field.defaultChecked) return true; }
      else if (field.value !== field.defaultValue) return true;
    }
    return false;
  }

  // What a region shows, leaving out what changes without meaning: streamed log text, the per-render form token.
  function signature(region) {
    const copy = region.cloneNode(true);
    copy.querySelectorAll('pre.log').forEach((p) => { p.textContent = ''; p.removeAttribute('data-following'); });
    copy.querySelectorAll('input[name="__RequestVerificationToken"]').forEach((i) => i.removeAttribute('value'));
    return copy.innerHTML;
  }

  function replaceRegion(old, fresh) {
    // Keep streaming logs: the fresh copy's empty log element gives way to the one already following that URL.
    for (const pre of fresh.querySelectorAll('pre.log[data-log-url]')) {
      const streaming = [...old.querySelectorAll('pre.log[data-log-url]')].find((p) => p.dataset.logUrl === pre.dataset.logUrl);
      if (streaming) pre.replaceWith(streaming);
    }
    for (const details of old.querySelectorAll('details[id]')) {
      const same = fresh.querySelector('#' + CSS.escape(details.id));
      if (same) same.open = details.open;
    }
    old.replaceWith(fresh);
    fresh.querySelectorAll('pre.log[data-log-url]').forEach(followLog);
  }

  // Regions marked data-live="MS" are fetched again (the page's own URL) every MS milliseconds while the tab is
  // visible, and replaced when what they show changed; one rendered with data-live-final="true" stops.
  function followRegions() {
    const live = () => [...document.querySelectorAll('[data-live][id]')].filter((r) => r.dataset.liveFinal !== 'true');
    if (live().length === 0) return;
    const every = Math.max(1000, Math.min(...live().map((r) => Number(r.dataset.live) || 3000)));
    async function tick() {
      const regions = live();
      if (regions.length === 0) return;
      if (!document.hidden) {
        try {
          const res = await fetch(location.pathname, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
          if (res.ok && !res.redirected) {
            const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
            for (const region of regions) {
              const fresh = doc.getElementById(region.id);
              if (!fresh || busy(region) || signature(fresh) === signature(region)) continue;
              replaceRegion(region, document.importNode(fresh, true));
            }
          }
        } catch (e) { /* transient: try again */ }
      }
      setTimeout(tick, every);
    }
    setTimeout(tick, every);
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('pre.log[data-log-url]').forEach(followLog);
    followRegions();
    // An error page's "back" link: the previous page is only known to the browser's history (no Referer is sent).
    document.querySelectorAll('a[data-history-back]').forEach((a) => {
      if (history.length < 2) return;
      a.hidden = false;
      a.addEventListener('click', (e) => { e.preventDefault(); history.back(); });
    });
    const run = document.getElementById('run');
    if (run) {
      const status = run.querySelector(':scope > p .status');
      if (!status || !FINAL.includes(status.dataset.status)) refreshRun(run);
    }
  });
})();
