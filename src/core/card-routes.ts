import type { AdaptiveCard } from '../cards/builders';
import { verbs, type Verb } from '../cards/verbs';
import { AppError, type ErrorCode } from '../errors';
import type { Language } from '../i18n';
import type { RequestRecord, RequestState, UnmanagedMailbox } from '../model/requests';
import type { Roles } from './roles';
import type { ActionResult, ActionTurn } from './turn';

/**
 * Who a route lets press its button. `requester` and `target` are about the request the button
 * names; `approver` and `it-staff` are Entra group roles, looked up live; `anyone` is anyone in the
 * tenant (the handler then checks the subject is theirs, as self-service does).
 */
export type Party = 'requester' | 'target' | 'approver' | 'it-staff' | 'anyone';

/**
 * What a button's data names. The card carries only an id; the server loads the subject and checks
 * it every time (DESIGN.md): a request (`requestId`), or something the handler loads itself — an
 * item of a saved `exceptions` review, a saved diagnosis, a user to fix — or only a list card
 * (`list`: its `view` and language), built again for whoever the press comes from.
 */
export type Subject = 'request' | 'review-item' | 'saved-diagnosis' | 'user' | 'list';

/** One card press, as a handler receives it: the subject loaded and every rule of its route checked. */
export interface Press {
  turn: ActionTurn;
  /** The reader's language: the requester's own for them, else the clicker's Teams locale. */
  language: Language;
  /** The request the button names (subject `request`). */
  request?: RequestRecord;
  /** The mailbox an `exceptions` card's button names (subject `review-item`), from the saved review. */
  unmanaged?: UnmanagedMailbox & { reviewId: string };
}

/** What the route table's handlers call: the dispatcher's card actions, each one job. */
export interface CardHandlers {
  confirmRequest(press: Press): Promise<ActionResult>;
  cancelRequest(press: Press): Promise<ActionResult>;
  decideRequest(press: Press, decision: 'approve' | 'reject'): Promise<ActionResult>;
  pickUser(press: Press): Promise<ActionResult>;
  undoFromCard(press: Press): Promise<ActionResult>;
  retryFailed(press: Press): Promise<ActionResult>;
  checkAgain(press: Press): Promise<ActionResult>;
  refreshCard(press: Press): Promise<ActionResult>;
  refreshList(press: Press): Promise<ActionResult>;
  extendException(press: Press): Promise<ActionResult>;
  lapseException(press: Press): Promise<ActionResult>;
  endException(press: Press): Promise<ActionResult>;
  extendGroupExceptions(press: Press): Promise<ActionResult>;
  lapseGroupExceptions(press: Press): Promise<ActionResult>;
  endGroupExceptions(press: Press): Promise<ActionResult>;
  draftForUnmanaged(press: Press, what: 'adopt' | 'disable'): Promise<ActionResult>;
  selfService(press: Press): Promise<ActionResult>;
  fix(press: Press): Promise<ActionResult>;
  /** What a route's refusal of the clicker shows when it is more than an error code (who can, and what to do instead). */
  notAllowedCard(press: Press, what: 'fix'): Promise<AdaptiveCard>;
  /** Further reasons a request's card is stale (undone since, superseded, its exception ended): throws the refusal. */
  checkNotStale(press: Press, check: StaleCheck): Promise<void>;
}

/**
 * The staleness checks beyond the request's state, each answered with its own message:
 * `not-undone` — the change was undone since (ALREADY_UNDONE); `undo-still-needed` — for an undo's
 * draft, its change was undone by another undo, or another undo is on its way (ALREADY_UNDONE,
 * UNDO_ALREADY_REQUESTED); `exception-active` — the exception the button governs was extended,
 * ended or lapsed since (EXCEPTION_NOT_ACTIVE); `still-unmanaged` — the mailbox an `exceptions` card
 * listed as unmanaged has been brought under the register since (ALREADY_REGISTERED);
 * `exception-not-ending` — someone already asked to end the exception early (EXCEPTION_ALREADY_ENDING);
 * `group-exceptions-active` — a group reminder's request governs none of its mailboxes' exceptions
 * any more: each was extended, ended or has lapsed (GROUP_EXCEPTIONS_NOT_ACTIVE);
 * `group-not-ending` — someone already asked to end the group's exceptions now (GROUP_EXCEPTIONS_ALREADY_ENDING).
 */
export type StaleCheck = 'not-undone' | 'undo-still-needed' | 'exception-active' | 'exception-not-ending' | 'still-unmanaged' | 'group-exceptions-active' | 'group-not-ending';

/** The cards that list several subjects, each with its own buttons. */
export type ListView = 'requests' | 'exceptions';

export type WhoRule = { may: readonly Party[] } | { not: 'requester' | 'target' };

