import type { Translate } from './i18n';

/**
 * The error catalog (STYLE.md habit 6): a stable code, the locale key of the user-safe message,
 * and the HTTP status to use where an error ends an HTTP exchange. Causes go to logs only.
 */
export const errorCatalog = {
  USER_NOT_FOUND: { messageKey: 'errors.USER_NOT_FOUND', status: 404 },
  USER_AMBIGUOUS: { messageKey: 'errors.USER_AMBIGUOUS', status: 409 },
  NO_MAILBOX: { messageKey: 'errors.NO_MAILBOX', status: 409 },
  NOT_IT_STAFF: { messageKey: 'errors.NOT_IT_STAFF', status: 403 },
  NOT_APPROVER: { messageKey: 'errors.NOT_APPROVER', status: 403 },
  SELF_APPROVAL: { messageKey: 'errors.SELF_APPROVAL', status: 403 },
  NOT_REQUESTER: { messageKey: 'errors.NOT_REQUESTER', status: 403 },
  ALREADY_APPROVED_BY_YOU: { messageKey: 'errors.ALREADY_APPROVED_BY_YOU', status: 409 },
  REQUEST_NOT_FOUND: { messageKey: 'errors.REQUEST_NOT_FOUND', status: 404 },
  REQUEST_CLOSED: { messageKey: 'errors.REQUEST_CLOSED', status: 409 },
  ILLEGAL_TRANSITION: { messageKey: 'errors.ILLEGAL_TRANSITION', status: 409 },
  WRONG_TENANT: { messageKey: 'errors.WRONG_TENANT', status: 403 },
  UNKNOWN_ACTION: { messageKey: 'errors.UNKNOWN_ACTION', status: 400 },
  BAD_ACTION_DATA: { messageKey: 'errors.BAD_ACTION_DATA', status: 400 },
  DIAGNOSIS_EXPIRED: { messageKey: 'errors.DIAGNOSIS_EXPIRED', status: 410 },
  TENANT_UNAVAILABLE: { messageKey: 'errors.TENANT_UNAVAILABLE', status: 503 },
  TENANT_TIMEOUT: { messageKey: 'errors.TENANT_TIMEOUT', status: 504 },
  TENANT_THROTTLED: { messageKey: 'errors.TENANT_THROTTLED', status: 503 },
  TENANT_PERMISSION_DENIED: { messageKey: 'errors.TENANT_PERMISSION_DENIED', status: 502 },
  TENANT_AUTH_FAILED: { messageKey: 'errors.TENANT_AUTH_FAILED', status: 502 },
  TENANT_BAD_REQUEST: { messageKey: 'errors.TENANT_BAD_REQUEST', status: 502 },
  VERIFY_MISMATCH: { messageKey: 'errors.VERIFY_MISMATCH', status: 502 },
  JUSTIFICATION_REQUIRED: { messageKey: 'errors.JUSTIFICATION_REQUIRED', status: 400 },
  JUSTIFICATION_TOO_LONG: { messageKey: 'errors.JUSTIFICATION_TOO_LONG', status: 400 },
  DURATION_ONLY_FOR_ENABLE: { messageKey: 'errors.DURATION_ONLY_FOR_ENABLE', status: 400 },
  DURATION_OUT_OF_RANGE: { messageKey: 'errors.DURATION_OUT_OF_RANGE', status: 400 },
  NOTHING_TO_UNDO: { messageKey: 'errors.NOTHING_TO_UNDO', status: 409 },
  ALREADY_UNDONE: { messageKey: 'errors.ALREADY_UNDONE', status: 409 },
  UNDO_ALREADY_REQUESTED: { messageKey: 'errors.UNDO_ALREADY_REQUESTED', status: 409 },
  REQUEST_SUPERSEDED: { messageKey: 'errors.REQUEST_SUPERSEDED', status: 409 },
  EXCEPTION_NOT_ACTIVE: { messageKey: 'errors.EXCEPTION_NOT_ACTIVE', status: 409 },
  MESSAGE_TOO_LONG: { messageKey: 'errors.MESSAGE_TOO_LONG', status: 413 },
  SECURITY_DEFAULTS_REFUSED: { messageKey: 'errors.SECURITY_DEFAULTS_REFUSED', status: 409 },
  SECURITY_DEFAULTS_BLOCKED: { messageKey: 'errors.SECURITY_DEFAULTS_BLOCKED', status: 409 },
  AUTH_POLICY_NONE_ALLOWS_SMTP: { messageKey: 'errors.AUTH_POLICY_NONE_ALLOWS_SMTP', status: 409 },
  TAB_SIGN_IN_REQUIRED: { messageKey: 'errors.TAB_SIGN_IN_REQUIRED', status: 401 },
  TAB_AUDIT_FORBIDDEN: { messageKey: 'errors.TAB_AUDIT_FORBIDDEN', status: 403 },
  TAB_BAD_FILTER: { messageKey: 'errors.TAB_BAD_FILTER', status: 400 },
  BAD_ACTIVITY: { messageKey: 'errors.BAD_ACTIVITY', status: 400 },
  TARGET_APPROVAL: { messageKey: 'errors.TARGET_APPROVAL', status: 403 },
  ALREADY_REGISTERED: { messageKey: 'errors.ALREADY_REGISTERED', status: 409 },
  EXCEPTION_ALREADY_ENDING: { messageKey: 'errors.EXCEPTION_ALREADY_ENDING', status: 409 },
  GROUP_NOT_FOUND: { messageKey: 'errors.GROUP_NOT_FOUND', status: 404 },
  GROUP_EMPTY: { messageKey: 'errors.GROUP_EMPTY', status: 409 },
  GROUP_NO_MAILBOXES: { messageKey: 'errors.GROUP_NO_MAILBOXES', status: 409 },
  NOTHING_TO_RETRY: { messageKey: 'errors.NOTHING_TO_RETRY', status: 409 },
  NOTHING_TO_CHECK: { messageKey: 'errors.NOTHING_TO_CHECK', status: 409 },
  GROUP_EXCEPTIONS_NOT_ACTIVE: { messageKey: 'errors.GROUP_EXCEPTIONS_NOT_ACTIVE', status: 409 },
  GROUP_EXCEPTIONS_ALREADY_ENDING: { messageKey: 'errors.GROUP_EXCEPTIONS_ALREADY_ENDING', status: 409 },
  INTERNAL: { messageKey: 'errors.INTERNAL', status: 500 },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Interpolation values for the user-facing message; must hold nothing secret. */
    readonly params: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(code, options);
    this.name = 'AppError';
  }
}

/** Anything thrown → a catalog error; adapters' errors know their own mapping (`toAppError()`). */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const convertible = error as { toAppError?: () => AppError } | null;
  if (convertible && typeof convertible.toAppError === 'function') return convertible.toAppError();
  return new AppError('INTERNAL', {}, { cause: error });
}

/**
 * A catalog error's message in the user's language. Every placeholder gets a value, because
 * i18next shows a missing one as `{{permission}}`: a permission Microsoft did not name reads as such.
 */
export function errorText(t: Translate, code: string, params: Record<string, string | number> = {}): string {
  const values: Record<string, string | number> = { service: '', operation: '', status: '', ...params };
  if (typeof values.state === 'string') values.state = t(`request.state.${values.state}`);
  if (code === 'TENANT_PERMISSION_DENIED' && !values.permission) values.permission = t('errorParams.permissionUnknown');
  return t(`errors.${code}`, values);
}
