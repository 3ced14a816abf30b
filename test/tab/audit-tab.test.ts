import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { chromiumArgs, chromiumAvailable, chromiumPath } from '../support/chromium';
import { demoUser, inProcessBotSuite } from '../support/harness';

/**
 * The audit tab in Chromium, outside Teams, in local mode: it signs in through the tenant
 * simulator's sign-in page, lists what the user's role allows, filters, and exports CSV.
 * The browser reaches the simulator through this test, which checks its certificate against the
 * simulator's CA (the browser never skips a certificate check).
 *
 * The same bot (one set-up, not two) also shows that every card message carries a summary: Teams
 * shows "Sent a card" in notifications and the chat list unless the activity says what it is about.
 */

const alex = demoUser('Alex Wilber'); // IT staff
const runs = chromiumAvailable() ? describe : describe.skip;

/** RFC 4180 rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const suite = inProcessBotSuite({ name: 'tab', startsAt: '2026-11-23T09:00:00Z' });

function firstTextBlock(card: { body?: Record<string, unknown>[] }): string {
  const block = card.body?.find((b) => b.type === 'TextBlock');
  return String(block?.text ?? '').replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
}

beforeAll(async () => {
  // Two requests from IT staff: one about Bob Smith's mailbox, one about Wang Wei's.
  for (const text of ['enable SMTP for bob for the floor 2 scanner', 'disable SMTP for wang.wei']) {
    const before = suite.connector.postedCards().length;
    expect(await suite.bot.teams.message(alex, text)).toBe(200);
    await suite.connector.waitFor(`the card for "${text}"`, () => suite.connector.postedCards()[before]);
  }
}, 60_000);

describe('card messages carry a summary', () => {
  test('a reply card carries its title as the summary', () => {
    const posted = suite.connector.postedCards()[0]!;
    expect(posted.call.activity.summary).toBe('Enable SMTP AUTH for Bob Smith');
    expect(firstTextBlock(posted.card)).toContain('Bob Smith');
  });

  test('in another language the summary is in that language', async () => {
    const before = suite.connector.postedCards().length;
    expect(await suite.bot.teams.message(alex, 'ayuda', { locale: 'es-ES' })).toBe(200);
    const posted = await suite.connector.waitFor('the help card', () => suite.connector.postedCards()[before]);
    expect(String(posted.call.activity.summary ?? '')).not.toBe('');
    expect(posted.call.activity.summary).toBe(firstTextBlock(posted.card));
  });

  test('every card activity the bot sent, posted or updated, has a non-empty summary', () => {
    const cardActivities = suite.connector.calls.filter((c) => (c.activity.attachments ?? []).length > 0);
    expect(cardActivities.length).toBeGreaterThanOrEqual(3);
    expect(cardActivities.filter((c) => typeof c.activity.summary !== 'string' || c.activity.summary === '').map((c) => c.path)).toEqual([]);
  });
});

runs('audit tab', () => {
  let browser: Browser;
  let simulatorAgent: Agent;
  let shots: string;
  let botUrl: string;

  beforeAll(async () => {
    botUrl = `http://localhost:${suite.bot.server.port}`;
    shots = mkdtempSync(join(tmpdir(), 'smtp-gate-tab-'));
    simulatorAgent = new Agent({ connect: { ca: readFileSync(suite.simulator.caCertPath, 'utf8') } });
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await simulatorAgent?.close();
    if (shots) process.stdout.write(`audit tab screenshots: ${shots}\n`);
  });

  /** A fresh browser session signed in as `upn` through the simulator's sign-in page. */
  async function signIn(upn: string, path = '/tab'): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true });
    await context.route(`${suite.simulator.url}/**`, async (route) => {
      const r = route.request();
      const res = await request(r.url(), { method: r.method() as 'GET', dispatcher: simulatorAgent, headers: { accept: r.headers().accept ?? '*/*' } });
      const headers = Object.fromEntries(Object.entries(res.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      await route.fulfill({ status: res.statusCode, headers, body: Buffer.from(await res.body.arrayBuffer()) });
    });
    const page = await context.newPage();
    await page.goto(`${botUrl}${path}`);
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await page.getByRole('link', { name: new RegExp(upn.replace(/[.]/g, '\\.')) }).click();
    await page.getByTestId('who').waitFor();
    return page;
  }

  test('IT staff sign in outside Teams, see every request, filter by user, state and date', async () => {
    const page = await signIn('alexw@contoso.com');
    await expect(page.getByTestId('who').textContent()).resolves.toMatch(/Signed in as Alex Wilber.*IT staff/);
    const requests = page.getByTestId('requests');
    await requests.getByText('Bob Smith <bob@contoso.com>').waitFor();
    await requests.getByText('the floor 2 scanner').waitFor();
    await requests.getByText('王伟 <wang.wei@contoso.com>').waitFor();
    await page.getByTestId('events').waitFor();
    expect(await page.locator('main').textContent()).not.toContain('null');
    await page.screenshot({ path: join(shots, 'audit-it-staff.png'), fullPage: true });

    await page.getByPlaceholder('Name or email').fill('wang');
    await page.getByRole('button', { name: 'Apply' }).click();
    // The unfiltered table already holds 王伟's row: wait for the others to go, then count.
    await page.getByTestId('requests').locator('tbody tr', { hasText: 'Bob Smith <bob@contoso.com>' }).first().waitFor({ state: 'detached' });
    await page.getByTestId('requests').getByText('王伟 <wang.wei@contoso.com>').waitFor();
    expect(await page.getByTestId('requests').locator('tbody tr').count()).toBe(1);

    await page.getByPlaceholder('Name or email').fill('');
    await page.getByLabel('State').selectOption('succeeded');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('requests-empty').waitFor();

    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByTestId('requests').waitFor();
    await page.getByLabel('To').fill('2026-11-22');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('requests-empty').waitFor();
    await page.getByTestId('events-empty').waitFor();
    await page.context().close();
  }, 60_000);

  test('the CSV export streams every audit event, row for row as the store holds them', async () => {
    const page = await signIn('alexw@contoso.com');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await (await download).path();
    const rows = parseCsv(readFileSync(file, 'utf8'));
    const events = await suite.bot.server.store.auditEvents();
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(rows[0]).toEqual(['seq', 'at', 'request_id', 'actor_id', 'action', 'detail', 'prev_hash', 'hash']);
    expect(rows.slice(1)).toEqual(events.map((e) => [String(e.seq), e.at.toISOString(), e.requestId ?? '', e.actorId ?? '', e.action, JSON.stringify(e.detail), e.prevHash, e.hash]));
    await page.context().close();
  }, 60_000);

  test('an end user sees only the requests about them, in a dark theme, and is refused the audit of others', async () => {
    const page = await signIn('bob@contoso.com', '/tab?theme=dark');
    await expect(page.getByTestId('who').textContent()).resolves.toMatch(/Bob Smith.*End user/);
    await page.getByText('You see the requests you made and the ones about your mailbox.').waitFor();
    const requests = page.getByTestId('requests');
    await requests.getByText('Bob Smith <bob@contoso.com>').waitFor();
    expect(await requests.locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('events').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Export CSV' }).count()).toBe(0);
    expect(await page.evaluate('document.body.dataset.theme')).toBe('dark');
    await page.screenshot({ path: join(shots, 'audit-end-user-dark.png'), fullPage: true });

    // With his own token, asking the server directly: refused, with a message in his language.
    const refused = (await page.evaluate(`(async () => {
      const headers = { Authorization: 'Bearer ' + sessionStorage.getItem('smtpgate.tab.token') };
      const csv = await fetch('/api/audit.csv?lang=es', { headers });
      const others = await fetch('/api/audit?user=wang&lang=ro', { headers });
      return { csv: csv.status, csvBody: await csv.json(), others: others.status, othersBody: await others.json() };
    })()`)) as { csv: number; csvBody: unknown; others: number; othersBody: { message: string } };
    expect(refused.csv).toBe(403);
    expect(refused.csvBody).toEqual({ code: 'TAB_AUDIT_FORBIDDEN', message: 'Solo el personal de TI y los aprobadores pueden ver la auditoría de solicitudes de otras personas.' });
    expect(refused.others).toBe(403);
    expect(refused.othersBody.message).toBe('Doar echipa IT și aprobatorii pot vedea auditul cererilor altor persoane.');
    await page.context().close();
  }, 60_000);

  test('without a valid token the APIs answer 401, and a malformed filter 400, each with a localized message', async () => {
    const none = await fetch(`${botUrl}/api/audit?lang=pt`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ code: 'TAB_SIGN_IN_REQUIRED', message: 'Entre novamente: sua sessão não existe ou expirou.' });
    const forged = await fetch(`${botUrl}/api/audit.csv`, { headers: { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJvaWQiOiJ4In0.' } });
    expect(forged.status).toBe(401);
    // A real token for the wrong audience (another app) is refused too.
    const res = await request(`${suite.simulator.url}/${suite.bot.config.TENANT_ID}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: '99999999-9999-4999-8999-999999999999', response_type: 'token', redirect_uri: 'http://localhost/x', login_hint: 'alexw@contoso.com' })}`, { dispatcher: simulatorAgent });
    await res.body.text();
    const other = new URLSearchParams(new URL(String(res.headers.location)).hash.slice(1)).get('access_token');
    const wrongAudience = await fetch(`${botUrl}/api/audit`, { headers: { Authorization: `Bearer ${other}` } });
    expect(wrongAudience.status).toBe(401);

    const good = await request(`${suite.simulator.url}/${suite.bot.config.TENANT_ID}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: suite.bot.config.TENANT_CLIENT_ID, response_type: 'token', redirect_uri: 'http://localhost/x', login_hint: 'alexw@contoso.com' })}`, { dispatcher: simulatorAgent });
    await good.body.text();
    const token = new URLSearchParams(new URL(String(good.headers.location)).hash.slice(1)).get('access_token');
    const bad = await fetch(`${botUrl}/api/audit?from=2026-02-30&lang=en`, { headers: { Authorization: `Bearer ${token}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('“From”');
    const badState = await fetch(`${botUrl}/api/audit?state=done`, { headers: { Authorization: `Bearer ${token}` } });
    expect(badState.status).toBe(400);
  });
});
