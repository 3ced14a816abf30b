// The audit tab. In Teams: context (locale, theme) and the SSO token from @microsoft/teams-js.
// Outside Teams in local mode: the tenant simulator's sign-in page (implicit flow) gives the token.
// The server decides what the signed-in user may see; this page only shows it.
'use strict';
(function () {
  const app = document.getElementById('app');
  const params = new URLSearchParams(location.search);
  const state = { token: null, strings: null, locale: params.get('lang') || navigator.language || 'en', me: null };
  const tokenKey = 'smtpgate.tab.token';
  const stateKey = 'smtpgate.tab.state';

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v; else if (k === 'text') node.textContent = v; else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }
  function t(path, values) {
    let value = path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), state.strings && state.strings.tab);
    if (typeof value !== 'string') return path;
    for (const [k, v] of Object.entries(values || {})) value = value.split(`{{${k}}}`).join(v);
    return value;
  }
  function setStatus(text, isError) {
    app.replaceChildren(el('p', { class: isError ? 'status error' : 'status', role: isError ? 'alert' : null, text }));
  }
  function applyTheme(theme) {
    document.body.dataset.theme = theme === 'dark' || theme === 'contrast' ? theme : 'default';
  }
  function withTimeout(promise, ms) {
    return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
  }
  async function loadStrings() {
    const res = await fetch(`/api/tab/strings?lang=${encodeURIComponent(state.locale)}`);
    state.strings = await res.json();
    document.documentElement.lang = state.strings.language;
    document.title = t('title');
  }
  async function api(path) {
    const sep = path.includes('?') ? '&' : '?';
    return fetch(`${path}${sep}lang=${encodeURIComponent(state.strings.language)}`, { headers: { Authorization: `Bearer ${state.token}` } });
  }
  async function problem(res) {
    try { const body = await res.json(); return body.message || t('failed'); } catch { return t('failed'); }
  }

  /** Local mode outside Teams: a token from the simulator's sign-in page, kept for this browser tab. */
  function simulatorToken(config) {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get('access_token') && fragment.get('state') && fragment.get('state') === sessionStorage.getItem(stateKey)) {
      sessionStorage.setItem(tokenKey, fragment.get('access_token'));
      sessionStorage.removeItem(stateKey);
      history.replaceState(null, '', location.pathname + location.search);
    }
    const kept = sessionStorage.getItem(tokenKey);
    if (kept) return kept;
    const nonce = crypto.getRandomValues(new Uint32Array(4)).join('-');
    sessionStorage.setItem(stateKey, nonce);
    setStatus(t('signingIn'));
    location.assign(`${config.authorizeUrl}?${new URLSearchParams({ client_id: config.clientId, response_type: 'token', scope: 'access_as_user', redirect_uri: location.origin + location.pathname + location.search, state: nonce })}`);
    return null;
  }

  function currentFilters() {
    const form = document.querySelector('form.filters');
    const out = {};
    if (!form) return out;
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) out[k] = String(v).trim();
    return out;
  }

  function dateText(iso) {
    return iso ? new Date(iso).toLocaleString(state.strings.language, { dateStyle: 'medium', timeStyle: 'short' }) : '';
  }

  function table(columns, rows, testId) {
    if (rows.length === 0) return el('p', { class: 'empty', 'data-testid': `${testId}-empty`, text: t('empty') });
    return el('table', { 'data-testid': testId },
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', text: t(`columns.${c.key}`) })))),
      el('tbody', {}, rows.map((row) => el('tr', { 'data-id': row.id ?? row.seq }, columns.map((c) => {
        const value = c.value(row);
        return el('td', { class: c.class ? c.class(row) : null }, value);
      })))));
  }

  function render(data, filters) {
    const me = data.me;
    const auditor = me.itStaff || me.approver;
    const roles = [me.itStaff && t('roles.itStaff'), me.approver && t('roles.approver'), !auditor && t('roles.endUser')].filter(Boolean);
    const states = state.strings.states;
    const stateSelect = el('select', { name: 'state', 'aria-label': t('filters.state') }, el('option', { value: '', text: t('filters.anyState') }),
      Object.entries(states).map(([value, label]) => el('option', { value, text: label, selected: filters.state === value })));
    const form = el('form', { class: 'filters', role: 'search' },
      el('label', {}, t('filters.state'), stateSelect),
      auditor ? el('label', {}, t('filters.user'), el('input', { name: 'user', type: 'search', placeholder: t('filters.userPlaceholder'), value: filters.user || '', maxlength: '256' })) : null,
      el('label', {}, t('filters.from'), el('input', { name: 'from', type: 'date', value: filters.from || '' })),
      el('label', {}, t('filters.to'), el('input', { name: 'to', type: 'date', value: filters.to || '' })),
      el('button', { type: 'submit', class: 'primary', text: t('filters.apply') }),
      el('button', { type: 'button', 'data-action': 'clear', text: t('filters.clear') }),
      auditor ? el('button', { type: 'button', 'data-action': 'export', text: t('export') }) : null);
    form.addEventListener('submit', (event) => { event.preventDefault(); void load(currentFilters()); });
    form.querySelector('[data-action=clear]').addEventListener('click', () => void load({}));
    const exportButton = form.querySelector('[data-action=export]');
    if (exportButton) exportButton.addEventListener('click', () => void exportCsv(currentFilters()));

    const requestColumns = [
      { key: 'created', value: (r) => dateText(r.createdAt) },
      { key: 'command', value: (r) => r.command, class: () => 'mono' },
      { key: 'mailbox', value: (r) => (r.target ? `${r.target} <${r.targetUpn}>` : '') },
      { key: 'requester', value: (r) => r.requester },
      { key: 'justification', value: (r) => r.justification || '' },
      { key: 'state', value: (r) => states[r.state] || r.state, class: (r) => `state-${r.state}` },
    ];
    const sections = [
      el('h2', { text: auditor ? t('sections.requests') : t('sections.myRequests') }),
      auditor ? null : el('p', { class: 'note', text: t('endUserNote') }),
      table(requestColumns, data.requests, 'requests'),
    ];
    if (auditor) {
      sections.push(el('h2', { text: t('sections.exceptions') }), table([
        { key: 'mailbox', value: (e) => `${e.mailbox} <${e.upn}>` },
        { key: 'justification', value: (e) => e.justification },
        { key: 'requester', value: (e) => e.requester },
        { key: 'approvers', value: (e) => e.approvers.join(', ') },
        { key: 'ends', value: (e) => (e.expiresAt ? dateText(e.expiresAt) : t('noEnd')) },
        { key: 'state', value: (e) => t(`exceptionStates.${e.state}`), class: (e) => `state-${e.state}` },
      ], data.exceptions, 'exceptions'));
      sections.push(el('h2', { text: t('sections.events') }), table([
        { key: 'at', value: (e) => dateText(e.at) },
        { key: 'action', value: (e) => e.action, class: () => 'mono' },
        { key: 'actor', value: (e) => e.actorId || '', class: () => 'mono' },
        { key: 'request', value: (e) => e.requestId || '', class: () => 'mono' },
      ], data.events, 'events'));
    }
    app.replaceChildren(
      el('header', {}, el('h1', { text: t('title') }), el('span', { class: 'who', 'data-testid': 'who' }, t('signedInAs', { name: me.name || me.userPrincipalName }), roles.map((r) => el('span', { class: 'chip', text: r })))),
      form, el('p', { class: 'status', id: 'message', role: 'alert' }), ...sections.filter(Boolean));
  }

  async function load(filters) {
    const res = await api(`/api/audit?${new URLSearchParams(filters)}`);
    if (res.status === 401 && sessionStorage.getItem(tokenKey)) {
      sessionStorage.removeItem(tokenKey);
      return start();
    }
    if (!res.ok) {
      const message = await problem(res);
      const slot = document.getElementById('message');
      if (slot) slot.textContent = message; else setStatus(message, true);
      return;
    }
    render(await res.json(), filters);
  }

  async function exportCsv(filters) {
    const res = await api(`/api/audit.csv?${new URLSearchParams(filters)}`);
    if (!res.ok) { document.getElementById('message').textContent = await problem(res); return; }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')?.[1] || 'smtp-gate-audit.csv';
    const url = URL.createObjectURL(await res.blob());
    const link = el('a', { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function start() {
    applyTheme(params.get('theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'default'));
    await loadStrings();
    setStatus(t('loading'));
    const config = await (await fetch('/api/tab/config')).json();
    const teams = window.microsoftTeams;
    if (window.self !== window.top && teams) {
      try {
        await withTimeout(teams.app.initialize(), 10_000);
        const context = await teams.app.getContext();
        applyTheme(context.app.theme);
        teams.app.registerOnThemeChangeHandler(applyTheme);
        if (context.app.locale && context.app.locale !== state.locale) { state.locale = context.app.locale; await loadStrings(); }
        state.token = await teams.authentication.getAuthToken();
        teams.app.notifySuccess();
      } catch (error) {
        setStatus(t('failed'), true);
        if (teams.app && teams.app.notifyFailure) teams.app.notifyFailure({ reason: 'AuthFailed', message: String(error && error.message || error) });
        return;
      }
    } else if (config.localMode) {
      state.token = simulatorToken(config);
      if (!state.token) return;
    } else {
      setStatus(t('openInTeams'), true);
      return;
    }
    await load({});
  }

  start().catch(() => setStatus(state.strings ? t('failed') : 'The audit could not be loaded.', true));
})();
