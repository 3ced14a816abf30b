import { applyAppRegistrationPatch, describeAppRegistration, parseAppRegistrationPatch, type AppRegistration } from './app';
import { FixtureError, parseFixture, type TenantFixture } from './fixture';
import { parseFaultConfig, type CallLog, type FaultInjector } from './faults';
import { jsonResponse, readJson, RouteTable, type SimRequest, type SimResponse } from './http';
import type { TenantState } from './state';

// `/_simulator/…`: the control API tests and the local launcher use (fixture-format.md). No token:
// the server only answers it on loopback connections.

export interface ControlTarget {
  readonly state: TenantState;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
  /** SMTP Gate's app registration: granted roles and accepted credentials. */
  app: AppRegistration;
  /** Replaces the live tenant with `fixture`, or with the fixture the simulator started with. */
  reset(fixture?: TenantFixture): void;
}

function controlError(status: number, code: string, message: string, extra: Record<string, unknown> = {}): SimResponse {
  return jsonResponse(status, { error: { code, message, ...extra } });
}

const routes = new RouteTable<ControlTarget>([
  {
    method: 'GET',
    pattern: '/_simulator/state',
    handle: (_request, _params, target) => jsonResponse(200, target.state.snapshot()),
  },
  {
    method: 'POST',
    pattern: '/_simulator/reset',
    handle: (request, _params, target) => {
      let fixture: TenantFixture | undefined;
      if (request.body.toString('utf8').trim() !== '') {
        const body = readJson(request);
        if (!body.ok) return controlError(400, 'InvalidFixture', `Invalid tenant fixture: invalid JSON: ${body.reason}`);
        try {
          fixture = parseFixture(body.value, 'in the request body');
        } catch (error) {
          if (error instanceof FixtureError) {
            return controlError(400, 'InvalidFixture', error.message, { problems: error.problems });
          }
          throw error;
        }
      }
      target.reset(fixture);
      return jsonResponse(200, { reset: true, tenantId: target.state.tenant.id, users: target.state.users.length });
    },
  },
  {
    method: 'GET',
    pattern: '/_simulator/faults',
    handle: (_request, _params, target) => jsonResponse(200, target.faults.describe()),
  },
  {
    method: 'POST',
    pattern: '/_simulator/faults',
    handle: (request, _params, target) => {
      const body = readJson(request);
      if (!body.ok) return controlError(400, 'InvalidFaults', `Invalid fault configuration: invalid JSON: ${body.reason}`);
      const parsed = parseFaultConfig(body.value);
      if (!parsed.ok) {
        return controlError(400, 'InvalidFaults', ['Invalid fault configuration:', ...parsed.problems.map((problem) => `  ${problem}`)].join('\n'), {
          problems: parsed.problems,
        });
      }
      target.faults.set(parsed.config);
      return jsonResponse(200, target.faults.describe());
    },
  },
  {
    method: 'DELETE',
    pattern: '/_simulator/faults',
    handle: (_request, _params, target) => {
      target.faults.clear();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/_simulator/app',
    handle: (_request, _params, target) => jsonResponse(200, describeAppRegistration(target.app)),
  },
  {
    // Changes what later tokens carry and what Entra accepts; tokens already issued keep their roles, as in Entra.
    method: 'POST',
    pattern: '/_simulator/app',
    handle: (request, _params, target) => {
      const body = readJson(request);
      if (!body.ok) return controlError(400, 'InvalidApp', `Invalid app registration: invalid JSON: ${body.reason}`);
      const parsed = parseAppRegistrationPatch(body.value);
      if (!parsed.ok) {
        return controlError(400, 'InvalidApp', ['Invalid app registration:', ...parsed.problems.map((problem) => `  ${problem}`)].join('\n'), {
          problems: parsed.problems,
        });
      }
      target.app = applyAppRegistrationPatch(target.app, parsed.patch);
      return jsonResponse(200, describeAppRegistration(target.app));
    },
  },
  {
    method: 'GET',
    pattern: '/_simulator/calls',
    handle: (_request, _params, target) => jsonResponse(200, target.calls.list()),
  },
  {
    method: 'DELETE',
    pattern: '/_simulator/calls',
    handle: (_request, _params, target) => {
      target.calls.clear();
      return { status: 204 };
    },
  },
]);

export function isControlPath(path: string): boolean {
  return /^\/_simulator(\/|$)/.test(path);
}

export async function handleControl(request: SimRequest, target: ControlTarget): Promise<SimResponse> {
  const match = routes.match(request.method, request.url.pathname);
  if (!match.found) {
    return match.methodNotAllowed
      ? controlError(405, 'MethodNotAllowed', `${request.method} is not allowed on ${request.url.pathname}.`)
      : controlError(404, 'NotFound', `No control endpoint at ${request.url.pathname}; see fixture-format.md for /_simulator/state, reset, faults, calls and app.`);
  }
  return match.route.handle(request, match.params, target);
}
