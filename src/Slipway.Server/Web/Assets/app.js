// Live updates: follows each job's log over server-sent events, refreshes the run page's statuses from the
// API, and refreshes the live regions of other pages (the environments dashboard, a deployment) in place.
// Log text is only ever inserted with textContent / text nodes, never as HTML; a live region is replaced by
// the same region of the page as the server renders it again (same origin, escaped by Razor). An error page's
// "back" link goes back in the browser's history.
// Logs keep their ANSI colour codes (SGR) and fold sections (::group:: / GitLab's section_start): both become elements
// whose only attributes are class names from a fixed list and whose only content is text nodes, so a log can style
// itself but never inject markup (see docs/pipeline-file.md, "Log output").
(function () {
  'use strict';
  const FINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];

  function setStatus(el, status) {
    if (!el || el.dataset.status === status) return;
    el.dataset.status = status;
    el.textContent = status.replace(/_/g, ' ');
    el.className = 'status status-' + status;
  }

  // ---- Log rendering: ANSI colours and collapsible sections --------------------------------------------------------
  // Escape sequences: CSI (ESC [ params final) — only SGR (final 'm') is applied, the rest dropped; OSC (ESC ] ... BEL/ST)
  // dropped (BEL arrives as U+FFFD, the server replaces control bytes); any other ESC with its next character dropped.
  const ESCAPES = /\u001b(?:\[([0-?]*)[ -\/]*([@-~])|\][^\u001b\u0007\ufffd]*(?:\u0007|\ufffd|\u001b\\)?|[\s\S]?)/g;
  const GROUP = /^::group::(.*)$/;
  const ENDGROUP = /^::endgroup::/;
  // GitLab: section_start:UNIX_TIME:NAME[OPTIONS]\r\e[0KTITLE and section_end:UNIX_TIME:NAME\r\e[0K. The server turns the
  // lone \r into a line end, so the title comes as the next line, after ESC[0K.
  const SECTION_START = /^(?:\u001b\[0K)?section_start:\d+:([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?((?:\u001b\[0K.*)?)$/;
  // "[slipway] attempt N of job 'NAME' started T UTC[; attempt N-1 failed: WHY] (mark M)"
  const ATTEMPT = /^\[slipway\] attempt (\d+) of job .*? UTC(?:; attempt \d+ (failed: .*))? \(mark ([0-9a-f]{8})\)$/;
  const SECTION_END = /^(?:\u001b\[0K)?section_end:\d+:([A-Za-z0-9_.-]+)(?:\u001b\[0K)?$/;
  const ERASE_PREFIX = '\u001b[0K';

  function sgr(style, params) {
    const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) { style.fg = null; style.bg = null; style.bold = false; }
      else if (c === 1) style.bold = true;
      else if (c === 22) style.bold = false;
      else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) style.fg = c;
      else if (c === 39) style.fg = null;
      else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) style.bg = c;
      else if (c === 49) style.bg = null;
      else if (c === 38 || c === 48 || c === 58) {
        // 256-colour and true-colour forms: skip their arguments so they are not read as other codes.
        if (codes[i + 1] === 5) i += 2; else if (codes[i + 1] === 2) i += 4;
      }
      // anything else (italic, underline, blink, ...): ignored
    }
  }

  function classesOf(style) {
    const names = [];
    if (style.bold) names.push('ansi-bold');
    if (style.fg !== null) names.push('ansi-' + style.fg);
    if (style.bg !== null) names.push('ansi-bg-' + style.bg);
    return names.join(' ');
  }

  // Appends text with its escape sequences applied to `parent`, as text nodes and classed spans; returns the nodes added.
  function appendStyled(parent, text, style) {
    const added = [];
    const emit = (part) => {
      if (!part) return;
      const classes = classesOf(style);
      let node;
      if (classes) { node = document.createElement('span'); node.className = classes; node.textContent = part; }
      else node = document.createTextNode(part);
      parent.appendChild(node);
      added.push(node);
    };
    let last = 0;
    ESCAPES.lastIndex = 0;
    for (let m = ESCAPES.exec(text); m !== null; m = ESCAPES.exec(text)) {
      emit(text.slice(last, m.index));
      if (m[2] === 'm') sgr(style, m[1]);
      last = ESCAPES.lastIndex;
      if (m[0].length === 0) ESCAPES.lastIndex++;
    }
    emit(text.slice(last));
    return added;
  }

  // One log box. Whole lines are interpreted (markers, colours); the unfinished last line is shown as it is and drawn
  // again when the rest of it arrives. The colour state carries over lines, as in a terminal.
  function logView(pre) {
    const style = { fg: null, bg: null, bold: false };
    const open = [];            // sections open, innermost last: { name, details, summary, body }
    let tail = '';              // the unfinished last line
    let tailNodes = [];
    let tailStyle = null;
    let after = null;           // 'start' or 'end' just after a GitLab marker: its ESC[0K line follows
    let shown = false;

    const here = () => (open.length ? open[open.length - 1].body : pre);

    function placeholder(text) {
      let note = pre.querySelector(':scope > .log-empty');
      if (!note) { note = document.createElement('span'); note.className = 'log-empty'; pre.appendChild(note); }
      note.textContent = text;
    }

    function openSection(name, title, collapsed) {
      const details = document.createElement('details');
      details.className = 'log-section';
      details.open = !collapsed;
      details.dataset.section = name;
      const summary = document.createElement('summary');
      appendStyled(summary, title, Object.assign({}, style));
      const body = document.createElement('div');
      body.className = 'log-section-body';
      details.append(summary, body);
      here().appendChild(details);
      open.push({ name, details, summary, body });
    }

    function closeSection(name) {
      const at = name === null ? open.length - 1 : open.map((s) => s.name).lastIndexOf(name);
      if (at >= 0) open.length = at;
    }

    // A later attempt of the job (the server writes "[slipway] attempt N of job ... (mark M)" when it hands the job out
    // again): what the attempt before it printed is folded away under "attempt N-1", so the attempts' output does not run
    // together. Only at a line whose mark the server lists for this job (data-attempt-marks, kept up to date by
    // refreshRun), each once: the job's own output is hostile and may print a look-alike line.
    const usedMarks = new Set();
    function isAttemptStart(match) {
      if (!match || Number(match[1]) < 2 || usedMarks.has(match[3])) return false;
      if (!(pre.dataset.attemptMarks || '').split(' ').includes(match[3])) return false;
      usedMarks.add(match[3]);
      return true;
    }
    function foldEarlierAttempt(n, ended) {
      open.length = 0;
      const earlier = [];
      for (let node = pre.lastChild; node && !(node instanceof Element && node.classList.contains('log-attempt')); node = node.previousSibling) {
        if (!(node instanceof Element && node.classList.contains('log-empty'))) earlier.unshift(node);
      }
      const details = document.createElement('details');
      details.className = 'log-section log-attempt';
      details.dataset.attempt = String(n - 1);
      const summary = document.createElement('summary');
      summary.textContent = 'attempt ' + (n - 1) + (ended ? ' — ' + ended : '');
      const body = document.createElement('div');
      body.className = 'log-section-body';
      body.append(...earlier);
      details.append(summary, body);
      pre.appendChild(details);
    }

    function line(text) {
      const attempt = ATTEMPT.exec(text);
      if (isAttemptStart(attempt)) {
        foldEarlierAttempt(Number(attempt[1]), attempt[2]);
        text = text.slice(0, text.length - ' (mark '.length - 9); // the mark is for this page, not for the reader
      }
      const marker = after;
      after = null;
      if (marker && text.startsWith(ERASE_PREFIX)) {
        const rest = text.slice(ERASE_PREFIX.length);
        if (marker === 'start') {
          const section = open[open.length - 1];
          if (section && rest) { section.summary.textContent = ''; appendStyled(section.summary, rest, Object.assign({}, style)); }
          return;
        }
        if (rest === '') return;
        text = rest;
      }
      let m;
      if ((m = GROUP.exec(text))) { openSection('group', m[1].trim() || 'group', false); return; }
      if (ENDGROUP.test(text)) { closeSection(null); return; }
      if ((m = SECTION_START.exec(text))) {
        const options = (m[2] || '').split(',').map((o) => o.trim());
        const title = m[3].startsWith(ERASE_PREFIX) ? m[3].slice(ERASE_PREFIX.length) : '';
        openSection(m[1], title || m[1], options.includes('collapsed=true'));
        if (!title) after = 'start';
        return;
      }
      if ((m = SECTION_END.exec(text))) { closeSection(m[1]); after = 'end'; return; }
      appendStyled(here(), text + '\n', style);
    }

    return {
      // Adds a piece of the log (any boundary: mid-line, mid-sequence).
      append(text) {
        if (!text) return;
        if (!shown) { shown = true; pre.querySelector(':scope > .log-empty')?.remove(); }
        tailNodes.forEach((n) => n.remove());
        tailNodes = [];
        if (tailStyle) Object.assign(style, tailStyle);
        const lines = (tail + text).split('\n');
        tail = lines.pop();
        for (const l of lines) line(l);
        tailStyle = Object.assign({}, style);
        tailNodes = appendStyled(here(), tail, style);
      },
      // The log is complete: its last line is final, and an empty log says so.
      end() {
        tailNodes.forEach((n) => n.remove());
        tailNodes = [];
        if (tailStyle) Object.assign(style, tailStyle);
        if (tail) { const last = tail; tail = ''; after = null; line(last); }
        if (!shown) placeholder('no output');
      },
    };
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
    const view = logView(pre);
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
          view.append(page.text);
          if (atBottom && pre.dataset.follow !== 'off') pre.scrollTop = pre.scrollHeight;
        }
        offset = page.nextOffset;
      });
      source.addEventListener('end', () => { ended = true; source.close(); view.end(); });
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
          if (!jobEl) continue;
          setStatus(jobEl.querySelector('h3 .status'), job.status);
          // A retry while the page is open: the new attempt's mark, so its first line folds the earlier output.
          const pre = jobEl.querySelector('pre.log');
          if (pre && job.attemptMarks) pre.dataset.attemptMarks = job.attemptMarks.join(' ');
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

  // A destructive form asks first (data-confirm holds the question): a stray click must not cancel a deployment.
  document.addEventListener('submit', (e) => {
    const question = e.target instanceof HTMLFormElement ? e.target.dataset.confirm : undefined;
    if (question && !window.confirm(question)) e.preventDefault();
  }, true);

  // A refused form keeps what was typed. The server answers a refusal by going back to the page with its reason; before
  // the form leaves, what was typed is kept for this tab (sessionStorage), and put back when the next page shows an
  // error and has the same form. Never kept: passwords, hidden fields (anti-forgery token), files, fields marked
  // data-not-kept (a variable's value, a script or command, a checked address: any may hold a secret) and an address with
  // a user or password in it (https://user:token@host/...). Not for forms that guard against overwriting someone else's
  // change (a "seen" field): there the user must look at the page as it is now. The form is found again by its id, or by
  // its address and hidden fields (the promote forms of two environments differ only in those).
  const KEPT = 'slipway.refusable-form';
  const SKIPPED = '[data-not-kept], input[type=password], input[type=hidden], input[type=file], input[type=submit], button';

  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (e.defaultPrevented || !(form instanceof HTMLFormElement) || form.method !== 'post' || form.querySelector('input[name=seen]')) return;
    const fields = [];
    const hidden = {};
    const files = [];   // file inputs that had files: a page cannot put those back, so it says to choose them again
    for (const el of form.elements) {
      if (el.name && el.type === 'file' && el.files && el.files.length > 0) files.push(el.name);
      if (el.name && el.type === 'hidden' && el.name !== '__RequestVerificationToken') hidden[el.name] = el.value;
      if (!el.name || el.disabled || el.matches(SKIPPED) || withCredentials(el.value)) continue;
      if (el.type === 'checkbox' || el.type === 'radio') fields.push({ name: el.name, value: el.value, checked: el.checked });
      else if (el instanceof HTMLSelectElement && el.multiple) fields.push({ name: el.name, values: [...el.selectedOptions].map((o) => o.value) });
      else fields.push({ name: el.name, value: el.value });
    }
    try {
      sessionStorage.setItem(KEPT, JSON.stringify({ id: form.id, action: form.getAttribute('action'), hidden, fields, files }));
    } catch (_) { /* storage full or disabled: the form works as before */ }
  });

  // An address carrying a user name or password: a credential, never kept.
  function withCredentials(value) {
    if (typeof value !== 'string' || !value.includes('@') || !value.includes('://')) return false;
    try { const u = new URL(value.trim()); return u.username !== '' || u.password !== ''; } catch (_) { return true; }
  }

  function sameHidden(form, hidden) {
    const names = Object.keys(hidden || {});
    const mine = [...form.elements].filter((el) => el.type === 'hidden' && el.name && el.name !== '__RequestVerificationToken');
    return mine.length === names.length && mine.every((el) => hidden[el.name] === el.value);
  }

  function restoreRefusedForm() {
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(KEPT) || 'null');
      sessionStorage.removeItem(KEPT);
    } catch (_) { return; }
    if (!kept || !document.querySelector('.flash.error')) return;
    const form = kept.id ? document.getElementById(kept.id)
      : [...document.querySelectorAll('form[method=post]')].find((f) => f.getAttribute('action') === kept.action && sameHidden(f, kept.hidden));
    if (!(form instanceof HTMLFormElement) || form.getAttribute('action') !== kept.action) return;
    const seen = {};
    for (const field of kept.fields) {
      const named = [...form.elements].filter((el) => el.name === field.name && !el.matches(SKIPPED));
      if ('checked' in field) {
        const box = named.find((el) => el.value === field.value);
        if (box) box.checked = field.checked;
      } else if ('values' in field) {
        const select = named[0];
        if (select instanceof HTMLSelectElement) for (const o of select.options) o.selected = field.values.includes(o.value);
      } else {
        const i = seen[field.name] = (seen[field.name] ?? -1) + 1;
        if (named[i]) named[i].value = field.value;
      }
    }
    for (const name of kept.files || []) {
      const input = [...form.elements].find((el) => el.name === name && el.type === 'file');
      if (!input) continue;
      const note = document.createElement('span');
      note.className = 'hint files-again';
      note.textContent = 'Choose the files again: a browser cannot keep them after a refusal.';
      input.insertAdjacentElement('afterend', note);
    }
    // A form folded away (a <details> "New ..." section) is opened, so the user sees what came back.
    for (let d = form.closest('details'); d; d = d.parentElement?.closest('details')) d.open = true;
    form.dataset.restored = 'true';
  }

  document.addEventListener('DOMContentLoaded', () => {
    restoreRefusedForm();
    // A form's message is shown once: the address loses it, so a reload (or the run page's own reload) does not repeat it.
    const url = new URL(location.href);
    if (['ok', 'error', 'sig'].some((k) => url.searchParams.has(k))) {
      ['ok', 'error', 'sig'].forEach((k) => url.searchParams.delete(k));
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    }
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
