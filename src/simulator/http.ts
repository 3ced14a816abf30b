import type { IncomingHttpHeaders } from 'node:http';

/** The plain request each simulated service sees; the HTTPS plumbing stays in server.ts. */
export interface SimRequest {
  method: string;
  /** Path and query exactly as received (`/v1.0/users?$top=5`). */
  target: string;
  /** Parsed URL against the simulator's own origin. */
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `https://localhost:PORT` as the client addressed it, for links the client will follow. */
  origin: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** A JSON value, or `undefined` for an empty body. */
  json?: unknown;
  text?: string;
}

export function jsonResponse(status: number, json: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, json, headers };
}

export function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: string };

export function readJson(request: SimRequest): JsonBody {
  const text = request.body.toString('utf8');
  if (text.trim() === '') return { ok: false, reason: 'empty body' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export interface Route<Context> {
  method: string;
  /** `/users/{id}/checkMemberGroups`: `{name}` matches one URL-decoded path segment. */
  pattern: string;
  handle(request: SimRequest, params: Record<string, string>, context: Context): SimResponse | Promise<SimResponse>;
}

interface CompiledRoute<Context> extends Route<Context> {
  regex: RegExp;
  names: string[];
}

export type RouteMatch<Context> =
  | { found: true; route: Route<Context>; params: Record<string, string> }
  | { found: false; methodNotAllowed: boolean };

/** An explicit route table: the first pattern that matches the path wins. */
export class RouteTable<Context> {
  private readonly routes: CompiledRoute<Context>[];

  constructor(routes: Route<Context>[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.pattern
        .split('/')
        .map((segment) => {
          const name = /^\{(\w+)\}$/.exec(segment);
          if (name) {
            names.push(name[1] as string);
            return '([^/]+)';
          }
          return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        })
        .join('/');
      return { ...route, names, regex: new RegExp(`^${source}/?$`, 'i') };
    });
  }

  match(method: string, path: string): RouteMatch<Context> {
    let methodNotAllowed = false;
    for (const route of this.routes) {
      const match = route.regex.exec(path);
      if (!match) continue;
      if (route.method !== method) {
        methodNotAllowed = true;
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeSegment(match[index + 1] as string);
      });
      return { found: true, route, params };
    }
    return { found: false, methodNotAllowed };
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
