/** Card action verbs (DESIGN.md): Action.Execute `verb`, or Action.Submit `data.verb`. */
export const verbs = {
  confirm: 'request.confirm',
  cancel: 'request.cancel',
  approve: 'request.approve',
  reject: 'request.reject',
  undo: 'request.undo',
  pickUser: 'user.pick',
  selfServiceRequest: 'selfservice.request',
  /** Diagnosis (issue #9): IT drafts the plan that fixes what blocks SMTP AUTH for a user. */
  fix: 'diagnosis.fix',
  /** Exceptions register (issue #5): the reminder's two answers, and the two for an unmanaged mailbox. */
  exceptionExtend: 'exception.extend',
  exceptionLapse: 'exception.lapse',
  exceptionAdopt: 'exception.adopt',
  exceptionDisable: 'exception.disable',
  /** `exceptions` (issue #8): end a granted exception early — its mailbox's SMTP AUTH turned off through a request. */
  exceptionEnd: 'exception.end',
  /** A group's reminder: its exceptions extended (one new request), let lapse, or ended now, all together. */
  groupExceptionsExtend: 'exception.group-extend',
  groupExceptionsLapse: 'exception.group-lapse',
  groupExceptionsEnd: 'exception.group-end',
  /** A group change done in part: its failed mailboxes written again, once each, under the same approval. */
  retry: 'request.retry',
  /** A failed group change whose late check gave up: the mailboxes it never read are read again, a late write that landed put back. */
  checkAgain: 'request.check-again',
  /** Teams' automatic `refresh` for the users in `refresh.userIds`: approvers get live buttons. */
  refresh: 'request.refresh',
  /** Teams' automatic `refresh` of a `requests` list for the person it lists: their list as it is now. */
  requestsRefresh: 'requests.refresh',
} as const;

export type Verb = (typeof verbs)[keyof typeof verbs];

export const allVerbs: ReadonlySet<string> = new Set(Object.values(verbs));