export interface CardRoute {
  subject: Subject;
  /**
   * Who may press it, as rules checked in order, the first that fails giving the refusal:
   * `{ may }` lets in any one of those parties; `{ not }` keeps out the request's requester (who
   * never decides their own request) or its target (who never approves a change to their own
   * mailbox), whatever their role. The order picks the message: a requester hears "your own
   * request" before "approvers only".
   */
  who: readonly WhoRule[];
  /** For a request: the states in which the button still means something. Any other state is a stale card. */
  states?: readonly RequestState[];
  /** The message a press in another state gets (default REQUEST_CLOSED, which names the state). */
  staleCode?: ErrorCode;
  /** Checked before the state, so the message says why the card is out of date. */
  stale?: readonly StaleCheck[];
  /**
   * Teams redelivers an invoke it thinks went unanswered: a press is acted on once, the redelivery
   * answered with `replay` (for a request, its current card). Reads (`refresh`) need no guard.
   */
  once: boolean;
  /** A non-request subject's answer to a redelivery (the request-less buttons say what they did). */
  replay?: 'adopt-drafted' | 'disable-drafted' | 'self-service-sent' | 'fix-drafted';
  /** The list card the button is also offered on: a press there answers with that list, brought up to date. */
  listed?: ListView;
  /** A refusal of the clicker answered with the handler's explanation card instead of the error code. */
  explainRefusal?: 'fix';
  handle(handlers: CardHandlers, press: Press): Promise<ActionResult>;
}

/**
 * Every card verb (src/cards/verbs.ts): who may press it, in which request states it still means
 * something, and its handler — the route table the dispatcher follows instead of a switch. A verb
 * without a route does not compile; test/core/card-routes.test.ts checks the same at run time.
 */
export const cardRoutes: Readonly<Record<Verb, CardRoute>> = {
  [verbs.confirm]: {
    subject: 'request', who: [{ may: ['requester'] }], states: ['draft'], stale: ['undo-still-needed'], once: true,
    handle: (h, press) => h.confirmRequest(press),
  },
  [verbs.cancel]: {
    subject: 'request', who: [{ may: ['requester'] }], states: ['draft', 'pending'], once: true, listed: 'requests',
    handle: (h, press) => h.cancelRequest(press),
  },
  [verbs.approve]: {
    subject: 'request', who: [{ not: 'requester' }, { may: ['approver'] }, { not: 'target' }], states: ['pending'], once: true, listed: 'requests',
    handle: (h, press) => h.decideRequest(press, 'approve'),
  },
  [verbs.reject]: {
    subject: 'request', who: [{ not: 'requester' }, { may: ['approver'] }], states: ['pending'], once: true, listed: 'requests',
    handle: (h, press) => h.decideRequest(press, 'reject'),
  },
  [verbs.pickUser]: {
    subject: 'request', who: [{ may: ['requester'] }], states: ['draft'], once: true,
    handle: (h, press) => h.pickUser(press),
  },
  [verbs.undo]: {
    subject: 'request', who: [{ may: ['it-staff'] }], states: ['succeeded'], stale: ['not-undone'], once: true,
    handle: (h, press) => h.undoFromCard(press),
  },
  [verbs.retry]: {
    // The approval already covers these mailboxes: whoever asked, or IT staff, may have the failed ones tried again.
    subject: 'request', who: [{ may: ['requester', 'it-staff'] }], states: ['succeeded'], stale: ['not-undone'], once: true,
    handle: (h, press) => h.retryFailed(press),
  },
  [verbs.checkAgain]: {
    // Reads and puts back only: whoever asked, or IT staff, may have the unknown mailboxes looked at again.
    subject: 'request', who: [{ may: ['requester', 'it-staff'] }], states: ['failed'], once: true,
    handle: (h, press) => h.checkAgain(press),
  },
  [verbs.refresh]: {
    subject: 'request', who: [{ may: ['anyone'] }], once: false,
    handle: (h, press) => h.refreshCard(press),
  },
  [verbs.requestsRefresh]: {
    // Each reader's list is their own (what they asked, what waits for them): nothing on the card is trusted or needed.
    subject: 'list', who: [{ may: ['anyone'] }], once: false, listed: 'requests',
    handle: (h, press) => h.refreshList(press),
  },
  [verbs.exceptionExtend]: {
    subject: 'request', who: [{ may: ['approver', 'it-staff'] }], states: ['succeeded'], staleCode: 'EXCEPTION_NOT_ACTIVE', stale: ['exception-active'], once: true,
    handle: (h, press) => h.extendException(press),
  },
  [verbs.exceptionLapse]: {
    subject: 'request', who: [{ may: ['approver', 'it-staff'] }], states: ['succeeded'], staleCode: 'EXCEPTION_NOT_ACTIVE', stale: ['exception-active'], once: true,
    handle: (h, press) => h.lapseException(press),
  },
  [verbs.exceptionEnd]: {
    // Ending early turns SMTP AUTH off through a request of its own, gated by its risk like any other.
    subject: 'request', who: [{ may: ['it-staff'] }], states: ['succeeded'], staleCode: 'EXCEPTION_NOT_ACTIVE', stale: ['exception-active', 'exception-not-ending'], once: true, listed: 'exceptions',
    handle: (h, press) => h.endException(press),
  },
  // A group's reminder acts on every exception its request still governs, each mailbox then on its own;
  // a press once they are all extended, ended or lapsed is refused as stale.
  [verbs.groupExceptionsExtend]: {
    subject: 'request', who: [{ may: ['approver', 'it-staff'] }], states: ['succeeded'], staleCode: 'GROUP_EXCEPTIONS_NOT_ACTIVE', stale: ['group-exceptions-active'], once: true,
    handle: (h, press) => h.extendGroupExceptions(press),
  },
  [verbs.groupExceptionsLapse]: {
    subject: 'request', who: [{ may: ['approver', 'it-staff'] }], states: ['succeeded'], staleCode: 'GROUP_EXCEPTIONS_NOT_ACTIVE', stale: ['group-exceptions-active'], once: true,
    handle: (h, press) => h.lapseGroupExceptions(press),
  },
  [verbs.groupExceptionsEnd]: {
    subject: 'request', who: [{ may: ['it-staff'] }], states: ['succeeded'], staleCode: 'GROUP_EXCEPTIONS_NOT_ACTIVE', stale: ['group-exceptions-active', 'group-not-ending'], once: true,
    handle: (h, press) => h.endGroupExceptions(press),
  },
  [verbs.exceptionAdopt]: {
    subject: 'review-item', who: [{ may: ['it-staff'] }], stale: ['still-unmanaged'], once: true, replay: 'adopt-drafted',
    handle: (h, press) => h.draftForUnmanaged(press, 'adopt'),
  },
  [verbs.exceptionDisable]: {
    subject: 'review-item', who: [{ may: ['it-staff'] }], once: true, replay: 'disable-drafted',
    handle: (h, press) => h.draftForUnmanaged(press, 'disable'),
  },
  [verbs.selfServiceRequest]: {
    subject: 'saved-diagnosis', who: [{ may: ['anyone'] }], once: true, replay: 'self-service-sent',
    handle: (h, press) => h.selfService(press),
  },
  [verbs.fix]: {
    subject: 'user', who: [{ may: ['it-staff'] }], once: true, replay: 'fix-drafted', explainRefusal: 'fix',
    handle: (h, press) => h.fix(press),
  },
};

