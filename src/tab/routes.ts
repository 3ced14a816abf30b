import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response, Server } from 'restify';
import type { Config } from '../config';
import { RoleLookup, type Roles } from '../core/roles';
import { AppError, errorCatalog, errorText, toAppError } from '../errors';
import { languageFromLocale, loadLocale, translator, type Language } from '../i18n';
import type { Logger } from '../log';
import { requestStates, type RequestState } from '../model/requests';
import type { AuditFilter, Store } from '../store/store';
import type { Tenant } from '../tenant';
import type { SignedInUser, UserTokenValidator } from '../tenant/sso';

/**
 * The audit tab: a page at /tab (Teams static tab; in local mode also a plain browser page that signs
 * in through the simulator) and the two APIs it reads. Who sees what is decided here, from the token's
 * user and their live group membership: IT staff and approvers see every request, the exceptions
 * register and the audit events, and may export the events as CSV; anyone else sees the requests they
 * made or that are about their own mailbox, nothing more.
 */

const staticDir = join(__dirname, 'static');
const staticFiles: Record<string, string> = {
  'tab.js': 'text/javascript; charset=utf-8',
  'tab.css': 'text/css; charset=utf-8',
};
const teamsJs = require.resolve('@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js');
const listLimit = 500;
const csvPage = 500;

export interface TabDeps {
  config: Config;
  store: Store;
  tenant: Tenant;
  tokens: UserTokenValidator;
  logger: Logger;
  now: () => Date;
  /** Local mode: outside Teams the page signs in through the simulator's sign-in page. */
  localMode: boolean;
}

interface Viewer {
  user: SignedInUser;
  roles: Roles;
  /** IT staff or approver: the whole audit. */
  auditor: boolean;
}

/** The query string's parameters (the server has no query parser; only the tab reads queries). */
function query(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.url ?? '/', 'http://tab.invalid').searchParams.entries());
}

function languageOf(req: Request): Language {
  return languageFromLocale(query(req).lang ?? req.header('accept-language')?.split(',')[0]) ?? 'en';
}

/** A YYYY-MM-DD day as the instant it starts (UTC), or undefined if it is not a real day. */
function day(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00.000Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text ? undefined : date;
}

