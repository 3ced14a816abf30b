/** Card action verbs (DESIGN.md): Action.Execute `verb`, or Action.Submit `data.verb`. */
export const verbs = {
  confirm: 'request.confirm',
  cancel: 'request.cancel',
  approve: 'request.approve',
  reject: 'request.reject',
  undo: 'request.undo',
  pickUser: 'user.pick',
  selfServiceRequest: 'selfservice.request',
} as const;

export type Verb = (typeof verbs)[keyof typeof verbs];

export const allVerbs: ReadonlySet<string> = new Set(Object.values(verbs));