export function routeFor(verb: string): CardRoute | undefined {
  return Object.prototype.hasOwnProperty.call(cardRoutes, verb) ? cardRoutes[verb as Verb] : undefined;
}

/** Whether checking a route's clicker needs their Entra roles (a lookup). */
export function needsRoles(route: CardRoute): boolean {
  return route.who.some((rule) => 'may' in rule && rule.may.some((party) => party === 'approver' || party === 'it-staff'));
}

const notCode = { requester: 'SELF_APPROVAL', target: 'TARGET_APPROVAL' } as const satisfies Record<'requester' | 'target', ErrorCode>;
const mayCode = { requester: 'NOT_REQUESTER', target: 'NOT_REQUESTER', approver: 'NOT_APPROVER', 'it-staff': 'NOT_IT_STAFF', anyone: 'WRONG_TENANT' } as const satisfies Record<Party, ErrorCode>;

/** The request's state against the route's: a press on a card whose request has moved on is stale. */
export function stateRefusal(route: CardRoute, request: RequestRecord | undefined): AppError | undefined {
  if (!request || !route.states || route.states.includes(request.state)) return undefined;
  const code = route.staleCode ?? 'REQUEST_CLOSED';
  return code === 'REQUEST_CLOSED' ? new AppError(code, { state: request.state }) : new AppError(code);
}

/** The clicker against the route's `who` rules, in order. Pure: roles are looked up by the caller. */
export function clickerRefusal(route: CardRoute, clicker: { userId: string; roles: Roles }, request?: RequestRecord): AppError | undefined {
  const is = (party: Party): boolean => {
    switch (party) {
      case 'requester': return request !== undefined && request.requesterId === clicker.userId;
      // The request's own target, or (a group change) any of the mailboxes or users its plan writes to.
      case 'target': return request !== undefined && (request.targetUserId === clicker.userId || request.plan.some((step) => step.target.type !== 'organization' && step.target.id === clicker.userId));
      case 'approver': return clicker.roles.approver;
      case 'it-staff': return clicker.roles.itStaff;
      case 'anyone': return true;
    }
  };
  for (const rule of route.who) {
    if ('not' in rule && is(rule.not)) return new AppError(notCode[rule.not]);
    if ('may' in rule && !rule.may.some(is)) return new AppError(mayCode[rule.may[0]!]);
  }
  return undefined;
}

/** Which of these verbs the clicker could press on this request now: the buttons a list card offers. */
export function liveVerbs(request: RequestRecord, clicker: { userId: string; roles: Roles }, candidates: readonly Verb[]): Verb[] {
  return candidates.filter((verb) => {
    const route = cardRoutes[verb];
    return route.subject === 'request' && !stateRefusal(route, request) && !clickerRefusal(route, clicker, request);
  });
}
