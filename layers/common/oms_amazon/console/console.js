// The connector's web console: vanilla JavaScript, no build step, no dependency.
//
// Every screen is drawn from the public API, called with the signed-in identity: in AWS a Cognito ID token
// (the user pool's hosted UI, authorization code + PKCE); locally the gateway's identity headers
// (`/console/?as=<client_id>[&admin=true]`). The console holds no rule of its own: what may be done, and what
// is wrong with an input, is the API's answer, shown as it comes. Data is put in the page as text only
// (textContent), never as HTML.
'use strict';

(() => {
  const BASE = location.pathname.replace(/\/console(\/.*)?$/, '');
  const CONSOLE_URL = `${location.origin}${BASE}/console/`;
  const APPSTORE_KEYS = ['amazon_callback_uri', 'amazon_state', 'selling_partner_id', 'version'];
  const TOKEN_KEY = 'oms.console.id_token';
  const TOKEN_EXPIRY_KEY = 'oms.console.id_token_expires_at';
  const PKCE_KEY = 'oms.console.pkce';
  const APPSTORE_KEY = 'oms.console.appstore';

  const main = document.getElementById('main');
  const statusBox = document.getElementById('status');
  const params = new URLSearchParams(location.search);
  const app = { config: null, identity: null, marketplaces: [], features: { release: false, aliases: false } };
  let uid = 0;
  let poller = null;

  // ---- DOM helpers -----------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
      else if (name === 'class') el.className = value;
      else if (name === 'text') el.textContent = value;
      else if (value === true) el.setAttribute(name, '');
      else el.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function nextId(prefix) {
    uid += 1;
    return `${prefix}-${uid}`;
  }

  function input(label, attrs = {}, hint = null) {
    const id = attrs.id || nextId('f');
    const control = h('input', { type: 'text', ...attrs, id });
    const hintId = hint ? `${id}-hint` : null;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control,
      hint ? h('span', { class: 'hint', id: hintId, text: hint }) : null);
  }

  function checkbox(label, attrs = {}) {
    const id = attrs.id || nextId('f');
    return h('div', { class: 'field check' }, h('input', { type: 'checkbox', ...attrs, id }), h('label', { for: id, text: label }));
  }

  function select(label, options, attrs = {}, hint = null) {
    const id = attrs.id || nextId('f');
    const control = h('select', { ...attrs, id },
      options.map(([value, text]) => h('option', { value, selected: String(attrs.value ?? '') === String(value), text })));
    if (attrs.value !== undefined) control.value = String(attrs.value);
    const hintId = hint ? `${id}-hint` : null;
    if (hintId) control.setAttribute('aria-describedby', hintId);
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), control,
      hint ? h('span', { class: 'hint', id: hintId, text: hint }) : null);
  }

  function table(caption, headers, rows, empty) {
    if (!rows.length) return h('p', { class: 'muted', text: empty });
    return h('table', {},
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, headers.map((title) => h('th', { scope: 'col', class: title.endsWith('#') ? 'num' : null, text: title.replace(/#$/, '') })))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => (cell instanceof Node && cell.tagName === 'TD' ? cell : h('td', {}, cell)))))));
  }

  function num(value) {
    return h('td', { class: 'num', text: value === null || value === undefined ? '–' : String(value) });
  }

  function pill(kind, text) {
    return h('span', { class: `pill ${kind}`, text });
  }

  function when(iso) {
    if (!iso) return '–';
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime()) ? iso : moment.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  }

  // Draw a view: its parts, leaving out the ones that are not there.
  function render(...nodes) {
    main.replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined && node !== false));
  }

  function say(message) {
    statusBox.replaceChildren(h('p', { text: message }));
    window.clearTimeout(say.timer);
    say.timer = window.setTimeout(() => statusBox.replaceChildren(), 6000);
  }

  // An API error, as the API said it: its message, its code, and what it listed in details.
  function errorBox(error) {
    const details = (error.details || []).map((d) => [d.field, d.reason, d.suggestions ? `(${[].concat(d.suggestions).join(', ')})` : null].filter(Boolean).join(': '));
    return h('div', { class: 'alert', role: 'alert' },
      h('p', {}, error.message, error.code ? h('span', { class: 'mono' }, ` [${error.code}]`) : null),
      details.length ? h('ul', {}, details.map((d) => h('li', { text: d }))) : null);
  }

  function noticeBox(...content) {
    return h('div', { class: 'notice', role: 'status' }, ...content);
  }

  function heading(title, lead) {
    document.title = `${title} · Amazon connector console`;
    return [h('h1', { text: title }), lead ? h('p', { class: 'lead', text: lead }) : null];
  }

  function formValues(form) {
    const values = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if (el.type === 'checkbox') values[el.name] = el.checked;
      else if (el.type === 'radio') { if (el.checked) values[el.name] = el.value; }
      else values[el.name] = el.value.trim();
    }
    return values;
  }

  function intOrNull(text) {
    if (text === '' || text === undefined || text === null) return null;
    const value = Number(text);
    return Number.isFinite(value) ? value : text;
  }

  // A form whose submit runs `action`; its error box shows whatever the API answered.
  function onSubmit(form, action) {
    const slot = h('div', { class: 'form-result' });
    form.append(slot);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const buttons = [...form.querySelectorAll('button[type="submit"]')];
      buttons.forEach((b) => { b.disabled = true; });
      slot.replaceChildren();
      try {
        const result = await action(formValues(form), event.submitter);
        if (result instanceof Node) slot.replaceChildren(result);
      } catch (error) {
        slot.replaceChildren(errorBox(error));
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    });
    return form;
  }

  function confirmDialog(text, okLabel) {
    const dialog = document.getElementById('confirm-dialog');
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-ok').textContent = okLabel || 'Delete';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
      dialog.showModal();
      document.getElementById('confirm-cancel').focus();
    });
  }

  // ---- the API -----------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || `The API answered ${status}.`);
      this.status = status;
      this.code = error.code || null;
      this.details = error.details || [];
    }
  }

  function identityHeaders() {
    const identity = app.identity;
    if (identity.mode === 'local') {
      const headers = {};
      if (identity.clientId) headers['X-Client-Id'] = identity.clientId;
      if (identity.admin) headers['X-Admin'] = 'true';
      return headers;
    }
    return { Authorization: identity.token };
  }

  async function api(method, path, body) {
    const url = new URL(`${BASE}${path}`, location.origin);
    if (app.identity.actFor) url.searchParams.set('client_id', app.identity.actFor);
    const headers = { Accept: 'application/json', ...identityHeaders() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    if (response.status === 401 && app.identity.mode === 'cognito') {
      forgetToken();
      await signIn();
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  async function everything(path, limit = 100) {
    const items = [];
    let token = null;
    for (let page = 0; page < 20; page += 1) {
      const url = new URL(`${BASE}${path}`, location.origin);
      url.searchParams.set('limit', String(limit));
      if (token) url.searchParams.set('next_token', token);
      const data = await api('GET', url.pathname.slice(BASE.length) + url.search);
      items.push(...data.items);
      token = data.next_token;
      if (!token) break;
    }
    return items;
  }

  const seg = encodeURIComponent;

  // ---- signing in ----------------------------------------------------------------------------------------

  function b64url(bytes) {
    let text = '';
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function forgetToken() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_EXPIRY_KEY);
  }

  async function signIn() {
    const cfg = app.config;
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: cfg.client_id,
      redirect_uri: CONSOLE_URL,
      scope: 'openid email profile',
      state,
      code_challenge: b64url(new Uint8Array(digest)),
      code_challenge_method: 'S256',
    });
    location.assign(`${cfg.url}/oauth2/authorize?${query}`);
    return new Promise(() => {});
  }

  async function cognitoToken() {
    const cfg = app.config;
    if (params.has('code')) {
      const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
      sessionStorage.removeItem(PKCE_KEY);
      const code = params.get('code');
      const state = params.get('state');
      history.replaceState(null, '', CONSOLE_URL + ((pending && pending.hash) || ''));
      if (!pending || pending.state !== state) throw new Error('The sign-in did not come back as it was sent; sign in again.');
      const response = await fetch(`${cfg.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: cfg.client_id, code, redirect_uri: CONSOLE_URL, code_verifier: pending.verifier }),
      });
      if (!response.ok) throw new Error('The sign-in could not be completed; sign in again.');
      const tokens = await response.json();
      sessionStorage.setItem(TOKEN_KEY, tokens.id_token);
      sessionStorage.setItem(TOKEN_EXPIRY_KEY, String(Date.now() + Number(tokens.expires_in || 3600) * 1000));
      return tokens.id_token;
    }
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token && Date.now() < Number(sessionStorage.getItem(TOKEN_EXPIRY_KEY) || 0) - 60000) return token;
    return signIn();
  }

  function claimsOf(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch (_) {
      return {};
    }
  }

  function signOut() {
    if (app.identity.mode === 'cognito') {
      forgetToken();
      const query = new URLSearchParams({ client_id: app.config.client_id, logout_uri: CONSOLE_URL });
      location.assign(`${app.config.url}/logout?${query}`);
    } else {
      location.assign(CONSOLE_URL);
    }
  }

  // Amazon's Appstore hand-over (GET /oauth/login sends the browser here): kept across the sign-in.
  function stashAppstore() {
    if (params.get('appstore') !== '1') return;
    const handover = {};
    APPSTORE_KEYS.forEach((key) => { if (params.get(key)) handover[key] = params.get(key); });
    sessionStorage.setItem(APPSTORE_KEY, JSON.stringify(handover));
    APPSTORE_KEYS.concat(['appstore']).forEach((key) => params.delete(key));
    const query = params.toString();
    history.replaceState(null, '', `${CONSOLE_URL}${query ? `?${query}` : ''}#appstore`);
  }

  function appstoreHandover() {
    return JSON.parse(sessionStorage.getItem(APPSTORE_KEY) || 'null');
  }

  function renderLocalSignIn() {
    document.title = 'Sign in · Amazon connector console';
    const form = h('form', { class: 'panel', id: 'local-sign-in' },
      h('p', { class: 'lead', text: 'On the local stack there is no Cognito: the gateway takes the identity from the X-Client-Id and X-Admin headers, which this console sends for the client you name here (the same as opening /console/?as=<client_id>).' }),
      h('div', { class: 'grid' },
        input('Client id', { name: 'as', required: true, autocomplete: 'username', id: 'sign-in-client' }),
        checkbox('Administrator (the admins group)', { name: 'admin', id: 'sign-in-admin' })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Sign in' })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = formValues(form);
      const query = new URLSearchParams();
      if (values.as) query.set('as', values.as);
      if (values.admin) query.set('admin', 'true');
      location.assign(`${CONSOLE_URL}?${query}${location.hash}`);
    });
    render(...heading('Sign in', 'Sign in to act for one of the warehouse’s clients.'), form);
    document.getElementById('sign-in-client').focus();
  }

  function renderIdentity() {
    const box = document.getElementById('identity');
    const identity = app.identity;
    const who = identity.mode === 'cognito' ? (identity.email || identity.clientId || 'signed in') : identity.clientId || 'administrator';
    const parts = [h('span', { class: 'who', id: 'who', text: `${who}${identity.admin ? ' (admin)' : ''}${identity.actFor ? ` acting for ${identity.actFor}` : ''}` })];
    if (identity.admin) {
      const actFor = h('form', { id: 'act-for' },
        h('label', { for: 'act-for-client', text: 'Act for client' }),
        h('input', { type: 'text', id: 'act-for-client', name: 'client', value: identity.actFor || '' }),
        h('button', { type: 'submit', text: 'Switch' }));
      actFor.addEventListener('submit', (event) => {
        event.preventDefault();
        const value = actFor.elements.client.value.trim();
        if (value) params.set('client', value); else params.delete('client');
        location.assign(`${CONSOLE_URL}?${params}${location.hash}`);
      });
      parts.push(actFor);
    }
    parts.push(h('button', { type: 'button', id: 'sign-out', onclick: signOut, text: 'Sign out' }));
    box.replaceChildren(...parts);
    document.getElementById('sections').hidden = false;
  }

  // ---- shared data ------------------------------------------------------------------------------------------

  async function accounts() {
    return everything('/accounts');
  }

  function marketplaceName(code) {
    const found = app.marketplaces.find((m) => m.code === code);
    return found ? `${found.name} (${code})` : code;
  }

  function marketplaceOptions() {
    return app.marketplaces.map((m) => [m.code, `${m.name} (${m.code})`]);
  }

  function accountLabel(account) {
    return `${account.name} · ${account.marketplace}`;
  }

  function authorisationPill(authorisation) {
    const kind = { ok: 'ok', authorisation_required: 'warn', rejected: 'bad' }[authorisation.status] || 'none';
    const text = { ok: 'authorised', authorisation_required: 'needs Authorise Now', rejected: 'rejected by Amazon' }[authorisation.status] || authorisation.status;
    return pill(kind, text);
  }

  function skippedText(skipped) {
    const entries = Object.entries(skipped || {}).filter(([, count]) => count);
    return entries.length ? entries.map(([reason, count]) => `${reason.replace(/_/g, ' ')} ${count}`).join(', ') : 'none';
  }

  function hashQuery() {
    const index = location.hash.indexOf('?');
    return new URLSearchParams(index >= 0 ? location.hash.slice(index + 1) : '');
  }

  function go(view, query) {
    const suffix = query ? `?${new URLSearchParams(query)}` : '';
    const target = `#${view}${suffix}`;
    if (location.hash === target) route(); else location.hash = target;
  }

  // ---- Amazon accounts ---------------------------------------------------------------------------------------

  function accountFields(values, creating) {
    const rules = values.stock_rules || {};
    const fields = [];
    if (creating) {
      fields.push(
        input('Seller ID (merchantId)', { name: 'merchant_id', required: true, autocomplete: 'off', value: values.merchant_id || '' }, 'From Seller Central: the same for every marketplace.'),
        select('Marketplace', marketplaceOptions(), { name: 'marketplace', value: values.marketplace || 'UK' }));
    }
    fields.push(
      input('Name', { name: 'name', value: values.name || '' }, creating ? 'Optional: defaults to "<Seller ID> <marketplace>".' : null),
      select('Active', [['false', 'N'], ['true', 'Y']], { name: 'active', value: String(Boolean(values.active)) }, 'Set to N until you are ready.'),
      checkbox('Sync stock levels', { name: 'sync_stock', checked: Boolean(values.sync_stock) }),
      input('Stock sync delay (minutes)', { type: 'number', name: 'stock_sync_delay_minutes', value: values.stock_sync_delay_minutes || 15, step: 1 }, 'How often stock is sent: the minimum is 15 minutes.'),
      checkbox('Include bundles in stock sync', { name: 'include_bundles_in_stock_sync', checked: Boolean(values.include_bundles_in_stock_sync) }),
      checkbox('Import orders', { name: 'import_orders', checked: values.import_orders !== false }),
      input('Default courier service', { name: 'default_courier_service', value: values.default_courier_service || '' }, 'For standard, non-Prime orders whose term has no mapping.'));
    const ruleFields = h('fieldset', { class: 'wide' }, h('legend', { text: 'Stock rules' }),
      h('div', { class: 'grid' },
        input('Buffer (subtract)', { type: 'number', name: 'buffer', value: rules.buffer ?? '', min: 0 }),
        input('Send 0 at or below', { type: 'number', name: 'zero_at_or_below', value: rules.zero_at_or_below ?? '', min: 0 }),
        input('Maximum quantity', { type: 'number', name: 'max_quantity', value: rules.max_quantity ?? '', min: 0 })));
    return [h('div', { class: 'grid' }, fields), ruleFields];
  }

  function accountBody(values) {
    const body = {
      name: values.name || undefined,
      active: values.active === 'true',
      sync_stock: values.sync_stock,
      stock_sync_delay_minutes: intOrNull(values.stock_sync_delay_minutes),
      include_bundles_in_stock_sync: values.include_bundles_in_stock_sync,
      import_orders: values.import_orders,
      default_courier_service: values.default_courier_service || null,
    };
    const rules = {};
    ['buffer', 'zero_at_or_below', 'max_quantity'].forEach((name) => { if (values[name] !== '') rules[name] = intOrNull(values[name]); });
    body.stock_rules = Object.keys(rules).length ? rules : null;
    return body;
  }

  function createAccountForm(onDone) {
    const legacy = h('fieldset', { class: 'wide' }, h('legend', { text: 'Credentials from the old connection (optional)' }),
      h('div', { class: 'grid' },
        input('MWS Auth Token or SP-API refresh token', { name: 'auth_token', autocomplete: 'off' }, 'Leave empty and use Authorise Now: MWS tokens stopped working when Amazon retired MWS.'),
        input('AccessKey', { name: 'access_key', autocomplete: 'off' }, 'Custom AWS keys are not supported.'),
        input('SecretAccessKey', { name: 'secret_access_key', autocomplete: 'off' })));
    const form = h('form', { class: 'panel', id: 'create-account', 'aria-labelledby': 'create-account-title' },
      h('h2', { id: 'create-account-title', text: 'Create new account' }),
      accountFields({}, true), legacy,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-account-submit', text: 'Create' })));
    return onSubmit(form, async (values) => {
      const body = { merchant_id: values.merchant_id, marketplace: values.marketplace, ...accountBody(values) };
      if (!body.stock_rules) delete body.stock_rules;
      ['auth_token', 'access_key', 'secret_access_key'].forEach((name) => { if (values[name]) body[name] = values[name]; });
      const created = await api('POST', '/accounts', body);
      say(`Account ${created.name} created.`);
      onDone(created);
      return null;
    });
  }

  function authorisePanel(account, slot) {
    const result = h('div', {});
    const openNow = h('button', {
      type: 'button',
      class: 'primary',
      text: 'Open Amazon consent now',
      onclick: async () => {
        try {
          const consent = await api('GET', `/accounts/${seg(account.id)}/authorise`);
          location.assign(consent.consent_url);
        } catch (error) {
          result.replaceChildren(errorBox(error));
        }
      },
    });
    const makeLink = h('button', {
      type: 'button',
      text: 'Create a link to e-mail',
      onclick: async () => {
        try {
          const link = await api('POST', `/accounts/${seg(account.id)}/authorisation-links`);
          const id = nextId('link');
          const box = h('input', { type: 'text', id, readonly: true, class: 'link-box mono', value: link.url });
          result.replaceChildren(noticeBox(
            h('p', { text: `Send this link to the seller. It opens Amazon's consent page for ${account.merchant_id} (${account.marketplace}) and stays valid until ${when(link.expires_at)}.` }),
            h('div', { class: 'field' }, h('label', { for: id, text: 'Authorise Now link' }), box),
            h('div', { class: 'actions' }, h('button', {
              type: 'button',
              text: 'Copy link',
              onclick: async () => {
                box.select();
                try { await navigator.clipboard.writeText(link.url); say('Link copied.'); } catch (_) { say('Select the link and copy it.'); }
              },
            }))));
          box.focus();
        } catch (error) {
          result.replaceChildren(errorBox(error));
        }
      },
    });
    slot.replaceChildren(h('div', { class: 'panel', id: `authorise-${account.id}` },
      h('h3', { text: `Authorise Now: ${account.name}` }),
      h('p', { text: 'The seller signs in to Seller Central and confirms; Amazon then sends them back here. The same authorisation covers every marketplace of this seller.' }),
      h('div', { class: 'actions' }, openNow, makeLink), result));
    makeLink.focus();
  }

  function editPanel(account, slot, reload) {
    const form = h('form', { class: 'panel', id: `edit-${account.id}`, 'aria-label': `Edit ${account.name}` },
      h('h3', { text: `Edit ${account.name}` }),
      h('p', { class: 'muted', text: `Seller ${account.merchant_id}, ${marketplaceName(account.marketplace)}: these cannot change.` }),
      accountFields(account, false),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Save' }),
        h('button', { type: 'button', text: 'Cancel', onclick: () => slot.replaceChildren() })));
    slot.replaceChildren(onSubmit(form, async (values) => {
      const body = { ...accountBody(values), version: account.version };
      if (!values.name) delete body.name;
      await api('PATCH', `/accounts/${seg(account.id)}`, body);
      say(`Account ${account.name} saved.`);
      reload();
      return null;
    }));
    form.querySelector('input, select').focus();
  }

  async function viewAccounts() {
    const [list, held] = await Promise.all([accounts(), everything('/orders?status=on_hold').catch(() => [])]);
    const onHold = {};
    held.forEach((order) => { onHold[order.account_id] = (onHold[order.account_id] || 0) + 1; });
    const slot = h('div', { id: 'account-panel' });
    const reload = () => route();
    const rows = list.map((account) => {
      const last = account.last_stock_sync;
      const stock = last
        ? [pill(last.status === 'failed' ? 'bad' : 'ok', last.status), ` sent ${last.skus_sent}, skipped: ${skippedText(last.skipped)}, errors ${last.errors}`]
        : account.sync_stock ? 'not run yet' : 'off';
      const ordersText = account.import_orders
        ? `${account.last_order_import_at ? `last ${when(account.last_order_import_at)}` : 'not run yet'}; ${onHold[account.id] || 0} on hold`
        : 'off';
      return [
        h('span', {}, h('strong', { text: account.name }), h('br'), h('span', { class: 'muted mono', text: account.merchant_id })),
        marketplaceName(account.marketplace),
        account.active ? pill('ok', 'Y') : pill('none', 'N'),
        h('span', {}, authorisationPill(account.authorisation), account.authorisation.hint ? h('span', { class: 'muted', text: ` ${account.authorisation.hint}` }) : null),
        h('span', {}, stock),
        ordersText,
        h('div', { class: 'actions' },
          h('button', { type: 'button', 'data-action': 'authorise', text: 'Authorise Now', onclick: () => authorisePanel(account, slot) }),
          h('button', {
            type: 'button',
            'data-action': 'verify',
            text: 'Verify',
            onclick: async () => {
              try {
                const result = await api('POST', `/accounts/${seg(account.id)}/verify`);
                slot.replaceChildren(result.ok
                  ? noticeBox(h('p', { text: `${account.name}: Amazon accepts the authorisation; store ${result.store_name || '(unnamed)'} sells in ${account.marketplace}.` }))
                  : errorBox({ message: `${account.name}: not verified (${(result.reason || '').replace(/_/g, ' ')}).`, code: result.reason }));
              } catch (error) {
                slot.replaceChildren(errorBox(error));
              }
            },
          }),
          h('button', { type: 'button', 'data-action': 'edit', text: 'Edit', onclick: () => editPanel(account, slot, reload) }),
          h('button', {
            type: 'button',
            'data-action': 'delete',
            class: 'danger',
            text: 'Delete',
            onclick: async () => {
              if (!(await confirmDialog(`Delete ${account.name} (${account.merchant_id}, ${account.marketplace})? Imported orders stay.`, 'Delete account'))) return;
              try {
                await api('DELETE', `/accounts/${seg(account.id)}`);
                say(`Account ${account.name} deleted.`);
                reload();
              } catch (error) {
                slot.replaceChildren(errorBox(error));
              }
            },
          })),
      ];
    });
    render(
      ...heading('Amazon accounts', 'One account per marketplace; the Seller ID and authorisation are the same for every marketplace of a seller.'),
      table('Amazon accounts', ['Account', 'Marketplace', 'Active', 'Authorisation', 'Last stock sync', 'Order import', 'Actions'], rows, 'No Amazon account yet: create one below.'),
      slot,
      createAccountForm(() => reload()));
  }

  // ---- courier service mappings ----------------------------------------------------------------------------

  async function viewMappings() {
    const query = hashQuery();
    const list = await accounts();
    const codes = [...new Set(list.map((a) => a.marketplace))];
    const marketplace = query.get('marketplace') || codes[0] || 'UK';
    const [terms, unmapped, mappings] = await Promise.all([
      api('GET', `/shipping-terms?marketplace=${seg(marketplace)}`),
      everything('/courier-mappings/unmapped'),
      everything('/courier-mappings'),
    ]);
    const accountName = (id) => { const found = list.find((a) => a.id === id); return found ? accountLabel(found) : id; };
    const reload = () => route();

    const picker = h('form', { class: 'actions', id: 'marketplace-picker' },
      select('Marketplace', marketplaceOptions(), { name: 'marketplace', value: marketplace, id: 'terms-marketplace' }),
      h('button', { type: 'submit', text: 'Show terms' }));
    picker.addEventListener('submit', (event) => { event.preventDefault(); go('mappings', { marketplace: picker.elements.marketplace.value }); });

    const termRows = terms.items.map((term) => [
      h('code', { text: term.term }),
      term.is_prime ? 'Prime' : '',
      term.courier_service ? h('span', {}, term.courier_service, h('span', { class: 'muted', text: term.source ? ` (${term.source.replace(/_/g, ' ')})` : '' })) : pill('warn', 'unmapped'),
    ]);

    const unmappedRows = unmapped.map((item) => {
      const id = nextId('map');
      const form = h('form', { class: 'actions', 'data-term': item.term },
        h('label', { for: id, text: `Courier service for ${item.term}` }),
        h('input', { type: 'text', id, name: 'courier_service', required: true }),
        h('button', { type: 'submit', class: 'primary', text: 'Map' }));
      onSubmit(form, async (values) => {
        await api('POST', '/courier-mappings', { amazon_term: item.term, courier_service: values.courier_service, marketplace: item.marketplace });
        say(`${item.term} mapped to ${values.courier_service}; its held orders were re-evaluated.`);
        reload();
        return null;
      });
      return [h('code', { text: item.term }), item.marketplace, num(item.orders_on_hold), when(item.last_seen_at), form];
    });

    const editSlot = h('div', { id: 'mapping-panel' });
    const mappingRows = mappings.map((mapping) => [
      h('code', { text: mapping.amazon_term }),
      mapping.courier_service,
      mapping.account_id ? accountName(mapping.account_id) : 'all accounts',
      h('div', { class: 'actions' },
        h('button', {
          type: 'button',
          text: 'Edit',
          'aria-label': `Edit ${mapping.amazon_term}`,
          onclick: () => {
            const form = h('form', { class: 'panel', 'aria-label': `Edit ${mapping.amazon_term}` },
              h('h3', { text: `Edit ${mapping.amazon_term}` }),
              h('div', { class: 'grid' },
                input('Amazon shipping term', { name: 'amazon_term', value: mapping.amazon_term, required: true }),
                input('Courier service', { name: 'courier_service', value: mapping.courier_service, required: true }),
                select('Applies to', [['', 'All accounts of this client'], ...list.map((a) => [a.id, accountLabel(a)])], { name: 'account_id', value: mapping.account_id || '' })),
              h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Save' }),
                h('button', { type: 'button', text: 'Cancel', onclick: () => editSlot.replaceChildren() })));
            editSlot.replaceChildren(onSubmit(form, async (values) => {
              const body = { amazon_term: values.amazon_term, courier_service: values.courier_service, version: mapping.version };
              if (values.account_id) body.account_id = values.account_id;
              if (mapping.marketplace) body.marketplace = mapping.marketplace;
              await api('PUT', `/courier-mappings/${seg(mapping.id)}`, body);
              say(`${values.amazon_term} saved.`);
              reload();
              return null;
            }));
            form.querySelector('input').focus();
          },
        }),
        h('button', {
          type: 'button',
          class: 'danger',
          text: 'Delete',
          'aria-label': `Delete ${mapping.amazon_term}`,
          onclick: async () => {
            if (!(await confirmDialog(`Delete the mapping of ${mapping.amazon_term} to ${mapping.courier_service}?`, 'Delete mapping'))) return;
            try {
              await api('DELETE', `/courier-mappings/${seg(mapping.id)}`);
              say(`${mapping.amazon_term} deleted.`);
              reload();
            } catch (error) {
              editSlot.replaceChildren(errorBox(error));
            }
          },
        })),
    ]);

    const addForm = h('form', { class: 'panel', id: 'add-mapping', 'aria-labelledby': 'add-mapping-title' },
      h('h2', { id: 'add-mapping-title', text: 'Add a mapping' }),
      h('div', { class: 'grid' },
        input('Amazon shipping term', { name: 'amazon_term', required: true, value: query.get('term') || '', id: 'add-mapping-term' }, 'As Amazon spells it or in canonical form: STD UK DOM_1, UK NEXT-PRIME, NextDay.'),
        input('Courier service', { name: 'courier_service', required: true, id: 'add-mapping-courier' }),
        select('Marketplace', [['', '(the term names it)'], ...marketplaceOptions()], { name: 'marketplace', value: query.get('marketplace') || '' }),
        select('Applies to', [['', 'All accounts of this client'], ...list.map((a) => [a.id, accountLabel(a)])], { name: 'account_id', value: '' }),
        checkbox('Keep a term outside Amazon’s grammar as typed', { name: 'allow_unrecognised' })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Add mapping' })));
    onSubmit(addForm, async (values) => {
      const body = { amazon_term: values.amazon_term, courier_service: values.courier_service };
      if (values.marketplace) body.marketplace = values.marketplace;
      if (values.account_id) body.account_id = values.account_id;
      if (values.allow_unrecognised) body.allow_unrecognised = true;
      const created = await api('POST', '/courier-mappings', body);
      say(`${created.amazon_term} mapped to ${created.courier_service}.`);
      go('mappings', { marketplace });
      return null;
    });

    render(
      ...heading('Courier service mappings', 'Amazon’s shipping term of each order picks the OMS courier service. Map the terms your clients’ orders carry; an order whose term has no mapping is held.'),
      h('h2', { text: 'Terms held orders are waiting for' }),
      table('Unmapped terms with held orders', ['Term', 'Marketplace', 'Orders on hold#', 'Last seen', 'Map it'], unmappedRows, 'No order is held for an unmapped term.'),
      addForm,
      h('h2', { text: 'Standard terms of a marketplace' }),
      picker,
      table(`Standard terms of ${marketplaceName(marketplace)}`, ['Term', 'Prime', 'Maps to'], termRows, 'No terms.'),
      h('h2', { text: 'Mappings' }),
      editSlot,
      table('Courier service mappings', ['Amazon term', 'Courier service', 'Scope', 'Actions'], mappingRows, 'No mapping yet.'));
    if (query.get('term')) document.getElementById('add-mapping-courier').focus();
  }

  // ---- orders ---------------------------------------------------------------------------------------------------

  function holdFixes(order, reason) {
    const fixes = [];
    if ((reason.code === 'unmapped_shipping_term' || reason.code === 'shipping_zone_unknown') && (reason.term || order.shipping_term)) {
      const term = reason.term || order.shipping_term;
      fixes.push(h('button', { type: 'button', class: 'link', text: `Map ${term}`, onclick: () => go('mappings', { term, marketplace: order.marketplace }) }));
    }
    if (['sku_case_mismatch', 'unknown_sku', 'sku_ambiguous'].includes(reason.code)) {
      fixes.push(h('button', { type: 'button', class: 'link', text: 'Open the SKU report', onclick: () => go('stock', { account: order.account_id }) }));
    }
    return fixes;
  }

  function releaseForm(order, slot) {
    const form = h('form', { class: 'panel', 'aria-label': `Release ${order.amazon_order_id}` },
      h('h3', { text: `Release ${order.amazon_order_id}` }),
      h('p', { class: 'muted', text: 'Overrides the holds, with your reason kept on the order.' }),
      h('div', { class: 'grid' },
        input('Reason', { name: 'reason', required: true }),
        input('Courier service', { name: 'courier_service', value: order.courier_service || '' }, 'Needed when the term maps to no courier service.')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Release order' })));
    slot.replaceChildren(onSubmit(form, async (values) => {
      const body = { reason: values.reason };
      if (values.courier_service) body.courier_service = values.courier_service;
      await api('POST', `/orders/${seg(order.amazon_order_id)}/release`, body);
      say(`${order.amazon_order_id} released.`);
      route();
      return null;
    }));
    form.querySelector('input').focus();
  }

  async function viewOrders() {
    const query = hashQuery();
    const status = query.has('status') ? query.get('status') : 'on_hold';
    const [list, orders] = await Promise.all([accounts(), everything(`/orders${status ? `?status=${seg(status)}` : ''}`)]);
    const slot = h('div', { id: 'order-panel' });
    const accountName = (id) => { const found = list.find((a) => a.id === id); return found ? accountLabel(found) : id; };
    const filter = h('form', { class: 'actions', id: 'order-filter' },
      select('Status', [['on_hold', 'On hold'], ['ready', 'Ready'], ['shipped', 'Shipped'], ['cancelled', 'Cancelled'], ['not_for_us', 'Not for us'], ['', 'All']], { name: 'status', value: status, id: 'order-status' }),
      h('button', { type: 'submit', text: 'Show' }));
    filter.addEventListener('submit', (event) => { event.preventDefault(); go('orders', { status: filter.elements.status.value }); });

    const importForm = h('form', { class: 'actions', id: 'import-orders' },
      select('Account', list.filter((a) => a.import_orders).map((a) => [a.id, accountLabel(a)]), { name: 'account_id', id: 'import-account' }),
      h('button', { type: 'submit', text: 'Import orders now' }));
    onSubmit(importForm, async (values) => {
      await api('POST', `/accounts/${seg(values.account_id)}/order-import`);
      say('Order import queued: refresh in a moment.');
      return null;
    });

    const rows = orders.map((order) => [
      h('a', { href: `#order/${seg(order.amazon_order_id)}`, class: 'mono', text: order.amazon_order_id }),
      accountName(order.account_id),
      h('code', { text: order.shipping_term }),
      order.courier_service || '–',
      pill(order.status === 'ready' || order.status === 'shipped' ? 'ok' : order.status === 'on_hold' ? 'warn' : 'none', order.status.replace(/_/g, ' ')),
      h('ul', {}, order.hold_reasons.map((reason) => h('li', {}, h('span', { text: reason.message }), ' ', holdFixes(order, reason)))),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button',
          text: 'Re-evaluate',
          'aria-label': `Re-evaluate ${order.amazon_order_id}`,
          onclick: async () => {
            try {
              const judged = await api('POST', `/orders/${seg(order.amazon_order_id)}/reevaluate`);
              say(`${order.amazon_order_id} is ${judged.status.replace(/_/g, ' ')}.`);
              route();
            } catch (error) {
              slot.replaceChildren(errorBox(error));
            }
          },
        }),
        app.features.release && order.status === 'on_hold'
          ? h('button', { type: 'button', text: 'Release', 'aria-label': `Release ${order.amazon_order_id}`, onclick: () => releaseForm(order, slot) })
          : null),
    ]);
    render(
      ...heading('Orders', 'Held orders with what holds them and how to fix each. The list carries no buyer data: open an order to see its address.'),
      filter,
      importForm,
      slot,
      table(status ? `Orders ${status.replace(/_/g, ' ')}` : 'All orders', ['Order', 'Account', 'Shipping term', 'Courier service', 'Status', 'Hold reasons', 'Actions'], rows,
        status === 'on_hold' ? 'No order is on hold.' : 'No orders.'));
  }

  function maskedBlock(title, id, lines) {
    const content = h('div', { id, hidden: true }, lines.filter(Boolean).map((line) => h('div', { text: line })));
    const placeholder = h('p', { class: 'masked', text: '•••• hidden ••••' });
    const toggle = h('button', {
      type: 'button',
      'aria-expanded': 'false',
      'aria-controls': id,
      text: `Show ${title.toLowerCase()}`,
      onclick: () => {
        const open = content.hidden;
        content.hidden = !open;
        placeholder.hidden = open;
        toggle.setAttribute('aria-expanded', String(open));
        toggle.textContent = `${open ? 'Hide' : 'Show'} ${title.toLowerCase()}`;
      },
    });
    return h('section', { class: 'panel' }, h('h2', { text: title }), placeholder, content, h('div', { class: 'actions' }, toggle));
  }

  function money(value) {
    return value ? `${value.amount} ${value.currency}` : '–';
  }

  async function viewOrder(orderId) {
    const [order, shipments] = await Promise.all([
      api('GET', `/orders/${seg(orderId)}`),
      everything(`/orders/${seg(orderId)}/shipments`).catch(() => []),
    ]);
    const ship = order.ship_to;
    const buyer = order.buyer;
    const address = ship
      ? maskedBlock('Delivery address', 'ship-to', [ship.name, ship.company, ship.address_line_1, ship.address_line_2, ship.address_line_3, [ship.city, ship.district].filter(Boolean).join(', '), ship.state_or_region, ship.postal_code, ship.country_code, ship.phone ? `Phone ${ship.phone}` : null, ship.delivery_instructions ? `Instructions: ${ship.delivery_instructions}` : null])
      : h('p', { class: 'muted', text: order.pii_purged_at ? `Buyer data deleted on ${when(order.pii_purged_at)}.` : 'Amazon gave no delivery address.' });
    const buyerBlock = buyer ? maskedBlock('Buyer', 'buyer', [buyer.name, buyer.company, buyer.email, buyer.purchase_order_number ? `PO ${buyer.purchase_order_number}` : null]) : null;
    const lineRows = order.lines.map((line) => [
      h('code', { text: line.seller_sku }),
      line.oms_sku ? h('code', { text: line.oms_sku }) : pill('warn', 'no OMS SKU'),
      line.title || '–',
      num(line.quantity),
      money(line.unit_price),
      line.is_gift ? (line.gift_message ? `Gift: ${line.gift_message}` : 'Gift') : '',
    ]);
    const shipmentRows = shipments.map((s) => [
      pill(s.status === 'confirmed' ? 'ok' : s.status === 'submitted' ? 'warn' : 'bad', s.status),
      `${s.carrier_name || s.carrier_code} · ${s.shipping_method}`,
      h('span', { class: 'mono', text: s.tracking_number }),
      when(s.ship_date),
      s.lines.map((l) => `${l.order_item_id} × ${l.quantity}`).join(', '),
      s.reason ? s.reason.message : '',
    ]);
    render(
      ...heading(`Order ${order.amazon_order_id}`),
      h('p', {}, h('a', { href: '#orders', text: '← Orders' })),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Status' }), h('dd', {}, pill(order.status === 'on_hold' ? 'warn' : 'ok', order.status.replace(/_/g, ' '))),
        h('dt', { text: 'Marketplace' }), h('dd', { text: marketplaceName(order.marketplace) }),
        h('dt', { text: 'Shipping term' }), h('dd', {}, h('code', { text: order.shipping_term }), order.is_prime ? ' (Prime)' : ''),
        h('dt', { text: 'Courier service' }), h('dd', { text: order.courier_service || '–' }),
        h('dt', { text: 'Ship by' }), h('dd', { text: when(order.ship_by) }),
        h('dt', { text: 'Order total' }), h('dd', { text: money(order.order_total) })),
      order.hold_reasons.length
        ? h('div', { class: 'alert', role: 'note' }, h('p', { text: 'On hold:' }), h('ul', {}, order.hold_reasons.map((r) => h('li', {}, r.message, ' ', holdFixes(order, r)))))
        : null,
      address,
      buyerBlock,
      h('h2', { text: 'Lines' }),
      table('Order lines', ['Amazon SKU', 'OMS SKU', 'Title', 'Quantity#', 'Unit price', 'Gift'], lineRows, 'No lines.'),
      h('h2', { text: 'Shipments' }),
      table('Shipment trail', ['Status', 'Carrier', 'Tracking', 'Shipped', 'Lines', 'Amazon said'], shipmentRows, 'Not despatched yet.'));
  }

  // ---- stock ------------------------------------------------------------------------------------------------------

  async function renameProduct(from, to) {
    const product = await api('GET', `/products/${seg(from)}`);
    const body = { quantity_available: product.quantity_available };
    if (product.name) body.name = product.name;
    if (product.components && product.components.length) body.components = product.components;
    await api('PUT', `/products/${seg(to)}`, body);
    await api('DELETE', `/products/${seg(from)}`);
  }

  async function viewStock() {
    if (poller) { window.clearTimeout(poller); poller = null; }
    const query = hashQuery();
    const list = await accounts();
    if (!list.length) {
      render(...heading('Stock'), h('p', { class: 'muted', text: 'No Amazon account yet.' }));
      return;
    }
    const account = list.find((a) => a.id === query.get('account')) || list[0];
    const [runs, report] = await Promise.all([
      api('GET', `/accounts/${seg(account.id)}/stock-sync-runs?limit=10`),
      api('GET', `/accounts/${seg(account.id)}/sku-report`).catch((error) => ({ error })),
    ]);
    const slot = h('div', { id: 'stock-panel' });
    const picker = h('form', { class: 'actions', id: 'stock-account' },
      select('Account', list.map((a) => [a.id, accountLabel(a)]), { name: 'account', value: account.id, id: 'stock-account-select' }),
      h('button', { type: 'submit', text: 'Show' }));
    picker.addEventListener('submit', (event) => { event.preventDefault(); go('stock', { account: picker.elements.account.value }); });
    const action = (label, id, path, done) => h('button', {
      type: 'button',
      id,
      text: label,
      onclick: async () => {
        try {
          const result = await api('POST', path);
          slot.replaceChildren(noticeBox(h('p', { text: done(result) })));
          route();
        } catch (error) {
          slot.replaceChildren(errorBox(error));
        }
      },
    });
    const runRows = runs.items.map((run) => [
      when(run.queued_at),
      pill(run.status === 'done' ? 'ok' : run.status === 'failed' ? 'bad' : 'warn', run.status),
      run.trigger,
      num(run.skus_considered),
      num(run.skus_sent),
      num(run.skus_unchanged),
      skippedText(run.skipped),
      run.errors.length
        ? h('details', {}, h('summary', { text: `${run.errors.length} error${run.errors.length > 1 ? 's' : ''}` }), h('ul', {}, run.errors.map((e) => h('li', { text: `${e.sku}: ${e.message} (${e.code})` }))))
        : (run.reason || 'none'),
    ]);
    let reportBlock;
    if (report.error) {
      reportBlock = errorBox(report.error);
    } else {
      const mismatchRows = report.case_mismatches.map((pair) => [
        h('code', { text: pair.amazon_sku }),
        h('code', { text: pair.oms_sku }),
        h('div', { class: 'actions' },
          app.features.aliases
            ? h('button', {
              type: 'button',
              text: 'Link as alias',
              'aria-label': `Link ${pair.amazon_sku} to ${pair.oms_sku} as an alias`,
              onclick: async () => {
                try {
                  await api('PUT', `/sku-aliases/${seg(pair.amazon_sku)}`, { oms_sku: pair.oms_sku, account_id: account.id });
                  say(`${pair.amazon_sku} now takes the stock of ${pair.oms_sku}.`);
                  route();
                } catch (error) {
                  slot.replaceChildren(errorBox(error));
                }
              },
            })
            : null,
          h('button', {
            type: 'button',
            text: `Rename OMS product to ${pair.amazon_sku}`,
            onclick: async () => {
              try {
                await renameProduct(pair.oms_sku, pair.amazon_sku);
                say(`OMS product ${pair.oms_sku} is now ${pair.amazon_sku}.`);
                route();
              } catch (error) {
                slot.replaceChildren(errorBox(error));
              }
            },
          })),
      ]);
      const listOf = (title, items) => (items.length
        ? h('details', {}, h('summary', { text: `${title}: ${items.length}` }), h('ul', {}, items.slice(0, 200).map((sku) => h('li', {}, h('code', { text: typeof sku === 'string' ? sku : (sku.amazon_sku || JSON.stringify(sku)) })))))
        : h('p', { class: 'muted', text: `${title}: none` }));
      reportBlock = h('div', {},
        h('p', { class: 'muted', text: report.listings_taken_at ? `Amazon listings as of ${when(report.listings_taken_at)}.` : 'Amazon’s listings have not been read yet: refresh them.' }),
        table('SKUs whose case differs (stock is not sent to them)', ['Amazon SKU', 'OMS SKU', 'Fix'], mismatchRows, 'No case mismatch: every SKU that matches does so exactly.'),
        h('p', { text: `Matched exactly: ${report.matched.length}` }),
        listOf('Linked by SKU alias (Amazon SKU → OMS SKU)', (report.aliased || []).map((a) => `${a.amazon_sku} → ${a.oms_sku}`)),
        listOf('On Amazon, not in the OMS', report.missing_in_oms),
        listOf('In the OMS, not on Amazon', report.missing_on_amazon),
        listOf('Too long for Amazon (over 40 characters)', report.too_long_for_amazon),
        listOf('Fulfilled by Amazon (never sent)', report.fulfilled_by_amazon || []));
    }
    render(
      ...heading('Stock', `Stock sent to Amazon for ${accountLabel(account)}: every ${account.stock_sync_delay_minutes} minutes when sync is on (${account.sync_stock ? 'on' : 'off'}).`),
      picker,
      h('div', { class: 'actions' },
        action('Sync now', 'sync-now', `/accounts/${seg(account.id)}/stock-sync`, (r) => `Stock sync queued (run ${r.run_id}).`),
        action('Refresh listings', 'refresh-listings', `/accounts/${seg(account.id)}/listings/refresh`, () => 'Amazon’s listings will be read again.')),
      slot,
      h('h2', { text: 'Runs' }),
      table('Stock sync runs, newest first', ['Queued', 'Status', 'Trigger', 'Considered#', 'Sent#', 'Unchanged#', 'Skipped by reason', 'Errors'], runRows, 'No run yet.'),
      h('h2', { text: 'SKU report' }),
      reportBlock);
    // Follow a run that is still going, for a minute at most.
    if (runs.items.some((run) => run.status === 'queued' || run.status === 'submitted')) {
      const started = viewStock.following || Date.now();
      viewStock.following = started;
      if (Date.now() - started < 60000) poller = window.setTimeout(() => { if (location.hash.startsWith('#stock')) route(); }, 1000);
    } else {
      viewStock.following = null;
    }
  }

  // ---- Amazon's Appstore hand-over --------------------------------------------------------------------------------

  async function viewAppstore() {
    const handover = appstoreHandover();
    if (!handover) {
      render(...heading('Amazon Appstore'), h('p', { class: 'muted', text: 'Nothing from Amazon is waiting. Start from Authorise Now in the Selling Partner Appstore.' }));
      return;
    }
    const seller = handover.selling_partner_id;
    const own = (await accounts()).filter((a) => a.merchant_id === seller);
    const slot = h('div', {});
    const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => { sessionStorage.removeItem(APPSTORE_KEY); go('accounts'); } });
    let pick;
    if (own.length) {
      const options = own.map((account, index) => {
        const id = nextId('pick');
        return h('div', { class: 'field check' },
          h('input', { type: 'radio', name: 'account_id', value: account.id, id, checked: index === 0 }),
          h('label', { for: id, text: `${accountLabel(account)} (${account.authorisation.status.replace(/_/g, ' ')})` }));
      });
      pick = h('form', { class: 'panel', id: 'appstore-pick' },
        h('fieldset', {}, h('legend', { text: `Connections for seller ${seller}` }), options),
        h('p', { class: 'muted', text: 'Amazon authorises the seller once: every connection of this seller is authorised together.' }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'appstore-continue', text: 'Authorise with Amazon' }), cancel));
      onSubmit(pick, async (values) => {
        const body = { ...handover, account_id: values.account_id };
        const answer = await api('POST', '/oauth/login', body);
        sessionStorage.removeItem(APPSTORE_KEY);
        location.assign(answer.redirect_url);
        return noticeBox(h('p', { text: 'Back to Amazon…' }));
      });
    } else {
      pick = h('p', { class: 'muted', text: `This client has no connection for seller ${seller} yet: create one first.` });
    }
    const create = h('form', { class: 'panel', id: 'appstore-create' },
      h('h2', { text: `New connection for seller ${seller}` }),
      h('div', { class: 'grid' },
        select('Marketplace', marketplaceOptions(), { name: 'marketplace', value: 'UK', id: 'appstore-marketplace' }),
        input('Name', { name: 'name' }, 'Optional.')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Create connection' })));
    onSubmit(create, async (values) => {
      const body = { merchant_id: seller, marketplace: values.marketplace };
      if (values.name) body.name = values.name;
      await api('POST', '/accounts', body);
      say('Connection created.');
      route();
      return null;
    });
    render(
      ...heading('Connect an Amazon seller', `Amazon’s Appstore is authorising seller ${seller} for this connector. Pick the client’s connection for that seller (or create one), then continue to Amazon.`),
      pick, slot, create);
  }

  // ---- routing --------------------------------------------------------------------------------------------------

  const VIEWS = { accounts: viewAccounts, mappings: viewMappings, orders: viewOrders, order: viewOrder, stock: viewStock, appstore: viewAppstore };

  async function route() {
    if (poller) { window.clearTimeout(poller); poller = null; }
    const hash = location.hash.slice(1).split('?')[0];
    const [name, ...rest] = (hash || (appstoreHandover() ? 'appstore' : 'accounts')).split('/');
    const view = VIEWS[name] ? name : 'accounts';
    if (view !== 'stock') viewStock.following = null;
    document.querySelectorAll('#sections a').forEach((link) => {
      const current = link.dataset.view === view || (view === 'order' && link.dataset.view === 'orders');
      if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    });
    const focusMain = !route.first;
    route.first = false;
    try {
      await VIEWS[view](decodeURIComponent(rest.join('/')));
    } catch (error) {
      render(...heading('Something went wrong'), errorBox(error));
    }
    main.dataset.view = view;
    main.dataset.ready = String(Date.now());
    if (focusMain && document.activeElement === document.body) main.focus({ preventScroll: true });
  }
  route.first = true;

  async function detectFeatures() {
    try {
      const response = await fetch(`${BASE}/openapi.json`, { headers: { Accept: 'application/json' } });
      const paths = Object.keys((await response.json()).paths || {});
      app.features.release = paths.some((p) => /^\/orders\/\{[^}]+\}\/release$/.test(p));
      app.features.aliases = paths.some((p) => p.startsWith('/sku-aliases/'));
    } catch (_) {
      // Without the document the console offers what every connector has.
    }
  }

  async function boot() {
    // The skip link moves the keyboard to the content without touching the view's address (#…).
    document.querySelector('.skip-link').addEventListener('click', (event) => {
      event.preventDefault();
      main.focus();
    });
    stashAppstore();
    const response = await fetch('config.json', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    app.config = await response.json();
    if (app.config.sign_in === 'local') {
      const clientId = params.get('as');
      const admin = params.get('admin') === 'true';
      if (!clientId && !admin) {
        renderLocalSignIn();
        return;
      }
      app.identity = { mode: 'local', clientId, admin, actFor: admin ? params.get('client') : null };
    } else {
      const token = await cognitoToken();
      const claims = claimsOf(token);
      const groups = [].concat(claims['cognito:groups'] || []);
      app.identity = {
        mode: 'cognito',
        token,
        email: claims.email,
        clientId: claims['custom:client_id'] || null,
        admin: groups.includes('admins'),
        actFor: groups.includes('admins') ? params.get('client') : null,
      };
    }
    renderIdentity();
    if (app.identity.admin && !app.identity.clientId && !app.identity.actFor) {
      render(...heading('Choose a client', 'As an administrator without a client of your own, name the client to act for (Act for client, above).'));
      document.getElementById('act-for-client').focus();
      return;
    }
    const [marketplaces] = await Promise.all([api('GET', '/marketplaces'), detectFeatures()]);
    app.marketplaces = marketplaces.items;
    window.addEventListener('hashchange', route);
    await route();
  }

  boot().catch((error) => {
    render(...heading('The console could not start'), errorBox(error));
  });
})();