/** The filter from the query string; anything malformed is TAB_BAD_FILTER naming the field. */
export function parseAuditFilter(q: Record<string, string>): AuditFilter {
  const filter: AuditFilter = {};
  if (q.state) {
    if (!(requestStates as readonly string[]).includes(q.state)) throw new AppError('TAB_BAD_FILTER', { field: 'state' });
    filter.state = q.state as RequestState;
  }
  if (q.user) {
    const user = q.user.trim();
    if (user.length > 256) throw new AppError('TAB_BAD_FILTER', { field: 'user' });
    if (user) filter.user = user;
  }
  if (q.from) {
    const from = day(q.from);
    if (!from) throw new AppError('TAB_BAD_FILTER', { field: 'from' });
    filter.from = from;
  }
  if (q.to) {
    const to = day(q.to);
    if (!to) throw new AppError('TAB_BAD_FILTER', { field: 'to' });
    filter.to = new Date(to.getTime() + 24 * 3600_000); // the whole last day
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw new AppError('TAB_BAD_FILTER', { field: 'to' });
  return filter;
}

/** A CSV field: quoted when needed; a leading = + - @ is neutralized so a spreadsheet never runs it. */
export function csvField(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvColumns = ['seq', 'at', 'request_id', 'actor_id', 'action', 'detail', 'prev_hash', 'hash'] as const;

export function registerTab(server: Server, deps: TabDeps): void {
  const roles = new RoleLookup(deps.tenant.directory, { itStaffGroupId: deps.config.IT_STAFF_GROUP_ID, approverGroupId: deps.config.APPROVER_GROUP_ID }, deps.now);

  const fail = (req: Request, res: Response, error: unknown) => {
    const appError = toAppError(error);
    const language = languageOf(req);
    if (appError.code === 'INTERNAL' || appError.code.startsWith('TENANT_')) deps.logger.error({ err: appError.cause ?? appError, path: req.path() }, 'audit tab request failed');
    else deps.logger.info({ code: appError.code, cause: appError.cause instanceof Error ? appError.cause.message : undefined, path: req.path() }, 'audit tab request refused');
    const t = translator(language);
    // The filter a TAB_BAD_FILTER names, by its label on the page.
    const params = appError.code === 'TAB_BAD_FILTER' ? { ...appError.params, field: t(`tab.filters.${String(appError.params.field)}`) } : appError.params;
    res.status(errorCatalog[appError.code].status);
    res.json({ code: appError.code, message: errorText(t, appError.code, params) });
  };

  const viewer = async (req: Request): Promise<Viewer> => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
    const user = await deps.tokens.validate(match?.[1]);
    const r = await roles.rolesOf(user.id);
    return { user, roles: r, auditor: r.itStaff || r.approver };
  };

  const sendFile = (res: Response, path: string, type: string) => {
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    createReadStream(path).pipe(res);
  };

  server.get('/tab', async (_req, res) => {
    // Teams shows the page in a frame; only Teams (and the bot's own origin) may frame it.
    res.header('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'self' https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft https://*.office.com");
    sendFile(res, join(staticDir, 'index.html'), 'text/html; charset=utf-8');
  });
  server.get('/tab/teams-js.js', async (_req, res) => sendFile(res, teamsJs, 'text/javascript; charset=utf-8'));
  server.get('/tab/:file', async (req, res) => {
    const file = String((req.params as Record<string, string>).file);
    const type = staticFiles[file];
    if (!type || !existsSync(join(staticDir, file))) { res.status(404); res.end(); return; }
    sendFile(res, join(staticDir, file), type);
  });

  server.get('/api/tab/config', async (_req, res) => {
    res.json({ localMode: deps.localMode, clientId: deps.tokens.audience, authorizeUrl: deps.localMode ? deps.tokens.authorizeUrl : null });
  });

  server.get('/api/tab/strings', async (req, res) => {
    const language = languageOf(req);
    const locale = loadLocale(language) as { tab?: Record<string, unknown>; request?: { state?: Record<string, string> } };
    res.json({ language, tab: locale.tab ?? {}, states: Object.fromEntries(requestStates.map((s) => [s, translator(language)(`request.state.${s}`)])) });
  });

  server.get('/api/audit', async (req, res) => {
    try {
      const who = await viewer(req);
      const q = query(req);
      const filter = parseAuditFilter(q);
      // An end user sees their own requests; naming anyone else is a refusal, not an empty list.
      if (!who.auditor && filter.user !== undefined) throw new AppError('TAB_AUDIT_FORBIDDEN');
      const requests = await deps.store.auditRequests({ ...filter, tenantId: deps.config.TENANT_ID, involving: who.auditor ? undefined : who.user.id, limit: listLimit });
      const body: Record<string, unknown> = {
        me: { name: who.user.name, userPrincipalName: who.user.userPrincipalName, itStaff: who.roles.itStaff, approver: who.roles.approver },
        requests: requests.map((r) => ({
          id: r.id, command: r.commandId, state: r.state, requester: r.requesterName, target: r.targetDisplayName, targetUpn: r.targetUpn,
          justification: typeof r.params.justification === 'string' ? r.params.justification : null,
          createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), verified: r.verified, errorCode: r.errorCode,
        })),
      };
      if (who.auditor) {
        const exceptions = await deps.store.auditExceptions({ ...filter, tenantId: deps.config.TENANT_ID, limit: listLimit });
        body.exceptions = exceptions.map((e) => ({
          id: e.id, mailbox: e.targetDisplayName, upn: e.targetUpn, state: e.state, requester: e.requesterName, approvers: e.approverNames,
          justification: e.justification, adopted: e.adopted, expiresAt: e.expiresAt?.toISOString() ?? null, createdAt: e.createdAt.toISOString(),
        }));
        const events = await deps.store.auditEventsFiltered({ ...filter, limit: listLimit, newestFirst: true });
        body.events = events.map((e) => ({ seq: e.seq, at: e.at.toISOString(), action: e.action, actorId: e.actorId, requestId: e.requestId }));
      }
      res.header('Cache-Control', 'no-store');
      res.json(body);
    } catch (error) {
      fail(req, res, error);
    }
  });

  server.get('/api/audit.csv', async (req, res) => {
    let started = false;
    try {
      const who = await viewer(req);
      if (!who.auditor) throw new AppError('TAB_AUDIT_FORBIDDEN');
      const filter = parseAuditFilter(query(req));
      res.writeHead(200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="smtp-gate-audit-${deps.now().toISOString().slice(0, 10)}.csv"`,
        'Cache-Control': 'no-store',
      });
      started = true;
      const write = (text: string) => new Promise<void>((resolve) => { if (res.write(text)) resolve(); else res.once('drain', () => resolve()); });
      await write(`${csvColumns.join(',')}\r\n`);
      // Page by page, so an audit trail of any length streams in constant memory.
      for (let after = 0; ;) {
        const page = await deps.store.auditEventsFiltered({ ...filter, afterSeq: after, limit: csvPage });
        if (page.length === 0) break;
        await write(page.map((e) => [e.seq, e.at.toISOString(), e.requestId, e.actorId, e.action, JSON.stringify(e.detail), e.prevHash, e.hash].map(csvField).join(',') + '\r\n').join(''));
        after = page[page.length - 1]!.seq;
      }
      deps.logger.info({ actor: who.user.id }, 'audit exported as CSV');
      res.end();
    } catch (error) {
      if (started) {
        deps.logger.error({ err: error }, 'audit CSV export failed part-way');
        res.destroy(error instanceof Error ? error : undefined);
        return;
      }
      fail(req, res, error);
    }
  });
}
